//! Reads a Markdown knowledge file: optional front matter, then sections split at headings.

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

use crate::document::{Document, SectionBuilder};
use crate::report::Notes;
use crate::util::{check_url, collapse_whitespace, line_of};

/// What the front matter block may set.
#[derive(Debug, Default)]
struct FrontMatter {
    title: Option<String>,
    url: Option<String>,
}

/// Parses `text`, the content of a Markdown file whose name without
/// extension is `stem`. Front matter problems are noted and the value left
/// out: Markdown never fails to read.
pub(crate) fn read(stem: &str, text: &str, notes: &mut Notes<'_>) -> Document {
    let (front, body_start) = split_front_matter(text, notes);
    let body = &text[body_start..];
    let mut builder = SectionBuilder::new();
    let mut first_h1: Option<String> = None;
    // Text of the paragraph or heading being read.
    let mut current = String::new();
    let mut heading: Option<(u8, usize)> = None; // (level, line) while inside a heading
    let mut hidden = 0usize; // depth inside code blocks, HTML blocks and images
    let mut item_depth = 0usize;

    let events = Parser::new_ext(body, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH).into_offset_iter();
    for (event, range) in events {
        match event {
            Event::Start(Tag::Heading { level, .. }) => {
                builder.block(collapse_whitespace(&current), item_depth > 0);
                current.clear();
                heading = Some((level as u8, line_of(text, body_start + range.start)));
            }
            Event::End(TagEnd::Heading(_)) => {
                let heading_text = collapse_whitespace(&current);
                current.clear();
                if let Some((level, line)) = heading.take()
                    && !heading_text.is_empty()
                {
                    if level == 1 && first_h1.is_none() {
                        first_h1 = Some(heading_text.clone());
                    }
                    builder.heading(heading_text, None, level, Some(line));
                }
            }
            Event::Start(Tag::CodeBlock(_) | Tag::HtmlBlock | Tag::Image { .. }) => {
                hidden += 1;
            }
            Event::End(TagEnd::CodeBlock | TagEnd::HtmlBlock | TagEnd::Image) => {
                hidden = hidden.saturating_sub(1);
            }
            Event::Start(Tag::Item) => {
                builder.block(collapse_whitespace(&current), item_depth > 0);
                current.clear();
                item_depth += 1;
            }
            Event::End(TagEnd::Item) => {
                builder.block(collapse_whitespace(&current), item_depth > 0);
                current.clear();
                item_depth = item_depth.saturating_sub(1);
            }
            Event::Start(Tag::TableCell) if !current.trim().is_empty() => {
                current.push_str(" | ");
            }
            Event::End(
                TagEnd::Paragraph
                | TagEnd::TableRow
                | TagEnd::TableHead
                | TagEnd::BlockQuote(_)
                | TagEnd::DefinitionListTitle
                | TagEnd::DefinitionListDefinition
                | TagEnd::FootnoteDefinition,
            ) => {
                builder.block(collapse_whitespace(&current), item_depth > 0);
                current.clear();
            }
            Event::Text(text) | Event::Code(text) if hidden == 0 => current.push_str(&text),
            Event::SoftBreak | Event::HardBreak => current.push(' '),
            _ => {}
        }
    }
    builder.block(collapse_whitespace(&current), item_depth > 0);

    let title = front.title.or(first_h1).unwrap_or_else(|| stem.to_owned());
    Document { title, url: front.url, sections: builder.finish(), faq: Vec::new() }
}

/// Reads a leading `---` ... `---` block; returns it and where the Markdown
/// body starts. A bad line or value is noted and left out; an unclosed block
/// is noted and the whole file read as Markdown.
fn split_front_matter(text: &str, notes: &mut Notes<'_>) -> (FrontMatter, usize) {
    let mut lines = text.split_inclusive('\n');
    let Some(first) = lines.next() else {
        return (FrontMatter::default(), 0);
    };
    if first.trim_end() != "---" {
        return (FrontMatter::default(), 0);
    }
    let mut front = FrontMatter::default();
    let mut offset = first.len();
    let mut problems = Vec::new();
    for (index, line) in lines.enumerate() {
        let number = Some(index + 2);
        offset += line.len();
        let line = line.trim();
        if line == "---" {
            for (line, message) in problems {
                notes.warn(line, message);
            }
            return (front, offset);
        }
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            problems.push((number, "front matter lines must read `key: value`; line ignored".to_owned()));
            continue;
        };
        let (key, value) = (key.trim(), unquote(value.trim()));
        match key {
            "title" | "url" if value.is_empty() => {
                problems.push((number, format!("front matter `{key}` is empty; ignored")));
            }
            "title" => front.title = Some(collapse_whitespace(value)),
            "url" => match check_url(value) {
                Ok(url) => front.url = Some(url),
                Err(reason) => problems.push((number, format!("{reason}; left out"))),
            },
            other => problems
                .push((number, format!("unknown front matter key `{other}` (expected `title` or `url`); ignored"))),
        }
    }
    notes.warn(Some(1), "front matter starts with `---` but has no closing `---` line; read as Markdown");
    (FrontMatter::default(), 0)
}

