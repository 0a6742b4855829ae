//! Content-Security-Policy, as far as the widget needs it: does every policy of a page let it
//! load the bundle, compile the wasm, call the gateway, and frame the no-wasm fallback?

/// One policy: its directives, names lowercased, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub directives: Vec<(String, Vec<String>)>,
}

/// What the widget asks of a directive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// `script-src`: the gateway, and `'wasm-unsafe-eval'` to compile the wasm.
    Script,
    /// `connect-src`: the gateway (config, messages, the wasm fetch).
    Connect,
    /// `frame-src`: the gateway, for the iframe fallback when wasm is refused.
    Frame,
}

impl Need {
    pub fn directive(self) -> &'static str {
        match self {
            Need::Script => "script-src",
            Need::Connect => "connect-src",
            Need::Frame => "frame-src",
        }
    }

    /// The directives a browser falls back to, in order, when this one is absent.
    fn fallbacks(self) -> &'static [&'static str] {
        match self {
            Need::Script => &["script-src-elem", "script-src", "default-src"],
            Need::Connect => &["connect-src", "default-src"],
            Need::Frame => &["frame-src", "child-src", "default-src"],
        }
    }
}

/// A directive that blocks the widget, and the sources to add to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blocked {
    pub need: Need,
    /// The directive that governs it (possibly a fallback such as `default-src`).
    pub governing: String,
    pub missing: Vec<String>,
    /// The directive to write: the governing one's sources plus the missing ones, under the
    /// needed directive's own name.
    pub fix: String,
}

/// Parses a header value or `<meta>` content; a header may hold several policies, comma-separated.
pub fn parse(text: &str) -> Vec<Policy> {
    text.split(',')
        .map(|policy| Policy {
            directives: policy
                .split(';')
                .filter_map(|directive| {
                    let mut words = directive.split_ascii_whitespace();
                    let name = words.next()?.to_ascii_lowercase();
                    Some((name, words.map(str::to_owned).collect()))
                })
                .collect(),
        })
        .filter(|policy| !policy.directives.is_empty())
        .collect()
}

impl Policy {
    /// What in this policy blocks `need` for a widget served from `gateway` on a page at
    /// `page` (both origins as `scheme://host[:port]`).
    pub fn check(&self, need: Need, gateway: &str, page: &str) -> Option<Blocked> {
        let (governing, sources) =
            need.fallbacks().iter().find_map(|name| self.directives.iter().find(|(directive, _)| directive == name))?;
        let mut missing = Vec::new();
        if !sources.iter().any(|source| allows(source, gateway, page)) {
            missing.push(gateway.to_owned());
        }
        if need == Need::Script
            && !sources.iter().any(|source| source == "'wasm-unsafe-eval'" || source == "'unsafe-eval'")
        {
            missing.push("'wasm-unsafe-eval'".to_owned());
        }
        if missing.is_empty() {
            return None;
        }
        let kept = sources.iter().filter(|source| *source != "'none'").cloned();
        let fix =
            std::iter::once(need.directive().to_owned()).chain(kept).chain(missing.iter().cloned()).collect::<Vec<_>>();
        Some(Blocked { need, governing: governing.clone(), missing, fix: fix.join(" ") })
    }
}

/// Whether the source expression `source` allows a fetch of `target` from a page at `page`.
fn allows(source: &str, target: &str, page: &str) -> bool {
    let (target_scheme, target_rest) = target.split_once("://").unwrap_or(("", target));
    let (target_host, target_port) = split_port(target_rest, target_scheme);
    match source.to_ascii_lowercase().as_str() {
        "*" => matches!(target_scheme, "http" | "https"),
        "'self'" => same_origin(target, page),
        "'none'" => false,
        scheme if scheme.ends_with(':') && !scheme.contains('/') => {
            let scheme = scheme.trim_end_matches(':');
            // `http:` also allows https (the upgrade); `https:` only https.
            scheme == target_scheme || (scheme == "http" && target_scheme == "https")
        }
        expression => {
            let (scheme, rest) = match expression.split_once("://") {
                Some((scheme, rest)) => (Some(scheme), rest),
                None => (None, expression),
            };
            let scheme_ok = match scheme {
                Some(scheme) => scheme == target_scheme || (scheme == "http" && target_scheme == "https"),
                None => {
                    let page_scheme = page.split_once("://").map_or("", |(scheme, _)| scheme);
                    target_scheme == page_scheme || (page_scheme == "http" && target_scheme == "https")
                }
            };
            let host_port = rest.split('/').next().unwrap_or_default();
            let (host, port) = split_port(host_port, scheme.unwrap_or(target_scheme));
            let host_ok = match host.strip_prefix("*.") {
                Some(parent) => target_host.ends_with(&format!(".{parent}")),
                None => host == target_host,
            };
            let port_ok = port == "*" || port == target_port;
            scheme_ok && host_ok && port_ok && !host.starts_with('\'')
        }
    }
}

