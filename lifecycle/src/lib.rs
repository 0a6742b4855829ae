//! A bot's life from its sources to live answers: `bot.toml`, checks, training, tests, deploys,
//! rollback, schedules, plans and access. No HTTP: the CLI and the admin API both call in here.
//!
//! All calls are synchronous; an async caller runs them on a blocking thread.
//!
//! # The data directory
//!
//! ```text
//! DIR/docent.sqlite             the store (WAL): the only truth for what is live, unless
//!                               `store` names a PostgreSQL database shared by several gateways
//! DIR/generations/<bot>/<n>/    immutable generation: config.toml (bot.toml as deployed) + index/
//! DIR/generations/<bot>/.tmp-*  unfinished builds and fetches, deleted at start-up and never opened
//! DIR/embeddings/               embedding cache shared by every build
//! ```
//!
//! A generation's directory is complete (fsynced, renamed into place) before its row is
//! inserted, and it goes live in one store transaction that moves the bot's live pointer and
//! bumps the store's revision. A crash at any point leaves the previous generation live and
//! at most an unreferenced directory, removed at the next start. With
//! [`Artifacts::Store`] each generation is also published into the (PostgreSQL) store before
//! any pointer names it, and a data directory that lacks a generation fetches and verifies it
//! (see [`artifacts`]), so gateways need no shared directory.

pub mod access;
pub mod artifacts;
pub mod backup;
pub mod change;
pub mod check;
pub mod config;
pub mod deploy;
pub mod drafts;
pub mod failpoint;
pub mod knowledge;
pub mod origin;
pub mod reply;
pub mod schedule;
pub mod when;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use docent_indexer::{Embedder, KnowledgeBase};
use docent_store::{
    AccessToken, AuditEntry, BotRow, BotSeed, BotStatus, Generation, GenerationKind, LockHolder, PgStore, PgUrl, Plan,
    SqliteStore, Store, Timestamp, Visibility,
};
use serde::Serialize;

pub use artifacts::Artifacts;
pub use change::{Change, ChangeHook, ChangeKind};
pub use check::{CheckReport, CheckState, Failure};
pub use deploy::{DeployEvent, DeployReport, Integration, Phase, UpdateKind, Verdict, judge};
pub use docent_store as store;
pub use when::PeakHours;

use crate::config::BotConfig;

/// What went wrong, in words an operator can act on.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error(transparent)]
    Store(#[from] docent_store::Error),
    #[error("knowledge of \"{bot}\": {source}")]
    Knowledge { bot: String, source: docent_indexer::Error },
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    /// A generation's artifact cannot be fetched from the store, or does not match its manifest.
    #[error("{0}")]
    Artifact(String),
    /// The operation cannot be done as asked; the text says why and what to do.
    #[error("{0}")]
    Refused(String),
    /// Another process is deploying the bot; the text names it.
    #[error("{0}")]
    Busy(String),
    /// No bot has this id, in the bots folder or the store.
    #[error("{0}")]
    UnknownBot(String),
    /// A named thing of a bot (a generation, token or schedule) does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The bot's current state rules the action out; the text says what to do instead.
    #[error("{0}")]
    Conflict(String),
    #[error("\"{bot}\" cannot be deployed (`docent check {bot}` shows how to fix each problem):\n{}", failures.iter().map(|f| format!("  - {f}")).collect::<Vec<_>>().join("\n"))]
    CannotDeploy { bot: String, failures: Vec<Failure> },
    #[error("{} automatic test(s) of \"{bot}\" failed; the live generation is unchanged:\n{}", failures.len(), failures.iter().map(|f| format!("  - {f}")).collect::<Vec<_>>().join("\n"))]
    TestsFailed { bot: String, failures: Vec<deploy::TestFailure> },
}

pub type Result<T> = std::result::Result<T, Error>;

pub(crate) fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io { path: path.to_owned(), source }
}

