//! Reads a PDF knowledge file with `pdf-extract`: one section per page,
//! anchored `page=N` so that `file.pdf#page=N` opens the page in a browser.

use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::document::{Document, SectionBuilder};
use crate::report::Notes;
use crate::util::collapse_whitespace;
use crate::{Error, Result};

/// Parses `bytes`, the content of the PDF file `relpath` whose name without
/// extension is `stem`. A file that is not a readable PDF is an error; one
/// without any text (scanned pages) is read with a warning.
pub(crate) fn read(relpath: &str, stem: &str, bytes: &[u8], notes: &mut Notes<'_>) -> Result<Document> {
    // The extractor may panic on malformed files: that is one bad file, not a
    // reason to stop reading the folder.
    let pages = catch_unwind(AssertUnwindSafe(|| pdf_extract::extract_text_from_mem_by_pages(bytes)))
        .map_err(|_| Error::invalid(relpath, None, "not a readable PDF: the text extractor failed"))?
        .map_err(|err| Error::invalid(relpath, None, format!("not a readable PDF: {err}")))?;
    let mut builder = SectionBuilder::new();
    let mut any_text = false;
    for (index, page) in pages.iter().enumerate() {
        let number = index + 1;
        builder.heading(format!("Page {number}"), Some(format!("page={number}")), 1, None);
        let mut paragraph = String::new();
        for line in page.lines().chain([""]) {
            if line.trim().is_empty() {
                let text = collapse_whitespace(&paragraph);
                any_text |= !text.is_empty();
                builder.block(text, false);
                paragraph.clear();
            } else {
                paragraph.push_str(line);
                paragraph.push(' ');
            }
        }
    }
    if !any_text {
        notes.warn(None, "no text found in this PDF (scanned pages need OCR first)");
    }
    Ok(Document { title: stem.to_owned(), url: None, sections: builder.finish(), faq: Vec::new() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::assert_document;
    use crate::report::Warning;

    /// Reads `bytes` as `manuals/warranty.pdf`: the document, or the error message.
    fn outcome(bytes: &[u8]) -> (std::result::Result<Document, String>, Vec<String>) {
        let mut found = Vec::new();
        let doc = read("manuals/warranty.pdf", "warranty", bytes, &mut Notes::new("manuals/warranty.pdf", &mut found));
        (doc.map_err(|e| e.to_string()), found.iter().map(Warning::to_string).collect())
    }

    fn check_error(bytes: &[u8], message: &str) {
        let (doc, _) = outcome(bytes);
        assert_eq!(doc.map(|d| d.title), Err(message.to_owned()));
    }

    #[test]
    fn pages_become_sections() {
        let (doc, warnings) = outcome(include_bytes!("fixtures/warranty.pdf"));
        let doc = doc.unwrap_or_else(|e| panic!("{e}"));
        assert_document(
            &doc,
            "warranty",
            None,
            &[
                (None, None, &[]),
                (
                    Some("page=1"),
                    Some("Page 1"),
                    &["Warranty booklet", "Frames are covered for life. Keep your receipt."],
                ),
                (
                    Some("page=2"),
                    Some("Page 2"),
                    &["Motors", "Motors are covered for two years. Batteries for one year."],
                ),
            ],
        );
        assert!(warnings.is_empty(), "{warnings:?}");

        // A page without text, as a scanned PDF has.
        let (doc, warnings) = outcome(include_bytes!("fixtures/blank.pdf"));
        assert_eq!(doc.map(|d| d.sections.len()), Ok(2));
        assert_eq!(warnings, ["manuals/warranty.pdf: no text found in this PDF (scanned pages need OCR first)"]);
    }

    #[test]
    fn unreadable_pdfs_are_errors() {
        check_error(
            b"not a pdf",
            "cannot read knowledge file manuals/warranty.pdf: not a readable PDF: PDF error: couldn't parse input: invalid file header",
        );
        let fixture = include_bytes!("fixtures/warranty.pdf");
        check_error(
            &fixture[..300],
            "cannot read knowledge file manuals/warranty.pdf: not a readable PDF: PDF error: failed parsing cross reference table: invalid start value",
        );
    }
}
