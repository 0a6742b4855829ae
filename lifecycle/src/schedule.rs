//! Status and schedules: activate, deactivate, deploy or activate at a time, and running what is due.
//!
//! A scheduled activation is exact to the second without any loop: the bot row carries
//! `activate_at`, and readers compare it to the clock. The schedule row makes it permanent
//! (status active) and audited when [`Lifecycle::run_due_schedules`] gets to it. Schedules
//! live in the store, so they survive restarts; each is claimed in one transaction, so two
//! gateways never run the same one.

use docent_store::{AuditEntry, BotStatus, Schedule, ScheduleAction, ScheduleState, Timestamp};
use serde::Serialize;

use crate::change::ChangeKind;
use crate::{DeployEvent, Error, Lifecycle, Result, when};

/// A scheduled change and the warnings about its time.
#[derive(Debug, Clone, Serialize)]
pub struct Scheduled {
    pub id: i64,
    pub at: Timestamp,
    pub warnings: Vec<String>,
}

/// What running one due schedule did.
#[derive(Debug, Clone, Serialize)]
pub struct ScheduleRun {
    pub schedule: Schedule,
    pub ok: bool,
    pub result: String,
}

impl Lifecycle {
    /// Activates `bot` now, or at `at` (exact to the second).
    pub fn activate(&self, bot: &str, at: Option<Timestamp>, actor: &str) -> Result<Option<Scheduled>> {
        let row = self.ensure_bot(bot, actor)?;
        let now = when::now();
        match at {
            None => {
                let audit = AuditEntry::new(now, actor, Some(bot), "activate", "active now");
                self.store.set_status(bot, BotStatus::Active, None, &audit)?;
                self.cancel_pending(bot, ScheduleAction::Activate, actor)?;
                self.report_change(bot, actor, ChangeKind::Activated { live: row.live });
                Ok(None)
            }
            Some(at) => {
                if at <= now {
                    return Err(Error::Refused(format!(
                        "{} is in the past; to activate now, leave out --at",
                        when::format(at)
                    )));
                }
                if row.status == BotStatus::Active {
                    return Err(Error::Refused(format!(
                        "\"{bot}\" is already active; deactivate it first (`docent deactivate {bot}`) to schedule its activation"
                    )));
                }
                let detail = format!("active at {}", when::format(at));
                self.store.set_status(
                    bot,
                    BotStatus::Inactive,
                    Some(at),
                    &AuditEntry::new(now, actor, Some(bot), "activate.schedule", &*detail),
                )?;
                let id = self.store.add_schedule(
                    bot,
                    ScheduleAction::Activate,
                    at,
                    &AuditEntry::new(now, actor, Some(bot), "schedule.add", detail),
                )?;
                Ok(Some(Scheduled { id, at, warnings: self.options.peak_hours.warning(at).into_iter().collect() }))
            }
        }
    }

    /// Takes `bot` offline now (503 `bot_offline`) and cancels its pending activations.
    pub fn deactivate(&self, bot: &str, actor: &str) -> Result<()> {
        let row = self.ensure_bot(bot, actor)?;
        let audit = AuditEntry::new(when::now(), actor, Some(bot), "deactivate", "offline");
        self.store.set_status(bot, BotStatus::Inactive, None, &audit)?;
        self.cancel_pending(bot, ScheduleAction::Activate, actor)?;
        self.report_change(bot, actor, ChangeKind::Deactivated { live: row.live });
        Ok(())
    }

    fn cancel_pending(&self, bot: &str, action: ScheduleAction, actor: &str) -> Result<()> {
        for schedule in self.store.schedules(Some(bot))? {
            if schedule.action == action && schedule.state == ScheduleState::Pending {
                let audit = AuditEntry::new(
                    when::now(),
                    actor,
                    Some(bot),
                    "schedule.cancel",
                    format!("schedule #{}", schedule.id),
                );
                self.store.cancel_schedule(schedule.id, &audit)?;
            }
        }
        Ok(())
    }

