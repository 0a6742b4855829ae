//! `docent kb import URL`: the owner's own site becomes knowledge files. Same-origin pages are
//! crawled from the URL (and the site's sitemap), politely and within `robots.txt`, and each
//! HTML page is written under the bot's `knowledge/import/` with the address it came from and
//! when, so the owner can review, diff and commit it like any other source.
//!
//! A re-import asks each page whether it changed (`If-None-Match`, `If-Modified-Since`), keeps
//! what did not, and removes pages that are gone.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{BufferQueue, Tag, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts};
use hyper::header::{self, HeaderName, HeaderValue};
use hyper::{StatusCode, Uri};
use serde::{Deserialize, Serialize};

use crate::fetch::{self, FetchError, FetchLimits, Fetched};

/// The user agent `robots.txt` rules are matched against.
pub const USER_AGENT: &str = "docent";
/// Nested sitemaps read from a sitemap index.
const MAX_SITEMAPS: usize = 10;
/// The first line of every imported file: `<!-- docent-import {json} -->`.
const HEADER_START: &str = "<!-- docent-import ";
const HEADER_END: &str = " -->\n";

/// What to import, and how politely.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    pub start: String,
    pub max_pages: usize,
    /// Links followed from the start page (and sitemap pages): 0 imports only those.
    pub depth: usize,
    /// Path prefixes (with `*` as a wildcard) a page must match, when any are given.
    pub include: Vec<String>,
    /// Path prefixes (with `*` as a wildcard) never imported.
    pub exclude: Vec<String>,
    /// Pause between two requests to the site.
    pub delay: Duration,
    pub limits: FetchLimits,
}

/// Where each page ended up.
#[derive(Debug, Default, Clone, Serialize)]
pub struct ImportReport {
    /// Files written: new or changed pages, relative to the import folder.
    pub written: Vec<String>,
    /// Pages that answered 304 Not Modified: their files are kept as they are.
    pub unchanged: Vec<String>,
    /// Files removed because their page is gone (404, 410, or no longer linked).
    pub removed: Vec<String>,
    /// Addresses not imported, with the reason.
    pub skipped: Vec<(String, String)>,
    /// Every page request, robots.txt and sitemaps included.
    pub requests: usize,
    pub seconds: f64,
}

/// A step, for a progress bar or the console's live log.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ImportEvent {
    /// About to fetch `url`: pages fetched so far, and pages known so far (fetched or queued).
    Progress { fetched: usize, known: usize, url: String },
    /// An address left out, with the reason (as the report's `skipped` lists it).
    Skipped { url: String, reason: String },
}

/// What an imported file records about its page.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PageMeta {
    pub url: String,
    /// `2026-11-24 10:00:00 UTC`.
    pub fetched_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error("robots.txt of {origin} does not allow {USER_AGENT} to read {url}")]
    RobotsForbid { origin: String, url: String },
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
}

