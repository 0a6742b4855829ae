//! Website origins: parsing, normalizing and matching them against a bot's allowlist.
//!
//! An origin is `scheme://host[:port]`, exactly as browsers serialize it in the
//! `Origin` header: no path, no trailing `/`, no user or query. Entries and headers are
//! normalized the same way (lowercase host, default port dropped, IPv6 compressed), so
//! `https://Shop.Example:443` and `https://shop.example` are the same entry. A `*.`
//! before the host allows every subdomain of it, never the bare domain itself; a wildcard
//! over a public suffix (`*.co.uk`, per the Public Suffix List) or an IP address is refused.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

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
        if rest.contains(['/', '?', '#', '@']) {
            return Err(format!(
                "`{text}` must be only scheme://host[:port], without path, trailing `/`, query or user"
            ));
        }
        let (host, port) = split_port(rest).ok_or_else(|| format!("`{text}` has an invalid port"))?;
        let host = host.to_ascii_lowercase();
        let (wildcard, host) = match host.strip_prefix("*.") {
            Some(host) => (true, host.to_owned()),
            None => (false, host),
        };
        let host = normalize_host(&host).ok_or_else(|| format!("`{text}` has an invalid host"))?;
        if wildcard {
            if host.starts_with('[') || host.parse::<Ipv4Addr>().is_ok() {
                return Err(format!("`{text}` is a wildcard over an IP address; list each origin instead"));
            }
            if is_public_suffix(&host) {
                return Err(format!(
                    "`{text}` is a wildcard over the public suffix `{host}`, which would allow every site under it"
                ));
            }
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

/// Splits `host[:port]`, keeping bracketed IPv6 hosts whole. `None` for a bad port: only
/// 1 to 5 ASCII digits are a port (`:+443` and `:` are not).
fn split_port(authority: &str) -> Option<(&str, Option<u16>)> {
    let port_start = match authority.rfind(':') {
        Some(i) if !authority[i..].contains(']') => i,
        _ => return Some((authority, None)),
    };
    let digits = &authority[port_start + 1..];
    if digits.is_empty() || digits.len() > 5 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let port = digits.parse::<u16>().ok()?;
    Some((&authority[..port_start], Some(port)))
}

/// The host as browsers serialize it (IPv6 compressed in brackets), or `None` if it is not a
/// valid DNS name, dotted IPv4 address or bracketed IPv6 address. A name ending in a numeric
/// label is an IPv4 address to a browser, so it must be one in canonical form.
fn normalize_host(host: &str) -> Option<String> {
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return inner.parse::<Ipv6Addr>().ok().map(|ip| format!("[{ip}]"));
    }
    let is_name = !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    let last_label_is_numeric = host.rsplit('.').next().is_some_and(|label| label.bytes().all(|b| b.is_ascii_digit()));
    if !is_name || (last_label_is_numeric && host.parse::<Ipv4Addr>().ok()?.to_string() != host) {
        return None;
    }
    Some(host.to_owned())
}

