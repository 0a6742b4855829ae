//! Reads an HTML knowledge file with html5ever's tokenizer (no tree builder):
//! title, canonical URL and sections split at `h1`–`h6`.
//!
//! Reading happens in two steps. The tokenizer sink keeps a stack of open
//! elements (enough to know what a piece of text is inside) and records the
//! page's content as a flat list of [`Item`]s, headings and paragraph-like
//! blocks, each marked with whether it was inside `<main>` and inside a
//! `<form>`. Then [`read`] picks the items worth indexing (the main content
//! when the page marks it) and builds the sections. Recognising FAQ
//! structures (`<details>`, `<dl>`, schema.org `FAQPage`) belongs in that
//! second step, over the same items.

use std::cell::RefCell;

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{BufferQueue, Tag, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts};

use crate::document::{Document, SectionBuilder};
use crate::faq;
use crate::report::Notes;
use crate::util::{check_url, collapse_whitespace};

/// Elements whose content never reaches the index: code, media, forms'
/// controls and the page chrome around the content.
const DROPPED: &[&str] = &[
    "script", "style", "noscript", "template", "svg", "math", "iframe", "object", "canvas", "nav", "aside", "footer",
    "button", "select", "textarea", "dialog",
];

/// ARIA roles of page chrome, dropped like the elements above.
const DROPPED_ROLES: &[&str] = &["navigation", "banner", "contentinfo", "complementary", "search"];

/// Elements that hold the text of a page's own article: a `<header>` inside
/// one of them is the article's header (kept), elsewhere the site's (dropped).
const SECTIONING: &[&str] = &["main", "article", "section"];

/// Elements that have no content and no end tag.
const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr", "param",
    "keygen",
];

/// Link texts that only mark a heading's permalink (`<a href="#x">¶</a>`).
const PERMALINK_MARKS: &[&str] = &["", "¶", "#", "🔗", "§", "∞", "⚓", "⚓\u{fe0f}", "🔗\u{fe0f}"];

/// Consecutive paragraphs that are each one link, from this many on, are a link list (a table
/// of contents, "related pages"): navigation, not an answer, so they are left out.
const LINK_LIST_MIN_ENTRIES: usize = 3;

/// Deepest element nesting tracked; deeper elements are read as their parent.
const MAX_OPEN_ELEMENTS: usize = 512;

/// Elements that end the paragraph before and after them.
const BLOCKS: &[&str] = &[
    "p",
    "li",
    "div",
    "br",
    "tr",
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
    "header",
    "label",
    "fieldset",
];

/// Parses `text`, the content of an HTML file whose name without extension
/// is `stem`. A bad canonical link is noted and left out: HTML never fails
/// to read.
pub(crate) fn read(stem: &str, text: &str, notes: &mut Notes<'_>) -> Document {
    let input = BufferQueue::default();
    input.push_back(StrTendril::from_slice(text));
    let tokenizer = Tokenizer::new(Extractor::default(), TokenizerOpts::default());
    // The sink never asks to pause for a script, so one feed reads everything.
    let _ = tokenizer.feed(&input);
    tokenizer.end();
    let mut state = tokenizer.sink.state.into_inner();
    state.flush();

    let url = state.canonical.and_then(|(href, line)| match check_url(&href) {
        Ok(url) => Some(url),
        Err(reason) => {
            notes.warn(Some(line), format!("canonical link: {reason}; left out"));
            None
        }
    });
    let items = content(state.items);
    let (items, faq) = faq::extract(items, &state.json_ld);
    let mut builder = SectionBuilder::new();
    let mut first_h1 = None;
    for item in items {
        match item {
            Item::Heading { level, id, text, line, .. } => {
                if level == 1 && first_h1.is_none() {
                    first_h1 = Some(text.clone());
                }
                builder.heading(text, id, level, Some(line));
            }
            Item::Block { text, list_item, .. } => builder.block(text, list_item),
        }
    }
    let title = collapse_whitespace(&state.title);
    let title = if title.is_empty() { first_h1.unwrap_or_else(|| stem.to_owned()) } else { title };
    Document { title, url, sections: builder.finish(), faq }
}

