//! `docent watch`: probes gateways' `/healthz` from outside, records each sample in the store,
//! and evaluates the alert rules after every round.
//!
//! Uptime and the downtime alert come from these samples, never from a gateway judging itself:
//! a gateway that is down cannot say so. Because the watcher evaluates the rules too, a
//! downtime incident opens and is announced even when no gateway is up.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Args;
use docent_lifecycle::Lifecycle;
use docent_lifecycle::when::now;
use docent_store::ProbeSample;

use crate::alerts;
use crate::fetch::{self, FetchLimits};
use crate::options::DataArgs;

/// The longest a probe waits for `/healthz`; a slower answer is a down sample. A round waits
/// for its probes, so with a shorter interval the next round starts late, never overlaps.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Args)]
pub struct WatchArgs {
    /// A gateway's base URL, as clients reach it (repeat for several).
    #[arg(long = "gateway", required = true)]
    pub gateways: Vec<String>,
    /// Time between probes: 10s, 500ms, 1m.
    #[arg(long, default_value = "10s", value_parser = parse_interval)]
    pub interval: Duration,
    /// Evaluate alert rules and send notices after each round (off: only record samples).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub alerts: bool,
    /// Let alert webhooks reach loopback and private addresses.
    #[arg(long, env = "DOCENT_FETCH_PRIVATE")]
    pub fetch_private: bool,
    #[command(flatten)]
    pub data: DataArgs,
}

/// `10s`, `500ms`, `2m`: from 100 ms to one hour.
pub fn parse_interval(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().map_err(|_| format!("`{text}` is not a duration like 10s, 500ms or 1m"))?;
    let duration = match unit {
        "ms" => Duration::from_millis(number),
        "s" | "" => Duration::from_secs(number),
        "m" => Duration::from_secs(number.saturating_mul(60)),
        _ => return Err(format!("`{text}`: the unit is ms, s or m")),
    };
    if duration < Duration::from_millis(100) || duration > Duration::from_secs(3600) {
        return Err(format!("`{text}` is outside 100ms to 60m"));
    }
    Ok(duration)
}

/// The base URL without a trailing slash, checked.
fn target(url: &str) -> anyhow::Result<String> {
    let url = url.trim().trim_end_matches('/').to_owned();
    let uri = fetch::parse_url(&url).map_err(|err| anyhow::anyhow!("--gateway {url}: {err}"))?;
    // Targets are stored and quoted in notices: a user name or password must not ride along.
    if uri.authority().is_some_and(|authority| authority.as_str().contains('@')) {
        bail!("--gateway: give the gateway's base URL without a user name or password");
    }
    if url.contains(['?', '#']) {
        bail!("--gateway {url}: give the gateway's base URL, without a query or fragment");
    }
    Ok(url)
}

pub fn run(args: WatchArgs) -> anyhow::Result<()> {
    let targets = args.gateways.iter().map(|url| target(url)).collect::<anyhow::Result<Vec<_>>>()?;
    let lifecycle =
        Arc::new(Lifecycle::open(args.data.lifecycle_options()?).context("cannot open the data directory")?);
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(watch(lifecycle, targets, args.interval, args.alerts, args.fetch_private));
    Ok(())
}

/// Probes `targets` every `interval` until the process stops.
pub async fn watch(
    lifecycle: Arc<Lifecycle>,
    targets: Vec<String>,
    interval: Duration,
    alerts: bool,
    allow_private: bool,
) {
    let limits =
        FetchLimits { max_body_bytes: 64 * 1024, timeout: PROBE_TIMEOUT, max_redirects: 0, allow_private: true };
    let mut last: Vec<Option<bool>> = vec![None; targets.len()];
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    println!("watching {} every {interval:?} (Ctrl-C stops)", targets.join(", "));
    loop {
        ticks.tick().await;
        let results = probe_all(&targets, limits).await;
        let at = now();
        let samples: Vec<ProbeSample> = targets
            .iter()
            .zip(&results)
            .map(|(target, (up, _))| ProbeSample { target: target.clone(), at, up: *up })
            .collect();
        for ((target, (up, reason)), previous) in targets.iter().zip(&results).zip(last.iter_mut()) {
            if *previous != Some(*up) {
                println!("{target} {}", if *up { "up".to_owned() } else { format!("DOWN: {reason}") });
                *previous = Some(*up);
            }
        }
        let recording = Arc::clone(&lifecycle);
        let evaluate = alerts;
        let outcome = tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<alerts::Change>> {
            for sample in &samples {
                recording.store().record_probe(sample)?;
            }
            if evaluate { alerts::evaluate_once(&recording, at) } else { Ok(Vec::new()) }
        })
        .await;
        match outcome {
            Ok(Ok(changes)) if !changes.is_empty() => {
                let console = targets.first().cloned().unwrap_or_default();
                alerts::announce(Arc::clone(&lifecycle), changes, &console, allow_private).await;
            }
            Ok(Ok(_)) => {}
            Ok(Err(err)) => tracing::error!(err = %format!("{err:#}"), "cannot record probes or evaluate alerts"),
            Err(err) => tracing::error!(%err, "the probe task failed"),
        }
    }
}

/// Probes every target side by side: for each, whether `/healthz` answered 200 within the
/// limits, and if not why.
async fn probe_all(targets: &[String], limits: FetchLimits) -> Vec<(bool, String)> {
    let probes: Vec<_> = targets
        .iter()
        .map(|target| {
            let url = format!("{target}/healthz");
            tokio::spawn(async move {
                match fetch::fetch_no_redirect(&url, &[], limits).await {
                    Ok(answer) if answer.status.is_success() => (true, String::new()),
                    Ok(answer) => (false, format!("/healthz answered {}", answer.status)),
                    Err(err) => (false, err.to_string()),
                }
            })
        })
        .collect();
    let mut results = Vec::with_capacity(probes.len());
    for probe in probes {
        results.push(probe.await.unwrap_or_else(|err| (false, format!("the probe failed: {err}"))));
    }
    results
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_read_like_durations() {
        for (text, expected) in [
            ("10s", Some(Duration::from_secs(10))),
            ("500ms", Some(Duration::from_millis(500))),
            ("2m", Some(Duration::from_secs(120))),
            ("5", Some(Duration::from_secs(5))),
            ("50ms", None),
            ("2h", None),
            ("61m", None),
            ("s", None),
            ("999999999999999999m", None),
        ] {
            assert_eq!(parse_interval(text).ok(), expected, "{text}");
        }
    }

    #[test]
    fn targets_are_base_urls_without_credentials() {
        assert_eq!(target(" http://127.0.0.1:8080/ ").unwrap(), "http://127.0.0.1:8080");
        assert_eq!(target("https://chat.acme.example/docent").unwrap(), "https://chat.acme.example/docent");
        for bad in ["ftp://x", "http://user:pw@chat.acme.example", "http://x/?a=1", "chat.acme.example"] {
            let err = target(bad).unwrap_err().to_string();
            assert!(!err.contains("pw@"), "{err}");
        }
    }
}
