//! The crate's error type: every way building or querying a knowledge base can fail.

use crate::report::Warning;

/// Everything that can go wrong in `docent-indexer`.
///
/// Paths are relative to the knowledge folder, with `/` separators, except
/// for the knowledge folder itself, which is shown as given.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The knowledge folder, or a folder below it, cannot be listed.
    #[error("cannot list knowledge folder {path}: {source}")]
    ListFolder {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// Folders nest deeper than the indexer follows (usually a symlink loop).
    #[error("cannot list knowledge folder {path}: nested deeper than {limit} folders (a symlink loop?)")]
    TooDeep { path: String, limit: usize },
    /// A knowledge file cannot be read from disk.
    #[error("cannot read knowledge file {path}: {source}")]
    ReadFile {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// A knowledge file is larger than the indexer accepts.
    #[error("cannot read knowledge file {path}: {size} bytes is over the {limit} byte limit")]
    TooLarge { path: String, size: u64, limit: u64 },
    /// A knowledge file is not UTF-8 text.
    #[error("cannot read knowledge file {path}: line {line}: not valid UTF-8")]
    NotUtf8 { path: String, line: usize },
    /// A knowledge file's content breaks the layout rules.
    #[error("cannot read knowledge file {path}: {}{reason}", at_line(*.line))]
    Invalid {
        path: String,
        /// 1-based line of the problem, when known.
        line: Option<usize>,
        reason: String,
    },
    /// An index artifact folder cannot be written, or is missing, incomplete or of another format.
    #[error("index artifact {path}: {reason}")]
    Artifact { path: String, reason: String },
    /// A sentence-embedding model folder or file is missing or unusable.
    #[error("embedding model {path}: {reason}")]
    Model { path: String, reason: String },
    /// The embedding model failed on some text.
    #[error("embedding with model {model} failed: {reason}")]
    Embed { model: String, reason: String },
    /// Search settings that cannot be honoured (say `semantic = "on"` without a model).
    #[error("search settings: {0}")]
    Settings(String),
    /// The search engine failed while building or querying the index.
    #[error("search index failed: {0}")]
    Index(#[from] tantivy::TantivyError),
}

impl Error {
    /// A content error in `path`, at `line` when it is known.
    pub(crate) fn invalid(path: &str, line: Option<usize>, reason: impl Into<String>) -> Error {
        Error::Invalid { path: path.to_owned(), line, reason: reason.into() }
    }

    /// The entry of [`LoadReport::failed`](crate::LoadReport) for an error
    /// that concerns one knowledge file (or folder below the knowledge
    /// folder), which ingest leaves out; `None` for any other error.
    pub(crate) fn failure(&self) -> Option<Warning> {
        let (path, line, reason) = match self {
            Error::ReadFile { path, source } => (path, None, source.to_string()),
            Error::TooLarge { path, size, limit } => {
                (path, None, format!("{size} bytes is over the {limit} byte limit"))
            }
            Error::NotUtf8 { path, line } => (path, Some(*line), "not valid UTF-8".to_owned()),
            Error::Invalid { path, line, reason } => (path, *line, reason.clone()),
            Error::ListFolder { path, source } => (path, None, format!("cannot list folder: {source}")),
            Error::TooDeep { path, limit } => {
                (path, None, format!("cannot list folder: nested deeper than {limit} folders (a symlink loop?)"))
            }
            _ => return None,
        };
        Some(Warning::new(path, line, reason))
    }
}

/// `line 12: ` for a known line, nothing otherwise.
fn at_line(line: Option<usize>) -> String {
    line.map(|line| format!("line {line}: ")).unwrap_or_default()
}

/// The crate's result type.
pub type Result<T> = std::result::Result<T, Error>;
