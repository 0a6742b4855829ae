//! [`PgStore`]: the [`Store`] in PostgreSQL, so that several gateways share one truth.
//!
//! A small pool of synchronous connections (`postgres` + `r2d2`). The `postgres` client blocks
//! on a runtime of its own: it must never be called from an async task's thread (the gateway
//! calls the store from `spawn_blocking`). Writes run in READ COMMITTED transactions whose
//! read-then-write steps are made exact by the statement or an explicit row lock:
//! `consume_message` is one upsert guarded by `count < limit` (PostgreSQL re-checks the guard on
//! the row's newest version), `claim_due_schedule` takes its row `FOR UPDATE SKIP LOCKED`, and
//! deploy locks, activations and deletions lock the bot's row first. Every visible change bumps
//! `meta.revision`, writes its audit entry and sends a `NOTIFY` on [`REVISION_CHANNEL`], all in
//! its transaction. Migrations are versioned in `schema_migrations` and applied under an
//! advisory lock, so replicas starting together migrate once.

use std::fmt;
use std::sync::Mutex;
use std::time::Duration;

use ::postgres::error::SqlState;
use ::postgres::fallible_iterator::FallibleIterator;
use ::postgres::types::FromSql;
use ::postgres::{Config, NoTls, Row, Transaction};

mod alerts;
mod events;

use crate::names::StoredName;
use crate::{
    ARTIFACT_CHUNK_BYTES, AccessToken, AdminToken, ArtifactFile, ArtifactReader, AuditEntry, BotRow, BotSeed,
    BotStatus, Deploy, DeployOutcome, DeployStart, Error, Generation, LockHolder, Plan, Quota, Result, Schedule,
    ScheduleAction, Scope, Session, Store, Timestamp, Visibility,
};

/// The channel every visible change notifies, with the new revision as payload.
pub const REVISION_CHANNEL: &str = "docent_revision";

/// Connections per process: the gateway's blocking threads share them.
const POOL_SIZE: u32 = 16;
/// How long a new connection may take to open, and how long migrating at the start waits for one.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// The longest a call waits for a pooled connection before it reports the store unavailable:
/// requests answer 503 within about this long while the database is down, never hang.
const POOL_WAIT: Duration = Duration::from_secs(1);
/// The key of the advisory lock held while migrating.
const MIGRATION_LOCK: i64 = 0x646f_6365_6e74;

/// Schema versions, applied in order, each recorded in `schema_migrations`.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE meta (key TEXT PRIMARY KEY, value BIGINT NOT NULL);
INSERT INTO meta (key, value) VALUES ('revision', 0);

CREATE TABLE bots (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL CHECK (status IN ('active', 'inactive')),
    activate_at BIGINT,
    created_at BIGINT NOT NULL,
    live BIGINT,
    previous BIGINT,
    live_since BIGINT,
    live_by TEXT,
    next_generation BIGINT NOT NULL DEFAULT 1,
    visibility TEXT NOT NULL CHECK (visibility IN ('public', 'internal')),
    password_hash TEXT,
    site_secret TEXT
);

CREATE TABLE generations (
    bot TEXT NOT NULL REFERENCES bots (id),
    number BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('complete', 'quick')),
    dir TEXT NOT NULL,
    knowledge_digest TEXT NOT NULL,
    manifest TEXT NOT NULL,
    config TEXT NOT NULL,
    PRIMARY KEY (bot, number)
);

CREATE TABLE deploys (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    bot TEXT NOT NULL REFERENCES bots (id),
    actor TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    finished_at BIGINT,
    outcome TEXT NOT NULL CHECK (outcome IN ('running', 'succeeded', 'failed', 'interrupted', 'trained')),
    generation BIGINT,
    failure TEXT,
    phases TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX deploys_by_bot ON deploys (bot, id);

CREATE TABLE deploy_locks (
    bot TEXT PRIMARY KEY REFERENCES bots (id),
    deploy_id BIGINT NOT NULL REFERENCES deploys (id),
    owner TEXT NOT NULL,
    heartbeat_at BIGINT NOT NULL
);

CREATE TABLE schedules (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    bot TEXT NOT NULL REFERENCES bots (id),
    action TEXT NOT NULL CHECK (action IN ('deploy', 'activate', 'deactivate')),
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'running', 'done', 'failed', 'cancelled')),
    created_at BIGINT NOT NULL,
    finished_at BIGINT,
    result TEXT,
    claimed_by TEXT
);
CREATE INDEX schedules_due ON schedules (state, at);

CREATE TABLE plans (
    bot TEXT PRIMARY KEY REFERENCES bots (id),
    name TEXT NOT NULL,
    messages_per_month BIGINT,
    storage_bytes BIGINT,
    expires_at BIGINT
);

CREATE TABLE usage (
    bot TEXT NOT NULL REFERENCES bots (id),
    month TEXT NOT NULL,
    count BIGINT NOT NULL,
    PRIMARY KEY (bot, month)
);

CREATE TABLE access_tokens (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    bot TEXT NOT NULL REFERENCES bots (id),
    name TEXT NOT NULL,
    digest TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    revoked_at BIGINT
);
CREATE UNIQUE INDEX access_tokens_live_name ON access_tokens (bot, name) WHERE revoked_at IS NULL;

