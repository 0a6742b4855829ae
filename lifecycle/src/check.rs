//! `docent check`: is a bot Ready to deploy, Outdated (and what changed), or unable to deploy (and why)?

use std::fmt;

use docent_store::{Plan, Quota, Timestamp};
use serde::Serialize;

use crate::config::{self, SettingChange};
use crate::knowledge::{self, Scan};
use crate::{Error, Lifecycle, Result, when};

/// The pre-deploy state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckState {
    /// Every prerequisite is met (and, when `changes` is empty, the live generation is current).
    Ready,
    /// Deployed, and the sources or settings changed since: `changes` says what.
    Outdated,
    /// A prerequisite failed: `failures` say which and how to fix it.
    CannotDeploy,
}

impl CheckState {
    /// The exit code of `docent check`: 0 ready, 10 outdated, 20 cannot deploy.
    pub fn exit_code(self) -> u8 {
        match self {
            CheckState::Ready => 0,
            CheckState::Outdated => 10,
            CheckState::CannotDeploy => 20,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            CheckState::Ready => "Ready to deploy",
            CheckState::Outdated => "Needs update (Outdated)",
            CheckState::CannotDeploy => "Cannot deploy",
        }
    }
}

/// One failed prerequisite: the seed's error text, what exactly is wrong, and the steps to fix it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    pub error: String,
    pub detail: String,
    pub solution: Vec<String>,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.error, self.detail)
    }
}

/// What changed since the live generation.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Changes {
    /// Knowledge files (relative paths) added, removed and changed.
    pub files: docent_indexer::Changes,
    /// Q&A pairs (`faq.toml#slug`) added, removed and changed.
    pub qa: docent_indexer::Changes,
    /// Settings of bot.toml that differ, chatroom ones marked.
    pub settings: Vec<SettingChange>,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.files.is_empty() && self.qa.is_empty() && self.settings.is_empty()
    }

    /// The kind of update these changes need.
    pub fn update_kind(&self) -> crate::UpdateKind {
        if !self.files.is_empty() || !self.qa.is_empty() || self.settings.iter().any(|s| s.reindex) {
            crate::UpdateKind::Complete
        } else if self.settings.is_empty() {
            crate::UpdateKind::Unchanged
        } else {
            crate::UpdateKind::Quick
        }
    }
}

/// The result of checking a bot.
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    pub bot: String,
    pub state: CheckState,
    pub live: Option<u64>,
    /// A generation built from exactly the current sources and bot.toml, if any.
    pub trained: Option<u64>,
    pub changes: Option<Changes>,
    pub failures: Vec<Failure>,
    /// Not blocking: load-report notes, settings bot.toml cannot change any more, missing tests.
    pub warnings: Vec<String>,
    /// Knowledge files read (or failed).
    pub files: usize,
    pub qa_pairs: usize,
    /// Document files (Markdown, HTML, PDF, text) among `files`.
    pub documents: usize,
    /// Passages of the trained generation (`trained`); 0 until these sources are trained.
    pub passages: usize,
    pub knowledge_bytes: u64,
    /// HTML page → Q&A items its FAQ markup gave: 0 says the page was read as text only.
    pub faq_items: std::collections::BTreeMap<String, usize>,
}

impl Lifecycle {
    /// Checks every prerequisite of deploying `bot`, and what changed since its live generation.
    pub fn check(&self, bot: &str) -> Result<CheckReport> {
        Ok(self.check_scan(bot)?.0)
    }

