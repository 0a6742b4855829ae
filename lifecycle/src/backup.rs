//! Backups: one tar file holding the store and the artifacts of every live and previous generation.
//!
//! ```text
//! docent.sqlite                 a consistent copy (SQLite online backup, taken while in use)
//! generations/<bot>/<n>/...     the live and the previous generation of every bot
//! ```
//!
//! `restore` unpacks into an empty data directory and forgets the generations the archive
//! does not hold (older ones, which backups leave out); `verify` restores into a temporary
//! directory and opens every live generation, the seed's "backup verification".

use std::fs::File;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::{Error, Lifecycle, LifecycleOptions, Result, io_error, knowledge};

/// What a backup holds, or what a verification opened.
#[derive(Debug, Clone, Serialize)]
pub struct BackupReport {
    pub file: PathBuf,
    /// Bot, live generation, Q&A pairs in it.
    pub bots: Vec<(String, Option<u64>, usize)>,
    pub bytes: u64,
}

impl Lifecycle {
    /// Writes the store and the live and previous artifacts to `file` (a new tar file).
    pub fn backup(&self, file: &Path) -> Result<BackupReport> {
        if file.exists() {
            return Err(Error::Refused(format!("{} exists; a backup never overwrites a file", file.display())));
        }
        let scratch = scratch_dir(file)?;
        let result = self.write_backup(file, &scratch);
        let _ = std::fs::remove_dir_all(&scratch);
        result
    }

    fn write_backup(&self, file: &Path, scratch: &Path) -> Result<BackupReport> {
        let db = scratch.join("docent.sqlite");
        self.store.backup_to(&db)?;
        let partial = file.with_extension(format!("partial-{}", std::process::id()));
        let out = File::create(&partial).map_err(io_error(&partial))?;
        let mut tar = tar::Builder::new(out);
        tar.append_path_with_name(&db, "docent.sqlite").map_err(io_error(&db))?;
        let mut bots = Vec::new();
        for row in self.store.bots()? {
            for number in [row.live, row.previous].into_iter().flatten() {
                let generation = self.generation(&row.id, number)?;
                let dir = self.generation_dir(&generation);
                let name = format!("generations/{}/{}", row.id, generation.dir);
                tar.append_dir_all(&name, &dir).map_err(io_error(&dir))?;
            }
            bots.push((row.id, row.live, 0));
        }
        let out = tar.into_inner().map_err(io_error(&partial))?;
        out.sync_all().map_err(io_error(&partial))?;
        let bytes = out.metadata().map(|m| m.len()).unwrap_or(0);
        drop(out);
        std::fs::rename(&partial, file).map_err(io_error(file))?;
        if let Some(parent) = file.parent().filter(|p| !p.as_os_str().is_empty()) {
            knowledge::sync_dir(parent).map_err(io_error(parent))?;
        }
        Ok(BackupReport { file: file.to_owned(), bots, bytes })
    }

    /// Restores `file` into `data_dir`, which must not exist or be empty.
    pub fn restore(file: &Path, options: LifecycleOptions) -> Result<BackupReport> {
        if let Some(url) = &options.store {
            return Err(Error::Refused(format!(
                "a backup holds a SQLite store and restores into a data directory, not into {url}; \
                 run restore without --store (a PostgreSQL store is restored with pg_restore)"
            )));
        }
        let data_dir = options.data_dir.clone();
        if data_dir.exists() && std::fs::read_dir(&data_dir).map_err(io_error(&data_dir))?.next().is_some() {
            return Err(Error::Refused(format!(
                "{} is not empty; restore into an empty or new data directory (move the old one away first)",
                data_dir.display()
            )));
        }
        std::fs::create_dir_all(&data_dir).map_err(io_error(&data_dir))?;
        let archive = File::open(file).map_err(io_error(file))?;
        tar::Archive::new(archive).unpack(&data_dir).map_err(io_error(file))?;
        if !data_dir.join("docent.sqlite").is_file() {
            return Err(Error::Refused(format!(
                "{} is not a docent backup: it holds no docent.sqlite",
                file.display()
            )));
        }
        let lifecycle = Lifecycle::open(options)?;
        let mut bots = Vec::new();
        for row in lifecycle.store.bots()? {
            for generation in lifecycle.store.generations(&row.id)? {
                let kept = Some(generation.number) == row.live || Some(generation.number) == row.previous;
                if !kept && !lifecycle.generation_dir(&generation).is_dir() {
                    lifecycle.store.delete_generation(&row.id, generation.number)?;
                }
            }
            bots.push((row.id, row.live, 0));
        }
        let bytes = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
        Ok(BackupReport { file: file.to_owned(), bots, bytes })
    }

    /// Proves `file` restores: restores it into a temporary directory and opens every live
    /// generation's config and index.
    pub fn verify_backup(file: &Path, options: &LifecycleOptions) -> Result<BackupReport> {
        let scratch = scratch_dir(file)?;
        let result = (|| {
            let mut restore_options = options.clone();
            restore_options.data_dir = scratch.join("data");
            // The file holds its own SQLite store, whatever store the caller runs on.
            restore_options.store = None;
            let mut report = Lifecycle::restore(file, restore_options.clone())?;
            let lifecycle = Lifecycle::open(restore_options)?;
            for (bot, live, qa_pairs) in &mut report.bots {
                if let Some(number) = live {
                    let generation = lifecycle.generation(bot, *number)?;
                    lifecycle.generation_config(&generation)?;
                    *qa_pairs = lifecycle.open_generation(&generation)?.stats().qa_pairs;
                }
            }
            Ok(report)
        })();
        let _ = std::fs::remove_dir_all(&scratch);
        result
    }
}

/// A new private directory next to the system's temporary files.
fn scratch_dir(file: &Path) -> Result<PathBuf> {
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    let dir = std::env::temp_dir().join(format!("docent-backup-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|source| Error::Io { path: file.to_owned(), source })?;
    Ok(dir)
}
