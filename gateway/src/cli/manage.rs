//! `docent check | train | deploy | status | history | rollback | activate | deactivate | schedules`.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::bail;
use docent_indexer::Changes;
use docent_lifecycle::{CheckReport, CheckState, DeployEvent, Phase, when};
use indicatif::{ProgressBar, ProgressStyle};

use super::Env;

fn print_keys(label: &str, changes: &Changes) {
    for (sign, keys) in [("+", &changes.added), ("-", &changes.removed), ("~", &changes.changed)] {
        for key in keys {
            println!("    {sign} {label} {key}");
        }
    }
}

fn print_check(report: &CheckReport) {
    println!("{}: {}", report.bot, report.state.label());
    println!("  knowledge: {} files, {} Q&As, {} bytes", report.files, report.qa_pairs, report.knowledge_bytes);
    for (page, items) in &report.faq_items {
        match items {
            0 => println!("  knowledge/{page}: no FAQ markup recognised; read as text"),
            _ => println!("  knowledge/{page}: {items} Q&A items from its FAQ markup"),
        }
    }
    match (report.live, report.trained) {
        (Some(live), _) => println!("  live generation: {live}"),
        (None, _) => println!("  never deployed"),
    }
    match report.trained {
        Some(number) => println!("  trained: generation {number} holds exactly these sources"),
        None if report.failures.is_empty() => {
            println!(
                "  not trained yet: `docent deploy {}` trains first (or `docent train {}`)",
                report.bot, report.bot
            );
        }
        None => {}
    }
    if let Some(changes) = report.changes.as_ref().filter(|changes| !changes.is_empty()) {
        println!("  changes since the live generation ({:?} update):", changes.update_kind());
        print_keys("file", &changes.files);
        print_keys("Q&A", &changes.qa);
        for setting in &changes.settings {
            let sort = if setting.chatroom { "chatroom setting" } else { "setting" };
            println!("    ~ {sort} {}", setting.key);
        }
    }
    for failure in &report.failures {
        println!("  ✗ {}: {}", failure.error, failure.detail);
        println!("    Solution:");
        for (index, step) in failure.solution.iter().enumerate() {
            println!("      {}. {step}", index + 1);
        }
    }
    for warning in &report.warnings {
        println!("  warning: {warning}");
    }
}

/// Prints each bot's state; the exit code is the worst state's (0, 10 or 20).
pub(crate) fn check(env: &Env, bot: Option<&str>, json: bool) -> anyhow::Result<u8> {
    let lifecycle = env.open()?;
    let bots = match bot {
        Some(bot) => vec![bot.to_owned()],
        None => {
            let mut bots: Vec<String> = std::fs::read_dir(&env.paths.bots)
                .map_err(|err| anyhow::anyhow!("cannot read the bots folder {}: {err}", env.paths.bots.display()))?
                .flatten()
                .filter(|entry| entry.path().join("bot.toml").is_file())
                .map(|entry| entry.file_name().to_string_lossy().into_owned())
                .collect();
            bots.sort();
            if bots.is_empty() {
                bail!("no bots in {}: each bot is a folder with a bot.toml", env.paths.bots.display());
            }
            bots
        }
    };
    let mut code = 0;
    for bot in bots {
        let report = match lifecycle.check(&bot) {
            Ok(report) => report,
            Err(docent_lifecycle::Error::Config(err)) => {
                println!("{bot}: {}\n  ✗ {err}", CheckState::CannotDeploy.label());
                code = code.max(CheckState::CannotDeploy.exit_code());
                continue;
            }
            Err(err) => return Err(err.into()),
        };
        if json {
            println!("{}", serde_json::to_string(&report)?);
        } else {
            print_check(&report);
        }
        code = code.max(report.state.exit_code());
    }
    Ok(code)
}

pub(crate) fn train(env: &Env, bot: &str) -> anyhow::Result<()> {
    let lifecycle = env.open()?;
    let mut bars = Bars::new();
    let report = lifecycle.train(bot, &env.actor(), &mut |event| bars.on(&event))?;
    bars.clear();
    if report.reused {
        println!("{bot}: generation {} already holds these sources; nothing to build", report.generation);
    } else {
        println!(
            "{bot}: trained generation {} ({:?}) in {} ms; not live: `docent deploy {bot}` makes it live",
            report.generation, report.kind, report.millis
        );
    }
    Ok(())
}

