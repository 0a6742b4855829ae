//! Walks a knowledge folder and reads each file according to its extension.

use std::fs;
use std::path::{Path, PathBuf};

use crate::document::{Document, Passage, SectionBuilder};
use crate::qa::{self, QaPair};
use crate::util::collapse_whitespace;
use crate::{Error, Result, html, markdown};

/// Largest knowledge file the indexer reads: 10 MiB.
pub(crate) const MAX_FILE_BYTES: u64 = 10 * 1024 * 1024;

/// Deepest folder nesting followed below the knowledge folder.
const MAX_DEPTH: usize = 32;

/// Everything read from one knowledge folder.
#[derive(Debug, Default)]
pub(crate) struct Knowledge {
    pub(crate) qa: Vec<QaPair>,
    pub(crate) passages: Vec<Passage>,
    /// Markdown, HTML and text files read.
    pub(crate) documents: usize,
    /// Relative paths of files ignored for their extension.
    pub(crate) skipped: Vec<String>,
}

/// How a file is read, decided by its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Qa,
    Markdown,
    Html,
    Text,
}

fn format_of(path: &Path) -> Option<Format> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    match ext.as_str() {
        "toml" => Some(Format::Qa),
        "md" | "markdown" => Some(Format::Markdown),
        "html" | "htm" => Some(Format::Html),
        "txt" => Some(Format::Text),
        _ => None,
    }
}

/// Reads every visible file below `dir`, in sorted path order.
pub(crate) fn read_folder(dir: &Path) -> Result<Knowledge> {
    let mut files = Vec::new();
    collect_files(dir, dir, 0, &mut files)?;
    let mut knowledge = Knowledge::default();
    for (relpath, path) in files {
        let Some(format) = format_of(&path) else {
            tracing::debug!(file = %relpath, "skipping knowledge file with an unknown extension");
            knowledge.skipped.push(relpath);
            continue;
        };
        let text = read_text(&relpath, &path)?;
        let stem = path.file_stem().map(|stem| stem.to_string_lossy().into_owned()).unwrap_or_default();
        let document = match format {
            Format::Qa => {
                knowledge.qa.extend(qa::read(&relpath, &text)?);
                continue;
            }
            Format::Markdown => markdown::read(&relpath, &stem, &text)?,
            Format::Html => html::read(&relpath, &stem, &text)?,
            Format::Text => read_plain(&stem, &text),
        };
        knowledge.documents += 1;
        knowledge.passages.extend(document.passages(&relpath));
    }
    Ok(knowledge)
}

/// Appends `(relative path, path)` of every non-hidden file below `folder`,
/// sorted by name within each folder.
fn collect_files(root: &Path, folder: &Path, depth: usize, out: &mut Vec<(String, PathBuf)>) -> Result<()> {
    let shown = |path: &Path| {
        if path == root { root.display().to_string() } else { relative(root, path) }
    };
    if depth > MAX_DEPTH {
        return Err(Error::TooDeep { path: shown(folder), limit: MAX_DEPTH });
    }
    let list_error = |source| Error::ListFolder { path: shown(folder), source };
    let mut entries = Vec::new();
    for entry in fs::read_dir(folder).map_err(list_error)? {
        let entry = entry.map_err(list_error)?;
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        entries.push(entry.path());
    }
    entries.sort();
    for path in entries {
        // Follows symlinks: a linked folder is read like a real one.
        let is_dir =
            fs::metadata(&path).map_err(|source| Error::ReadFile { path: relative(root, &path), source })?.is_dir();
        if is_dir {
            collect_files(root, &path, depth + 1, out)?;
        } else {
            out.push((relative(root, &path), path));
        }
    }
    Ok(())
}

