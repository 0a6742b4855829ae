//! The console's pages: sign-in, the bots list, and one bot's page with every operation.

use std::fmt::Write;

use docent_lifecycle::access::PlanReport;
use docent_lifecycle::store::{AccessToken, Deploy, Generation, MonitorRun, Schedule};
use docent_lifecycle::when::{self, now};
use docent_lifecycle::{CheckReport, CheckState, DeployEvent, Integration, Lifecycle, StatusReport, StatusState};
use docent_protocol::Visibility;

use super::html::page;
use crate::error::ApiError;
use crate::html::escape;

/// Deploys shown on a bot page.
const HISTORY_ROWS: usize = 10;

/// The signed-in operator, for the page frame and the forms.
pub(crate) struct Operator<'a> {
    pub(crate) name: &'a str,
    pub(crate) csrf: &'a str,
}

/// A message at the top of a bot page.
pub(crate) enum Notice {
    /// A finished action, named by a fixed key (never text from the URL).
    Done(&'static str),
    /// A new access token: shown this once.
    NewToken(String),
    /// A scheduled action, with warnings about its time.
    Scheduled { at: i64, warnings: Vec<String> },
    /// The checklist of a page of the owner's site.
    SiteCheck(crate::doctor::Report),
    /// An import from the owner's site, from this address.
    Imported { url: String, report: crate::import::ImportReport },
}

impl Notice {
    /// The notice named by `?done=…`; unknown keys show nothing.
    pub(crate) fn from_query(query: Option<&str>) -> Option<Notice> {
        let key = form_urlencoded::parse(query?.as_bytes()).find(|(name, _)| name == "done")?.1;
        DONE_TEXTS.iter().find(|(known, _)| *known == key).map(|(known, _)| Notice::Done(known))
    }
}

/// Each action's key and what the notice says.
const DONE_TEXTS: &[(&str, &str)] = &[
    ("deployed", "Deploy completed: the new generation is live."),
    ("rolled-back", "Rolled back: the chosen generation is live."),
    ("activated", "The bot is active."),
    ("deactivated", "The bot is offline: visitors see it as offline."),
    ("visibility-set", "Visibility changed."),
    ("password-set", "Password changed. Staff signed in before keep their session until it expires."),
    ("token-revoked", "Token revoked."),
    ("plan-set", "Plan saved."),
];

/// Everything a bot page shows, read in one blocking step.
pub(crate) struct BotView {
    status: StatusReport,
    check: Result<CheckReport, String>,
    deploys: Vec<Deploy>,
    generations: Vec<Generation>,
    plan: PlanReport,
    tokens: Vec<AccessToken>,
    integration: Integration,
    /// The latest continuous test run, if any.
    last_run: Option<MonitorRun>,
}

impl BotView {
    pub(crate) fn load(lifecycle: &Lifecycle, bot: &str) -> docent_lifecycle::Result<BotView> {
        let status = lifecycle
            .status(Some(bot))?
            .into_iter()
            .next()
            .ok_or_else(|| docent_lifecycle::Error::UnknownBot(format!("no bot named \"{bot}\"")))?;
        let (deploys, generations) = lifecycle.history(bot, HISTORY_ROWS)?;
        Ok(BotView {
            status,
            check: lifecycle.check(bot).map_err(|err| err.to_string()),
            deploys,
            generations,
            plan: lifecycle.plan(bot, now())?,
            tokens: lifecycle.list_tokens(bot)?,
            integration: lifecycle.integration(bot),
            last_run: lifecycle.store().monitor_runs(bot, 1)?.into_iter().next(),
        })
    }
}

pub(crate) fn sign_in(error: Option<&str>) -> String {
    let mut body = String::from("<h1>Sign in</h1><section class=\"card\">");
    if let Some(error) = error {
        let _ = write!(body, "<p class=\"notice bad\" role=\"alert\">{}</p>", escape(error));
    }
    body.push_str(
        "<form method=\"post\" action=\"/admin/sign-in\">\
         <p><label for=\"token\">Admin token</label></p>\
         <p><input id=\"token\" name=\"token\" type=\"password\" autocomplete=\"off\" required size=\"48\"></p>\
         <p><button class=\"primary\">Sign in</button></p></form>\
         <p class=\"muted\">Create one on the gateway's machine with <code>docent admin token create NAME</code>.</p>\
         </section>",
    );
    page("Sign in", None, &body)
}

pub(crate) fn error(err: &ApiError) -> String {
    let body = format!(
        "<h1>Something is in the way</h1><section class=\"card\"><p class=\"notice bad\" role=\"alert\">{}</p>\
         <p><a href=\"/admin/\">Back to the bots</a></p></section>",
        escape(&err.message)
    );
    page("Error", None, &body)
}

pub(crate) fn bots(me: &Operator<'_>, reports: &[StatusReport]) -> String {
    let mut body = String::from(
        "<h1>Bots</h1><section class=\"card\"><table><thead><tr><th scope=\"col\">Bot</th><th scope=\"col\">Status</th>\
         <th scope=\"col\">Live generation</th><th scope=\"col\">Since</th><th scope=\"col\">Visibility</th></tr></thead><tbody>",
    );
    for report in reports {
        let _ = write!(
            body,
            "<tr><td><a href=\"/admin/bots/{id}\">{id}</a></td><td>{state}</td><td>{live}</td><td>{since}</td><td>{visibility}</td></tr>",
            id = escape(&report.bot),
            state = status_badge(report.state),
            live = report.live.map_or("—".to_owned(), |n| n.to_string()),
            since = report.live_since.map_or("—".to_owned(), when::format),
            visibility = report.visibility.map_or("—", visibility_name),
        );
    }
    if reports.is_empty() {
        body.push_str("<tr><td colspan=\"5\">No bots yet: add a folder to the bots directory and deploy it.</td></tr>");
    }
    body.push_str("</tbody></table></section>");
    page("Bots", Some((me.name, me.csrf)), &body)
}

/// The bot's page; `problem` is why this gateway cannot serve the live generation, if it cannot.
pub(crate) fn bot(me: &Operator<'_>, view: &BotView, problem: Option<&str>, notice: Option<&Notice>) -> String {
    let id = escape(&view.status.bot);
    let mut body = format!(
        "<h1>{id} {}</h1><p><a href=\"/admin/bots/{id}/analytics\">Analytics</a> · \
         <a href=\"/admin/logs?bot={id}\">Logs</a></p>",
        status_badge(view.status.state)
    );
    if let Some(notice) = notice {
        body.push_str(&notice_html(notice));
    }
    if let Some(problem) = problem {
        let _ = write!(
            body,
            "<p class=\"notice bad\" role=\"alert\">This gateway cannot serve the live generation and keeps \
             serving the one before: {}</p>",
            escape(problem)
        );
    }
    body.push_str(&status_section(me, view));
    body.push_str(&check_section(me, view));
    body.push_str(&monitor_section(view.last_run.as_ref()));
    body.push_str(&history_section(me, view));
    body.push_str(&access_section(me, view));
    body.push_str(&plan_section(me, view));
    body.push_str(&integration_section(&view.integration));
    body.push_str(&super::site::section(me, &view.status.bot));
    page(&view.status.bot, Some((me.name, me.csrf)), &body)
}

fn notice_html(notice: &Notice) -> String {
    match notice {
        Notice::Done(key) => {
            let text = DONE_TEXTS.iter().find(|(known, _)| known == key).map_or("", |(_, text)| text);
            format!("<p class=\"notice\" role=\"status\">{}</p>", escape(text))
        }
        Notice::NewToken(token) => format!(
            "<div class=\"notice\" role=\"status\"><p>New access token. Copy it now: it is not shown again.</p>\
             <pre class=\"code\" id=\"new-token\">{}</pre><button type=\"button\" data-copy=\"new-token\">Copy</button></div>",
            escape(token)
        ),
        Notice::Scheduled { at, warnings } => {
            let mut html = format!("<div class=\"notice\" role=\"status\"><p>Scheduled for {}.</p>", when::format(*at));
            for warning in warnings {
                let _ = write!(html, "<p class=\"muted\">{}</p>", escape(warning));
            }
            html.push_str("</div>");
            html
        }
        Notice::SiteCheck(report) => super::site::check_notice(report),
        Notice::Imported { url, report } => super::site::import_notice(url, report),
    }
}

/// A `<form>` posting to one of the bot's actions, with the CSRF token.
fn form(me: &Operator<'_>, bot: &str, action: &str, fields: &str, button: &str) -> String {
    format!(
        "<form class=\"inline\" method=\"post\" action=\"/admin/bots/{bot}/{action}\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">{fields}{button}</form>",
        bot = escape(bot),
        csrf = escape(me.csrf),
    )
}

fn status_section(me: &Operator<'_>, view: &BotView) -> String {
    let status = &view.status;
    let bot = &status.bot;
    let mut html = String::from("<section class=\"card\"><h2>Status</h2><table><tbody>");
    let _ = write!(
        html,
        "<tr><th scope=\"row\">Live generation</th><td>{}</td></tr>\
         <tr><th scope=\"row\">Live since</th><td>{}</td></tr>\
         <tr><th scope=\"row\">Deployed by</th><td>{}</td></tr>\
         <tr><th scope=\"row\">Active</th><td>{}</td></tr>",
        status.live.map_or("never deployed".to_owned(), |n| n.to_string()),
        status.live_since.map_or("—".to_owned(), when::format),
        escape(status.live_by.as_deref().unwrap_or("—")),
        match (status.active, status.activate_at) {
            (true, _) => "yes".to_owned(),
            (false, Some(at)) => format!("no — activation scheduled for {}", when::format(at)),
            (false, None) => "no".to_owned(),
        }
    );
    html.push_str("</tbody></table>");
    if !status.pending.is_empty() {
        html.push_str("<h3>Scheduled</h3><ul>");
        for schedule in &status.pending {
            let _ = write!(html, "<li>{}</li>", schedule_text(schedule));
        }
        html.push_str("</ul>");
    }
    let at_field = "<label for=\"activate-at\">at</label>\
                    <input id=\"activate-at\" name=\"at\" type=\"datetime-local\" step=\"1\"> <span class=\"muted\">(UTC; empty = now)</span>";
    html.push_str(&form(me, bot, "activate", at_field, "<button>Activate</button>"));
    html.push_str(&form(me, bot, "deactivate", "", "<button class=\"danger\">Deactivate</button>"));
    html.push_str("</section>");
    html
}

fn schedule_text(schedule: &Schedule) -> String {
    format!("{:?} at {} (by {})", schedule.action, when::format(schedule.at), escape(&schedule.actor))
}

fn check_section(me: &Operator<'_>, view: &BotView) -> String {
    let bot = &view.status.bot;
    let mut html = String::from("<section class=\"card\"><h2>Deploy</h2>");
    match &view.check {
        Err(err) => {
            let _ = write!(html, "<p class=\"notice bad\">The sources cannot be checked: {}</p>", escape(err));
        }
        Ok(report) => {
            let _ = write!(html, "<p>{}</p>", check_badge(report.state));
            if let Some(changes) = &report.changes {
                let mut lines = Vec::new();
                for (what, keys) in [
                    ("knowledge file added", &changes.files.added),
                    ("knowledge file removed", &changes.files.removed),
                    ("knowledge file changed", &changes.files.changed),
                    ("Q&A added", &changes.qa.added),
                    ("Q&A removed", &changes.qa.removed),
                    ("Q&A changed", &changes.qa.changed),
                ] {
                    lines.extend(keys.iter().map(|key| format!("{what}: {}", escape(key))));
                }
                lines.extend(changes.settings.iter().map(|setting| {
                    let kind = if setting.chatroom { "chatroom setting" } else { "setting" };
                    format!("{kind} changed: {}", escape(setting.key))
                }));
                if !lines.is_empty() {
                    html.push_str("<ul class=\"issues\">");
                    for line in lines {
                        let _ = write!(html, "<li>{line}</li>");
                    }
                    html.push_str("</ul>");
                }
            }
            if !report.failures.is_empty() {
                html.push_str("<ul class=\"issues\">");
                for failure in &report.failures {
                    let _ = write!(
                        html,
                        "<li><strong>{}</strong>: {}<ol class=\"steps\">",
                        escape(&failure.error),
                        escape(&failure.detail)
                    );
                    for step in &failure.solution {
                        let _ = write!(html, "<li>{}</li>", escape(step));
                    }
                    html.push_str("</ol></li>");
                }
                html.push_str("</ul>");
            }
            for warning in &report.warnings {
                let _ = write!(html, "<p class=\"muted\">{}</p>", escape(warning));
            }
            let _ = write!(
                html,
                "<p class=\"muted\">{} Q&amp;A pairs, {} documents, {} passages.</p>",
                report.qa_pairs, report.documents, report.passages
            );
            if report.state != CheckState::CannotDeploy {
                let _ = write!(
                    html,
                    "<form class=\"inline\" method=\"post\" action=\"/admin/bots/{b}/deploy\" data-deploy=\"/admin/bots/{b}/deploy\">\
                     <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><button class=\"primary\">Deploy now</button></form>\
                     <ul id=\"deploy-log\" aria-live=\"polite\"></ul>",
                    b = escape(bot),
                    csrf = escape(me.csrf)
                );
                let fields = "<label for=\"deploy-at\">Schedule for</label>\
                              <input id=\"deploy-at\" name=\"at\" type=\"datetime-local\" step=\"1\" required>\
                              <span class=\"muted\">(UTC; quiet hours 02:00–05:00 are best)</span>";
                html.push_str(&form(me, bot, "deploy", fields, "<button>Schedule deploy</button>"));
            }
        }
    }
    html.push_str("</section>");
    html
}

fn history_section(me: &Operator<'_>, view: &BotView) -> String {
    let bot = &view.status.bot;
    let mut html = String::from(
        "<section class=\"card\"><h2>History</h2><table><thead><tr><th scope=\"col\">Deploy</th><th scope=\"col\">By</th>\
         <th scope=\"col\">Started</th><th scope=\"col\">Outcome</th><th scope=\"col\">Generation</th></tr></thead><tbody>",
    );
    for deploy in &view.deploys {
        let outcome = match &deploy.failure {
            Some(failure) => format!("{:?}: {}", deploy.outcome, escape(failure)),
            None => format!("{:?}", deploy.outcome),
        };
        let _ = write!(
            html,
            "<tr><td>#{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            deploy.id,
            escape(&deploy.actor),
            when::format(deploy.started_at),
            outcome,
            deploy.generation.map_or("—".to_owned(), |n| n.to_string())
        );
    }
    html.push_str("</tbody></table><h3>Generations on disk</h3><table><thead><tr><th scope=\"col\">Generation</th>\
                   <th scope=\"col\">Kind</th><th scope=\"col\">Built</th><th scope=\"col\">By</th><th scope=\"col\"></th></tr></thead><tbody>");
    for generation in &view.generations {
        let action = if Some(generation.number) == view.status.live {
            "<strong>live</strong>".to_owned()
        } else {
            let field = format!("<input type=\"hidden\" name=\"to\" value=\"{}\">", generation.number);
            form(me, bot, "rollback", &field, &format!("<button>Make generation {} live</button>", generation.number))
        };
        let _ = write!(
            html,
            "<tr><td>{}</td><td>{:?}</td><td>{}</td><td>{}</td><td>{action}</td></tr>",
            generation.number,
            generation.kind,
            when::format(generation.created_at),
            escape(&generation.created_by)
        );
    }
    html.push_str("</tbody></table></section>");
    html
}

fn access_section(me: &Operator<'_>, view: &BotView) -> String {
    let bot = &view.status.bot;
    let visibility = view.status.visibility.unwrap_or(Visibility::Public);
    let mut html = String::from("<section class=\"card\"><h2>Access</h2>");
    let options: String = [Visibility::Public, Visibility::Internal]
        .iter()
        .map(|option| {
            let selected = if *option == visibility { " selected" } else { "" };
            format!("<option value=\"{0}\"{selected}>{0}</option>", visibility_name(*option))
        })
        .collect();
    let field = format!(
        "<label for=\"visibility\">Visibility</label><select id=\"visibility\" name=\"visibility\">{options}</select>"
    );
    html.push_str(&form(me, bot, "visibility", &field, "<button>Save</button>"));
    let field = "<label for=\"password\">Staff password</label>\
                 <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"new-password\" required>";
    html.push_str(&form(me, bot, "password", field, "<button>Set password</button>"));
    html.push_str("<h3>Access tokens</h3><table><thead><tr><th scope=\"col\">Name</th><th scope=\"col\">Created</th>\
                   <th scope=\"col\">Expires</th><th scope=\"col\">State</th><th scope=\"col\"></th></tr></thead><tbody>");
    let now = now();
    for token in &view.tokens {
        let state = match (token.revoked_at, token.is_valid_at(now)) {
            (Some(at), _) => format!("revoked {}", when::format(at)),
            (None, true) => "valid".to_owned(),
            (None, false) => "expired".to_owned(),
        };
        let revoke = if token.revoked_at.is_none() {
            let field = format!("<input type=\"hidden\" name=\"name\" value=\"{}\">", escape(&token.name));
            form(me, bot, "revoke-token", &field, "<button class=\"danger\">Revoke</button>")
        } else {
            String::new()
        };
        let _ = write!(
            html,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{state}</td><td>{revoke}</td></tr>",
            escape(&token.name),
            when::format(token.created_at),
            token.expires_at.map_or("never".to_owned(), when::format)
        );
    }
    html.push_str("</tbody></table>");
    let fields = "<label for=\"token-name\">New token</label><input id=\"token-name\" name=\"name\" type=\"text\" required>\
                  <label for=\"token-expires\">expires</label><input id=\"token-expires\" name=\"expires\" type=\"datetime-local\" step=\"1\">";
    html.push_str(&form(me, bot, "tokens", fields, "<button>Create token</button>"));
    html.push_str("</section>");
    html
}

fn plan_section(me: &Operator<'_>, view: &BotView) -> String {
    let bot = &view.status.bot;
    let report = &view.plan;
    let mut html = String::from("<section class=\"card\"><h2>Plan</h2>");
    let limit = report.plan.as_ref().and_then(|plan| plan.messages_per_month);
    let _ = write!(
        html,
        "<p>Plan: <strong>{}</strong>. Messages in {}: {} of {}.{}</p>",
        escape(report.plan.as_ref().map_or("unlimited", |plan| plan.name.as_str())),
        escape(&report.month),
        report.used,
        limit.map_or("unlimited".to_owned(), |n| n.to_string()),
        report
            .plan
            .as_ref()
            .and_then(|plan| plan.expires_at)
            .map_or(String::new(), |at| format!(" Expires {}.", when::format(at)))
    );
    let plan = report.plan.as_ref();
    let value = |number: Option<u64>| number.map_or(String::new(), |n| n.to_string());
    let fields = format!(
        "<label for=\"plan-name\">Name</label><input id=\"plan-name\" name=\"name\" type=\"text\" value=\"{}\">\
         <label for=\"plan-messages\">messages / month</label><input id=\"plan-messages\" name=\"messages\" type=\"number\" min=\"0\" value=\"{}\">\
         <label for=\"plan-storage\">storage bytes</label><input id=\"plan-storage\" name=\"storage\" type=\"number\" min=\"0\" value=\"{}\">\
         <label for=\"plan-expires\">expires</label><input id=\"plan-expires\" name=\"expires\" type=\"datetime-local\" step=\"1\">",
        escape(plan.map_or("", |plan| plan.name.as_str())),
        value(plan.and_then(|plan| plan.messages_per_month)),
        value(plan.and_then(|plan| plan.storage_bytes)),
    );
    html.push_str(&form(me, bot, "plan", &fields, "<button>Save plan</button>"));
    html.push_str("</section>");
    html
}

/// The latest continuous test run, with its failing questions.
fn monitor_section(run: Option<&MonitorRun>) -> String {
    let mut html = String::from("<section class=\"card\" id=\"continuous-tests\"><h2>Continuous tests</h2>");
    let Some(run) = run else {
        html.push_str(
            "<p class=\"muted\">No run yet. The [[test]] questions are asked of the live bot through the public \
             URL a day after each deploy, then daily (<code>[monitor] interval_seconds</code> in the alert \
             settings), or now with <code>docent monitor BOT</code>.</p></section>",
        );
        return html;
    };
    let state = match run.passed {
        Some(true) => "<span class=\"state good\">passed</span>",
        Some(false) => "<span class=\"state bad\">failed</span>",
        None => "<span class=\"state\">running</span>",
    };
    let _ = write!(html, "<p>Last run {} {state}: {}</p>", escape(&when::format(run.started_at)), escape(&run.summary));
    let results: Vec<crate::monitor::QuestionResult> = serde_json::from_str(&run.results).unwrap_or_default();
    let failing: Vec<_> = results.iter().filter(|result| !result.passed).collect();
    if !failing.is_empty() {
        html.push_str("<table id=\"failing-questions\"><thead><tr><th>Question</th><th>Expected</th><th>Got</th></tr></thead><tbody>");
        for result in failing {
            let _ = write!(
                html,
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&result.question),
                escape(&result.expected),
                escape(&result.got)
            );
        }
        html.push_str("</tbody></table>");
    }
    html.push_str("</section>");
    html
}

