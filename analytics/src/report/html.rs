//! The HTML summary: one self-contained page (inline styles and SVG charts, no script, no
//! external resource), every text from the store escaped.

use std::fmt::Write;

use docent_store::QuestionCount;

use super::{Figure, RenderError, Report, WEEKDAYS};
use crate::chart;

const STYLE: &str = "body{font-family:system-ui,sans-serif;color:#1b1f24;margin:2rem auto;max-width:52rem;\
padding:0 1rem;line-height:1.45}h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:2rem}\
table{border-collapse:collapse;width:100%;margin:.5rem 0}th,td{text-align:left;padding:.3rem .5rem;\
border-bottom:1px solid #d0d7de}td.n{text-align:right;font-variant-numeric:tabular-nums}.muted{color:#57606a}\
.met{color:#1a7f37;font-weight:600}.missed{color:#cf222e;font-weight:600}.notice{background:#fff8c5;\
padding:.5rem .8rem;border-radius:4px}figure{margin:1rem 0}svg{max-width:100%;height:auto}";

/// The page as a string.
pub(super) fn render(report: &Report) -> Result<String, RenderError> {
    let board = &report.dashboard;
    let title = format!("{} report: {}", report.period.adjective(), report.bot());
    let mut page = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{}</title>\
         <style>{STYLE}</style></head><body><h1>{}</h1><p class=\"muted\">{} (UTC) · compared with {} – {}</p>",
        escape(&title),
        escape(&title),
        escape(&report.span()),
        super::date(report.previous_range.from),
        super::date(report.previous_range.to - 1),
    );
    if report.is_empty() {
        page.push_str("<p class=\"notice\" id=\"empty\">No conversations in this period.</p>");
    }
    if board.demo_conversations > 0 {
        let _ = write!(
            page,
            "<p class=\"notice\">Demo data: {} of these conversations were seeded to show the console; \
             they are not real visitors.</p>",
            board.demo_conversations
        );
    }
    figures_table(&mut page, &report.figures());
    peak_section(&mut page, report);
    page.push_str("<h2>Charts</h2>");
    for (name, drawn) in [
        ("replies", chart::replies(&board.series, board.bucket_seconds)),
        ("response time", chart::latency(&board.series, board.bucket_seconds)),
        ("heatmap", chart::heatmap(&board.heatmap)),
    ] {
        let svg = drawn.map_err(|reason| RenderError::Chart { chart: name, reason })?;
        let _ = write!(page, "<figure>{svg}</figure>");
    }
    series_table(&mut page, report);
    questions_table(&mut page, "Most asked questions", "most-asked", &board.top_questions, false);
    questions_table(&mut page, "Unresolved questions", "unresolved", &board.unresolved, true);
    page.push_str("<p class=\"muted\">Definitions of every figure: docs/analytics.md.</p></body></html>\n");
    Ok(page)
}

fn figures_table(page: &mut String, figures: &[Figure]) {
    page.push_str(
        "<h2>Key figures</h2><table id=\"figures\"><thead><tr><th scope=\"col\">Figure</th>\
         <th scope=\"col\">Target</th><th scope=\"col\">This period</th><th scope=\"col\">Previous</th>\
         <th scope=\"col\">Change</th><th scope=\"col\">Standing</th></tr></thead><tbody>",
    );
    for figure in figures {
        let standing = figure.standing();
        let _ = write!(
            page,
            "<tr><th scope=\"row\">{}</th><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
             <td class=\"n\">{}</td><td class=\"{}\">{}</td></tr>",
            escape(figure.name),
            escape(&figure.shown_target()),
            escape(&figure.shown()),
            escape(&figure.shown_previous()),
            escape(&figure.shown_change()),
            standing.replace(' ', "-"),
            standing,
        );
    }
    page.push_str(
        "</tbody></table><p class=\"muted\">Uptime is measured from outside by <code>docent watch</code>.</p>",
    );
}

fn peak_section(page: &mut String, report: &Report) {
    page.push_str("<h2>Peak usage</h2><ul id=\"peak\">");
    match report.busiest_bucket() {
        Some(bucket) => {
            let _ = write!(
                page,
                "<li>Busiest {}: {} ({} messages)</li>",
                if report.dashboard.bucket_seconds < 86_400 { "hour" } else { "day" },
                escape(&report.bucket_label(bucket)),
                bucket.sums.messages
            );
        }
        None => page.push_str("<li>No visitor messages.</li>"),
    }
    for peak in report.peak_hours() {
        let _ = write!(
            page,
            "<li>{} {:02}:00–{:02}:00 UTC: {} messages</li>",
            WEEKDAYS[peak.weekday],
            peak.hour,
            peak.hour + 1,
            peak.messages
        );
    }
    page.push_str("</ul>");
}

fn series_table(page: &mut String, report: &Report) {
    let hourly = report.dashboard.bucket_seconds < 86_400;
    let _ = write!(
        page,
        "<h2>{}</h2><table id=\"series\"><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">Conversations</th>\
         <th scope=\"col\">Messages</th><th scope=\"col\">Answers</th><th scope=\"col\">Unresolved</th>\
         <th scope=\"col\">Errors</th><th scope=\"col\">Mean response</th></tr></thead><tbody>",
        if hourly { "Hour by hour" } else { "Day by day" },
        if hourly { "Hour (UTC)" } else { "Day" },
    );
    for bucket in &report.dashboard.series {
        let sums = &bucket.sums;
        let response = match sums.replies() {
            0 => "—".to_owned(),
            replies => format!("{:.2} s", sums.latency_ms_sum as f64 / replies as f64 / 1000.0),
        };
        let _ = write!(
            page,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
             <td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{response}</td></tr>",
            report.bucket_label(bucket),
            sums.conversations,
            sums.messages,
            sums.answers,
            Report::unresolved_replies(sums),
            sums.errors,
        );
    }
    page.push_str("</tbody></table>");
}

fn questions_table(page: &mut String, title: &str, id: &str, questions: &[QuestionCount], unresolved: bool) {
    let _ = write!(
        page,
        "<h2>{title}</h2><table id=\"{id}\"><thead><tr><th scope=\"col\">Question</th>\
         <th scope=\"col\">Asked as</th><th scope=\"col\">{}</th></tr></thead><tbody>",
        if unresolved { "Unresolved" } else { "Asked" }
    );
    for question in questions {
        let _ = write!(
            page,
            "<tr><td>{}</td><td class=\"muted\">{}</td><td class=\"n\">{}</td></tr>",
            escape(&question.question),
            escape(&question.example),
            if unresolved { question.unresolved } else { question.asked }
        );
    }
    if questions.is_empty() {
        page.push_str("<tr><td colspan=\"3\">None in this period.</td></tr>");
    }
    page.push_str("</tbody></table>");
}

/// Escapes text for HTML element content and double-quoted attribute values (the reports', and
/// every page the gateway renders).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}
