//! Walks a knowledge folder and reads each file according to its extension.
//!
//! Reading is lenient: a bad optional value is a warning and a file that
//! cannot be read is reported and left out (see [`LoadReport`]); only a
//! knowledge folder that cannot be listed is an error.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::document::{Document, Passage, SectionBuilder};
use crate::qa::{self, QaFormat, QaPair};
use crate::report::{Inventory, LoadReport, Notes, Warning, hex, qa_digest, sha256_hex};
use crate::util::{Anchors, Repeat, collapse_whitespace, with_fragment};
use crate::{Error, Result, html, markdown, pdf};

/// Largest knowledge file the indexer reads: 10 MiB.
pub(crate) const MAX_FILE_BYTES: u64 = 10 * 1024 * 1024;

/// Deepest folder nesting followed below the knowledge folder.
const MAX_DEPTH: usize = 32;

/// Everything read from one knowledge folder.
#[derive(Debug, Default)]
pub(crate) struct Knowledge {
    pub(crate) qa: Vec<QaPair>,
    pub(crate) passages: Vec<Passage>,
    /// Markdown, HTML, PDF and text files read.
    pub(crate) documents: usize,
    /// Relative paths of files ignored for their extension (also in `report`).
    pub(crate) skipped: Vec<String>,
    /// Warnings, failed and skipped files.
    pub(crate) report: LoadReport,
    /// Relative path → SHA-256 of the bytes, for every visible file.
    pub(crate) files: BTreeMap<String, String>,
}

impl Knowledge {
    /// The sources by digest, with the load report.
    pub(crate) fn inventory(&self) -> Inventory {
        Inventory {
            files: self.files.clone(),
            qa: self.qa.iter().map(|pair| (pair.source.clone(), qa_digest(pair))).collect(),
            report: self.report.clone(),
        }
    }
}

/// Digests every source below `knowledge_dir` and reports what reading it
/// finds (warnings, failed and skipped files), without building an index:
/// what a deploy compares with the live generation's inventory to say what
/// changed. Files are read and parsed, passages are not cut.
///
/// Fails only when the knowledge folder itself cannot be listed.
pub fn inventory(knowledge_dir: &Path) -> Result<Inventory> {
    read(knowledge_dir, false).map(|knowledge| knowledge.inventory())
}

/// How a file is read, decided by its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Qa(QaFormat),
    Markdown,
    Html,
    Pdf,
    Text,
}

fn format_of(path: &Path) -> Option<Format> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    match ext.as_str() {
        "toml" => Some(Format::Qa(QaFormat::Toml)),
        "csv" => Some(Format::Qa(QaFormat::Csv)),
        "json" => Some(Format::Qa(QaFormat::Json)),
        "md" | "markdown" => Some(Format::Markdown),
        "html" | "htm" => Some(Format::Html),
        "pdf" => Some(Format::Pdf),
        "txt" => Some(Format::Text),
        _ => None,
    }
}

/// Reads every visible file below `dir`, in sorted path order, and cuts the
/// documents into passages.
pub(crate) fn read_folder(dir: &Path) -> Result<Knowledge> {
    read(dir, true)
}

/// A document read, waiting for its passages to be cut.
struct Pending {
    relpath: String,
    document: Document,
    /// PDF page headings ("Page 3") always need the document title.
    is_pdf: bool,
}

fn read(dir: &Path, cut_passages: bool) -> Result<Knowledge> {
    let mut knowledge = Knowledge::default();
    let mut files = Vec::new();
    collect_files(dir, dir, 0, &mut files, &mut knowledge.report.failed)?;
    // Files are read and parsed on every core; what each gave joins the rest in file order.
    let reads: Vec<FileRead> = files.into_par_iter().map(|(relpath, path)| read_one(relpath, &path)).collect();
    let mut pending = Vec::new();
    for FileRead { relpath, digest, parsed } in reads {
        if let Some(digest) = digest {
            knowledge.files.insert(relpath.clone(), digest);
        }
        let Some(Parsed { format, loaded, warnings }) = parsed else {
            knowledge.skipped.push(relpath);
            continue;
        };
        knowledge.report.warnings.extend(warnings);
        match loaded {
            Ok(Loaded::Qa(pairs)) => knowledge.qa.extend(pairs),
            Ok(Loaded::Document(mut document)) => {
                if format == Format::Html {
                    knowledge.report.faq_items.insert(relpath.clone(), document.faq.len());
                }
                knowledge.qa.extend(faq_pairs(&relpath, &mut document));
                knowledge.documents += 1;
                if cut_passages {
                    pending.push(Pending { relpath, document, is_pdf: format == Format::Pdf });
                }
            }
            Err(err) => match err.failure() {
                Some(failure) => {
                    tracing::debug!(%failure, "knowledge file left out");
                    knowledge.report.failed.push(failure);
                }
                None => return Err(err),
            },
        }
    }
    knowledge.report.skipped = knowledge.skipped.clone();
    knowledge.passages = cut(pending);
    Ok(knowledge)
}

