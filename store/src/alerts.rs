//! Alerting state: each bot's alert settings, the incidents alerts opened and resolved, the
//! up/down samples `docent watch` takes of gateways from outside, and report schedules.
//!
//! Opening and resolving an incident are single conditional statements, so when several
//! processes evaluate the same rule at once exactly one of them opens (or resolves) the
//! incident and sends its notice: an open incident is never opened, nor announced, twice.
//! Probe samples fold into per-target hourly counts (uptime) and each target's current state
//! (up or down, since when), so neither uptime nor downtime needs a scan of raw samples.

use serde::Serialize;

use crate::{AuditEntry, Result, Timestamp};

/// What an incident is about: one alert rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// The watcher has seen a gateway down for longer than the threshold.
    Downtime,
    /// Failed chat requests over the threshold share in the last hour.
    ErrorRate,
    /// Resolved questions under the threshold share in the last 24 hours.
    SuccessRate,
    /// Visitor messages in an hour over the threshold multiple of the same hour's normal.
    TrafficSpike,
    /// The live knowledge over the threshold share of the plan's storage limit.
    Storage,
    /// The latest continuous test run against the live bot failed.
    ContinuousTests,
}

impl AlertKind {
    /// The kinds the rules judge from the hourly rollups and probes.
    pub const RULES: [AlertKind; 5] = [
        AlertKind::Downtime,
        AlertKind::ErrorRate,
        AlertKind::SuccessRate,
        AlertKind::TrafficSpike,
        AlertKind::Storage,
    ];

    /// Every kind: the rules' and the continuous tests'.
    pub const ALL: [AlertKind; 6] = [
        AlertKind::Downtime,
        AlertKind::ErrorRate,
        AlertKind::SuccessRate,
        AlertKind::TrafficSpike,
        AlertKind::Storage,
        AlertKind::ContinuousTests,
    ];

    /// The stable name stored, shown and sent in notices.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::Downtime => "downtime",
            AlertKind::ErrorRate => "error_rate",
            AlertKind::SuccessRate => "success_rate",
            AlertKind::TrafficSpike => "traffic_spike",
            AlertKind::Storage => "storage",
            AlertKind::ContinuousTests => "continuous_tests",
        }
    }
}

/// One incident: opened when a rule started firing, resolved when it stopped.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Incident {
    pub id: i64,
    pub bot: String,
    pub kind: AlertKind,
    pub opened_at: Timestamp,
    pub resolved_at: Option<Timestamp>,
    /// What was measured when it opened, in words (no secret, no visitor text).
    pub detail: String,
}

/// One probe of a gateway by `docent watch`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProbeSample {
    /// The probed gateway's base URL.
    pub target: String,
    pub at: Timestamp,
    /// `/healthz` answered 200 in time.
    pub up: bool,
}

/// A probed gateway's latest state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProbeTarget {
    pub target: String,
    pub up: bool,
    /// The first sample of the current run of equal samples.
    pub since: Timestamp,
    /// The latest sample.
    pub last_at: Timestamp,
}

/// Probe samples counted over a range.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct UptimeCounts {
    pub samples: u64,
    pub up: u64,
}

/// One run of a bot's `[[test]]`s against the live bot through its public URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MonitorRun {
    pub id: i64,
    pub bot: String,
    pub started_at: Timestamp,
    /// `None` while it runs.
    pub finished_at: Option<Timestamp>,
    /// `None` while it runs.
    pub passed: Option<bool>,
    /// One line: how many passed, or the first cause of failure.
    pub summary: String,
    /// Each question's result, as JSON written by the caller.
    pub results: String,
}

/// A bot's scheduled report: one per bot and period, sent to the bot's channels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportSchedule {
    pub bot: String,
    /// `day`, `week` or `month` (the caller's period names; the store keeps them as given).
    pub period: String,
    /// Format names (`html`, `xlsx`, `pdf`), at least one, without commas.
    pub formats: Vec<String>,
    /// When the next report is due: the end of the period it covers.
    pub next_at: Timestamp,
    /// When a gateway last took a report of this schedule to send.
    pub last_sent_at: Option<Timestamp>,
}

/// The alerting part of the store.
pub trait AlertStore {
    /// Sets (or with `None` removes) the bot's alert settings, a TOML text validated by the
    /// caller; audited without the text, which may hold webhook tokens and passwords.
    fn set_alert_settings(&self, bot: &str, settings: Option<&str>, audit: &AuditEntry) -> Result<()>;
    fn alert_settings(&self, bot: &str) -> Result<Option<String>>;
    /// Bots that have alert settings, by id.
    fn bots_with_alerts(&self) -> Result<Vec<String>>;

    /// Opens an incident of `kind` for `bot` unless one is open; returns it when this call opened it.
    /// `at` is when the caller saw the facts: an incident of the kind resolved at or after it means
    /// those facts are older than that resolution, so nothing opens (several gateways and watchers
    /// judge the same facts; a stale judgement must not reopen what a fresher one resolved).
    fn open_incident(&self, bot: &str, kind: AlertKind, at: Timestamp, detail: &str) -> Result<Option<Incident>>;
    /// Resolves the open incident of `kind` for `bot`, if it opened before `at` (a judgement no
    /// newer than the opening is stale); returns it when this call resolved it.
    fn resolve_incident(&self, bot: &str, kind: AlertKind, at: Timestamp) -> Result<Option<Incident>>;
    /// Newest first; one bot's or all.
    fn incidents(&self, bot: Option<&str>, limit: usize) -> Result<Vec<Incident>>;

    /// Records a sample, and folds it into the target's state and hourly counts.
    fn record_probe(&self, sample: &ProbeSample) -> Result<()>;
    /// Every target ever probed, by URL.
    fn probe_targets(&self) -> Result<Vec<ProbeTarget>>;
    /// Samples of every target in the hours that start in `[from, to)`.
    fn uptime(&self, from: Timestamp, to: Timestamp) -> Result<UptimeCounts>;

    /// Starts a continuous test run of `bot` at `at` unless one started after `not_since`;
    /// returns its id when this call started it, so of several gateways one runs each.
    fn claim_monitor_run(&self, bot: &str, at: Timestamp, not_since: Timestamp) -> Result<Option<i64>>;
    /// Records a run's outcome.
    fn finish_monitor_run(&self, id: i64, at: Timestamp, passed: bool, summary: &str, results: &str) -> Result<()>;
    /// A bot's runs, newest first.
    fn monitor_runs(&self, bot: &str, limit: usize) -> Result<Vec<MonitorRun>>;
    /// Creates or replaces the bot's schedule of `schedule.period`, audited.
    fn set_report_schedule(&self, schedule: &ReportSchedule, audit: &AuditEntry) -> Result<()>;
    /// Removes the bot's schedule of `period`, audited; whether there was one.
    fn remove_report_schedule(&self, bot: &str, period: &str, audit: &AuditEntry) -> Result<bool>;
    /// One bot's schedules or all, by bot and period.
    fn report_schedules(&self, bot: Option<&str>) -> Result<Vec<ReportSchedule>>;
    /// Moves a schedule due at `due_at` on to `next_at`, marking it sent at `now`; true only for
    /// the one caller whose statement moved it, so each due report is sent by one gateway.
    fn claim_report(
        &self,
        bot: &str,
        period: &str,
        due_at: Timestamp,
        next_at: Timestamp,
        now: Timestamp,
    ) -> Result<bool>;
}
