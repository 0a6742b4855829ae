//! `docent alerts BOT`: show, set or clear a bot's alert settings, send a test notice to its
//! channels, and list its incidents.

use std::io::Read;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};
use docent_gateway::alerts::{self, AlertSettings};
use docent_gateway::notify;
use docent_lifecycle::when;

use super::Env;

#[derive(Args)]
pub(crate) struct AlertsArgs {
    bot: String,
    #[command(subcommand)]
    command: AlertsCommand,
    #[command(flatten)]
    env: Env,
}

#[derive(Subcommand)]
enum AlertsCommand {
    /// Print the thresholds and the channels (by kind and host: never a token or password).
    Show,
    /// Validate a settings file (TOML: [thresholds], [[channel]]) and make it the bot's; `-` reads standard input.
    Set { file: PathBuf },
    /// Forget the bot's settings: default thresholds, no channel.
    Clear,
    /// Send a test notice to every channel now, and say how each went.
    Test {
        /// Let webhooks reach loopback and private addresses.
        #[arg(long)]
        fetch_private: bool,
    },
    /// List the bot's incidents, newest first.
    Incidents {
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
}

pub(crate) fn run(args: AlertsArgs) -> anyhow::Result<()> {
    let lifecycle = args.env.open()?;
    let bot = args.bot.as_str();
    lifecycle.require_bot(bot)?;
    match args.command {
        AlertsCommand::Show => {
            let settings = alerts::settings_of(lifecycle.store(), bot)?;
            print_settings(&settings);
        }
        AlertsCommand::Set { file } => {
            let mut text = String::new();
            if file.as_os_str() == "-" {
                std::io::stdin().read_to_string(&mut text).context("cannot read standard input")?;
            } else {
                text = std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
            }
            alerts::store_settings(&lifecycle, bot, Some(&text), &args.env.actor())
                .with_context(|| format!("{} is not valid", file.display()))?;
            println!("alert settings of {bot} saved");
            print_settings(&alerts::settings_of(lifecycle.store(), bot)?);
        }
        AlertsCommand::Clear => {
            alerts::store_settings(&lifecycle, bot, None, &args.env.actor())?;
            println!("alert settings of {bot} cleared: default thresholds, no channel");
        }
        AlertsCommand::Test { fetch_private } => {
            let settings = alerts::settings_of(lifecycle.store(), bot)?;
            if settings.channels.is_empty() {
                anyhow::bail!("{bot} has no alert channel; add one with `docent alerts {bot} set FILE`");
            }
            let notice = notify::Notice {
                subject: format!("[docent] {bot}: test notice"),
                text: format!("A test of {bot}'s alert channels, sent by `docent alerts {bot} test`."),
                html: None,
                attachments: Vec::new(),
                data: serde_json::json!({"bot": bot, "kind": "test"}),
            };
            let fetch_private = fetch_private || args.env.fetch_private;
            let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
            let mut failed = 0;
            for channel in &settings.channels {
                match runtime.block_on(notify::send(channel, &notice, fetch_private)) {
                    Ok(()) => println!("✓ {}", channel.label()),
                    Err(err) => {
                        failed += 1;
                        println!("✗ {}: {err}", channel.label());
                    }
                }
            }
            if failed > 0 {
                anyhow::bail!("{failed} of {} channels failed", settings.channels.len());
            }
        }
        AlertsCommand::Incidents { limit } => {
            for incident in lifecycle.store().incidents(Some(bot), limit)? {
                let state = incident
                    .resolved_at
                    .map_or_else(|| "OPEN".to_owned(), |at| format!("resolved {}", when::format(at)));
                println!(
                    "#{:<5} {:<14} opened {}  {state}\n       {}",
                    incident.id,
                    incident.kind.as_str(),
                    when::format(incident.opened_at),
                    incident.detail
                );
            }
        }
    }
    Ok(())
}

fn print_settings(settings: &AlertSettings) {
    let thresholds = &settings.thresholds;
    println!("thresholds:");
    println!("  downtime over       {} s (seen by `docent watch`)", thresholds.downtime_seconds);
    println!("  error rate over     {:.1} % in the last hour", thresholds.error_rate * 100.0);
    println!("  success rate under  {:.1} % in the last 24 hours", thresholds.success_rate * 100.0);
    println!("  traffic over        {:.0} % of normal", thresholds.spike_ratio * 100.0);
    println!("  storage over        {:.1} % of the plan", thresholds.storage_ratio * 100.0);
    println!(
        "  judged from         {} requests, {} messages for spikes",
        thresholds.min_requests, thresholds.spike_min_messages
    );
    if settings.channels.is_empty() {
        println!("channels: none");
    } else {
        println!("channels:");
        for channel in &settings.channels {
            println!("  {}", channel.label());
        }
    }
}