/// How to open a [`Lifecycle`].
#[derive(Clone)]
pub struct LifecycleOptions {
    /// Generations, the embedding cache and, without [`LifecycleOptions::store`], the SQLite store.
    /// Gateways sharing a PostgreSQL store share this folder too.
    pub data_dir: PathBuf,
    /// A PostgreSQL store shared by several gateways; `None` keeps SQLite in the data directory.
    pub store: Option<PgUrl>,
    /// The bots folder (the owners' sources): `<bots_dir>/<bot>/bot.toml` and `knowledge/`.
    pub bots_dir: PathBuf,
    /// The gateway's public base URL, for the integration code and console links.
    pub public_url: String,
    /// The `bundle.js` the gateway serves, for the snippet's SRI hash; without it the
    /// integration code has no `integrity` attribute.
    pub widget_bundle: Option<Arc<Vec<u8>>>,
    /// Where gateways find generations: this directory, or published into a PostgreSQL store
    /// and fetched into each gateway's own directory (refused with a SQLite store).
    pub artifacts: Artifacts,
    /// The sentence-embedding model; `None` builds and opens lexical-only indexes.
    pub embedder: Option<Arc<Embedder>>,
    /// Generations kept per bot besides the live and previous ones.
    pub keep_generations: usize,
    pub peak_hours: PeakHours,
}

impl LifecycleOptions {
    /// Where the store and the generations are, for messages (a URL without its password).
    pub fn location(&self) -> String {
        match &self.store {
            Some(url) => format!("the store {url} with the data directory {}", self.data_dir.display()),
            None => format!("the data directory {}", self.data_dir.display()),
        }
    }

    pub fn new(data_dir: impl Into<PathBuf>, bots_dir: impl Into<PathBuf>) -> LifecycleOptions {
        LifecycleOptions {
            data_dir: data_dir.into(),
            store: None,
            bots_dir: bots_dir.into(),
            public_url: "http://127.0.0.1:8080".to_owned(),
            widget_bundle: None,
            artifacts: Artifacts::Directory,
            embedder: None,
            keep_generations: 5,
            peak_hours: PeakHours::default(),
        }
    }
}

/// The handle every caller uses: the store plus the directories.
pub struct Lifecycle {
    options: LifecycleOptions,
    store: Arc<dyn Store>,
    /// Messages to bots without a monthly limit, by bot and month, not yet in the store.
    usage_tally: Mutex<HashMap<(String, String), u64>>,
    /// Told of every deploy, rollback and status change (see [`change`]).
    change_hook: RwLock<Option<ChangeHook>>,
}

/// Everything a gateway serves, at one revision.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub revision: u64,
    pub bots: Vec<LiveBot>,
    /// Bots whose live generation cannot be read (e.g. its stored config no longer passes
    /// validation), with the reason: they are left out of `bots`, the others are served.
    pub problems: Vec<(String, String)>,
}

/// One bot as the gateway serves it.
#[derive(Debug, Clone)]
pub struct LiveBot {
    pub id: String,
    pub status: BotStatus,
    /// An inactive bot turns active at this second.
    pub activate_at: Option<Timestamp>,
    /// `None` until the first deploy.
    pub generation: Option<LiveGeneration>,
    pub access: LiveAccess,
    pub plan: Option<Plan>,
}

impl LiveBot {
    /// Whether it answers at `now` (exact to the second): else 503 `bot_offline`.
    pub fn is_active_at(&self, now: Timestamp) -> bool {
        self.status == BotStatus::Active || self.activate_at.is_some_and(|at| at <= now)
    }
}

/// The live generation of a bot.
#[derive(Debug, Clone)]
pub struct LiveGeneration {
    pub number: u64,
    pub kind: GenerationKind,
    /// The index artifact: open it with [`KnowledgeBase::open`] after [`Lifecycle::fetch_generation`]
    /// (or with [`Lifecycle::open_generation`], which fetches).
    pub dir: PathBuf,
    /// The deployed bot.toml, with `visibility` and `access` replaced by the store's run-time values.
    pub config: BotConfig,
    pub deployed_at: Timestamp,
    pub deployed_by: String,
}

/// Run-time access settings (the store's, never bot.toml's after the first deploy).
#[derive(Debug, Clone)]
pub struct LiveAccess {
    pub visibility: Visibility,
    pub password_hash: Option<String>,
    /// Every token with its expiry and revocation; check [`AccessToken::is_valid_at`].
    pub tokens: Vec<AccessToken>,
}

