//! [`SqliteStore`]: the [`Store`] in one SQLite file (WAL, foreign keys, versioned migrations).
//!
//! One connection behind a mutex per process; other processes (a second gateway, the CLI)
//! open their own and wait on SQLite's lock for up to `BUSY_TIMEOUT`. Every write runs in a
//! `BEGIN IMMEDIATE` transaction, so read-then-write sequences (quotas, locks, claims) are
//! exact across threads and processes.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, Row, Transaction, TransactionBehavior, params};

mod alerts;
mod events;

use crate::names::StoredName;
use crate::{
    AccessToken, AdminToken, ArtifactFile, ArtifactReader, AuditEntry, BotRow, BotSeed, BotStatus, Deploy,
    DeployOutcome, DeployStart, Error, Generation, LockHolder, Plan, Quota, Result, Schedule, ScheduleAction, Scope,
    Session, Store, Timestamp, Visibility,
};

const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Schema versions, applied in order, each in its own transaction and recorded in `schema_migrations`.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT INTO meta (key, value) VALUES ('revision', 0);

CREATE TABLE bots (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL CHECK (status IN ('active', 'inactive')),
    activate_at INTEGER,
    created_at INTEGER NOT NULL,
    live INTEGER,
    previous INTEGER,
    live_since INTEGER,
    live_by TEXT,
    next_generation INTEGER NOT NULL DEFAULT 1,
    visibility TEXT NOT NULL CHECK (visibility IN ('public', 'internal')),
    password_hash TEXT
);

CREATE TABLE generations (
    bot TEXT NOT NULL REFERENCES bots (id),
    number INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('complete', 'quick')),
    dir TEXT NOT NULL,
    knowledge_digest TEXT NOT NULL,
    manifest TEXT NOT NULL,
    config TEXT NOT NULL,
    PRIMARY KEY (bot, number)
);

CREATE TABLE deploys (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    bot TEXT NOT NULL REFERENCES bots (id),
    actor TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    finished_at INTEGER,
    outcome TEXT NOT NULL CHECK (outcome IN ('running', 'succeeded', 'failed', 'interrupted', 'trained')),
    generation INTEGER,
    failure TEXT,
    phases TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX deploys_by_bot ON deploys (bot, id);

CREATE TABLE deploy_locks (
    bot TEXT PRIMARY KEY REFERENCES bots (id),
    deploy_id INTEGER NOT NULL REFERENCES deploys (id),
    owner TEXT NOT NULL,
    heartbeat_at INTEGER NOT NULL
);

CREATE TABLE schedules (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    bot TEXT NOT NULL REFERENCES bots (id),
    action TEXT NOT NULL CHECK (action IN ('deploy', 'activate', 'deactivate')),
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'running', 'done', 'failed', 'cancelled')),
    created_at INTEGER NOT NULL,
    finished_at INTEGER,
    result TEXT
);
CREATE INDEX schedules_due ON schedules (state, at);

CREATE TABLE plans (
    bot TEXT PRIMARY KEY REFERENCES bots (id),
    name TEXT NOT NULL,
    messages_per_month INTEGER,
    storage_bytes INTEGER,
    expires_at INTEGER
);

CREATE TABLE usage (
    bot TEXT NOT NULL REFERENCES bots (id),
    month TEXT NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (bot, month)
);

CREATE TABLE access_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    bot TEXT NOT NULL REFERENCES bots (id),
    name TEXT NOT NULL,
    digest TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER,
    revoked_at INTEGER
);
CREATE UNIQUE INDEX access_tokens_live_name ON access_tokens (bot, name) WHERE revoked_at IS NULL;

CREATE TABLE admin_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    digest TEXT NOT NULL UNIQUE,
    scope_bot TEXT,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE UNIQUE INDEX admin_tokens_live_name ON admin_tokens (name) WHERE revoked_at IS NULL;

CREATE TABLE audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    bot TEXT,
    action TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX audit_by_bot ON audit (bot, id);
"#,
    r#"
ALTER TABLE schedules ADD COLUMN claimed_by TEXT;
"#,
    r#"
CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    bot TEXT NOT NULL,
    generation INTEGER,
    conversation TEXT,
    at INTEGER NOT NULL,
    kind TEXT NOT NULL,
    source TEXT,
    tier TEXT,
    latency_ms INTEGER,
    value INTEGER,
    detail TEXT,
    text TEXT,
    visitor TEXT
);
CREATE INDEX events_by_bot ON events (bot, at);
CREATE INDEX events_with_text ON events (at) WHERE text IS NOT NULL;

CREATE TABLE event_hours (
    bot TEXT NOT NULL,
    hour INTEGER NOT NULL,
    conversations INTEGER NOT NULL DEFAULT 0,
    messages INTEGER NOT NULL DEFAULT 0,
    answers INTEGER NOT NULL DEFAULT 0,
    suggestions INTEGER NOT NULL DEFAULT 0,
    unknowns INTEGER NOT NULL DEFAULT 0,
    errors INTEGER NOT NULL DEFAULT 0,
    latency_ms_sum INTEGER NOT NULL DEFAULT 0,
    slow_replies INTEGER NOT NULL DEFAULT 0,
    thumbs_up INTEGER NOT NULL DEFAULT 0,
    thumbs_down INTEGER NOT NULL DEFAULT 0,
    ratings INTEGER NOT NULL DEFAULT 0,
    rating_sum INTEGER NOT NULL DEFAULT 0,
    goals INTEGER NOT NULL DEFAULT 0,
    opens INTEGER NOT NULL DEFAULT 0,
    closes INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (bot, hour)
);

