//! The Markdown subset of answers — paragraphs, lists, bold, italics, inline code, links and bare
//! URLs — parsed into a small tree, then built as DOM nodes. Never HTML: no markup in an answer
//! can become an element other than these, and links keep only `http(s)` and `mailto` targets.

use web_sys::{Document, Element, Node};

use crate::dom;

/// A paragraph or a list.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Block {
    Paragraph(Vec<Inline>),
    List { ordered: bool, items: Vec<Vec<Inline>> },
}

/// A run of text inside a block.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Inline {
    Text(String),
    Strong(Vec<Inline>),
    Emphasis(Vec<Inline>),
    Code(String),
    Link { label: String, href: String },
}

/// The blocks of `text`: blank lines end paragraphs, `- `, `* `, `+ ` and `1. ` lines make lists.
pub(crate) fn parse(text: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut paragraph: Vec<&str> = Vec::new();
    let mut list: Option<(bool, Vec<String>)> = None;
    for line in text.lines() {
        let trimmed = line.trim();
        if let Some((ordered, item)) = list_item(trimmed) {
            flush_paragraph(&mut paragraph, &mut blocks);
            match &mut list {
                Some((kind, items)) if *kind == ordered => items.push(item.to_owned()),
                _ => {
                    flush_list(&mut list, &mut blocks);
                    list = Some((ordered, vec![item.to_owned()]));
                }
            }
        } else if trimmed.is_empty() {
            flush_paragraph(&mut paragraph, &mut blocks);
            flush_list(&mut list, &mut blocks);
        } else if let (Some((_, items)), true) = (&mut list, line.starts_with([' ', '\t'])) {
            // An indented line continues the list's last item.
            if let Some(last) = items.last_mut() {
                last.push(' ');
                last.push_str(trimmed);
            }
        } else {
            flush_list(&mut list, &mut blocks);
            paragraph.push(trimmed);
        }
    }
    flush_paragraph(&mut paragraph, &mut blocks);
    flush_list(&mut list, &mut blocks);
    blocks
}

fn flush_paragraph(lines: &mut Vec<&str>, blocks: &mut Vec<Block>) {
    if !lines.is_empty() {
        blocks.push(Block::Paragraph(inlines(&lines.join("\n"))));
        lines.clear();
    }
}

fn flush_list(list: &mut Option<(bool, Vec<String>)>, blocks: &mut Vec<Block>) {
    if let Some((ordered, items)) = list.take() {
        blocks.push(Block::List { ordered, items: items.iter().map(|item| inlines(item)).collect() });
    }
}

/// `Some((ordered, rest))` when `line` is a list item.
fn list_item(line: &str) -> Option<(bool, &str)> {
    for marker in ["- ", "* ", "+ "] {
        if let Some(rest) = line.strip_prefix(marker) {
            return Some((false, rest.trim_start()));
        }
    }
    let digits = line.bytes().take_while(u8::is_ascii_digit).count();
    let rest = line.get(digits..)?;
    let rest = rest.strip_prefix(". ").or_else(|| rest.strip_prefix(") "))?;
    (digits > 0 && digits < 4).then_some((true, rest.trim_start()))
}

/// The inline runs of `text`.
pub(crate) fn inlines(text: &str) -> Vec<Inline> {
    let mut out = Vec::new();
    let mut plain = String::new();
    let mut rest = text;
    while let Some(first) = rest.chars().next() {
        if let Some((inline, after)) = styled(rest, plain.chars().next_back()) {
            if !plain.is_empty() {
                out.push(Inline::Text(std::mem::take(&mut plain)));
            }
            out.push(inline);
            rest = after;
        } else {
            plain.push(first);
            rest = rest.get(first.len_utf8()..).unwrap_or_default();
        }
    }
    if !plain.is_empty() {
        out.push(Inline::Text(plain));
    }
    out
}

/// The styled run at the start of `text`, and what follows it. `before` is the character before `text`.
fn styled(text: &str, before: Option<char>) -> Option<(Inline, &str)> {
    let at_word_start = before.is_none_or(|c| !c.is_ascii_alphanumeric());
    if let Some(inner) = text.strip_prefix('`') {
        let (code, after) = inner.split_once('`')?;
        return (!code.is_empty()).then(|| (Inline::Code(code.to_owned()), after));
    }
    if let Some(inner) = text.strip_prefix("**") {
        let (bold, after) = inner.split_once("**")?;
        return tight(bold).then(|| (Inline::Strong(inlines(bold)), after));
    }
    for mark in ['*', '_'] {
        if let Some(inner) = text.strip_prefix(mark)
            && at_word_start
        {
            let (italic, after) = inner.split_once(mark)?;
            let closes_word = after.chars().next().is_none_or(|c| !c.is_ascii_alphanumeric());
            return (tight(italic) && closes_word).then(|| (Inline::Emphasis(inlines(italic)), after));
        }
    }
    if let Some(inner) = text.strip_prefix('[') {
        let (label, after) = inner.split_once("](")?;
        let (href, after) = after.split_once(')')?;
        let well_formed =
            !label.is_empty() && !label.contains('[') && !href.contains(|c: char| c.is_ascii_whitespace());
        return well_formed.then(|| (Inline::Link { label: label.to_owned(), href: href.to_owned() }, after));
    }
    if at_word_start && (text.starts_with("https://") || text.starts_with("http://")) {
        let end = text.find(|c: char| c.is_ascii_whitespace()).unwrap_or(text.len());
        let url = text.get(..end)?.trim_end_matches(['.', ',', ';', ':', '!', '?', ')', '\'', '"']);
        return Some((Inline::Link { label: url.to_owned(), href: url.to_owned() }, text.get(url.len()..)?));
    }
    None
}

