//! `docent doctor URL`: the troubleshooting checklist of a site owner whose widget does not
//! appear or does not answer, run for them. It fetches the page as a browser would, then checks
//! the snippet, the widget files (through the page's own URLs, so a CDN in between is checked
//! too), the bot as the gateway serves it to that page's origin, and the page's CSP. Each ✗
//! carries the exact fix. Next to the data directory it also reads the bot's status, last
//! deploy, plan and allowlist from the store.

pub mod csp;
pub mod page;

use std::sync::Arc;

use base64::Engine as _;
use docent_lifecycle::Lifecycle;
use docent_lifecycle::when::{self, now};
use docent_lifecycle::{StatusState, origin::Origin};
use hyper::header::{self, HeaderMap, HeaderName, HeaderValue};
use hyper::{StatusCode, Uri};
use serde::Serialize;
use sha2::Digest as _;

use crate::fetch::{self, FetchLimits, Fetched};
use page::Snippet;

/// One line of the checklist.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// Stable, for scripts: `page`, `snippet.count`, `snippet.head`, `csp.script`, ….
    pub id: &'static str,
    pub ok: bool,
    pub title: String,
    /// What to change when `ok` is false.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

/// The checklist for one page.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub url: String,
    pub checks: Vec<Check>,
}

impl Report {
    pub fn all_ok(&self) -> bool {
        self.checks.iter().all(|check| check.ok)
    }

    fn pass(&mut self, id: &'static str, title: impl Into<String>) {
        self.checks.push(Check { id, ok: true, title: title.into(), fix: None });
    }

    fn fail(&mut self, id: &'static str, title: impl Into<String>, fix: impl Into<String>) {
        self.checks.push(Check { id, ok: false, title: title.into(), fix: Some(fix.into()) });
    }
}

/// Runs the checklist on the page at `url`. `lifecycle`, when the data directory is at hand,
/// adds what only the store knows.
pub async fn diagnose(url: &str, lifecycle: Option<Arc<Lifecycle>>, limits: FetchLimits) -> Report {
    let mut report = Report { url: url.to_owned(), checks: Vec::new() };
    let fetched = match fetch::fetch(url, &[], limits).await {
        Ok(fetched) => fetched,
        Err(err) => {
            let fix = match err {
                fetch::FetchError::PrivateAddress { .. } => {
                    "to check a page on this machine or network, allow private addresses (`docent doctor --allow-private`)"
                }
                _ => "check the address; the page must answer a plain GET",
            };
            report.fail("page", format!("The page cannot be fetched: {err}"), fix);
            return report;
        }
    };
    if !fetched.status.is_success() {
        let status = fetched.status;
        report.fail(
            "page",
            format!("The page answers {status}"),
            "the checklist needs the page itself; fix the page's address first",
        );
        return report;
    }
    let via = if fetched.redirects.is_empty() {
        String::new()
    } else {
        let hops: Vec<String> = fetched.redirects.iter().map(Uri::to_string).collect();
        format!(" after {} redirect(s) from {}", hops.len(), hops.join(" → "))
    };
    report.pass("page", format!("The page answers 200 at {}{via}", fetched.url));
    let Some(page_origin) = origin_of(&fetched.url) else {
        report.fail("page", "The page's address has no origin", "use an http or https address");
        return report;
    };
    let html = String::from_utf8_lossy(&fetched.body);
    let found = page::read(&html);
    if found.snippets.is_empty() {
        report.fail(
            "snippet.count",
            "No Docent snippet on the page",
            "paste the snippet that `docent deploy BOT` prints (or the console's Integration panel shows) into <head>",
        );
        return report;
    }
    let mut policies = csp_headers(&fetched.headers);
    policies.extend(found.csp_meta.iter().flat_map(|meta| csp::parse(meta)));
    let mut seen_bots: Vec<String> = Vec::new();
    for snippet in &found.snippets {
        let bot = snippet.bot.as_deref().map(str::trim).unwrap_or_default().to_owned();
        if seen_bots.contains(&bot) {
            report.fail(
                "snippet.count",
                format!("The snippet for \"{bot}\" appears more than once (again on line {})", snippet.line),
                "keep one copy of the snippet per bot",
            );
            continue;
        }
        seen_bots.push(bot);
        check_snippet(&mut report, snippet, &fetched.url, &page_origin, &policies, lifecycle.clone(), limits).await;
    }
    report
}

