//! Alerts: each bot's alert settings (thresholds and channels, a TOML text kept in the store),
//! and the loop that evaluates the rules, opens and resolves incidents and sends their notices.
//!
//! The settings live in the store, not in `bot.toml`: they are run-time state an operator
//! changes without a deploy (`docent alerts`, the console), and they hold secrets (webhook
//! tokens, SMTP passwords) that must not be versioned with the knowledge. They are validated
//! when set, with line and key, and again when read.
//!
//! [`evaluate_once`] runs in every `docent serve` and in `docent watch`; the store opens (and
//! resolves) each incident once, so whichever process gets there first sends the one notice.

use std::sync::Arc;
use std::time::Duration;

use docent_analytics::alerts::{self as rules, Facts, Thresholds};
use docent_lifecycle::Lifecycle;
use docent_lifecycle::when::{self, now};
use docent_store::{AlertKind, Incident, LogLevel, LogRecord, Store, Timestamp};
use serde::Deserialize;
use toml::Spanned;

use crate::notify::{self, Channel, Notice, Smtp, SmtpSecurity};

/// How often rules are evaluated unless configured.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(60);

/// Channels one bot may have.
pub const MAX_CHANNELS: usize = 16;

/// Recipients one e-mail or SMS channel may have.
pub const MAX_RECIPIENTS: usize = 32;

/// A bot's validated alert settings.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlertSettings {
    pub thresholds: Thresholds,
    pub channels: Vec<Channel>,
    pub monitor: MonitorSettings,
}

/// When the bot's `[[test]]`s run against the live bot (`[monitor]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MonitorSettings {
    /// Seconds between the starts of two runs: daily unless set.
    pub interval_seconds: i64,
}