/// Whether `host` is itself a public suffix (`com`, `co.uk`, `github.io`), by the Public
/// Suffix List's rules, including its default rule that an unlisted top-level label is one.
fn is_public_suffix(host: &str) -> bool {
    psl::suffix(host.as_bytes()).is_some_and(|suffix| suffix.as_bytes() == host.as_bytes())
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
        check_parse("https://shop.example:443", Ok("https://shop.example"));
        check_parse("http://localhost:8081", Ok("http://localhost:8081"));
        check_parse("HTTP://127.0.0.1:80", Ok("http://127.0.0.1"));
        check_parse("https://*.example.com", Ok("https://*.example.com"));
        check_parse("http://[::1]:8081", Ok("http://[::1]:8081"));
        check_parse("shop.example", Err("must start with http:// or https://"));
        check_parse("ftp://shop.example", Err("must start with http:// or https://"));
        check_parse("https://shop.example/path", Err("without path"));
        check_parse("https://user@shop.example", Err("without path, trailing `/`, query or user"));
        check_parse("https://shop.example:99999", Err("invalid port"));
        check_parse("https://", Err("invalid host"));
        check_parse("https://bad_host.example", Err("invalid host"));
        check_parse("https://*", Err("invalid host"));
        check_parse("http://localhost:8081/", Err("without path, trailing `/`"));
        check_parse("https://shop.example?x=1", Err("without path, trailing `/`, query or user"));
        check_parse("https://shop.example:+443", Err("invalid port"));
        check_parse("https://shop.example:", Err("invalid port"));
        check_parse("http://[::1]:0x50", Err("invalid port"));
        check_parse("http://[0:0::1]", Ok("http://[::1]"));
        check_parse("http://[::1", Err("invalid host"));
        check_parse("http://[nonsense]", Err("invalid host"));
        check_parse("http://0.0.1", Err("invalid host"));
        check_parse("http://shop.123", Err("invalid host"));
        check_parse("http://127.000.0.1", Err("invalid host"));
        check_parse("https://*.com", Err("wildcard over the public suffix `com`"));
        check_parse("https://*.co.uk", Err("wildcard over the public suffix `co.uk`"));
        check_parse("https://*.github.io", Err("wildcard over the public suffix `github.io`"));
        check_parse("https://*.shop.co.uk", Ok("https://*.shop.co.uk"));
        check_parse("http://*.0.0.1", Err("invalid host"));
        check_parse("http://*.10.0.0.1", Err("wildcard over an IP address"));
        check_parse("http://*.[::1]", Err("wildcard over an IP address"));
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
        assert!(Origin::parse("http://localhost:8081/").is_err(), "browsers never send a trailing slash");
        assert_eq!(Origin::parse("http://localhost:8081").unwrap().authority(), "localhost:8081");
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    fn label() -> impl Strategy<Value = String> {
        "[a-z][a-z0-9-]{0,10}[a-z0-9]"
    }

    fn origin() -> impl Strategy<Value = Origin> {
        let host = prop_oneof![
            prop::collection::vec(label(), 1..4).prop_map(|labels| labels.join(".")),
            any::<[u8; 4]>().prop_map(|octets| Ipv4Addr::from(octets).to_string()),
            any::<[u16; 8]>().prop_map(|segments| format!("[{}]", Ipv6Addr::from(segments))),
        ];
        (any::<bool>(), host, prop::option::of(1u16..)).prop_map(|(https, host, port)| {
            let scheme = if https { Scheme::Https } else { Scheme::Http };
            let default = if https { 443 } else { 80 };
            Origin { scheme, host, port: port.filter(|&port| port != default) }
        })
    }

    /// A name that is not itself a public suffix, so a wildcard may sit on it.
    fn registrable_name() -> impl Strategy<Value = String> {
        (label(), prop::sample::select(vec!["com", "co.uk", "example", "org", "github.io"]))
            .prop_map(|(name, suffix)| format!("{name}.{suffix}"))
    }

    proptest! {
        #[test]
        fn a_serialized_origin_parses_back_to_itself(origin in origin()) {
            prop_assert_eq!(Origin::parse(&origin.to_string()), Ok(origin));
        }

        #[test]
        fn matching_ignores_the_case_of_scheme_and_host(origin in origin()) {
            let pattern = OriginPattern::Exact(origin.clone());
            let shouted = Origin::parse(&origin.to_string().to_ascii_uppercase()).unwrap();
            prop_assert!(pattern.matches(&shouted));
        }

        #[test]
        fn a_wildcard_matches_subdomains_but_never_its_base(
            base in registrable_name(),
            sub in label(),
            https in any::<bool>(),
        ) {
            // A generated name may itself be on the list (`de.com` is): those are refused, below.
            prop_assume!(!is_public_suffix(&base));
            let scheme = if https { "https" } else { "http" };
            let pattern = OriginPattern::parse(&format!("{scheme}://*.{base}")).unwrap();
            let subdomain = Origin::parse(&format!("{scheme}://{sub}.{base}")).unwrap();
            let bare = Origin::parse(&format!("{scheme}://{base}")).unwrap();
            let lookalike = Origin::parse(&format!("{scheme}://{sub}{base}")).unwrap();
            prop_assert!(pattern.matches(&subdomain));
            prop_assert!(!pattern.matches(&bare));
            prop_assert!(!pattern.matches(&lookalike));
        }

        #[test]
        fn a_wildcard_over_a_public_suffix_never_loads(
            suffix in prop::sample::select(vec!["com", "co.uk", "github.io", "org", "pvt.k12.ma.us", "localhost"]),
        ) {
            let refused = OriginPattern::parse(&format!("https://*.{suffix}"));
            prop_assert!(refused.is_err_and(|why| why.contains("public suffix")));
        }

        #[test]
        fn anything_after_the_authority_is_refused(origin in origin(), tail in "[/?#][ -~]{0,8}") {
            let text = format!("{origin}{tail}");
            prop_assert!(Origin::parse(&text).is_err());
        }

        #[test]
        fn parsing_arbitrary_text_never_panics(text in "\\PC{0,40}") {
            let _ = OriginPattern::parse(&text);
        }
    }
}