/// Every check of one snippet.
async fn check_snippet(
    report: &mut Report,
    snippet: &Snippet,
    page_url: &Uri,
    page_origin: &str,
    policies: &[csp::Policy],
    lifecycle: Option<Arc<Lifecycle>>,
    limits: FetchLimits,
) {
    let line = snippet.line;
    if snippet.in_head {
        report.pass("snippet.head", format!("The snippet (line {line}) is in <head>"));
    } else {
        report.fail(
            "snippet.head",
            format!("The snippet (line {line}) is in <body>"),
            "move the <script> tag into <head>, where the widget expects it and where it loads earliest",
        );
    }
    if snippet.is_async {
        report.pass("snippet.async", "The snippet loads async");
    } else {
        report.fail("snippet.async", "The snippet is not async", "add the `async` attribute: <script async src=…>");
    }
    let bot = match snippet.bot.as_deref() {
        None | Some("") => {
            report.fail(
                "snippet.bot",
                "The snippet has no data-bot",
                "add data-bot=\"YOUR-BOT-ID\" to the <script> tag",
            );
            return;
        }
        Some(raw) if raw.trim() != raw => {
            let trimmed = raw.trim();
            report.fail(
                "snippet.bot",
                format!("The bot id \"{raw}\" has extra spaces"),
                format!("write data-bot=\"{trimmed}\""),
            );
            trimmed.to_owned()
        }
        Some(raw) => raw.to_owned(),
    };
    let Some(bundle_url) = fetch::resolve_reference(page_url, &snippet.src) else {
        report.fail(
            "widget.bundle",
            format!("The snippet's src `{}` is not an address", snippet.src),
            "use the src the integration code gives",
        );
        return;
    };
    let Some(gateway) = origin_of(&bundle_url) else { return };
    let bundle = check_bundle(report, snippet, &bundle_url, limits).await;
    if let Some(bundle) = &bundle {
        check_integrity(report, snippet, &bundle.body);
        check_wasm(report, &bundle_url, &bundle.body, limits).await;
    }
    check_bot(report, &gateway, &bot, page_origin, limits).await;
    if let Some(lifecycle) = lifecycle {
        check_store(report, lifecycle, &bot, page_origin).await;
    }
    check_csp(report, policies, &gateway, page_origin);
    let demo = format!("{gateway}/demo/{bot}");
    match fetch::fetch(&demo, &[], limits).await {
        Ok(fetched) if fetched.status == StatusCode::OK => report.pass(
            "demo",
            format!("The official demo page {demo} works: if the widget works there but not here, the difference is this page"),
        ),
        Ok(fetched) => report.fail("demo", format!("The demo page {demo} answers {}", fetched.status), "fix the bot first (see above)"),
        Err(err) => report.fail("demo", format!("The demo page {demo} cannot be fetched: {err}"), "check the gateway's address"),
    }
}