/// Imports the site at `options.start` into `dir` (a bot's `knowledge/import`).
pub async fn import(
    dir: &Path,
    options: &ImportOptions,
    progress: &mut (dyn FnMut(ImportEvent) + Send),
) -> Result<ImportReport, ImportError> {
    let started = Instant::now();
    let start = fetch::parse_url(&options.start)?;
    let origin = origin_of(&start);
    let mut report = ImportReport::default();
    let existing = read_existing(dir)?;

    let robots = match fetch::fetch(&format!("{origin}/robots.txt"), &[], options.limits).await {
        Ok(fetched) if fetched.status == StatusCode::OK => String::from_utf8_lossy(&fetched.body).into_owned(),
        // A site that is refused or cannot be reached at all stops here.
        Err(err @ (FetchError::PrivateAddress { .. } | FetchError::Resolve { .. } | FetchError::Connect { .. })) => {
            return Err(err.into());
        }
        _ => String::new(),
    };
    report.requests += 1;
    let allowed =
        |url: &str| robotstxt::DefaultMatcher::default().one_agent_allowed_by_robots(&robots, USER_AGENT, url);
    if !allowed(&start.to_string()) {
        return Err(ImportError::RobotsForbid { origin, url: start.to_string() });
    }

    let mut queue: VecDeque<(String, usize)> = VecDeque::from([(without_fragment(&start.to_string()), 0)]);
    let mut known: HashSet<String> = queue.iter().map(|(url, _)| url.clone()).collect();
    for url in sitemap_pages(&origin, &robots, options, &mut report).await {
        if known.insert(url.clone()) {
            queue.push_back((url, 0));
        }
    }

    let mut seen_files: HashSet<String> = HashSet::new();
    let mut gone_files: Vec<String> = Vec::new();
    let mut fetched_pages = 0;
    let mut first = true;
    let mut told_skipped = 0;
    while let Some((url, depth)) = queue.pop_front() {
        tell_skipped(&report, &mut told_skipped, progress);
        if fetched_pages >= options.max_pages {
            report.skipped.push((url, format!("over --max-pages {}", options.max_pages)));
            continue;
        }
        let Ok(uri) = fetch::parse_url(&url) else { continue };
        let path = uri.path_and_query().map_or("/", |path| path.as_str()).to_owned();
        if !matches_filters(&path, options) {
            report.skipped.push((url, "left out by --include/--exclude".into()));
            continue;
        }
        if !allowed(&url) {
            report.skipped.push((url, "disallowed by robots.txt".into()));
            continue;
        }
        if !first {
            tokio::time::sleep(options.delay).await;
        }
        first = false;
        progress(ImportEvent::Progress { fetched: fetched_pages, known: known.len(), url: url.clone() });
        let file = file_name(&uri);
        let previous = existing.get(&file);
        let mut headers: Vec<(HeaderName, HeaderValue)> = Vec::new();
        if let Some(meta) = previous {
            if let Some(value) = meta.etag.as_deref().and_then(|etag| HeaderValue::from_str(etag).ok()) {
                headers.push((header::IF_NONE_MATCH, value));
            }
            if let Some(value) = meta.last_modified.as_deref().and_then(|date| HeaderValue::from_str(date).ok()) {
                headers.push((header::IF_MODIFIED_SINCE, value));
            }
        }
        report.requests += 1;
        fetched_pages += 1;
        let fetched = match fetch::fetch_no_redirect(&url, &headers, options.limits).await {
            Ok(fetched) => fetched,
            Err(err) => {
                // A page that cannot be fetched now keeps its file: it may be back next time.
                seen_files.insert(file);
                report.skipped.push((url, err.to_string()));
                continue;
            }
        };
        let links_from = |html: &str| if depth < options.depth { links(&uri, html) } else { Vec::new() };
        let links = match fetched.status {
            StatusCode::NOT_MODIFIED if previous.is_some() => {
                seen_files.insert(file.clone());
                report.unchanged.push(file.clone());
                std::fs::read_to_string(dir.join(&file)).map(|html| links_from(&html)).unwrap_or_default()
            }
            status if status.is_redirection() => {
                let target = fetched
                    .headers
                    .get(header::LOCATION)
                    .and_then(|location| location.to_str().ok())
                    .and_then(|location| fetch::resolve_reference(&uri, location));
                match target {
                    Some(target) if origin_of(&target) == origin => vec![target.to_string()],
                    Some(target) => {
                        report.skipped.push((url, format!("redirects off-site to {target}: not followed")));
                        Vec::new()
                    }
                    None => {
                        report.skipped.push((url, "redirects without a usable Location".into()));
                        Vec::new()
                    }
                }
            }
            StatusCode::NOT_FOUND | StatusCode::GONE => {
                if previous.is_some() {
                    gone_files.push(file);
                }
                report.skipped.push((url, format!("answers {}", fetched.status)));
                Vec::new()
            }
            StatusCode::OK => match page_text(&fetched) {
                Ok(html) => {
                    seen_files.insert(file.clone());
                    if write_page(dir, &file, &url, &fetched, &html)? {
                        report.written.push(file);
                    } else {
                        report.unchanged.push(file);
                    }
                    links_from(&html)
                }
                Err(reason) => {
                    report.skipped.push((url, reason));
                    Vec::new()
                }
            },
            status => {
                seen_files.insert(file);
                report.skipped.push((url, format!("answers {status}")));
                Vec::new()
            }
        };
        for link in links {
            let link = without_fragment(&link);
            let same_site = fetch::parse_url(&link).is_ok_and(|uri| origin_of(&uri) == origin);
            if same_site && known.insert(link.clone()) {
                queue.push_back((link, depth + 1));
            }
        }
    }
    tell_skipped(&report, &mut told_skipped, progress);
    // A page imported before but not reached now may only have lost its links: ask it.
    for (file, meta) in &existing {
        if seen_files.contains(file) || gone_files.contains(file) {
            continue;
        }
        report.requests += 1;
        match fetch::fetch_no_redirect(&meta.url, &[], options.limits).await {
            Ok(fetched) if matches!(fetched.status, StatusCode::NOT_FOUND | StatusCode::GONE) => {
                gone_files.push(file.clone())
            }
            Ok(fetched) if fetched.status == StatusCode::OK => {
                if let Ok(html) = page_text(&fetched) {
                    if write_page(dir, file, &meta.url, &fetched, &html)? {
                        report.written.push(file.clone());
                    } else {
                        report.unchanged.push(file.clone());
                    }
                }
            }
            // Anything else (an error, a redirect, a refusal) keeps the file until the page says it is gone.
            _ => {}
        }
    }
    for file in gone_files {
        let path = dir.join(&file);
        std::fs::remove_file(&path).map_err(|source| ImportError::Io { path, source })?;
        report.removed.push(file);
    }
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

/// Sends a [`ImportEvent::Skipped`] for each address the report left out since `told`.
fn tell_skipped(report: &ImportReport, told: &mut usize, progress: &mut (dyn FnMut(ImportEvent) + Send)) {
    for (url, reason) in report.skipped.iter().skip(*told) {
        progress(ImportEvent::Skipped { url: url.clone(), reason: reason.clone() });
    }
    *told = report.skipped.len();
}

/// Same-origin page addresses from the site's sitemaps (`/sitemap.xml` and robots.txt's
/// `Sitemap:` lines), following one level of sitemap index.
async fn sitemap_pages(origin: &str, robots: &str, options: &ImportOptions, report: &mut ImportReport) -> Vec<String> {
    let mut sitemaps: VecDeque<String> = robots
        .lines()
        .filter_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim().eq_ignore_ascii_case("sitemap").then(|| value.trim().to_owned())
        })
        .collect();
    if sitemaps.is_empty() {
        sitemaps.push_back(format!("{origin}/sitemap.xml"));
    }
    let mut pages = Vec::new();
    let mut read = 0;
    while let Some(sitemap) = sitemaps.pop_front() {
        if read >= MAX_SITEMAPS {
            break;
        }
        read += 1;
        report.requests += 1;
        let Ok(fetched) = fetch::fetch(&sitemap, &[], options.limits).await else { continue };
        if fetched.status != StatusCode::OK {
            continue;
        }
        for location in sitemap_locations(&String::from_utf8_lossy(&fetched.body)) {
            let Ok(uri) = fetch::parse_url(&location) else { continue };
            if origin_of(&uri) != origin {
                continue;
            }
            if uri.path().ends_with(".xml") {
                sitemaps.push_back(location);
            } else {
                pages.push(without_fragment(&location));
            }
        }
    }
    pages
}