/// The operator-facing status of one bot.
#[derive(Debug, Clone, Serialize)]
pub struct StatusReport {
    pub bot: String,
    pub state: StatusState,
    pub live: Option<u64>,
    pub live_since: Option<Timestamp>,
    pub live_by: Option<String>,
    pub active: bool,
    pub activate_at: Option<Timestamp>,
    pub visibility: Option<Visibility>,
    pub pending: Vec<docent_store::Schedule>,
}

/// The seed's dashboard states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusState {
    /// Live and answering; the sources match the live generation.
    Deployed,
    /// A deploy is running.
    Updating,
    /// Inactive, or never deployed.
    Offline,
    /// Live, but the sources changed since.
    Outdated,
    /// Inactive with an activation planned.
    Scheduled,
}

/// A model-id string for digests, when the embedder will be used.
fn model_id(options: &LifecycleOptions, config: &BotConfig) -> Option<String> {
    match (config.search.semantic, &options.embedder) {
        (docent_indexer::SemanticMode::Off, _) | (_, None) => None,
        (_, Some(embedder)) => Some(embedder.id().to_owned()),
    }
}

const LOCK_LEASE_SECONDS: i64 = 120;

impl Lifecycle {
    /// Opens the data directory (creating it) and the store (SQLite in the directory, or the
    /// PostgreSQL database of `options.store`), migrates the store, and removes unfinished
    /// builds and unreferenced generation directories of bots no live process is deploying.
    pub fn open(options: LifecycleOptions) -> Result<Lifecycle> {
        if options.artifacts == Artifacts::Store && options.store.is_none() {
            return Err(Error::Refused(
                "generations are published into the store only with a PostgreSQL store; a SQLite store keeps them in its data directory"
                    .to_owned(),
            ));
        }
        std::fs::create_dir_all(options.data_dir.join("generations")).map_err(io_error(&options.data_dir))?;
        let store: Arc<dyn Store> = match &options.store {
            Some(url) => Arc::new(PgStore::open(url)?),
            None => Arc::new(SqliteStore::open(&options.data_dir.join("docent.sqlite"))?),
        };
        let lifecycle = Lifecycle { options, store, usage_tally: Mutex::default(), change_hook: RwLock::default() };
        lifecycle.clean_leftovers(true)?;
        Ok(lifecycle)
    }

    pub fn options(&self) -> &LifecycleOptions {
        &self.options
    }

    /// The store, for reads the lifecycle does not wrap (audit log, deploys).
    pub fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    /// The store as a shared handle, for work that outlives a borrow (a notice sent later).
    pub fn store_handle(&self) -> Arc<dyn Store> {
        Arc::clone(&self.store)
    }

    /// Increases with every change a gateway must see; poll it and reload on change.
    pub fn revision(&self) -> Result<u64> {
        Ok(self.store.revision()?)
    }

    /// Waits up to `timeout` for the store to announce a change (PostgreSQL does; SQLite just
    /// waits). Poll [`Lifecycle::revision`] after it either way.
    pub fn wait_for_change(&self, timeout: std::time::Duration) -> Result<bool> {
        Ok(self.store.wait_for_change(timeout)?)
    }

    pub(crate) fn bot_dir(&self, bot: &str) -> PathBuf {
        self.options.bots_dir.join(bot)
    }

    pub(crate) fn generations_dir(&self, bot: &str) -> PathBuf {
        self.options.data_dir.join("generations").join(bot)
    }

    pub(crate) fn generation_dir(&self, generation: &Generation) -> PathBuf {
        self.generations_dir(&generation.bot).join(&generation.dir)
    }

    pub(crate) fn embeddings_dir(&self) -> PathBuf {
        self.options.data_dir.join("embeddings")
    }