CREATE TABLE conversations (
    bot TEXT NOT NULL,
    id TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    last_at INTEGER NOT NULL,
    messages INTEGER NOT NULL DEFAULT 0,
    goals INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (bot, id)
);
-- Covers conversation_stats: the page's query reads the index alone.
CREATE INDEX conversations_by_start ON conversations (bot, started_at, messages, goals, last_at, id);

CREATE TABLE question_days (
    bot TEXT NOT NULL,
    day INTEGER NOT NULL,
    question TEXT NOT NULL,
    example TEXT NOT NULL,
    asked INTEGER NOT NULL DEFAULT 0,
    unresolved INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (bot, day, question)
);

CREATE TABLE log_records (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    level TEXT NOT NULL CHECK (level IN ('info', 'warning', 'error')),
    bot TEXT,
    message TEXT NOT NULL
);
CREATE INDEX log_records_by_time ON log_records (at);
"#,
    r#"
CREATE TABLE sessions (
    digest TEXT PRIMARY KEY,
    bot TEXT NOT NULL REFERENCES bots (id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);
ALTER TABLE bots ADD COLUMN site_secret TEXT;
"#,
    r#"
CREATE TABLE alert_settings (
    bot TEXT PRIMARY KEY REFERENCES bots (id),
    settings TEXT NOT NULL
);

CREATE TABLE incidents (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    bot TEXT NOT NULL,
    kind TEXT NOT NULL,
    opened_at INTEGER NOT NULL,
    resolved_at INTEGER,
    detail TEXT NOT NULL
);
-- At most one open incident per bot and kind: the insert that would make a second one does nothing.
CREATE UNIQUE INDEX incidents_open ON incidents (bot, kind) WHERE resolved_at IS NULL;
CREATE INDEX incidents_by_bot ON incidents (bot, id);

CREATE TABLE probe_targets (
    target TEXT PRIMARY KEY,
    up INTEGER NOT NULL,
    since INTEGER NOT NULL,
    last_at INTEGER NOT NULL
);

CREATE TABLE probe_hours (
    target TEXT NOT NULL,
    hour INTEGER NOT NULL,
    samples INTEGER NOT NULL DEFAULT 0,
    up INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (target, hour)
);
CREATE INDEX probe_hours_by_hour ON probe_hours (hour);
"#,
    r#"
CREATE TABLE monitor_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    bot TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    finished_at INTEGER,
    passed INTEGER,
    summary TEXT NOT NULL DEFAULT '',
    results TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX monitor_runs_by_bot ON monitor_runs (bot, started_at);
"#,
    r#"
CREATE TABLE report_schedules (
    bot TEXT NOT NULL REFERENCES bots (id),
    period TEXT NOT NULL,
    formats TEXT NOT NULL,
    next_at INTEGER NOT NULL,
    last_sent_at INTEGER,
    PRIMARY KEY (bot, period)
);
"#,
    r#"
-- Flow paths and drop-off points: the first topics of a conversation's replies ('\n'
-- between them), and the topic and tier of its last reply.
ALTER TABLE conversations ADD COLUMN path TEXT NOT NULL DEFAULT '';
ALTER TABLE conversations ADD COLUMN path_len INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN last_topic TEXT;
ALTER TABLE conversations ADD COLUMN last_resolved INTEGER;
"#,
];

/// The store in one SQLite file, through two connections: one that writes, and one that only
/// reads. In WAL mode a read never waits for a write (an events batch, a deploy), so the
/// reads on a request's path (plan, session, revision) stay quick while the writer is busy.
pub struct SqliteStore {
    writer: Mutex<Connection>,
    reader: Mutex<Connection>,
}

impl SqliteStore {
    /// Opens (creating if needed) and migrates the store at `path`.
    pub fn open(path: &Path) -> Result<SqliteStore> {
        let connect = || {
            let conn = Connection::open(path).map_err(|err| backend(format!("cannot open {}", path.display()), err))?;
            conn.busy_timeout(BUSY_TIMEOUT).map_err(db)?;
            Ok::<_, Error>(conn)
        };
        let mut writer = connect()?;
        writer.pragma_update(None, "journal_mode", "WAL").map_err(db)?;
        writer.pragma_update(None, "synchronous", "FULL").map_err(db)?;
        writer.pragma_update(None, "foreign_keys", true).map_err(db)?;
        migrate(&mut writer)?;
        // Opened after the migrations, so it never sees an older schema.
        let reader = connect()?;
        reader.pragma_update(None, "query_only", true).map_err(db)?;
        Ok(SqliteStore { writer: Mutex::new(writer), reader: Mutex::new(reader) })
    }

    /// The schema version applied.
    pub fn schema_version(&self) -> Result<i64> {
        self.reader()
            .query_row("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", [], |row| row.get(0))
            .map_err(db)
    }

