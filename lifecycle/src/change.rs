//! Changes to what a bot serves, reported as they happen: deploys (and failed ones),
//! rollbacks, activations and deactivations, whoever asked for them (CLI, console, admin API,
//! the schedule runner).
//!
//! The lifecycle has no HTTP: it only calls the [`ChangeHook`] its owner installed with
//! [`Lifecycle::set_change_hook`]; the gateway's hook sends the team's deploy notices. A hook
//! is called after the change is committed (or the deploy has failed) and cannot undo it.

use std::sync::Arc;

use docent_store::Timestamp;
use serde::Serialize;

use crate::{Lifecycle, UpdateKind};

/// What changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "event")]
pub enum ChangeKind {
    /// A generation went live through a deploy (`hotfix`: only its critical tests were run).
    Deployed { generation: u64, previous: Option<u64>, update: UpdateKind, hotfix: bool },
    /// A deploy failed; the live generation is unchanged.
    DeployFailed { live: Option<u64>, reason: String },
    /// An earlier generation went live again.
    RolledBack { generation: u64, previous: Option<u64> },
    /// The bot answers again.
    Activated { live: Option<u64> },
    /// The bot answers 503 `bot_offline`.
    Deactivated { live: Option<u64> },
}

/// One change of one bot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub bot: String,
    /// Who asked for it, as audited (`alice`, `alice (scheduled)`).
    pub actor: String,
    pub at: Timestamp,
    #[serde(flatten)]
    pub kind: ChangeKind,
}

/// Called with every [`Change`], on the thread that made it.
pub type ChangeHook = Arc<dyn Fn(&Lifecycle, &Change) + Send + Sync>;

impl Lifecycle {
    /// Installs the hook every later change is reported to (replacing any earlier one).
    pub fn set_change_hook(&self, hook: ChangeHook) {
        *self.change_hook.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(hook);
    }

    /// Reports `kind` of `bot` to the installed hook, if any.
    pub(crate) fn report_change(&self, bot: &str, actor: &str, kind: ChangeKind) {
        let hook = self.change_hook.read().unwrap_or_else(|poisoned| poisoned.into_inner()).clone();
        if let Some(hook) = hook {
            hook(self, &Change { bot: bot.to_owned(), actor: actor.to_owned(), at: crate::when::now(), kind });
        }
    }

    /// The live generation of `bot`, for a change's report (`None` when unknown or unreadable).
    pub(crate) fn live_number(&self, bot: &str) -> Option<u64> {
        self.store.bot(bot).ok().flatten().and_then(|row| row.live)
    }
}
