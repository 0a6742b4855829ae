//! Reads a Markdown knowledge file: optional front matter, then sections split at headings.

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

use crate::document::{Document, SectionBuilder};
use crate::util::{check_url, collapse_whitespace};
use crate::{Error, Result};

/// What the front matter block may set.
#[derive(Debug, Default)]
struct FrontMatter {
    title: Option<String>,
    url: Option<String>,
}

/// Parses `text`, the content of the Markdown file `relpath` whose name
/// without extension is `stem`.
pub(crate) fn read(relpath: &str, stem: &str, text: &str) -> Result<Document> {
    let (front, body) = split_front_matter(relpath, text)?;
    let mut builder = SectionBuilder::new();
    let mut first_h1: Option<String> = None;
    // Text of the paragraph or heading being read.
    let mut current = String::new();
    let mut heading: Option<bool> = None; // Some(is_h1) while inside a heading
    let mut hidden = 0usize; // depth inside code blocks, HTML blocks and images
    let mut item_depth = 0usize;

    for event in Parser::new_ext(body, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH) {
        match event {
            Event::Start(Tag::Heading { level, .. }) => {
                builder.block(collapse_whitespace(&current), item_depth > 0);
                current.clear();
                heading = Some(level == pulldown_cmark::HeadingLevel::H1);
            }
            Event::End(TagEnd::Heading(_)) => {
                let text = collapse_whitespace(&current);
                current.clear();
                if heading.take() == Some(true) && first_h1.is_none() && !text.is_empty() {
                    first_h1 = Some(text.clone());
                }
                if !text.is_empty() {
                    builder.heading(text, None);
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
    Ok(Document { title, url: front.url, sections: builder.finish() })
}

/// Separates a leading `---` ... `---` block from the Markdown body.
fn split_front_matter<'a>(relpath: &str, text: &'a str) -> Result<(FrontMatter, &'a str)> {
    let mut lines = text.split_inclusive('\n');
    let Some(first) = lines.next() else {
        return Ok((FrontMatter::default(), text));
    };
    if first.trim_end() != "---" {
        return Ok((FrontMatter::default(), text));
    }
    let mut front = FrontMatter::default();
    let mut offset = first.len();
    for (index, line) in lines.enumerate() {
        let number = index + 2;
        offset += line.len();
        let line = line.trim();
        if line == "---" {
            return Ok((front, &text[offset..]));
        }
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            return Err(Error::invalid(relpath, Some(number), "front matter lines must read `key: value`"));
        };
        let value = unquote(value.trim());
        if value.is_empty() {
            return Err(Error::invalid(relpath, Some(number), format!("front matter `{}` is empty", key.trim())));
        }
        match key.trim() {
            "title" => front.title = Some(collapse_whitespace(value)),
            "url" => {
                let url = check_url(value).map_err(|reason| Error::invalid(relpath, Some(number), reason))?;
                front.url = Some(url);
            }
            other => {
                return Err(Error::invalid(
                    relpath,
                    Some(number),
                    format!("unknown front matter key `{other}` (expected `title` or `url`)"),
                ));
            }
        }
    }
    Err(Error::invalid(relpath, Some(1), "front matter starts with `---` but has no closing `---` line"))
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

    /// Reads `text` as `docs/guide.md` and compares title, url and each
    /// section as `(anchor, heading, paragraphs)`.
    fn check(text: &str, title: &str, url: Option<&str>, sections: &[(Option<&str>, Option<&str>, &[&str])]) {
        let doc = read("docs/guide.md", "guide", text).unwrap_or_else(|e| panic!("{e}"));
        assert_document(&doc, title, url, sections);
    }

    fn check_error(text: &str, message: &str) {
        match read("docs/guide.md", "guide", text) {
            Ok(doc) => panic!("expected an error, got {doc:?}"),
            Err(e) => assert_eq!(e.to_string(), message),
        }
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
        );
    }

    #[test]
    fn front_matter_sets_title_and_url() {
        check(
            "---\ntitle: \"Shipping guide\"\nurl: http://localhost:8081/support.html\n---\n# Shipping\n\nFast.\n",
            "Shipping guide",
            Some("http://localhost:8081/support.html"),
            &[(None, None, &[]), (Some("shipping"), Some("Shipping"), &["Fast."])],
        );
        check("No headings here.", "guide", None, &[(None, None, &["No headings here."])]);
        check("", "guide", None, &[(None, None, &[])]);
    }

    #[test]
    fn front_matter_errors_name_file_and_line() {
        check_error(
            "---\ntitle: A\nauthor: me\n---\n",
            "cannot read knowledge file docs/guide.md: line 3: unknown front matter key `author` (expected `title` or `url`)",
        );
        check_error(
            "---\nurl: javascript:alert(1)\n---\n",
            "cannot read knowledge file docs/guide.md: line 2: url `javascript:alert(1)` must be an absolute http:// or https:// address",
        );
        check_error(
            "---\ntitle: A\n",
            "cannot read knowledge file docs/guide.md: line 1: front matter starts with `---` but has no closing `---` line",
        );
        check_error(
            "---\njust words\n---\n",
            "cannot read knowledge file docs/guide.md: line 2: front matter lines must read `key: value`",
        );
    }
}