impl Default for MonitorSettings {
    fn default() -> MonitorSettings {
        MonitorSettings { interval_seconds: 86_400 }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSettings {
    thresholds: Option<RawThresholds>,
    #[serde(default)]
    channel: Vec<Spanned<RawChannel>>,
    monitor: Option<RawMonitor>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMonitor {
    interval_seconds: Option<Spanned<i64>>,
}

/// Percentages as operators think of them; seconds for downtime.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawThresholds {
    downtime_seconds: Option<Spanned<i64>>,
    error_rate_percent: Option<Spanned<f64>>,
    success_rate_percent: Option<Spanned<f64>>,
    spike_percent: Option<Spanned<f64>>,
    storage_percent: Option<Spanned<f64>>,
    min_requests: Option<u64>,
    spike_min_messages: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawChannel {
    kind: String,
    url: Option<String>,
    server: Option<String>,
    port: Option<u16>,
    security: Option<String>,
    username: Option<String>,
    password: Option<String>,
    from: Option<String>,
    to: Option<Vec<String>>,
    token: Option<String>,
}

/// The line (1-based) of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// Parses and validates alert settings. Errors name the line and the key; they never quote a
/// URL or a password, which may be secret.
pub fn parse_settings(text: &str) -> Result<AlertSettings, String> {
    let raw: RawSettings = toml::from_str(text).map_err(|err| {
        let line = err.span().map(|span| format!("line {}: ", line_of(text, span.start))).unwrap_or_default();
        format!("{line}{}", err.message())
    })?;
    let mut thresholds = Thresholds::default();
    if let Some(raw) = raw.thresholds {
        let percent = |value: &Option<Spanned<f64>>, key: &str, max: f64, into: &mut f64| -> Result<(), String> {
            if let Some(value) = value {
                let number = *value.get_ref();
                if !(number > 0.0 && number <= max) {
                    return Err(format!(
                        "line {}: `thresholds.{key}` must be above 0 and at most {max}",
                        line_of(text, value.span().start)
                    ));
                }
                *into = number / 100.0;
            }
            Ok(())
        };
        percent(&raw.error_rate_percent, "error_rate_percent", 100.0, &mut thresholds.error_rate)?;
        percent(&raw.success_rate_percent, "success_rate_percent", 100.0, &mut thresholds.success_rate)?;
        percent(&raw.spike_percent, "spike_percent", 100_000.0, &mut thresholds.spike_ratio)?;
        percent(&raw.storage_percent, "storage_percent", 100.0, &mut thresholds.storage_ratio)?;
        if let Some(seconds) = raw.downtime_seconds {
            if !(1..=86_400).contains(seconds.get_ref()) {
                return Err(format!(
                    "line {}: `thresholds.downtime_seconds` must be between 1 and 86400",
                    line_of(text, seconds.span().start)
                ));
            }
            thresholds.downtime_seconds = *seconds.get_ref();
        }
        thresholds.min_requests = raw.min_requests.unwrap_or(thresholds.min_requests).max(1);
        thresholds.spike_min_messages = raw.spike_min_messages.unwrap_or(thresholds.spike_min_messages).max(1);
    }
    let mut monitor = MonitorSettings::default();
    if let Some(seconds) = raw.monitor.and_then(|monitor| monitor.interval_seconds) {
        if !(1..=7 * 86_400).contains(seconds.get_ref()) {
            return Err(format!(
                "line {}: `monitor.interval_seconds` must be between 1 and 604800 (a week)",
                line_of(text, seconds.span().start)
            ));
        }
        monitor.interval_seconds = *seconds.get_ref();
    }
    if raw.channel.len() > MAX_CHANNELS {
        return Err(format!("at most {MAX_CHANNELS} channels"));
    }
    let channels = raw
        .channel
        .into_iter()
        .enumerate()
        .map(|(index, spanned)| {
            let line = line_of(text, spanned.span().start);
            channel(spanned.into_inner()).map_err(|problem| format!("line {line}: channel {} ({problem})", index + 1))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(AlertSettings { thresholds, channels, monitor })
}

fn channel(raw: RawChannel) -> Result<Channel, String> {
    let allowed: &[&str] = match raw.kind.as_str() {
        "webhook" | "slack" | "teams" => &["url"],
        "email" => &["server", "port", "security", "username", "password", "from", "to"],
        "sms" => &["url", "to", "token"],
        other => return Err(format!("`kind` is webhook, slack, teams, email or sms, not `{other}`")),
    };
    let present = [
        ("url", raw.url.is_some()),
        ("server", raw.server.is_some()),
        ("port", raw.port.is_some()),
        ("security", raw.security.is_some()),
        ("username", raw.username.is_some()),
        ("password", raw.password.is_some()),
        ("from", raw.from.is_some()),
        ("to", raw.to.is_some()),
        ("token", raw.token.is_some()),
    ];
    if let Some((key, _)) = present.iter().find(|(key, present)| *present && !allowed.contains(key)) {
        return Err(format!("`{key}` does not apply to a {} channel", raw.kind));
    }
    let url = || -> Result<String, String> {
        let url = raw.url.clone().ok_or("`url` is required")?;
        let probe = url.replace("{to}", "x").replace("{text}", "x");
        crate::fetch::parse_url(&probe).map_err(|_| "`url` must be an absolute http or https address".to_owned())?;
        Ok(url)
    };
    let recipients = |to: &Option<Vec<String>>| -> Result<Vec<String>, String> {
        let to = to.clone().ok_or("`to` is required")?;
        if to.is_empty() || to.len() > MAX_RECIPIENTS {
            return Err(format!("`to` lists 1 to {MAX_RECIPIENTS} recipients"));
        }
        Ok(to)
    };
    Ok(match raw.kind.as_str() {
        "webhook" => Channel::Webhook { url: url()? },
        "slack" => Channel::Slack { url: url()? },
        "teams" => Channel::Teams { url: url()? },
        "sms" => {
            let to = recipients(&raw.to)?;
            if let Some(bad) = to.iter().find(|number| {
                !number.chars().all(|c| c.is_ascii_digit() || c == '+' || c == ' ') || number.trim().is_empty()
            }) {
                return Err(format!("`to`: {bad:?} is not a phone number (digits, spaces and +)"));
            }
            Channel::Sms { url: url()?, to, token: raw.token.clone() }
        }
        _ => {
            let server = raw.server.clone().filter(|server| !server.trim().is_empty()).ok_or("`server` is required")?;
            let security = match raw.security.as_deref().unwrap_or("starttls") {
                "tls" => SmtpSecurity::Tls,
                "starttls" => SmtpSecurity::StartTls,
                "none" => SmtpSecurity::None,
                other => return Err(format!("`security` is tls, starttls or none, not `{other}`")),
            };
            let port = raw.port.unwrap_or(match security {
                SmtpSecurity::Tls => 465,
                SmtpSecurity::StartTls => 587,
                SmtpSecurity::None => 25,
            });
            let login = match (&raw.username, &raw.password) {
                (Some(user), Some(password)) => Some((user.clone(), password.clone())),
                (None, None) => None,
                _ => return Err("`username` and `password` go together".into()),
            };
            let from = raw.from.as_deref().ok_or("`from` is required")?;
            let from = from.parse().map_err(|err| format!("`from` is not an e-mail address: {err}"))?;
            let to = recipients(&raw.to)?
                .iter()
                .map(|to| to.parse().map_err(|err| format!("`to`: {to:?} is not an e-mail address: {err}")))
                .collect::<Result<Vec<_>, String>>()?;
            Channel::Email(Box::new(Smtp { server, port, security, login, from, to }))
        }
    })
}

/// Validates `text` and makes it the bot's alert settings (or with `None` removes them),
/// audited with the channels' labels only.
pub fn store_settings(lifecycle: &Lifecycle, bot: &str, text: Option<&str>, actor: &str) -> anyhow::Result<()> {
    lifecycle.require_bot(bot)?;
    let (action, detail) = match text {
        Some(text) => {
            let settings = parse_settings(text).map_err(|problem| anyhow::anyhow!("alert settings: {problem}"))?;
            let labels: Vec<String> = settings.channels.iter().map(Channel::label).collect();
            ("alerts.set", format!("{} channels: {}", labels.len(), labels.join(", ")))
        }
        None => ("alerts.clear", "default thresholds, no channel".to_owned()),
    };
    let audit = docent_store::AuditEntry::new(now(), actor, Some(bot), action, detail);
    lifecycle.store().set_alert_settings(bot, text, &audit)?;
    Ok(())
}

/// A bot's settings from the store: the defaults when it has none. Settings that no longer
/// parse (written by another version) are reported and replaced by the defaults.
pub fn settings_of(store: &dyn Store, bot: &str) -> docent_store::Result<AlertSettings> {
    let Some(text) = store.alert_settings(bot)? else { return Ok(AlertSettings::default()) };
    Ok(parse_settings(&text).unwrap_or_else(|problem| {
        tracing::error!(bot, %problem, "stored alert settings are invalid; default thresholds, no channel");
        AlertSettings::default()
    }))
}

/// An incident that opened or resolved in this evaluation, with where to announce it.
#[derive(Debug, Clone)]
pub struct Change {
    pub incident: Incident,
    pub opened: bool,
    pub channels: Vec<Channel>,
}

/// Evaluates every bot's rules at `now` and records what opened and resolved. Blocking (store
/// reads); the notices are sent by the caller ([`announce`]).
pub fn evaluate_once(lifecycle: &Lifecycle, now: Timestamp) -> anyhow::Result<Vec<Change>> {
    let store = lifecycle.store();
    let probes = store.probe_targets()?;
    let (from, to) = rules::rollup_window(now);
    let mut changes = Vec::new();
    for bot in store.bots()? {
        let settings = settings_of(store, &bot.id)?;
        let hours = store.hourly_rollups(&bot.id, from, to)?;
        let storage = match (lifecycle.live_knowledge_bytes(&bot.id)?, store.plan(&bot.id)?) {
            (Some(used), Some(plan)) => plan.storage_bytes.map(|limit| (used, limit)),
            _ => None,
        };
        let facts = Facts { now, hours: &hours, probes: &probes, storage };
        for finding in rules::evaluate(&settings.thresholds, &facts) {
            let change = if finding.firing {
                store.open_incident(&bot.id, finding.kind, now, &finding.detail)?.map(|incident| (incident, true))
            } else {
                store.resolve_incident(&bot.id, finding.kind, now)?.map(|incident| (incident, false))
            };
            if let Some((incident, opened)) = change {
                let (level, verb) = if opened { (LogLevel::Warning, "opened") } else { (LogLevel::Info, "resolved") };
                let message = format!("alert {verb}: {} ({})", title(incident.kind), incident.detail);
                match level {
                    LogLevel::Warning => tracing::warn!(bot = %bot.id, "{message}"),
                    _ => tracing::info!(bot = %bot.id, "{message}"),
                }
                store.add_log(&LogRecord { at: now, level, bot: Some(bot.id.clone()), message })?;
                let critical = rules::is_critical(incident.kind);
                let channels = settings.channels.iter().filter(|channel| channel.takes(critical)).cloned().collect();
                changes.push(Change { incident, opened, channels });
            }
        }
    }
    Ok(changes)
}

/// What each alert kind is called in notices and pages.
pub fn title(kind: AlertKind) -> &'static str {
    match kind {
        AlertKind::Downtime => "Downtime",
        AlertKind::ErrorRate => "High error rate",
        AlertKind::SuccessRate => "Low success rate",
        AlertKind::TrafficSpike => "Traffic spike",
        AlertKind::Storage => "Storage limit",
        AlertKind::ContinuousTests => "Continuous tests failing",
    }
}

/// The notice of an incident's opening or resolution.
pub fn notice(incident: &Incident, opened: bool, console: &str) -> Notice {
    let state = if opened { "opened" } else { "resolved" };
    let at = incident.resolved_at.filter(|_| !opened).unwrap_or(incident.opened_at);
    let subject = format!(
        "[docent] {}: {} {}{}",
        incident.bot,
        title(incident.kind),
        state,
        if rules::is_critical(incident.kind) && opened { " (critical)" } else { "" }
    );
    let text = format!(
        "{} on bot {} {state} at {}.\n{}\nIncidents: {console}/admin/bots/{}/analytics#incidents",
        title(incident.kind),
        incident.bot,
        when::format(at),
        if opened {
            incident.detail.clone()
        } else {
            format!("It opened at {}: {}", when::format(incident.opened_at), incident.detail)
        },
        incident.bot,
    );
    Notice {
        subject,
        text,
        html: None,
        attachments: Vec::new(),
        data: serde_json::json!({
            "bot": incident.bot,
            "incident": incident.id,
            "kind": incident.kind.as_str(),
            "state": state,
            "critical": rules::is_critical(incident.kind),
            "opened_at": incident.opened_at,
            "resolved_at": incident.resolved_at,
            "detail": incident.detail,
        }),
    }
}

/// Sends each change's notice to its channels, at once; failures are logged by channel label.
pub async fn announce(store: Arc<Lifecycle>, changes: Vec<Change>, console: &str, allow_private: bool) {
    let mut sends = tokio::task::JoinSet::new();
    for change in changes {
        let notice = Arc::new(notice(&change.incident, change.opened, console));
        for channel in change.channels {
            let (notice, bot) = (Arc::clone(&notice), change.incident.bot.clone());
            sends.spawn(async move {
                let result = notify::send(&channel, &notice, allow_private).await;
                (bot, channel.label(), result)
            });
        }
    }
    while let Some(done) = sends.join_next().await {
        let Ok((bot, label, result)) = done else { continue };
        if let Err(err) = result {
            let message = format!("alert notice to {label} failed: {err}");
            tracing::error!(%bot, "{message}");
            let record = LogRecord { at: now(), level: LogLevel::Error, bot: Some(bot), message };
            let store = Arc::clone(&store);
            let _ = tokio::task::spawn_blocking(move || store.store().add_log(&record)).await;
        }
    }
}

/// Evaluates the rules every `interval` and announces what changed, until dropped.
pub async fn run(lifecycle: Arc<Lifecycle>, interval: Duration, allow_private: bool) {
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let evaluating = Arc::clone(&lifecycle);
        match tokio::task::spawn_blocking(move || evaluate_once(&evaluating, now())).await {
            Ok(Ok(changes)) if !changes.is_empty() => {
                let console = lifecycle.options().public_url.clone();
                announce(Arc::clone(&lifecycle), changes, &console, allow_private).await;
            }
            Ok(Ok(_)) => {}
            Ok(Err(err)) => tracing::error!(err = %format!("{err:#}"), "cannot evaluate alert rules"),
            Err(err) => tracing::error!(%err, "the alert task failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_validated_with_their_line_and_key() {
        let good = "[thresholds]\ndowntime_seconds = 30\nerror_rate_percent = 5\n\n[[channel]]\nkind = \"slack\"\n\
                    url = \"https://hooks.example/T\"\n\n[[channel]]\nkind = \"email\"\nserver = \"127.0.0.1\"\n\
                    security = \"none\"\nport = 2525\nfrom = \"alerts@acme.example\"\nto = [\"ops@acme.example\"]\n";
        let settings = parse_settings(good).unwrap();
        assert_eq!(settings.thresholds.downtime_seconds, 30);
        assert!((settings.thresholds.error_rate - 0.05).abs() < 1e-9);
        assert_eq!(settings.thresholds.success_rate, Thresholds::default().success_rate);
        assert_eq!(settings.channels.len(), 2);
        assert_eq!(settings.monitor.interval_seconds, 86_400, "continuous tests run daily by default");
        assert_eq!(parse_settings("[monitor]\ninterval_seconds = 5\n").unwrap().monitor.interval_seconds, 5);
        assert_eq!(settings.channels[1].label(), "email via 127.0.0.1:2525");

        for (text, expected) in [
            ("[thresholds]\nerror_rate_percent = 0\n", "line 2: `thresholds.error_rate_percent` must be above 0"),
            ("[thresholds]\nuptime = 1\n", "line 2: unknown field `uptime`"),
            ("[monitor]\ninterval_seconds = 0\n", "line 2: `monitor.interval_seconds` must be between 1 and"),
            ("[[channel]]\nkind = \"pager\"\n", "line 1: channel 1 (`kind` is webhook"),
            ("\n[[channel]]\nkind = \"webhook\"\n", "line 2: channel 1 (`url` is required)"),
            ("[[channel]]\nkind = \"webhook\"\nurl = \"ftp://secret@x\"\n", "`url` must be an absolute http"),
            ("[[channel]]\nkind = \"slack\"\nurl = \"https://x\"\nto = [\"a\"]\n", "`to` does not apply to a slack"),
            ("[[channel]]\nkind = \"email\"\nserver = \"x\"\nfrom = \"a@b.c\"\n", "`to` is required"),
            ("[[channel]]\nkind = \"email\"\nserver = \"x\"\nfrom = \"nobody\"\nto = [\"a@b.c\"]\n", "`from` is not"),
            (
                "[[channel]]\nkind = \"email\"\nserver = \"x\"\nusername = \"u\"\nfrom = \"a@b.c\"\nto = [\"a@b.c\"]\n",
                "go together",
            ),
            (
                "[[channel]]\nkind = \"sms\"\nurl = \"https://sms.example/{to}\"\nto = [\"call me\"]\n",
                "not a phone number",
            ),
        ] {
            let problem = parse_settings(text).unwrap_err();
            assert!(problem.contains(expected), "{text:?}: {problem}");
            assert!(!problem.contains("secret"), "{problem}");
        }
    }

    #[test]
    fn notices_say_what_opened_and_resolved() {
        let incident = Incident {
            id: 7,
            bot: "acme".into(),
            kind: AlertKind::Downtime,
            opened_at: 1_790_000_000,
            resolved_at: None,
            detail: "http://gw down for 130 s".into(),
        };
        let opened = notice(&incident, true, "https://docent.example");
        assert_eq!(opened.subject, "[docent] acme: Downtime opened (critical)");
        assert!(opened.text.contains("http://gw down for 130 s"));
        assert!(opened.text.contains("https://docent.example/admin/bots/acme/analytics#incidents"));
        assert_eq!(opened.data["state"], "opened");
        let resolved = notice(&Incident { resolved_at: Some(1_790_000_300), ..incident }, false, "");
        assert_eq!(resolved.subject, "[docent] acme: Downtime resolved");
        assert_eq!(resolved.data["resolved_at"], 1_790_000_300);
    }
}
