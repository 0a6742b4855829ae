//! Reads an HTML knowledge file with html5ever's tokenizer (no tree builder):
//! title, canonical URL and sections split at `h1`–`h6`.

use std::cell::RefCell;

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{BufferQueue, Tag, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts};

use crate::document::{Document, SectionBuilder};
use crate::util::{check_url, collapse_whitespace};
use crate::{Error, Result};

/// Elements whose text never reaches the index.
const SKIPPED: &[&str] = &["script", "style", "noscript", "template", "nav", "header", "footer", "svg"];

/// Elements that end the paragraph before and after them.
const BLOCKS: &[&str] = &[
    "p",
    "li",
    "div",
    "br",
    "tr",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "ul",
    "ol",
    "dl",
    "dt",
    "dd",
    "table",
    "thead",
    "tbody",
    "section",
    "article",
    "main",
    "aside",
    "blockquote",
    "pre",
    "figure",
    "figcaption",
    "form",
    "hr",
    "address",
    "details",
    "summary",
    "body",
];

/// Parses `text`, the content of the HTML file `relpath` whose name without
/// extension is `stem`.
pub(crate) fn read(relpath: &str, stem: &str, text: &str) -> Result<Document> {
    let input = BufferQueue::default();
    input.push_back(StrTendril::from_slice(text));
    let tokenizer = Tokenizer::new(Extractor::default(), TokenizerOpts::default());
    // The sink never asks to pause for a script, so one feed reads everything.
    let _ = tokenizer.feed(&input);
    tokenizer.end();
    let state = tokenizer.sink.state.into_inner();

    let url = match state.canonical {
        Some((href, line)) => Some(check_url(&href).map_err(|reason| Error::invalid(relpath, Some(line), reason))?),
        None => None,
    };
    let title = collapse_whitespace(&state.title);
    let title = if title.is_empty() { state.first_h1.unwrap_or_else(|| stem.to_owned()) } else { title };
    let mut builder = state.builder;
    builder.block(collapse_whitespace(&state.current), state.in_item);
    Ok(Document { title, url, sections: builder.finish() })
}

/// The token sink: html5ever hands tokens over through `&self`.
#[derive(Default)]
struct Extractor {
    state: RefCell<State>,
}

/// What the extractor has seen so far.
struct State {
    builder: SectionBuilder,
    /// Open skipped elements, innermost last.
    skipping: Vec<String>,
    in_title: bool,
    title: String,
    /// The heading being read: its `id` and text.
    heading: Option<(Option<String>, String, bool)>,
    first_h1: Option<String>,
    /// First `<link rel="canonical">` target and its line.
    canonical: Option<(String, usize)>,
    /// Text of the paragraph being read.
    current: String,
    in_item: bool,
}

impl Default for State {
    fn default() -> State {
        State {
            builder: SectionBuilder::new(),
            skipping: Vec::new(),
            in_title: false,
            title: String::new(),
            heading: None,
            first_h1: None,
            canonical: None,
            current: String::new(),
            in_item: false,
        }
    }
}

impl TokenSink for Extractor {
    type Handle = ();

    fn process_token(&self, token: Token, line_number: u64) -> TokenSinkResult<()> {
        let mut state = self.state.borrow_mut();
        match token {
            Token::TagToken(tag) => {
                let raw = raw_kind(&tag);
                state.tag(&tag, usize::try_from(line_number).unwrap_or(usize::MAX));
                if let Some(kind) = raw {
                    return TokenSinkResult::RawData(kind);
                }
            }
            Token::CharacterTokens(text) => state.text(&text),
            _ => {}
        }
        TokenSinkResult::Continue
    }
}

/// The tokenizer state that the content of a start tag `tag` needs, as a
/// browser would switch it.
fn raw_kind(tag: &Tag) -> Option<RawKind> {
    if tag.kind != TagKind::StartTag {
        return None;
    }
    match &*tag.name {
        "script" => Some(RawKind::ScriptData),
        "style" | "xmp" | "iframe" | "noembed" | "noframes" | "noscript" => Some(RawKind::Rawtext),
        "title" | "textarea" => Some(RawKind::Rcdata),
        _ => None,
    }
}

/// The value of attribute `name` on `tag`.
fn attribute<'a>(tag: &'a Tag, name: &str) -> Option<&'a str> {
    tag.attrs.iter().find(|attr| &*attr.name.local == name).map(|attr| &*attr.value)
}

/// `h1`..`h6` as 1..6.
fn heading_level(name: &str) -> Option<u8> {
    match name {
        "h1" => Some(1),
        "h2" => Some(2),
        "h3" => Some(3),
        "h4" => Some(4),
        "h5" => Some(5),
        "h6" => Some(6),
        _ => None,
    }
}