/// One knowledge file read on its own, before it joins the rest.
struct FileRead {
    relpath: String,
    digest: Option<String>,
    /// `None` for a file skipped for its extension.
    parsed: Option<Parsed>,
}

/// What a file of a known format gave, with its warnings in line order.
struct Parsed {
    format: Format,
    loaded: Result<Loaded>,
    warnings: Vec<Warning>,
}

/// Reads and parses one file, noting its warnings (empty sections included).
fn read_one(relpath: String, path: &Path) -> FileRead {
    let Some(format) = format_of(path) else {
        tracing::debug!(file = %relpath, "skipping knowledge file with an unknown extension");
        let digest = stream_digest(path);
        return FileRead { relpath, digest, parsed: None };
    };
    let (digest, bytes) = load(&relpath, path);
    let mut warnings = Vec::new();
    let mut notes = Notes::new(&relpath, &mut warnings);
    let loaded = bytes.and_then(|bytes| read_file(&relpath, path, format, bytes, &mut notes));
    if let Ok(Loaded::Document(document)) = &loaded
        && format != Format::Pdf
    {
        for section in document.empty_sections() {
            let heading = section.heading.as_deref().unwrap_or_default();
            notes.warn(section.line, format!("section `{heading}` has no text"));
        }
    }
    FileRead { relpath, digest, parsed: Some(Parsed { format, loaded, warnings }) }
}

/// The Q&A pairs of a page's FAQ markup, sourced `relpath#anchor` (the page's own anchor when
/// it has one, else the question's slug) and linked to the page's URL at that anchor.
fn faq_pairs(relpath: &str, document: &mut Document) -> Vec<QaPair> {
    let mut anchors = Anchors::new(Repeat::FromTwo);
    std::mem::take(&mut document.faq)
        .into_iter()
        .map(|item| {
            let own = item.anchor.clone();
            let anchor = match &own {
                Some(anchor) => anchors.unique(anchor.clone()),
                None => anchors.unique_slug(&item.question),
            };
            let url = match (&document.url, &own) {
                (Some(url), Some(_)) => Some(with_fragment(url, &anchor)),
                (url, None) => url.clone(),
                (None, Some(_)) => None,
            };
            QaPair {
                source: format!("{relpath}#{anchor}"),
                question: item.question,
                also: Vec::new(),
                answer: item.answer,
                url,
            }
        })
        .collect()
}

/// What one file gave.
enum Loaded {
    Qa(Vec<QaPair>),
    Document(Document),
}

fn read_file(relpath: &str, path: &Path, format: Format, bytes: Vec<u8>, notes: &mut Notes<'_>) -> Result<Loaded> {
    let stem = path.file_stem().map(|stem| stem.to_string_lossy().into_owned()).unwrap_or_default();
    Ok(match format {
        Format::Pdf => Loaded::Document(pdf::read(relpath, &stem, &bytes, notes)?),
        Format::Qa(qa_format) => Loaded::Qa(qa::read(qa_format, relpath, &utf8(relpath, bytes)?, notes)?),
        Format::Markdown => Loaded::Document(markdown::read(&stem, &utf8(relpath, bytes)?, notes)),
        Format::Html => Loaded::Document(html::read(&stem, &utf8(relpath, bytes)?, notes)),
        Format::Text => Loaded::Document(read_plain(&stem, &utf8(relpath, bytes)?)),
    })
}

