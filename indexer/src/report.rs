//! What reading a knowledge folder found: the load report (warnings, failed
//! and skipped files), the inventory of sources with their digests, and the
//! changes between two inventories.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::qa::QaPair;

/// A problem in one knowledge file, at a line when it is known.
///
/// Displayed as `file:line: message`, or `file: message` without a line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warning {
    /// Path relative to the knowledge folder, with `/` separators.
    pub file: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
    pub message: String,
}

impl Warning {
    pub(crate) fn new(file: &str, line: Option<usize>, message: impl Into<String>) -> Warning {
        Warning { file: file.to_owned(), line, message: message.into() }
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.file, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

/// What reading a knowledge folder found besides the knowledge itself.
///
/// Ingest is lenient: a bad optional value is a warning and its file is still
/// read without it; a file that cannot be read at all is listed in `failed`
/// and the rest of the folder loads.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoadReport {
    /// Values left out of files that were read.
    pub warnings: Vec<Warning>,
    /// Files left out entirely, each with the reason.
    pub failed: Vec<Warning>,
    /// Files ignored for their extension.
    pub skipped: Vec<String>,
    /// HTML page → how many Q&A items its FAQ markup gave (0 when none was recognised).
    #[serde(default)]
    pub faq_items: BTreeMap<String, usize>,
}

impl LoadReport {
    /// No warnings and no failed files (skipped files are not problems).
    pub fn is_clean(&self) -> bool {
        self.warnings.is_empty() && self.failed.is_empty()
    }
}

/// The sources of a knowledge folder, by digest: what a deploy compares to
/// say exactly what changed, without building an index.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inventory {
    /// Relative path → SHA-256 (lowercase hex) of the bytes of every visible
    /// file below the knowledge folder (read, failed or skipped).
    pub files: BTreeMap<String, String>,
    /// Q&A source id (`faq.toml#slug`) → SHA-256 of its question, other
    /// phrasings, answer and url.
    pub qa: BTreeMap<String, String>,
    pub report: LoadReport,
}

impl Inventory {
    /// What changed from `self` to `newer`.
    pub fn diff(&self, newer: &Inventory) -> SourceChanges {
        SourceChanges { files: Changes::between(&self.files, &newer.files), qa: Changes::between(&self.qa, &newer.qa) }
    }
}

/// Changes between two inventories (see [`Inventory::diff`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceChanges {
    pub files: Changes,
    /// Q&A pairs by source id; a pair whose question changed shows as one
    /// removed and one added id.
    pub qa: Changes,
}

impl SourceChanges {
    /// Nothing was added, removed or changed.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty() && self.qa.is_empty()
    }
}

/// Keys added, removed and changed between two digest maps, each sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Changes {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub changed: Vec<String>,
}

impl Changes {
    fn between(older: &BTreeMap<String, String>, newer: &BTreeMap<String, String>) -> Changes {
        let mut changes = Changes::default();
        for (key, digest) in newer {
            match older.get(key) {
                None => changes.added.push(key.clone()),
                Some(old) if old != digest => changes.changed.push(key.clone()),
                Some(_) => {}
            }
        }
        changes.removed = older.keys().filter(|key| !newer.contains_key(*key)).cloned().collect();
        changes
    }

    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

/// SHA-256 of `bytes` in lowercase hex.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Digest of what a Q&A pair says: each field tagged and length-prefixed,
/// so no two different pairs hash the same input.
pub(crate) fn qa_digest(pair: &QaPair) -> String {
    let mut hasher = Sha256::new();
    let mut field = |tag: &str, value: &str| {
        hasher.update(tag.as_bytes());
        hasher.update((value.len() as u64).to_le_bytes());
        hasher.update(value.as_bytes());
    };
    field("question", &pair.question);
    for phrasing in &pair.also {
        field("also", phrasing);
    }
    field("answer", &pair.answer);
    if let Some(url) = &pair.url {
        field("url", url);
    }
    hex(&hasher.finalize())
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Collects the warnings of one file.
#[derive(Debug)]
pub(crate) struct Notes<'a> {
    file: &'a str,
    warnings: &'a mut Vec<Warning>,
    /// Where this file's warnings start in `warnings`.
    first: usize,
}

impl<'a> Notes<'a> {
    pub(crate) fn new(file: &'a str, warnings: &'a mut Vec<Warning>) -> Notes<'a> {
        let first = warnings.len();
        Notes { file, warnings, first }
    }