/// One progress bar per phase.
struct Bars {
    bars: HashMap<&'static str, ProgressBar>,
    started: Instant,
}

impl Bars {
    fn new() -> Bars {
        Bars { bars: HashMap::new(), started: Instant::now() }
    }

    fn bar(&mut self, phase: Phase) -> &ProgressBar {
        self.bars.entry(phase.label()).or_insert_with(|| {
            let bar = ProgressBar::new(0);
            bar.set_style(
                ProgressStyle::with_template("{spinner} {prefix:<28} [{bar:30}] {pos}/{len} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            bar.set_prefix(phase.label());
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        })
    }

    fn on(&mut self, event: &DeployEvent) {
        match event {
            DeployEvent::PhaseStarted { phase } => {
                self.bar(*phase);
            }
            DeployEvent::Progress { phase, done, total, what } => {
                let bar = self.bar(*phase);
                if *total > 0 {
                    bar.set_length(*total);
                }
                bar.set_position(*done);
                bar.set_message(what.clone());
            }
            DeployEvent::TestRun { question, passed, detail } => {
                let mark = if *passed { "✓" } else { "✗" };
                self.bar(Phase::AutomaticTesting).println(format!("    {mark} \"{question}\": {detail}"));
            }
            DeployEvent::PhaseFinished { phase, millis, note } => {
                let bar = self.bar(*phase).clone();
                bar.finish_and_clear();
                println!("✓ {:<28} {:>6} ms  {note}", phase.label(), millis);
            }
        }
    }

    fn clear(&mut self) {
        for bar in self.bars.values() {
            bar.finish_and_clear();
        }
        tracing::debug!(millis = self.started.elapsed().as_millis() as u64, "progress done");
    }
}

/// A hotfix deploy's watch.
pub(crate) struct Hotfix {
    pub(crate) window: std::time::Duration,
    pub(crate) every: std::time::Duration,
}

/// Exit code 0, or 10 when a hotfix's watch saw a breach.
pub(crate) fn deploy(env: &Env, bot: &str, at: Option<&str>, json: bool, hotfix: Option<Hotfix>) -> anyhow::Result<u8> {
    let lifecycle = std::sync::Arc::new(env.open()?);
    if let Some(at) = at {
        let at = when::parse(at, when::now()).map_err(|err| anyhow::anyhow!("--at {err}"))?;
        let scheduled = lifecycle.schedule_deploy(bot, at, &env.actor())?;
        println!(
            "{bot}: deploy scheduled for {} (schedule #{}); a running `docent serve` on this data directory runs it",
            when::format(scheduled.at),
            scheduled.id
        );
        for warning in scheduled.warnings {
            println!("warning: {warning}");
        }
        return Ok(0);
    }
    let mut bars = Bars::new();
    let since = when::now();
    let mut on_event = |event: DeployEvent| {
        if !json {
            bars.on(&event);
        }
    };
    let result = match hotfix {
        Some(_) => lifecycle.deploy_hotfix(bot, &env.actor(), &mut on_event),
        None => lifecycle.deploy(bot, &env.actor(), &mut on_event),
    };
    bars.clear();
    let report = result?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        let tests = if hotfix.is_some() { "critical tests" } else { "tests" };
        println!(
            "\nDeploy completed: {bot} generation {} is live ({:?} update, {} {tests} passed, {} ms).",
            report.generation, report.kind, report.tests_passed, report.millis
        );
        print_integration(&report.integration);
    }
    let Some(hotfix) = hotfix else { return Ok(0) };
    let mut out = std::io::stdout().lock();
    let summary = docent_gateway::hotfix::watch(
        &lifecycle,
        bot,
        since,
        hotfix.window,
        hotfix.every,
        env.fetch_private,
        &mut out,
    )?;
    Ok(if summary.breaches.is_empty() { 0 } else { 10 })
}

fn print_integration(integration: &docent_lifecycle::Integration) {
    println!("\nIntegration code (paste into <head>):\n  {}", integration.snippet);
    println!("Content-Security-Policy, add:");
    for line in &integration.csp {
        println!("  {line}");
    }
    println!("Demo page:  {}", integration.demo_url);
    println!("Console:    {}", integration.console_url);
}

pub(crate) fn status(env: &Env, bot: Option<&str>, json: bool) -> anyhow::Result<()> {
    let lifecycle = env.open()?;
    let reports = lifecycle.status(bot)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&reports)?);
        return Ok(());
    }
    for report in reports {
        let live = match (report.live, report.live_since, &report.live_by) {
            (Some(number), Some(since), Some(by)) => {
                format!("generation {number}, live since {} by {by}", when::format(since))
            }
            (Some(number), _, _) => format!("generation {number}"),
            _ => "never deployed".to_owned(),
        };
        println!("{:<16} {:<10?} {live}", report.bot, report.state);
        if let Some(at) = report.activate_at {
            println!("{:<16} activates at {}", "", when::format(at));
        }
        for schedule in &report.pending {
            println!("{:<16} scheduled #{}: {:?} at {}", "", schedule.id, schedule.action, when::format(schedule.at));
        }
    }
    Ok(())
}

