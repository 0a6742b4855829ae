//! [`AlertStore`] on PostgreSQL: settings, incidents opened and resolved by one conditional
//! statement each, probe samples folded into target states and hourly counts, and continuous
//! test runs claimed under a per-bot transaction lock.
//!
//! Under READ COMMITTED, the incident statements are exact across processes on their own: a
//! second insert of an open incident waits on the first and then does nothing, and a second
//! resolve re-checks `resolved_at IS NULL` on the row's newest version. A run's claim reads
//! before it writes, so it first takes a transaction-scoped advisory lock keyed by the bot.

use ::postgres::Row;

use super::{PgStore, db, get, require_bot, rows, stored, unsigned, write_audit};
use crate::alerts::{
    AlertKind, AlertStore, Incident, MonitorRun, ProbeSample, ProbeTarget, ReportSchedule, UptimeCounts,
};
use crate::events::hour_of;
use crate::{AuditEntry, Error, Result, Timestamp};

const INCIDENT_COLUMNS: &str = "id, bot, kind, opened_at, resolved_at, detail";
const REPORT_SCHEDULE_COLUMNS: &str = "bot, period, formats, next_at, last_sent_at";
const MONITOR_RUN_COLUMNS: &str = "id, bot, started_at, finished_at, passed, summary, results";
/// The first key of the advisory locks that serialize claims of continuous test runs; the
/// second is the bot's hash.
const MONITOR_CLAIM_LOCK: i32 = 0x6d6f_6e69;

impl AlertStore for PgStore {
    fn set_alert_settings(&self, bot: &str, settings: Option<&str>, audit: &AuditEntry) -> Result<()> {
        self.write(|tx| {
            require_bot(tx, bot)?;
            match settings {
                Some(text) => tx.execute(
                    "INSERT INTO alert_settings (bot, settings) VALUES ($1, $2)
                     ON CONFLICT (bot) DO UPDATE SET settings = excluded.settings",
                    &[&bot, &text],
                ),
                None => tx.execute("DELETE FROM alert_settings WHERE bot = $1", &[&bot]),
            }
            .map_err(db)?;
            write_audit(tx, audit)
        })
    }

    fn alert_settings(&self, bot: &str) -> Result<Option<String>> {
        let row = self.query_opt("SELECT settings FROM alert_settings WHERE bot = $1", &[&bot])?;
        row.map(|row| get(&row, 0)).transpose()
    }

    fn bots_with_alerts(&self) -> Result<Vec<String>> {
        rows(self.query("SELECT bot FROM alert_settings ORDER BY bot", &[])?, |row| get(row, 0))
    }

    fn open_incident(&self, bot: &str, kind: AlertKind, at: Timestamp, detail: &str) -> Result<Option<Incident>> {
        let row = self.query_opt(
            &format!(
                "INSERT INTO incidents (bot, kind, opened_at, detail) SELECT $1::text, $2::text, $3::bigint, $4::text
                 WHERE NOT EXISTS
                     (SELECT 1 FROM incidents WHERE bot = $1 AND kind = $2 AND resolved_at >= $3)
                 ON CONFLICT (bot, kind) WHERE resolved_at IS NULL DO NOTHING
                 RETURNING {INCIDENT_COLUMNS}"
            ),
            &[&bot, &kind.as_str(), &at, &detail],
        )?;
        row.as_ref().map(incident_row).transpose()
    }

    fn resolve_incident(&self, bot: &str, kind: AlertKind, at: Timestamp) -> Result<Option<Incident>> {
        let row = self.query_opt(
            &format!(
                "UPDATE incidents SET resolved_at = $3
                 WHERE bot = $1 AND kind = $2 AND resolved_at IS NULL AND opened_at < $3
                 RETURNING {INCIDENT_COLUMNS}"
            ),
            &[&bot, &kind.as_str(), &at],
        )?;
        row.as_ref().map(incident_row).transpose()
    }

