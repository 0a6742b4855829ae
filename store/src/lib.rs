//! Docent's source of truth: which generation of each bot is live, and every run-time setting.
//!
//! [`Store`] is a small synchronous trait with two implementations: [`SqliteStore`], one
//! file in the data directory (the default), and [`PgStore`], a PostgreSQL database that
//! several gateways share. Nothing in the trait names a backend's type, and both pass the
//! same [`suite`]. Every change a gateway must see (live pointer,
//! status, visibility, password, tokens, plans) bumps the global
//! [`Store::revision`] in the same transaction as the change and writes an
//! audit entry in that transaction too, so a gateway polling the revision never
//! misses a change and the audit log never lies.
//!
//! Times are Unix seconds (UTC). Secrets never enter the store in clear: access
//! and admin tokens are kept as SHA-256 digests (hex), passwords as argon2 hashes.

pub mod alerts;
pub mod events;
mod names;
mod pg;
mod sqlite;
pub mod suite;

use serde::Serialize;

pub use alerts::{AlertKind, AlertStore, Incident, MonitorRun, ProbeSample, ProbeTarget, ReportSchedule, UptimeCounts};
pub use docent_protocol::Visibility;
pub use events::{
    ConversationStats, DropOff, Event, EventKind, EventStore, FlowCount, HourlyRollup, LogLevel, LogQuery, LogRecord,
    QuestionCount, Tier,
};
pub use pg::{PgStore, PgUrl, REVISION_CHANNEL};
pub use sqlite::SqliteStore;

/// Unix seconds, UTC.
pub type Timestamp = i64;

/// What can go wrong in a store.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database itself failed (I/O, locking, corruption).
    #[error("store: {0}")]
    Backend(String),
    /// The database cannot be reached now (connection refused or cut, no pooled connection
    /// within the wait): the same call may succeed once it is back.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// The change contradicts what is stored (a name already taken, a generation missing).
    #[error("{0}")]
    Conflict(String),
    /// A store URL that cannot be used; the text says why (never with its password).
    #[error("invalid store URL: {0}")]
    Url(String),
    /// This backend cannot do it; the text says what to do instead.
    #[error("{0}")]
    Unsupported(String),
    /// A file of a generation's artifact could not be read (or did not hold its manifest's length)
    /// while it was published, or could not be written while it was fetched; the text names it.
    #[error("{0}")]
    Artifact(String),
    /// The store was written by a newer docent.
    #[error("store schema version {found} is newer than this docent knows ({known}); upgrade docent")]
    TooNew { found: i64, known: i64 },
}

pub type Result<T> = std::result::Result<T, Error>;

/// Whether a bot answers visitors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BotStatus {
    Active,
    Inactive,
}

/// One bot as the store knows it: status, live pointer and run-time access settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BotRow {
    pub id: String,
    pub status: BotStatus,
    /// An inactive bot becomes active at this second (exact: readers compare it to now).
    pub activate_at: Option<Timestamp>,
    pub created_at: Timestamp,
    /// The live generation, if the bot was ever deployed.
    pub live: Option<u64>,
    /// The generation that was live before, for a one-step rollback.
    pub previous: Option<u64>,
    pub live_since: Option<Timestamp>,
    pub live_by: Option<String>,
    pub visibility: Visibility,
    /// An argon2 hash in PHC form.
    pub password_hash: Option<String>,
}

impl BotRow {
    /// Whether the bot answers visitors at `now`: active, or its scheduled activation has come.
    pub fn is_active_at(&self, now: Timestamp) -> bool {
        self.status == BotStatus::Active || self.activate_at.is_some_and(|at| at <= now)
    }
}

/// What bot.toml says about access, stored once when the store first hears of a bot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BotSeed {
    pub visibility: Visibility,
    pub password_hash: Option<String>,
    /// Token digests (hex) from bot.toml; they are stored as tokens named `bot.toml-1`, `bot.toml-2`...
    pub token_digests: Vec<String>,
}

/// How a generation was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum GenerationKind {
    /// Sources indexed anew.
    Complete,
    /// Chatroom settings only: the index of an earlier generation is reused.
    Quick,
}