/// Emphasis needs text right inside its marks: `* not this *`.
fn tight(inner: &str) -> bool {
    !inner.is_empty()
        && !inner.starts_with(|c: char| c.is_ascii_whitespace())
        && !inner.ends_with(|c: char| c.is_ascii_whitespace())
}

/// The DOM of `text`'s Markdown, in `parent`.
pub(crate) fn render(doc: &Document, parent: &Element, text: &str) {
    for block in parse(text) {
        let element = match block {
            Block::Paragraph(runs) => {
                let paragraph: Element = dom::create(doc, "p", "");
                append_inlines(doc, &paragraph, &runs);
                paragraph
            }
            Block::List { ordered, items } => {
                let list: Element = dom::create(doc, if ordered { "ol" } else { "ul" }, "");
                for runs in items {
                    let item: Element = dom::create(doc, "li", "");
                    append_inlines(doc, &item, &runs);
                    dom::append(&list, &item);
                }
                list
            }
        };
        dom::append(parent, &element);
    }
}

fn append_inlines(doc: &Document, parent: &Element, runs: &[Inline]) {
    for run in runs {
        let node: Node = match run {
            Inline::Text(text) => doc.create_text_node(text).into(),
            Inline::Code(code) => dom::text(doc, "code", "", code),
            Inline::Strong(inner) | Inline::Emphasis(inner) => {
                let element: Element =
                    dom::create(doc, if matches!(run, Inline::Strong(_)) { "strong" } else { "em" }, "");
                append_inlines(doc, &element, inner);
                element.into()
            }
            Inline::Link { label, href } => {
                let href = dom::safe_href(href, &["http:", "https:", "mailto:"]);
                dom::link(doc, "", label, href.as_deref())
            }
        };
        dom::append(parent, &node);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(text: &str) -> Inline {
        Inline::Text(text.to_owned())
    }

    fn link(label: &str, href: &str) -> Inline {
        Inline::Link { label: label.to_owned(), href: href.to_owned() }
    }

    fn check_inlines(input: &str, expected: Vec<Inline>) {
        assert_eq!(inlines(input), expected, "{input:?}");
    }

    #[test]
    fn parses_inline_styles() {
        check_inlines("plain", vec![text("plain")]);
        check_inlines("a **bold** word", vec![text("a "), Inline::Strong(vec![text("bold")]), text(" word")]);
        check_inlines(
            "an *italic* and _this_",
            vec![
                text("an "),
                Inline::Emphasis(vec![text("italic")]),
                text(" and "),
                Inline::Emphasis(vec![text("this")]),
            ],
        );
        check_inlines("run `cargo test` now", vec![text("run "), Inline::Code("cargo test".into()), text(" now")]);
        check_inlines(
            "**bold _and italic_**",
            vec![Inline::Strong(vec![text("bold "), Inline::Emphasis(vec![text("and italic")])])],
        );
        check_inlines(
            "see [the returns page](https://x.example/returns).",
            vec![text("see "), link("the returns page", "https://x.example/returns"), text(".")],
        );
        check_inlines(
            "at https://x.example/a?b=1, or",
            vec![text("at "), link("https://x.example/a?b=1", "https://x.example/a?b=1"), text(", or")],
        );
    }

    #[test]
    fn leaves_unmatched_and_mid_word_marks_as_text() {
        check_inlines("2 * 3 * 4", vec![text("2 * 3 * 4")]);
        check_inlines("snake_case_name", vec![text("snake_case_name")]);
        check_inlines("**open", vec![text("**open")]);
        check_inlines("`", vec![text("`")]);
        check_inlines("[label](a b)", vec![text("[label](a b)")]);
        check_inlines("xhttps://a.example", vec![text("xhttps://a.example")]);
        check_inlines("<img src=x onerror=alert(1)>", vec![text("<img src=x onerror=alert(1)>")]);
    }

    #[test]
    fn parses_paragraphs_and_lists() {
        let blocks = parse(
            "Yes, you can:\n\n- helmets *unworn*\n- lights\n  with their box\n\n1. ship it\n2) wait\n\nThanks\nagain",
        );
        assert_eq!(
            blocks,
            vec![
                Block::Paragraph(vec![text("Yes, you can:")]),
                Block::List {
                    ordered: false,
                    items: vec![
                        vec![text("helmets "), Inline::Emphasis(vec![text("unworn")])],
                        vec![text("lights with their box")],
                    ],
                },
                Block::List { ordered: true, items: vec![vec![text("ship it")], vec![text("wait")]] },
                Block::Paragraph(vec![text("Thanks\nagain")]),
            ]
        );
        assert_eq!(
            parse("A list right after\n- one"),
            vec![
                Block::Paragraph(vec![text("A list right after")]),
                Block::List { ordered: false, items: vec![vec![text("one")]] },
            ]
        );
        assert_eq!(parse("  \n\n"), vec![]);
        assert_eq!(parse("2024. was a year"), vec![Block::Paragraph(vec![text("2024. was a year")])]);
    }
}