/// `value` without one pair of surrounding `"` or `'` quotes.
fn unquote(value: &str) -> &str {
    for quote in ['"', '\''] {
        if let Some(inner) = value.strip_prefix(quote).and_then(|rest| rest.strip_suffix(quote)) {
            return inner;
        }
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::assert_document;
    use crate::report::Warning;

    /// Reads `text` as `docs/guide.md` and compares title, url, each
    /// section as `(anchor, heading, paragraphs)`, and the warnings.
    fn check(
        text: &str,
        title: &str,
        url: Option<&str>,
        sections: &[(Option<&str>, Option<&str>, &[&str])],
        warnings: &[&str],
    ) {
        let mut found = Vec::new();
        let doc = read("guide", text, &mut Notes::new("docs/guide.md", &mut found));
        assert_document(&doc, title, url, sections);
        let found: Vec<_> = found.iter().map(Warning::to_string).collect();
        assert_eq!(found, warnings);
    }

    #[test]
    fn sections_split_at_headings_with_github_anchors() {
        check(
            "Before any heading.\n\n# Bike Care\n\nKeep it *clean*.\n\n## Chain & gears\n\nLube every 300 km.\nWipe it.\n\n```sh\nsecret code\n```\n\n## Chain & gears\n\n- one `tool`\n- two\n\n| a | b |\n|---|---|\n| 1 | 2 |\n",
            "Bike Care",
            None,
            &[
                (None, None, &["Before any heading."]),
                (Some("bike-care"), Some("Bike Care"), &["Keep it clean."]),
                (Some("chain--gears"), Some("Chain & gears"), &["Lube every 300 km. Wipe it."]),
                (Some("chain--gears-1"), Some("Chain & gears"), &["one tool", "two", "a | b", "1 | 2"]),
            ],
            &[],
        );
    }

    #[test]
    fn front_matter_sets_title_and_url() {
        check(
            "---\ntitle: \"Shipping guide\"\nurl: http://localhost:8081/support.html\n---\n# Shipping\n\nFast.\n",
            "Shipping guide",
            Some("http://localhost:8081/support.html"),
            &[(None, None, &[]), (Some("shipping"), Some("Shipping"), &["Fast."])],
            &[],
        );
        check("No headings here.", "guide", None, &[(None, None, &["No headings here."])], &[]);
        check("", "guide", None, &[(None, None, &[])], &[]);
    }

    #[test]
    fn bad_front_matter_values_are_warnings() {
        check(
            "---\ntitle: A\nauthor: me\nurl: javascript:alert(1)\njust words\ntitle: ''\n---\nText.\n",
            "A",
            None,
            &[(None, None, &["Text."])],
            &[
                "docs/guide.md:3: unknown front matter key `author` (expected `title` or `url`); ignored",
                "docs/guide.md:4: url `javascript:alert(1)` must be an absolute http:// or https:// address; left out",
                "docs/guide.md:5: front matter lines must read `key: value`; line ignored",
                "docs/guide.md:6: front matter `title` is empty; ignored",
            ],
        );
        check(
            "---\ntitle: A\n",
            "guide",
            None,
            &[(None, None, &["title: A"])],
            &["docs/guide.md:1: front matter starts with `---` but has no closing `---` line; read as Markdown"],
        );
    }

    #[test]
    fn heading_lines_and_levels_are_kept() {
        let mut found = Vec::new();
        let doc = read(
            "guide",
            "---\ntitle: T\n---\n# One\n\n## Two\n\ntext\n\n### Three\n",
            &mut Notes::new("g.md", &mut found),
        );
        let got: Vec<_> = doc.sections.iter().map(|s| (s.level, s.line)).collect();
        assert_eq!(got, [(0, None), (1, Some(4)), (2, Some(6)), (3, Some(10))]);
    }
}