/// `bundle.js` through the page's URL: status, type, cache headers and the version.
async fn check_bundle(report: &mut Report, snippet: &Snippet, url: &Uri, limits: FetchLimits) -> Option<Fetched> {
    let fetched = match fetch::fetch(&url.to_string(), &[], limits).await {
        Ok(fetched) => fetched,
        Err(err) => {
            report.fail(
                "widget.bundle",
                format!("bundle.js cannot be fetched: {err}"),
                "check the gateway (and CDN) address in the snippet",
            );
            return None;
        }
    };
    let version = &snippet.version;
    if fetched.status == StatusCode::NOT_FOUND {
        let current = docent_lifecycle::deploy::WIDGET_VERSION;
        report.fail(
            "widget.version",
            format!("Widget version {version} does not exist on this gateway ({url} answers 404)"),
            format!("use /widget/latest/bundle.js, or /widget/{current}/bundle.js to pin this gateway's version"),
        );
        return None;
    }
    if fetched.status != StatusCode::OK {
        report.fail(
            "widget.bundle",
            format!("bundle.js answers {}", fetched.status),
            "check the gateway and any CDN rule in front of it",
        );
        return None;
    }
    let content_type = header_text(&fetched.headers, header::CONTENT_TYPE);
    if content_type.starts_with("text/javascript") || content_type.starts_with("application/javascript") {
        report.pass("widget.bundle", format!("bundle.js loads (200, {content_type})"));
    } else {
        report.fail(
            "widget.bundle",
            format!("bundle.js is served as `{content_type}`"),
            "serve it as text/javascript: a CDN or proxy in front of the gateway rewrites the type",
        );
    }
    let cache = header_text(&fetched.headers, header::CACHE_CONTROL);
    let max_age = cache
        .split(',')
        .find_map(|part| part.trim().strip_prefix("max-age="))
        .and_then(|age| age.trim().parse::<u64>().ok());
    if version == "latest" {
        report.pass("widget.version", "The snippet uses `latest`: new widget versions arrive by themselves");
        if max_age.is_some_and(|age| age > 3600) {
            report.fail(
                "widget.cache",
                format!("`latest` is cached for {} s (`{cache}`)", max_age.unwrap_or_default()),
                "keep the gateway's short Cache-Control for `latest` in the CDN, or pin a version",
            );
        }
    } else {
        report.pass(
            "widget.version",
            format!("The snippet pins widget version {version}: change it to get a newer widget"),
        );
        if !cache.contains("immutable") && max_age.is_none_or(|age| age < 86_400) {
            report.fail(
                "widget.cache",
                format!("The pinned bundle is not cached long (`{cache}`)"),
                "let the CDN keep the gateway's `Cache-Control: public, max-age=31536000, immutable`",
            );
        }
    }
    Some(fetched)
}

/// The SRI `integrity` against the bundle served, and the `crossorigin` it needs.
fn check_integrity(report: &mut Report, snippet: &Snippet, bundle: &[u8]) {
    let Some(integrity) = &snippet.integrity else {
        report.pass("widget.integrity", "No SRI integrity attribute (optional)");
        return;
    };
    let expected = format!("sha384-{}", base64::engine::general_purpose::STANDARD.encode(sha2::Sha384::digest(bundle)));
    let matches = integrity.split_ascii_whitespace().any(|hash| {
        let Some((algorithm, value)) = hash.split_once('-') else { return false };
        let value = value.split('?').next().unwrap_or_default();
        let digest = match algorithm {
            "sha256" => sha2::Sha256::digest(bundle).to_vec(),
            "sha384" => sha2::Sha384::digest(bundle).to_vec(),
            "sha512" => sha2::Sha512::digest(bundle).to_vec(),
            _ => return false,
        };
        base64::engine::general_purpose::STANDARD.encode(digest) == value
    });
    if matches {
        report.pass("widget.integrity", "The SRI integrity matches bundle.js");
    } else {
        report.fail(
            "widget.integrity",
            "The SRI integrity does not match bundle.js: browsers refuse to run it",
            format!("write integrity=\"{expected}\" (or use the snippet from `docent deploy`)"),
        );
    }
    if snippet.crossorigin.is_none() {
        report.fail(
            "widget.integrity",
            "An integrity attribute without crossorigin: the browser cannot check it and refuses the script",
            "add crossorigin=\"anonymous\"",
        );
    }
}