    /// Reads `bot`'s bot.toml from the bots folder.
    pub fn load_config(&self, bot: &str) -> Result<(BotConfig, String)> {
        if !config::is_valid_bot_id(bot) {
            return Err(Error::Refused(format!(
                "\"{bot}\" is not a bot id: ids are 1 to 64 lowercase letters, digits and '-'"
            )));
        }
        let path = self.bot_dir(bot).join("bot.toml");
        if !path.is_file() {
            return Err(Error::UnknownBot(format!("no bot named \"{bot}\": {} does not exist", path.display())));
        }
        let text = std::fs::read_to_string(&path).map_err(io_error(&path))?;
        Ok((config::parse(&path, bot, &text)?, text))
    }

    pub(crate) fn model_id(&self, config: &BotConfig) -> Option<String> {
        model_id(&self.options, config)
    }

    /// Makes sure the store knows `bot`, seeding its access settings from bot.toml the first time.
    pub(crate) fn ensure_bot(&self, bot: &str, actor: &str) -> Result<BotRow> {
        if let Some(row) = self.store.bot(bot)? {
            return Ok(row);
        }
        let (config, _) = self.load_config(bot)?;
        let seed = BotSeed {
            visibility: config.visibility,
            password_hash: config.access.password_hash.clone(),
            token_digests: config.access.token_digests.iter().map(|d| knowledge::hex(d)).collect(),
        };
        let audit =
            AuditEntry::new(when::now(), actor, Some(bot), "bot.create", "seeded visibility and access from bot.toml");
        self.store.ensure_bot(bot, &seed, &audit)?;
        self.store.bot(bot)?.ok_or_else(|| Error::Refused(format!("\"{bot}\" vanished from the store")))
    }

    /// Opens a generation's index, fetching it from the store first when this data directory
    /// lacks it (with [`Artifacts::Store`]).
    pub fn open_generation(&self, generation: &Generation) -> Result<KnowledgeBase> {
        self.ensure_local(generation)?;
        let dir = self.generation_dir(generation).join("index");
        KnowledgeBase::open(&dir, self.options.embedder.as_ref())
            .map_err(|source| Error::Knowledge { bot: generation.bot.clone(), source })
    }

    /// Bytes of the knowledge sources the bot's live generation was built from, as `check`
    /// compares them with the plan's storage limit; `None` before a deploy recorded them.
    pub fn live_knowledge_bytes(&self, bot: &str) -> Result<Option<u64>> {
        let Some(number) = self.store.bot(bot)?.and_then(|row| row.live) else { return Ok(None) };
        let Some(generation) = self.store.generation(bot, number)? else { return Ok(None) };
        Ok(serde_json::from_str::<check::ManifestSummary>(&generation.manifest)
            .ok()
            .and_then(|manifest| manifest.knowledge_bytes))
    }

    /// The live generation's config of `bot` (visibility and access as deployed), if it was deployed.
    pub fn live_config(&self, bot: &str) -> Result<Option<BotConfig>> {
        let Some(number) = self.store.bot(bot)?.and_then(|row| row.live) else { return Ok(None) };
        Ok(Some(self.generation_config(&self.generation(bot, number)?)?))
    }

    /// The live config and index of `bot`, if it was deployed.
    pub fn open_live(&self, bot: &str) -> Result<Option<(BotConfig, KnowledgeBase)>> {
        let Some(row) = self.store.bot(bot)? else { return Ok(None) };
        let Some(number) = row.live else { return Ok(None) };
        let generation = self.generation(bot, number)?;
        let config = self.generation_config(&generation)?;
        Ok(Some((config, self.open_generation(&generation)?)))
    }

    pub(crate) fn generation(&self, bot: &str, number: u64) -> Result<Generation> {
        let missing = || Error::NotFound(format!("\"{bot}\" has no generation {number}"));
        // The store numbers generations with SQL integers: a larger number names none.
        if i64::try_from(number).is_err() {
            return Err(missing());
        }
        self.store.generation(bot, number)?.ok_or_else(missing)
    }

    pub(crate) fn generation_config(&self, generation: &Generation) -> Result<BotConfig> {
        let path = self.generation_dir(generation).join("config.toml");
        Ok(config::parse(&path, &generation.bot, &generation.config)?)
    }

