//! The console's Analytics page (one bot, a time range, KPIs against targets, charts,
//! questions) and Logs page (operational records filtered by time, level and bot, exported
//! as CSV or JSON), and the bot's report downloads (`reports/{day|week|month}.{html|xlsx|pdf}`).
//! Charts are SVG drawn on the server; the pages run no script of their own.

use std::fmt::Write;

use docent_analytics::report::{Format, Period, Report};
use docent_analytics::{Dashboard, Goal, Range, Standing, chart};
use docent_lifecycle::store::events::day_of;
use docent_lifecycle::store::{
    AdminToken, Incident, LogLevel, LogQuery, LogRecord, QuestionCount, ReportSchedule, Scope,
};
use docent_lifecycle::when::{self, now};
use docent_protocol::ErrorCode;
use hyper::StatusCode;
use hyper::header;

use super::html::page;
use super::pages::Operator;
use super::{html, set_header};
use crate::alerts::{self, AlertSettings};
use crate::error::ApiError;
use crate::html::escape;
use crate::http::admin_api::{blocking, may_manage};
use crate::http::{HttpResponse, full_body};
use crate::recorder::{logs_csv, operational_records, parse_moment};

/// Log records shown on the page; exports hold up to [`EXPORT_ROWS`].
const PAGE_ROWS: usize = 500;
const EXPORT_ROWS: usize = 100_000;

/// The ranges offered, by key.
const RANGES: &[(&str, &str, i64)] =
    &[("24h", "Last 24 hours", 86_400), ("7d", "Last 7 days", 7 * 86_400), ("30d", "Last 30 days", 30 * 86_400)];

fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    form_urlencoded::parse(query.unwrap_or_default().as_bytes()).into_owned().collect()
}

fn field<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs.iter().find(|(key, _)| key == name).map(|(_, value)| value.trim()).filter(|value| !value.is_empty())
}

/// The range chosen on the page: a preset, or `custom` with `from` and `to` days (both included).
fn chosen_range(pairs: &[(String, String)], now: i64) -> Result<(String, Range), ApiError> {
    let key = field(pairs, "range").unwrap_or("7d");
    if let Some((key, _, seconds)) = RANGES.iter().find(|(known, _, _)| *known == key) {
        return Ok(((*key).to_owned(), Range::last(*seconds, now)));
    }
    if key != "custom" {
        return Err(ApiError::invalid_request("`range` is 24h, 7d, 30d or custom"));
    }
    let day = |name: &str| {
        let text =
            field(pairs, name).ok_or_else(|| ApiError::invalid_request(format!("a custom range needs `{name}`")))?;
        parse_moment(text, now).map_err(ApiError::invalid_request)
    };
    let (from, to) = (day("from")?, day("to")? + 86_400);
    if to <= from {
        return Err(ApiError::invalid_request("`to` must not be before `from`"));
    }
    if to - from > 400 * 86_400 {
        return Err(ApiError::invalid_request("a range spans at most 400 days"));
    }
    Ok(("custom".to_owned(), Range { from, to }))
}

pub(super) async fn analytics(
    state: &crate::http::AppState,
    me: &Operator<'_>,
    admin: &AdminToken,
    bot: &str,
    query: Option<&str>,
) -> Result<HttpResponse, ApiError> {
    if !may_manage(admin, bot) {
        return Err(ApiError::new(ErrorCode::Forbidden, format!("this admin token may not manage \"{bot}\"")));
    }
    let pairs = query_pairs(query);
    let (key, range) = chosen_range(&pairs, now())?;
    let id = bot.to_owned();
    let (dashboard, incidents, settings, schedules) = blocking(&state.lifecycle, move |lifecycle| {
        lifecycle.require_bot(&id)?;
        let store = lifecycle.store();
        Ok((
            Dashboard::load(store, &id, range)?,
            store.incidents(Some(&id), INCIDENT_ROWS)?,
            alerts::settings_of(store, &id)?,
            store.report_schedules(Some(&id))?,
        ))
    })
    .await?;
    let alerting = format!("{}{}", incidents_section(&incidents), alerts_section(me, bot, &settings));
    Ok(html(StatusCode::OK, analytics_page(me, &dashboard, &key, &pairs, &schedules, &alerting)))
}

/// Incidents listed on the Analytics page, newest first.
const INCIDENT_ROWS: usize = 50;