pub(crate) fn history(env: &Env, bot: &str, limit: usize, json: bool) -> anyhow::Result<()> {
    let lifecycle = env.open()?;
    let (deploys, generations) = lifecycle.history(bot, limit)?;
    if json {
        println!("{}", serde_json::json!({ "deploys": deploys, "generations": generations }));
        return Ok(());
    }
    let live = lifecycle.store().bot(bot)?.and_then(|row| row.live);
    println!("deploys of {bot}, newest first:");
    for deploy in &deploys {
        let generation = deploy.generation.map(|n| format!("generation {n}")).unwrap_or_default();
        println!(
            "  #{:<4} {}  {:<11?} {:<14} by {}{}",
            deploy.id,
            when::format(deploy.started_at),
            deploy.outcome,
            generation,
            deploy.actor,
            deploy
                .failure
                .as_deref()
                .map(|f| format!("\n         {}", f.replace('\n', "\n         ")))
                .unwrap_or_default()
        );
    }
    println!("generations kept (rollback with `docent rollback {bot} --to N`):");
    for generation in &generations {
        let mark = if Some(generation.number) == live { " (live)" } else { "" };
        println!(
            "  {:<4} {}  {:<8?} by {}{mark}",
            generation.number,
            when::format(generation.created_at),
            generation.kind,
            generation.created_by
        );
    }
    Ok(())
}

pub(crate) fn rollback(env: &Env, bot: &str, to: Option<u64>) -> anyhow::Result<()> {
    let lifecycle = env.open()?;
    let started = Instant::now();
    let number = lifecycle.rollback(bot, to, &env.actor())?;
    println!("{bot}: generation {number} is live ({} ms)", started.elapsed().as_millis());
    Ok(())
}

pub(crate) fn activate(env: &Env, bot: &str, at: Option<&str>) -> anyhow::Result<()> {
    let lifecycle = env.open()?;
    let at = at.map(|at| when::parse(at, when::now()).map_err(|err| anyhow::anyhow!("--at {err}"))).transpose()?;
    match lifecycle.activate(bot, at, &env.actor())? {
        None => println!("{bot}: active"),
        Some(scheduled) => {
            println!("{bot}: offline until {} (schedule #{})", when::format(scheduled.at), scheduled.id);
            for warning in scheduled.warnings {
                println!("warning: {warning}");
            }
        }
    }
    Ok(())
}

pub(crate) fn deactivate(env: &Env, bot: &str) -> anyhow::Result<()> {
    env.open()?.deactivate(bot, &env.actor())?;
    println!("{bot}: offline (visitors get 503 bot_offline); `docent activate {bot}` brings it back");
    Ok(())
}

pub(crate) fn schedules(env: &Env, bot: Option<&str>) -> anyhow::Result<()> {
    let schedules = env.open()?.schedules(bot)?;
    if schedules.is_empty() {
        println!("no schedules");
    }
    for schedule in schedules {
        println!(
            "  #{:<4} {:<16} {:<10?} at {}  {:<9?} by {}{}",
            schedule.id,
            schedule.bot,
            schedule.action,
            when::format(schedule.at),
            schedule.state,
            schedule.actor,
            schedule.result.map(|r| format!(": {r}")).unwrap_or_default()
        );
    }
    Ok(())
}

pub(crate) fn unschedule(env: &Env, id: i64) -> anyhow::Result<()> {
    env.open()?.cancel_schedule(id, &env.actor())?;
    println!("schedule #{id} cancelled");
    Ok(())
}
