//! Training, deploying, rolling back and collecting generations.
//!
//! A deploy runs the seed's phases: Starting (validate, take the bot's deploy lock),
//! Loading the knowledge base (train, or reuse an identical or index-compatible
//! generation), Updating models (open and warm the new generation), Automatic testing (the
//! `[[test]]`s through [`crate::reply::reply`], exactly what visitors get), Activating (one
//! store transaction). A failure anywhere leaves the live generation untouched.

use std::fmt;
use std::path::Path;
use std::time::Instant;

use docent_indexer::{BuildEvent, BuildOptions, KnowledgeBase, SemanticMode};
use docent_protocol::{Reply, ReplyKind};
use docent_store::{AuditEntry, DeployOutcome, DeployStart, Generation, GenerationKind};
use serde::Serialize;
use sha2::{Digest, Sha384};

use crate::change::ChangeKind;
use crate::check::ManifestSummary;
use crate::config::{BotConfig, Expect, TestCase};
use crate::knowledge::{self, Scan};
use crate::{Error, Lifecycle, Result, failpoint, io_error, remove_dir_if_present, when};

/// A deploy phase, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Starting,
    LoadingKnowledge,
    UpdatingModels,
    AutomaticTesting,
    Activating,
}

impl Phase {
    pub const ALL: [Phase; 5] =
        [Phase::Starting, Phase::LoadingKnowledge, Phase::UpdatingModels, Phase::AutomaticTesting, Phase::Activating];

    pub fn label(self) -> &'static str {
        match self {
            Phase::Starting => "Starting",
            Phase::LoadingKnowledge => "Loading the knowledge base",
            Phase::UpdatingModels => "Updating models",
            Phase::AutomaticTesting => "Automatic testing",
            Phase::Activating => "Activating",
        }
    }
}

/// Progress of a deploy, for a progress bar or server-sent events.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "event")]
pub enum DeployEvent {
    PhaseStarted {
        phase: Phase,
    },
    /// Work inside a phase: `done` of `total` (files read, chunks embedded, tests run).
    Progress {
        phase: Phase,
        done: u64,
        total: u64,
        what: String,
    },
    PhaseFinished {
        phase: Phase,
        millis: u64,
        note: String,
    },
    TestRun {
        question: String,
        passed: bool,
        detail: String,
    },
}

/// What kind of update a deploy made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UpdateKind {
    /// The bot's first generation.
    First,
    /// Knowledge or search settings changed: indexed anew.
    Complete,
    /// Chatroom settings only: the index was reused, nothing reindexed.
    Quick,
    /// Nothing changed; an identical generation was (re)activated.
    Unchanged,
}

/// A failed automatic test.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TestFailure {
    pub question: String,
    /// bot.toml line of the `[[test]]`.
    pub line: usize,
    pub expected: String,
    pub got: String,
}

impl fmt::Display for TestFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bot.toml:{}: \"{}\": expected {}, got {}", self.line, self.question, self.expected, self.got)
    }
}

/// How long a phase took.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PhaseTiming {
    pub phase: Phase,
    pub millis: u64,
    pub note: String,
}

/// What the operator receives at the end of a deploy (the seed's "Completion").
#[derive(Debug, Clone, Serialize)]
pub struct DeployReport {
    pub bot: String,
    pub deploy_id: i64,
    pub generation: u64,
    pub kind: UpdateKind,
    pub millis: u64,
    pub phases: Vec<PhaseTiming>,
    pub tests_passed: usize,
    pub integration: Integration,
}

/// The integration code and links.
#[derive(Debug, Clone, Serialize)]
pub struct Integration {
    /// The `<script>` tag to paste into `<head>`.
    pub snippet: String,
    /// The versioned bundle URL.
    pub script_url: String,
    /// `sha384-...` of the served bundle.js, when the bundle was given.
    pub integrity: Option<String>,
    /// Content-Security-Policy sources to add to the page's policy.
    pub csp: Vec<String>,
    pub demo_url: String,
    pub console_url: String,
}

/// What a train built.
#[derive(Debug, Clone, Serialize)]
pub struct TrainReport {
    pub bot: String,
    pub generation: u64,
    /// Whether a generation of exactly these sources and settings already existed.
    pub reused: bool,
    pub kind: GenerationKind,
    pub millis: u64,
}

/// The widget version the integration code points at (the gateway serves the same).
pub const WIDGET_VERSION: &str = env!("CARGO_PKG_VERSION");