    /// The connection for reads (`query_only`).
    fn reader(&self) -> MutexGuard<'_, Connection> {
        self.reader.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs `change` in a `BEGIN IMMEDIATE` transaction on the writing connection.
    fn write<T>(&self, change: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        let mut conn = self.writer.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db)?;
        let value = change(&tx)?;
        tx.commit().map_err(db)?;
        Ok(value)
    }

    /// A change a gateway must see: `change`, the audit entry and the revision bump, atomically.
    fn visible_change<T>(&self, audit: &AuditEntry, change: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        self.write(|tx| {
            let value = change(tx)?;
            bump_and_audit(tx, audit)?;
            Ok(value)
        })
    }
}

/// Applies the migrations the store at `conn` lacks, in one transaction.
fn migrate(conn: &mut Connection) -> Result<()> {
    conn.execute_batch("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL DEFAULT (unixepoch()))")
        .map_err(db)?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db)?;
    let current: i64 =
        tx.query_row("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", [], |row| row.get(0)).map_err(db)?;
    let known = MIGRATIONS.len() as i64;
    if current > known {
        return Err(Error::TooNew { found: current, known });
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        tx.execute_batch(sql).map_err(|err| backend(format!("migration {}", index + 1), err))?;
        tx.execute("INSERT INTO schema_migrations (version) VALUES (?1)", [index as i64 + 1]).map_err(db)?;
    }
    tx.commit().map_err(db)
}

fn bump_and_audit(tx: &Transaction<'_>, audit: &AuditEntry) -> Result<()> {
    tx.execute("UPDATE meta SET value = value + 1 WHERE key = 'revision'", []).map_err(db)?;
    write_audit(tx, audit)
}

fn write_audit(tx: &Transaction<'_>, audit: &AuditEntry) -> Result<()> {
    tx.execute(
        "INSERT INTO audit (at, actor, bot, action, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![audit.at, audit.actor, audit.bot, audit.action, audit.detail],
    )
    .map_err(db)?;
    Ok(())
}

fn db(err: rusqlite::Error) -> Error {
    Error::Backend(err.to_string())
}

fn backend(context: String, err: rusqlite::Error) -> Error {
    Error::Backend(format!("{context}: {err}"))
}

fn require_bot(tx: &Transaction<'_>, bot: &str) -> Result<()> {
    let found: Option<i64> =
        tx.query_row("SELECT 1 FROM bots WHERE id = ?1", [bot], |row| row.get(0)).optional().map_err(db)?;
    match found {
        Some(_) => Ok(()),
        None => Err(Error::Conflict(format!("the store knows no bot \"{bot}\""))),
    }
}

/// The enum stored as `text` in column `column` of a row.
fn stored<T: StoredName>(row: &Row<'_>, column: usize) -> rusqlite::Result<T> {
    let text: String = row.get(column)?;
    T::from_name(&text).map_err(|message| {
        rusqlite::Error::FromSqlConversionFailure(column, rusqlite::types::Type::Text, message.into())
    })
}

const BOT_COLUMNS: &str =
    "id, status, activate_at, created_at, live, previous, live_since, live_by, visibility, password_hash";

fn bot_row(row: &Row<'_>) -> rusqlite::Result<BotRow> {
    Ok(BotRow {
        id: row.get(0)?,
        status: stored(row, 1)?,
        activate_at: row.get(2)?,
        created_at: row.get(3)?,
        live: row.get(4)?,
        previous: row.get(5)?,
        live_since: row.get(6)?,
        live_by: row.get(7)?,
        visibility: stored(row, 8)?,
        password_hash: row.get(9)?,
    })
}

const GENERATION_COLUMNS: &str = "bot, number, created_at, created_by, kind, dir, knowledge_digest, manifest, config";

fn generation_row(row: &Row<'_>) -> rusqlite::Result<Generation> {
    Ok(Generation {
        bot: row.get(0)?,
        number: row.get(1)?,
        created_at: row.get(2)?,
        created_by: row.get(3)?,
        kind: stored(row, 4)?,
        dir: row.get(5)?,
        knowledge_digest: row.get(6)?,
        manifest: row.get(7)?,
        config: row.get(8)?,
    })
}

const DEPLOY_COLUMNS: &str = "id, bot, actor, started_at, finished_at, outcome, generation, failure, phases";

fn deploy_row(row: &Row<'_>) -> rusqlite::Result<Deploy> {
    Ok(Deploy {
        id: row.get(0)?,
        bot: row.get(1)?,
        actor: row.get(2)?,
        started_at: row.get(3)?,
        finished_at: row.get(4)?,
        outcome: stored(row, 5)?,
        generation: row.get(6)?,
        failure: row.get(7)?,
        phases: row.get(8)?,
    })
}

const SCHEDULE_COLUMNS: &str = "id, bot, action, at, actor, state, created_at, result, claimed_by";

fn schedule_row(row: &Row<'_>) -> rusqlite::Result<Schedule> {
    Ok(Schedule {
        id: row.get(0)?,
        bot: row.get(1)?,
        action: stored(row, 2)?,
        at: row.get(3)?,
        actor: row.get(4)?,
        state: stored(row, 5)?,
        created_at: row.get(6)?,
        result: row.get(7)?,
        claimed_by: row.get(8)?,
    })
}