CREATE TABLE admin_tokens (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name TEXT NOT NULL,
    digest TEXT NOT NULL UNIQUE,
    scope_bot TEXT,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE UNIQUE INDEX admin_tokens_live_name ON admin_tokens (name) WHERE revoked_at IS NULL;

CREATE TABLE audit (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    bot TEXT,
    action TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX audit_by_bot ON audit (bot, id);

CREATE TABLE sessions (
    digest TEXT PRIMARY KEY,
    bot TEXT NOT NULL REFERENCES bots (id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

CREATE TABLE events (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    bot TEXT NOT NULL,
    generation BIGINT,
    conversation TEXT,
    at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    source TEXT,
    tier TEXT,
    latency_ms BIGINT,
    value BIGINT,
    detail TEXT,
    text TEXT,
    visitor TEXT
);
CREATE INDEX events_by_bot ON events (bot, at);
CREATE INDEX events_with_text ON events (at) WHERE text IS NOT NULL;

CREATE TABLE event_hours (
    bot TEXT NOT NULL,
    hour BIGINT NOT NULL,
    conversations BIGINT NOT NULL DEFAULT 0,
    messages BIGINT NOT NULL DEFAULT 0,
    answers BIGINT NOT NULL DEFAULT 0,
    suggestions BIGINT NOT NULL DEFAULT 0,
    unknowns BIGINT NOT NULL DEFAULT 0,
    errors BIGINT NOT NULL DEFAULT 0,
    latency_ms_sum BIGINT NOT NULL DEFAULT 0,
    slow_replies BIGINT NOT NULL DEFAULT 0,
    thumbs_up BIGINT NOT NULL DEFAULT 0,
    thumbs_down BIGINT NOT NULL DEFAULT 0,
    ratings BIGINT NOT NULL DEFAULT 0,
    rating_sum BIGINT NOT NULL DEFAULT 0,
    goals BIGINT NOT NULL DEFAULT 0,
    opens BIGINT NOT NULL DEFAULT 0,
    closes BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (bot, hour)
);

CREATE TABLE conversations (
    bot TEXT NOT NULL,
    id TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    last_at BIGINT NOT NULL,
    messages BIGINT NOT NULL DEFAULT 0,
    goals BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (bot, id)
);
CREATE INDEX conversations_by_start ON conversations (bot, started_at) INCLUDE (messages, goals, last_at, id);

CREATE TABLE question_days (
    bot TEXT NOT NULL,
    day BIGINT NOT NULL,
    question TEXT NOT NULL,
    example TEXT NOT NULL,
    asked BIGINT NOT NULL DEFAULT 0,
    unresolved BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (bot, day, question)
);

CREATE TABLE log_records (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at BIGINT NOT NULL,
    level TEXT NOT NULL CHECK (level IN ('info', 'warning', 'error')),
    bot TEXT,
    message TEXT NOT NULL
);
CREATE INDEX log_records_by_time ON log_records (at);
"#,
    r#"
CREATE TABLE alert_settings (
    bot TEXT PRIMARY KEY REFERENCES bots (id),
    settings TEXT NOT NULL
);

CREATE TABLE incidents (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    bot TEXT NOT NULL,
    kind TEXT NOT NULL,
    opened_at BIGINT NOT NULL,
    resolved_at BIGINT,
    detail TEXT NOT NULL
);
-- At most one open incident per bot and kind: the insert that would make a second one does nothing.
CREATE UNIQUE INDEX incidents_open ON incidents (bot, kind) WHERE resolved_at IS NULL;
CREATE INDEX incidents_by_bot ON incidents (bot, id);

CREATE TABLE probe_targets (
    target TEXT PRIMARY KEY,
    up BOOLEAN NOT NULL,
    since BIGINT NOT NULL,
    last_at BIGINT NOT NULL
);

CREATE TABLE probe_hours (
    target TEXT NOT NULL,
    hour BIGINT NOT NULL,
    samples BIGINT NOT NULL DEFAULT 0,
    up BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (target, hour)
);
CREATE INDEX probe_hours_by_hour ON probe_hours (hour);

CREATE TABLE monitor_runs (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    bot TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    finished_at BIGINT,
    passed BOOLEAN,
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
    next_at BIGINT NOT NULL,
    last_sent_at BIGINT,
    PRIMARY KEY (bot, period)
);

-- Flow paths and drop-off points: the first topics of a conversation's replies ('\n'
-- between them), and the topic and outcome of its last reply.
ALTER TABLE conversations ADD COLUMN path TEXT NOT NULL DEFAULT '';
ALTER TABLE conversations ADD COLUMN path_len BIGINT NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN last_topic TEXT;
ALTER TABLE conversations ADD COLUMN last_resolved BOOLEAN;
"#,
    r#"
-- Published generation artifacts: a row per publication, its manifest, and the files' bytes in
-- chunks. Deleting a generation deletes all three.
CREATE TABLE artifacts (
    bot TEXT NOT NULL,
    generation BIGINT NOT NULL,
    PRIMARY KEY (bot, generation),
    FOREIGN KEY (bot, generation) REFERENCES generations (bot, number) ON DELETE CASCADE
);
CREATE TABLE artifact_files (
    bot TEXT NOT NULL,
    generation BIGINT NOT NULL,
    path TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    PRIMARY KEY (bot, generation, path),
    FOREIGN KEY (bot, generation) REFERENCES artifacts (bot, generation) ON DELETE CASCADE
);
CREATE TABLE artifact_chunks (
    bot TEXT NOT NULL,
    generation BIGINT NOT NULL,
    path TEXT NOT NULL,
    seq BIGINT NOT NULL,
    data BYTEA NOT NULL,
    PRIMARY KEY (bot, generation, path, seq),
    FOREIGN KEY (bot, generation, path) REFERENCES artifact_files (bot, generation, path) ON DELETE CASCADE
);
-- Index files are compressed already: store them out of line without trying again.
ALTER TABLE artifact_chunks ALTER COLUMN data SET STORAGE EXTERNAL;
"#,
];

/// A `postgres://user[:password]@host[:port]/database` URL, checked; shown without its password.
#[derive(Clone)]
pub struct PgUrl {
    config: Config,
    shown: String,
}

impl PgUrl {
    /// Checks a URL: the `postgres://` or `postgresql://` scheme, a user and a TCP host or socket folder.
    pub fn parse(text: &str) -> Result<PgUrl> {
        let invalid = |reason: &str| Error::Url(format!("{}: {reason}", shown_without_secrets(text)));
        if !(text.starts_with("postgres://") || text.starts_with("postgresql://")) {
            return Err(invalid("a PostgreSQL store URL starts with postgres://"));
        }
        let mut config: Config = text.parse().map_err(|err: ::postgres::Error| invalid(&describe(&err)))?;
        let user = config.get_user().ok_or_else(|| invalid("it names no user (postgres://USER@HOST/DATABASE)"))?;
        if config.get_hosts().is_empty() {
            return Err(invalid("it names no host (postgres://USER@HOST/DATABASE)"));
        }
        let hosts: Vec<String> = config
            .get_hosts()
            .iter()
            .zip(config.get_ports().iter().chain(std::iter::repeat(&5432)))
            .map(|(host, port)| match host {
                ::postgres::config::Host::Tcp(name) => format!("{name}:{port}"),
                ::postgres::config::Host::Unix(folder) => format!("{}:{port}", folder.display()),
            })
            .collect();
        let shown = format!("postgres://{user}@{}/{}", hosts.join(","), config.get_dbname().unwrap_or(user));
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        config.keepalives_idle(Duration::from_secs(30));
        if config.get_application_name().is_none() {
            config.application_name("docent");
        }
        Ok(PgUrl { config, shown })
    }
}

impl fmt::Display for PgUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
    }
}

impl fmt::Debug for PgUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PgUrl({})", self.shown)
    }
}

/// A URL as it may be shown: everything between `://` and `@` but the user, and the query, left out.
fn shown_without_secrets(text: &str) -> String {
    let text = text.split('?').next().unwrap_or_default();
    let Some((scheme, rest)) = text.split_once("://") else {
        return "the store URL".to_owned();
    };
    match rest.rsplit_once('@') {
        Some((user_info, host)) => {
            let user = user_info.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}@{host}")
        }
        None => format!("{scheme}://{rest}"),
    }
}

/// Opens and checks the pool's connections; its errors keep their causes, which the client's
/// own messages leave out ("db error", "error connecting to server").
struct Manager {
    config: Config,
}

/// A connection failure, with its causes.
#[derive(Debug)]
struct ConnectionError(String);

impl fmt::Display for ConnectionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConnectionError {}

impl r2d2::ManageConnection for Manager {
    type Connection = ::postgres::Client;
    type Error = ConnectionError;