fn incidents_section(incidents: &[Incident]) -> String {
    let mut html = String::from(
        "<section class=\"card\" id=\"incidents\"><h2>Incidents</h2><table id=\"incident-list\"><thead><tr>\
         <th scope=\"col\">Alert</th><th scope=\"col\">Opened</th><th scope=\"col\">State</th>\
         <th scope=\"col\">Measured</th></tr></thead><tbody>",
    );
    for incident in incidents {
        let state = match incident.resolved_at {
            Some(at) => format!("<span class=\"state good\">resolved {}</span>", escape(&when::format(at))),
            None => "<span class=\"state bad\">open</span>".to_owned(),
        };
        let _ = write!(
            html,
            "<tr data-kind=\"{kind}\"><th scope=\"row\">{title}</th><td>{opened}</td><td>{state}</td><td>{detail}</td></tr>",
            kind = incident.kind.as_str(),
            title = alerts::title(incident.kind),
            opened = escape(&when::format(incident.opened_at)),
            detail = escape(&incident.detail),
        );
    }
    if incidents.is_empty() {
        html.push_str("<tr><td colspan=\"4\">No incident so far.</td></tr>");
    }
    html.push_str("</tbody></table></section>");
    html
}

/// The thresholds and channels (by kind and host only), and a form to replace them.
fn alerts_section(me: &Operator<'_>, bot: &str, settings: &AlertSettings) -> String {
    let thresholds = &settings.thresholds;
    let mut html = format!(
        "<section class=\"card\" id=\"alerts\"><h2>Alert settings</h2><table id=\"alert-thresholds\"><tbody>\
         <tr><th scope=\"row\">Downtime</th><td>over {} s, seen by <code>docent watch</code></td></tr>\
         <tr><th scope=\"row\">Error rate</th><td>over {} in the last hour</td></tr>\
         <tr><th scope=\"row\">Success rate</th><td>under {} in the last 24 hours</td></tr>\
         <tr><th scope=\"row\">Traffic spike</th><td>over {} of the same hour's normal</td></tr>\
         <tr><th scope=\"row\">Storage</th><td>over {} of the plan's limit</td></tr>\
         </tbody></table><h3>Channels</h3><ul id=\"alert-channels\">",
        thresholds.downtime_seconds,
        percent(thresholds.error_rate),
        percent(thresholds.success_rate),
        percent(thresholds.spike_ratio),
        percent(thresholds.storage_ratio),
    );
    for channel in &settings.channels {
        let _ = write!(html, "<li>{}</li>", escape(&channel.label()));
    }
    if settings.channels.is_empty() {
        html.push_str("<li>None: incidents are listed here only.</li>");
    }
    let _ = write!(
        html,
        "</ul><form method=\"post\" action=\"/admin/bots/{bot}/alerts\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <label for=\"alert-settings\">Replace the settings (TOML, as <code>docent alerts {bot} set</code> takes; see the README)</label>\
         <textarea id=\"alert-settings\" name=\"settings\" rows=\"8\" placeholder=\"[thresholds]&#10;error_rate_percent = 10&#10;&#10;[[channel]]&#10;kind = &quot;slack&quot;&#10;url = &quot;https://…&quot;\"></textarea>\
         <button class=\"primary\">Save alert settings</button></form></section>",
        bot = escape(bot),
        csrf = escape(me.csrf),
    );
    html
}