fn lock_holder(tx: &Transaction<'_>, bot: &str) -> Result<Option<LockHolder>> {
    tx.query_row(
        "SELECT l.deploy_id, d.actor, l.owner, d.started_at, l.heartbeat_at
         FROM deploy_locks l JOIN deploys d ON d.id = l.deploy_id WHERE l.bot = ?1",
        [bot],
        |row| {
            Ok(LockHolder {
                deploy_id: row.get(0)?,
                actor: row.get(1)?,
                owner: row.get(2)?,
                started_at: row.get(3)?,
                heartbeat_at: row.get(4)?,
            })
        },
    )
    .optional()
    .map_err(db)
}

fn u64_of(value: Option<i64>) -> Option<u64> {
    value.map(|v| u64::try_from(v).unwrap_or(0))
}

fn i64_of(value: Option<u64>) -> Option<i64> {
    value.map(|v| i64::try_from(v).unwrap_or(i64::MAX))
}

impl Store for SqliteStore {
    fn revision(&self) -> Result<u64> {
        self.reader().query_row("SELECT value FROM meta WHERE key = 'revision'", [], |row| row.get(0)).map_err(db)
    }

    fn ensure_bot(&self, id: &str, seed: &BotSeed, audit: &AuditEntry) -> Result<bool> {
        if self.bot(id)?.is_some() {
            return Ok(false);
        }
        self.write(|tx| {
            let inserted = tx
                .execute(
                    "INSERT INTO bots (id, status, created_at, visibility, password_hash) VALUES (?1, 'active', ?2, ?3, ?4)
                     ON CONFLICT (id) DO NOTHING",
                    params![id, audit.at, seed.visibility.name(), seed.password_hash],
                )
                .map_err(db)?;
            if inserted == 0 {
                return Ok(false);
            }
            for (index, digest) in seed.token_digests.iter().enumerate() {
                tx.execute(
                    "INSERT INTO access_tokens (bot, name, digest, created_at) VALUES (?1, ?2, ?3, ?4)",
                    params![id, format!("bot.toml-{}", index + 1), digest, audit.at],
                )
                .map_err(db)?;
            }
            bump_and_audit(tx, audit)?;
            Ok(true)
        })
    }

    fn bot(&self, id: &str) -> Result<Option<BotRow>> {
        self.reader()
            .query_row(&format!("SELECT {BOT_COLUMNS} FROM bots WHERE id = ?1"), [id], bot_row)
            .optional()
            .map_err(db)
    }

    fn bots(&self) -> Result<Vec<BotRow>> {
        let conn = self.reader();
        let mut statement = conn.prepare(&format!("SELECT {BOT_COLUMNS} FROM bots ORDER BY id")).map_err(db)?;
        statement.query_map([], bot_row).map_err(db)?.collect::<rusqlite::Result<_>>().map_err(db)
    }

    fn set_status(
        &self,
        id: &str,
        status: BotStatus,
        activate_at: Option<Timestamp>,
        audit: &AuditEntry,
    ) -> Result<()> {
        self.visible_change(audit, |tx| {
            require_bot(tx, id)?;
            tx.execute(
                "UPDATE bots SET status = ?2, activate_at = ?3 WHERE id = ?1",
                params![id, status.name(), activate_at],
            )
            .map_err(db)?;
            Ok(())
        })
    }

    fn next_generation_number(&self, bot: &str) -> Result<u64> {
        self.write(|tx| {
            require_bot(tx, bot)?;
            let number: u64 = tx
                .query_row(
                    "UPDATE bots SET next_generation = next_generation + 1 WHERE id = ?1 RETURNING next_generation - 1",
                    [bot],
                    |row| row.get(0),
                )
                .map_err(db)?;
            Ok(number)
        })
    }

    fn insert_generation(&self, generation: &Generation) -> Result<()> {
        self.write(|tx| {
            require_bot(tx, &generation.bot)?;
            tx.execute(
                &format!("INSERT INTO generations ({GENERATION_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"),
                params![
                    generation.bot,
                    generation.number,
                    generation.created_at,
                    generation.created_by,
                    generation.kind.name(),
                    generation.dir,
                    generation.knowledge_digest,
                    generation.manifest,
                    generation.config
                ],
            )
            .map_err(|err| match err.sqlite_error_code() {
                Some(rusqlite::ErrorCode::ConstraintViolation) => Error::Conflict(format!(
                    "bot \"{}\" already has a generation {}",
                    generation.bot, generation.number
                )),
                _ => db(err),
            })?;
            Ok(())
        })
    }

    fn generation(&self, bot: &str, number: u64) -> Result<Option<Generation>> {
        self.reader()
            .query_row(
                &format!("SELECT {GENERATION_COLUMNS} FROM generations WHERE bot = ?1 AND number = ?2"),
                params![bot, number],
                generation_row,
            )
            .optional()
            .map_err(db)
    }

