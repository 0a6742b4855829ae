//! `docent doctor URL`: the site owner's troubleshooting checklist for one page, as ✓ and ✗
//! lines with the fix of each ✗ (or JSON with --json).

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use docent_gateway::doctor;
use docent_gateway::fetch::FetchLimits;

use super::Env;

/// Exit code when a check fails (0: every check passed, 1: error).
const FINDINGS: u8 = 10;

#[derive(Args)]
pub(crate) struct DoctorArgs {
    /// The page that embeds (or should embed) the widget, e.g. https://shop.example/help.
    url: String,
    /// Print the checklist as JSON.
    #[arg(long)]
    json: bool,
    /// Also fetch loopback and private addresses (a site on this machine or the local network).
    #[arg(long)]
    allow_private: bool,
    /// Seconds the page and each widget file may take, redirects included.
    #[arg(long, default_value_t = 15)]
    timeout: u64,
    #[command(flatten)]
    env: Env,
}

pub(crate) fn run(args: DoctorArgs) -> anyhow::Result<u8> {
    // The store adds the status, last deploy, plan and allowlist; without it the checks go
    // through the public API only.
    let lifecycle = if args.env.paths.has_store() { Some(Arc::new(args.env.open()?)) } else { None };
    let limits = FetchLimits {
        timeout: Duration::from_secs(args.timeout),
        allow_private: args.allow_private,
        ..FetchLimits::default()
    };
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let report = runtime.block_on(doctor::diagnose(&args.url, lifecycle, limits));
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
    } else {
        writeln!(out, "Checking {}", report.url)?;
        for check in &report.checks {
            writeln!(out, "{} {}", if check.ok { "✓" } else { "✗" }, check.title)?;
            if let Some(fix) = &check.fix {
                writeln!(out, "    fix: {fix}")?;
            }
        }
        let passed = report.checks.iter().filter(|check| check.ok).count();
        writeln!(out, "{passed} of {} checks passed", report.checks.len())?;
    }
    Ok(if report.all_ok() { 0 } else { FINDINGS })
}