/// The HTML of a 200 answer, or why it is not imported.
fn page_text(fetched: &Fetched) -> Result<String, String> {
    let content_type = fetched.headers.get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok()).unwrap_or("");
    let is_html = content_type.is_empty()
        || content_type.starts_with("text/html")
        || content_type.starts_with("application/xhtml+xml");
    if !is_html {
        return Err(format!("not an HTML page ({content_type})"));
    }
    if fetched.truncated {
        return Err(format!("larger than {} bytes: left out rather than cut", fetched.body.len()));
    }
    Ok(String::from_utf8_lossy(&fetched.body).into_owned())
}

/// Writes `html` as `file` under `dir`, behind its header, through a temporary file; `false`
/// when the file already holds this very page (its fetch time then stays as it was, so an
/// unchanged page never shows as a change).
fn write_page(dir: &Path, file: &str, url: &str, fetched: &Fetched, html: &str) -> Result<bool, ImportError> {
    let path = dir.join(file);
    if std::fs::read_to_string(&path).is_ok_and(|old| page_of(&old) == Some(html)) {
        return Ok(false);
    }
    let header_value =
        |name: HeaderName| fetched.headers.get(name).and_then(|value| value.to_str().ok()).map(str::to_owned);
    let meta = PageMeta {
        url: url.to_owned(),
        fetched_at: docent_lifecycle::when::format(docent_lifecycle::when::now()),
        etag: header_value(header::ETAG),
        last_modified: header_value(header::LAST_MODIFIED),
    };
    let json = serde_json::to_string(&meta).unwrap_or_default().replace("--", "-\\u002d");
    let mut text = format!("{HEADER_START}{json}{HEADER_END}");
    // The reader takes the first canonical link: the page's own, else this one.
    text.push_str(&format!("<link rel=\"canonical\" href=\"{}\">\n", crate::html::escape(url)));
    text.push_str(html);
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| ImportError::Io { path, source }
    };
    let parent = path.parent().unwrap_or(dir);
    std::fs::create_dir_all(parent).map_err(io(parent))?;
    let temp = parent.join(format!(".{}.tmp", path.file_name().and_then(|name| name.to_str()).unwrap_or("page")));
    std::fs::write(&temp, text).map_err(io(&temp))?;
    std::fs::rename(&temp, &path).map_err(io(&path))?;
    Ok(true)
}