    fn connect(&self) -> std::result::Result<Self::Connection, Self::Error> {
        self.config.connect(NoTls).map_err(|err| ConnectionError(describe(&err)))
    }

    fn is_valid(&self, connection: &mut Self::Connection) -> std::result::Result<(), Self::Error> {
        connection.simple_query("").map(drop).map_err(|err| ConnectionError(describe(&err)))
    }

    fn has_broken(&self, connection: &mut Self::Connection) -> bool {
        connection.is_closed()
    }
}

/// An error with its chain of causes.
fn describe(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The store in a PostgreSQL database.
pub struct PgStore {
    /// Always `Some` until dropped; see the `Drop` impl.
    pool: Option<r2d2::Pool<Manager>>,
    /// The connection that `LISTEN`s on [`REVISION_CHANNEL`], made at the first wait and
    /// again after it broke.
    listener: Mutex<Option<::postgres::Client>>,
    url: PgUrl,
}

impl Drop for PgStore {
    fn drop(&mut self) {
        // Closing a connection blocks on the client's own runtime, which panics on a thread that
        // drives async tasks: the connections are closed on a plain thread of their own.
        let listener = self.listener.get_mut().unwrap_or_else(|poisoned| poisoned.into_inner()).take();
        let pool = self.pool.take();
        let _ = std::thread::spawn(move || drop((pool, listener))).join();
    }
}

impl PgStore {
    /// Connects to the database at `url` and migrates it.
    pub fn open(url: &PgUrl) -> Result<PgStore> {
        let pool = r2d2::Pool::builder()
            .max_size(POOL_SIZE)
            .min_idle(Some(1))
            .connection_timeout(POOL_WAIT)
            // One empty query per checkout: after a database restart the dead connections are
            // replaced here, instead of failing one request each.
            .test_on_check_out(true)
            // Failed attempts are retried in the background and reported by the call that waited.
            .error_handler(Box::new(r2d2::NopErrorHandler))
            .build_unchecked(Manager { config: url.config.clone() });
        let store = PgStore { pool: Some(pool), listener: Mutex::new(None), url: url.clone() };
        store.migrate()?;
        Ok(store)
    }

    /// The schema version applied.
    pub fn schema_version(&self) -> Result<i64> {
        let row = self.connection()?.query_one("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", &[]);
        get(&row.map_err(db)?, 0)
    }

    /// The URL it was opened with (without a password).
    pub fn url(&self) -> &PgUrl {
        &self.url
    }

    /// Migrates on a connection waited for as long as a connection may take to open, since a
    /// gateway starting beside its database may come first.
    fn migrate(&self) -> Result<()> {
        self.write_within(CONNECT_TIMEOUT, |tx| {
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK]).map_err(db)?;
            tx.batch_execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (
                    version BIGINT PRIMARY KEY,
                    applied_at BIGINT NOT NULL DEFAULT (extract(epoch FROM now())::bigint))",
            )
            .map_err(db)?;
            let current: i64 =
                get(&tx.query_one("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", &[]).map_err(db)?, 0)?;
            let known = MIGRATIONS.len() as i64;
            if current > known {
                return Err(Error::TooNew { found: current, known });
            }
            for (index, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
                let version = index as i64 + 1;
                tx.batch_execute(sql)
                    .map_err(|err| Error::Backend(format!("migration {version}: {}", describe(&err))))?;
                tx.execute("INSERT INTO schema_migrations (version) VALUES ($1)", &[&version]).map_err(db)?;
            }
            Ok(())
        })
    }

    fn connection(&self) -> Result<r2d2::PooledConnection<Manager>> {
        self.connection_within(POOL_WAIT)
    }

    /// A pooled connection, waited for at most `wait`; none by then means the store is unavailable.
    fn connection_within(&self, wait: Duration) -> Result<r2d2::PooledConnection<Manager>> {
        let pool = self.pool.as_ref().ok_or_else(|| Error::Backend("the store is closed".to_owned()))?;
        pool.get_timeout(wait).map_err(|err| Error::Unavailable(format!("cannot connect to {}: {err}", self.url)))
    }

    /// Runs `change` in a transaction, committed when it returns `Ok`.
    fn write<T>(&self, change: impl FnOnce(&mut Transaction<'_>) -> Result<T>) -> Result<T> {
        self.write_within(POOL_WAIT, change)
    }

    /// [`PgStore::write`] on a connection waited for at most `wait`.
    fn write_within<T>(&self, wait: Duration, change: impl FnOnce(&mut Transaction<'_>) -> Result<T>) -> Result<T> {
        let mut connection = self.connection_within(wait)?;
        let mut tx = connection.transaction().map_err(db)?;
        let value = change(&mut tx)?;
        tx.commit().map_err(db)?;
        Ok(value)
    }

    /// A change a gateway must see: `change`, the audit entry, the revision bump and its notice, atomically.
    fn visible_change<T>(
        &self,
        audit: &AuditEntry,
        change: impl FnOnce(&mut Transaction<'_>) -> Result<T>,
    ) -> Result<T> {
        self.write(|tx| {
            let value = change(tx)?;
            bump_and_audit(tx, audit)?;
            Ok(value)
        })
    }

    fn query(&self, sql: &str, params: &[&(dyn ::postgres::types::ToSql + Sync)]) -> Result<Vec<Row>> {
        self.connection()?.query(sql, params).map_err(db)
    }

    fn query_opt(&self, sql: &str, params: &[&(dyn ::postgres::types::ToSql + Sync)]) -> Result<Option<Row>> {
        self.connection()?.query_opt(sql, params).map_err(db)
    }
}

/// Reads until `buffer` is full or the reader ends; returns how many bytes it holds.
fn fill(reader: &mut dyn std::io::Read, buffer: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match reader.read(&mut buffer[filled..]) {
            Ok(0) => break,
            Ok(read) => filled += read,
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
            Err(err) => return Err(err),
        }
    }
    Ok(filled)
}

fn bump_and_audit(tx: &mut Transaction<'_>, audit: &AuditEntry) -> Result<()> {
    let row =
        tx.query_one("UPDATE meta SET value = value + 1 WHERE key = 'revision' RETURNING value", &[]).map_err(db)?;
    let revision: i64 = get(&row, 0)?;
    tx.execute("SELECT pg_notify($1, $2)", &[&REVISION_CHANNEL, &revision.to_string()]).map_err(db)?;
    write_audit(tx, audit)
}

fn write_audit(tx: &mut Transaction<'_>, audit: &AuditEntry) -> Result<()> {
    tx.execute(
        "INSERT INTO audit (at, actor, bot, action, detail) VALUES ($1, $2, $3, $4, $5)",
        &[&audit.at, &audit.actor, &audit.bot, &audit.action, &audit.detail],
    )
    .map_err(db)?;
    Ok(())
}

/// A client error as a store error: a lost or refused connection, or a server shutting down,
/// is [`Error::Unavailable`] (worth a retry), anything else [`Error::Backend`].
fn db(err: ::postgres::Error) -> Error {
    if is_connection_failure(&err) { Error::Unavailable(describe(&err)) } else { Error::Backend(describe(&err)) }
}

fn is_connection_failure(err: &::postgres::Error) -> bool {
    if err.is_closed() {
        return true;
    }
    if let Some(code) = err.code() {
        // Class 08 is "connection exception"; 57P01–57P03 a server shutting down or starting.
        let code = code.code();
        return code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03");
    }
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        if cause.is::<std::io::Error>() {
            return true;
        }
        source = cause.source();
    }
    false
}

