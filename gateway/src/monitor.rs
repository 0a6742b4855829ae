//! Continuous tests (synthetic monitoring): a bot's `[[test]]` questions, the ones that gate
//! its deploys, asked of the live bot end to end, as a visitor's browser asks them.
//!
//! Each question is a `POST /v1/bots/{bot}/messages` to the gateway's public URL (through any
//! CDN, proxy and TLS in front of it) with the first exact origin the live bot allows, through
//! [`crate::fetch::post`]. So a run catches what a deploy gate cannot: a CDN rule stripping
//! `Access-Control-Allow-Origin`, a TLS failure, an exhausted quota or an expired plan, a bot
//! taken offline, or a rollback to a generation that fails a test added since (the questions
//! come from the bot's current bot.toml; from the live generation when it is not there).
//! Over HTTPS, a certificate that expires within [`CERTIFICATE_WARNING_DAYS`] fails the run too,
//! saying how many days are left.
//!
//! Runs are daily unless `[monitor] interval_seconds` in the bot's alert settings says
//! otherwise; the first comes an interval after the deploy (which ran the same tests). Every `docent serve` looks for due runs each second and the store lets one
//! process claim each ([`docent_store::AlertStore::claim_monitor_run`]). A run's result is
//! stored; a failing run opens a `continuous_tests` incident and a passing one resolves it,
//! each announced once on the bot's channels like every alert. Internal bots are skipped:
//! their answers need a staff token.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use bytes::Bytes;
use docent_lifecycle::config::TestCase;
use docent_lifecycle::origin::OriginPattern;
use docent_lifecycle::when::now;
use docent_lifecycle::{Lifecycle, Verdict, judge};
use docent_protocol::{ErrorBody, ErrorCode, MessageReply, Visibility};
use docent_store::{AlertKind, LogLevel, LogRecord, Timestamp};
use hyper::StatusCode;
use hyper::header::{self, HeaderName, HeaderValue};
use serde::Serialize;

use crate::alerts::{self, Change, settings_of};
use crate::fetch::{self, FetchLimits, Payload};

/// How often the serve loop looks for due runs.
pub const TICK: Duration = Duration::from_secs(1);

/// The longest one question may take, TLS and CDN included.
pub const QUESTION_TIMEOUT: Duration = Duration::from_secs(20);

/// A certificate expiring within this many days fails the run.
pub const CERTIFICATE_WARNING_DAYS: i64 = 14;

/// Bytes of an answer read (a reply is far smaller).
const ANSWER_BYTES: usize = 256 * 1024;

/// One question's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct QuestionResult {
    pub question: String,
    pub passed: bool,
    pub expected: String,
    /// What came back, or why nothing usable did.
    pub got: String,
}

/// A finished run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunReport {
    pub bot: String,
    pub started_at: Timestamp,
    pub passed: bool,
    pub summary: String,
    pub results: Vec<QuestionResult>,
}

/// What a run asks, and where.
struct Plan {
    tests: Vec<TestCase>,
    origin: String,
}

/// The questions and the origin of `bot`; `Ok(None)` when there is nothing to run (not
/// deployed, internal, no test).
fn plan(lifecycle: &Lifecycle, bot: &str) -> anyhow::Result<Option<Result<Plan, String>>> {
    let Some(row) = lifecycle.store().bot(bot)? else { return Ok(None) };
    if row.visibility == Visibility::Internal {
        return Ok(None);
    }
    let Some(live) = lifecycle.live_config(bot)? else { return Ok(None) };
    let tests = match lifecycle.load_config(bot) {
        Ok((sources, _)) => sources.tests,
        Err(_) => live.tests.clone(),
    };
    if tests.is_empty() {
        return Ok(None);
    }
    let origin = live.allowed_origins.iter().find_map(|pattern| match pattern {
        OriginPattern::Exact(origin) => Some(origin.to_string()),
        _ => None,
    });
    Ok(Some(match origin {
        Some(origin) => Ok(Plan { tests, origin }),
        None => Err("the live bot allows no exact origin to ask from (only wildcards, or none)".to_owned()),
    }))
}