    /// The check, plus the scan of the sources a deploy reuses.
    pub(crate) fn check_scan(&self, bot: &str) -> Result<(CheckReport, Option<Scan>)> {
        let (config, text) = self.load_config(bot)?;
        let now = when::now();
        let row = self.store.bot(bot)?;
        let live = row.as_ref().and_then(|row| row.live);
        let mut failures = Vec::new();
        let mut warnings = Vec::new();
        let knowledge_dir = self.bot_dir(bot).join("knowledge");
        let train_steps = |first: &str| {
            vec![
                first.to_owned(),
                format!("Run `docent train {bot}` (or `docent deploy {bot}`, which trains first)"),
                "Wait for it to finish".to_owned(),
                format!("Run `docent check {bot}` again"),
            ]
        };

        let scan = if !knowledge_dir.is_dir() {
            failures.push(Failure {
                error: "The chatbot is not trained".into(),
                detail: format!("the knowledge folder {} does not exist", knowledge_dir.display()),
                solution: train_steps(&format!("Create {} with Q&A and document files", knowledge_dir.display())),
            });
            None
        } else {
            match knowledge::scan(&knowledge_dir, &config.search, self.model_id(&config).as_deref()) {
                Ok(scan) => Some(scan),
                Err(err) => {
                    failures.push(Failure {
                        error: "The chatbot is not trained".into(),
                        detail: format!("a knowledge file cannot be processed: {err}"),
                        solution: train_steps("Fix or remove the file named above"),
                    });
                    None
                }
            }
        };
        if let Some(scan) = &scan {
            let report = &scan.inventory.report;
            if scan.inventory.files.is_empty() {
                failures.push(Failure {
                    error: "The chatbot is not trained".into(),
                    detail: format!(
                        "the knowledge base is empty: {} holds no knowledge files",
                        knowledge_dir.display()
                    ),
                    solution: train_steps("Add Q&A (*.toml) and document (*.md, *.html, *.txt) files"),
                });
            }
            if !report.failed.is_empty() {
                let files: Vec<String> = report.failed.iter().map(|w| format!("knowledge/{w}")).collect();
                failures.push(Failure {
                    error: "The chatbot is not trained".into(),
                    detail: format!("{} knowledge file(s) cannot be processed: {}", files.len(), files.join("; ")),
                    solution: train_steps("Fix or remove each file named above"),
                });
            }
            for warning in &report.warnings {
                warnings.push(format!("knowledge/{warning}"));
            }
            for skipped in &report.skipped {
                warnings.push(format!("knowledge/{skipped}: skipped (not a knowledge file type)"));
            }
            for test in &config.tests {
                if let config::Expect::Source(want) = &test.expect {
                    let file = want.split('#').next().unwrap_or_default();
                    let is_qa = [".toml", ".csv", ".json"].iter().any(|ext| file.ends_with(ext));
                    let known = if is_qa && want.contains('#') {
                        scan.inventory.qa.contains_key(want)
                    } else {
                        scan.inventory.files.contains_key(file)
                    };
                    if !known {
                        warnings.push(format!(
                            "bot.toml:{}: test \"{}\" expects the source {want}, which the knowledge does not hold",
                            test.line, test.question
                        ));
                    }
                }
            }
            let qa_pairs = scan.inventory.qa.len();
            if qa_pairs < config.deploy.min_qa {
                failures.push(Failure {
                    error: "Not enough Q&As".into(),
                    detail: format!(
                        "the knowledge holds {qa_pairs} Q&A pairs; at least {} are needed",
                        config.deploy.min_qa
                    ),
                    solution: vec![
                        format!("Add [[qa]] pairs to a *.toml file in {}", knowledge_dir.display()),
                        "Or lower `min_qa` under [deploy] in bot.toml".into(),
                        format!("Run `docent check {bot}` again"),
                    ],
                });
            }
        }

        let missing = config.profile.missing();
        if !missing.is_empty() {
            failures.push(Failure {
                error: "Incomplete survey".into(),
                detail: format!("missing answers: {}", missing.join(", ")),
                solution: vec![
                    format!("Open {}", self.bot_dir(bot).join("bot.toml").display()),
                    format!("Complete all survey questions under [profile]: {}", missing.join(", ")),
                    format!("Save and run `docent check {bot}` again"),
                ],
            });
        }
        if config.description.is_none() {
            failures.push(Failure {
                error: "Incomplete configuration".into(),
                detail: "`description` is not set".into(),
                solution: vec![
                    "Add `description = \"...\"` to bot.toml: what the bot helps with".into(),
                    format!("Run `docent check {bot}` again"),
                ],
            });
        }
        if config.handoff.is_none() {
            warnings.push("no [handoff]: visitors the bot cannot help get no way to reach a person".into());
        }
        if config.tests.is_empty() {
            warnings.push("no [[test]] questions: deploys go live without automatic tests".into());
        }

        if let Some(plan) = self.store.plan(bot)? {
            let plan_steps = || {
                vec![
                    format!("Check the active plan: `docent plan {bot} show`"),
                    "Check its message and storage limits".into(),
                    format!("Update it: `docent plan {bot} set --messages N --storage BYTES --expires DATE`"),
                    "Contact the team administrator".into(),
                ]
            };
            if let Some(expires) = plan.expires_at
                && expires <= now
            {
                failures.push(Failure {
                    error: "Upgrade chatbot plan".into(),
                    detail: format!("the plan \"{}\" expired on {}", plan.name, when::format(expires)),
                    solution: plan_steps(),
                });
            }
            if let (Some(limit), Some(scan)) = (plan.storage_bytes, &scan)
                && scan.bytes > limit
            {
                failures.push(Failure {
                    error: "Upgrade chatbot plan".into(),
                    detail: format!(
                        "the knowledge takes {} bytes; the plan \"{}\" allows {limit}",
                        scan.bytes, plan.name
                    ),
                    solution: plan_steps(),
                });
            }
            let month = when::month(now);
            if let Some(limit) = plan.messages_per_month {
                let used = self.store.usage(bot, &month)?;
                if used >= limit {
                    failures.push(Failure {
                        error: "Message usage limit reached".into(),
                        detail: format!("{used} of {limit} messages used in {month}"),
                        solution: vec![
                            format!("Upgrade the plan: `docent plan {bot} set --messages N`"),
                            "Or swap to an available license".into(),
                            "Or wait for the monthly counter reset on the 1st (UTC)".into(),
                        ],
                    });
                }
            }
        }

        if let Some(row) = &row {
            if row.visibility != config.visibility {
                warnings.push(format!(
                    "bot.toml says visibility = \"{}\" but the live setting is \"{}\": the live one is kept; change it with `docent access {bot} visibility ...`",
                    visibility_name(config.visibility),
                    visibility_name(row.visibility)
                ));
            }
            if config.access.password_hash.is_some() && config.access.password_hash != row.password_hash {
                warnings.push(format!(
                    "bot.toml's [access] password differs from the live one, which is kept; change it with `docent access {bot} password`"
                ));
            }
        }

        let mut changes = None;
        let mut trained = None;
        let mut passages = 0;
        if let Some(scan) = &scan {
            for generation in self.store.generations(bot)? {
                if generation.knowledge_digest == scan.digest && generation.config == text {
                    trained = Some(generation.number);
                    passages = serde_json::from_str::<ManifestSummary>(&generation.manifest)
                        .map_or(0, |summary| summary.stats.passages);
                    break;
                }
            }
            if let Some(number) = live {
                let generation = self.generation(bot, number)?;
                let old_config = self.generation_config(&generation)?;
                let manifest: ManifestSummary = serde_json::from_str(&generation.manifest).map_err(|err| {
                    Error::Refused(format!(
                        "generation {number} of \"{bot}\" has an unreadable manifest summary: {err}"
                    ))
                })?;
                let sources = manifest.inventory.diff(&scan.inventory);
                changes = Some(Changes {
                    files: sources.files,
                    qa: sources.qa,
                    settings: config::differences(&old_config, &config),
                });
            }
        }

        let state = if !failures.is_empty() {
            CheckState::CannotDeploy
        } else if changes.as_ref().is_some_and(|changes| !changes.is_empty()) {
            CheckState::Outdated
        } else {
            CheckState::Ready
        };
        let report = CheckReport {
            bot: bot.to_owned(),
            state,
            live,
            trained,
            changes,
            failures,
            warnings,
            files: scan.as_ref().map_or(0, |s| s.inventory.files.len()),
            qa_pairs: scan.as_ref().map_or(0, |s| s.inventory.qa.len()),
            documents: scan.as_ref().map_or(0, |s| {
                let qa_file = |path: &String| [".toml", ".csv", ".json"].iter().any(|ext| path.ends_with(ext));
                s.inventory.files.keys().filter(|path| !qa_file(path)).count()
            }),
            passages,
            knowledge_bytes: scan.as_ref().map_or(0, |s| s.bytes),
            faq_items: scan.as_ref().map(|s| s.inventory.report.faq_items.clone()).unwrap_or_default(),
        };
        Ok((report, scan))
    }

