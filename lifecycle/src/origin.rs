//! Website origins: parsing, normalizing and matching them against a bot's allowlist.
//!
//! An origin is `scheme://host[:port]`, as browsers send it in the `Origin`
//! header. Allowlist entries are normalized the same way (lowercase, default
//! port dropped, a trailing `/` tolerated), so `https://Shop.Example:443/`
//! and `https://shop.example` are the same entry. A `*.` before the host
//! allows every subdomain of it, never the bare domain itself.

use std::fmt;

/// A normalized `scheme://host[:port]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    scheme: Scheme,
    host: String,
    /// `None` when it is the scheme's default port.
    port: Option<u16>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scheme {
    Http,
    Https,
}

impl Origin {
    /// Parses an `Origin` header value or an allowlist entry without wildcard.
    pub fn parse(text: &str) -> Result<Origin, String> {
        match OriginPattern::parse(text)? {
            OriginPattern::Exact(origin) => Ok(origin),
            OriginPattern::Subdomains(_) => Err(format!("`{text}` is a wildcard, not an origin")),
        }
    }

    /// The host and port as a `Host` header would carry them.
    pub fn authority(&self) -> String {
        match self.port {
            Some(port) => format!("{}:{port}", self.host),
            None => self.host.clone(),
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = match self.scheme {
            Scheme::Http => "http",
            Scheme::Https => "https",
        };
        write!(f, "{scheme}://{}", self.authority())
    }
}

/// One allowlist entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OriginPattern {
    Exact(Origin),
    /// `scheme://*.host[:port]`: any subdomain of `host`.
    Subdomains(Origin),
}

impl OriginPattern {
    /// Parses and normalizes an allowlist entry; the error says what is wrong with it.
    pub fn parse(text: &str) -> Result<OriginPattern, String> {
        let (scheme, rest) = if let Some(rest) = strip_prefix_ignore_case(text, "https://") {
            (Scheme::Https, rest)
        } else if let Some(rest) = strip_prefix_ignore_case(text, "http://") {
            (Scheme::Http, rest)
        } else {
            return Err(format!("`{text}` must start with http:// or https://"));
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains(['/', '?', '#', '@']) {
            return Err(format!("`{text}` must be only scheme://host[:port], without path, query or user"));
        }
        let (host, port) = split_port(rest).ok_or_else(|| format!("`{text}` has an invalid port"))?;
        let host = host.to_ascii_lowercase();
        let (wildcard, host) = match host.strip_prefix("*.") {
            Some(host) => (true, host.to_owned()),
            None => (false, host),
        };
        if !is_valid_host(&host) {
            return Err(format!("`{text}` has an invalid host"));
        }
        let default_port = match scheme {
            Scheme::Http => 80,
            Scheme::Https => 443,
        };
        let origin = Origin { scheme, host, port: port.filter(|&port| port != default_port) };
        Ok(if wildcard { OriginPattern::Subdomains(origin) } else { OriginPattern::Exact(origin) })
    }

    /// Whether a request from `origin` is allowed by this entry.
    pub fn matches(&self, origin: &Origin) -> bool {
        match self {
            OriginPattern::Exact(allowed) => allowed == origin,
            OriginPattern::Subdomains(parent) => {
                parent.scheme == origin.scheme
                    && parent.port == origin.port
                    && origin
                        .host
                        .strip_suffix(parent.host.as_str())
                        .is_some_and(|sub| sub.len() > 1 && sub.ends_with('.'))
            }
        }
    }
}

impl fmt::Display for OriginPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OriginPattern::Exact(origin) => write!(f, "{origin}"),
            OriginPattern::Subdomains(origin) => {
                let text = origin.to_string();
                let (scheme, authority) = text.split_once("://").unwrap_or(("", &text));
                write!(f, "{scheme}://*.{authority}")
            }
        }
    }
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| &text[prefix.len()..])
}

/// Splits `host[:port]`, keeping bracketed IPv6 hosts whole. `None` for a bad port.
fn split_port(authority: &str) -> Option<(&str, Option<u16>)> {
    let port_start = match authority.rfind(':') {
        Some(i) if !authority[i..].contains(']') => i,
        _ => return Some((authority, None)),
    };
    let port = authority[port_start + 1..].parse::<u16>().ok()?;
    Some((&authority[..port_start], Some(port)))
}

fn is_valid_host(host: &str) -> bool {
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return !inner.is_empty() && inner.chars().all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.');
    }
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_parse(entry: &str, expect: Result<&str, &str>) {
        let got = OriginPattern::parse(entry).map(|pattern| pattern.to_string());
        match (got, expect) {
            (Ok(got), Ok(want)) => assert_eq!(got, want, "entry {entry}"),
            (Err(got), Err(want)) => assert!(got.contains(want), "entry {entry}: error {got:?} lacks {want:?}"),
            (got, want) => panic!("entry {entry}: got {got:?}, want {want:?}"),
        }
    }

    #[test]
    fn allowlist_entries_are_normalized_or_rejected() {
        check_parse("https://Shop.Example", Ok("https://shop.example"));
        check_parse("https://shop.example:443/", Ok("https://shop.example"));
        check_parse("http://localhost:8081", Ok("http://localhost:8081"));
        check_parse("HTTP://127.0.0.1:80", Ok("http://127.0.0.1"));
        check_parse("https://*.example.com", Ok("https://*.example.com"));
        check_parse("http://[::1]:8081", Ok("http://[::1]:8081"));
        check_parse("shop.example", Err("must start with http:// or https://"));
        check_parse("ftp://shop.example", Err("must start with http:// or https://"));
        check_parse("https://shop.example/path", Err("without path"));
        check_parse("https://user@shop.example", Err("without path, query or user"));
        check_parse("https://shop.example:99999", Err("invalid port"));
        check_parse("https://", Err("invalid host"));
        check_parse("https://bad_host.example", Err("invalid host"));
        check_parse("https://*", Err("invalid host"));
    }

    fn check_match(entry: &str, origin: &str, expect: bool) {
        let pattern = OriginPattern::parse(entry).unwrap();
        let origin = Origin::parse(origin).unwrap();
        assert_eq!(pattern.matches(&origin), expect, "{entry} vs {origin}");
    }

    #[test]
    fn origins_match_exactly_or_by_subdomain() {
        check_match("https://shop.example", "https://shop.example", true);
        check_match("https://shop.example", "https://SHOP.example:443", true);
        check_match("https://shop.example", "http://shop.example", false);
        check_match("https://shop.example", "https://shop.example:8443", false);
        check_match("https://shop.example", "https://evil-shop.example", false);
        check_match("https://*.example.com", "https://www.example.com", true);
        check_match("https://*.example.com", "https://a.b.example.com", true);
        check_match("https://*.example.com", "https://example.com", false);
        check_match("https://*.example.com", "https://evilexample.com", false);
        check_match("https://*.example.com", "http://www.example.com", false);
        check_match("http://localhost:8081", "http://127.0.0.1:8081", false);
    }

    #[test]
    fn origin_headers_with_wildcards_or_paths_are_rejected() {
        assert!(Origin::parse("https://*.example.com").is_err());
        assert!(Origin::parse("null").is_err());
        assert_eq!(Origin::parse("http://localhost:8081").unwrap().authority(), "localhost:8081");
    }
}
