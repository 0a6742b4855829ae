//! The bot page's "Your website" card: "Check my site" runs `docent doctor` on a page of the
//! owner's site, "Import from website" runs `docent kb import` into the bot's sources. Both
//! fetch through the bounded fetcher, which refuses private addresses unless the gateway was
//! started with `--fetch-private`.

use std::fmt::Write;

use crate::doctor::Report;
use crate::html::escape;
use crate::import::ImportReport;

use super::pages::Operator;

/// Pages an import from the console fetches at most (the CLI allows more).
pub(super) const CONSOLE_IMPORT_PAGES: usize = 100;

/// The card with both forms.
pub(super) fn section(me: &Operator<'_>, bot: &str) -> String {
    let form = |action: &str, id: &str, label: &str, button: &str| {
        format!(
            "<form method=\"post\" action=\"/admin/bots/{bot}/{action}\">\
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
        check = form("check-site", "check-url", "Page address", "Check my site"),
        import = form("import", "import-url", "Start address", "Import from website"),
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