/// `path` relative to `root`, with `/` separators.
fn relative(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.components().map(|part| part.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/")
}

/// The UTF-8 content of a knowledge file, without a leading byte-order mark.
fn read_text(relpath: &str, path: &Path) -> Result<String> {
    let read_error = |source| Error::ReadFile { path: relpath.to_owned(), source };
    let size = fs::metadata(path).map_err(read_error)?.len();
    if size > MAX_FILE_BYTES {
        return Err(Error::TooLarge { path: relpath.to_owned(), size, limit: MAX_FILE_BYTES });
    }
    let bytes = fs::read(path).map_err(read_error)?;
    // The file may have grown between the two calls.
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(Error::TooLarge { path: relpath.to_owned(), size: bytes.len() as u64, limit: MAX_FILE_BYTES });
    }
    let text = String::from_utf8(bytes).map_err(|err| {
        let valid = &err.as_bytes()[..err.utf8_error().valid_up_to()];
        Error::NotUtf8 { path: relpath.to_owned(), line: valid.iter().filter(|&&b| b == b'\n').count() + 1 }
    })?;
    Ok(match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_owned(),
        None => text,
    })
}

/// A `.txt` file: one untitled section, paragraphs split at blank lines.
fn read_plain(stem: &str, text: &str) -> Document {
    let mut builder = SectionBuilder::new();
    let mut paragraph = String::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            builder.block(collapse_whitespace(&paragraph), false);
            paragraph.clear();
        } else {
            paragraph.push_str(line);
            paragraph.push(' ');
        }
    }
    builder.block(collapse_whitespace(&paragraph), false);
    Document { title: stem.to_owned(), url: None, sections: builder.finish() }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes `files` (relative path, bytes) into a fresh folder.
    fn folder(files: &[(&str, &[u8])]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        for (rel, bytes) in files {
            let path = dir.path().join(rel);
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent).unwrap_or_else(|e| panic!("mkdir: {e}"));
            }
            fs::write(&path, bytes).unwrap_or_else(|e| panic!("write {rel}: {e}"));
        }
        dir
    }

    fn check_error(files: &[(&str, &[u8])], message: &str) {
        let dir = folder(files);
        match read_folder(dir.path()) {
            Ok(k) => panic!("expected an error, got {k:?}"),
            Err(e) => assert_eq!(e.to_string(), message),
        }
    }

    #[test]
    fn files_are_read_sorted_and_unknown_extensions_skipped() {
        let dir = folder(&[
            ("b/notes.txt", b"First para\ncontinues.\n\n\nSecond para."),
            ("a.md", b"# A\n\nText."),
            ("faq.TOML", b"[[qa]]\nquestion = \"Q\"\nanswer = \"A\"\n"),
            ("logo.png", b"\x89PNG"),
            ("b/README", b"no extension"),
            (".hidden.md", b"# Hidden"),
            (".git/config.toml", b"not = [valid"),
        ]);
        let k = read_folder(dir.path()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(k.skipped, ["b/README", "logo.png"]);
        assert_eq!(k.documents, 2);
        assert_eq!(k.qa.len(), 1);
        let got: Vec<_> = k.passages.iter().map(|p| (p.source.as_str(), p.title.as_str(), p.text.as_str())).collect();
        assert_eq!(got, [("a.md#a", "A", "Text."), ("b/notes.txt", "notes", "First para continues.\n\nSecond para."),]);
    }

    #[test]
    fn unreadable_files_are_errors() {
        check_error(
            &[("ok.md", b"fine"), ("bad.txt", b"line one\nline \xff two")],
            "cannot read knowledge file bad.txt: line 2: not valid UTF-8",
        );
        let big = vec![b'a'; MAX_FILE_BYTES as usize + 1];
        check_error(
            &[("docs/big.txt", &big)],
            "cannot read knowledge file docs/big.txt: 10485761 bytes is over the 10485760 byte limit",
        );
        let missing = Path::new("/nonexistent/knowledge");
        let err = read_folder(missing).map(|_| ()).map_err(|e| e.to_string());
        assert!(
            matches!(&err, Err(m) if m.starts_with("cannot list knowledge folder /nonexistent/knowledge: ")),
            "{err:?}"
        );
    }
}
