//! Report delivery: a bot's rendered report files sent to its notification channels, for
//! `docent report --send` and the serve loop's report schedules.
//!
//! A schedule (one per bot and period, with its formats) is due at the end of each whole
//! period (00:00 UTC; Mondays for weeks; the 1st for months). Every gateway looks for due
//! schedules each [`SCHEDULE_INTERVAL`]; the store moves a due schedule on to its next time
//! for one of them only ([`docent_store::AlertStore::claim_report`]), which then builds and
//! sends the report of the period that ended at the due time. A gateway that was down over
//! several periods sends the last one only, not a backlog.
//!
//! A report goes to the bot's alert channels (the same `[[channel]]` list as its alerts),
//! except SMS gateways, which only take critical notices. E-mails carry the files as
//! attachments, generic webhooks carry them base64-encoded in their JSON, and Slack and Teams
//! webhooks get the subject and the summary only (their incoming webhooks take no files).

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use docent_analytics::report::{Format, Period, Report, ReportFile};
use docent_lifecycle::Lifecycle;
use docent_lifecycle::when::now;
use docent_store::{AuditEntry, LogLevel, LogRecord, ReportSchedule, Store, Timestamp};
use serde_json::json;

use crate::alerts;
use crate::notify::{self, Channel, Notice, NoticeFile, NotifyError};

/// The channels a bot's reports go to: its alert channels that take non-critical notices.
pub fn report_channels(store: &dyn Store, bot: &str) -> docent_store::Result<Vec<Channel>> {
    let settings = alerts::settings_of(store, bot)?;
    Ok(settings.channels.into_iter().filter(|channel| channel.takes(false)).collect())
}

/// The notice of a report: its subject, its summary as text, its files attached.
pub fn report_notice(report: &Report, files: Vec<ReportFile>) -> Notice {
    let range = report.range();
    let names: Vec<String> = files.iter().map(|file| file.name.clone()).collect();
    let mut text = report.summary();
    if !names.is_empty() {
        text.push_str(&format!("\nAttached: {}\n", names.join(", ")));
    }
    Notice {
        subject: report.subject(),
        text,
        html: None,
        attachments: files
            .into_iter()
            .map(|file| NoticeFile { name: file.name, mime: file.mime_type.to_owned(), bytes: file.bytes })
            .collect(),
        data: json!({
            "kind": "report",
            "bot": report.bot(),
            "period": report.period.as_str(),
            "from": range.from,
            "to": range.to,
            "files": names,
        }),
    }
}

/// How sending to one channel went, named by the channel's label (never a secret).
#[derive(Debug)]
pub struct Sent {
    pub label: String,
    pub result: Result<(), NotifyError>,
}

/// Sends `notice` to each channel, all at once, and says how each went, in the channels' order.
pub async fn deliver(channels: &[Channel], notice: &Notice, allow_private: bool) -> Vec<Sent> {
    let notice = Arc::new(notice.clone());
    let mut sends = tokio::task::JoinSet::new();
    for (index, channel) in channels.iter().cloned().enumerate() {
        let notice = Arc::clone(&notice);
        sends.spawn(async move { (index, notify::send(&channel, &notice, allow_private).await) });
    }
    let mut results: Vec<Option<Result<(), NotifyError>>> = channels.iter().map(|_| None).collect();
    while let Some(done) = sends.join_next().await {
        if let Ok((index, result)) = done {
            results[index] = Some(result);
        }
    }
    channels
        .iter()
        .zip(results)
        .map(|(channel, result)| Sent { label: channel.label(), result: result.unwrap_or(Err(NotifyError::Stopped)) })
        .collect()
}

/// How often each gateway looks for due report schedules.
pub const SCHEDULE_INTERVAL: Duration = Duration::from_secs(30);

/// Makes (or replaces) the bot's schedule of `period`, due next at the end of the current
/// period; audited with its period and formats.
pub fn set_schedule(
    lifecycle: &Lifecycle,
    bot: &str,
    period: Period,
    formats: &[Format],
    actor: &str,
    at: Timestamp,
) -> anyhow::Result<ReportSchedule> {
    lifecycle.require_bot(bot)?;
    anyhow::ensure!(!formats.is_empty(), "a report schedule needs at least one format");
    let mut names: Vec<String> = Vec::new();
    for format in formats {
        let name = format.extension().to_owned();
        if !names.contains(&name) {
            names.push(name);
        }
    }
    let schedule = ReportSchedule {
        bot: bot.to_owned(),
        period: period.as_str().to_owned(),
        formats: names,
        next_at: period.next_boundary(at),
        last_sent_at: None,
    };
    let detail = format!("{} report as {}", period.adjective().to_lowercase(), schedule.formats.join(","));
    lifecycle
        .store()
        .set_report_schedule(&schedule, &AuditEntry::new(at, actor, Some(bot), "reports.schedule", &detail))
        .with_context(|| format!("cannot save the {} report schedule of {bot}", period.as_str()))?;
    Ok(schedule)
}