fn is_unique_violation(err: &::postgres::Error) -> bool {
    err.code() == Some(&SqlState::UNIQUE_VIOLATION)
}

fn get<'a, T: FromSql<'a>>(row: &'a Row, column: usize) -> Result<T> {
    row.try_get(column).map_err(db)
}

/// The enum stored as text in `column`.
fn stored<T: StoredName>(row: &Row, column: usize) -> Result<T> {
    let text: &str = get(row, column)?;
    T::from_name(text).map_err(Error::Backend)
}

/// A count or number stored as BIGINT.
fn unsigned(row: &Row, column: usize) -> Result<u64> {
    let value: i64 = get(row, column)?;
    u64::try_from(value).map_err(|_| Error::Backend(format!("unexpected negative value {value} in the store")))
}

fn unsigned_opt(row: &Row, column: usize) -> Result<Option<u64>> {
    let value: Option<i64> = get(row, column)?;
    value
        .map(|value| {
            u64::try_from(value).map_err(|_| Error::Backend(format!("unexpected negative value {value} in the store")))
        })
        .transpose()
}

/// A generation number or count as BIGINT: larger ones name nothing the store can hold.
fn signed(value: u64) -> Result<i64> {
    i64::try_from(value).map_err(|_| Error::Conflict(format!("{value} is beyond the store's integers")))
}

fn signed_opt(value: Option<u64>) -> Option<i64> {
    value.map(|v| i64::try_from(v).unwrap_or(i64::MAX))
}

/// Says the store does not know the bot unless it does (without locking its row).
fn require_bot(tx: &mut Transaction<'_>, bot: &str) -> Result<()> {
    match tx.query_opt("SELECT 1 FROM bots WHERE id = $1", &[&bot]).map_err(db)? {
        Some(_) => Ok(()),
        None => Err(Error::Conflict(format!("the store knows no bot \"{bot}\""))),
    }
}

/// Locks the bot's row for the transaction, or says the store does not know it.
fn lock_bot(tx: &mut Transaction<'_>, bot: &str) -> Result<()> {
    match tx.query_opt("SELECT 1 FROM bots WHERE id = $1 FOR UPDATE", &[&bot]).map_err(db)? {
        Some(_) => Ok(()),
        None => Err(Error::Conflict(format!("the store knows no bot \"{bot}\""))),
    }
}

const BOT_COLUMNS: &str =
    "id, status, activate_at, created_at, live, previous, live_since, live_by, visibility, password_hash";

fn bot_row(row: &Row) -> Result<BotRow> {
    Ok(BotRow {
        id: get(row, 0)?,
        status: stored(row, 1)?,
        activate_at: get(row, 2)?,
        created_at: get(row, 3)?,
        live: unsigned_opt(row, 4)?,
        previous: unsigned_opt(row, 5)?,
        live_since: get(row, 6)?,
        live_by: get(row, 7)?,
        visibility: stored(row, 8)?,
        password_hash: get(row, 9)?,
    })
}

const GENERATION_COLUMNS: &str = "bot, number, created_at, created_by, kind, dir, knowledge_digest, manifest, config";

fn generation_row(row: &Row) -> Result<Generation> {
    Ok(Generation {
        bot: get(row, 0)?,
        number: unsigned(row, 1)?,
        created_at: get(row, 2)?,
        created_by: get(row, 3)?,
        kind: stored(row, 4)?,
        dir: get(row, 5)?,
        knowledge_digest: get(row, 6)?,
        manifest: get(row, 7)?,
        config: get(row, 8)?,
    })
}

const DEPLOY_COLUMNS: &str = "id, bot, actor, started_at, finished_at, outcome, generation, failure, phases";

fn deploy_row(row: &Row) -> Result<Deploy> {
    Ok(Deploy {
        id: get(row, 0)?,
        bot: get(row, 1)?,
        actor: get(row, 2)?,
        started_at: get(row, 3)?,
        finished_at: get(row, 4)?,
        outcome: stored(row, 5)?,
        generation: unsigned_opt(row, 6)?,
        failure: get(row, 7)?,
        phases: get(row, 8)?,
    })
}

const SCHEDULE_COLUMNS: &str = "id, bot, action, at, actor, state, created_at, result, claimed_by";

fn schedule_row(row: &Row) -> Result<Schedule> {
    Ok(Schedule {
        id: get(row, 0)?,
        bot: get(row, 1)?,
        action: stored(row, 2)?,
        at: get(row, 3)?,
        actor: get(row, 4)?,
        state: stored(row, 5)?,
        created_at: get(row, 6)?,
        result: get(row, 7)?,
        claimed_by: get(row, 8)?,
    })
}

fn access_token_row(row: &Row) -> Result<AccessToken> {
    Ok(AccessToken {
        bot: get(row, 0)?,
        name: get(row, 1)?,
        digest: get(row, 2)?,
        created_at: get(row, 3)?,
        expires_at: get(row, 4)?,
        revoked_at: get(row, 5)?,
    })
}

fn admin_token_row(row: &Row) -> Result<AdminToken> {
    let scope_bot: Option<String> = get(row, 2)?;
    Ok(AdminToken {
        name: get(row, 0)?,
        digest: get(row, 1)?,
        scope: scope_bot.map_or(Scope::All, Scope::Bot),
        created_at: get(row, 3)?,
        revoked_at: get(row, 4)?,
    })
}

fn session_row(row: &Row) -> Result<Session> {
    Ok(Session { digest: get(row, 0)?, bot: get(row, 1)?, created_at: get(row, 2)?, expires_at: get(row, 3)? })
}

fn lock_holder(tx: &mut Transaction<'_>, bot: &str) -> Result<Option<LockHolder>> {
    tx.query_opt(
        "SELECT l.deploy_id, d.actor, l.owner, d.started_at, l.heartbeat_at
         FROM deploy_locks l JOIN deploys d ON d.id = l.deploy_id WHERE l.bot = $1",
        &[&bot],
    )
    .map_err(db)?
    .map(|row| {
        Ok(LockHolder {
            deploy_id: get(&row, 0)?,
            actor: get(&row, 1)?,
            owner: get(&row, 2)?,
            started_at: get(&row, 3)?,
            heartbeat_at: get(&row, 4)?,
        })
    })
    .transpose()
}

fn rows<T>(rows: Vec<Row>, read: impl Fn(&Row) -> Result<T>) -> Result<Vec<T>> {
    rows.iter().map(read).collect()
}