/// The page; `alerting` is the incidents and alert settings sections, put last.
fn analytics_page(
    me: &Operator<'_>,
    board: &Dashboard,
    key: &str,
    pairs: &[(String, String)],
    schedules: &[ReportSchedule],
    alerting: &str,
) -> String {
    let id = escape(&board.bot);
    let mut body = format!(
        "<h1>{id} · Analytics</h1><p><a href=\"/admin/bots/{id}\">Back to {id}</a> · \
         <a href=\"/admin/logs?bot={id}\">Logs</a></p>"
    );
    if board.demo_conversations > 0 {
        let _ = write!(
            body,
            "<p class=\"notice demo\" role=\"status\"><strong>Demo data.</strong> {} of these conversations were \
             seeded by <code>cargo xtask demo</code> to show the console; they are not real visitors.</p>",
            board.demo_conversations
        );
    }
    body.push_str(&range_form(key, pairs, board.range));
    body.push_str(&reports_section(&id, schedules));
    body.push_str(&targets_section(board));
    body.push_str(&figures_section(board));
    body.push_str("<section class=\"card charts\"><h2>Charts</h2>");
    for drawn in [
        chart::replies(&board.series, board.bucket_seconds),
        chart::latency(&board.series, board.bucket_seconds),
        chart::heatmap(&board.heatmap),
    ] {
        match drawn {
            Ok(svg) => {
                let _ = write!(body, "<figure class=\"chart\">{svg}</figure>");
            }
            Err(err) => {
                let _ = write!(body, "<p class=\"notice bad\">{}</p>", escape(&err));
            }
        }
    }
    body.push_str("</section>");
    body.push_str(&questions_section(me, &id, "Most asked questions", "most-asked", &board.top_questions, false));
    if let Some(drafted) = field(pairs, "drafted") {
        let text = match drafted {
            "added" => "Drafted in <code>knowledge/drafts.toml</code>: write its answer there, then deploy.",
            _ => "That question is drafted in <code>knowledge/drafts.toml</code> already.",
        };
        let _ = write!(body, "<p class=\"notice\" role=\"status\" id=\"drafted\">{text}</p>");
    }
    body.push_str(&questions_section(me, &id, "Unresolved questions", "unresolved", &board.unresolved, true));
    body.push_str(&flows_section(board));
    body.push_str(alerting);
    page(&format!("{} analytics", board.bot), Some((me.name, me.csrf)), &body)
}

fn range_form(key: &str, pairs: &[(String, String)], range: Range) -> String {
    let mut html = String::from(
        "<section class=\"card\"><form class=\"inline\" method=\"get\" id=\"range-form\">\
         <label for=\"range\">Time range</label><select id=\"range\" name=\"range\">",
    );
    for (option, label, _) in RANGES.iter().copied().chain([("custom", "Custom (from–to)", 0)]) {
        let selected = if option == key { " selected" } else { "" };
        let _ = write!(html, "<option value=\"{option}\"{selected}>{label}</option>");
    }
    let _ = write!(
        html,
        "</select><label for=\"from\">From</label><input type=\"date\" id=\"from\" name=\"from\" value=\"{}\">\
         <label for=\"to\">To</label><input type=\"date\" id=\"to\" name=\"to\" value=\"{}\">\
         <button class=\"primary\">Show</button></form><p class=\"muted\">From {} to {}.</p></section>",
        escape(field(pairs, "from").unwrap_or_default()),
        escape(field(pairs, "to").unwrap_or_default()),
        when::format(range.from),
        when::format(range.to),
    );
    html
}

/// Download links for each period and format, and the report schedules; `id` is already escaped.
fn reports_section(id: &str, schedules: &[ReportSchedule]) -> String {
    let mut html = String::from(
        "<section class=\"card\"><h2>Reports</h2><table id=\"reports\"><thead><tr><th scope=\"col\">Period</th>\
         <th scope=\"col\">Summary (HTML)</th><th scope=\"col\">Detail (Excel)</th>\
         <th scope=\"col\">Executive summary (PDF)</th></tr></thead><tbody>",
    );
    for (period, label) in [(Period::Day, "Yesterday"), (Period::Week, "Last 7 days"), (Period::Month, "Last month")] {
        let _ = write!(html, "<tr><th scope=\"row\">{label}</th>");
        for format in Format::ALL {
            let file = format!("{}.{}", period.as_str(), format.extension());
            let _ = write!(html, "<td><a href=\"/admin/bots/{id}/reports/{file}\" download>{file}</a></td>");
        }
        html.push_str("</tr>");
    }
    html.push_str(
        "</tbody></table><p class=\"muted\">Whole UTC days up to today 00:00, compared with the period before; \
         the same files as <code>docent report</code>.</p>",
    );
    html.push_str(
        "<h3>Sent on schedule</h3><table id=\"report-schedules\"><thead><tr><th scope=\"col\">Report</th>\
         <th scope=\"col\">Formats</th><th scope=\"col\">Next</th><th scope=\"col\">Last sent</th></tr></thead><tbody>",
    );
    for schedule in schedules {
        let name = Period::parse(&schedule.period).map_or("Unknown", Period::adjective);
        let last = schedule.last_sent_at.map_or_else(|| "never".to_owned(), when::format);
        let _ = write!(
            html,
            "<tr data-period=\"{period}\"><th scope=\"row\">{name}</th><td>{formats}</td><td>{next}</td><td>{last}</td></tr>",
            period = escape(&schedule.period),
            formats = escape(&schedule.formats.join(", ")),
            next = escape(&when::format(schedule.next_at)),
            last = escape(&last),
        );
    }
    if schedules.is_empty() {
        html.push_str("<tr><td colspan=\"4\">None.</td></tr>");
    }
    let _ = write!(
        html,
        "</tbody></table><p class=\"muted\">Sent to the alert channels below (SMS excepted); set with \
         <code>docent reports {id} schedule --period week --format pdf,xlsx</code>.</p></section>"
    );
    html
}