    fn generations(&self, bot: &str) -> Result<Vec<Generation>> {
        let conn = self.reader();
        let mut statement = conn
            .prepare(&format!("SELECT {GENERATION_COLUMNS} FROM generations WHERE bot = ?1 ORDER BY number DESC"))
            .map_err(db)?;
        statement.query_map([bot], generation_row).map_err(db)?.collect::<rusqlite::Result<_>>().map_err(db)
    }

    fn delete_generation(&self, bot: &str, number: u64) -> Result<()> {
        self.write(|tx| {
            let pointers: Option<(Option<u64>, Option<u64>)> = tx
                .query_row("SELECT live, previous FROM bots WHERE id = ?1", [bot], |row| Ok((row.get(0)?, row.get(1)?)))
                .optional()
                .map_err(db)?;
            if let Some((live, previous)) = pointers
                && (live == Some(number) || previous == Some(number))
            {
                return Err(Error::Conflict(format!(
                    "generation {number} of \"{bot}\" is live or the rollback target; it cannot be deleted"
                )));
            }
            tx.execute("DELETE FROM generations WHERE bot = ?1 AND number = ?2", params![bot, number]).map_err(db)?;
            Ok(())
        })
    }

    fn activate_generation(
        &self,
        bot: &str,
        number: u64,
        deploy: Option<(i64, &str)>,
        audit: &AuditEntry,
    ) -> Result<()> {
        self.visible_change(audit, |tx| {
            let exists: Option<i64> = tx
                .query_row("SELECT 1 FROM generations WHERE bot = ?1 AND number = ?2", params![bot, number], |row| {
                    row.get(0)
                })
                .optional()
                .map_err(db)?;
            if exists.is_none() {
                return Err(Error::Conflict(format!("bot \"{bot}\" has no generation {number}")));
            }
            tx.execute(
                "UPDATE bots SET previous = CASE WHEN live IS NULL OR live = ?2 THEN previous ELSE live END,
                                 live = ?2, live_since = ?3, live_by = ?4
                 WHERE id = ?1",
                params![bot, number, audit.at, audit.actor],
            )
            .map_err(db)?;
            if let Some((deploy_id, phases)) = deploy {
                tx.execute(
                    "UPDATE deploys SET outcome = 'succeeded', finished_at = ?2, generation = ?3, phases = ?4 WHERE id = ?1",
                    params![deploy_id, audit.at, number, phases],
                )
                .map_err(db)?;
                tx.execute("DELETE FROM deploy_locks WHERE deploy_id = ?1", [deploy_id]).map_err(db)?;
            }
            Ok(())
        })
    }

    fn publish_artifact(&self, _: &str, _: u64, _: &[ArtifactFile], _: &mut ArtifactReader<'_>) -> Result<()> {
        Err(local_artifacts())
    }

    fn artifact_files(&self, _: &str, _: u64) -> Result<Option<Vec<ArtifactFile>>> {
        Err(local_artifacts())
    }

    fn read_artifact_file(&self, _: &str, _: u64, _: &str, _: &mut dyn std::io::Write) -> Result<u64> {
        Err(local_artifacts())
    }

    fn begin_deploy(
        &self,
        bot: &str,
        actor: &str,
        owner: &str,
        now: Timestamp,
        is_stale: &dyn Fn(&LockHolder) -> bool,
    ) -> Result<DeployStart> {
        self.write(|tx| {
            require_bot(tx, bot)?;
            if let Some(holder) = lock_holder(tx, bot)? {
                if !is_stale(&holder) {
                    return Ok(DeployStart::Busy(holder));
                }
                tx.execute(
                    "UPDATE deploys SET outcome = 'interrupted', finished_at = ?2,
                            failure = 'the deploying process stopped before the end' WHERE id = ?1",
                    params![holder.deploy_id, now],
                )
                .map_err(db)?;
                tx.execute("DELETE FROM deploy_locks WHERE bot = ?1", [bot]).map_err(db)?;
            }
            tx.execute(
                "INSERT INTO deploys (bot, actor, started_at, outcome) VALUES (?1, ?2, ?3, 'running')",
                params![bot, actor, now],
            )
            .map_err(db)?;
            let deploy_id = tx.last_insert_rowid();
            tx.execute(
                "INSERT INTO deploy_locks (bot, deploy_id, owner, heartbeat_at) VALUES (?1, ?2, ?3, ?4)",
                params![bot, deploy_id, owner, now],
            )
            .map_err(db)?;
            Ok(DeployStart::Started { deploy_id })
        })
    }

    fn heartbeat_deploy(&self, deploy_id: i64, now: Timestamp, phases: &str) -> Result<()> {
        self.write(|tx| {
            tx.execute("UPDATE deploy_locks SET heartbeat_at = ?2 WHERE deploy_id = ?1", params![deploy_id, now])
                .map_err(db)?;
            tx.execute("UPDATE deploys SET phases = ?2 WHERE id = ?1", params![deploy_id, phases]).map_err(db)?;
            Ok(())
        })
    }