impl Store for PgStore {
    fn revision(&self) -> Result<u64> {
        let row = self.query_opt("SELECT value FROM meta WHERE key = 'revision'", &[])?;
        row.map_or(Ok(0), |row| unsigned(&row, 0))
    }

    fn wait_for_change(&self, timeout: Duration) -> Result<bool> {
        let mut listener = self.listener.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let client = match listener.as_mut() {
            Some(client) => client,
            None => {
                let mut client =
                    self.url.config.connect(NoTls).map_err(|err| {
                        Error::Unavailable(format!("cannot connect to {}: {}", self.url, describe(&err)))
                    })?;
                client.batch_execute(&format!("LISTEN {REVISION_CHANNEL}")).map_err(db)?;
                listener.insert(client)
            }
        };
        let heard = {
            let mut notifications = client.notifications();
            let first = notifications.timeout_iter(timeout).next();
            // Several changes may have come at once: one refresh covers them all.
            first.and_then(|heard| Ok(heard.is_some() | (notifications.iter().count()? > 0)))
        };
        heard.map_err(|err| {
            *listener = None;
            Error::Unavailable(format!("listening for changes on {}: {}", self.url, describe(&err)))
        })
    }

    fn ensure_bot(&self, id: &str, seed: &BotSeed, audit: &AuditEntry) -> Result<bool> {
        if self.bot(id)?.is_some() {
            return Ok(false);
        }
        self.write(|tx| {
            let inserted = tx
                .execute(
                    "INSERT INTO bots (id, status, created_at, visibility, password_hash) VALUES ($1, 'active', $2, $3, $4)
                     ON CONFLICT (id) DO NOTHING",
                    &[&id, &audit.at, &seed.visibility.name(), &seed.password_hash],
                )
                .map_err(db)?;
            if inserted == 0 {
                return Ok(false);
            }
            for (index, digest) in seed.token_digests.iter().enumerate() {
                tx.execute(
                    "INSERT INTO access_tokens (bot, name, digest, created_at) VALUES ($1, $2, $3, $4)",
                    &[&id, &format!("bot.toml-{}", index + 1), digest, &audit.at],
                )
                .map_err(db)?;
            }
            bump_and_audit(tx, audit)?;
            Ok(true)
        })
    }

    fn bot(&self, id: &str) -> Result<Option<BotRow>> {
        self.query_opt(&format!("SELECT {BOT_COLUMNS} FROM bots WHERE id = $1"), &[&id])?
            .as_ref()
            .map(bot_row)
            .transpose()
    }

    fn bots(&self) -> Result<Vec<BotRow>> {
        rows(self.query(&format!("SELECT {BOT_COLUMNS} FROM bots ORDER BY id"), &[])?, bot_row)
    }

    fn set_status(
        &self,
        id: &str,
        status: BotStatus,
        activate_at: Option<Timestamp>,
        audit: &AuditEntry,
    ) -> Result<()> {
        self.visible_change(audit, |tx| {
            lock_bot(tx, id)?;
            tx.execute(
                "UPDATE bots SET status = $2, activate_at = $3 WHERE id = $1",
                &[&id, &status.name(), &activate_at],
            )
            .map_err(db)?;
            Ok(())
        })
    }

    fn next_generation_number(&self, bot: &str) -> Result<u64> {
        self.write(|tx| {
            let row = tx
                .query_opt(
                    "UPDATE bots SET next_generation = next_generation + 1 WHERE id = $1 RETURNING next_generation - 1",
                    &[&bot],
                )
                .map_err(db)?
                .ok_or_else(|| Error::Conflict(format!("the store knows no bot \"{bot}\"")))?;
            unsigned(&row, 0)
        })
    }

    fn insert_generation(&self, generation: &Generation) -> Result<()> {
        let number = signed(generation.number)?;
        self.write(|tx| {
            lock_bot(tx, &generation.bot)?;
            tx.execute(
                &format!("INSERT INTO generations ({GENERATION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"),
                &[
                    &generation.bot,
                    &number,
                    &generation.created_at,
                    &generation.created_by,
                    &generation.kind.name(),
                    &generation.dir,
                    &generation.knowledge_digest,
                    &generation.manifest,
                    &generation.config,
                ],
            )
            .map_err(|err| {
                if is_unique_violation(&err) {
                    Error::Conflict(format!(
                        "bot \"{}\" already has a generation {}",
                        generation.bot, generation.number
                    ))
                } else {
                    db(err)
                }
            })?;
            Ok(())
        })
    }

    fn generation(&self, bot: &str, number: u64) -> Result<Option<Generation>> {
        let Ok(number) = i64::try_from(number) else {
            return Ok(None);
        };
        self.query_opt(
            &format!("SELECT {GENERATION_COLUMNS} FROM generations WHERE bot = $1 AND number = $2"),
            &[&bot, &number],
        )?
        .as_ref()
        .map(generation_row)
        .transpose()
    }

    fn generations(&self, bot: &str) -> Result<Vec<Generation>> {
        rows(
            self.query(
                &format!("SELECT {GENERATION_COLUMNS} FROM generations WHERE bot = $1 ORDER BY number DESC"),
                &[&bot],
            )?,
            generation_row,
        )
    }