/// `GET /admin/bots/{bot}/reports/{period}.{format}`: the report of the period ending today
/// at 00:00 UTC, as a download.
pub(super) async fn report(
    state: &crate::http::AppState,
    admin: &AdminToken,
    bot: &str,
    file: &str,
) -> Result<HttpResponse, ApiError> {
    if !may_manage(admin, bot) {
        return Err(ApiError::new(ErrorCode::Forbidden, format!("this admin token may not manage \"{bot}\"")));
    }
    let (period, format) = file
        .split_once('.')
        .and_then(|(period, extension)| Some((Period::parse(period)?, Format::parse(extension)?)))
        .ok_or_else(ApiError::not_found)?;
    let id = bot.to_owned();
    let until = day_of(now());
    let report = blocking(&state.lifecycle, move |lifecycle| {
        lifecycle.require_bot(&id)?;
        Ok(Report::build(lifecycle.store(), &id, period, until)?)
    })
    .await?;
    let file = tokio::task::spawn_blocking(move || report.render(format))
        .await
        .map_err(|err| ApiError::internal(&err))?
        .map_err(|err| ApiError::internal(&err))?;
    Ok(download(file.mime_type, &file.name, file.bytes))
}

fn targets_section(board: &Dashboard) -> String {
    let mut html = String::from(
        "<section class=\"card\"><h2>Targets</h2><table id=\"kpis\"><thead><tr><th scope=\"col\">KPI</th>\
         <th scope=\"col\">Target</th><th scope=\"col\">Now</th><th scope=\"col\">Standing</th></tr></thead><tbody>",
    );
    for target in &board.targets {
        let is_rate = matches!(target.name, "Uptime" | "Success rate" | "Error rate");
        let show = |value: f64| match target.name {
            "Response time" => format!("{value:.2} s"),
            "Satisfaction" => format!("{value:.2} / 5 ({} ratings)", board.kpis.ratings),
            _ if is_rate => percent(value),
            _ => format!("{value:.2}"),
        };
        let threshold = match target.name {
            "Response time" => format!("{} s", target.threshold),
            "Satisfaction" => format!("{:.1}", target.threshold),
            _ => percent(target.threshold),
        };
        let (standing, class) = match target.standing {
            Standing::Met => ("met", "good"),
            Standing::Missed => ("missed", "bad"),
            Standing::NoData => ("no data", "muted"),
            Standing::NoWatcher => ("no watcher", "muted"),
        };
        let _ = write!(
            html,
            "<tr data-kpi=\"{name}\"><th scope=\"row\">{name}</th><td>{goal} {threshold}</td><td>{value}</td>\
             <td><span class=\"state {class}\">{standing}</span></td></tr>",
            name = escape(target.name),
            goal = if target.goal == Goal::Below { "&lt;" } else { "&gt;" },
            value = target.value.map_or_else(|| "—".to_owned(), show),
        );
    }
    html.push_str(
        "</tbody></table><p class=\"muted\">Uptime is measured from outside by <code>docent watch</code>; \
         until a watcher reports, it shows “no watcher”.</p></section>",
    );
    html
}