impl Lifecycle {
    /// The integration code for `bot`.
    pub fn integration(&self, bot: &str) -> Integration {
        let base = self.options.public_url.trim_end_matches('/');
        let script_url = format!("{base}/widget/{WIDGET_VERSION}/bundle.js");
        let integrity = self
            .options
            .widget_bundle
            .as_ref()
            .map(|bundle| format!("sha384-{}", base64(&Sha384::digest(bundle.as_slice()))));
        let snippet = match &integrity {
            Some(integrity) => format!(
                r#"<script async src="{script_url}" integrity="{integrity}" crossorigin="anonymous" data-bot="{bot}"></script>"#
            ),
            None => format!(r#"<script async src="{script_url}" crossorigin="anonymous" data-bot="{bot}"></script>"#),
        };
        Integration {
            snippet,
            script_url,
            integrity,
            csp: vec![format!("script-src {base} 'wasm-unsafe-eval'"), format!("connect-src {base}")],
            demo_url: format!("{base}/demo/{bot}"),
            console_url: format!("{base}/admin/bots/{bot}"),
        }
    }

    /// Builds a generation of `bot` from its current sources without activating it.
    pub fn train(&self, bot: &str, actor: &str, progress: &mut dyn FnMut(DeployEvent)) -> Result<TrainReport> {
        let started = Instant::now();
        let (config, text) = self.load_config(bot)?;
        let knowledge_dir = self.bot_dir(bot).join("knowledge");
        let scan = knowledge::scan(&knowledge_dir, &config.search, self.model_id(&config).as_deref())
            .map_err(|source| Error::Knowledge { bot: bot.to_owned(), source })?;
        self.ensure_bot(bot, actor)?;
        let deploy_id = self.take_lock(bot, actor)?;
        let outcome = self.prepare_generation(bot, actor, &config, &text, &scan, deploy_id, progress);
        let now = when::now();
        match &outcome {
            Ok((generation, reused)) => self.store.finish_deploy(
                deploy_id,
                DeployOutcome::Trained,
                Some(generation.number),
                None,
                &format!("{{\"reused\":{reused}}}"),
                now,
            )?,
            Err(err) => {
                self.store.finish_deploy(deploy_id, DeployOutcome::Failed, None, Some(&err.to_string()), "[]", now)?
            }
        }
        let (generation, reused) = outcome?;
        Ok(TrainReport {
            bot: bot.to_owned(),
            generation: generation.number,
            reused,
            kind: generation.kind,
            millis: started.elapsed().as_millis() as u64,
        })
    }

    /// Deploys `bot`: the five phases, then the integration code. Refused while another process
    /// deploys it. The outcome, a new live generation or a failure, is reported to the change hook.
    pub fn deploy(&self, bot: &str, actor: &str, progress: &mut dyn FnMut(DeployEvent)) -> Result<DeployReport> {
        self.deploy_reported(bot, actor, false, progress)
    }

    /// A hotfix: [`Lifecycle::deploy`] with only the tests marked `critical = true`, refused
    /// when there is none.
    pub fn deploy_hotfix(&self, bot: &str, actor: &str, progress: &mut dyn FnMut(DeployEvent)) -> Result<DeployReport> {
        self.deploy_reported(bot, actor, true, progress)
    }

    fn deploy_reported(
        &self,
        bot: &str,
        actor: &str,
        critical_only: bool,
        progress: &mut dyn FnMut(DeployEvent),
    ) -> Result<DeployReport> {
        let previous = self.live_number(bot);
        let result = self.deploy_phases(bot, actor, critical_only, progress);
        match &result {
            Ok(report) => self.report_change(
                bot,
                actor,
                ChangeKind::Deployed {
                    generation: report.generation,
                    previous,
                    update: report.kind,
                    hotfix: critical_only,
                },
            ),
            // Another deploy of the bot is running: this one never started.
            Err(Error::Busy(_)) => {}
            Err(err) => self.report_change(
                bot,
                actor,
                ChangeKind::DeployFailed { live: self.live_number(bot), reason: err.to_string() },
            ),
        }
        result
    }

    fn deploy_phases(
        &self,
        bot: &str,
        actor: &str,
        critical_only: bool,
        progress: &mut dyn FnMut(DeployEvent),
    ) -> Result<DeployReport> {
        let started = Instant::now();
        let mut phases = Vec::new();
        let mut phase_started = Instant::now();
        progress(DeployEvent::PhaseStarted { phase: Phase::Starting });
        failpoint::hit("starting");
        let (report, scan) = self.check_scan(bot)?;
        if !report.failures.is_empty() {
            return Err(Error::CannotDeploy { bot: bot.to_owned(), failures: report.failures });
        }
        let Some(scan) = scan else {
            return Err(Error::Refused(format!("the knowledge of \"{bot}\" cannot be read")));
        };
        let (config, text) = self.load_config(bot)?;
        let tested = if critical_only {
            let critical: Vec<_> = config.tests.iter().filter(|test| test.critical).cloned().collect();
            if critical.is_empty() {
                return Err(Error::Refused(format!(
                    "\"{bot}\" has no [[test]] marked `critical = true`; a hotfix runs only those: mark the tests that must never fail"
                )));
            }
            BotConfig { tests: critical, ..config.clone() }
        } else {
            config.clone()
        };
        let row = self.ensure_bot(bot, actor)?;
        let deploy_id = self.take_lock(bot, actor)?;
        let mut finish = |phase: Phase, note: String, started: &mut Instant, progress: &mut dyn FnMut(DeployEvent)| {
            let millis = started.elapsed().as_millis() as u64;
            progress(DeployEvent::PhaseFinished { phase, millis, note: note.clone() });
            phases.push(PhaseTiming { phase, millis, note });
            *started = Instant::now();
            let json = serde_json::to_string(&phases).unwrap_or_default();
            if let Err(err) = self.store.heartbeat_deploy(deploy_id, when::now(), &json) {
                tracing::warn!(%err, "cannot record deploy progress");
            }
            json
        };
        finish(Phase::Starting, format!("deploy #{deploy_id}, lock taken"), &mut phase_started, progress);

        let result = (|| -> Result<(Generation, UpdateKind, usize, String)> {
            progress(DeployEvent::PhaseStarted { phase: Phase::LoadingKnowledge });
            failpoint::hit("loading");
            let (generation, reused) =
                self.prepare_generation(bot, actor, &config, &text, &scan, deploy_id, progress)?;
            // The kind compares the new generation with the live one, whether it was built now or earlier.
            let live = match row.live {
                Some(number) => self.store.generation(bot, number)?,
                None => None,
            };
            let kind = match live {
                None => UpdateKind::First,
                Some(live) if live.number == generation.number => UpdateKind::Unchanged,
                Some(live) if live.knowledge_digest == generation.knowledge_digest => UpdateKind::Quick,
                Some(_) => UpdateKind::Complete,
            };
            let note = match kind {
                UpdateKind::Unchanged => format!("generation {} is live and holds these sources", generation.number),
                _ if reused => format!("generation {} (trained earlier) holds these sources", generation.number),
                UpdateKind::Quick => format!("generation {}: chatroom settings only, index reused", generation.number),
                _ => {
                    let passages = serde_json::from_str::<ManifestSummary>(&generation.manifest)
                        .map_or(0, |summary| summary.stats.passages);
                    format!(
                        "generation {}: {} files, {} Q&As, {passages} passages",
                        generation.number,
                        scan.inventory.files.len(),
                        scan.inventory.qa.len()
                    )
                }
            };
            finish(Phase::LoadingKnowledge, note, &mut phase_started, progress);

            progress(DeployEvent::PhaseStarted { phase: Phase::UpdatingModels });
            failpoint::hit("updating");
            let knowledge = self.open_generation(&generation)?;
            if reused {
                self.publish(&generation)?;
            }
            knowledge.search("warm up", 1).map_err(|source| Error::Knowledge { bot: bot.to_owned(), source })?;
            let semantic = if knowledge.is_semantic() { "semantic + lexical" } else { "lexical" };
            finish(Phase::UpdatingModels, format!("opened and warmed ({semantic})"), &mut phase_started, progress);

            progress(DeployEvent::PhaseStarted { phase: Phase::AutomaticTesting });
            failpoint::hit("testing");
            let failures = run_tests(&tested, &knowledge, progress)?;
            if !failures.is_empty() {
                return Err(Error::TestsFailed { bot: bot.to_owned(), failures });
            }
            let passed = tested.tests.len();
            let note = if critical_only { format!("{passed} critical passed") } else { format!("{passed} passed") };
            let json = finish(Phase::AutomaticTesting, note, &mut phase_started, progress);
            Ok((generation, kind, passed, json))
        })();

        let (generation, kind, tests_passed, phases_json) = match result {
            Ok(done) => done,
            Err(err) => {
                let failure = err.to_string();
                self.store.finish_deploy(
                    deploy_id,
                    DeployOutcome::Failed,
                    None,
                    Some(&failure),
                    &serde_json::to_string(&phases).unwrap_or_default(),
                    when::now(),
                )?;
                return Err(err);
            }
        };

        progress(DeployEvent::PhaseStarted { phase: Phase::Activating });
        failpoint::hit("activating");
        let audit = AuditEntry::new(
            when::now(),
            actor,
            Some(bot),
            "deploy",
            format!("generation {} live ({kind:?}, deploy #{deploy_id})", generation.number),
        );
        if let Err(err) =
            self.store.activate_generation(bot, generation.number, Some((deploy_id, &phases_json)), &audit)
        {
            self.store.finish_deploy(
                deploy_id,
                DeployOutcome::Failed,
                None,
                Some(&err.to_string()),
                &phases_json,
                when::now(),
            )?;
            return Err(err.into());
        }
        failpoint::hit("activated");
        let millis = phase_started.elapsed().as_millis() as u64;
        progress(DeployEvent::PhaseFinished {
            phase: Phase::Activating,
            millis,
            note: format!("generation {} is live", generation.number),
        });
        phases.push(PhaseTiming {
            phase: Phase::Activating,
            millis,
            note: format!("generation {} is live", generation.number),
        });
        if let Err(err) = self.collect_garbage(bot) {
            tracing::warn!(bot, %err, "cannot collect old generations");
        }
        Ok(DeployReport {
            bot: bot.to_owned(),
            deploy_id,
            generation: generation.number,
            kind,
            millis: started.elapsed().as_millis() as u64,
            phases,
            tests_passed,
            integration: self.integration(bot),
        })
    }

    fn take_lock(&self, bot: &str, actor: &str) -> Result<i64> {
        let owner = Lifecycle::lock_owner();
        match self.store.begin_deploy(bot, actor, &owner, when::now(), &|holder| self.lock_is_stale(holder))? {
            DeployStart::Started { deploy_id } => Ok(deploy_id),
            DeployStart::Busy(holder) => Err(Error::Busy(format!(
                "\"{bot}\" is being deployed by {} (deploy #{}, process {}, started {}); wait for it to finish, then try again",
                holder.actor,
                holder.deploy_id,
                holder.owner,
                when::format(holder.started_at)
            ))),
        }
    }

    /// Finds or builds the generation for these sources and this bot.toml. Returns it and
    /// whether it already existed.
    #[allow(clippy::too_many_arguments)]
    fn prepare_generation(
        &self,
        bot: &str,
        actor: &str,
        config: &BotConfig,
        text: &str,
        scan: &Scan,
        deploy_id: i64,
        progress: &mut dyn FnMut(DeployEvent),
    ) -> Result<(Generation, bool)> {
        let existing = self.store.generations(bot)?;
        if let Some(same) = existing.iter().find(|g| g.knowledge_digest == scan.digest && g.config == text) {
            return Ok((same.clone(), true));
        }
        let live = self.store.bot(bot)?.and_then(|row| row.live);
        // Prefer the live generation's index when several share the digest.
        let reusable = existing
            .iter()
            .filter(|g| g.knowledge_digest == scan.digest)
            .max_by_key(|g| (Some(g.number) == live, g.number))
            // Fetched from the store when this data directory lacks it, so that a quick update
            // stays quick whichever process deploys it.
            .filter(|g| self.ensure_local(g).is_ok() && self.generation_dir(g).join("index").is_dir());

        let number = self.store.next_generation_number(bot)?;
        let parent = self.generations_dir(bot);
        std::fs::create_dir_all(&parent).map_err(io_error(&parent))?;
        let temp = parent.join(format!(".tmp-{number}-{}", std::process::id()));
        std::fs::create_dir(&temp).map_err(io_error(&temp))?;
        let built = self.build_generation_dir(bot, config, text, reusable, &temp, deploy_id, progress);
        let manifest = match built {
            Ok(manifest) => ManifestSummary { knowledge_bytes: Some(scan.bytes), ..manifest },
            Err(err) => {
                let _ = std::fs::remove_dir_all(&temp);
                return Err(err);
            }
        };
        failpoint::hit("built");
        let dir = number.to_string();
        let final_dir = parent.join(&dir);
        std::fs::rename(&temp, &final_dir).map_err(io_error(&final_dir))?;
        knowledge::sync_dir(&parent).map_err(io_error(&parent))?;
        failpoint::hit("renamed");
        let generation = Generation {
            bot: bot.to_owned(),
            number,
            created_at: when::now(),
            created_by: actor.to_owned(),
            kind: if reusable.is_some() { GenerationKind::Quick } else { GenerationKind::Complete },
            dir,
            knowledge_digest: scan.digest.clone(),
            manifest: serde_json::to_string(&manifest).unwrap_or_default(),
            config: text.to_owned(),
        };
        self.store.insert_generation(&generation)?;
        failpoint::hit("recorded");
        // Published before any pointer can name it; a deploy of an existing generation publishes
        // it again before activating, which also repairs a damaged publication.
        self.publish(&generation)?;
        Ok((generation, false))
    }

    /// Fills `temp` with config.toml and index/ (built, or linked from `reusable`), all fsynced.
    #[allow(clippy::too_many_arguments)]
    fn build_generation_dir(
        &self,
        bot: &str,
        config: &BotConfig,
        text: &str,
        reusable: Option<&Generation>,
        temp: &Path,
        deploy_id: i64,
        progress: &mut dyn FnMut(DeployEvent),
    ) -> Result<ManifestSummary> {
        let config_path = temp.join("config.toml");
        knowledge::write_synced(&config_path, text.as_bytes()).map_err(io_error(&config_path))?;
        let index_dir = temp.join("index");
        let manifest = match reusable {
            Some(source) => {
                let from = self.generation_dir(source).join("index");
                knowledge::link_tree(&from, &index_dir).map_err(io_error(&index_dir))?;
                serde_json::from_str(&source.manifest).map_err(|err| {
                    Error::Refused(format!(
                        "generation {} of \"{bot}\" has an unreadable manifest summary: {err}",
                        source.number
                    ))
                })?
            }
            None => {
                let cache = self.embeddings_dir();
                std::fs::create_dir_all(&cache).map_err(io_error(&cache))?;
                let embedder = match config.search.semantic {
                    SemanticMode::Off => None,
                    _ => self.options.embedder.as_ref(),
                };
                let options = BuildOptions { settings: &config.search, embedder, embedding_cache: Some(&cache) };
                let mut files_read = 0;
                let mut files_total = 0;
                let mut last_beat = Instant::now();
                let mut on_event = |event: BuildEvent| {
                    let (done, total, what) = match event {
                        BuildEvent::ReadingFiles { total } => {
                            files_total = total;
                            (0, total, "files read".to_owned())
                        }
                        BuildEvent::FileRead { path } => {
                            files_read += 1;
                            (files_read, files_total, path)
                        }
                        BuildEvent::Embedding { total } => (0, total, "chunks embedded".to_owned()),
                        BuildEvent::Embedded { done } => (done, 0, "chunks embedded".to_owned()),
                        BuildEvent::Writing => (files_total, files_total, "writing the index".to_owned()),
                        BuildEvent::Done => (files_total, files_total, "index written".to_owned()),
                    };
                    progress(DeployEvent::Progress { phase: Phase::LoadingKnowledge, done, total, what });
                    if last_beat.elapsed().as_secs() >= 5 {
                        last_beat = Instant::now();
                        let _ = self.store.heartbeat_deploy(deploy_id, when::now(), "[]");
                    }
                };
                let manifest = KnowledgeBase::build_into(
                    &self.bot_dir(bot).join("knowledge"),
                    &index_dir,
                    &options,
                    &mut on_event,
                )
                .map_err(|source| Error::Knowledge { bot: bot.to_owned(), source })?;
                ManifestSummary {
                    inventory: manifest.inventory,
                    stats: manifest.stats,
                    model: manifest.model,
                    knowledge_bytes: None,
                }
            }
        };
        knowledge::sync_dir(temp).map_err(io_error(temp))?;
        Ok(manifest)
    }

    /// Makes generation `to` (default: the previous one) live again: one transaction, no rebuild.
    pub fn rollback(&self, bot: &str, to: Option<u64>, actor: &str) -> Result<u64> {
        let row = self.store.bot(bot)?.ok_or_else(|| Error::Conflict(format!("\"{bot}\" was never deployed")))?;
        let target = match to.or(row.previous) {
            Some(target) => target,
            None => {
                return Err(Error::Conflict(format!(
                    "\"{bot}\" has no previous generation; pick one with --to (see `docent history {bot}`)"
                )));
            }
        };
        if row.live == Some(target) {
            return Err(Error::Conflict(format!("generation {target} of \"{bot}\" is already live")));
        }
        let generation = self.generation(bot, target)?;
        // Refuse an artifact that does not open, before it goes live.
        self.open_generation(&generation)?;
        self.generation_config(&generation)?;
        // A generation made before its bot's gateways fetched from the store, or trained then.
        self.publish_unless_published(&generation)?;
        let audit = AuditEntry::new(
            when::now(),
            actor,
            Some(bot),
            "rollback",
            format!("generation {target} live (was {})", row.live.map_or("none".to_owned(), |n| n.to_string())),
        );
        self.store.activate_generation(bot, target, None, &audit)?;
        self.report_change(bot, actor, ChangeKind::RolledBack { generation: target, previous: row.live });
        Ok(target)
    }

    /// Past deploys and the generations still on disk, newest first.
    pub fn history(&self, bot: &str, limit: usize) -> Result<(Vec<docent_store::Deploy>, Vec<Generation>)> {
        Ok((self.store.deploys(bot, limit)?, self.store.generations(bot)?))
    }

    /// Deletes generations beyond the newest `keep_generations`, never the live or previous one.
    /// The row goes first, so no row ever names a missing directory.
    pub fn collect_garbage(&self, bot: &str) -> Result<Vec<u64>> {
        let Some(row) = self.store.bot(bot)? else { return Ok(Vec::new()) };
        let mut removed = Vec::new();
        for generation in self.store.generations(bot)?.into_iter().skip(self.options.keep_generations) {
            if Some(generation.number) == row.live || Some(generation.number) == row.previous {
                continue;
            }
            self.store.delete_generation(bot, generation.number)?;
            let dir = self.generation_dir(&generation);
            // A gateway fetching generations into this directory may have removed it already.
            remove_dir_if_present(&dir)?;
            removed.push(generation.number);
        }
        Ok(removed)
    }
}

/// Runs the `[[test]]`s against `knowledge`, exactly as visitors are answered.
pub fn run_tests(
    config: &BotConfig,
    knowledge: &KnowledgeBase,
    progress: &mut dyn FnMut(DeployEvent),
) -> Result<Vec<TestFailure>> {
    let mut failures = Vec::new();
    for (index, test) in config.tests.iter().enumerate() {
        let reply = crate::reply::reply(config, knowledge, &test.question)
            .map_err(|source| Error::Knowledge { bot: config.id.clone(), source })?;
        let Verdict { passed, expected, got } = judge(test, &reply);
        progress(DeployEvent::TestRun { question: test.question.clone(), passed, detail: got.clone() });
        progress(DeployEvent::Progress {
            phase: Phase::AutomaticTesting,
            done: index as u64 + 1,
            total: config.tests.len() as u64,
            what: "tests run".to_owned(),
        });
        if !passed {
            failures.push(TestFailure { question: test.question.clone(), line: test.line, expected, got });
        }
    }
    Ok(failures)
}

/// A test's verdict on a reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub passed: bool,
    /// What the test wanted, in words (`an answer from faq.toml`).
    pub expected: String,
    /// What came back, in words.
    pub got: String,
}