    /// Counts one visitor message against `plan`, the bot's plan as the caller last read it
    /// (a gateway's live view, refreshed whenever the store moves). Under a monthly limit the
    /// message is counted in the store at once, exact under concurrency (a durable write per
    /// message). Without a limit there is nothing to enforce and no IO: the message is tallied
    /// in memory ([`Quota::Unlimited`]) and [`Lifecycle::flush_usage`] adds the tally to the
    /// store in bulk.
    pub fn consume_message(&self, bot: &str, plan: Option<&Plan>, now: Timestamp) -> Result<Quota> {
        let month = when::month(now);
        match plan {
            Some(&Plan { expires_at: Some(expired_at), .. }) if expired_at <= now => {
                Ok(Quota::PlanExpired { expired_at })
            }
            _ if Lifecycle::message_counted_in_store(plan) => Ok(self.store.consume_message(bot, &month, now)?),
            _ => {
                *self.tally().entry((bot.to_owned(), month)).or_default() += 1;
                Ok(Quota::Unlimited)
            }
        }
    }

    /// Whether [`Lifecycle::consume_message`] under `plan` writes to the store (a monthly limit
    /// to enforce), rather than tallying in memory with no IO.
    pub fn message_counted_in_store(plan: Option<&Plan>) -> bool {
        plan.is_some_and(|plan| plan.messages_per_month.is_some())
    }