    /// Everything a gateway serves: each bot's status, live generation, access and plan.
    pub fn snapshot(&self) -> Result<Snapshot> {
        let revision = self.store.revision()?;
        let mut bots = Vec::new();
        let mut problems = Vec::new();
        for row in self.store.bots()? {
            let tokens = self.store.access_tokens(&row.id)?;
            let generation = match row.live {
                Some(number) => {
                    let generation = self.generation(&row.id, number)?;
                    let mut config = match self.generation_config(&generation) {
                        Ok(config) => config,
                        Err(err) => {
                            problems.push((row.id.clone(), format!("generation {number}: {err}")));
                            continue;
                        }
                    };
                    config.visibility = row.visibility;
                    config.access = config::Access {
                        password_hash: row.password_hash.clone(),
                        token_digests: tokens
                            .iter()
                            .filter(|t| t.is_valid_at(when::now()))
                            .filter_map(|t| decode_digest(&t.digest))
                            .collect(),
                    };
                    Some(LiveGeneration {
                        number,
                        kind: generation.kind,
                        dir: self.generation_dir(&generation).join("index"),
                        config,
                        deployed_at: row.live_since.unwrap_or(generation.created_at),
                        deployed_by: row.live_by.clone().unwrap_or_else(|| generation.created_by.clone()),
                    })
                }
                None => None,
            };
            bots.push(LiveBot {
                plan: self.store.plan(&row.id)?,
                access: LiveAccess { visibility: row.visibility, password_hash: row.password_hash.clone(), tokens },
                id: row.id,
                status: row.status,
                activate_at: row.activate_at,
                generation,
            });
        }
        Ok(Snapshot { revision, bots, problems })
    }