/// One piece of a page's content, in document order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Item {
    Heading {
        level: u8,
        id: Option<String>,
        text: String,
        line: usize,
        faq: FaqContext,
    },
    /// A paragraph-like run of text, whitespace collapsed, never empty.
    Block {
        text: String,
        list_item: bool,
        /// Its text is all link text.
        link_only: bool,
        /// Its text is all bold (`<strong>`, `<b>`).
        bold_only: bool,
        /// The FAQ structures the block is inside.
        faq: FaqContext,
        /// An `id` or `<a name>` just before or on the block.
        anchor: Option<String>,
        line: usize,
    },
}

/// Where a piece of text sits in the FAQ structures a page may use.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct FaqContext {
    /// The `<details>` around it (numbered in the page).
    pub(crate) details: Option<u32>,
    pub(crate) summary: bool,
    /// The `<dl>` around it.
    pub(crate) dl: Option<u32>,
    pub(crate) dt: bool,
    pub(crate) dd: bool,
    /// The schema.org `Question` (microdata) around it.
    pub(crate) question: Option<u32>,
    /// Inside its `itemprop="name"`.
    pub(crate) question_name: bool,
    /// Inside its answer's `itemprop="text"`.
    pub(crate) answer_text: bool,
    pub(crate) bold: bool,
}

/// An [`Item`] and where it was.
#[derive(Debug)]
struct Placed {
    item: Item,
    in_main: bool,
    in_form: bool,
}

/// The items worth indexing: those in `<main>` (or `[role=main]`) when the
/// page has such content, and of those the ones outside forms, unless forms
/// hold everything (pages that wrap their whole body in a `<form>`).
fn content(items: Vec<Placed>) -> Vec<Item> {
    let has_main = items.iter().any(|placed| placed.in_main);
    let chosen: Vec<Placed> = items.into_iter().filter(|placed| placed.in_main || !has_main).collect();
    let outside_forms = chosen.iter().any(|placed| !placed.in_form);
    let chosen: Vec<Item> =
        chosen.into_iter().filter(|placed| !placed.in_form || !outside_forms).map(|placed| placed.item).collect();
    without_link_lists(chosen)
}

/// `items` less every run of at least [`LINK_LIST_MIN_ENTRIES`] link-only paragraphs.
fn without_link_lists(items: Vec<Item>) -> Vec<Item> {
    let is_link = |item: &Item| matches!(item, Item::Block { link_only: true, .. });
    let mut kept = Vec::with_capacity(items.len());
    let mut run = Vec::new();
    for item in items {
        if is_link(&item) {
            run.push(item);
            continue;
        }
        if run.len() < LINK_LIST_MIN_ENTRIES {
            kept.append(&mut run);
        }
        run.clear();
        kept.push(item);
    }
    if run.len() < LINK_LIST_MIN_ENTRIES {
        kept.append(&mut run);
    }
    kept
}

/// The token sink: html5ever hands tokens over through `&self`.
#[derive(Default)]
struct Extractor {
    state: RefCell<State>,
}

/// An open element and what it means for the text inside it.
#[derive(Debug)]
struct Open {
    name: String,
    context: Context,
}

/// What the text inside an element is part of.
#[derive(Debug, Clone, Copy, Default)]
struct Context {
    dropped: bool,
    in_main: bool,
    in_form: bool,
    in_sectioning: bool,
    faq: FaqContext,
}

/// The heading being read.
#[derive(Debug)]
struct Heading {
    level: u8,
    id: Option<String>,
    text: String,
    line: usize,
    faq: FaqContext,
}

/// A link being read: where its text starts in the buffer it goes to, and
/// what it may tell about the heading it is in.
#[derive(Debug)]
struct Link {
    start: usize,
    /// `href` is absent or a fragment (`#x`): a permalink candidate.
    local: bool,
    /// The fragment of `href`, without `#`.
    fragment: Option<String>,
    /// `id` or `name` of the link.
    name: Option<String>,
}