/// Asks one question as the widget would, and judges the answer.
async fn ask(public_url: &str, bot: &str, origin: &str, test: &TestCase) -> QuestionResult {
    let result = |passed: bool, expected: String, got: String| QuestionResult {
        question: test.question.clone(),
        passed,
        expected,
        got,
    };
    let expected = || judge(test, &empty_reply()).expected;
    let url = format!("{}/v1/bots/{bot}/messages", public_url.trim_end_matches('/'));
    let Ok(origin_value) = HeaderValue::from_str(origin) else {
        return result(false, expected(), format!("the origin {origin} is not a header value"));
    };
    let headers: [(HeaderName, HeaderValue); 1] = [(header::ORIGIN, origin_value)];
    let body = serde_json::json!({ "text": test.question });
    let payload = Payload {
        content_type: HeaderValue::from_static("application/json"),
        bytes: Bytes::from(serde_json::to_vec(&body).unwrap_or_default()),
    };
    // The public URL is the operator's own setting, never a visitor's: it may be on loopback
    // or the office network (a gateway without a CDN), so private addresses are allowed here.
    let limits =
        FetchLimits { max_body_bytes: ANSWER_BYTES, timeout: QUESTION_TIMEOUT, max_redirects: 0, allow_private: true };
    let answer = match fetch::post(&url, &headers, payload, limits).await {
        Ok(answer) => answer,
        Err(err) => return result(false, expected(), format!("no answer from {url}: {err}")),
    };
    if let Some(expires_at) = answer.certificate_expires_at {
        let days = (expires_at - now()).div_euclid(86_400);
        if days < CERTIFICATE_WARNING_DAYS {
            return result(
                false,
                expected(),
                format!(
                    "the TLS certificate of {url} expires in {days} days ({}): renew it before browsers refuse the widget",
                    docent_lifecycle::when::format(expires_at)
                ),
            );
        }
    }
    if answer.status != StatusCode::OK {
        return result(false, expected(), refusal(answer.status, &answer.body));
    }
    let allowed = answer.headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).and_then(|value| value.to_str().ok());
    if allowed != Some(origin) {
        let found = allowed.map_or("none".to_owned(), |value| format!("`{value}`"));
        return result(
            false,
            expected(),
            format!(
                "the answer has no Access-Control-Allow-Origin for {origin} ({found}): something between the \
                 visitors and the gateway (a CDN or proxy rule) strips it, and browsers refuse every answer"
            ),
        );
    }
    match serde_json::from_slice::<MessageReply>(&answer.body) {
        Ok(reply) => {
            let Verdict { passed, expected, got } = judge(test, &reply.reply);
            result(passed, expected, got)
        }
        Err(err) => result(false, expected(), format!("an answer that is not a reply: {err}")),
    }
}

/// A refusal in words, naming the causes an operator acts on.
fn refusal(status: StatusCode, body: &[u8]) -> String {
    let Ok(ErrorBody { error }) = serde_json::from_slice::<ErrorBody>(body) else {
        return format!("HTTP {status} without Docent's error body (from a proxy or CDN?)");
    };
    let code = error.code.as_str();
    let why = match error.code {
        ErrorCode::MessageLimitReached => "the plan's messages for this month are used up: visitors get no answer",
        ErrorCode::PlanExpired => "the bot's plan has expired: visitors get no answer",
        ErrorCode::BotOffline => "the bot is offline (deactivated): visitors get no answer",
        ErrorCode::OriginNotAllowed => "the gateway refuses the bot's own allowed origin",
        ErrorCode::TooManyAttempts => "the gateway rate-limits the monitor's address",
        _ => "",
    };
    if why.is_empty() {
        format!("HTTP {status} {code}: {}", error.message)
    } else {
        format!("HTTP {status} {code}: {why}")
    }
}

/// The reply used to word a test's expectation when no reply came.
fn empty_reply() -> docent_protocol::Reply {
    docent_protocol::Reply {
        kind: docent_protocol::ReplyKind::Unknown,
        text: String::new(),
        sources: Vec::new(),
        handoff: None,
    }
}

/// One line for a run: how many passed, or the first failure.
fn summary(results: &[QuestionResult]) -> String {
    let failed: Vec<&QuestionResult> = results.iter().filter(|result| !result.passed).collect();
    match failed.first() {
        None => format!("{} of {} questions passed", results.len(), results.len()),
        Some(first) => format!(
            "{} of {} questions failed; \"{}\": expected {}, got {}",
            failed.len(),
            results.len(),
            first.question,
            first.expected,
            first.got
        ),
    }
}

/// Runs `bot`'s tests now if due (`force`: whether or not), stores the result, opens or
/// resolves its incident and announces that. `allow_private`: whether the notices' webhooks
/// may reach private addresses. `Ok(None)`: nothing was run.
pub async fn run_bot(
    lifecycle: Arc<Lifecycle>,
    bot: &str,
    force: bool,
    allow_private: bool,
) -> anyhow::Result<Option<RunReport>> {
    let (id, planned, started_at) = {
        let (lifecycle, bot) = (Arc::clone(&lifecycle), bot.to_owned());
        let claimed = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
            let Some(planned) = plan(&lifecycle, &bot)? else { return Ok(None) };
            let interval = settings_of(lifecycle.store(), &bot)?.monitor.interval_seconds;
            let at = now();
            let not_since = if force { Timestamp::MAX } else { at - interval };
            Ok(lifecycle.store().claim_monitor_run(&bot, at, not_since)?.map(|id| (id, planned, at)))
        })
        .await
        .context("the continuous test task failed")??;
        let Some(claimed) = claimed else { return Ok(None) };
        claimed
    };
    let results = match planned {
        Ok(Plan { tests, origin }) => {
            let public_url = lifecycle.options().public_url.clone();
            let mut results = Vec::with_capacity(tests.len());
            for test in &tests {
                results.push(ask(&public_url, bot, &origin, test).await);
            }
            results
        }
        Err(problem) => vec![QuestionResult {
            question: String::new(),
            passed: false,
            expected: "an origin to ask from".to_owned(),
            got: problem,
        }],
    };
    let report = RunReport {
        bot: bot.to_owned(),
        started_at,
        passed: results.iter().all(|result| result.passed),
        summary: summary(&results),
        results,
    };
    let recording = (Arc::clone(&lifecycle), report.clone());
    let changes = tokio::task::spawn_blocking(move || record(&recording.0, id, &recording.1))
        .await
        .context("the continuous test task failed")??;
    if !changes.is_empty() {
        let console = lifecycle.options().public_url.clone();
        alerts::announce(Arc::clone(&lifecycle), changes, &console, allow_private).await;
    }
    Ok(Some(report))
}

