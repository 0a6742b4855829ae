//! A bot's sources on disk: scanning them (inventory, counts, failures), their digest, and
//! the crash-safe file operations generations are made with.

use std::fs::File;
use std::io::Write;
use std::path::Path;

use docent_indexer::{Inventory, SearchSettings};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// What the knowledge folder holds now, as a deploy would index it.
#[derive(Debug, Clone)]
pub struct Scan {
    /// Sources by digest, and what reading them found (warnings, failed and skipped files).
    pub inventory: Inventory,
    /// Bytes of every visible file.
    pub bytes: u64,
    /// Digest of the sources, the search settings and the model: equal digests give equal indexes.
    pub digest: String,
}

/// Reads the knowledge in `dir` without indexing it or writing anything.
pub fn scan(dir: &Path, settings: &SearchSettings, model: Option<&str>) -> docent_indexer::Result<Scan> {
    let inventory = docent_indexer::inventory(dir)?;
    Ok(Scan { digest: digest(&inventory, settings, model), inventory, bytes: tree_size(dir) })
}

/// Digest of what an index is made from.
pub fn digest(inventory: &Inventory, settings: &SearchSettings, model: Option<&str>) -> String {
    #[derive(Serialize)]
    struct Input<'a> {
        files: &'a std::collections::BTreeMap<String, String>,
        settings: &'a SearchSettings,
        model: Option<&'a str>,
    }
    let json = serde_json::to_vec(&Input { files: &inventory.files, settings, model }).unwrap_or_default();
    hex(&Sha256::digest(json))
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Bytes of the visible files below `dir`.
pub fn tree_size(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries
        .flatten()
        .filter(|entry| !entry.file_name().to_string_lossy().starts_with('.'))
        .map(|entry| match entry.file_type() {
            Ok(kind) if kind.is_dir() => tree_size(&entry.path()),
            Ok(_) => entry.metadata().map(|m| m.len()).unwrap_or(0),
            Err(_) => 0,
        })
        .sum()
}

/// Writes `bytes` to `path` and fsyncs the file.
pub fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = File::create(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Fsyncs a directory, so the names in it (a rename, a new file) survive a power cut.
pub fn sync_dir(path: &Path) -> std::io::Result<()> {
    File::open(path)?.sync_all()
}

/// Recreates the tree `from` at `to` with hard links (artifact files are immutable), copying
/// when linking is impossible; every directory is fsynced.
pub fn link_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            link_tree(&entry.path(), &target)?;
        } else if std::fs::hard_link(entry.path(), &target).is_err() {
            std::fs::copy(entry.path(), &target)?;
            File::open(&target)?.sync_all()?;
        }
    }
    sync_dir(to)
}
