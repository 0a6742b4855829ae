//! The bots as they are live now, rebuilt from the store whenever its revision moves.
//!
//! The store is the only truth. A gateway reads [`Lifecycle::revision`] as soon as the
//! store announces a change (PostgreSQL's `NOTIFY`) and at least every [`POLL_INTERVAL`];
//! when it moves, [`LiveBots::refresh`] reads every bot's row,
//! opens the generations that changed (reusing the ones already open), and swaps the
//! whole view in one step, so a request sees either the old or the new view, never a
//! mix. A generation missing from the data directory is first fetched from the store and
//! verified (when generations are published there). A generation that cannot be fetched or
//! opened leaves that bot on what it served before and is reported (`/readyz`, the console);
//! while any is, the view is rebuilt even if the store did not move: after [`RETRY_INTERVAL`],
//! then twice as long after each retry that fails again, up to [`MAX_RETRY_INTERVAL`], so a
//! damaged artifact is not downloaded again and again at full speed.
//! A bot that cannot be read at all is reported and left out, and the others serve.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use docent_indexer::KnowledgeBase;
use docent_lifecycle::config::BotConfig;
use docent_lifecycle::{Lifecycle, LiveBot};
use docent_protocol::Visibility;
use docent_store::Timestamp;

/// How often the store's revision is read: changes are live within this time plus a reload.
pub const POLL_INTERVAL: Duration = Duration::from_millis(250);
/// How often a generation that could not be fetched or opened is tried again.
pub const RETRY_INTERVAL: Duration = Duration::from_secs(2);
/// The longest wait between two such tries.
pub const MAX_RETRY_INTERVAL: Duration = Duration::from_secs(64);

/// One bot as visitors reach it now.
pub struct ServedBot {
    /// The live generation's settings, with the store's run-time visibility and password.
    pub config: BotConfig,
    pub knowledge: Arc<KnowledgeBase>,
    pub generation: u64,
    /// Status, access tokens and plan, as the store has them.
    pub state: LiveBot,
}

impl ServedBot {
    pub fn id(&self) -> &str {
        &self.state.id
    }

    /// Who may talk to the bot: the run-time setting, never a stale bot.toml value.
    pub fn visibility(&self) -> Visibility {
        self.state.access.visibility
    }

    /// Whether the bot answers at `now`: exact to the second for a scheduled activation.
    pub fn is_active_at(&self, now: Timestamp) -> bool {
        self.state.is_active_at(now)
    }
}

/// What one refresh found.
#[derive(Default)]
struct View {
    revision: u64,
    bots: BTreeMap<String, Arc<ServedBot>>,
    /// Bots whose live generation could not be fetched or opened, with the reason.
    problems: BTreeMap<String, String>,
    /// When this view was built.
    built_at: Option<Instant>,
    /// How many rebuilds in a row, without a change in the store, still had problems.
    failed_retries: u32,
}

/// Every live bot, swapped as a whole when the store changes.
#[derive(Default)]
pub struct LiveBots {
    view: RwLock<Arc<View>>,
}

impl LiveBots {
    /// The bot `id`, if it has a live generation.
    pub fn get(&self, id: &str) -> Option<Arc<ServedBot>> {
        self.current().bots.get(id).cloned()
    }

    /// Every live bot, by id.
    pub fn all(&self) -> Vec<Arc<ServedBot>> {
        self.current().bots.values().cloned().collect()
    }

    /// Bots whose live generation this gateway could not open, with the reason.
    pub fn problems(&self) -> BTreeMap<String, String> {
        self.current().problems.clone()
    }

    /// The store revision this view reflects.
    pub fn revision(&self) -> u64 {
        self.current().revision
    }