fn integration_section(integration: &Integration) -> String {
    let mut html = String::from(
        "<section class=\"card\"><h2>Integration code</h2>\
        <p>Paste this into the <code>&lt;head&gt;</code> of every page that shows the assistant:</p>",
    );
    let _ = write!(
        html,
        "<pre class=\"code\" id=\"snippet\">{}</pre><button type=\"button\" data-copy=\"snippet\">Copy</button>",
        escape(&integration.snippet)
    );
    html.push_str(
        "<p>If the site has a Content-Security-Policy, add these sources:</p><pre class=\"code\" id=\"csp\">",
    );
    for line in &integration.csp {
        let _ = writeln!(html, "{}", escape(line));
    }
    let _ = write!(
        html,
        "</pre><button type=\"button\" data-copy=\"csp\">Copy</button>\
         <p>Demo page: <a href=\"{0}\">{0}</a></p></section>",
        escape(&integration.demo_url)
    );
    html
}

fn status_badge(state: StatusState) -> &'static str {
    match state {
        StatusState::Deployed => "<span class=\"state good\">Deployed</span>",
        StatusState::Updating => "<span class=\"state warn\">Updating</span>",
        StatusState::Offline => "<span class=\"state bad\">Offline</span>",
        StatusState::Outdated => "<span class=\"state warn\">Outdated</span>",
        StatusState::Scheduled => "<span class=\"state muted\">Scheduled</span>",
    }
}