/// Stores the run, logs it, and opens or resolves the bot's `continuous_tests` incident.
fn record(lifecycle: &Lifecycle, id: i64, report: &RunReport) -> anyhow::Result<Vec<Change>> {
    let store = lifecycle.store();
    let at = now();
    let results = serde_json::to_string(&report.results)?;
    store.finish_monitor_run(id, at, report.passed, &report.summary, &results)?;
    let (level, verb) = if report.passed { (LogLevel::Info, "passed") } else { (LogLevel::Warning, "failed") };
    let message = format!("continuous tests {verb}: {}", report.summary);
    store.add_log(&LogRecord { at, level, bot: Some(report.bot.clone()), message })?;
    let change = if report.passed {
        store.resolve_incident(&report.bot, AlertKind::ContinuousTests, at)?.map(|incident| (incident, false))
    } else {
        store
            .open_incident(&report.bot, AlertKind::ContinuousTests, at, &report.summary)?
            .map(|incident| (incident, true))
    };
    let Some((incident, opened)) = change else { return Ok(Vec::new()) };
    let settings = settings_of(store, &report.bot)?;
    let channels = settings.channels.into_iter().filter(|channel| channel.takes(false)).collect();
    Ok(vec![Change { incident, opened, channels }])
}

/// Runs every bot's due continuous tests, looking each [`TICK`], until dropped.
pub async fn run(lifecycle: Arc<Lifecycle>, allow_private: bool) {
    let mut ticks = tokio::time::interval(TICK);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let listing = Arc::clone(&lifecycle);
        let due = tokio::task::spawn_blocking(move || due_bots(&listing, now())).await;
        let bots = match due {
            Ok(Ok(bots)) => bots,
            Ok(Err(err)) => {
                tracing::error!(err = %format!("{err:#}"), "cannot list the continuous tests due");
                continue;
            }
            Err(err) => {
                tracing::error!(%err, "the continuous test task failed");
                continue;
            }
        };
        for bot in bots {
            match run_bot(Arc::clone(&lifecycle), &bot, false, allow_private).await {
                Ok(Some(report)) if !report.passed => {
                    tracing::warn!(%bot, "continuous tests failed: {}", report.summary)
                }
                Ok(_) => {}
                Err(err) => tracing::error!(%bot, err = %format!("{err:#}"), "cannot run continuous tests"),
            }
        }
    }
}

/// Deployed bots whose last run started an interval or more ago (never run: an interval after
/// the live generation went live, since a deploy has just run the tests). Read only, so a
/// quiet second costs no write.
fn due_bots(lifecycle: &Lifecycle, now: Timestamp) -> anyhow::Result<Vec<String>> {
    let store = lifecycle.store();
    let mut due = Vec::new();
    for bot in store.bots()? {
        if bot.live.is_none() || bot.visibility == Visibility::Internal {
            continue;
        }
        let interval = settings_of(store, &bot.id)?.monitor.interval_seconds;
        let last = store.monitor_runs(&bot.id, 1)?.first().map(|run| run.started_at).or(bot.live_since);
        if last.is_none_or(|started| started <= now - interval) {
            due.push(bot.id);
        }
    }
    Ok(due)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_name_the_cause_an_operator_acts_on() {
        for (status, body, expected) in [
            (
                429,
                r#"{"error":{"code":"message_limit_reached","message":"x"}}"#,
                "HTTP 429 Too Many Requests message_limit_reached: the plan's messages for this month are used up",
            ),
            (429, r#"{"error":{"code":"plan_expired","message":"x"}}"#, "plan_expired: the bot's plan has expired"),
            (503, r#"{"error":{"code":"bot_offline","message":"x"}}"#, "bot_offline: the bot is offline"),
            (502, "<html>bad gateway</html>", "HTTP 502 Bad Gateway without Docent's error body"),
        ] {
            let text = refusal(StatusCode::from_u16(status).unwrap(), body.as_bytes());
            assert!(text.contains(expected), "{text}");
        }
    }
}