impl State {
    fn tag(&mut self, tag: &Tag, line: usize) {
        let name: &str = &tag.name;
        let start = tag.kind == TagKind::StartTag;
        if SKIPPED.contains(&name) {
            if start {
                // Raw-text elements always have content up to their end tag.
                let raw = matches!(name, "script" | "style" | "noscript");
                if raw || !tag.self_closing {
                    self.skipping.push(name.to_owned());
                }
            } else if let Some(at) = self.skipping.iter().rposition(|open| open == name) {
                self.skipping.truncate(at);
            }
            return;
        }
        if !self.skipping.is_empty() {
            return;
        }
        match name {
            "title" => {
                self.in_title = start && self.heading.is_none();
                return;
            }
            "link" if start => {
                let canonical = attribute(tag, "rel")
                    .is_some_and(|rel| rel.split_ascii_whitespace().any(|word| word.eq_ignore_ascii_case("canonical")));
                if canonical && self.canonical.is_none() {
                    let href = attribute(tag, "href").unwrap_or_default();
                    self.canonical = Some((href.to_owned(), line));
                }
                return;
            }
            "td" | "th" if start => {
                if !self.current.trim().is_empty() {
                    self.current.push_str(" | ");
                }
                return;
            }
            _ => {}
        }
        if let Some(level) = heading_level(name) {
            if start && self.heading.is_none() {
                self.flush();
                let id = attribute(tag, "id").map(str::trim).filter(|id| !id.is_empty()).map(str::to_owned);
                self.heading = Some((id, String::new(), level == 1));
            } else if !start && let Some((id, text, is_h1)) = self.heading.take() {
                let text = collapse_whitespace(&text);
                if !text.is_empty() {
                    if is_h1 && self.first_h1.is_none() {
                        self.first_h1 = Some(text.clone());
                    }
                    self.builder.heading(text, id);
                }
            }
            return;
        }
        if BLOCKS.contains(&name) {
            self.flush();
            if name == "li" {
                self.in_item = start;
            }
        } else if name == "img" && start {
            // Inline images separate words but add no text.
            self.current.push(' ');
        }
    }

    fn text(&mut self, text: &str) {
        if !self.skipping.is_empty() {
            return;
        }
        if let Some((_, heading, _)) = &mut self.heading {
            heading.push_str(text);
        } else if self.in_title {
            self.title.push_str(text);
        } else {
            self.current.push_str(text);
        }
    }

    /// Ends the paragraph being read.
    fn flush(&mut self) {
        let text = collapse_whitespace(&std::mem::take(&mut self.current));
        self.builder.block(text, self.in_item);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::assert_document;

    /// Reads `html` as `pages/warranty.html` and compares title, url and
    /// each section as `(anchor, heading, paragraphs)`.
    fn check(html: &str, title: &str, url: Option<&str>, sections: &[(Option<&str>, Option<&str>, &[&str])]) {
        let doc = read("pages/warranty.html", "warranty", html).unwrap_or_else(|e| panic!("{e}"));
        assert_document(&doc, title, url, sections);
    }

    #[test]
    fn text_is_extracted_without_scripts_and_chrome() {
        check(
            include_str!("fixtures/page.html"),
            "Warranty & care",
            Some("http://localhost:8081/support.html"),
            &[
                (None, None, &["Intro text < here."]),
                (
                    Some("frame-warranty"),
                    Some("Frame warranty"),
                    &["Frames are covered for life — really.", "Rust", "Cracks"],
                ),
                (
                    Some("whats-not-covered"),
                    Some("What's not covered?"),
                    &["Crashes & abuse.", "Part | Years", "Motor | 2"],
                ),
            ],
        );
    }

    #[test]
    fn title_falls_back_to_h1_then_stem() {
        check(
            "<h1>Big <em>heading</em></h1><p>a<br>b</p>",
            "Big heading",
            None,
            &[(None, None, &[]), (Some("big-heading"), Some("Big heading"), &["a", "b"])],
        );
        check("plain words", "warranty", None, &[(None, None, &["plain words"])]);
        check("", "warranty", None, &[(None, None, &[])]);
    }

    #[test]
    fn bad_canonical_url_is_an_error_with_line() {
        let err = read(
            "pages/x.html",
            "x",
            "<html>\n<head>\n<link rel=\"canonical\" href=\"javascript:alert(1)\">\n</head></html>",
        )
        .map(|doc| doc.title)
        .map_err(|e| e.to_string());
        assert_eq!(
            err,
            Err("cannot read knowledge file pages/x.html: line 3: url `javascript:alert(1)` must be an absolute http:// or https:// address".to_owned())
        );
    }
}