fn check_badge(state: CheckState) -> String {
    let class = match state {
        CheckState::Ready => "good",
        CheckState::Outdated => "warn",
        CheckState::CannotDeploy => "bad",
    };
    format!("<span class=\"state {class}\">{}</span>", state.label())
}

fn visibility_name(visibility: Visibility) -> &'static str {
    match visibility {
        Visibility::Public => "public",
        Visibility::Internal => "internal",
    }
}

/// One line of deploy progress, as the console and the admin API's events show it.
pub(crate) fn describe(event: &DeployEvent) -> String {
    match event {
        DeployEvent::PhaseStarted { phase } => format!("{}…", phase.label()),
        DeployEvent::Progress { phase, done, total, what } => format!("{}: {done}/{total} {what}", phase.label()),
        DeployEvent::PhaseFinished { phase, millis, note } if note.is_empty() => {
            format!("{} done in {millis} ms", phase.label())
        }
        DeployEvent::PhaseFinished { phase, millis, note } => format!("{} done in {millis} ms: {note}", phase.label()),
        DeployEvent::TestRun { question, passed: true, .. } => format!("test passed: {question}"),
        DeployEvent::TestRun { question, passed: false, detail } => format!("test FAILED: {question} ({detail})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_come_only_from_known_keys() {
        assert!(matches!(Notice::from_query(Some("done=deployed")), Some(Notice::Done("deployed"))));
        assert!(Notice::from_query(Some("done=%3Cscript%3E")).is_none());
        assert!(Notice::from_query(None).is_none());
    }

    #[test]
    fn forms_carry_the_csrf_token_and_escape_the_bot() {
        let me = Operator { name: "ops", csrf: "c0ffee" };
        let html = form(&me, "acme\"", "deactivate", "", "<button>Go</button>");
        assert!(html.contains("name=\"csrf\" value=\"c0ffee\""), "{html}");
        assert!(html.contains("/admin/bots/acme&quot;/deactivate"), "{html}");
    }
}
