//! Hotfix mode's watch: after `docent deploy --hotfix`, the live bot's error rate and success
//! rate are judged every few seconds on the events since the deploy, with the bot's own
//! thresholds, and the first breach of each opens its incident and is announced at once,
//! rather than at the hourly windows of the regular rules.
//!
//! The events come from the store, where every gateway's recorder writes them within a second,
//! so the watch sees all the gateways serving the bot, from wherever the CLI runs.

use std::collections::BTreeSet;
use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use docent_analytics::alerts::{self as rules, Finding};
use docent_lifecycle::Lifecycle;
use docent_lifecycle::when::now;
use docent_store::Timestamp;

use crate::alerts::{self, Change, settings_of, title};

/// How long the watch lasts unless told (`--watch`).
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(15 * 60);

/// How often the rules are judged unless told (`--watch-every`).
pub const DEFAULT_EVERY: Duration = Duration::from_secs(5);

/// The most events read per look: a window's worth for a busy bot.
const MAX_EVENTS: usize = 200_000;

/// What the watch saw.
#[derive(Debug, Clone, PartialEq)]
pub struct WatchSummary {
    /// The rules that breached, in the order they did.
    pub breaches: Vec<Finding>,
    /// The last verdict of each rule.
    pub last: Vec<Finding>,
}

/// Watches `bot` for `window` from `since`, judging every `every`; prints each breach and a
/// summary to `out`. Blocking.
pub fn watch(
    lifecycle: &Arc<Lifecycle>,
    bot: &str,
    since: Timestamp,
    window: Duration,
    every: Duration,
    allow_private: bool,
    out: &mut dyn Write,
) -> anyhow::Result<WatchSummary> {
    let thresholds = settings_of(lifecycle.store(), bot)?.thresholds;
    writeln!(
        out,
        "watching {bot} for {window:?}, every {every:?}: error rate over {:.1} % or success rate under {:.1} %, \
         on at least {} requests since the deploy",
        thresholds.error_rate * 100.0,
        thresholds.success_rate * 100.0,
        thresholds.min_requests
    )?;
    let runtime =
        tokio::runtime::Builder::new_current_thread().enable_all().build().context("cannot start the async runtime")?;
    let started = Instant::now();
    let mut breached = BTreeSet::new();
    let mut summary = WatchSummary { breaches: Vec::new(), last: Vec::new() };
    loop {
        let at = now();
        let events = lifecycle.store().events(bot, since, at + 1, MAX_EVENTS)?;
        summary.last = rules::evaluate_window(&thresholds, &events, "since the deploy");
        for finding in summary.last.iter().filter(|finding| finding.firing) {
            if !breached.insert(finding.kind) {
                continue;
            }
            writeln!(out, "✗ {}: {}", title(finding.kind), finding.detail)?;
            summary.breaches.push(finding.clone());
            announce(lifecycle, &runtime, bot, finding, at, allow_private)?;
        }
        let elapsed = started.elapsed();
        if elapsed >= window {
            break;
        }
        std::thread::sleep(every.min(window - elapsed));
    }
    for finding in &summary.last {
        let mark = if finding.firing { "✗" } else { "✓" };
        writeln!(out, "{mark} {}: {}", title(finding.kind), finding.detail)?;
    }
    match summary.breaches.len() {
        0 => writeln!(out, "hotfix watch over: no breach in {window:?}")?,
        count => {
            writeln!(out, "hotfix watch over: {count} breach(es); see the incidents (`docent alerts {bot} incidents`)")?
        }
    }
    Ok(summary)
}

/// Opens the breach's incident and announces it, unless it is open already (then the regular
/// rules announced it).
fn announce(
    lifecycle: &Arc<Lifecycle>,
    runtime: &tokio::runtime::Runtime,
    bot: &str,
    finding: &Finding,
    at: Timestamp,
    allow_private: bool,
) -> anyhow::Result<()> {
    let detail = format!("hotfix watch: {}", finding.detail);
    let Some(incident) = lifecycle.store().open_incident(bot, finding.kind, at, &detail)? else { return Ok(()) };
    let critical = rules::is_critical(finding.kind);
    let channels =
        settings_of(lifecycle.store(), bot)?.channels.into_iter().filter(|channel| channel.takes(critical)).collect();
    let console = lifecycle.options().public_url.clone();
    let change = Change { incident, opened: true, channels };
    runtime.block_on(alerts::announce(Arc::clone(lifecycle), vec![change], &console, allow_private));
    Ok(())
}