/// The wasm that `bundle.js` names, next to it.
async fn check_wasm(report: &mut Report, bundle_url: &Uri, bundle: &[u8], limits: FetchLimits) {
    let text = String::from_utf8_lossy(bundle);
    let Some(name) = wasm_name(&text) else {
        report.fail(
            "widget.wasm",
            "bundle.js names no .wasm file",
            "serve the widget build that `cargo xtask dist` makes",
        );
        return;
    };
    let Some(url) = fetch::resolve_reference(bundle_url, &name) else { return };
    match fetch::fetch(&url.to_string(), &[], limits).await {
        Ok(fetched) if fetched.status == StatusCode::OK => {
            let content_type = header_text(&fetched.headers, header::CONTENT_TYPE);
            if content_type.starts_with("application/wasm") {
                report.pass("widget.wasm", format!("{name} loads (200, application/wasm)"));
            } else {
                report.fail(
                    "widget.wasm",
                    format!("{name} is served as `{content_type}`"),
                    "serve it as application/wasm: browsers refuse to stream-compile anything else",
                );
            }
        }
        Ok(fetched) => report.fail(
            "widget.wasm",
            format!("{url} answers {}", fetched.status),
            "check the CDN rules for .wasm files",
        ),
        Err(err) => {
            report.fail("widget.wasm", format!("{url} cannot be fetched: {err}"), "check the CDN rules for .wasm files")
        }
    }
}

/// The first `name.wasm` written in `bundle`.
fn wasm_name(bundle: &str) -> Option<String> {
    let end = bundle.find(".wasm")?;
    let start = bundle[..end]
        .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.'))
        .map_or(0, |at| at + 1);
    (start < end).then(|| bundle[start..end + ".wasm".len()].to_owned())
}

/// The bot as the gateway serves it to this page: exists, active, and allowing its origin
/// (with CORS headers that survive any CDN in between).
async fn check_bot(report: &mut Report, gateway: &str, bot: &str, page_origin: &str, limits: FetchLimits) {
    let config = |bot: &str| format!("{gateway}/v1/bots/{bot}/config");
    let origin = HeaderValue::from_str(page_origin).ok();
    let headers: Vec<(HeaderName, HeaderValue)> = origin.into_iter().map(|value| (header::ORIGIN, value)).collect();
    let fetched = match fetch::fetch(&config(bot), &headers, limits).await {
        Ok(fetched) => fetched,
        Err(err) => {
            report.fail(
                "bot",
                format!("The gateway cannot be reached for \"{bot}\": {err}"),
                "check the gateway address in the snippet",
            );
            return;
        }
    };
    let code = error_code(&fetched.body);
    match (fetched.status, code.as_deref()) {
        (StatusCode::OK, _) => {
            let allowed = header_text(&fetched.headers, header::ACCESS_CONTROL_ALLOW_ORIGIN);
            if gateway == page_origin {
                report.pass("bot", format!("Bot \"{bot}\" answers its page on the gateway itself (same origin, no CORS)"));
            } else if allowed == page_origin {
                report.pass("bot", format!("Bot \"{bot}\" answers pages on {page_origin}"));
            } else {
                report.fail(
                    "bot.cors",
                    format!("Bot \"{bot}\" answers, but the CORS header reaching the page is `{allowed}`, not {page_origin}"),
                    "a CDN or proxy strips or caches Access-Control-Allow-Origin: forward the Origin header and vary on it",
                );
            }
        }
        (StatusCode::FORBIDDEN, Some("origin_not_allowed")) => report.fail(
            "origin",
            format!("{page_origin} is not allowed by bot \"{bot}\""),
            format!(
                "add \"{page_origin}\" to allowed_origins in bots/{bot}/bot.toml, then `docent deploy {bot}` (a quick update, no retraining)"
            ),
        ),
        (StatusCode::NOT_FOUND, _) => {
            let lower = bot.to_ascii_lowercase();
            let other_case = lower != bot
                && fetch::fetch(&config(&lower), &headers, limits).await.is_ok_and(|f| f.status != StatusCode::NOT_FOUND);
            if other_case {
                report.fail("snippet.bot", format!("No bot \"{bot}\", but there is \"{lower}\""), format!("write data-bot=\"{lower}\": ids are lowercase"));
            } else {
                report.fail("bot", format!("No bot \"{bot}\" on this gateway"), "check the id against `docent status` or the console");
            }
        }
        (StatusCode::SERVICE_UNAVAILABLE, Some("plan_expired")) => {
            report.fail("bot", format!("Bot \"{bot}\"'s plan has expired"), format!("renew it: `docent plan {bot} set --expires …`"))
        }
        (StatusCode::SERVICE_UNAVAILABLE, _) => {
            report.fail("bot", format!("Bot \"{bot}\" is offline"), format!("`docent activate {bot}` (or the console's Activate button)"))
        }
        (status, code) => report.fail(
            "bot",
            format!("The bot's config answers {status}{}", code.map(|code| format!(" ({code})")).unwrap_or_default()),
            "see the gateway's log for this request",
        ),
    }
}