    fn incidents(&self, bot: Option<&str>, limit: usize) -> Result<Vec<Incident>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        rows(
            self.query(
                &format!(
                    "SELECT {INCIDENT_COLUMNS} FROM incidents WHERE $1::text IS NULL OR bot = $1
                     ORDER BY id DESC LIMIT $2"
                ),
                &[&bot, &limit],
            )?,
            incident_row,
        )
    }

    fn record_probe(&self, sample: &ProbeSample) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO probe_targets (target, up, since, last_at) VALUES ($1, $2, $3, $3)
                 ON CONFLICT (target) DO UPDATE SET
                     since = CASE WHEN probe_targets.up = excluded.up THEN probe_targets.since ELSE excluded.since END,
                     up = excluded.up,
                     last_at = excluded.last_at",
                &[&sample.target, &sample.up, &sample.at],
            )
            .map_err(db)?;
            tx.execute(
                "INSERT INTO probe_hours (target, hour, samples, up) VALUES ($1, $2, 1, $3)
                 ON CONFLICT (target, hour) DO UPDATE SET
                     samples = probe_hours.samples + 1, up = probe_hours.up + excluded.up",
                &[&sample.target, &hour_of(sample.at), &i64::from(sample.up)],
            )
            .map_err(db)?;
            Ok(())
        })
    }

    fn probe_targets(&self) -> Result<Vec<ProbeTarget>> {
        rows(self.query("SELECT target, up, since, last_at FROM probe_targets ORDER BY target", &[])?, |row| {
            Ok(ProbeTarget { target: get(row, 0)?, up: get(row, 1)?, since: get(row, 2)?, last_at: get(row, 3)? })
        })
    }

    fn uptime(&self, from: Timestamp, to: Timestamp) -> Result<UptimeCounts> {
        let row = self.query_opt(
            "SELECT COALESCE(SUM(samples), 0)::BIGINT, COALESCE(SUM(up), 0)::BIGINT FROM probe_hours
             WHERE hour >= $1 AND hour < $2",
            &[&from, &to],
        )?;
        let row = row.ok_or_else(|| Error::Backend("an aggregate over probe_hours returned no row".to_owned()))?;
        Ok(UptimeCounts { samples: unsigned(&row, 0)?, up: unsigned(&row, 1)? })
    }

    fn claim_monitor_run(&self, bot: &str, at: Timestamp, not_since: Timestamp) -> Result<Option<i64>> {
        self.write(|tx| {
            // Held until the transaction ends, so the next claimant's check sees this run.
            tx.execute("SELECT pg_advisory_xact_lock($1, hashtext($2))", &[&MONITOR_CLAIM_LOCK, &bot]).map_err(db)?;
            let row = tx
                .query_opt(
                    "INSERT INTO monitor_runs (bot, started_at) SELECT $1, $2
                     WHERE NOT EXISTS (SELECT 1 FROM monitor_runs WHERE bot = $1 AND started_at > $3)
                     RETURNING id",
                    &[&bot, &at, &not_since],
                )
                .map_err(db)?;
            row.map(|row| get(&row, 0)).transpose()
        })
    }

    fn finish_monitor_run(&self, id: i64, at: Timestamp, passed: bool, summary: &str, results: &str) -> Result<()> {
        self.connection()?
            .execute(
                "UPDATE monitor_runs SET finished_at = $2, passed = $3, summary = $4, results = $5 WHERE id = $1",
                &[&id, &at, &passed, &summary, &results],
            )
            .map_err(db)?;
        Ok(())
    }

    fn monitor_runs(&self, bot: &str, limit: usize) -> Result<Vec<MonitorRun>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        rows(
            self.query(
                &format!(
                    "SELECT {MONITOR_RUN_COLUMNS} FROM monitor_runs WHERE bot = $1
                     ORDER BY started_at DESC, id DESC LIMIT $2"
                ),
                &[&bot, &limit],
            )?,
            |row| {
                Ok(MonitorRun {
                    id: get(row, 0)?,
                    bot: get(row, 1)?,
                    started_at: get(row, 2)?,
                    finished_at: get(row, 3)?,
                    passed: get(row, 4)?,
                    summary: get(row, 5)?,
                    results: get(row, 6)?,
                })
            },
        )
    }

    fn set_report_schedule(&self, schedule: &ReportSchedule, audit: &AuditEntry) -> Result<()> {
        self.write(|tx| {
            require_bot(tx, &schedule.bot)?;
            tx.execute(
                "INSERT INTO report_schedules (bot, period, formats, next_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (bot, period) DO UPDATE SET formats = excluded.formats, next_at = excluded.next_at",
                &[&schedule.bot, &schedule.period, &schedule.formats.join(","), &schedule.next_at],
            )
            .map_err(db)?;
            write_audit(tx, audit)
        })
    }

    fn remove_report_schedule(&self, bot: &str, period: &str, audit: &AuditEntry) -> Result<bool> {
        self.write(|tx| {
            let removed = tx
                .execute("DELETE FROM report_schedules WHERE bot = $1 AND period = $2", &[&bot, &period])
                .map_err(db)?;
            if removed > 0 {
                write_audit(tx, audit)?;
            }
            Ok(removed > 0)
        })
    }

    fn report_schedules(&self, bot: Option<&str>) -> Result<Vec<ReportSchedule>> {
        rows(
            self.query(
                &format!(
                    "SELECT {REPORT_SCHEDULE_COLUMNS} FROM report_schedules WHERE $1::text IS NULL OR bot = $1
                     ORDER BY bot, period"
                ),
                &[&bot],
            )?,
            |row| {
                let formats: &str = get(row, 2)?;
                Ok(ReportSchedule {
                    bot: get(row, 0)?,
                    period: get(row, 1)?,
                    formats: formats.split(',').map(str::to_owned).collect(),
                    next_at: get(row, 3)?,
                    last_sent_at: get(row, 4)?,
                })
            },
        )
    }

    fn claim_report(
        &self,
        bot: &str,
        period: &str,
        due_at: Timestamp,
        next_at: Timestamp,
        now: Timestamp,
    ) -> Result<bool> {
        // A concurrent second update waits for the first, re-checks `next_at` on the row's newest
        // version and moves nothing.
        let moved = self
            .connection()?
            .execute(
                "UPDATE report_schedules SET next_at = $4, last_sent_at = $5
                 WHERE bot = $1 AND period = $2 AND next_at = $3",
                &[&bot, &period, &due_at, &next_at, &now],
            )
            .map_err(db)?;
        Ok(moved == 1)
    }
}

fn incident_row(row: &Row) -> Result<Incident> {
    Ok(Incident {
        id: get(row, 0)?,
        bot: get(row, 1)?,
        kind: stored(row, 2)?,
        opened_at: get(row, 3)?,
        resolved_at: get(row, 4)?,
        detail: get(row, 5)?,
    })
}