fn figures_section(board: &Dashboard) -> String {
    let kpis = &board.kpis;
    let rate = |value: Option<f64>| value.map_or_else(|| "—".to_owned(), percent);
    let rows = [
        ("Conversations", kpis.conversations.to_string(), "started in the range, with a visitor message"),
        ("Visitor messages", kpis.messages.to_string(), "answered or not"),
        ("Questions asked", kpis.asked.to_string(), "replies of any tier"),
        ("Resolved", kpis.resolved.to_string(), "answers that were not rated down"),
        ("Success rate", rate(kpis.success_rate), "resolved ÷ asked"),
        (
            "Average satisfaction",
            kpis.satisfaction
                .map_or_else(|| "—".to_owned(), |value| format!("{value:.2} / 5 ({} ratings)", kpis.ratings)),
            "mean of the 1–5 ratings",
        ),
        (
            "Average session",
            kpis.average_session_seconds.map_or_else(|| "—".to_owned(), duration),
            "first to last activity of a conversation",
        ),
        ("Bounce rate", rate(kpis.bounce_rate), "conversations with one visitor message"),
        ("Conversion rate", rate(kpis.conversion_rate), "conversations with a goal"),
        (
            "Response time",
            kpis.response_ms.map_or_else(|| "—".to_owned(), |ms| format!("{ms:.0} ms")),
            "mean, measured in the gateway",
        ),
        ("Slow replies", kpis.slow_replies.to_string(), "slower than 2 s"),
        ("Errors", kpis.errors.to_string(), "failed widget-API requests (4xx, 5xx)"),
        ("Error rate", rate(kpis.error_rate), "errors ÷ (asked + errors)"),
    ];
    let mut html = String::from("<section class=\"card\"><h2>Figures</h2><table id=\"figures\"><tbody>");
    for (name, value, meaning) in rows {
        let _ = write!(
            html,
            "<tr><th scope=\"row\">{name}</th><td>{}</td><td class=\"muted\">{meaning}</td></tr>",
            escape(&value)
        );
    }
    html.push_str("</tbody></table><p class=\"muted\">Definitions: docs/analytics.md.</p></section>");
    html
}

/// A table of question groups; unresolved ones get a button writing a Q&A draft of the way a
/// visitor asked it (`id` is already escaped).
fn questions_section(
    me: &Operator<'_>,
    id: &str,
    title: &str,
    table: &str,
    questions: &[QuestionCount],
    unresolved: bool,
) -> String {
    let mut html = format!(
        "<section class=\"card\"><h2>{title}</h2><table id=\"{table}\"><thead><tr><th scope=\"col\">Question</th>\
         <th scope=\"col\">Asked as</th><th scope=\"col\">{}</th>{}</tr></thead><tbody>",
        if unresolved { "Unresolved" } else { "Asked" },
        if unresolved { "<th scope=\"col\">Q&amp;A draft</th>" } else { "" },
    );
    for question in questions {
        let _ = write!(
            html,
            "<tr><td>{}</td><td class=\"muted\">{}</td><td>{}</td>",
            escape(&question.question),
            escape(&question.example),
            if unresolved { question.unresolved } else { question.asked }
        );
        if unresolved {
            let _ = write!(
                html,
                "<td><form method=\"post\" action=\"/admin/bots/{id}/draft\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
                 <input type=\"hidden\" name=\"question\" value=\"{question}\"><button>Draft a Q&amp;A</button></form></td>",
                csrf = escape(me.csrf),
                question = escape(&question.example),
            );
        }
        html.push_str("</tr>");
    }
    if questions.is_empty() {
        let _ = write!(html, "<tr><td colspan=\"{}\">None in this range.</td></tr>", if unresolved { 4 } else { 3 });
    }
    html.push_str("</tbody></table>");
    if unresolved {
        html.push_str(
            "<p class=\"muted\">A draft is a <code>[[qa]]</code> with an empty answer in \
             <code>knowledge/drafts.toml</code>; it is left out of the bot until you write its answer and deploy.</p>",
        );
    }
    html.push_str("</section>");
    html
}

/// The most taken flow paths and the drop-off points (see docs/analytics.md).
fn flows_section(board: &Dashboard) -> String {
    let mut html = String::from(
        "<section class=\"card\"><h2>User flows</h2><table id=\"flows\"><thead><tr><th scope=\"col\">Topics, in order</th>\
         <th scope=\"col\">Conversations</th></tr></thead><tbody>",
    );
    for flow in &board.flows {
        let topics: Vec<String> = flow.topics.iter().map(|topic| escape(topic)).collect();
        let _ = write!(html, "<tr><td>{}</td><td>{}</td></tr>", topics.join(" → "), flow.conversations);
    }
    if board.flows.is_empty() {
        html.push_str("<tr><td colspan=\"2\">None in this range.</td></tr>");
    }
    html.push_str(
        "</tbody></table><h3>Drop-off points</h3><table id=\"drop-offs\"><thead><tr>\
         <th scope=\"col\">Last topic of unresolved conversations</th><th scope=\"col\">Conversations</th></tr></thead><tbody>",
    );
    for drop in &board.drop_offs {
        let _ = write!(html, "<tr><td>{}</td><td>{}</td></tr>", escape(&drop.topic), drop.conversations);
    }
    if board.drop_offs.is_empty() {
        html.push_str("<tr><td colspan=\"2\">None in this range.</td></tr>");
    }
    html.push_str("</tbody></table></section>");
    html
}

