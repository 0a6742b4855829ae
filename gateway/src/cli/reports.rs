//! `docent reports BOT`: a bot's report schedules — daily, weekly or monthly reports in chosen
//! formats that the gateways send to the bot's channels.

use clap::{Args, Subcommand, ValueEnum};
use docent_analytics::report::{Format, Period};
use docent_gateway::report_delivery::{self, report_channels};
use docent_lifecycle::when::{self, now};

use super::Env;

#[derive(Args)]
pub(crate) struct ReportsArgs {
    bot: String,
    #[command(subcommand)]
    command: ReportsCommand,
    #[command(flatten)]
    env: Env,
}

#[derive(Subcommand)]
enum ReportsCommand {
    /// List the bot's schedules: period, formats, next and last sending.
    List,
    /// Send the bot's report of each whole period to its channels (`docent alerts BOT set`,
    /// SMS excepted): at 00:00 UTC for a day, Mondays for a week, the 1st for a month.
    /// Replaces the bot's schedule of the same period.
    Schedule {
        #[arg(long, value_enum)]
        period: PeriodArg,
        /// One format, or several separated by commas (`pdf,xlsx`).
        #[arg(long, value_enum, value_delimiter = ',', required = true)]
        format: Vec<FormatArg>,
    },
    /// Stop sending the bot's report of that period.
    Unschedule {
        #[arg(long, value_enum)]
        period: PeriodArg,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum PeriodArg {
    Day,
    Week,
    Month,
}

impl PeriodArg {
    pub(crate) fn period(self) -> Period {
        match self {
            PeriodArg::Day => Period::Day,
            PeriodArg::Week => Period::Week,
            PeriodArg::Month => Period::Month,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum FormatArg {
    Html,
    Xlsx,
    Pdf,
}

impl FormatArg {
    /// The formats asked for, each once, in the order given.
    pub(crate) fn formats(args: &[FormatArg]) -> Vec<Format> {
        let mut formats: Vec<Format> = Vec::new();
        for arg in args {
            let format = match arg {
                FormatArg::Html => Format::Html,
                FormatArg::Xlsx => Format::Xlsx,
                FormatArg::Pdf => Format::Pdf,
            };
            if !formats.contains(&format) {
                formats.push(format);
            }
        }
        formats
    }
}

pub(crate) fn run(args: ReportsArgs) -> anyhow::Result<()> {
    let lifecycle = args.env.open()?;
    let bot = args.bot.as_str();
    lifecycle.require_bot(bot)?;
    match args.command {
        ReportsCommand::List => {
            let schedules = lifecycle.store().report_schedules(Some(bot))?;
            if schedules.is_empty() {
                println!("{bot} has no report schedule");
            }
            for schedule in schedules {
                let last = schedule.last_sent_at.map_or_else(|| "never".to_owned(), when::format);
                println!(
                    "{:<6} {:<15} next {}  last {last}",
                    schedule.period,
                    schedule.formats.join(","),
                    when::format(schedule.next_at)
                );
            }
        }
        ReportsCommand::Schedule { period, format } => {
            let schedule = report_delivery::set_schedule(
                &lifecycle,
                bot,
                period.period(),
                &FormatArg::formats(&format),
                &args.env.actor(),
                now(),
            )?;
            println!(
                "{} report of {bot} as {}, next at {}",
                period.period().adjective().to_lowercase(),
                schedule.formats.join(","),
                when::format(schedule.next_at)
            );
            if report_channels(lifecycle.store(), bot)?.is_empty() {
                eprintln!(
                    "warning: {bot} has no channel that takes reports yet; add one with `docent alerts {bot} set FILE`"
                );
            }
        }
        ReportsCommand::Unschedule { period } => {
            if report_delivery::remove_schedule(&lifecycle, bot, period.period(), &args.env.actor(), now())? {
                println!("the {} report of {bot} is no longer sent", period.period().adjective().to_lowercase());
            } else {
                anyhow::bail!("{bot} has no {} report schedule", period.period().adjective().to_lowercase());
            }
        }
    }
    Ok(())
}
