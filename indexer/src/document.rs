//! The shape every knowledge document is read into, and its split into passages.

use crate::util::{Anchors, Repeat, with_fragment};

/// Longest passage, in characters, that paragraphs are packed into.
pub(crate) const MAX_PASSAGE_CHARS: usize = 800;

/// A Markdown, HTML or text file after extraction.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Document {
    pub(crate) title: String,
    /// Checked absolute `http(s)` address of the whole document.
    pub(crate) url: Option<String>,
    pub(crate) sections: Vec<Section>,
    /// Questions and answers that the page's FAQ markup gave (HTML only); their text is not
    /// in `sections`.
    pub(crate) faq: Vec<FaqItem>,
}

/// A question and its answer, found in a page's structure.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FaqItem {
    pub(crate) question: String,
    pub(crate) answer: String,
    /// The item's `id` or `<a name>`, when the page gives one.
    pub(crate) anchor: Option<String>,
    /// 1-based line of the question, when known.
    pub(crate) line: Option<usize>,
}

/// The text under one heading (or before the first one).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Section {
    /// Heading text; `None` for text before the first heading.
    pub(crate) heading: Option<String>,
    /// Anchor of the heading; `None` exactly when `heading` is.
    pub(crate) anchor: Option<String>,
    /// Heading level, 1 to 6; 0 for text before the first heading.
    pub(crate) level: u8,
    /// 1-based line of the heading, when known.
    pub(crate) line: Option<usize>,
    pub(crate) blocks: Vec<Block>,
}

/// One paragraph-like run of text: a paragraph, list item, table row...
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Block {
    pub(crate) text: String,
    pub(crate) list_item: bool,
}

/// A searchable piece of a document.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Passage {
    /// `relpath#anchor`, or `relpath` for text before the first heading.
    pub(crate) source: String,
    /// The section's heading (`Doc title › Heading` when the heading alone
    /// is ambiguous), or the document title for text before any heading.
    pub(crate) title: String,
    pub(crate) url: Option<String>,
    pub(crate) text: String,
}

/// Collects sections while a reader walks a document.
#[derive(Debug)]
pub(crate) struct SectionBuilder {
    sections: Vec<Section>,
    anchors: Anchors,
}

impl SectionBuilder {
    pub(crate) fn new() -> SectionBuilder {
        SectionBuilder {
            sections: vec![Section { heading: None, anchor: None, level: 0, line: None, blocks: Vec::new() }],
            anchors: Anchors::new(Repeat::FromOne),
        }
    }

    /// Starts a section under `heading` of `level` (1-6) found at `line`;
    /// its anchor is `id` when given, else the heading's slug (made unique
    /// within the document).
    pub(crate) fn heading(&mut self, heading: String, id: Option<String>, level: u8, line: Option<usize>) {
        let anchor = match id {
            Some(id) => id,
            None => self.anchors.unique_slug(&heading),
        };
        self.sections.push(Section { heading: Some(heading), anchor: Some(anchor), level, line, blocks: Vec::new() });
    }

    /// Adds a paragraph (whitespace already collapsed); empty text is ignored.
    pub(crate) fn block(&mut self, text: String, list_item: bool) {
        if text.is_empty() {
            return;
        }
        if let Some(section) = self.sections.last_mut() {
            section.blocks.push(Block { text, list_item });
        }
    }

    pub(crate) fn finish(self) -> Vec<Section> {
        self.sections
    }
}

impl Document {
    /// Headed sections with no text and no deeper section below them: a
    /// heading with nothing under it, worth a warning.
    pub(crate) fn empty_sections(&self) -> impl Iterator<Item = &Section> {
        self.sections.iter().enumerate().filter_map(|(i, section)| {
            let has_subsection = self.sections.get(i + 1).is_some_and(|next| next.level > section.level);
            (section.heading.is_some() && section.blocks.is_empty() && !has_subsection).then_some(section)
        })
    }