    /// Every bot the store or the bots folder knows, sorted.
    fn known_bots(&self) -> Result<Vec<String>> {
        let mut ids: Vec<String> = self.store.bots()?.into_iter().map(|row| row.id).collect();
        if let Ok(entries) = std::fs::read_dir(&self.options.bots_dir) {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if entry.path().join("bot.toml").is_file() && config::is_valid_bot_id(&name) && !ids.contains(&name) {
                    ids.push(name);
                }
            }
        }
        ids.sort();
        Ok(ids)
    }

    /// Fails with [`Error::UnknownBot`] unless the store or the bots folder knows `bot`.
    pub fn require_bot(&self, bot: &str) -> Result<()> {
        if config::is_valid_bot_id(bot)
            && (self.store.bot(bot)?.is_some() || self.bot_dir(bot).join("bot.toml").is_file())
        {
            return Ok(());
        }
        Err(Error::UnknownBot(format!("no bot named \"{bot}\" in the store or in {}", self.options.bots_dir.display())))
    }

    /// Status of one bot, or of every bot the store or the bots folder knows.
    pub fn status(&self, bot: Option<&str>) -> Result<Vec<StatusReport>> {
        let mut ids = self.known_bots()?;
        if let Some(bot) = bot {
            self.require_bot(bot)?;
            ids.retain(|id| id == bot);
        }
        let now = when::now();
        let mut reports = Vec::new();
        for id in ids {
            let row = self.store.bot(&id)?;
            let pending: Vec<_> = self
                .store
                .schedules(Some(&id))?
                .into_iter()
                .filter(|s| s.state == docent_store::ScheduleState::Pending)
                .collect();
            let updating = self.store.deploy_lock(&id)?.is_some_and(|holder| !self.lock_is_stale(&holder));
            let active = row.as_ref().is_some_and(|row| row.is_active_at(now));
            let live = row.as_ref().and_then(|row| row.live);
            let state = if updating {
                StatusState::Updating
            } else if live.is_none() || !active {
                if row.as_ref().is_some_and(|row| row.activate_at.is_some()) {
                    StatusState::Scheduled
                } else {
                    StatusState::Offline
                }
            } else if self.is_outdated(&id, live)? {
                StatusState::Outdated
            } else {
                StatusState::Deployed
            };
            reports.push(StatusReport {
                bot: id,
                state,
                live,
                live_since: row.as_ref().and_then(|row| row.live_since),
                live_by: row.as_ref().and_then(|row| row.live_by.clone()),
                active,
                activate_at: row.as_ref().and_then(|row| row.activate_at),
                visibility: row.as_ref().map(|row| row.visibility),
                pending,
            });
        }
        Ok(reports)
    }

    /// Whether the sources differ from the live generation (false when they cannot be read).
    fn is_outdated(&self, bot: &str, live: Option<u64>) -> Result<bool> {
        let Some(number) = live else { return Ok(false) };
        let generation = self.generation(bot, number)?;
        let Ok((config, text)) = self.load_config(bot) else { return Ok(false) };
        if text != generation.config {
            return Ok(true);
        }
        let model = self.model_id(&config);
        Ok(knowledge::scan(&self.bot_dir(bot).join("knowledge"), &config.search, model.as_deref())
            .is_ok_and(|scan| scan.digest != generation.knowledge_digest))
    }

    /// `host:pid` of this process, recorded with the deploy lock.
    pub fn lock_owner() -> String {
        format!("{}:{}", hostname(), std::process::id())
    }

    /// A lock is stale when its process is gone (same host) or it missed heartbeats for the lease.
    pub(crate) fn lock_is_stale(&self, holder: &LockHolder) -> bool {
        when::now() - holder.heartbeat_at > LOCK_LEASE_SECONDS || self.owner_is_gone(&holder.owner)
    }

    /// Whether the process `owner` (`host:pid`) is known to be gone: on this host, no such pid.
    pub(crate) fn owner_is_gone(&self, owner: &str) -> bool {
        match owner.rsplit_once(':') {
            Some((host, pid)) if host == hostname() => {
                pid.parse::<u32>().is_ok_and(|pid| pid != std::process::id() && !process_exists(pid))
            }
            _ => false,
        }
    }

    /// Deletes the directories of generations whose rows are gone (collected by another
    /// process), for bots whose deploy lock no live process holds. With [`Artifacts::Store`] a
    /// gateway fetches generations into its own directory, which no other process collects: it
    /// calls this whenever the store moves. Unfinished builds and fetches are left alone.
    pub fn remove_collected_generations(&self) -> Result<()> {
        if self.options.artifacts != Artifacts::Store {
            return Ok(());
        }
        self.clean_leftovers(false)
    }

    /// Deletes generation directories without a row (and, with `unfinished`, `.tmp-*` builds
    /// and fetches), for bots whose deploy lock no live process holds.
    fn clean_leftovers(&self, unfinished: bool) -> Result<()> {
        let root = self.options.data_dir.join("generations");
        let Ok(entries) = std::fs::read_dir(&root) else { return Ok(()) };
        for entry in entries.flatten() {
            let bot = entry.file_name().to_string_lossy().into_owned();
            if !entry.path().is_dir() {
                continue;
            }
            if self.store.deploy_lock(&bot)?.is_some_and(|holder| !self.lock_is_stale(&holder)) {
                continue;
            }
            let known: Vec<String> = self.store.generations(&bot)?.into_iter().map(|g| g.dir).collect();
            for dir in std::fs::read_dir(entry.path()).map_err(io_error(&entry.path()))?.flatten() {
                let name = dir.file_name().to_string_lossy().into_owned();
                if !known.contains(&name) && (unfinished || !name.starts_with('.')) {
                    tracing::info!(bot, dir = name, "removing an unfinished or unreferenced generation directory");
                    remove_dir_if_present(&dir.path())?;
                }
            }
        }
        Ok(())
    }
}

/// Removes a directory tree; one already gone (removed by another process meanwhile) is fine.
pub(crate) fn remove_dir_if_present(dir: &Path) -> Result<()> {
    match std::fs::remove_dir_all(dir) {
        Err(err) if err.kind() != std::io::ErrorKind::NotFound => Err(Error::Io { path: dir.to_owned(), source: err }),
        _ => Ok(()),
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|name| name.trim().to_owned())
        .unwrap_or_else(|_| "localhost".to_owned())
}

fn process_exists(pid: u32) -> bool {
    // Where /proc is missing, assume the process lives; the lease still expires.
    !Path::new("/proc/self").exists() || Path::new(&format!("/proc/{pid}")).exists()
}

fn decode_digest(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 || !text.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}
