//! Generations published through the store, so that gateways need no shared data directory.
//!
//! With [`Artifacts::Store`] every generation's directory (config.toml and index/) is published
//! into the store with a manifest of each file's size and SHA-256 before any pointer can name
//! it. A process whose data directory lacks a generation it must open fetches it into a
//! `.tmp-fetch-*` folder beside the others, checks every file against the manifest, fsyncs it,
//! and renames it into place: a generation directory is complete and verified, or absent.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use docent_store::{ArtifactFile, Generation};
use sha2::{Digest, Sha256};

use crate::knowledge::{hex, sync_dir};
use crate::{Error, Lifecycle, Result, io_error};

/// Where the gateways find a generation's artifact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Artifacts {
    /// In the data directory, the only copy: a SQLite store's, or one that every gateway on a
    /// PostgreSQL store shares.
    Directory,
    /// Published into the PostgreSQL store by each deploy; each gateway fetches its own copy.
    Store,
}

/// Tells apart the fetches of one process running at once (a refresh and a rollback).
static FETCHES: AtomicU64 = AtomicU64::new(0);

impl Lifecycle {
    /// Publishes `generation`'s directory into the store (with [`Artifacts::Store`]; otherwise
    /// nothing to do), replacing an earlier publication of it.
    pub(crate) fn publish(&self, generation: &Generation) -> Result<()> {
        if self.options.artifacts != Artifacts::Store {
            return Ok(());
        }
        let dir = self.generation_dir(generation);
        let mut files = Vec::new();
        list_files(&dir, "", &mut files)?;
        files.sort_by(|a, b| a.path.cmp(&b.path));
        self.store.publish_artifact(&generation.bot, generation.number, &files, &mut |file: &ArtifactFile| {
            File::open(dir.join(&file.path)).map(|file| Box::new(file) as Box<dyn Read>)
        })?;
        tracing::info!(bot = %generation.bot, generation = generation.number, files = files.len(), "generation published");
        Ok(())
    }

    /// Publishes `generation` unless the store holds it already (with [`Artifacts::Store`]).
    pub(crate) fn publish_unless_published(&self, generation: &Generation) -> Result<()> {
        if self.options.artifacts == Artifacts::Store
            && self.store.artifact_files(&generation.bot, generation.number)?.is_none()
        {
            self.publish(generation)?;
        }
        Ok(())
    }

    /// Makes sure this data directory holds generation `number` of `bot`, fetching it from the
    /// store and checking it when it does not. A gateway calls it before opening a generation
    /// that went live; on failure nothing is left behind, and the next call tries again.
    pub fn fetch_generation(&self, bot: &str, number: u64) -> Result<()> {
        self.ensure_local(&self.generation(bot, number)?)
    }

    /// [`Lifecycle::fetch_generation`] for a generation row at hand.
    pub(crate) fn ensure_local(&self, generation: &Generation) -> Result<()> {
        let dir = self.generation_dir(generation);
        if self.options.artifacts != Artifacts::Store || dir.is_dir() {
            return Ok(());
        }
        let (bot, number) = (&generation.bot, generation.number);
        let files = self.store.artifact_files(bot, number)?.ok_or_else(|| {
            Error::Artifact(format!(
                "generation {number} of \"{bot}\" is not in this data directory and was never published to the store"
            ))
        })?;
        let parent = self.generations_dir(bot);
        std::fs::create_dir_all(&parent).map_err(io_error(&parent))?;
        let temp = parent.join(format!(
            ".tmp-fetch-{number}-{}-{}",
            std::process::id(),
            FETCHES.fetch_add(1, Ordering::Relaxed)
        ));
        let fetched = self.fetch_into(generation, &files, &temp);
        let renamed = fetched.and_then(|()| match std::fs::rename(&temp, &dir) {
            Ok(()) => sync_dir(&parent).map_err(io_error(&parent)),
            // Fetched meanwhile by another thread of this process: that copy is as good.
            Err(_) if dir.is_dir() => Ok(()),
            Err(err) => Err(Error::Io { path: dir.clone(), source: err }),
        });
        if temp.exists() {
            let _ = std::fs::remove_dir_all(&temp);
        }
        renamed?;
        tracing::info!(%bot, generation = number, files = files.len(), "generation fetched from the store and verified");
        Ok(())
    }