/// Cuts documents into passages. A passage is titled with its heading
/// alone unless another section in the knowledge has the same heading, in
/// which case the document title goes first (`Kettles › Cleaning`).
fn cut(pending: Vec<Pending>) -> Vec<Passage> {
    let key = |heading: &str| heading.to_lowercase();
    let mut counts: HashMap<String, usize> = HashMap::new();
    for item in &pending {
        for heading in item.document.sections.iter().filter_map(|section| section.heading.as_deref()) {
            *counts.entry(key(heading)).or_default() += 1;
        }
    }
    let per_document: Vec<Vec<Passage>> = pending
        .into_par_iter()
        .map(|item| {
            let ambiguous = |heading: &str| item.is_pdf || counts.get(&key(heading)).is_some_and(|&count| count > 1);
            item.document.passages(&item.relpath, ambiguous)
        })
        .collect();
    per_document.into_iter().flatten().collect()
}

/// Appends `(relative path, path)` of every non-hidden file below `folder`,
/// sorted by name within each folder. A folder below `root` that cannot be
/// listed is recorded in `failed`; only `root` itself is an error.
fn collect_files(
    root: &Path,
    folder: &Path,
    depth: usize,
    out: &mut Vec<(String, PathBuf)>,
    failed: &mut Vec<Warning>,
) -> Result<()> {
    let fail = |failed: &mut Vec<Warning>, err: Error| {
        if folder == root {
            return Err(err);
        }
        failed.extend(err.failure());
        Ok(())
    };
    if depth > MAX_DEPTH {
        return fail(failed, Error::TooDeep { path: relative(root, folder), limit: MAX_DEPTH });
    }
    let shown = if folder == root { root.display().to_string() } else { relative(root, folder) };
    let list_error = |source| Error::ListFolder { path: shown.clone(), source };
    let listing = match fs::read_dir(folder) {
        Ok(listing) => listing,
        Err(source) => return fail(failed, list_error(source)),
    };
    let mut entries = Vec::new();
    for entry in listing {
        let entry = match entry {
            Ok(entry) => entry,
            Err(source) => return fail(failed, list_error(source)),
        };
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        entries.push(entry.path());
    }
    entries.sort();
    for path in entries {
        // Follows symlinks: a linked folder is read like a real one.
        match fs::metadata(&path) {
            Ok(meta) if meta.is_dir() => collect_files(root, &path, depth + 1, out, failed)?,
            Ok(_) => out.push((relative(root, &path), path)),
            Err(source) => failed.extend(Error::ReadFile { path: relative(root, &path), source }.failure()),
        }
    }
    Ok(())
}