/// `host[:port]` with the scheme's default port filled in (`[::1]:8080` style literals too).
fn split_port<'a>(host_port: &'a str, scheme: &str) -> (&'a str, &'a str) {
    let default = if scheme == "https" { "443" } else { "80" };
    let host_end = match host_port.find(']') {
        Some(bracket) if host_port.starts_with('[') => bracket + 1,
        _ => host_port.rfind(':').unwrap_or(host_port.len()),
    };
    let (host, rest) = host_port.split_at(host_end);
    match rest.strip_prefix(':') {
        Some(port) if !port.is_empty() => (host, port),
        _ => (host, default),
    }
}

fn same_origin(a: &str, b: &str) -> bool {
    let normalize = |origin: &str| {
        let (scheme, rest) = origin.split_once("://").unwrap_or(("", origin));
        let (host, port) = split_port(rest, scheme);
        (scheme.to_ascii_lowercase(), host.to_ascii_lowercase(), port.to_owned())
    };
    normalize(a) == normalize(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GATEWAY: &str = "https://gw.example";
    const PAGE: &str = "https://shop.example";

    fn blocked(policy: &str, need: Need) -> Option<String> {
        let policies = parse(policy);
        policies.iter().find_map(|policy| policy.check(need, GATEWAY, PAGE)).map(|blocked| blocked.fix)
    }

    #[test]
    fn the_widget_needs_the_gateway_and_wasm_in_script_src() {
        for (policy, fix) in [
            ("script-src https://gw.example 'wasm-unsafe-eval'", None),
            ("script-src 'self' https://*.example 'unsafe-eval'", None),
            ("script-src https: 'wasm-unsafe-eval'", None),
            ("default-src gw.example 'wasm-unsafe-eval'", None),
            ("script-src * 'wasm-unsafe-eval'", None),
            ("img-src *", None),
            ("script-src 'self' https://gw.example", Some("script-src 'self' https://gw.example 'wasm-unsafe-eval'")),
            ("default-src 'self'", Some("script-src 'self' https://gw.example 'wasm-unsafe-eval'")),
            ("script-src 'none'", Some("script-src https://gw.example 'wasm-unsafe-eval'")),
            (
                "script-src http://gw.example:8443 'wasm-unsafe-eval'",
                Some("script-src http://gw.example:8443 'wasm-unsafe-eval' https://gw.example"),
            ),
            (
                "script-src https://*.gw.example 'wasm-unsafe-eval'",
                Some("script-src https://*.gw.example 'wasm-unsafe-eval' https://gw.example"),
            ),
        ] {
            assert_eq!(blocked(policy, Need::Script).as_deref(), fix, "{policy}");
        }
    }

    #[test]
    fn connect_and_frame_fall_back_as_browsers_do() {
        assert_eq!(
            blocked("default-src 'self'", Need::Connect).as_deref(),
            Some("connect-src 'self' https://gw.example")
        );
        assert_eq!(blocked("default-src 'self'; connect-src https://gw.example", Need::Connect), None);
        assert_eq!(blocked("child-src https://gw.example", Need::Frame), None);
        assert_eq!(
            blocked("default-src 'none'; child-src 'self'", Need::Frame).as_deref(),
            Some("frame-src 'self' https://gw.example")
        );
        assert_eq!(blocked("script-src 'self'", Need::Connect), None, "no connect-src nor default-src: allowed");
    }

    #[test]
    fn every_policy_of_a_header_must_allow() {
        let policies = parse("connect-src *, connect-src 'self'");
        assert_eq!(policies.len(), 2);
        assert!(policies[0].check(Need::Connect, GATEWAY, PAGE).is_none());
        assert!(policies[1].check(Need::Connect, GATEWAY, PAGE).is_some());
    }

    #[test]
    fn self_means_the_page_origin() {
        let page_is_gateway = parse("script-src 'self' 'wasm-unsafe-eval'");
        assert!(page_is_gateway[0].check(Need::Script, "https://gw.example", "https://gw.example:443").is_none());
        assert!(page_is_gateway[0].check(Need::Script, "http://gw.example:8080", "http://gw.example").is_some());
    }
}