/// What only the store knows: the seed's status, the last deploy, the plan, the allowlist.
async fn check_store(report: &mut Report, lifecycle: Arc<Lifecycle>, bot: &str, page_origin: &str) {
    let bot = bot.to_owned();
    let facts = tokio::task::spawn_blocking(move || {
        let status = lifecycle.status(Some(&bot)).ok().and_then(|mut reports| reports.pop());
        let plan = lifecycle.plan(&bot, now()).ok();
        let live = lifecycle.snapshot().ok().and_then(|snapshot| snapshot.bots.into_iter().find(|live| live.id == bot));
        (bot, status, plan, live)
    })
    .await;
    let Ok((bot, status, plan, live)) = facts else { return };
    let Some(status) = status else { return };
    match status.state {
        StatusState::Deployed | StatusState::Updating => {
            let since = status.live_since.map(when::format).unwrap_or_default();
            let by = status.live_by.unwrap_or_default();
            report.pass(
                "status",
                format!("Status: Deployed (generation {}, since {since}, by {by})", status.live.unwrap_or_default()),
            );
        }
        StatusState::Outdated => report.fail(
            "status",
            format!(
                "Status: Outdated: the sources of \"{bot}\" changed since generation {} went live",
                status.live.unwrap_or_default()
            ),
            format!("`docent check {bot}` shows what changed; `docent deploy {bot}` makes it live"),
        ),
        StatusState::Offline => {
            report.fail("status", "Status: Offline", format!("`docent activate {bot}`, or deploy it first"))
        }
        StatusState::Scheduled => report.fail(
            "status",
            format!("Status: Scheduled: inactive until {}", status.activate_at.map(when::format).unwrap_or_default()),
            format!("wait for the activation, or `docent activate {bot}` now"),
        ),
    }
    if let Some(plan) = plan
        && let Some(limits) = &plan.plan
    {
        let over = limits.messages_per_month.is_some_and(|limit| plan.used >= limit);
        let expired = limits.expires_at.is_some_and(|at| at <= now());
        if over || expired {
            report.fail(
                "plan",
                format!(
                    "Plan \"{}\": {} messages used this month, limit {:?}{}",
                    limits.name,
                    plan.used,
                    limits.messages_per_month,
                    if expired { ", expired" } else { "" }
                ),
                format!("raise or renew it: `docent plan {bot} set …`"),
            );
        } else {
            report.pass("plan", format!("Within plan \"{}\" ({} messages this month)", limits.name, plan.used));
        }
    }
    let Some(config) = live.and_then(|live| live.generation).map(|generation| generation.config) else { return };
    let Ok(origin) = Origin::parse(page_origin) else { return };
    if !config.allows_origin(&origin) {
        let siblings: Vec<String> = config
            .allowed_origins
            .iter()
            .map(ToString::to_string)
            .filter(|entry| shares_parent(entry, page_origin))
            .collect();
        if !siblings.is_empty() {
            report.fail(
                "origin.wildcard",
                format!("{page_origin} is a sibling of allowed {}", siblings.join(", ")),
                "if every subdomain should get the widget, one wildcard entry (`https://*.example.com`) covers them; it never covers the bare domain",
            );
        }
    }
}

/// Whether two origins' hosts share their parent domain (`www.shop.example` and `help.shop.example`).
fn shares_parent(entry: &str, origin: &str) -> bool {
    let parent = |text: &str| {
        let host =
            text.split_once("://").map_or(text, |(_, rest)| rest).split(':').next().unwrap_or_default().to_owned();
        host.split_once('.').map(|(_, parent)| parent.to_owned()).filter(|parent| parent.contains('.'))
    };
    parent(entry).is_some_and(|parent_entry| parent(origin).as_deref() == Some(parent_entry.as_str()))
}

