//! `docent monitor BOT`: one continuous test run now, against the live bot through the public
//! URL, stored and alerted on like the scheduled runs.

use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use docent_gateway::monitor;

use super::Env;

#[derive(Args)]
pub(crate) struct MonitorArgs {
    bot: String,
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    env: Env,
}

/// Exit code 0 when every question passed, 10 when one failed.
pub(crate) fn run(args: MonitorArgs) -> anyhow::Result<u8> {
    let lifecycle = Arc::new(args.env.open()?);
    lifecycle.require_bot(&args.bot)?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let report = runtime
        .block_on(monitor::run_bot(Arc::clone(&lifecycle), &args.bot, true, args.env.fetch_private))?
        .with_context(|| {
        format!("{} has nothing to test: it is not deployed, internal, or has no [[test]] in bot.toml", args.bot)
    })?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("{} through {}:", args.bot, lifecycle.options().public_url);
        for result in &report.results {
            let mark = if result.passed { "✓" } else { "✗" };
            println!("{mark} \"{}\": {}", result.question, result.got);
            if !result.passed {
                println!("    expected {}", result.expected);
            }
        }
        println!("{}", report.summary);
    }
    Ok(if report.passed { 0 } else { 10 })
}