/// An immutable, complete release of a bot: its artifact directory is in place before the row exists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Generation {
    pub bot: String,
    pub number: u64,
    pub created_at: Timestamp,
    pub created_by: String,
    pub kind: GenerationKind,
    /// The artifact directory's name below the bot's generations directory.
    pub dir: String,
    /// Digest of the knowledge sources and search settings it was built from.
    pub knowledge_digest: String,
    /// A JSON summary of the index manifest (counts, inventory).
    pub manifest: String,
    /// The bot.toml text it was made with.
    pub config: String,
}

/// Bytes per stored chunk of a published artifact file.
pub const ARTIFACT_CHUNK_BYTES: usize = 1 << 20;

/// One file of a generation's published artifact: what a gateway checks its fetched copy against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArtifactFile {
    /// Relative to the generation's directory, with `/` between folders.
    pub path: String,
    pub size: u64,
    /// SHA-256 of the file's bytes, hex.
    pub sha256: String,
}

/// Opens the bytes of one file being published.
pub type ArtifactReader<'a> = dyn FnMut(&ArtifactFile) -> std::io::Result<Box<dyn std::io::Read>> + 'a;

/// How a deploy ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DeployOutcome {
    Running,
    Succeeded,
    Failed,
    /// Its process died; found when the next deploy took over the lock.
    Interrupted,
    /// A `train`: a generation was built and recorded, but not activated.
    Trained,
}

/// One deploy attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Deploy {
    pub id: i64,
    pub bot: String,
    pub actor: String,
    pub started_at: Timestamp,
    pub finished_at: Option<Timestamp>,
    pub outcome: DeployOutcome,
    /// The generation it activated.
    pub generation: Option<u64>,
    pub failure: Option<String>,
    /// The phases as JSON: names, durations, counts.
    pub phases: String,
}

/// Who holds a bot's deploy lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LockHolder {
    pub deploy_id: i64,
    pub actor: String,
    /// `host:pid` of the process.
    pub owner: String,
    pub started_at: Timestamp,
    pub heartbeat_at: Timestamp,
}

/// The answer to [`Store::begin_deploy`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeployStart {
    Started {
        deploy_id: i64,
    },
    /// Another live process is deploying this bot.
    Busy(LockHolder),
}

/// What a schedule does when its time comes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ScheduleAction {
    Deploy,
    Activate,
    Deactivate,
}

/// Where a schedule is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ScheduleState {
    Pending,
    /// Claimed by one process, which is running it.
    Running,
    Done,
    Failed,
    Cancelled,
}

/// A planned action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Schedule {
    pub id: i64,
    pub bot: String,
    pub action: ScheduleAction,
    pub at: Timestamp,
    pub actor: String,
    pub state: ScheduleState,
    pub created_at: Timestamp,
    pub result: Option<String>,
    /// `host:pid` of the process that claimed it (running, done or failed).
    pub claimed_by: Option<String>,
}

/// A bot's limits. `None` means unlimited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plan {
    pub name: String,
    pub messages_per_month: Option<u64>,
    pub storage_bytes: Option<u64>,
    pub expires_at: Option<Timestamp>,
}

/// The answer to [`Store::consume_message`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "quota")]
pub enum Quota {
    /// Counted; `used` includes this message.
    Allowed {
        used: u64,
        limit: Option<u64>,
    },
    LimitReached {
        limit: u64,
    },
    PlanExpired {
        expired_at: Timestamp,
    },
    /// The plan sets no monthly limit: allowed, and not counted one by one but tallied and
    /// added in bulk ([`Store::add_usage`]).
    Unlimited,
}

/// A bearer token that opens an internal bot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccessToken {
    pub bot: String,
    pub name: String,
    /// SHA-256 of the token, hex.
    pub digest: String,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

impl AccessToken {
    pub fn is_valid_at(&self, now: Timestamp) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|at| now < at)
    }
}

/// A staff member signed in to an internal bot, known by the SHA-256 of the session token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// SHA-256 of the session token, hex: the token itself is never stored.
    pub digest: String,
    pub bot: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// Which bots an admin token may manage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase", tag = "scope", content = "bot")]
pub enum Scope {
    All,
    Bot(String),
}

/// A token for the admin API and console.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AdminToken {
    pub name: String,
    /// SHA-256 of the token, hex.
    pub digest: String,
    pub scope: Scope,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

/// One line of the audit log. `detail` never holds a secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    pub at: Timestamp,
    pub actor: String,
    pub bot: Option<String>,
    pub action: String,
    pub detail: String,
}