fn percent(value: f64) -> String {
    format!("{:.1} %", value * 100.0)
}

fn duration(seconds: f64) -> String {
    let seconds = seconds.round() as u64;
    if seconds >= 60 { format!("{} min {} s", seconds / 60, seconds % 60) } else { format!("{seconds} s") }
}

/// The log filter of a request: a scoped admin token sees its own bot only.
fn log_query(pairs: &[(String, String)], admin: &AdminToken, now: i64, limit: usize) -> Result<LogQuery, ApiError> {
    let moment = |name: &str| {
        field(pairs, name).map(|text| parse_moment(text, now).map_err(ApiError::invalid_request)).transpose()
    };
    let level = field(pairs, "level")
        .map(|text| LogLevel::parse(text).ok_or_else(|| ApiError::invalid_request("`level` is info, warning or error")))
        .transpose()?;
    let bot = match (&admin.scope, field(pairs, "bot")) {
        (Scope::All, bot) => bot.map(str::to_owned),
        (Scope::Bot(only), None) => Some(only.clone()),
        (Scope::Bot(only), Some(bot)) if bot == only => Some(only.clone()),
        (Scope::Bot(_), Some(bot)) => {
            return Err(ApiError::new(
                ErrorCode::Forbidden,
                format!("this admin token may not read the logs of \"{bot}\""),
            ));
        }
    };
    Ok(LogQuery { bot, since: moment("since")?, until: moment("until")?, level, limit })
}

pub(super) async fn logs(
    state: &crate::http::AppState,
    me: &Operator<'_>,
    admin: &AdminToken,
    query: Option<&str>,
) -> Result<HttpResponse, ApiError> {
    let pairs = query_pairs(query);
    let format = field(&pairs, "format").unwrap_or("html").to_owned();
    let limit = if format == "html" { PAGE_ROWS } else { EXPORT_ROWS };
    let filter = log_query(&pairs, admin, now(), limit)?;
    let reading = filter.clone();
    let records =
        blocking(&state.lifecycle, move |lifecycle| Ok(operational_records(lifecycle.store(), &reading)?)).await?;
    match format.as_str() {
        "html" => Ok(html(StatusCode::OK, logs_page(me, &filter, &pairs, &records))),
        "csv" => Ok(download("text/csv; charset=utf-8", "docent-logs.csv", logs_csv(&records))),
        "json" => {
            let json = serde_json::to_string_pretty(&records).map_err(|err| ApiError::internal(&err))?;
            Ok(download("application/json", "docent-logs.json", json))
        }
        _ => Err(ApiError::invalid_request("`format` is html, csv or json")),
    }
}

fn download(content_type: &str, file: &str, bytes: impl Into<bytes::Bytes>) -> HttpResponse {
    let mut response = hyper::Response::new(full_body(bytes));
    set_header(&mut response, header::CONTENT_TYPE, content_type);
    set_header(&mut response, header::CONTENT_DISPOSITION, &format!("attachment; filename=\"{file}\""));
    response
}