    /// Writes every file of the manifest into `temp`, checking its length and SHA-256, fsynced.
    fn fetch_into(&self, generation: &Generation, files: &[ArtifactFile], temp: &Path) -> Result<()> {
        let (bot, number) = (&generation.bot, generation.number);
        std::fs::create_dir(temp).map_err(io_error(temp))?;
        let mut folders = vec![temp.to_owned()];
        for file in files {
            let path = safe_join(temp, &file.path).ok_or_else(|| {
                Error::Artifact(format!("generation {number} of \"{bot}\" lists a file outside it: {:?}", file.path))
            })?;
            if let Some(folder) = path.parent().filter(|folder| !folders.iter().any(|known| known == folder)) {
                std::fs::create_dir_all(folder).map_err(io_error(folder))?;
                folders.push(folder.to_owned());
            }
            let mut out = Checked { file: File::create(&path).map_err(io_error(&path))?, digest: Sha256::new() };
            let written = self.store.read_artifact_file(bot, number, &file.path, &mut out)?;
            out.file.sync_all().map_err(io_error(&path))?;
            let digest = hex(&out.digest.finalize());
            if written != file.size || digest != file.sha256 {
                return Err(Error::Artifact(format!(
                    "generation {number} of \"{bot}\" fetched from the store does not match its manifest: {} has \
                     {written} bytes with SHA-256 {digest}, the manifest says {} bytes with SHA-256 {}",
                    file.path, file.size, file.sha256
                )));
            }
        }
        // Deepest first, so each folder's entry is durable in its parent before the rename.
        folders.sort_by_key(|folder| std::cmp::Reverse(folder.components().count()));
        for folder in &folders {
            sync_dir(folder).map_err(io_error(folder))?;
        }
        Ok(())
    }
}

/// A file being fetched, hashed as it is written.
struct Checked {
    file: File,
    digest: Sha256,
}

impl Write for Checked {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let written = self.file.write(bytes)?;
        self.digest.update(&bytes[..written]);
        Ok(written)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

/// Every file below `dir` with its size and SHA-256, paths relative to the generation's folder.
fn list_files(dir: &Path, prefix: &str, files: &mut Vec<ArtifactFile>) -> Result<()> {
    for entry in std::fs::read_dir(dir).map_err(io_error(dir))? {
        let entry = entry.map_err(io_error(dir))?;
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let relative = if prefix.is_empty() { name } else { format!("{prefix}/{name}") };
        if path.is_dir() {
            list_files(&path, &relative, files)?;
            continue;
        }
        let mut digest = Sha256::new();
        let size =
            std::io::copy(&mut File::open(&path).map_err(io_error(&path))?, &mut digest).map_err(io_error(&path))?;
        files.push(ArtifactFile { path: relative, size, sha256: hex(&digest.finalize()) });
    }
    Ok(())
}

/// `relative` below `root`, or `None` when it is absolute or climbs out with `..`.
fn safe_join(root: &Path, relative: &str) -> Option<PathBuf> {
    let mut path = root.to_owned();
    for part in relative.split('/') {
        if part.is_empty() || part == "." || part == ".." || part.contains('\\') {
            return None;
        }
        path.push(part);
    }
    Some(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_paths_stay_inside_the_generation() {
        let root = Path::new("/data/generations/acme/.tmp-fetch-1");
        let cases = [
            ("config.toml", Some("config.toml")),
            ("index/meta.json", Some("index/meta.json")),
            ("../escape", None),
            ("index/../../escape", None),
            ("/etc/passwd", None),
            ("index//meta.json", None),
            ("", None),
        ];
        for (relative, expected) in cases {
            assert_eq!(safe_join(root, relative), expected.map(|rest| root.join(rest)), "{relative:?}");
        }
    }
}