/// The page of an imported file, without the header and canonical lines the import added.
fn page_of(text: &str) -> Option<&str> {
    let rest = text.strip_prefix(HEADER_START)?;
    let rest = &rest[rest.find(HEADER_END)? + HEADER_END.len()..];
    let canonical_end = rest.find('\n')?;
    Some(&rest[canonical_end + 1..])
}

/// Imported files below `dir` (relative, `/`-separated) and what their headers record.
fn read_existing(dir: &Path) -> Result<BTreeMap<String, PageMeta>, ImportError> {
    let mut found = BTreeMap::new();
    if !dir.is_dir() {
        return Ok(found);
    }
    let mut folders = vec![dir.to_owned()];
    while let Some(folder) = folders.pop() {
        let entries = std::fs::read_dir(&folder).map_err(|source| ImportError::Io { path: folder.clone(), source })?;
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                folders.push(path);
                continue;
            }
            let Ok(text) = std::fs::read_to_string(&path) else { continue };
            if let Some(meta) = read_meta(&text) {
                let relative = path.strip_prefix(dir).unwrap_or(&path);
                let relative: Vec<String> =
                    relative.components().map(|part| part.as_os_str().to_string_lossy().into_owned()).collect();
                found.insert(relative.join("/"), meta);
            }
        }
    }
    Ok(found)
}

/// The header of an imported file.
pub fn read_meta(text: &str) -> Option<PageMeta> {
    let rest = text.strip_prefix(HEADER_START)?;
    let json = &rest[..rest.find(HEADER_END)?];
    serde_json::from_str(json).ok()
}

/// Where the page at `uri` is written: `host[_port]/path`, `index.html` for a folder, the
/// query's hash before the extension, and always `.html`.
pub fn file_name(uri: &Uri) -> String {
    let host = uri.host().unwrap_or("site").to_ascii_lowercase();
    let site = match uri.port_u16() {
        Some(port) => format!("{host}_{port}"),
        None => host,
    };
    let clean = |segment: &str| -> String {
        let cleaned: String =
            segment.chars().map(|c| if c.is_ascii_alphanumeric() || "._-".contains(c) { c } else { '-' }).collect();
        cleaned.trim_start_matches('.').to_owned()
    };
    let mut segments: Vec<String> =
        uri.path().split('/').filter(|segment| !segment.is_empty()).map(clean).filter(|s| !s.is_empty()).collect();
    if uri.path().ends_with('/') || segments.is_empty() {
        segments.push("index.html".into());
    }
    let last = segments.pop().unwrap_or_default();
    let stem = last.strip_suffix(".html").or_else(|| last.strip_suffix(".htm")).unwrap_or(&last).to_owned();
    let query =
        uri.query().map(|query| format!("_q{}", &crate::auth::hex(&sha2_digest(query))[..8])).unwrap_or_default();
    segments.push(format!("{stem}{query}.html"));
    std::iter::once(clean(&site)).chain(segments).collect::<Vec<_>>().join("/")
}

fn sha2_digest(text: &str) -> [u8; 32] {
    use sha2::Digest as _;
    sha2::Sha256::digest(text.as_bytes()).into()
}

/// Whether `path` passes the include and exclude patterns.
fn matches_filters(path: &str, options: &ImportOptions) -> bool {
    let included = options.include.is_empty() || options.include.iter().any(|pattern| prefix_match(pattern, path));
    included && !options.exclude.iter().any(|pattern| prefix_match(pattern, path))
}