    /// Puts this file's warnings in line order (stable: same-line warnings
    /// keep the order they were noted in).
    pub(crate) fn sort_by_line(&mut self) {
        self.warnings[self.first..].sort_by_key(|warning| warning.line);
    }

    pub(crate) fn warn(&mut self, line: Option<usize>, message: impl Into<String>) {
        self.warnings.push(Warning::new(self.file, line, message));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_display_file_and_line() {
        assert_eq!(
            Warning::new("a/faq.toml", Some(4), "unknown field `x`").to_string(),
            "a/faq.toml:4: unknown field `x`"
        );
        assert_eq!(Warning::new("big.txt", None, "too big").to_string(), "big.txt: too big");
    }

    fn map(entries: &[(&str, &str)]) -> BTreeMap<String, String> {
        entries.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn strings(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn diff_names_added_removed_and_changed_sources() {
        let older = Inventory {
            files: map(&[("a.md", "1"), ("b.md", "2"), ("faq.toml", "3")]),
            qa: map(&[("faq.toml#x", "1"), ("faq.toml#y", "2")]),
            report: LoadReport::default(),
        };
        let newer = Inventory {
            files: map(&[("a.md", "1"), ("c.md", "4"), ("faq.toml", "5")]),
            qa: map(&[("faq.toml#x", "9"), ("faq.toml#z", "2")]),
            report: LoadReport::default(),
        };
        let changes = older.diff(&newer);
        assert_eq!(
            changes,
            SourceChanges {
                files: Changes {
                    added: strings(&["c.md"]),
                    removed: strings(&["b.md"]),
                    changed: strings(&["faq.toml"])
                },
                qa: Changes {
                    added: strings(&["faq.toml#z"]),
                    removed: strings(&["faq.toml#y"]),
                    changed: strings(&["faq.toml#x"]),
                },
            }
        );
        assert!(!changes.is_empty());
        assert!(newer.diff(&newer.clone()).is_empty());
    }

    #[test]
    fn inventory_round_trips_through_json() {
        let inventory = Inventory {
            files: map(&[("a.md", "1")]),
            qa: map(&[("faq.toml#x", "2")]),
            report: LoadReport {
                warnings: vec![Warning::new("a.md", Some(2), "w")],
                failed: vec![Warning::new("b.toml", None, "f")],
                skipped: strings(&["logo.png"]),
                faq_items: BTreeMap::from([("help.html".to_owned(), 3)]),
            },
        };
        let json = serde_json::to_string(&inventory).unwrap_or_else(|e| panic!("{e}"));
        let back: Inventory = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, inventory);
    }

    #[test]
    fn qa_digests_cover_every_field() {
        let base = QaPair {
            source: "faq.toml#q".into(),
            question: "Q".into(),
            also: vec!["a".into()],
            answer: "A".into(),
            url: None,
        };
        let variants = [
            QaPair { question: "Q2".into(), ..base.clone() },
            QaPair { also: vec![], ..base.clone() },
            QaPair { also: vec!["a".into(), "b".into()], ..base.clone() },
            QaPair { answer: "A2".into(), ..base.clone() },
            QaPair { url: Some("https://x.example/".into()), ..base.clone() },
        ];
        let digest = qa_digest(&base);
        assert_eq!(digest.len(), 64);
        for variant in &variants {
            assert_ne!(qa_digest(variant), digest, "{variant:?}");
        }
        // The source id is the key, not part of the digest.
        assert_eq!(qa_digest(&QaPair { source: "other#q".into(), ..base.clone() }), digest);
        assert_eq!(sha256_hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
