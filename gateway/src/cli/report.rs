//! `docent report BOT`: a bot's daily, weekly or monthly report from the store, written as an
//! HTML summary, an Excel workbook or a PDF executive summary, or sent to the bot's channels.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use docent_analytics::report::{Report, ReportFile};
use docent_gateway::recorder::parse_moment;
use docent_gateway::report_delivery::{deliver, report_channels, report_notice};
use docent_lifecycle::store::events::day_of;
use docent_lifecycle::when::now;

use super::Env;
use super::reports::{FormatArg, PeriodArg};

#[derive(Args)]
pub(crate) struct ReportArgs {
    bot: String,
    /// The day, the 7 days, or the calendar month before --until.
    #[arg(long, value_enum)]
    period: PeriodArg,
    /// One format, or several separated by commas (`pdf,xlsx`).
    #[arg(long, value_enum, value_delimiter = ',', required = true)]
    format: Vec<FormatArg>,
    /// The end of the period, excluded (UTC): 2026-12-01, "2026-12-01 06:00", RFC 3339, or a
    /// time ago like -2d. Default: today at 00:00 UTC, so the period is whole past days.
    #[arg(long)]
    until: Option<String>,
    /// Where to write the report (one format only); `-` for standard output. Default: each
    /// file's own name (`BOT-weekly-2026-11-24.pdf`) in the current directory.
    #[arg(long, conflicts_with = "send")]
    out: Option<PathBuf>,
    /// Send the files to the bot's channels (`docent alerts BOT set`; SMS excepted) instead of
    /// writing them: attached to e-mails, base64 in generic webhooks, the summary alone in
    /// Slack and Teams.
    #[arg(long)]
    send: bool,
    /// With --send: let webhooks reach loopback and private addresses.
    #[arg(long, requires = "send")]
    fetch_private: bool,
    #[command(flatten)]
    env: Env,
}

pub(crate) fn run(args: ReportArgs) -> anyhow::Result<()> {
    let now = now();
    let until = match args.until.as_deref() {
        Some(text) => parse_moment(text, now).map_err(anyhow::Error::msg).context("bad --until")?,
        None => day_of(now),
    };
    let period = args.period.period();
    let formats = FormatArg::formats(&args.format);
    if args.out.is_some() && formats.len() > 1 {
        anyhow::bail!("--out takes one file: give one --format, or leave --out out to write each under its own name");
    }
    let lifecycle = args.env.open()?;
    lifecycle.require_bot(&args.bot)?;
    let report = Report::build(lifecycle.store(), &args.bot, period, until)
        .with_context(|| format!("cannot read the figures of {} for its report", args.bot))?;
    let files = formats.into_iter().map(|format| report.render(format)).collect::<Result<Vec<_>, _>>()?;
    if report.is_empty() {
        eprintln!("no conversations in this period");
    }
    if args.send {
        return send(&lifecycle, &report, files, args.fetch_private);
    }
    for file in files {
        let out = args.out.clone().unwrap_or_else(|| PathBuf::from(&file.name));
        if out.as_os_str() == "-" {
            std::io::stdout().lock().write_all(&file.bytes).context("cannot write the report to standard output")?;
        } else {
            std::fs::write(&out, &file.bytes)
                .with_context(|| format!("cannot write the report to {}", out.display()))?;
            eprintln!("{}: {} ({} bytes)", out.display(), report.subject(), file.bytes.len());
        }
    }
    Ok(())
}

/// Sends the files to the bot's channels and says how each went.
fn send(
    lifecycle: &docent_lifecycle::Lifecycle,
    report: &Report,
    files: Vec<ReportFile>,
    allow_private: bool,
) -> anyhow::Result<()> {
    let bot = report.bot();
    let channels = report_channels(lifecycle.store(), bot)?;
    if channels.is_empty() {
        anyhow::bail!("{bot} has no channel that takes reports; add one with `docent alerts {bot} set FILE`");
    }
    let notice = report_notice(report, files);
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let sent = runtime.block_on(deliver(&channels, &notice, allow_private));
    let failed = sent.iter().filter(|sent| sent.result.is_err()).count();
    for sent in &sent {
        match &sent.result {
            Ok(()) => println!("✓ {}", sent.label),
            Err(err) => println!("✗ {}: {err}", sent.label),
        }
    }
    if failed > 0 {
        anyhow::bail!("{failed} of {} channels failed to take the report", sent.len());
    }
    println!("{}: sent to {} channels", report.subject(), sent.len());
    Ok(())
}