/// Judges `reply` by `test`: the same rule at a deploy and in continuous tests of the live bot.
pub fn judge(test: &TestCase, reply: &Reply) -> Verdict {
    let sources: Vec<&str> = reply.sources.iter().map(|s| s.source.as_str()).collect();
    // Only a confident answer counts: suggested pages pass no source or text test.
    let answered = matches!(reply.kind, ReplyKind::Faq | ReplyKind::Document);
    let (passed, expected) = match &test.expect {
        Expect::Source(want) => (
            answered && sources.iter().any(|s| s == want || s.split('#').next() == Some(want.as_str())),
            format!("an answer from {want}"),
        ),
        Expect::Text(want) => (
            answered && reply.text.to_lowercase().contains(&want.to_lowercase()),
            format!("an answer containing \"{want}\""),
        ),
        Expect::Unknown => (reply.kind == ReplyKind::Unknown, "\"I don't know\"".to_owned()),
    };
    let got = match reply.kind {
        ReplyKind::Unknown => "\"I don't know\"".to_owned(),
        ReplyKind::Suggestions => format!("suggestions ({})", sources.join(", ")),
        _ if sources.is_empty() => "an answer from no source".to_owned(),
        _ => format!("an answer from {}", sources.join(", ")),
    };
    Verdict { passed, expected, got }
}

/// Standard base64 with padding (for SRI hashes).
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> shift) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::base64;

    #[test]
    fn base64_matches_the_standard_vectors() {
        for (input, expect) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(input.as_bytes()), expect);
        }
    }
}