/// `path` relative to `root`, with `/` separators.
fn relative(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.components().map(|part| part.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/")
}

/// The SHA-256 of a knowledge file (when it could be read) and its bytes
/// (unless it is too large or unreadable).
fn load(relpath: &str, path: &Path) -> (Option<String>, Result<Vec<u8>>) {
    let read_error = |source| Error::ReadFile { path: relpath.to_owned(), source };
    let too_large = |size| Error::TooLarge { path: relpath.to_owned(), size, limit: MAX_FILE_BYTES };
    let size = match fs::metadata(path) {
        Ok(meta) => meta.len(),
        Err(source) => return (None, Err(read_error(source))),
    };
    if size > MAX_FILE_BYTES {
        // Still digested, so that a deploy sees the file change.
        return (stream_digest(path), Err(too_large(size)));
    }
    match fs::read(path) {
        // The file may have grown between the two calls.
        Ok(bytes) if bytes.len() as u64 > MAX_FILE_BYTES => {
            (Some(sha256_hex(&bytes)), Err(too_large(bytes.len() as u64)))
        }
        Ok(bytes) => (Some(sha256_hex(&bytes)), Ok(bytes)),
        Err(source) => (None, Err(read_error(source))),
    }
}

/// SHA-256 of a file read in pieces.
fn stream_digest(path: &Path) -> Option<String> {
    let mut file = fs::File::open(path).ok()?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0; 64 * 1024];
    loop {
        match file.read(&mut buffer) {
            Ok(0) => return Some(hex(&hasher.finalize())),
            Ok(n) => hasher.update(&buffer[..n]),
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
}

/// The UTF-8 text of a knowledge file, without a leading byte-order mark.
fn utf8(relpath: &str, bytes: Vec<u8>) -> Result<String> {
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
    Document { title: stem.to_owned(), url: None, sections: builder.finish(), faq: Vec::new() }
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

    fn knowledge(files: &[(&str, &[u8])]) -> Knowledge {
        let dir = folder(files);
        read_folder(dir.path()).unwrap_or_else(|e| panic!("{e}"))
    }

    /// `(source, title, text)` of each passage.
    fn passages(k: &Knowledge) -> Vec<(&str, &str, &str)> {
        k.passages.iter().map(|p| (p.source.as_str(), p.title.as_str(), p.text.as_str())).collect()
    }

    fn texts(list: &[Warning]) -> Vec<String> {
        list.iter().map(Warning::to_string).collect()
    }

    /// Reads `files` and compares the passages' sources, the Q&A sources,
    /// and the warnings and failures as text.
    fn check(files: &[(&str, &[u8])], sources: &[&str], qa: &[&str], warnings: &[&str], failed: &[&str]) {
        let k = knowledge(files);
        let got: Vec<_> = k.passages.iter().map(|p| p.source.as_str()).collect();
        assert_eq!(got, sources, "passages");
        let got: Vec<_> = k.qa.iter().map(|p| p.source.as_str()).collect();
        assert_eq!(got, qa, "Q&A pairs");
        assert_eq!(texts(&k.report.warnings), warnings, "warnings");
        assert_eq!(texts(&k.report.failed), failed, "failed");
    }

    #[test]
    fn files_are_read_sorted_and_unknown_extensions_skipped() {
        let k = knowledge(&[
            ("b/notes.txt", b"First para\ncontinues.\n\n\nSecond para."),
            ("a.md", b"# A\n\nText."),
            ("faq.TOML", b"[[qa]]\nquestion = \"Q\"\nanswer = \"A\"\n"),
            ("logo.png", b"\x89PNG"),
            ("b/README", b"no extension"),
            (".hidden.md", b"# Hidden"),
            (".git/config.toml", b"not = [valid"),
        ]);
        assert_eq!(k.skipped, ["b/README", "logo.png"]);
        assert_eq!(k.report.skipped, k.skipped);
        assert_eq!(k.documents, 2);
        assert_eq!(k.qa.len(), 1);
        assert_eq!(
            passages(&k),
            [("a.md#a", "A", "Text."), ("b/notes.txt", "notes", "First para continues.\n\nSecond para.")]
        );
        assert!(k.report.is_clean(), "{:?}", k.report);
    }

    #[test]
    fn every_format_is_read() {
        check(
            &[
                ("faq.csv", b"question,answer\nGift cards?,Yes.\n"),
                ("faq.json", b"[{\"question\": \"Gift cards?\", \"answer\": \"Yes.\"}]"),
                ("manual.pdf", include_bytes!("fixtures/warranty.pdf")),
                ("page.htm", b"<h2>Hours</h2><p>9 to 5.</p>"),
            ],
            &["manual.pdf#page=1", "manual.pdf#page=2", "page.htm#hours"],
            &["faq.csv#gift-cards", "faq.json#gift-cards"],
            &[],
            &[],
        );
    }

    /// Regression: a page whose canonical link was a `file://` address made
    /// the whole bot refuse to load.
    #[test]
    fn bad_values_are_warnings_and_the_file_is_still_read() {
        check(
            &[
                (
                    "a.html",
                    b"<link rel=canonical href=\"file:///srv/a.html\"><h2>Returns</h2><p>30 days.</p><h2>Empty</h2>",
                ),
                ("b.md", b"---\nauthor: me\n---\n# Care\n\nOil it.\n"),
                ("faq.toml", b"[[qa]]\nquestion = \"Q\"\nanswer = \"A\"\nalso = [\"\"]\n"),
            ],
            &["a.html#returns", "b.md#care"],
            &["faq.toml#q"],
            &[
                "a.html:1: canonical link: url `file:///srv/a.html` must be an absolute http:// or https:// address; left out",
                "a.html:1: section `Empty` has no text",
                "b.md:2: unknown front matter key `author` (expected `title` or `url`); ignored",
                "faq.toml:4: entry 1: empty phrasing in field `also` left out",
            ],
            &[],
        );
    }

    #[test]
    fn unreadable_files_are_left_out_and_reported() {
        let big = vec![b'a'; MAX_FILE_BYTES as usize + 1];
        check(
            &[
                ("bad.txt", b"line one\nline \xff two"),
                ("broken.json", b"[{"),
                ("docs/big.txt", &big),
                ("faq.toml", b"[[qa]]\nquestion = \"Q\"\nanswer = \"unterminated\n"),
                ("ok.md", b"fine"),
                ("scan.pdf", b"%PDF-1.4 truncated"),
            ],
            &["ok.md"],
            &[],
            &[],
            &[
                "bad.txt:2: not valid UTF-8",
                "broken.json:1: column 2: EOF while parsing an object",
                "docs/big.txt: 10485761 bytes is over the 10485760 byte limit",
                "faq.toml:3: invalid basic string, expected `\"`",
                "scan.pdf: not a readable PDF: PDF error: couldn't parse input: invalid file header",
            ],
        );
        let missing = Path::new("/nonexistent/knowledge");
        let err = read_folder(missing).map(|_| ()).map_err(|e| e.to_string());
        assert!(
            matches!(&err, Err(m) if m.starts_with("cannot list knowledge folder /nonexistent/knowledge: ")),
            "{err:?}"
        );
    }

    #[test]
    fn headings_are_titles_unless_ambiguous() {
        let k = knowledge(&[
            ("bikes.md", b"# Bikes\n\n## Cleaning\n\nWash.\n\n## Tyres\n\nPump.\n"),
            ("kettles.md", b"# Kettles\n\n## Cleaning\n\nDescale.\n"),
            ("manual.pdf", include_bytes!("fixtures/warranty.pdf")),
        ]);
        let titles: Vec<_> = passages(&k).into_iter().map(|(source, title, _)| (source, title)).collect();
        assert_eq!(
            titles,
            [
                ("bikes.md#cleaning", "Bikes › Cleaning"),
                ("bikes.md#tyres", "Tyres"),
                ("kettles.md#cleaning", "Kettles › Cleaning"),
                ("manual.pdf#page=1", "manual › Page 1"),
                ("manual.pdf#page=2", "manual › Page 2"),
            ]
        );
    }

    #[test]
    fn inventory_digests_sources_and_diffs_them() {
        let dir = folder(&[
            ("faq.toml", b"[[qa]]\nquestion = \"Q\"\nanswer = \"A\"\n[[qa]]\nquestion = \"R\"\nanswer = \"B\"\n"),
            ("guide.md", b"# Guide\n\nText.\n"),
            ("logo.png", b"\x89PNG"),
            ("bad.json", b"{"),
        ]);
        let older = inventory(dir.path()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(older.files.keys().collect::<Vec<_>>(), ["bad.json", "faq.toml", "guide.md", "logo.png"]);
        assert_eq!(older.files["guide.md"], sha256_hex(b"# Guide\n\nText.\n"));
        assert_eq!(older.qa.keys().collect::<Vec<_>>(), ["faq.toml#q", "faq.toml#r"]);
        assert_eq!(older.report.skipped, ["logo.png"]);
        assert_eq!(texts(&older.report.failed), ["bad.json:1: column 1: EOF while parsing an object"]);
        // The same as a full read gives.
        assert_eq!(read_folder(dir.path()).map(|k| k.inventory()).ok(), Some(older.clone()));

        let write = |rel: &str, bytes: &[u8]| fs::write(dir.path().join(rel), bytes).unwrap_or_else(|e| panic!("{e}"));
        write("faq.toml", b"[[qa]]\nquestion = \"Q\"\nanswer = \"A2\"\n[[qa]]\nquestion = \"S\"\nanswer = \"B\"\n");
        write("new.txt", b"Hello.");
        fs::remove_file(dir.path().join("guide.md")).unwrap_or_else(|e| panic!("{e}"));
        let newer = inventory(dir.path()).unwrap_or_else(|e| panic!("{e}"));
        let changes = older.diff(&newer);
        let list = |l: &[String]| l.to_vec();
        assert_eq!(
            (list(&changes.files.added), list(&changes.files.removed), list(&changes.files.changed)),
            (vec!["new.txt".to_owned()], vec!["guide.md".to_owned()], vec!["faq.toml".to_owned()])
        );
        assert_eq!(
            (list(&changes.qa.added), list(&changes.qa.removed), list(&changes.qa.changed)),
            (vec!["faq.toml#s".to_owned()], vec!["faq.toml#r".to_owned()], vec!["faq.toml#q".to_owned()])
        );
    }
}