    fn finish_deploy(
        &self,
        deploy_id: i64,
        outcome: DeployOutcome,
        generation: Option<u64>,
        failure: Option<&str>,
        phases: &str,
        now: Timestamp,
    ) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE deploys SET outcome = ?2, failure = ?3, phases = ?4, finished_at = ?5, generation = ?6 WHERE id = ?1",
                params![deploy_id, outcome.name(), failure, phases, now, generation],
            )
            .map_err(db)?;
            tx.execute("DELETE FROM deploy_locks WHERE deploy_id = ?1", [deploy_id]).map_err(db)?;
            Ok(())
        })
    }

    fn deploys(&self, bot: &str, limit: usize) -> Result<Vec<Deploy>> {
        let conn = self.reader();
        let mut statement = conn
            .prepare(&format!("SELECT {DEPLOY_COLUMNS} FROM deploys WHERE bot = ?1 ORDER BY id DESC LIMIT ?2"))
            .map_err(db)?;
        statement
            .query_map(params![bot, limit as i64], deploy_row)
            .map_err(db)?
            .collect::<rusqlite::Result<_>>()
            .map_err(db)
    }

    fn deploy_lock(&self, bot: &str) -> Result<Option<LockHolder>> {
        let mut conn = self.reader();
        let tx = conn.transaction().map_err(db)?;
        lock_holder(&tx, bot)
    }

    fn add_schedule(&self, bot: &str, action: ScheduleAction, at: Timestamp, audit: &AuditEntry) -> Result<i64> {
        self.visible_change(audit, |tx| {
            require_bot(tx, bot)?;
            tx.execute(
                "INSERT INTO schedules (bot, action, at, actor, state, created_at) VALUES (?1, ?2, ?3, ?4, 'pending', ?5)",
                params![bot, action.name(), at, audit.actor, audit.at],
            )
            .map_err(db)?;
            Ok(tx.last_insert_rowid())
        })
    }

    fn schedules(&self, bot: Option<&str>) -> Result<Vec<Schedule>> {
        let conn = self.reader();
        let mut statement = conn
            .prepare(&format!("SELECT {SCHEDULE_COLUMNS} FROM schedules WHERE ?1 IS NULL OR bot = ?1 ORDER BY at, id"))
            .map_err(db)?;
        statement.query_map([bot], schedule_row).map_err(db)?.collect::<rusqlite::Result<_>>().map_err(db)
    }

    fn cancel_schedule(&self, id: i64, audit: &AuditEntry) -> Result<bool> {
        self.visible_change(audit, |tx| {
            let changed = tx
                .execute(
                    "UPDATE schedules SET state = 'cancelled', finished_at = ?2 WHERE id = ?1 AND state = 'pending'",
                    params![id, audit.at],
                )
                .map_err(db)?;
            Ok(changed == 1)
        })
    }

    fn claim_due_schedule(&self, now: Timestamp, owner: &str) -> Result<Option<Schedule>> {
        self.write(|tx| {
            tx.query_row(
                &format!(
                    "UPDATE schedules SET state = 'running', claimed_by = ?2
                     WHERE id = (SELECT id FROM schedules WHERE state = 'pending' AND at <= ?1 ORDER BY at, id LIMIT 1)
                     RETURNING {SCHEDULE_COLUMNS}"
                ),
                params![now, owner],
                schedule_row,
            )
            .optional()
            .map_err(db)
        })
    }

    fn finish_schedule(&self, id: i64, ok: bool, result: &str, now: Timestamp) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE schedules SET state = ?2, result = ?3, finished_at = ?4 WHERE id = ?1",
                params![id, if ok { "done" } else { "failed" }, result, now],
            )
            .map_err(db)?;
            Ok(())
        })
    }

    fn set_plan(&self, bot: &str, plan: Option<&Plan>, audit: &AuditEntry) -> Result<()> {
        self.visible_change(audit, |tx| {
            require_bot(tx, bot)?;
            match plan {
                Some(plan) => tx.execute(
                    "INSERT INTO plans (bot, name, messages_per_month, storage_bytes, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (bot) DO UPDATE SET name = ?2, messages_per_month = ?3, storage_bytes = ?4, expires_at = ?5",
                    params![
                        bot,
                        plan.name,
                        i64_of(plan.messages_per_month),
                        i64_of(plan.storage_bytes),
                        plan.expires_at
                    ],
                ),
                None => tx.execute("DELETE FROM plans WHERE bot = ?1", [bot]),
            }
            .map_err(db)?;
            Ok(())
        })
    }

    fn plan(&self, bot: &str) -> Result<Option<Plan>> {
        self.reader()
            .query_row(
                "SELECT name, messages_per_month, storage_bytes, expires_at FROM plans WHERE bot = ?1",
                [bot],
                |row| {
                    Ok(Plan {
                        name: row.get(0)?,
                        messages_per_month: u64_of(row.get(1)?),
                        storage_bytes: u64_of(row.get(2)?),
                        expires_at: row.get(3)?,
                    })
                },
            )
            .optional()
            .map_err(db)
    }

    fn usage(&self, bot: &str, month: &str) -> Result<u64> {
        let count: Option<u64> = self
            .reader()
            .query_row("SELECT count FROM usage WHERE bot = ?1 AND month = ?2", params![bot, month], |row| row.get(0))
            .optional()
            .map_err(db)?;
        Ok(count.unwrap_or(0))
    }

    fn consume_message(&self, bot: &str, month: &str, now: Timestamp) -> Result<Quota> {
        self.write(|tx| {
            require_bot(tx, bot)?;
            let plan: Option<(Option<i64>, Option<i64>)> = tx
                .query_row("SELECT messages_per_month, expires_at FROM plans WHERE bot = ?1", [bot], |row| {
                    Ok((row.get(0)?, row.get(1)?))
                })
                .optional()
                .map_err(db)?;
            let (limit, expires_at) = plan.unwrap_or((None, None));
            if let Some(expired_at) = expires_at
                && expired_at <= now
            {
                return Ok(Quota::PlanExpired { expired_at });
            }
            if limit == Some(0) {
                return Ok(Quota::LimitReached { limit: 0 });
            }
            let used: Option<u64> = tx
                .query_row(
                    "INSERT INTO usage (bot, month, count) VALUES (?1, ?2, 1)
                     ON CONFLICT (bot, month) DO UPDATE SET count = count + 1 WHERE ?3 IS NULL OR count < ?3
                     RETURNING count",
                    params![bot, month, limit],
                    |row| row.get(0),
                )
                .optional()
                .map_err(db)?;
            let limit = u64_of(limit);
            Ok(match (used, limit) {
                (Some(used), limit) if limit.is_none_or(|limit| used <= limit) => Quota::Allowed { used, limit },
                (_, limit) => Quota::LimitReached { limit: limit.unwrap_or(0) },
            })
        })
    }

    fn add_usage(&self, bot: &str, month: &str, count: u64) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO usage (bot, month, count) SELECT id, ?2, ?3 FROM bots WHERE id = ?1
                 ON CONFLICT (bot, month) DO UPDATE SET count = count + excluded.count",
                params![bot, month, i64::try_from(count).unwrap_or(i64::MAX)],
            )
            .map_err(db)?;
            Ok(())
        })
    }

    fn set_visibility(&self, bot: &str, visibility: Visibility, audit: &AuditEntry) -> Result<()> {
        self.visible_change(audit, |tx| {
            require_bot(tx, bot)?;
            tx.execute("UPDATE bots SET visibility = ?2 WHERE id = ?1", params![bot, visibility.name()]).map_err(db)?;
            Ok(())
        })
    }

    fn set_password_hash(&self, bot: &str, hash: Option<&str>, audit: &AuditEntry) -> Result<()> {
        self.visible_change(audit, |tx| {
            require_bot(tx, bot)?;
            tx.execute("UPDATE bots SET password_hash = ?2 WHERE id = ?1", params![bot, hash]).map_err(db)?;
            Ok(())
        })
    }

    fn add_access_token(&self, token: &AccessToken, audit: &AuditEntry) -> Result<()> {
        self.visible_change(audit, |tx| {
            require_bot(tx, &token.bot)?;
            tx.execute(
                "INSERT INTO access_tokens (bot, name, digest, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![token.bot, token.name, token.digest, token.created_at, token.expires_at],
            )
            .map_err(|err| match err.sqlite_error_code() {
                Some(rusqlite::ErrorCode::ConstraintViolation) => Error::Conflict(format!(
                    "bot \"{}\" already has an access token named \"{}\"; revoke it first or pick another name",
                    token.bot, token.name
                )),
                _ => db(err),
            })?;
            Ok(())
        })
    }

    fn access_tokens(&self, bot: &str) -> Result<Vec<AccessToken>> {
        let conn = self.reader();
        let mut statement = conn
            .prepare(
                "SELECT bot, name, digest, created_at, expires_at, revoked_at FROM access_tokens WHERE bot = ?1 ORDER BY id",
            )
            .map_err(db)?;
        statement
            .query_map([bot], |row| {
                Ok(AccessToken {
                    bot: row.get(0)?,
                    name: row.get(1)?,
                    digest: row.get(2)?,
                    created_at: row.get(3)?,
                    expires_at: row.get(4)?,
                    revoked_at: row.get(5)?,
                })
            })
            .map_err(db)?
            .collect::<rusqlite::Result<_>>()
            .map_err(db)
    }

    fn revoke_access_token(&self, bot: &str, name: &str, audit: &AuditEntry) -> Result<bool> {
        self.visible_change(audit, |tx| {
            let changed = tx
                .execute(
                    "UPDATE access_tokens SET revoked_at = ?3 WHERE bot = ?1 AND name = ?2 AND revoked_at IS NULL",
                    params![bot, name, audit.at],
                )
                .map_err(db)?;
            Ok(changed == 1)
        })
    }

    fn add_session(&self, session: &Session) -> Result<()> {
        self.write(|tx| {
            tx.execute("DELETE FROM sessions WHERE expires_at <= ?1", [session.created_at]).map_err(db)?;
            require_bot(tx, &session.bot)?;
            tx.execute(
                "INSERT INTO sessions (digest, bot, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
                params![session.digest, session.bot, session.created_at, session.expires_at],
            )
            .map_err(db)?;
            Ok(())
        })
    }

    fn session(&self, digest: &str, now: Timestamp) -> Result<Option<Session>> {
        self.reader()
            .query_row(
                "SELECT digest, bot, created_at, expires_at FROM sessions WHERE digest = ?1 AND expires_at > ?2",
                params![digest, now],
                |row| {
                    Ok(Session {
                        digest: row.get(0)?,
                        bot: row.get(1)?,
                        created_at: row.get(2)?,
                        expires_at: row.get(3)?,
                    })
                },
            )
            .optional()
            .map_err(db)
    }

    fn delete_session(&self, digest: &str) -> Result<bool> {
        self.write(|tx| Ok(tx.execute("DELETE FROM sessions WHERE digest = ?1", [digest]).map_err(db)? == 1))
    }

    fn set_site_secret(&self, bot: &str, secret: Option<&str>, audit: &AuditEntry) -> Result<()> {
        self.visible_change(audit, |tx| {
            require_bot(tx, bot)?;
            tx.execute("UPDATE bots SET site_secret = ?2 WHERE id = ?1", params![bot, secret]).map_err(db)?;
            Ok(())
        })
    }

    fn site_secret(&self, bot: &str) -> Result<Option<String>> {
        self.reader()
            .query_row("SELECT site_secret FROM bots WHERE id = ?1", [bot], |row| row.get(0))
            .optional()
            .map(Option::flatten)
            .map_err(db)
    }

    fn add_admin_token(&self, token: &AdminToken, audit: &AuditEntry) -> Result<()> {
        self.visible_change(audit, |tx| {
            let scope_bot = match &token.scope {
                Scope::All => None,
                Scope::Bot(bot) => {
                    require_bot(tx, bot)?;
                    Some(bot.as_str())
                }
            };
            tx.execute(
                "INSERT INTO admin_tokens (name, digest, scope_bot, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![token.name, token.digest, scope_bot, token.created_at],
            )
            .map_err(|err| match err.sqlite_error_code() {
                Some(rusqlite::ErrorCode::ConstraintViolation) => Error::Conflict(format!(
                    "an admin token named \"{}\" exists; revoke it first or pick another name",
                    token.name
                )),
                _ => db(err),
            })?;
            Ok(())
        })
    }

    fn admin_tokens(&self) -> Result<Vec<AdminToken>> {
        let conn = self.reader();
        let mut statement = conn
            .prepare("SELECT name, digest, scope_bot, created_at, revoked_at FROM admin_tokens ORDER BY id")
            .map_err(db)?;
        statement.query_map([], admin_token_row).map_err(db)?.collect::<rusqlite::Result<_>>().map_err(db)
    }

    fn revoke_admin_token(&self, name: &str, audit: &AuditEntry) -> Result<bool> {
        self.visible_change(audit, |tx| {
            let changed = tx
                .execute(
                    "UPDATE admin_tokens SET revoked_at = ?2 WHERE name = ?1 AND revoked_at IS NULL",
                    params![name, audit.at],
                )
                .map_err(db)?;
            Ok(changed == 1)
        })
    }

    fn admin_token_by_digest(&self, digest: &str) -> Result<Option<AdminToken>> {
        self.reader()
            .query_row(
                "SELECT name, digest, scope_bot, created_at, revoked_at FROM admin_tokens
                 WHERE digest = ?1 AND revoked_at IS NULL",
                [digest],
                admin_token_row,
            )
            .optional()
            .map_err(db)
    }

    fn audit_log(&self, bot: Option<&str>, limit: usize) -> Result<Vec<AuditEntry>> {
        let conn = self.reader();
        let mut statement = conn
            .prepare(
                "SELECT at, actor, bot, action, detail FROM audit WHERE ?1 IS NULL OR bot = ?1 ORDER BY id DESC LIMIT ?2",
            )
            .map_err(db)?;
        statement
            .query_map(params![bot, limit as i64], |row| {
                Ok(AuditEntry {
                    at: row.get(0)?,
                    actor: row.get(1)?,
                    bot: row.get(2)?,
                    action: row.get(3)?,
                    detail: row.get(4)?,
                })
            })
            .map_err(db)?
            .collect::<rusqlite::Result<_>>()
            .map_err(db)
    }

    fn backup_to(&self, dest: &Path) -> Result<()> {
        if dest.exists() {
            return Err(Error::Conflict(format!("{} exists; the backup will not overwrite it", dest.display())));
        }
        let conn = self.reader();
        let mut target =
            Connection::open(dest).map_err(|err| backend(format!("cannot create {}", dest.display()), err))?;
        let backup = rusqlite::backup::Backup::new(&conn, &mut target).map_err(db)?;
        backup
            .run_to_completion(256, Duration::from_millis(5), None)
            .map_err(|err| backend(format!("backup to {}", dest.display()), err))?;
        Ok(())
    }
}

/// A single-node store keeps artifacts only in its data directory.
fn local_artifacts() -> Error {
    Error::Unsupported(
        "a SQLite store keeps generations in its data directory only; publishing them needs a PostgreSQL store"
            .to_owned(),
    )
}

fn admin_token_row(row: &Row<'_>) -> rusqlite::Result<AdminToken> {
    let scope_bot: Option<String> = row.get(2)?;
    Ok(AdminToken {
        name: row.get(0)?,
        digest: row.get(1)?,
        scope: scope_bot.map_or(Scope::All, Scope::Bot),
        created_at: row.get(3)?,
        revoked_at: row.get(4)?,
    })
}
