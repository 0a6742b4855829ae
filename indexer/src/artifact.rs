//! Index artifacts on disk: the folder `build_into` writes and `open` maps back,
//! its manifest, and the fsync helpers that make it durable.
//!
//! ```text
//! out_dir/
//!   index/          the tantivy index (opened with mmap)
//!   vectors.f32     only with a model: rows x dimensions little-endian f32 unit vectors
//!   rows.json       only with a model: for each row, the item it embeds and how
//!   manifest.json   written last: its presence means the folder is complete
//! ```

use std::fs::File;
use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::dense::Row;
use crate::{Error, IndexStats, Inventory, Result, SearchSettings};

/// Version of the artifact layout this build writes and reads.
pub const ARTIFACT_FORMAT: u32 = 1;

pub(crate) const MANIFEST: &str = "manifest.json";
pub(crate) const INDEX_DIR: &str = "index";
pub(crate) const VECTORS: &str = "vectors.f32";
pub(crate) const ROWS: &str = "rows.json";

/// What an artifact was built from and with: written last into its folder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`ARTIFACT_FORMAT`] of the build that wrote it.
    pub format: u32,
    /// Id of the embedding model of the vectors ([`crate::Embedder::id`]), `None` when lexical only.
    pub model: Option<String>,
    pub inventory: Inventory,
    pub stats: IndexStats,
    pub settings: SearchSettings,
}

/// The row mapping of `vectors.f32`.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct RowsFile {
    pub(crate) dimensions: usize,
    pub(crate) rows: Vec<Row>,
}

/// An [`Error::Artifact`] about `path`.
pub(crate) fn artifact_error(path: &Path, reason: impl std::fmt::Display) -> Error {
    Error::Artifact { path: path.display().to_string(), reason: reason.to_string() }
}

/// Refuses an `out_dir` that holds anything, then creates it.
pub(crate) fn prepare_out_dir(out_dir: &Path) -> Result<()> {
    if let Ok(mut entries) = std::fs::read_dir(out_dir)
        && entries.next().is_some()
    {
        return Err(artifact_error(out_dir, "the output folder is not empty"));
    }
    std::fs::create_dir_all(out_dir).map_err(|err| artifact_error(out_dir, format!("cannot create folder: {err}")))
}

/// Writes `bytes` to `dir/name` and fsyncs the file.
pub(crate) fn write_synced(dir: &Path, name: &str, bytes: &[u8]) -> Result<()> {
    let path = dir.join(name);
    let fail = |err: std::io::Error| artifact_error(&path, format!("cannot write: {err}"));
    let mut file = File::create(&path).map_err(fail)?;
    file.write_all(bytes).map_err(fail)?;
    file.sync_all().map_err(fail)
}

/// Fsyncs every file below `dir`, then the folders themselves.
pub(crate) fn sync_tree(dir: &Path) -> Result<()> {
    let fail = |err: std::io::Error| artifact_error(dir, format!("cannot sync: {err}"));
    for entry in std::fs::read_dir(dir).map_err(fail)? {
        let path = entry.map_err(fail)?.path();
        if path.is_dir() {
            sync_tree(&path)?;
        } else {
            File::open(&path).and_then(|file| file.sync_all()).map_err(fail)?;
        }
    }
    sync_dir(dir)
}

/// Fsyncs a folder, so the names of the files it holds are durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir).and_then(|file| file.sync_all()).map_err(|err| artifact_error(dir, format!("cannot sync: {err}")))
}

/// Reads and checks `dir/manifest.json`.
pub(crate) fn read_manifest(dir: &Path) -> Result<Manifest> {
    if !dir.is_dir() {
        return Err(artifact_error(dir, "no such folder"));
    }
    let path = dir.join(MANIFEST);
    let text = std::fs::read_to_string(&path).map_err(|err| {
        if err.kind() == std::io::ErrorKind::NotFound {
            artifact_error(dir, "no manifest.json: not a complete index artifact (an interrupted build?)")
        } else {
            artifact_error(&path, format!("cannot read: {err}"))
        }
    })?;
    #[derive(Deserialize)]
    struct Version {
        format: u32,
    }
    let version: Version =
        serde_json::from_str(&text).map_err(|err| artifact_error(&path, format!("not a valid manifest: {err}")))?;
    if version.format != ARTIFACT_FORMAT {
        return Err(artifact_error(
            &path,
            format!(
                "artifact format {} is not the format {ARTIFACT_FORMAT} this version reads: train again",
                version.format
            ),
        ));
    }
    serde_json::from_str(&text).map_err(|err| artifact_error(&path, format!("not a valid manifest: {err}")))
}