    /// Rebuilds the view if the store moved since the last refresh; returns whether it did.
    /// Blocking: opens artifacts from disk.
    pub fn refresh(&self, lifecycle: &Lifecycle) -> docent_lifecycle::Result<bool> {
        let current = self.current();
        let wait = RETRY_INTERVAL.saturating_mul(1 << current.failed_retries.min(5)).min(MAX_RETRY_INTERVAL);
        let retry = !current.problems.is_empty() && current.built_at.is_none_or(|at| at.elapsed() >= wait);
        let revision = lifecycle.revision()?;
        if revision == current.revision && current.revision != 0 && !retry {
            return Ok(false);
        }
        let snapshot = lifecycle.snapshot()?;
        let mut next = View { revision: snapshot.revision, built_at: Some(Instant::now()), ..View::default() };
        for (bot, problem) in snapshot.problems {
            tracing::error!(%bot, %problem, "cannot read the live generation; the bot is not served");
            next.problems.insert(bot, problem);
        }
        for mut state in snapshot.bots {
            let Some(generation) = state.generation.take() else { continue };
            let old = current.bots.get(&state.id);
            let knowledge = match old {
                Some(old) if old.generation == generation.number => Ok(Arc::clone(&old.knowledge)),
                _ => lifecycle
                    .fetch_generation(&state.id, generation.number)
                    .map_err(|err| format!("generation {} cannot be fetched: {err}", generation.number))
                    .and_then(|()| {
                        KnowledgeBase::open(&generation.dir, lifecycle.options().embedder.as_ref())
                            .map(Arc::new)
                            .map_err(|err| format!("generation {} cannot be opened: {err}", generation.number))
                    }),
            };
            let served = match knowledge {
                Ok(knowledge) => {
                    if old.is_none_or(|old| old.generation != generation.number) {
                        tracing::info!(bot = %state.id, generation = generation.number, "generation live");
                    }
                    ServedBot { config: generation.config, knowledge, generation: generation.number, state }
                }
                Err(err) => {
                    // Logged when it starts or changes, not at every retry.
                    if current.problems.get(&state.id) != Some(&err) {
                        tracing::error!(
                            bot = %state.id,
                            generation = generation.number,
                            %err,
                            "cannot fetch or open the live generation; serving the one before"
                        );
                    }
                    next.problems.insert(state.id.clone(), err);
                    let Some(old) = old else { continue };
                    let mut config = old.config.clone();
                    config.visibility = state.access.visibility;
                    ServedBot { config, knowledge: Arc::clone(&old.knowledge), generation: old.generation, state }
                }
            };
            next.bots.insert(served.state.id.clone(), Arc::new(served));
        }
        if !next.problems.is_empty() && next.revision == current.revision {
            next.failed_retries = current.failed_retries.saturating_add(1);
        }
        if next.revision != current.revision
            && let Err(err) = lifecycle.remove_collected_generations()
        {
            tracing::warn!(%err, "cannot remove the copies of collected generations");
        }
        *self.view.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(next);
        Ok(true)
    }

    /// Follows the store until the process ends: a refresh as soon as the store announces a
    /// change (PostgreSQL's `NOTIFY`), and at least every [`POLL_INTERVAL`] whatever it says.
    pub async fn follow(self: Arc<Self>, lifecycle: Arc<Lifecycle>) {
        loop {
            let (live, lifecycle) = (Arc::clone(&self), Arc::clone(&lifecycle));
            let refreshed = tokio::task::spawn_blocking(move || {
                if let Err(err) = lifecycle.wait_for_change(POLL_INTERVAL) {
                    tracing::debug!(%err, "no change notices from the store; polling");
                    std::thread::sleep(POLL_INTERVAL);
                }
                live.refresh(&lifecycle)
            });
            match refreshed.await {
                Ok(Ok(_)) => {}
                Ok(Err(err)) => tracing::warn!(%err, "cannot read the store; serving what is live"),
                Err(err) => tracing::error!(%err, "the refresh task failed"),
            }
        }
    }

    fn current(&self) -> Arc<View> {
        Arc::clone(&self.view.read().unwrap_or_else(|poisoned| poisoned.into_inner()))
    }
}