    /// Plans a deploy of `bot` at `at`. The bot's sources are checked now too, so a broken
    /// bot.toml is reported at once rather than at night.
    pub fn schedule_deploy(&self, bot: &str, at: Timestamp, actor: &str) -> Result<Scheduled> {
        let now = when::now();
        if at <= now {
            return Err(Error::Refused(format!("{} is in the past; to deploy now, leave out --at", when::format(at))));
        }
        self.load_config(bot)?;
        self.ensure_bot(bot, actor)?;
        let audit = AuditEntry::new(now, actor, Some(bot), "schedule.add", format!("deploy at {}", when::format(at)));
        let id = self.store.add_schedule(bot, ScheduleAction::Deploy, at, &audit)?;
        Ok(Scheduled { id, at, warnings: self.options.peak_hours.warning(at).into_iter().collect() })
    }

    /// Cancels a pending schedule.
    pub fn cancel_schedule(&self, id: i64, actor: &str) -> Result<()> {
        let schedule = self.store.schedules(None)?.into_iter().find(|s| s.id == id);
        let Some(schedule) = schedule else { return Err(Error::NotFound(format!("no schedule #{id}"))) };
        let audit =
            AuditEntry::new(when::now(), actor, Some(&schedule.bot), "schedule.cancel", format!("schedule #{id}"));
        if !self.store.cancel_schedule(id, &audit)? {
            return Err(Error::Conflict(format!("schedule #{id} is not pending")));
        }
        if schedule.action == ScheduleAction::Activate
            && let Some(row) = self.store.bot(&schedule.bot)?
            && row.activate_at == Some(schedule.at)
        {
            let audit = AuditEntry::new(when::now(), actor, Some(&schedule.bot), "activate.unschedule", "");
            self.store.set_status(&schedule.bot, row.status, None, &audit)?;
        }
        Ok(())
    }

    /// Runs every schedule due at `now`, each exactly once across processes. The serve loop
    /// calls it every second; a deploy runs in the caller's thread.
    pub fn run_due_schedules(&self, now: Timestamp, progress: &mut dyn FnMut(DeployEvent)) -> Result<Vec<ScheduleRun>> {
        let mut runs = Vec::new();
        // A schedule whose process died while running it is failed, not retried blindly.
        for schedule in self.store.schedules(None)? {
            if schedule.state == ScheduleState::Running
                && schedule.claimed_by.as_deref().is_some_and(|owner| self.owner_is_gone(owner))
            {
                let result = "interrupted: the process running it stopped; schedule it again";
                self.store.finish_schedule(schedule.id, false, result, now)?;
            }
        }
        let owner = Lifecycle::lock_owner();
        while let Some(schedule) = self.store.claim_due_schedule(now, &owner)? {
            let actor = format!("{} (scheduled)", schedule.actor);
            let outcome = match schedule.action {
                ScheduleAction::Deploy => self
                    .deploy(&schedule.bot, &actor, progress)
                    .map(|report| format!("generation {} live", report.generation)),
                ScheduleAction::Activate | ScheduleAction::Deactivate => {
                    let (status, action, result) = match schedule.action {
                        ScheduleAction::Activate => (BotStatus::Active, "activate", "active"),
                        _ => (BotStatus::Inactive, "deactivate", "offline"),
                    };
                    let audit =
                        AuditEntry::new(now, &actor, Some(&schedule.bot), action, format!("schedule #{}", schedule.id));
                    let changed = self.store.set_status(&schedule.bot, status, None, &audit);
                    if changed.is_ok() {
                        let live = self.live_number(&schedule.bot);
                        let kind = match schedule.action {
                            ScheduleAction::Activate => ChangeKind::Activated { live },
                            _ => ChangeKind::Deactivated { live },
                        };
                        self.report_change(&schedule.bot, &actor, kind);
                    }
                    changed.map(|()| result.to_owned()).map_err(Error::from)
                }
            };
            let (ok, result) = match outcome {
                Ok(result) => (true, result),
                Err(err) => (false, err.to_string()),
            };
            self.store.finish_schedule(schedule.id, ok, &result, when::now())?;
            runs.push(ScheduleRun { schedule, ok, result });
        }
        Ok(runs)
    }

    /// Every schedule of `bot` (or of all bots), soonest first.
    pub fn schedules(&self, bot: Option<&str>) -> Result<Vec<Schedule>> {
        Ok(self.store.schedules(bot)?)
    }
}
