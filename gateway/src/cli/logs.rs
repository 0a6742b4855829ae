//! `docent logs BOT`: a bot's operational records (deploys, errors, refusals, console actions) from the store, as CSV or JSON.

use anyhow::Context;
use clap::{Args, ValueEnum};
use docent_gateway::recorder::{logs_csv, operational_records, parse_moment};
use docent_lifecycle::store::{LogLevel, LogQuery};
use docent_lifecycle::when::now;

use super::Env;

#[derive(Args)]
pub(crate) struct LogsArgs {
    bot: String,
    /// From this time (UTC): 2026-11-01, "2026-11-01 08:00", RFC 3339, or a time ago like -24h, -7d.
    #[arg(long)]
    since: Option<String>,
    /// Until this time, excluded; same forms as --since.
    #[arg(long)]
    until: Option<String>,
    /// The lowest level shown.
    #[arg(long, value_enum)]
    level: Option<Level>,
    #[arg(long, value_enum, default_value_t = Format::Csv)]
    format: Format,
    /// At most this many records, newest first.
    #[arg(long, default_value_t = 10_000)]
    limit: usize,
    #[command(flatten)]
    env: Env,
}

#[derive(Clone, Copy, ValueEnum)]
enum Level {
    Info,
    Warning,
    Error,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Csv,
    Json,
}

pub(crate) fn run(args: LogsArgs) -> anyhow::Result<()> {
    let now = now();
    let moment = |text: &Option<String>, flag: &str| {
        text.as_deref()
            .map(|text| parse_moment(text, now).map_err(anyhow::Error::msg).with_context(|| format!("bad {flag}")))
            .transpose()
    };
    let query = LogQuery {
        bot: Some(args.bot.clone()),
        since: moment(&args.since, "--since")?,
        until: moment(&args.until, "--until")?,
        level: args.level.map(|level| match level {
            Level::Info => LogLevel::Info,
            Level::Warning => LogLevel::Warning,
            Level::Error => LogLevel::Error,
        }),
        limit: args.limit,
    };
    let lifecycle = args.env.open()?;
    lifecycle.require_bot(&args.bot)?;
    let records = operational_records(lifecycle.store(), &query)?;
    match args.format {
        Format::Csv => print!("{}", logs_csv(&records)),
        Format::Json => println!("{}", serde_json::to_string_pretty(&records)?),
    }
    Ok(())
}