    /// Splits every section into passages of whole paragraphs. A passage's
    /// title is its section's heading, prefixed with the document title
    /// (`Doc title › Heading`) when `ambiguous` says the heading alone is.
    pub(crate) fn passages(&self, relpath: &str, ambiguous: impl Fn(&str) -> bool) -> Vec<Passage> {
        let mut out = Vec::new();
        for section in &self.sections {
            let (source, url) = match &section.anchor {
                Some(anchor) => {
                    (format!("{relpath}#{anchor}"), self.url.as_deref().map(|url| with_fragment(url, anchor)))
                }
                None => (relpath.to_owned(), self.url.clone()),
            };
            let title = match &section.heading {
                Some(heading) if *heading != self.title && ambiguous(heading) => format!("{} › {heading}", self.title),
                Some(heading) => heading.clone(),
                None => self.title.clone(),
            };
            for text in pack(&section.blocks) {
                out.push(Passage { source: source.clone(), title: title.clone(), url: url.clone(), text });
            }
        }
        out
    }
}

/// Packs blocks into texts of at most [`MAX_PASSAGE_CHARS`] characters.
/// List items are joined by one newline and shown with a `- ` bullet, other
/// blocks by a blank line.
fn pack(blocks: &[Block]) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut current_chars = 0;
    let mut last_was_item = false;
    for block in blocks {
        let pieces = if block.list_item { vec![format!("- {}", block.text)] } else { split_long(&block.text) };
        for piece in pieces {
            let piece_chars = piece.chars().count();
            let separator = if block.list_item && last_was_item { "\n" } else { "\n\n" };
            if current_chars > 0 && current_chars + separator.len() + piece_chars > MAX_PASSAGE_CHARS {
                out.push(std::mem::take(&mut current));
                current_chars = 0;
            }
            if current_chars > 0 {
                current.push_str(separator);
                current_chars += separator.len();
            }
            current.push_str(&piece);
            current_chars += piece_chars;
            last_was_item = block.list_item;
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// Cuts a paragraph longer than [`MAX_PASSAGE_CHARS`] at sentence ends (or,
/// for a single overlong sentence, at spaces, or anywhere as a last resort).
fn split_long(text: &str) -> Vec<String> {
    if text.chars().count() <= MAX_PASSAGE_CHARS {
        return vec![text.to_owned()];
    }
    let mut out = Vec::new();
    let mut current = String::new();
    for sentence in sentences(text) {
        for part in hard_wrap(sentence) {
            let joined = current.chars().count() + 1 + part.chars().count();
            if !current.is_empty() && joined > MAX_PASSAGE_CHARS {
                out.push(std::mem::take(&mut current));
            }
            if !current.is_empty() {
                current.push(' ');
            }
            current.push_str(part);
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// Sentences of `text`: each ends after `.`, `!` or `?` followed by whitespace.
pub(crate) fn sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut prev_end_mark = false;
    for (i, c) in text.char_indices() {
        if c.is_whitespace() && prev_end_mark {
            let sentence = text[start..i].trim();
            if !sentence.is_empty() {
                out.push(sentence);
            }
            start = i;
        }
        prev_end_mark = matches!(c, '.' | '!' | '?');
    }
    let rest = text[start..].trim();
    if !rest.is_empty() {
        out.push(rest);
    }
    out
}

/// `sentence` in parts of at most [`MAX_PASSAGE_CHARS`] characters, cut at
/// the last space that fits, or mid-word when there is none.
fn hard_wrap(sentence: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = sentence;
    while rest.chars().count() > MAX_PASSAGE_CHARS {
        let limit = rest.char_indices().nth(MAX_PASSAGE_CHARS).map_or(rest.len(), |(i, _)| i);
        let cut = rest[..limit].rfind(char::is_whitespace).filter(|&i| i > 0).unwrap_or(limit);
        out.push(rest[..cut].trim_end());
        rest = rest[cut..].trim_start();
    }
    if !rest.is_empty() {
        out.push(rest);
    }
    out
}

/// Asserts a read document's title, url and sections, each as `(anchor, heading, paragraphs)`.
#[cfg(test)]
pub(crate) fn assert_document(
    doc: &Document,
    title: &str,
    url: Option<&str>,
    sections: &[(Option<&str>, Option<&str>, &[&str])],
) {
    assert_eq!(doc.title, title);
    assert_eq!(doc.url.as_deref(), url);
    let got: Vec<_> = doc
        .sections
        .iter()
        .map(|s| {
            (s.anchor.as_deref(), s.heading.as_deref(), s.blocks.iter().map(|b| b.text.as_str()).collect::<Vec<_>>())
        })
        .collect();
    let want: Vec<_> = sections.iter().map(|(a, h, p)| (*a, *h, p.to_vec())).collect();
    assert_eq!(got, want);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn para(text: &str) -> Block {
        Block { text: text.to_owned(), list_item: false }
    }

    fn item(text: &str) -> Block {
        Block { text: text.to_owned(), list_item: true }
    }

    fn check_pack(blocks: &[Block], expected_lens: &[usize]) {
        let packed = pack(blocks);
        for passage in &packed {
            assert!(passage.chars().count() <= MAX_PASSAGE_CHARS, "{passage:?}");
        }
        let lens: Vec<_> = packed.iter().map(|p| p.chars().count()).collect();
        assert_eq!(lens, expected_lens);
    }

    #[test]
    fn paragraphs_pack_up_to_the_limit() {
        let p300 = "x".repeat(300);
        check_pack(&[para(&p300), para(&p300)], &[602]);
        check_pack(&[para(&p300), para(&p300), para(&p300)], &[602, 300]);
        check_pack(&[para("intro"), item("one"), item("two")], &[5 + 2 + 5 + 1 + 5]);
        check_pack(&[], &[]);
    }

    #[test]
    fn long_paragraphs_are_cut_at_sentences() {
        let sentence = format!("{}.", "word ".repeat(60).trim_end()); // 300 chars
        let text = vec![sentence.clone(); 4].join(" ");
        let packed = pack(&[para(&text)]);
        assert_eq!(packed.len(), 2);
        assert!(packed.iter().all(|p| p.ends_with('.')));
        let unbroken = "é".repeat(2000);
        check_pack(&[para(&unbroken)], &[800, 800, 400]);
    }

    fn section(heading: Option<&str>, level: u8, blocks: Vec<Block>) -> Section {
        Section {
            heading: heading.map(str::to_owned),
            anchor: heading.map(crate::util::slug),
            level,
            line: Some(usize::from(level) + 1),
            blocks,
        }
    }

    fn shipping() -> Document {
        Document {
            faq: Vec::new(),
            title: "Shipping".into(),
            url: Some("http://localhost:8081/support.html#old".into()),
            sections: vec![
                section(None, 0, vec![para("Intro.")]),
                section(Some("Shipping"), 1, vec![para("Same as title.")]),
                section(Some("Costs"), 2, vec![para("Free over $50.")]),
                section(Some("Returns"), 2, vec![]),
                section(Some("Abroad"), 3, vec![para("Later.")]),
                section(Some("Empty"), 2, vec![]),
            ],
        }
    }

    /// Compares the passages' `(source, title, url)` when `ambiguous` headings are those listed.
    fn check_passages(doc: &Document, ambiguous: &[&str], want: &[(&str, &str, &str)]) {
        let got: Vec<_> = doc
            .passages("docs/shipping.md", |heading| ambiguous.contains(&heading))
            .into_iter()
            .map(|p| (p.source, p.title, p.url.unwrap_or_default()))
            .collect();
        let want: Vec<_> = want.iter().map(|(s, t, u)| (s.to_string(), t.to_string(), u.to_string())).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn passages_carry_sources_titles_and_urls() {
        let url = |anchor: &str| format!("http://localhost:8081/support.html#{anchor}");
        let (old, ship, costs, abroad) = (url("old"), url("shipping"), url("costs"), url("abroad"));
        check_passages(
            &shipping(),
            &[],
            &[
                ("docs/shipping.md", "Shipping", &old),
                ("docs/shipping.md#shipping", "Shipping", &ship),
                ("docs/shipping.md#costs", "Costs", &costs),
                ("docs/shipping.md#abroad", "Abroad", &abroad),
            ],
        );
        check_passages(
            &shipping(),
            &["Shipping", "Costs"],
            &[
                ("docs/shipping.md", "Shipping", &old),
                ("docs/shipping.md#shipping", "Shipping", &ship),
                ("docs/shipping.md#costs", "Shipping › Costs", &costs),
                ("docs/shipping.md#abroad", "Abroad", &abroad),
            ],
        );
    }

    #[test]
    fn empty_sections_are_leaves_without_text() {
        let doc = shipping();
        let empty: Vec<_> = doc.empty_sections().map(|s| (s.heading.as_deref(), s.line)).collect();
        assert_eq!(empty, [(Some("Empty"), Some(3))]);
    }
}