/// The page's CSP against what the widget needs.
fn check_csp(report: &mut Report, policies: &[csp::Policy], gateway: &str, page_origin: &str) {
    if policies.is_empty() {
        report.pass("csp", "No Content-Security-Policy: nothing to add");
        return;
    }
    for (need, id) in [(csp::Need::Script, "csp.script"), (csp::Need::Connect, "csp.connect")] {
        let blocked: Vec<csp::Blocked> =
            policies.iter().filter_map(|policy| policy.check(need, gateway, page_origin)).collect();
        if blocked.is_empty() {
            report.pass(id, format!("The CSP's {} allows the widget", need.directive()));
            continue;
        }
        for blocked in blocked {
            let fallback = if blocked.governing == need.directive() {
                String::new()
            } else {
                format!(" (through {})", blocked.governing)
            };
            report.fail(
                id,
                format!("The CSP's {}{fallback} lacks {}", need.directive(), blocked.missing.join(" and ")),
                format!("write `{}` in the policy", blocked.fix),
            );
        }
    }
    let wasm_blocked = policies
        .iter()
        .filter_map(|policy| policy.check(csp::Need::Script, gateway, page_origin))
        .any(|blocked| blocked.missing.iter().any(|source| source == "'wasm-unsafe-eval'"));
    if wasm_blocked {
        let frame: Vec<csp::Blocked> =
            policies.iter().filter_map(|policy| policy.check(csp::Need::Frame, gateway, page_origin)).collect();
        if let Some(blocked) = frame.first() {
            report.fail(
                "csp.frame",
                "Without 'wasm-unsafe-eval' the widget falls back to a frame, which the CSP's frame-src also refuses",
                format!("write `{}` in the policy (or allow the wasm as above)", blocked.fix),
            );
        } else {
            report.pass("csp.frame", "frame-src allows the widget's fallback frame");
        }
    }
}

/// Every enforced `Content-Security-Policy` header (report-only ones enforce nothing).
fn csp_headers(headers: &HeaderMap) -> Vec<csp::Policy> {
    headers
        .get_all(header::CONTENT_SECURITY_POLICY)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(csp::parse)
        .collect()
}

/// `scheme://host[:port]` of `uri`, the default port left out.
fn origin_of(uri: &Uri) -> Option<String> {
    let scheme = uri.scheme_str()?;
    let host = uri.host()?.to_ascii_lowercase();
    let default = if scheme == "https" { 443 } else { 80 };
    Some(match uri.port_u16() {
        Some(port) if port != default => format!("{scheme}://{host}:{port}"),
        _ => format!("{scheme}://{host}"),
    })
}

fn header_text(headers: &HeaderMap, name: HeaderName) -> String {
    headers.get(name).and_then(|value| value.to_str().ok()).unwrap_or_default().to_owned()
}

/// The `code` of a gateway error body.
fn error_code(body: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    value.get("error")?.get("code")?.as_str().map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wasm_name_is_read_from_the_bundle() {
        assert_eq!(
            wasm_name("new URL(\"docent_widget_bg.wasm\", import.meta.url)").as_deref(),
            Some("docent_widget_bg.wasm")
        );
        assert_eq!(wasm_name("f('w-1.2.wasm')").as_deref(), Some("w-1.2.wasm"));
        assert_eq!(wasm_name("no module here"), None);
    }

    #[test]
    fn siblings_share_a_parent_domain_but_not_a_public_suffix() {
        assert!(shares_parent("https://www.shop.example", "https://help.shop.example"));
        assert!(!shares_parent("https://shop.example", "https://other.example"), "example alone is no parent");
        assert!(!shares_parent("http://localhost:8081", "http://127.0.0.1:8081"));
    }

    #[test]
    fn origins_drop_default_ports() {
        let origin = |url: &str| origin_of(&url.parse().unwrap());
        assert_eq!(origin("https://Shop.example:443/a").as_deref(), Some("https://shop.example"));
        assert_eq!(origin("http://localhost:8081/x.html").as_deref(), Some("http://localhost:8081"));
    }
}
