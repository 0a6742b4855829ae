//! The bot page's "Your website" card: "Check my site" runs `docent doctor` on a page of the
//! owner's site, "Import from website" runs `docent kb import` into the bot's sources. Both
//! fetch through the bounded fetcher, which refuses private addresses unless the gateway was
//! started with `--fetch-private`. With the console's script, the import streams its progress
//! (the page being fetched of those known, and what was left out) as server-sent events, the
//! way a deploy does.

use std::fmt::Write;
use std::path::PathBuf;

use tokio::sync::mpsc;

use crate::doctor::Report;
use crate::html::escape;
use crate::import::{ImportEvent, ImportOptions, ImportReport};

use super::super::HttpResponse;
use super::super::events::event_stream;
use super::pages::Operator;

/// Pages an import from the console fetches at most (the CLI allows more).
pub(super) const CONSOLE_IMPORT_PAGES: usize = 100;

/// The card with both forms.
pub(super) fn section(me: &Operator<'_>, bot: &str) -> String {
    let form = |action: &str, id: &str, label: &str, button: &str, live: &str| {
        format!(
            "<form method=\"post\" action=\"/admin/bots/{bot}/{action}\"{live}>\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <label for=\"{id}\">{label}</label> \
             <input id=\"{id}\" name=\"url\" type=\"url\" required placeholder=\"https://shop.example/help\"> \
             <button>{button}</button></form>",
            bot = escape(bot),
            csrf = escape(me.csrf),
        )
    };
    format!(
        "<section class=\"card\"><h2>Your website</h2>\
         <p class=\"muted\">Check a page that embeds the widget: the snippet, the widget files, the bot, \
         the page's origin and its Content-Security-Policy, each with its fix.</p>{check}\
         <p class=\"muted\">Import the site's pages (up to {CONSOLE_IMPORT_PAGES}, same origin, within robots.txt) \
         into knowledge/import/; FAQ markup becomes Q&amp;A pairs. Review the changes below, then deploy.</p>{import}\
         </section>",
        check = form("check-site", "check-url", "Page address", "Check my site", ""),
        import = form("import", "import-url", "Start address", "Import from website", " data-import")
            + "<p id=\"import-status\" class=\"muted\" aria-live=\"polite\"></p><ul id=\"import-log\"></ul>",
    )
}

/// Runs the import in the background and answers at once with its progress as server-sent
/// events: `page` before each page is fetched, `skipped` for each address left out, then
/// `done` with the report or `failed`. Each event's JSON carries a `text` line for the console.
/// A reader that goes away does not stop the import, which is bounded by `options.max_pages`.
pub(super) fn import_with_progress(target: PathBuf, options: ImportOptions) -> HttpResponse {
    let (events, response) = event_stream();
    tokio::spawn(async move {
        let (tx, mut rx) = mpsc::unbounded_channel::<ImportEvent>();
        let work = async move {
            let mut tell = |event| {
                let _ = tx.send(event);
            };
            crate::import::import(&target, &options, &mut tell).await
        };
        let forward = async {
            while let Some(event) = rx.recv().await {
                let (name, text) = describe_import(&event);
                events.send(name, &serde_json::json!({ "event": event, "text": text })).await;
            }
        };
        let (result, ()) = tokio::join!(work, forward);
        match result {
            Ok(report) => {
                let text = import_summary(&report);
                events.send("done", &serde_json::json!({ "report": report, "text": text })).await;
            }
            Err(err) => {
                let text = format!("Import failed: {err}");
                events.send("failed", &serde_json::json!({ "text": text })).await;
            }
        }
    });
    response
}

/// The event name and the console's line for one step of an import.
fn describe_import(event: &ImportEvent) -> (&'static str, String) {
    match event {
        ImportEvent::Progress { fetched, known, url } => {
            ("page", format!("Fetching page {} of {known} known: {url}", fetched + 1))
        }
        ImportEvent::Skipped { url, reason } => ("skipped", format!("Left out {url}: {reason}")),
    }
}

/// One line saying what an import did.
fn import_summary(report: &ImportReport) -> String {
    format!(
        "Import completed: {} pages written, {} unchanged, {} removed, {} left out ({} requests in {:.1} s).",
        report.written.len(),
        report.unchanged.len(),
        report.removed.len(),
        report.skipped.len(),
        report.requests,
        report.seconds
    )
}

/// The checklist, as the notice at the top of the bot page.
pub(super) fn check_notice(report: &Report) -> String {
    let passed = report.checks.iter().filter(|check| check.ok).count();
    let class = if report.all_ok() { "notice" } else { "notice bad" };
    let mut html = format!(
        "<div class=\"{class}\" role=\"status\"><p>{} — {passed} of {} checks passed.</p><ul class=\"checklist\">",
        escape(&report.url),
        report.checks.len()
    );
    for check in &report.checks {
        let mark = if check.ok { "✓" } else { "✗" };
        let _ = write!(html, "<li><span aria-hidden=\"true\">{mark}</span> {}", escape(&check.title));
        if !check.ok {
            html.push_str(" <span class=\"visually-hidden\">(failed)</span>");
        }
        if let Some(fix) = &check.fix {
            let _ = write!(html, "<br><span class=\"muted\">Fix: {}</span>", escape(fix));
        }
        html.push_str("</li>");
    }
    html.push_str("</ul></div>");
    html
}

/// What an import did, as the notice at the top of the bot page.
pub(super) fn import_notice(url: &str, report: &ImportReport) -> String {
    let mut html = format!(
        "<div class=\"notice\" role=\"status\"><p>Imported from {}: {} pages written, {} unchanged, {} removed \
         ({} requests in {:.1} s). The Deploy card lists what changed.</p>",
        escape(url),
        report.written.len(),
        report.unchanged.len(),
        report.removed.len(),
        report.requests,
        report.seconds
    );
    if !report.skipped.is_empty() {
        html.push_str("<details><summary>Left out</summary><ul>");
        for (page, reason) in &report.skipped {
            let _ = write!(html, "<li>{}: {}</li>", escape(page), escape(reason));
        }
        html.push_str("</ul></details>");
    }
    html.push_str("</div>");
    html
}
