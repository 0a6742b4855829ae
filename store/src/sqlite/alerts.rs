//! [`AlertStore`] on SQLite: settings, incidents opened and resolved by one conditional
//! statement each, and probe samples folded into target states and hourly counts.

use rusqlite::{OptionalExtension, Row, params};

use super::{SqliteStore, db, require_bot, stored, write_audit};
use crate::alerts::{
    AlertKind, AlertStore, Incident, MonitorRun, ProbeSample, ProbeTarget, ReportSchedule, UptimeCounts,
};
use crate::events::hour_of;
use crate::{AuditEntry, Result, Timestamp};

const INCIDENT_COLUMNS: &str = "id, bot, kind, opened_at, resolved_at, detail";
const REPORT_SCHEDULE_COLUMNS: &str = "bot, period, formats, next_at, last_sent_at";

impl AlertStore for SqliteStore {
    fn set_alert_settings(&self, bot: &str, settings: Option<&str>, audit: &AuditEntry) -> Result<()> {
        self.write(|tx| {
            require_bot(tx, bot)?;
            match settings {
                Some(text) => tx.execute(
                    "INSERT INTO alert_settings (bot, settings) VALUES (?1, ?2)
                     ON CONFLICT (bot) DO UPDATE SET settings = excluded.settings",
                    params![bot, text],
                ),
                None => tx.execute("DELETE FROM alert_settings WHERE bot = ?1", [bot]),
            }
            .map_err(db)?;
            write_audit(tx, audit)
        })
    }

    fn alert_settings(&self, bot: &str) -> Result<Option<String>> {
        self.reader()
            .query_row("SELECT settings FROM alert_settings WHERE bot = ?1", [bot], |row| row.get(0))
            .optional()
            .map_err(db)
    }

    fn bots_with_alerts(&self) -> Result<Vec<String>> {
        let conn = self.reader();
        let mut statement = conn.prepare_cached("SELECT bot FROM alert_settings ORDER BY bot").map_err(db)?;
        statement.query_map([], |row| row.get(0)).map_err(db)?.collect::<rusqlite::Result<_>>().map_err(db)
    }

    fn open_incident(&self, bot: &str, kind: AlertKind, at: Timestamp, detail: &str) -> Result<Option<Incident>> {
        self.write(|tx| {
            let inserted = tx
                .execute(
                    "INSERT INTO incidents (bot, kind, opened_at, detail) SELECT ?1, ?2, ?3, ?4
                     WHERE NOT EXISTS
                         (SELECT 1 FROM incidents WHERE bot = ?1 AND kind = ?2 AND resolved_at >= ?3)
                     ON CONFLICT (bot, kind) WHERE resolved_at IS NULL DO NOTHING",
                    params![bot, kind.as_str(), at, detail],
                )
                .map_err(db)?;
            if inserted == 0 {
                return Ok(None);
            }
            let id = tx.last_insert_rowid();
            tx.query_row(&format!("SELECT {INCIDENT_COLUMNS} FROM incidents WHERE id = ?1"), [id], incident_row)
                .map(Some)
                .map_err(db)
        })
    }

    fn resolve_incident(&self, bot: &str, kind: AlertKind, at: Timestamp) -> Result<Option<Incident>> {
        self.write(|tx| {
            tx.query_row(
                &format!(
                    "UPDATE incidents SET resolved_at = ?3
                     WHERE bot = ?1 AND kind = ?2 AND resolved_at IS NULL AND opened_at < ?3
                     RETURNING {INCIDENT_COLUMNS}"
                ),
                params![bot, kind.as_str(), at],
                incident_row,
            )
            .optional()
            .map_err(db)
        })
    }

    fn incidents(&self, bot: Option<&str>, limit: usize) -> Result<Vec<Incident>> {
        let conn = self.reader();
        let mut statement = conn
            .prepare_cached(&format!(
                "SELECT {INCIDENT_COLUMNS} FROM incidents WHERE (?1 IS NULL OR bot = ?1) ORDER BY id DESC LIMIT ?2"
            ))
            .map_err(db)?;
        statement
            .query_map(params![bot, limit as i64], incident_row)
            .map_err(db)?
            .collect::<rusqlite::Result<_>>()
            .map_err(db)
    }