impl AuditEntry {
    pub fn new(at: Timestamp, actor: &str, bot: Option<&str>, action: &str, detail: impl Into<String>) -> AuditEntry {
        AuditEntry {
            at,
            actor: actor.to_owned(),
            bot: bot.map(str::to_owned),
            action: action.to_owned(),
            detail: detail.into(),
        }
    }
}

/// The store. Methods that change what a gateway serves take the [`AuditEntry`] to write in
/// the same transaction, and bump the revision there too.
/// Events, rollups and operational logs are its [`EventStore`] part; alert settings,
/// incidents and probe samples its [`AlertStore`] part.
pub trait Store: EventStore + AlertStore + Send + Sync {
    /// Increases with every change a gateway must see.
    fn revision(&self) -> Result<u64>;
    /// Waits up to `timeout` for the store to announce that the revision moved; returns whether
    /// it did. A backend that cannot announce changes just waits: callers poll
    /// [`Store::revision`] after each wait either way.
    fn wait_for_change(&self, timeout: std::time::Duration) -> Result<bool> {
        std::thread::sleep(timeout);
        Ok(false)
    }

    /// Creates the bot's row from `seed` if the store does not know it yet; returns whether it did.
    fn ensure_bot(&self, id: &str, seed: &BotSeed, audit: &AuditEntry) -> Result<bool>;
    fn bot(&self, id: &str) -> Result<Option<BotRow>>;
    fn bots(&self) -> Result<Vec<BotRow>>;
    /// Sets the status; `activate_at` makes an inactive bot active at that second.
    fn set_status(&self, id: &str, status: BotStatus, activate_at: Option<Timestamp>, audit: &AuditEntry)
    -> Result<()>;

    /// The number the bot's next generation gets (never reused, even after garbage collection).
    fn next_generation_number(&self, bot: &str) -> Result<u64>;
    /// Records a generation whose artifact is already complete on disk.
    fn insert_generation(&self, generation: &Generation) -> Result<()>;
    fn generation(&self, bot: &str, number: u64) -> Result<Option<Generation>>;
    /// Newest first.
    fn generations(&self, bot: &str) -> Result<Vec<Generation>>;
    /// Forgets a generation; refused for the live and the previous one.
    fn delete_generation(&self, bot: &str, number: u64) -> Result<()>;
    /// Makes `number` live in one transaction (the old live one becomes `previous`), bumps the
    /// revision, audits, and when `deploy` is given finishes that deploy as succeeded and
    /// releases its lock in the same transaction.
    fn activate_generation(
        &self,
        bot: &str,
        number: u64,
        deploy: Option<(i64, &str)>,
        audit: &AuditEntry,
    ) -> Result<()>;

    /// Publishes generation `number`'s artifact so that gateways without its directory can fetch
    /// it: the manifest `files` and each file's bytes, read through `open` and stored in chunks
    /// of [`ARTIFACT_CHUNK_BYTES`], all in one transaction that replaces an earlier publication.
    /// Refused when a file's length differs from its manifest entry. Deleting the generation
    /// deletes its publication. A SQLite store refuses: its data directory is the only copy.
    fn publish_artifact(
        &self,
        bot: &str,
        number: u64,
        files: &[ArtifactFile],
        open: &mut ArtifactReader<'_>,
    ) -> Result<()>;
    /// The manifest of generation `number`'s published artifact, sorted by path; `None` when it
    /// was not published.
    fn artifact_files(&self, bot: &str, number: u64) -> Result<Option<Vec<ArtifactFile>>>;
    /// Writes the stored bytes of one published file to `out`, one chunk at a time; returns how
    /// many were written. The caller checks them against the manifest.
    fn read_artifact_file(&self, bot: &str, number: u64, path: &str, out: &mut dyn std::io::Write) -> Result<u64>;