/// What the extractor has seen so far.
#[derive(Debug, Default)]
struct State {
    open: Vec<Open>,
    items: Vec<Placed>,
    in_title: bool,
    title: String,
    heading: Option<Heading>,
    link: Option<Link>,
    /// First `<link rel="canonical">` target and its line.
    canonical: Option<(String, usize)>,
    /// Text of the paragraph being read.
    current: String,
    /// Characters other than whitespace inside links in [`State::current`].
    current_link_chars: usize,
    /// Characters other than whitespace in bold in [`State::current`].
    current_bold_chars: usize,
    /// Where the first text of [`State::current`] was, and its line.
    current_start: Option<(FaqContext, usize)>,
    current_anchor: Option<String>,
    /// The last `id` or `<a name>` of an FAQ-shaped element not yet given to a block.
    pending_anchor: Option<String>,
    /// Numbers the page's `<details>`, `<dl>` and microdata questions.
    groups: u32,
    /// The text of the `<script type="application/ld+json">` being read.
    json_ld_open: Option<String>,
    /// Every JSON-LD script of the page.
    json_ld: Vec<String>,
    line: usize,
    in_item: bool,
}

impl TokenSink for Extractor {
    type Handle = ();

    fn process_token(&self, token: Token, line_number: u64) -> TokenSinkResult<()> {
        let mut state = self.state.borrow_mut();
        state.line = usize::try_from(line_number).unwrap_or(usize::MAX);
        match token {
            Token::TagToken(tag) => {
                let raw = raw_kind(&tag);
                let line = state.line;
                state.tag(&tag, line);
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

/// A non-empty, trimmed attribute value.
fn nonempty_attribute(tag: &Tag, name: &str) -> Option<String> {
    attribute(tag, name).map(str::trim).filter(|value| !value.is_empty()).map(str::to_owned)
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
    /// The innermost open element's context (the page's when none is open).
    fn context(&self) -> Context {
        self.open.last().map(|open| open.context).unwrap_or_default()
    }

    fn dropped(&self) -> bool {
        self.context().dropped
    }

    /// Opens or closes elements on the stack.
    fn track(&mut self, tag: &Tag) {
        let name: &str = &tag.name;
        if tag.kind == TagKind::EndTag {
            if let Some(at) = self.open.iter().rposition(|open| open.name == name) {
                self.open.truncate(at);
            }
            return;
        }
        let raw_text = matches!(name, "script" | "style" | "noscript" | "textarea" | "title");
        if VOID.contains(&name) || (tag.self_closing && !raw_text) || self.open.len() >= MAX_OPEN_ELEMENTS {
            return;
        }
        let parent = self.context();
        let role = attribute(tag, "role").map(str::trim).unwrap_or_default().to_ascii_lowercase();
        let hidden = attribute(tag, "hidden").is_some()
            || attribute(tag, "aria-hidden").is_some_and(|value| value.trim().eq_ignore_ascii_case("true"));
        let site_header = name == "header" && !parent.in_sectioning;
        let dropped = parent.dropped
            || DROPPED.contains(&name)
            || DROPPED_ROLES.contains(&role.as_str())
            || hidden
            || site_header;
        let faq = self.faq_context(parent.faq, tag);
        let context = Context {
            dropped,
            in_main: parent.in_main || name == "main" || role == "main",
            in_form: parent.in_form || name == "form",
            in_sectioning: parent.in_sectioning || SECTIONING.contains(&name) || role == "main",
            faq,
        };
        self.open.push(Open { name: name.to_owned(), context });
    }

    fn tag(&mut self, tag: &Tag, line: usize) {
        let name: &str = &tag.name;
        let start = tag.kind == TagKind::StartTag;
        // `<title>` and `<link>` live in `<head>`, outside any content.
        match name {
            "title" => self.in_title = start && self.heading.is_none(),
            "script" if start => {
                let is_json_ld =
                    attribute(tag, "type").is_some_and(|kind| kind.trim().eq_ignore_ascii_case("application/ld+json"));
                if is_json_ld {
                    self.json_ld_open = Some(String::new());
                }
            }
            "script" => self.json_ld.extend(self.json_ld_open.take()),
            "link" if start => {
                let canonical = attribute(tag, "rel")
                    .is_some_and(|rel| rel.split_ascii_whitespace().any(|word| word.eq_ignore_ascii_case("canonical")));
                if canonical && self.canonical.is_none() {
                    let href = attribute(tag, "href").unwrap_or_default();
                    self.canonical = Some((href.to_owned(), line));
                }
            }
            _ => {}
        }
        let was_dropped = self.dropped();
        if start {
            // A dropped element ends the paragraph before it.
            self.track(tag);
            if self.dropped() {
                if !was_dropped {
                    self.flush();
                }
                return;
            }
        } else {
            if was_dropped {
                self.track(tag);
                return;
            }
            self.track(tag);
        }
        match name {
            "td" | "th" if start => {
                if !self.current.trim().is_empty() {
                    self.current.push_str(" | ");
                }
                return;
            }
            "a" => {
                if start {
                    self.open_link(tag);
                } else {
                    self.close_link();
                }
                return;
            }
            _ => {}
        }
        if let Some(level) = heading_level(name) {
            if start && self.heading.is_none() {
                self.flush();
                let id = nonempty_attribute(tag, "id");
                let faq = self.context().faq;
                self.heading = Some(Heading { level, id, text: String::new(), line, faq });
            } else if !start && let Some(heading) = self.heading.take() {
                self.link = None;
                let text = strip_marks(&collapse_whitespace(&heading.text));
                if !text.is_empty() {
                    let Heading { level, id, line, faq, .. } = heading;
                    self.place(Item::Heading { level, id, text, line, faq });
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

    fn open_link(&mut self, tag: &Tag) {
        let href = attribute(tag, "href").map(str::trim);
        let fragment = href.and_then(|href| href.strip_prefix('#')).filter(|f| !f.is_empty()).map(str::to_owned);
        let start = match &self.heading {
            Some(heading) => heading.text.len(),
            None => self.current.len(),
        };
        self.link = Some(Link {
            start,
            local: href.is_none_or(|href| href.starts_with('#')),
            fragment,
            name: nonempty_attribute(tag, "id").or_else(|| nonempty_attribute(tag, "name")),
        });
    }

    /// Drops a permalink mark's text; in a heading without an `id`, the
    /// link's name or permalink target becomes the heading's anchor.
    fn close_link(&mut self) {
        let Some(link) = self.link.take() else {
            return;
        };
        let buffer = match &mut self.heading {
            Some(heading) => &mut heading.text,
            None => &mut self.current,
        };
        let start = link.start.min(buffer.len());
        let is_mark = link.local && PERMALINK_MARKS.contains(&buffer[start..].trim());
        if is_mark {
            buffer.truncate(start);
        } else if self.heading.is_none() {
            self.current_link_chars += visible_chars(&self.current[start..]);
        }
        if let Some(heading) = &mut self.heading
            && heading.id.is_none()
        {
            heading.id = link.name.or(if is_mark { link.fragment } else { None });
        }
    }

    fn text(&mut self, text: &str) {
        if let Some(json) = &mut self.json_ld_open {
            json.push_str(text);
            return;
        }
        if self.dropped() {
            return;
        }
        if let Some(heading) = &mut self.heading {
            heading.text.push_str(text);
        } else if self.in_title {
            self.title.push_str(text);
        } else {
            let context = self.context();
            if self.current_start.is_none() && !text.trim().is_empty() {
                self.current_start = Some((context.faq, self.line));
                self.current_anchor = self.pending_anchor.take();
            }
            if context.faq.bold {
                self.current_bold_chars += visible_chars(text);
            }
            self.current.push_str(text);
        }
    }

    /// The FAQ context inside `tag`, whose parent's is `parent`; notes the anchor it carries.
    fn faq_context(&mut self, parent: FaqContext, tag: &Tag) -> FaqContext {
        let name: &str = &tag.name;
        let mut faq = parent;
        let mut anchored = false;
        match name {
            "details" => {
                faq.details = Some(self.next_group());
                faq.summary = false;
                anchored = true;
            }
            "summary" if faq.details.is_some() => {
                faq.summary = true;
                anchored = true;
            }
            "dl" => {
                faq.dl = Some(self.next_group());
                (faq.dt, faq.dd) = (false, false);
            }
            "dt" => {
                (faq.dt, faq.dd) = (true, false);
                anchored = true;
            }
            "dd" => (faq.dt, faq.dd) = (false, true),
            "strong" | "b" => faq.bold = true,
            "p" | "a" => anchored = true,
            _ => {}
        }
        if attribute(tag, "itemtype")
            .is_some_and(|kind| kind.trim().trim_end_matches('/').ends_with("schema.org/Question"))
        {
            faq.question = Some(self.next_group());
            (faq.question_name, faq.answer_text) = (false, false);
            anchored = true;
        }
        if faq.question.is_some() {
            match attribute(tag, "itemprop").map(str::trim) {
                Some("name") if !faq.answer_text => faq.question_name = true,
                Some("text") => faq.answer_text = true,
                _ => {}
            }
        }
        if anchored {
            let anchor = nonempty_attribute(tag, "id")
                .or_else(|| (name == "a").then(|| nonempty_attribute(tag, "name")).flatten());
            if anchor.is_some() {
                self.pending_anchor = anchor;
            }
        }
        faq
    }

    fn next_group(&mut self) -> u32 {
        self.groups += 1;
        self.groups
    }

    /// Records `item` with where it is.
    fn place(&mut self, item: Item) {
        let context = self.context();
        self.items.push(Placed { item, in_main: context.in_main, in_form: context.in_form });
    }

    /// Ends the paragraph being read.
    fn flush(&mut self) {
        self.link = None;
        let link_chars = std::mem::take(&mut self.current_link_chars);
        let bold_chars = std::mem::take(&mut self.current_bold_chars);
        let start = self.current_start.take();
        let anchor = self.current_anchor.take();
        let text = collapse_whitespace(&std::mem::take(&mut self.current));
        if !text.is_empty() {
            let list_item = self.in_item;
            let visible = visible_chars(&text);
            let (faq, line) = start.unwrap_or((FaqContext::default(), self.line));
            let link_only = link_chars >= visible;
            let bold_only = bold_chars >= visible;
            self.place(Item::Block { text, list_item, link_only, bold_only, faq, anchor, line });
        }
    }
}

/// How many characters of `text` are not whitespace.
fn visible_chars(text: &str) -> usize {
    text.chars().filter(|c| !c.is_whitespace()).count()
}

/// `text` without permalink marks standing as words at either end
/// (`Install ¶`); a `#` is kept, as in `C#`.
fn strip_marks(text: &str) -> String {
    let is_mark = |word: &str| word != "#" && !word.is_empty() && PERMALINK_MARKS.contains(&word);
    let words: Vec<&str> = text.split(' ').collect();
    let start = words.iter().position(|word| !is_mark(word)).unwrap_or(words.len());
    let end = words.iter().rposition(|word| !is_mark(word)).map_or(start, |end| end + 1);
    words[start..end.max(start)].join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::assert_document;
    use crate::report::Warning;

    /// Reads `html` as `pages/warranty.html` and compares title, url, each
    /// section as `(anchor, heading, paragraphs)`, and the warnings.
    fn check(
        html: &str,
        title: &str,
        url: Option<&str>,
        sections: &[(Option<&str>, Option<&str>, &[&str])],
        warnings: &[&str],
    ) {
        let mut found = Vec::new();
        let doc = read("warranty", html, &mut Notes::new("pages/warranty.html", &mut found));
        assert_document(&doc, title, url, sections);
        let found: Vec<_> = found.iter().map(Warning::to_string).collect();
        assert_eq!(found, warnings);
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
            &[],
        );
    }

    #[test]
    fn link_lists_are_left_out_but_links_in_text_stay() {
        let toc = "<dl><dt><a href=\"#a\">1. Install</a></dt><dt><a href=\"#b\">2. Upgrade</a></dt>\
                   <dt><a href=\"#c\">3. Remove</a></dt></dl>";
        let two = "<ul><li><a href=\"/x\">Shipping</a></li><li><a href=\"/y\">Returns</a></li></ul>";
        check(
            &format!("<title>T</title>{toc}<p>See <a href=\"/z\">the guide</a> first.</p>{two}"),
            "T",
            None,
            &[(None, None, &["See the guide first.", "Shipping", "Returns"])],
            &[],
        );
    }

    #[test]
    fn title_falls_back_to_h1_then_stem() {
        check(
            "<h1>Big <em>heading</em></h1><p>a<br>b</p>",
            "Big heading",
            None,
            &[(None, None, &[]), (Some("big-heading"), Some("Big heading"), &["a", "b"])],
            &[],
        );
        check("plain words", "warranty", None, &[(None, None, &["plain words"])], &[]);
        check("", "warranty", None, &[(None, None, &[])], &[]);
    }

    #[test]
    fn bad_canonical_url_is_a_warning_with_line() {
        check(
            "<html>\n<head>\n<link rel=\"canonical\" href=\"file:///home/me/site/x.html\">\n</head><p>Text</p></html>",
            "warranty",
            None,
            &[(None, None, &["Text"])],
            &[
                "pages/warranty.html:3: canonical link: url `file:///home/me/site/x.html` must be an absolute http:// or https:// address; left out",
            ],
        );
    }

    #[test]
    fn main_content_is_preferred() {
        let page = "<body><div class=menu><p>Menu text</p></div>\
            <div role=\"main\"><h1>Docs</h1><div><p>Kept</p></div><aside><p>Related</p></aside></div>\
            <p>Trailing site text</p></body>";
        check(page, "Docs", None, &[(None, None, &[]), (Some("docs"), Some("Docs"), &["Kept"])], &[]);
        let page = "<header><h1>Site</h1></header><main><article><header><h1>Article</h1></header>\
            <p>Body</p><footer>Share</footer></article></main><footer>Copyright</footer>";
        check(page, "Article", None, &[(None, None, &[]), (Some("article"), Some("Article"), &["Body"])], &[]);
        // Without <main>, everything but the chrome is read.
        check(
            "<nav>Home</nav><p>One</p><div role=navigation>Menu</div><p hidden>Secret</p><p>Two</p>",
            "warranty",
            None,
            &[(None, None, &["One", "Two"])],
            &[],
        );
    }

    #[test]
    fn forms_are_dropped_unless_they_hold_the_page() {
        check(
            "<p>Text</p><form><label>Email</label><input name=e><button>Send</button></form><p>After</p>",
            "warranty",
            None,
            &[(None, None, &["Text", "After"])],
            &[],
        );
        check(
            "<form id=aspnetForm><h2>Returns</h2><p>Within 30 days.</p><button>Go</button></form>",
            "warranty",
            None,
            &[(None, None, &[]), (Some("returns"), Some("Returns"), &["Within 30 days."])],
            &[],
        );
    }

    #[test]
    fn heading_permalink_marks_are_dropped() {
        check(
            "<section id=\"installing\"><h2>Installing<a class=\"headerlink\" href=\"#installing\" title=\"Permalink\">¶</a></h2>\
             <p>Run it.</p></section>\
             <h2 id=\"c\">Using C# <a href=\"#c\">🔗</a></h2><p>Sharp.</p>\
             <h3><a name=\"q5\"></a>What is it?</h3><p>A thing.</p>\
             <h3>Setup ¶</h3><p>Steps.</p>\
             <p>See <a href=\"#installing\">installing</a> and <a href=\"#x\">¶</a>.</p>",
            "warranty",
            None,
            &[
                (None, None, &[]),
                (Some("installing"), Some("Installing"), &["Run it."]),
                (Some("c"), Some("Using C#"), &["Sharp."]),
                (Some("q5"), Some("What is it?"), &["A thing."]),
                (Some("setup"), Some("Setup"), &["Steps.", "See installing and ."]),
            ],
            &[],
        );
    }
}
