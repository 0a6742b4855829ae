//! Small text helpers shared by the knowledge readers: slugs, URLs, whitespace, lines.

use std::collections::HashMap;

/// GitHub-style anchor of a heading: lowercase, spaces become `-`, punctuation
/// other than `-` and `_` is dropped. Never empty: an all-punctuation heading
/// gets `section`.
pub(crate) fn slug(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.trim().chars() {
        if c.is_alphanumeric() || c == '_' || c == '-' {
            out.extend(c.to_lowercase());
        } else if c.is_whitespace() {
            out.push('-');
        }
    }
    if out.is_empty() {
        out.push_str("section");
    }
    out
}

/// How a repeated anchor is told apart from the first one.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Repeat {
    /// `a`, `a-1`, `a-2`, ... (GitHub's heading anchors).
    FromOne,
    /// `a`, `a-2`, `a-3`, ... (Q&A sources).
    FromTwo,
}

/// Hands out unique anchors within one file.
#[derive(Debug)]
pub(crate) struct Anchors {
    seen: HashMap<String, usize>,
    repeat: Repeat,
}

impl Anchors {
    pub(crate) fn new(repeat: Repeat) -> Anchors {
        Anchors { seen: HashMap::new(), repeat }
    }

    /// The slug of `text`, suffixed when it was handed out before.
    pub(crate) fn unique_slug(&mut self, text: &str) -> String {
        self.unique(slug(text))
    }

    /// `anchor` itself the first time, then with a numeric suffix.
    pub(crate) fn unique(&mut self, anchor: String) -> String {
        loop {
            let count = self.seen.entry(anchor.clone()).or_insert(0);
            *count += 1;
            let candidate = match (*count, self.repeat) {
                (1, _) => anchor.clone(),
                (n, Repeat::FromOne) => format!("{anchor}-{}", n - 1),
                (n, Repeat::FromTwo) => format!("{anchor}-{n}"),
            };
            // A suffixed anchor can collide with a heading that literally reads
            // `a-1`; keep counting until the candidate is new.
            if candidate == anchor || !self.seen.contains_key(&candidate) {
                if candidate != anchor {
                    self.seen.insert(candidate.clone(), 1);
                }
                return candidate;
            }
        }
    }
}

/// Checks that `url` is an absolute `http:` or `https:` address and returns it
/// trimmed, or says why it is not.
pub(crate) fn check_url(url: &str) -> std::result::Result<String, String> {
    let url = url.trim();
    let lower = url.to_ascii_lowercase();
    let rest = if let Some(rest) = lower.strip_prefix("https://") {
        rest
    } else if let Some(rest) = lower.strip_prefix("http://") {
        rest
    } else {
        return Err(format!("url `{}` must be an absolute http:// or https:// address", shorten(url, 80)));
    };
    let host_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..host_end];
    let host = authority.rsplit('@').next().unwrap_or_default();
    if host.is_empty() || host.starts_with(':') {
        return Err(format!("url `{}` has no host", shorten(url, 80)));
    }
    if let Some(c) = url.chars().find(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("url `{}` contains the character {c:?}", shorten(url, 80)));
    }
    Ok(url.to_owned())
}

/// `url` pointing at `anchor`: any fragment it had is replaced.
pub(crate) fn with_fragment(url: &str, anchor: &str) -> String {
    let base = url.split_once('#').map_or(url, |(base, _)| base);
    format!("{base}#{anchor}")
}

/// Runs of whitespace become one space; ends are trimmed.
pub(crate) fn collapse_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// At most `max` characters of `text`, with `…` when it was cut.
pub(crate) fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// The 1-based line that byte `offset` of `text` is on.
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end].iter().filter(|&&b| b == b'\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_slug(text: &str, expected: &str) {
        assert_eq!(slug(text), expected, "slug of {text:?}");
    }

    #[test]
    fn slugs_follow_github_style() {
        check_slug("Shipping times", "shipping-times");
        check_slug("  Returns & refunds! ", "returns--refunds");
        check_slug("What's `covered`?", "whats-covered");
        check_slug("Größe (cm)", "größe-cm");
        check_slug("snake_case-and-dash", "snake_case-and-dash");
        check_slug("?!", "section");
    }

    #[test]
    fn repeated_anchors_get_suffixes() {
        let mut github = Anchors::new(Repeat::FromOne);
        let got: Vec<_> = ["Intro", "Intro", "Intro-1", "Intro"].iter().map(|t| github.unique_slug(t)).collect();
        assert_eq!(got, ["intro", "intro-1", "intro-1-1", "intro-2"]);
        let mut qa = Anchors::new(Repeat::FromTwo);
        let got: Vec<_> = ["Why?", "why", "Why!"].iter().map(|t| qa.unique_slug(t)).collect();
        assert_eq!(got, ["why", "why-2", "why-3"]);
    }

    fn check_url_verdict(url: &str, ok: bool) {
        assert_eq!(check_url(url).is_ok(), ok, "verdict on {url:?}");
    }

    #[test]
    fn only_absolute_http_urls_pass() {
        check_url_verdict("http://localhost:8081/support.html", true);
        check_url_verdict("HTTPS://brightwater.example/a?b#c", true);
        check_url_verdict("javascript:alert(1)", false);
        check_url_verdict("/support.html", false);
        check_url_verdict("https://", false);
        check_url_verdict("http://:80/", false);
        check_url_verdict("https://a.example/x y", false);
        check_url_verdict("mailto:help@brightwater.example", false);
    }

    #[test]
    fn fragments_are_replaced() {
        assert_eq!(with_fragment("http://a.example/p", "x"), "http://a.example/p#x");
        assert_eq!(with_fragment("http://a.example/p#old", "new"), "http://a.example/p#new");
    }

    #[test]
    fn lines_and_shortening() {
        assert_eq!(line_of("a\nb\nc", 0), 1);
        assert_eq!(line_of("a\nb\nc", 2), 2);
        assert_eq!(line_of("a\nb\nc", 99), 3);
        assert_eq!(shorten("héllo", 2), "hé…");
        assert_eq!(shorten("hi", 2), "hi");
        assert_eq!(collapse_whitespace("  a \n\t b  "), "a b");
    }
}