    fn record_probe(&self, sample: &ProbeSample) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO probe_targets (target, up, since, last_at) VALUES (?1, ?2, ?3, ?3)
                 ON CONFLICT (target) DO UPDATE SET
                     since = CASE WHEN probe_targets.up = excluded.up THEN probe_targets.since ELSE excluded.since END,
                     up = excluded.up,
                     last_at = excluded.last_at",
                params![sample.target, sample.up, sample.at],
            )
            .map_err(db)?;
            tx.execute(
                "INSERT INTO probe_hours (target, hour, samples, up) VALUES (?1, ?2, 1, ?3)
                 ON CONFLICT (target, hour) DO UPDATE SET
                     samples = probe_hours.samples + 1, up = probe_hours.up + excluded.up",
                params![sample.target, hour_of(sample.at), i64::from(sample.up)],
            )
            .map_err(db)?;
            Ok(())
        })
    }

    fn probe_targets(&self) -> Result<Vec<ProbeTarget>> {
        let conn = self.reader();
        let mut statement =
            conn.prepare_cached("SELECT target, up, since, last_at FROM probe_targets ORDER BY target").map_err(db)?;
        statement
            .query_map([], |row| {
                Ok(ProbeTarget { target: row.get(0)?, up: row.get(1)?, since: row.get(2)?, last_at: row.get(3)? })
            })
            .map_err(db)?
            .collect::<rusqlite::Result<_>>()
            .map_err(db)
    }

    fn uptime(&self, from: Timestamp, to: Timestamp) -> Result<UptimeCounts> {
        self.reader()
            .query_row(
                "SELECT COALESCE(SUM(samples), 0), COALESCE(SUM(up), 0) FROM probe_hours WHERE hour >= ?1 AND hour < ?2",
                params![from, to],
                |row| Ok(UptimeCounts { samples: row.get(0)?, up: row.get(1)? }),
            )
            .map_err(db)
    }

    fn claim_monitor_run(&self, bot: &str, at: Timestamp, not_since: Timestamp) -> Result<Option<i64>> {
        self.write(|tx| {
            let inserted = tx
                .execute(
                    "INSERT INTO monitor_runs (bot, started_at) SELECT ?1, ?2
                     WHERE NOT EXISTS (SELECT 1 FROM monitor_runs WHERE bot = ?1 AND started_at > ?3)",
                    params![bot, at, not_since],
                )
                .map_err(db)?;
            Ok((inserted == 1).then(|| tx.last_insert_rowid()))
        })
    }

    fn finish_monitor_run(&self, id: i64, at: Timestamp, passed: bool, summary: &str, results: &str) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE monitor_runs SET finished_at = ?2, passed = ?3, summary = ?4, results = ?5 WHERE id = ?1",
                params![id, at, passed, summary, results],
            )
            .map_err(db)?;
            Ok(())
        })
    }

    fn monitor_runs(&self, bot: &str, limit: usize) -> Result<Vec<MonitorRun>> {
        let conn = self.reader();
        let mut statement = conn
            .prepare_cached(
                "SELECT id, bot, started_at, finished_at, passed, summary, results FROM monitor_runs
                 WHERE bot = ?1 ORDER BY started_at DESC, id DESC LIMIT ?2",
            )
            .map_err(db)?;
        statement
            .query_map(params![bot, limit as i64], |row| {
                Ok(MonitorRun {
                    id: row.get(0)?,
                    bot: row.get(1)?,
                    started_at: row.get(2)?,
                    finished_at: row.get(3)?,
                    passed: row.get(4)?,
                    summary: row.get(5)?,
                    results: row.get(6)?,
                })
            })
            .map_err(db)?
            .collect::<rusqlite::Result<_>>()
            .map_err(db)
    }

    fn set_report_schedule(&self, schedule: &ReportSchedule, audit: &AuditEntry) -> Result<()> {
        self.write(|tx| {
            require_bot(tx, &schedule.bot)?;
            tx.execute(
                "INSERT INTO report_schedules (bot, period, formats, next_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (bot, period) DO UPDATE SET formats = excluded.formats, next_at = excluded.next_at",
                params![schedule.bot, schedule.period, schedule.formats.join(","), schedule.next_at],
            )
            .map_err(db)?;
            write_audit(tx, audit)
        })
    }

    fn remove_report_schedule(&self, bot: &str, period: &str, audit: &AuditEntry) -> Result<bool> {
        self.write(|tx| {
            let removed = tx
                .execute("DELETE FROM report_schedules WHERE bot = ?1 AND period = ?2", params![bot, period])
                .map_err(db)?;
            if removed > 0 {
                write_audit(tx, audit)?;
            }
            Ok(removed > 0)
        })
    }

    fn report_schedules(&self, bot: Option<&str>) -> Result<Vec<ReportSchedule>> {
        let conn = self.reader();
        let mut statement = conn
            .prepare_cached(&format!(
                "SELECT {REPORT_SCHEDULE_COLUMNS} FROM report_schedules WHERE (?1 IS NULL OR bot = ?1) ORDER BY bot, period"
            ))
            .map_err(db)?;
        statement
            .query_map([bot], |row| {
                let formats: String = row.get(2)?;
                Ok(ReportSchedule {
                    bot: row.get(0)?,
                    period: row.get(1)?,
                    formats: formats.split(',').map(str::to_owned).collect(),
                    next_at: row.get(3)?,
                    last_sent_at: row.get(4)?,
                })
            })
            .map_err(db)?
            .collect::<rusqlite::Result<_>>()
            .map_err(db)
    }

    fn claim_report(
        &self,
        bot: &str,
        period: &str,
        due_at: Timestamp,
        next_at: Timestamp,
        now: Timestamp,
    ) -> Result<bool> {
        self.write(|tx| {
            let moved = tx
                .execute(
                    "UPDATE report_schedules SET next_at = ?4, last_sent_at = ?5
                     WHERE bot = ?1 AND period = ?2 AND next_at = ?3",
                    params![bot, period, due_at, next_at, now],
                )
                .map_err(db)?;
            Ok(moved == 1)
        })
    }
}

fn incident_row(row: &Row<'_>) -> rusqlite::Result<Incident> {
    Ok(Incident {
        id: row.get(0)?,
        bot: row.get(1)?,
        kind: stored(row, 2)?,
        opened_at: row.get(3)?,
        resolved_at: row.get(4)?,
        detail: row.get(5)?,
    })
}