/// Removes the bot's schedule of `period`; whether there was one.
pub fn remove_schedule(
    lifecycle: &Lifecycle,
    bot: &str,
    period: Period,
    actor: &str,
    at: Timestamp,
) -> anyhow::Result<bool> {
    let audit = AuditEntry::new(at, actor, Some(bot), "reports.unschedule", period.as_str());
    lifecycle
        .store()
        .remove_report_schedule(bot, period.as_str(), &audit)
        .with_context(|| format!("cannot remove the {} report schedule of {bot}", period.as_str()))
}

/// A due report this gateway claimed, built and ready to send.
struct Claimed {
    bot: String,
    notice: Notice,
    channels: Vec<Channel>,
}

/// Claims every schedule due at `at` that no other gateway took, and builds its report. A
/// schedule whose period this version does not know is left alone; one that cannot be built
/// (no channel, an unknown format) is moved on all the same and its error returned, to be logged.
fn claim_due(store: &dyn Store, at: Timestamp) -> docent_store::Result<Vec<Result<Claimed, (String, String)>>> {
    let mut claimed = Vec::new();
    for schedule in store.report_schedules(None)?.into_iter().filter(|schedule| schedule.next_at <= at) {
        let Some(period) = Period::parse(&schedule.period) else {
            continue;
        };
        if !store.claim_report(&schedule.bot, &schedule.period, schedule.next_at, period.next_boundary(at), at)? {
            continue;
        }
        claimed.push(build(store, &schedule, period).map_err(|err| (schedule.bot.clone(), err)));
    }
    Ok(claimed)
}

fn build(store: &dyn Store, schedule: &ReportSchedule, period: Period) -> Result<Claimed, String> {
    let failed = |what: &str, err: &dyn std::fmt::Display| {
        format!("the {} report of {} failed: {what}: {err}", period.as_str(), schedule.bot)
    };
    let channels = report_channels(store, &schedule.bot).map_err(|err| failed("cannot read its channels", &err))?;
    if channels.is_empty() {
        return Err(failed("no channel takes reports", &"add one with `docent alerts BOT set FILE`"));
    }
    let report = Report::build(store, &schedule.bot, period, schedule.next_at)
        .map_err(|err| failed("cannot read figures", &err))?;
    let mut files = Vec::new();
    for name in &schedule.formats {
        let format = Format::parse(name).ok_or_else(|| failed("unknown format", name))?;
        files.push(report.render(format).map_err(|err| failed("cannot render it", &err))?);
    }
    Ok(Claimed { bot: schedule.bot.clone(), notice: report_notice(&report, files), channels })
}

/// Sends every report due at `now` that this gateway claims; logs (stdout and the store) what
/// was sent and what failed. Returns the number of reports claimed.
pub async fn run_due(lifecycle: Arc<Lifecycle>, at: Timestamp, allow_private: bool) -> anyhow::Result<usize> {
    let claiming = Arc::clone(&lifecycle);
    let claimed = tokio::task::spawn_blocking(move || claim_due(claiming.store(), at))
        .await
        .context("the report task failed")?
        .context("cannot claim due reports")?;
    let count = claimed.len();
    let mut records = Vec::new();
    for claim in claimed {
        match claim {
            Ok(Claimed { bot, notice, channels }) => {
                for sent in deliver(&channels, &notice, allow_private).await {
                    let (level, message) = match sent.result {
                        Ok(()) => (LogLevel::Info, format!("{} sent to {}", notice.subject, sent.label)),
                        Err(err) => (LogLevel::Error, format!("{} to {} failed: {err}", notice.subject, sent.label)),
                    };
                    records.push(LogRecord { at, level, bot: Some(bot.clone()), message });
                }
            }
            Err((bot, message)) => records.push(LogRecord { at, level: LogLevel::Error, bot: Some(bot), message }),
        }
    }
    for record in &records {
        let bot = record.bot.as_deref().unwrap_or_default();
        match record.level {
            LogLevel::Error => tracing::error!(%bot, "{}", record.message),
            _ => tracing::info!(%bot, "{}", record.message),
        }
    }
    tokio::task::spawn_blocking(move || records.iter().try_for_each(|record| lifecycle.store().add_log(record)))
        .await
        .context("the report task failed")?
        .context("cannot log the reports sent")?;
    Ok(count)
}

/// Sends due reports every `interval`, until dropped.
pub async fn run(lifecycle: Arc<Lifecycle>, interval: Duration, allow_private: bool) {
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        if let Err(err) = run_due(Arc::clone(&lifecycle), now(), allow_private).await {
            tracing::error!("{err:#}");
        }
    }
}