fn logs_page(me: &Operator<'_>, filter: &LogQuery, pairs: &[(String, String)], records: &[LogRecord]) -> String {
    let value = |name: &str| escape(field(pairs, name).unwrap_or_default());
    let mut body =
        String::from("<h1>Logs</h1><section class=\"card\"><form class=\"inline\" method=\"get\" id=\"log-filter\">");
    let _ = write!(
        body,
        "<label for=\"bot\">Bot</label><input type=\"text\" id=\"bot\" name=\"bot\" value=\"{}\" size=\"14\">\
         <label for=\"since\">Since</label><input type=\"text\" id=\"since\" name=\"since\" value=\"{}\" placeholder=\"2026-11-01 or -24h\" size=\"16\">\
         <label for=\"until\">Until</label><input type=\"text\" id=\"until\" name=\"until\" value=\"{}\" size=\"16\">\
         <label for=\"level\">Level</label><select id=\"level\" name=\"level\">",
        escape(filter.bot.as_deref().unwrap_or_default()),
        value("since"),
        value("until"),
    );
    for (level, label) in
        [("", "all"), ("info", "info and above"), ("warning", "warning and above"), ("error", "error")]
    {
        let selected = if filter.level.map(LogLevel::as_str).unwrap_or_default() == level { " selected" } else { "" };
        let _ = write!(body, "<option value=\"{level}\"{selected}>{label}</option>");
    }
    body.push_str("</select><button class=\"primary\">Filter</button></form>");
    let export: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs.iter().filter(|(key, _)| key != "format"))
        .finish();
    let separator = if export.is_empty() { "" } else { "&amp;" };
    let _ = write!(
        body,
        "<p>Export: <a id=\"export-csv\" href=\"/admin/logs?{query}{separator}format=csv\">CSV</a> · \
         <a id=\"export-json\" href=\"/admin/logs?{query}{separator}format=json\">JSON</a></p></section>",
        query = escape(&export)
    );
    body.push_str(
        "<section class=\"card\"><table id=\"log-records\"><thead><tr><th scope=\"col\">Time (UTC)</th>\
         <th scope=\"col\">Level</th><th scope=\"col\">Bot</th><th scope=\"col\">Record</th></tr></thead><tbody>",
    );
    for record in records {
        let class = match record.level {
            LogLevel::Info => "muted",
            LogLevel::Warning => "warn",
            LogLevel::Error => "bad",
        };
        let _ = write!(
            body,
            "<tr><td>{}</td><td><span class=\"state {class}\">{}</span></td><td>{}</td><td>{}</td></tr>",
            when::format(record.at),
            record.level.as_str(),
            escape(record.bot.as_deref().unwrap_or("—")),
            escape(&record.message)
        );
    }
    if records.is_empty() {
        body.push_str("<tr><td colspan=\"4\">No records match.</td></tr>");
    }
    let _ = write!(
        body,
        "</tbody></table><p class=\"muted\">Newest first, at most {PAGE_ROWS} rows; exports hold up to {EXPORT_ROWS}.</p></section>"
    );
    page("Logs", Some((me.name, me.csrf)), &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(query: &str) -> Vec<(String, String)> {
        query_pairs(Some(query))
    }

    #[test]
    fn ranges_are_presets_or_whole_custom_days() {
        let now = 1_796_000_000;
        for (query, expected) in [
            ("", Ok(Range { from: now - 7 * 86_400, to: now })),
            ("range=24h", Ok(Range { from: now - 86_400, to: now })),
            ("range=30d", Ok(Range { from: now - 30 * 86_400, to: now })),
            ("range=custom&from=2026-11-01&to=2026-11-01", Ok(Range { from: 1_793_491_200, to: 1_793_577_600 })),
            ("range=custom&from=2026-11-02&to=2026-11-01", Err("`to` must not be before `from`")),
            ("range=custom&from=2026-11-01", Err("a custom range needs `to`")),
            ("range=1y", Err("`range` is 24h, 7d, 30d or custom")),
        ] {
            let got = chosen_range(&pairs(query), now).map(|(_, range)| range).map_err(|err| err.message);
            assert_eq!(got, expected.map_err(str::to_owned), "{query}");
        }
    }

    #[test]
    fn a_scoped_token_reads_its_own_bot_logs_only() {
        let admin = |scope| AdminToken { name: "a".into(), digest: "d".into(), scope, created_at: 0, revoked_at: None };
        let all = admin(Scope::All);
        let scoped = admin(Scope::Bot("acme".into()));
        assert_eq!(log_query(&pairs(""), &all, 0, 5).unwrap().bot, None);
        assert_eq!(log_query(&pairs("bot=zen"), &all, 0, 5).unwrap().bot.as_deref(), Some("zen"));
        assert_eq!(log_query(&pairs(""), &scoped, 0, 5).unwrap().bot.as_deref(), Some("acme"));
        assert_eq!(log_query(&pairs("bot=zen"), &scoped, 0, 5).unwrap_err().code, ErrorCode::Forbidden);
        let filter = log_query(&pairs("level=warning&since=-1h&until=2026-11-01"), &all, 10_000, 5).unwrap();
        assert_eq!(
            (filter.level, filter.since, filter.until),
            (Some(LogLevel::Warning), Some(6_400), Some(1_793_491_200))
        );
        assert!(log_query(&pairs("level=debug"), &all, 0, 5).is_err());
    }
}