    /// Takes the bot's deploy lock and records a running deploy. A lock held by a holder for
    /// which `is_stale` says true is taken over, and its deploy marked interrupted.
    fn begin_deploy(
        &self,
        bot: &str,
        actor: &str,
        owner: &str,
        now: Timestamp,
        is_stale: &dyn Fn(&LockHolder) -> bool,
    ) -> Result<DeployStart>;
    /// Keeps the lock fresh and records progress.
    fn heartbeat_deploy(&self, deploy_id: i64, now: Timestamp, phases: &str) -> Result<()>;
    /// Ends a deploy that did not activate, and releases its lock.
    fn finish_deploy(
        &self,
        deploy_id: i64,
        outcome: DeployOutcome,
        generation: Option<u64>,
        failure: Option<&str>,
        phases: &str,
        now: Timestamp,
    ) -> Result<()>;
    /// Newest first.
    fn deploys(&self, bot: &str, limit: usize) -> Result<Vec<Deploy>>;
    fn deploy_lock(&self, bot: &str) -> Result<Option<LockHolder>>;

    fn add_schedule(&self, bot: &str, action: ScheduleAction, at: Timestamp, audit: &AuditEntry) -> Result<i64>;
    /// Pending and recent schedules, soonest first; all bots when `bot` is `None`.
    fn schedules(&self, bot: Option<&str>) -> Result<Vec<Schedule>>;
    fn cancel_schedule(&self, id: i64, audit: &AuditEntry) -> Result<bool>;
    /// Atomically moves the oldest due pending schedule to running, claimed by `owner`
    /// (`host:pid`), so only one process runs it.
    fn claim_due_schedule(&self, now: Timestamp, owner: &str) -> Result<Option<Schedule>>;
    fn finish_schedule(&self, id: i64, ok: bool, result: &str, now: Timestamp) -> Result<()>;

    fn set_plan(&self, bot: &str, plan: Option<&Plan>, audit: &AuditEntry) -> Result<()>;
    fn plan(&self, bot: &str) -> Result<Option<Plan>>;
    /// Messages counted for `month` (`YYYY-MM`).
    fn usage(&self, bot: &str, month: &str) -> Result<u64>;
    /// Counts one message in `month` unless the plan forbids it. Exact under concurrency:
    /// with a limit of N, exactly N calls get [`Quota::Allowed`].
    fn consume_message(&self, bot: &str, month: &str, now: Timestamp) -> Result<Quota>;
    /// Adds `count` messages to a bot's usage for `month`, checking no limit: the bulk count
    /// of messages to bots whose plan sets none. Unknown bots are skipped.
    fn add_usage(&self, bot: &str, month: &str, count: u64) -> Result<()>;

    fn set_visibility(&self, bot: &str, visibility: Visibility, audit: &AuditEntry) -> Result<()>;
    fn set_password_hash(&self, bot: &str, hash: Option<&str>, audit: &AuditEntry) -> Result<()>;
    /// Refused when a token of that name is valid (not revoked).
    fn add_access_token(&self, token: &AccessToken, audit: &AuditEntry) -> Result<()>;
    /// Every token, revoked ones included, oldest first.
    fn access_tokens(&self, bot: &str) -> Result<Vec<AccessToken>>;
    fn revoke_access_token(&self, bot: &str, name: &str, audit: &AuditEntry) -> Result<bool>;

    /// Records a session and drops the ones expired by its start. Sessions are neither audited
    /// nor a revision change: every request reads its own, so a sign-out counts at once.
    fn add_session(&self, session: &Session) -> Result<()>;
    /// The unexpired session with this token digest.
    fn session(&self, digest: &str, now: Timestamp) -> Result<Option<Session>>;
    /// Ends a session; returns whether there was one.
    fn delete_session(&self, digest: &str) -> Result<bool>;
    /// Sets (or with `None` removes) the secret the bot's website signs staff tokens with.
    fn set_site_secret(&self, bot: &str, secret: Option<&str>, audit: &AuditEntry) -> Result<()>;
    fn site_secret(&self, bot: &str) -> Result<Option<String>>;

    fn add_admin_token(&self, token: &AdminToken, audit: &AuditEntry) -> Result<()>;
    fn admin_tokens(&self) -> Result<Vec<AdminToken>>;
    fn revoke_admin_token(&self, name: &str, audit: &AuditEntry) -> Result<bool>;
    /// The unrevoked admin token with this digest.
    fn admin_token_by_digest(&self, digest: &str) -> Result<Option<AdminToken>>;

    /// Newest first; one bot's entries or all.
    fn audit_log(&self, bot: Option<&str>, limit: usize) -> Result<Vec<AuditEntry>>;
    /// Writes a consistent copy of the whole store to `dest` (a new file), while it is in use.
    fn backup_to(&self, dest: &std::path::Path) -> Result<()>;
}
