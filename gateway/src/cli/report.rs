//! `docent report BOT`: a bot's daily, weekly or monthly report from the store, written as an
//! HTML summary, an Excel workbook or a PDF executive summary.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, ValueEnum};
use docent_analytics::report::{Format, Period, Report};
use docent_gateway::recorder::parse_moment;
use docent_lifecycle::store::events::day_of;
use docent_lifecycle::when::now;

use super::Env;

#[derive(Args)]
pub(crate) struct ReportArgs {
    bot: String,
    /// The day, the 7 days, or the calendar month before --until.
    #[arg(long, value_enum)]
    period: PeriodArg,
    #[arg(long, value_enum)]
    format: FormatArg,
    /// The end of the period, excluded (UTC): 2026-12-01, "2026-12-01 06:00", RFC 3339, or a
    /// time ago like -2d. Default: today at 00:00 UTC, so the period is whole past days.
    #[arg(long)]
    until: Option<String>,
    /// Where to write the report; `-` for standard output. Default: the report's own name
    /// (`BOT-weekly-2026-11-24.pdf`) in the current directory.
    #[arg(long)]
    out: Option<PathBuf>,
    #[command(flatten)]
    env: Env,
}

#[derive(Clone, Copy, ValueEnum)]
enum PeriodArg {
    Day,
    Week,
    Month,
}

#[derive(Clone, Copy, ValueEnum)]
enum FormatArg {
    Html,
    Xlsx,
    Pdf,
}

pub(crate) fn run(args: ReportArgs) -> anyhow::Result<()> {
    let now = now();
    let until = match args.until.as_deref() {
        Some(text) => parse_moment(text, now).map_err(anyhow::Error::msg).context("bad --until")?,
        None => day_of(now),
    };
    let period = match args.period {
        PeriodArg::Day => Period::Day,
        PeriodArg::Week => Period::Week,
        PeriodArg::Month => Period::Month,
    };
    let format = match args.format {
        FormatArg::Html => Format::Html,
        FormatArg::Xlsx => Format::Xlsx,
        FormatArg::Pdf => Format::Pdf,
    };
    let lifecycle = args.env.open()?;
    lifecycle.require_bot(&args.bot)?;
    let report = Report::build(lifecycle.store(), &args.bot, period, until)
        .with_context(|| format!("cannot read the figures of {} for its report", args.bot))?;
    let file = report.render(format)?;
    let out = args.out.unwrap_or_else(|| PathBuf::from(&file.name));
    if out.as_os_str() == "-" {
        std::io::stdout().lock().write_all(&file.bytes).context("cannot write the report to standard output")?;
    } else {
        std::fs::write(&out, &file.bytes).with_context(|| format!("cannot write the report to {}", out.display()))?;
        eprintln!("{}: {} ({} bytes)", out.display(), report.subject(), file.bytes.len());
    }
    if report.is_empty() {
        eprintln!("no conversations in this period");
    }
    Ok(())
}