    fn delete_generation(&self, bot: &str, number: u64) -> Result<()> {
        let number = signed(number)?;
        self.write(|tx| {
            let pointers =
                tx.query_opt("SELECT live, previous FROM bots WHERE id = $1 FOR UPDATE", &[&bot]).map_err(db)?;
            if let Some(row) = pointers {
                let (live, previous): (Option<i64>, Option<i64>) = (get(&row, 0)?, get(&row, 1)?);
                if live == Some(number) || previous == Some(number) {
                    return Err(Error::Conflict(format!(
                        "generation {number} of \"{bot}\" is live or the rollback target; it cannot be deleted"
                    )));
                }
            }
            tx.execute("DELETE FROM generations WHERE bot = $1 AND number = $2", &[&bot, &number]).map_err(db)?;
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
        let missing = || Error::Conflict(format!("bot \"{bot}\" has no generation {number}"));
        let number = i64::try_from(number).map_err(|_| missing())?;
        self.visible_change(audit, |tx| {
            lock_bot(tx, bot)?;
            if tx
                .query_opt("SELECT 1 FROM generations WHERE bot = $1 AND number = $2", &[&bot, &number])
                .map_err(db)?
                .is_none()
            {
                return Err(missing());
            }
            tx.execute(
                "UPDATE bots SET previous = CASE WHEN live IS NULL OR live = $2 THEN previous ELSE live END,
                                 live = $2, live_since = $3, live_by = $4
                 WHERE id = $1",
                &[&bot, &number, &audit.at, &audit.actor],
            )
            .map_err(db)?;
            if let Some((deploy_id, phases)) = deploy {
                tx.execute(
                    "UPDATE deploys SET outcome = 'succeeded', finished_at = $2, generation = $3, phases = $4 WHERE id = $1",
                    &[&deploy_id, &audit.at, &number, &phases],
                )
                .map_err(db)?;
                tx.execute("DELETE FROM deploy_locks WHERE deploy_id = $1", &[&deploy_id]).map_err(db)?;
            }
            Ok(())
        })
    }

    fn publish_artifact(
        &self,
        bot: &str,
        number: u64,
        files: &[ArtifactFile],
        open: &mut ArtifactReader<'_>,
    ) -> Result<()> {
        let generation = signed(number)?;
        self.write(|tx| {
            // The generation's row, not the bot's, is locked: two publications of one generation
            // take turns and its deletion waits, while the bot's other changes go on.
            if tx
                .query_opt("SELECT 1 FROM generations WHERE bot = $1 AND number = $2 FOR UPDATE", &[&bot, &generation])
                .map_err(db)?
                .is_none()
            {
                return Err(Error::Conflict(format!("bot \"{bot}\" has no generation {number} to publish")));
            }
            tx.execute("DELETE FROM artifacts WHERE bot = $1 AND generation = $2", &[&bot, &generation]).map_err(db)?;
            tx.execute("INSERT INTO artifacts (bot, generation) VALUES ($1, $2)", &[&bot, &generation]).map_err(db)?;
            let insert_chunk = tx
                .prepare("INSERT INTO artifact_chunks (bot, generation, path, seq, data) VALUES ($1, $2, $3, $4, $5)")
                .map_err(db)?;
            let mut chunk = vec![0u8; ARTIFACT_CHUNK_BYTES];
            for file in files {
                tx.execute(
                    "INSERT INTO artifact_files (bot, generation, path, size, sha256) VALUES ($1, $2, $3, $4, $5)",
                    &[&bot, &generation, &file.path, &signed(file.size)?, &file.sha256],
                )
                .map_err(db)?;
                let unreadable = |err: std::io::Error| {
                    Error::Artifact(format!("cannot read {} of generation {number} of \"{bot}\": {err}", file.path))
                };
                let mut reader = open(file).map_err(unreadable)?;
                let (mut seq, mut total) = (0i64, 0u64);
                loop {
                    let filled = fill(reader.as_mut(), &mut chunk).map_err(unreadable)?;
                    if filled == 0 {
                        break;
                    }
                    tx.execute(&insert_chunk, &[&bot, &generation, &file.path, &seq, &&chunk[..filled]]).map_err(db)?;
                    seq += 1;
                    total += filled as u64;
                }
                if total != file.size {
                    return Err(Error::Artifact(format!(
                        "{} of generation {number} of \"{bot}\" holds {total} bytes, its manifest says {}",
                        file.path, file.size
                    )));
                }
            }
            Ok(())
        })
    }

    fn artifact_files(&self, bot: &str, number: u64) -> Result<Option<Vec<ArtifactFile>>> {
        let Ok(generation) = i64::try_from(number) else { return Ok(None) };
        if self.query_opt("SELECT 1 FROM artifacts WHERE bot = $1 AND generation = $2", &[&bot, &generation])?.is_none()
        {
            return Ok(None);
        }
        let files = self.query(
            "SELECT path, size, sha256 FROM artifact_files WHERE bot = $1 AND generation = $2 ORDER BY path",
            &[&bot, &generation],
        )?;
        rows(files, |row| Ok(ArtifactFile { path: get(row, 0)?, size: unsigned(row, 1)?, sha256: get(row, 2)? }))
            .map(Some)
    }

    fn read_artifact_file(&self, bot: &str, number: u64, path: &str, out: &mut dyn std::io::Write) -> Result<u64> {
        let generation = signed(number)?;
        let mut connection = self.connection()?;
        let read_chunk = connection
            .prepare("SELECT data FROM artifact_chunks WHERE bot = $1 AND generation = $2 AND path = $3 AND seq = $4")
            .map_err(db)?;
        // One chunk per query: memory stays at one chunk whatever the file's size.
        let (mut seq, mut total) = (0i64, 0u64);
        while let Some(row) = connection.query_opt(&read_chunk, &[&bot, &generation, &path, &seq]).map_err(db)? {
            let data: &[u8] = get(&row, 0)?;
            out.write_all(data).map_err(|err| {
                Error::Artifact(format!("cannot write {path} of generation {number} of \"{bot}\": {err}"))
            })?;
            seq += 1;
            total += data.len() as u64;
        }
        Ok(total)
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
            // The bot's row lock makes look-at-the-lock-then-take-it one step across processes.
            lock_bot(tx, bot)?;
            if let Some(holder) = lock_holder(tx, bot)? {
                if !is_stale(&holder) {
                    return Ok(DeployStart::Busy(holder));
                }
                tx.execute(
                    "UPDATE deploys SET outcome = 'interrupted', finished_at = $2,
                            failure = 'the deploying process stopped before the end' WHERE id = $1",
                    &[&holder.deploy_id, &now],
                )
                .map_err(db)?;
                tx.execute("DELETE FROM deploy_locks WHERE bot = $1", &[&bot]).map_err(db)?;
            }
            let row = tx
                .query_one(
                    "INSERT INTO deploys (bot, actor, started_at, outcome) VALUES ($1, $2, $3, 'running') RETURNING id",
                    &[&bot, &actor, &now],
                )
                .map_err(db)?;
            let deploy_id: i64 = get(&row, 0)?;
            tx.execute(
                "INSERT INTO deploy_locks (bot, deploy_id, owner, heartbeat_at) VALUES ($1, $2, $3, $4)",
                &[&bot, &deploy_id, &owner, &now],
            )
            .map_err(db)?;
            Ok(DeployStart::Started { deploy_id })
        })
    }

