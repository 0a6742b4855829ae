//! What a customer's page holds for Docent: its snippets (where, how loaded, which bot) and its
//! Content-Security-Policy `<meta>` tags, read with html5ever's tokenizer.

use std::cell::RefCell;

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{BufferQueue, Tag, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts};

/// One `<script>` of Docent's widget.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snippet {
    /// `src` as written.
    pub src: String,
    /// The `{version}` of `…/widget/{version}/bundle.js`.
    pub version: String,
    /// `data-bot` as written, spaces included; `None` when missing.
    pub bot: Option<String>,
    pub in_head: bool,
    pub is_async: bool,
    pub integrity: Option<String>,
    pub crossorigin: Option<String>,
    /// The line of the tag.
    pub line: usize,
}

/// What the doctor reads from a page.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Page {
    pub snippets: Vec<Snippet>,
    /// `content` of each `<meta http-equiv="Content-Security-Policy">` in `<head>`.
    pub csp_meta: Vec<String>,
}

/// Elements that stay in `<head>`; any other start tag opens the body, as browsers do.
const HEAD_ELEMENTS: &[&str] =
    &["html", "head", "title", "meta", "link", "style", "script", "noscript", "base", "template"];

/// Reads `html`.
pub fn read(html: &str) -> Page {
    let input = BufferQueue::default();
    input.push_back(StrTendril::from_slice(html));
    let tokenizer = Tokenizer::new(Scanner::default(), TokenizerOpts::default());
    let _ = tokenizer.feed(&input);
    tokenizer.end();
    tokenizer.sink.state.into_inner().page
}

/// The `{version}` when `src` is the widget's `bundle.js` (any host, any query).
pub fn widget_version(src: &str) -> Option<String> {
    let path = src.split(['?', '#']).next()?;
    let rest = path.strip_suffix("/bundle.js")?;
    let (before, version) = rest.rsplit_once('/')?;
    (before.ends_with("/widget") || before == "widget").then(|| version.to_owned()).filter(|v| !v.is_empty())
}

#[derive(Default)]
struct Scanner {
    state: RefCell<State>,
}

#[derive(Default)]
struct State {
    page: Page,
    in_body: bool,
    /// Inside `<title>`, `<script>`, `<style>` or `<noscript>`, whose text is no page text.
    in_raw_text: bool,
}

impl TokenSink for Scanner {
    type Handle = ();

    fn process_token(&self, token: Token, line_number: u64) -> TokenSinkResult<()> {
        let mut state = self.state.borrow_mut();
        match token {
            Token::TagToken(tag) => {
                let line = usize::try_from(line_number).unwrap_or(usize::MAX);
                state.tag(&tag, line);
                if tag.kind == TagKind::StartTag {
                    match &*tag.name {
                        "script" => return TokenSinkResult::RawData(RawKind::ScriptData),
                        "style" | "noscript" => return TokenSinkResult::RawData(RawKind::Rawtext),
                        "title" | "textarea" => return TokenSinkResult::RawData(RawKind::Rcdata),
                        _ => {}
                    }
                }
            }
            Token::CharacterTokens(text) if !state.in_body && !state.in_raw_text && !text.trim().is_empty() => {
                // Text outside any head element starts the body.
                state.in_body = true;
            }
            _ => {}
        }
        TokenSinkResult::Continue
    }
}

impl State {
    fn tag(&mut self, tag: &Tag, line: usize) {
        let name: &str = &tag.name;
        let raw_text = matches!(name, "title" | "script" | "style" | "noscript" | "textarea");
        match tag.kind {
            TagKind::EndTag => {
                if name == "head" {
                    self.in_body = true;
                }
                if raw_text {
                    self.in_raw_text = false;
                }
            }
            TagKind::StartTag => {
                self.in_raw_text = raw_text && !tag.self_closing;
                if !HEAD_ELEMENTS.contains(&name) {
                    self.in_body = true;
                }
                match name {
                    "script" => self.script(tag, line),
                    "meta" if !self.in_body => {
                        let is_csp = attribute(tag, "http-equiv")
                            .is_some_and(|value| value.trim().eq_ignore_ascii_case("content-security-policy"));
                        if is_csp && let Some(content) = attribute(tag, "content") {
                            self.page.csp_meta.push(content.to_owned());
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    fn script(&mut self, tag: &Tag, line: usize) {
        let Some(src) = attribute(tag, "src") else { return };
        let Some(version) = widget_version(src.trim()) else { return };
        self.page.snippets.push(Snippet {
            src: src.trim().to_owned(),
            version,
            bot: attribute(tag, "data-bot").map(str::to_owned),
            in_head: !self.in_body,
            is_async: attribute(tag, "async").is_some(),
            integrity: attribute(tag, "integrity").map(|value| value.trim().to_owned()),
            crossorigin: attribute(tag, "crossorigin").map(|value| value.trim().to_owned()),
            line,
        });
    }
}

fn attribute<'a>(tag: &'a Tag, name: &str) -> Option<&'a str> {
    tag.attrs.iter().find(|attr| &*attr.name.local == name).map(|attr| &*attr.value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_are_found_with_where_and_how_they_load() {
        let page = read(
            "<!doctype html><html><head><title>Shop</title>\n\
             <meta http-equiv=\"Content-Security-Policy\" content=\"script-src 'self'\">\n\
             <script async src=\"https://gw.example/widget/0.1.0/bundle.js\" data-bot=\"acme \" \
             integrity=\"sha384-x\" crossorigin=\"anonymous\"></script>\n\
             <script src=\"/app.js\"></script></head>\n\
             <body><p>Hi</p>\n<script src=\"https://gw.example/widget/latest/bundle.js?v=2\" data-bot=\"help\"></script>\n\
             <meta http-equiv=\"content-security-policy\" content=\"ignored in body\"></body></html>",
        );
        assert_eq!(page.csp_meta, ["script-src 'self'"]);
        let found: Vec<_> = page
            .snippets
            .iter()
            .map(|s| (s.version.as_str(), s.bot.as_deref(), s.in_head, s.is_async, s.line))
            .collect();
        assert_eq!(found, [("0.1.0", Some("acme "), true, true, 3), ("latest", Some("help"), false, false, 6)]);
        assert_eq!(page.snippets[0].integrity.as_deref(), Some("sha384-x"));
        assert_eq!(page.snippets[1].crossorigin, None);
    }

    #[test]
    fn a_head_element_after_body_content_is_in_the_body() {
        let page = read(
            "<title>x</title><div>menu</div><script async src=\"/widget/latest/bundle.js\" data-bot=\"a\"></script>",
        );
        assert!(!page.snippets[0].in_head);
        let page = read("<title>x</title>loose text<script async src=\"/widget/latest/bundle.js\"></script>");
        assert!(!page.snippets[0].in_head, "text outside head elements opens the body");
        assert_eq!(page.snippets[0].bot, None);
    }

    #[test]
    fn only_the_widget_bundle_is_a_snippet() {
        for (src, version) in [
            ("https://gw.example/widget/0.1.0/bundle.js", Some("0.1.0")),
            ("/widget/latest/bundle.js?v=2", Some("latest")),
            ("https://cdn.example/assets/bundle.js", None),
            ("https://gw.example/widget//bundle.js", None),
            ("https://gw.example/widget/0.1.0/other.js", None),
        ] {
            assert_eq!(widget_version(src).as_deref(), version, "{src}");
        }
    }
}