/// `pattern` matches the start of `path`; `*` stands for any run of characters.
fn prefix_match(pattern: &str, path: &str) -> bool {
    let mut parts = pattern.split('*');
    let Some(first) = parts.next() else { return true };
    let Some(mut rest) = path.strip_prefix(first) else { return false };
    for part in parts {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    true
}

fn origin_of(uri: &Uri) -> String {
    let scheme = uri.scheme_str().unwrap_or("http");
    let authority = uri.authority().map_or("", |authority| authority.as_str()).to_ascii_lowercase();
    let default = if scheme == "https" { ":443" } else { ":80" };
    format!("{scheme}://{}", authority.strip_suffix(default).unwrap_or(&authority))
}

fn without_fragment(url: &str) -> String {
    url.split('#').next().unwrap_or(url).to_owned()
}

/// The `href` of every `<a>` in `html` that does not say `rel="nofollow"`, resolved against `base`.
fn links(base: &Uri, html: &str) -> Vec<String> {
    #[derive(Default)]
    struct Links {
        hrefs: RefCell<Vec<String>>,
    }
    impl TokenSink for Links {
        type Handle = ();
        fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
            if let Token::TagToken(tag) = token
                && tag.kind == TagKind::StartTag
            {
                match &*tag.name {
                    "a" => {
                        let nofollow = attribute(&tag, "rel").is_some_and(|rel| {
                            rel.split_whitespace().any(|word| word.eq_ignore_ascii_case("nofollow"))
                        });
                        if let Some(href) = attribute(&tag, "href").filter(|_| !nofollow) {
                            self.hrefs.borrow_mut().push(href.to_owned());
                        }
                    }
                    "script" => return TokenSinkResult::RawData(RawKind::ScriptData),
                    "style" => return TokenSinkResult::RawData(RawKind::Rawtext),
                    _ => {}
                }
            }
            TokenSinkResult::Continue
        }
    }
    let input = BufferQueue::default();
    input.push_back(StrTendril::from_slice(html));
    let tokenizer = Tokenizer::new(Links::default(), TokenizerOpts::default());
    let _ = tokenizer.feed(&input);
    tokenizer.end();
    let hrefs = tokenizer.sink.hrefs.into_inner();
    hrefs.iter().filter_map(|href| fetch::resolve_reference(base, href)).map(|uri| uri.to_string()).collect()
}

/// The text of every `<loc>` in a sitemap.
fn sitemap_locations(xml: &str) -> Vec<String> {
    xml.split("<loc>")
        .skip(1)
        .filter_map(|rest| rest.split("</loc>").next())
        .map(|location| location.trim().replace("&amp;", "&"))
        .filter(|location| !location.is_empty())
        .collect()
}

fn attribute<'a>(tag: &'a Tag, name: &str) -> Option<&'a str> {
    tag.attrs.iter().find(|attr| &*attr.name.local == name).map(|attr| &*attr.value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_map_to_stable_file_names() {
        for (url, file) in [
            ("https://shop.example/", "shop.example/index.html"),
            ("https://shop.example/help/faq.html", "shop.example/help/faq.html"),
            ("https://shop.example/help/", "shop.example/help/index.html"),
            ("http://localhost:8081/returns", "localhost_8081/returns.html"),
            ("https://shop.example/.hidden/../.env", "shop.example/hidden/env.html"),
        ] {
            assert_eq!(file_name(&url.parse().unwrap()), file, "{url}");
        }
        let queried = file_name(&"https://shop.example/a%20b/list?page=2".parse().unwrap());
        assert!(queried.starts_with("shop.example/a-20b/list_q") && queried.ends_with(".html"), "{queried}");
        assert_ne!(queried, file_name(&"https://shop.example/a%20b/list?page=3".parse().unwrap()));
    }

    #[test]
    fn patterns_match_path_prefixes_with_wildcards() {
        for (pattern, path, matches) in [
            ("/help/", "/help/faq.html", true),
            ("/help/", "/helpdesk", false),
            ("/*/faq", "/en/faq.html", true),
            ("/*/faq", "/en/about", false),
            ("/", "/anything", true),
        ] {
            assert_eq!(prefix_match(pattern, path), matches, "{pattern} {path}");
        }
    }

    #[test]
    fn headers_round_trip_and_sitemaps_list_their_pages() {
        let meta = PageMeta {
            url: "https://shop.example/faq".into(),
            fetched_at: "2026-11-24T10:00:00Z".into(),
            etag: Some("\"v1--x\"".into()),
            last_modified: None,
        };
        let json = serde_json::to_string(&meta).unwrap().replace("--", "-\\u002d");
        let text = format!("{HEADER_START}{json}{HEADER_END}<html></html>");
        assert!(!json.contains("--"), "a comment may not hold --");
        let back = read_meta(&text).unwrap();
        assert_eq!((back.url.as_str(), back.etag.as_deref()), ("https://shop.example/faq", Some("\"v1--x\"")));
        assert!(read_meta("<html>").is_none());
        let xml = "<urlset><url><loc> https://shop.example/a?x=1&amp;y=2 </loc></url><url><loc>https://shop.example/b</loc></url></urlset>";
        assert_eq!(sitemap_locations(xml), ["https://shop.example/a?x=1&y=2", "https://shop.example/b"]);
    }
}