    fn heartbeat_deploy(&self, deploy_id: i64, now: Timestamp, phases: &str) -> Result<()> {
        self.write(|tx| {
            tx.execute("UPDATE deploy_locks SET heartbeat_at = $2 WHERE deploy_id = $1", &[&deploy_id, &now])
                .map_err(db)?;
            tx.execute("UPDATE deploys SET phases = $2 WHERE id = $1", &[&deploy_id, &phases]).map_err(db)?;
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
        let generation = generation.map(signed).transpose()?;
        self.write(|tx| {
            tx.execute(
                "UPDATE deploys SET outcome = $2, failure = $3, phases = $4, finished_at = $5, generation = $6 WHERE id = $1",
                &[&deploy_id, &outcome.name(), &failure, &phases, &now, &generation],
            )
            .map_err(db)?;
            tx.execute("DELETE FROM deploy_locks WHERE deploy_id = $1", &[&deploy_id]).map_err(db)?;
            Ok(())
        })
    }

    fn deploys(&self, bot: &str, limit: usize) -> Result<Vec<Deploy>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        rows(
            self.query(
                &format!("SELECT {DEPLOY_COLUMNS} FROM deploys WHERE bot = $1 ORDER BY id DESC LIMIT $2"),
                &[&bot, &limit],
            )?,
            deploy_row,
        )
    }

    fn deploy_lock(&self, bot: &str) -> Result<Option<LockHolder>> {
        self.write(|tx| lock_holder(tx, bot))
    }

    fn add_schedule(&self, bot: &str, action: ScheduleAction, at: Timestamp, audit: &AuditEntry) -> Result<i64> {
        self.visible_change(audit, |tx| {
            lock_bot(tx, bot)?;
            let row = tx
                .query_one(
                    "INSERT INTO schedules (bot, action, at, actor, state, created_at) VALUES ($1, $2, $3, $4, 'pending', $5)
                     RETURNING id",
                    &[&bot, &action.name(), &at, &audit.actor, &audit.at],
                )
                .map_err(db)?;
            get(&row, 0)
        })
    }

    fn schedules(&self, bot: Option<&str>) -> Result<Vec<Schedule>> {
        rows(
            self.query(
                &format!("SELECT {SCHEDULE_COLUMNS} FROM schedules WHERE $1::text IS NULL OR bot = $1 ORDER BY at, id"),
                &[&bot],
            )?,
            schedule_row,
        )
    }

    fn cancel_schedule(&self, id: i64, audit: &AuditEntry) -> Result<bool> {
        self.visible_change(audit, |tx| {
            let changed = tx
                .execute(
                    "UPDATE schedules SET state = 'cancelled', finished_at = $2 WHERE id = $1 AND state = 'pending'",
                    &[&id, &audit.at],
                )
                .map_err(db)?;
            Ok(changed == 1)
        })
    }

    fn claim_due_schedule(&self, now: Timestamp, owner: &str) -> Result<Option<Schedule>> {
        self.write(|tx| {
            // SKIP LOCKED: a row another process is claiming is passed over, never claimed twice.
            tx.query_opt(
                &format!(
                    "UPDATE schedules SET state = 'running', claimed_by = $2
                     WHERE state = 'pending' AND id = (
                         SELECT id FROM schedules WHERE state = 'pending' AND at <= $1
                         ORDER BY at, id LIMIT 1 FOR UPDATE SKIP LOCKED)
                     RETURNING {SCHEDULE_COLUMNS}"
                ),
                &[&now, &owner],
            )
            .map_err(db)?
            .as_ref()
            .map(schedule_row)
            .transpose()
        })
    }

    fn finish_schedule(&self, id: i64, ok: bool, result: &str, now: Timestamp) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE schedules SET state = $2, result = $3, finished_at = $4 WHERE id = $1",
                &[&id, &if ok { "done" } else { "failed" }, &result, &now],
            )
            .map_err(db)?;
            Ok(())
        })
    }

    fn set_plan(&self, bot: &str, plan: Option<&Plan>, audit: &AuditEntry) -> Result<()> {
        self.visible_change(audit, |tx| {
            lock_bot(tx, bot)?;
            match plan {
                Some(plan) => tx.execute(
                    "INSERT INTO plans (bot, name, messages_per_month, storage_bytes, expires_at) VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT (bot) DO UPDATE SET name = $2, messages_per_month = $3, storage_bytes = $4, expires_at = $5",
                    &[
                        &bot,
                        &plan.name,
                        &signed_opt(plan.messages_per_month),
                        &signed_opt(plan.storage_bytes),
                        &plan.expires_at,
                    ],
                ),
                None => tx.execute("DELETE FROM plans WHERE bot = $1", &[&bot]),
            }
            .map_err(db)?;
            Ok(())
        })
    }

    fn plan(&self, bot: &str) -> Result<Option<Plan>> {
        self.query_opt("SELECT name, messages_per_month, storage_bytes, expires_at FROM plans WHERE bot = $1", &[&bot])?
            .map(|row| {
                Ok(Plan {
                    name: get(&row, 0)?,
                    messages_per_month: unsigned_opt(&row, 1)?,
                    storage_bytes: unsigned_opt(&row, 2)?,
                    expires_at: get(&row, 3)?,
                })
            })
            .transpose()
    }

    fn usage(&self, bot: &str, month: &str) -> Result<u64> {
        let row = self.query_opt("SELECT count FROM usage WHERE bot = $1 AND month = $2", &[&bot, &month])?;
        row.map_or(Ok(0), |row| unsigned(&row, 0))
    }

    fn consume_message(&self, bot: &str, month: &str, now: Timestamp) -> Result<Quota> {
        self.write(|tx| {
            require_bot(tx, bot)?;
            let plan =
                tx.query_opt("SELECT messages_per_month, expires_at FROM plans WHERE bot = $1", &[&bot]).map_err(db)?;
            let (limit, expires_at): (Option<i64>, Option<i64>) = match &plan {
                Some(row) => (get(row, 0)?, get(row, 1)?),
                None => (None, None),
            };
            if let Some(expired_at) = expires_at
                && expired_at <= now
            {
                return Ok(Quota::PlanExpired { expired_at });
            }
            if limit == Some(0) {
                return Ok(Quota::LimitReached { limit: 0 });
            }
            // On a conflict PostgreSQL locks the row and checks the guard on its newest version:
            // concurrent callers queue on the row and exactly `limit` of them pass.
            let used = tx
                .query_opt(
                    "INSERT INTO usage (bot, month, count) VALUES ($1, $2, 1)
                     ON CONFLICT (bot, month) DO UPDATE SET count = usage.count + 1
                     WHERE $3::bigint IS NULL OR usage.count < $3
                     RETURNING count",
                    &[&bot, &month, &limit],
                )
                .map_err(db)?
                .map(|row| unsigned(&row, 0))
                .transpose()?;
            let limit = limit.map(|limit| u64::try_from(limit).unwrap_or(0));
            Ok(match (used, limit) {
                (Some(used), limit) if limit.is_none_or(|limit| used <= limit) => Quota::Allowed { used, limit },
                (_, limit) => Quota::LimitReached { limit: limit.unwrap_or(0) },
            })
        })
    }

    fn add_usage(&self, bot: &str, month: &str, count: u64) -> Result<()> {
        let count = i64::try_from(count).unwrap_or(i64::MAX);
        self.connection()?
            .execute(
                "INSERT INTO usage (bot, month, count) SELECT id, $2, $3 FROM bots WHERE id = $1
                 ON CONFLICT (bot, month) DO UPDATE SET count = usage.count + excluded.count",
                &[&bot, &month, &count],
            )
            .map_err(db)?;
        Ok(())
    }

    fn set_visibility(&self, bot: &str, visibility: Visibility, audit: &AuditEntry) -> Result<()> {
        self.visible_change(audit, |tx| {
            lock_bot(tx, bot)?;
            tx.execute("UPDATE bots SET visibility = $2 WHERE id = $1", &[&bot, &visibility.name()]).map_err(db)?;
            Ok(())
        })
    }

    fn set_password_hash(&self, bot: &str, hash: Option<&str>, audit: &AuditEntry) -> Result<()> {
        self.visible_change(audit, |tx| {
            lock_bot(tx, bot)?;
            tx.execute("UPDATE bots SET password_hash = $2 WHERE id = $1", &[&bot, &hash]).map_err(db)?;
            Ok(())
        })
    }

    fn add_access_token(&self, token: &AccessToken, audit: &AuditEntry) -> Result<()> {
        self.visible_change(audit, |tx| {
            lock_bot(tx, &token.bot)?;
            tx.execute(
                "INSERT INTO access_tokens (bot, name, digest, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
                &[&token.bot, &token.name, &token.digest, &token.created_at, &token.expires_at],
            )
            .map_err(|err| {
                if is_unique_violation(&err) {
                    Error::Conflict(format!(
                        "bot \"{}\" already has an access token named \"{}\"; revoke it first or pick another name",
                        token.bot, token.name
                    ))
                } else {
                    db(err)
                }
            })?;
            Ok(())
        })
    }

    fn access_tokens(&self, bot: &str) -> Result<Vec<AccessToken>> {
        rows(
            self.query(
                "SELECT bot, name, digest, created_at, expires_at, revoked_at FROM access_tokens WHERE bot = $1 ORDER BY id",
                &[&bot],
            )?,
            access_token_row,
        )
    }

    fn revoke_access_token(&self, bot: &str, name: &str, audit: &AuditEntry) -> Result<bool> {
        self.visible_change(audit, |tx| {
            let changed = tx
                .execute(
                    "UPDATE access_tokens SET revoked_at = $3 WHERE bot = $1 AND name = $2 AND revoked_at IS NULL",
                    &[&bot, &name, &audit.at],
                )
                .map_err(db)?;
            Ok(changed == 1)
        })
    }

    fn add_session(&self, session: &Session) -> Result<()> {
        self.write(|tx| {
            tx.execute("DELETE FROM sessions WHERE expires_at <= $1", &[&session.created_at]).map_err(db)?;
            require_bot(tx, &session.bot)?;
            tx.execute(
                "INSERT INTO sessions (digest, bot, created_at, expires_at) VALUES ($1, $2, $3, $4)",
                &[&session.digest, &session.bot, &session.created_at, &session.expires_at],
            )
            .map_err(db)?;
            Ok(())
        })
    }

    fn session(&self, digest: &str, now: Timestamp) -> Result<Option<Session>> {
        self.query_opt(
            "SELECT digest, bot, created_at, expires_at FROM sessions WHERE digest = $1 AND expires_at > $2",
            &[&digest, &now],
        )?
        .as_ref()
        .map(session_row)
        .transpose()
    }

    fn delete_session(&self, digest: &str) -> Result<bool> {
        Ok(self.connection()?.execute("DELETE FROM sessions WHERE digest = $1", &[&digest]).map_err(db)? == 1)
    }

    fn set_site_secret(&self, bot: &str, secret: Option<&str>, audit: &AuditEntry) -> Result<()> {
        self.visible_change(audit, |tx| {
            lock_bot(tx, bot)?;
            tx.execute("UPDATE bots SET site_secret = $2 WHERE id = $1", &[&bot, &secret]).map_err(db)?;
            Ok(())
        })
    }

    fn site_secret(&self, bot: &str) -> Result<Option<String>> {
        let row = self.query_opt("SELECT site_secret FROM bots WHERE id = $1", &[&bot])?;
        Ok(row.map(|row| get::<Option<String>>(&row, 0)).transpose()?.flatten())
    }

    fn add_admin_token(&self, token: &AdminToken, audit: &AuditEntry) -> Result<()> {
        self.visible_change(audit, |tx| {
            let scope_bot = match &token.scope {
                Scope::All => None,
                Scope::Bot(bot) => {
                    lock_bot(tx, bot)?;
                    Some(bot.as_str())
                }
            };
            tx.execute(
                "INSERT INTO admin_tokens (name, digest, scope_bot, created_at) VALUES ($1, $2, $3, $4)",
                &[&token.name, &token.digest, &scope_bot, &token.created_at],
            )
            .map_err(|err| {
                if is_unique_violation(&err) {
                    Error::Conflict(format!(
                        "an admin token named \"{}\" exists; revoke it first or pick another name",
                        token.name
                    ))
                } else {
                    db(err)
                }
            })?;
            Ok(())
        })
    }

    fn admin_tokens(&self) -> Result<Vec<AdminToken>> {
        rows(
            self.query("SELECT name, digest, scope_bot, created_at, revoked_at FROM admin_tokens ORDER BY id", &[])?,
            admin_token_row,
        )
    }

    fn revoke_admin_token(&self, name: &str, audit: &AuditEntry) -> Result<bool> {
        self.visible_change(audit, |tx| {
            let changed = tx
                .execute(
                    "UPDATE admin_tokens SET revoked_at = $2 WHERE name = $1 AND revoked_at IS NULL",
                    &[&name, &audit.at],
                )
                .map_err(db)?;
            Ok(changed == 1)
        })
    }

    fn admin_token_by_digest(&self, digest: &str) -> Result<Option<AdminToken>> {
        self.query_opt(
            "SELECT name, digest, scope_bot, created_at, revoked_at FROM admin_tokens
             WHERE digest = $1 AND revoked_at IS NULL",
            &[&digest],
        )?
        .as_ref()
        .map(admin_token_row)
        .transpose()
    }

    fn audit_log(&self, bot: Option<&str>, limit: usize) -> Result<Vec<AuditEntry>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        rows(
            self.query(
                "SELECT at, actor, bot, action, detail FROM audit WHERE $1::text IS NULL OR bot = $1 ORDER BY id DESC LIMIT $2",
                &[&bot, &limit],
            )?,
            |row| {
                Ok(AuditEntry {
                    at: get(row, 0)?,
                    actor: get(row, 1)?,
                    bot: get(row, 2)?,
                    action: get(row, 3)?,
                    detail: get(row, 4)?,
                })
            },
        )
    }

    fn backup_to(&self, dest: &std::path::Path) -> Result<()> {
        Err(Error::Unsupported(format!(
            "the store is the PostgreSQL database {}; back it up with pg_dump (nothing was written to {})",
            self.url,
            dest.display()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked_and_shown_without_their_password() {
        for (text, shown) in [
            ("postgres://docent@127.0.0.1:5433/docent", "postgres://docent@127.0.0.1:5433/docent"),
            ("postgresql://ann:s3cret@db.internal/chat", "postgres://ann@db.internal:5432/chat"),
            ("postgres://ann@db.internal", "postgres://ann@db.internal:5432/ann"),
        ] {
            assert_eq!(PgUrl::parse(text).unwrap().to_string(), shown, "{text}");
        }
        for (text, error) in [
            (
                "mysql://ann:s3cret@db/x",
                "invalid store URL: mysql://ann@db/x: a PostgreSQL store URL starts with postgres://",
            ),
            (
                "postgres://db.internal/chat",
                "invalid store URL: postgres://db.internal/chat: it names no user (postgres://USER@HOST/DATABASE)",
            ),
            (
                "postgres://ann:s3cret@db:notaport/x",
                "invalid store URL: postgres://ann@db:notaport/x: invalid connection string: invalid value for option `port`",
            ),
        ] {
            assert_eq!(PgUrl::parse(text).unwrap_err().to_string(), error, "{text}");
        }
    }
}