    /// Adds the messages tallied by [`Lifecycle::consume_message`] to the store's usage. What
    /// cannot be written stays tallied for the next call.
    pub fn flush_usage(&self) -> Result<()> {
        let tally = std::mem::take(&mut *self.tally());
        let mut result = Ok(());
        for ((bot, month), count) in tally {
            if result.is_ok() {
                match self.store.add_usage(&bot, &month, count) {
                    Ok(()) => continue,
                    Err(err) => result = Err(err.into()),
                }
            }
            *self.tally().entry((bot, month)).or_default() += count;
        }
        result
    }

    /// Messages tallied for `bot` in `month` and not yet in the store.
    pub(crate) fn tallied_usage(&self, bot: &str, month: &str) -> u64 {
        self.tally().get(&(bot.to_owned(), month.to_owned())).copied().unwrap_or(0)
    }

    fn tally(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<(String, String), u64>> {
        self.usage_tally.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// What a generation row keeps of its index manifest.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct ManifestSummary {
    pub inventory: docent_indexer::Inventory,
    pub stats: docent_indexer::IndexStats,
    pub model: Option<String>,
    /// Bytes of the knowledge sources it was built from (the plan's storage measure); absent
    /// in generations made before it was recorded.
    #[serde(default)]
    pub knowledge_bytes: Option<u64>,
}

fn visibility_name(visibility: docent_store::Visibility) -> &'static str {
    match visibility {
        docent_store::Visibility::Public => "public",
        docent_store::Visibility::Internal => "internal",
    }
}
