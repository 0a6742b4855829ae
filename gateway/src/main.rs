//! The `docent` command: serve the bots, and check, train, deploy and manage them from the shell.
//!
//! Exit codes: 0 success (and `check`: ready to deploy), 1 error, 2 bad arguments,
//! 10 `check`: needs update (outdated), 20 `check`: cannot deploy; 10 `kb lint` and `doctor`: findings;
//! 10 `monitor`: a question failed; 10 `deploy --hotfix`: a rule breached during the watch.

mod cli;

use std::io::{BufRead, Write};

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use docent_gateway::serve;

use cli::{AccessCommand, AdminCommand, Env, PlanCommand};

#[derive(Parser)]
#[command(name = "docent", version, about = "Docent: an embeddable chat widget and its gateway")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the widget and every bot in the bots folder.
    Serve(serve::ServeArgs),
    /// Check whether bots are ready to deploy (exit 0), outdated (10) or cannot be deployed (20).
    Check {
        /// The bot; every bot in the bots folder when left out.
        bot: Option<String>,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        env: Env,
    },
    /// Build a generation of a bot from its sources, without making it live.
    Train {
        bot: String,
        #[command(flatten)]
        env: Env,
    },
    /// Deploy a bot now (progress per phase), or schedule the deploy with --at.
    Deploy {
        bot: String,
        /// When to deploy (UTC): 2026-11-25T02:00:00Z, "2026-11-25 02:00", or a delay like +30m.
        #[arg(long)]
        at: Option<String>,
        #[arg(long)]
        json: bool,
        /// Run only the tests marked `critical = true`, deploy, then watch the live bot's error
        /// and success rates (exit 10 on a breach).
        #[arg(long, conflicts_with = "at")]
        hotfix: bool,
        /// How long a hotfix is watched: 30s, 15m (up to 60m).
        #[arg(long, default_value = "15m", value_parser = docent_gateway::watch::parse_interval, requires = "hotfix")]
        watch: std::time::Duration,
        /// How often the rates are judged during the watch.
        #[arg(long, default_value = "5s", value_parser = docent_gateway::watch::parse_interval, requires = "hotfix")]
        watch_every: std::time::Duration,
        #[command(flatten)]
        env: Env,
    },
    /// Show Deployed, Updating, Offline, Outdated or Scheduled, the live generation, and who deployed it.
    Status {
        bot: Option<String>,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        env: Env,
    },
    /// List a bot's past deploys and the generations kept on disk.
    History {
        bot: String,
        /// How many deploys to list.
        #[arg(long, default_value_t = 20)]
        limit: usize,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        env: Env,
    },
    /// Make an earlier generation live again (the previous one by default): no rebuild.
    Rollback {
        bot: String,
        /// The generation to go back to.
        #[arg(long)]
        to: Option<u64>,
        #[command(flatten)]
        env: Env,
    },
    /// Put a bot online now, or at --at (exact to the second).
    Activate {
        bot: String,
        #[arg(long)]
        at: Option<String>,
        #[command(flatten)]
        env: Env,
    },
    /// Take a bot offline: it answers 503 bot_offline until activated.
    Deactivate {
        bot: String,
        #[command(flatten)]
        env: Env,
    },
    /// List scheduled deploys and activations.
    Schedules {
        bot: Option<String>,
        #[command(flatten)]
        env: Env,
    },
    /// Cancel a pending schedule by its number.
    Unschedule {
        id: i64,
        #[command(flatten)]
        env: Env,
    },
    /// Run-time access of a bot: visibility, password, access tokens, site secret.
    Access {
        bot: String,
        #[command(subcommand)]
        command: AccessCommand,
        #[command(flatten)]
        env: Env,
    },
    /// A bot's plan: message and storage limits, expiry, and this month's use.
    Plan {
        bot: String,
        #[command(subcommand)]
        command: PlanCommand,
        #[command(flatten)]
        env: Env,
    },
    /// Admin tokens for the console and the admin API.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
        #[command(flatten)]
        env: Env,
    },
    /// Show the audit log, newest first.
    Audit {
        bot: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: usize,
        #[command(flatten)]
        env: Env,
    },
    /// Write the store and the live artifacts to FILE (a tar), or with --verify prove FILE restores.
    Backup {
        file: std::path::PathBuf,
        /// Restore FILE into a temporary directory and open every live generation.
        #[arg(long)]
        verify: bool,
        #[command(flatten)]
        env: Env,
    },
    /// Restore a backup into the (empty or new) data directory.
    Restore {
        file: std::path::PathBuf,
        #[command(flatten)]
        env: Env,
    },
    /// Print the ranked knowledge-base hits for a query, to debug search.
    Search(cli::debug::SearchArgs),
    /// Print the reply the widget would receive for a question.
    Ask(cli::debug::AskArgs),
    /// Check a customer's page: the snippet, the widget files, the bot, its origin and the CSP.
    ///
    /// Fetches the page as a browser would (redirects followed, TLS with the system's roots),
    /// then prints each check as ✓ or ✗ with the exact fix. Next to the data directory it also
    /// reads the bot's status, last deploy, plan and allowlist. Private and loopback addresses
    /// are refused unless --allow-private. Exit codes: 0 every check passed, 10 a check failed,
    /// 1 error.
    Doctor(cli::doctor::DoctorArgs),
    /// Check a bot's knowledge: duplicate and conflicting Q&As, empty answers, long sections.
    Kb {
        #[command(subcommand)]
        command: cli::kb::KbCommand,
    },
    /// Print a bot's operational records (deploys, errors, refusals) as CSV or JSON, newest first.
    Logs(cli::logs::LogsArgs),
    /// Probe gateways' /healthz from outside, record uptime, and send downtime (and other) alerts.
    Watch(docent_gateway::watch::WatchArgs),
    /// Ask a bot's [[test]] questions of the live bot now, through --public-url with an allowed
    /// Origin, as the scheduled continuous tests do. Exit codes: 0 passed, 10 a question failed.
    Monitor(cli::monitor::MonitorArgs),
    /// A bot's alert settings (thresholds and notification channels) and its incidents.
    Alerts(cli::alerts::AlertsArgs),
    /// Write a bot's daily, weekly or monthly report (KPIs against targets, the period before,
    /// questions, peak usage) as an HTML summary, an Excel workbook or a PDF executive summary.
    Report(cli::report::ReportArgs),
    /// A bot's report schedules: daily, weekly or monthly reports sent to its channels.
    Reports(cli::reports::ReportsArgs),
    /// Seed a month of sample conversations for the console's analytics (used by `cargo xtask demo`).
    #[command(hide = true)]
    DemoData(cli::demo_data::DemoDataArgs),
    /// Read a password from standard input and print its argon2 hash for `bot.toml`.
    HashPassword,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("DOCENT_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,docent=info")),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(cli.command) {
        Ok(code) => std::process::ExitCode::from(code),
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(command: Command) -> anyhow::Result<u8> {
    match command {
        Command::Serve(args) => serve::run(args).map(|()| 0),
        Command::Check { bot, json, env } => cli::manage::check(&env, bot.as_deref(), json),
        Command::Train { bot, env } => cli::manage::train(&env, &bot).map(|()| 0),
        Command::Deploy { bot, at, json, hotfix, watch, watch_every, env } => {
            let hotfix = hotfix.then_some(cli::manage::Hotfix { window: watch, every: watch_every });
            cli::manage::deploy(&env, &bot, at.as_deref(), json, hotfix)
        }
        Command::Status { bot, json, env } => cli::manage::status(&env, bot.as_deref(), json).map(|()| 0),
        Command::History { bot, limit, json, env } => cli::manage::history(&env, &bot, limit, json).map(|()| 0),
        Command::Rollback { bot, to, env } => cli::manage::rollback(&env, &bot, to).map(|()| 0),
        Command::Activate { bot, at, env } => cli::manage::activate(&env, &bot, at.as_deref()).map(|()| 0),
        Command::Deactivate { bot, env } => cli::manage::deactivate(&env, &bot).map(|()| 0),
        Command::Schedules { bot, env } => cli::manage::schedules(&env, bot.as_deref()).map(|()| 0),
        Command::Unschedule { id, env } => cli::manage::unschedule(&env, id).map(|()| 0),
        Command::Access { bot, command, env } => cli::settings::access(&env, &bot, command).map(|()| 0),
        Command::Plan { bot, command, env } => cli::settings::plan(&env, &bot, command).map(|()| 0),
        Command::Admin { command, env } => cli::settings::admin(&env, command).map(|()| 0),
        Command::Audit { bot, limit, env } => cli::settings::audit(&env, bot.as_deref(), limit).map(|()| 0),
        Command::Backup { file, verify, env } => cli::settings::backup(&env, &file, verify).map(|()| 0),
        Command::Restore { file, env } => cli::settings::restore(&env, &file).map(|()| 0),
        Command::Search(args) => cli::debug::search(args).map(|()| 0),
        Command::Ask(args) => cli::debug::ask(args).map(|()| 0),
        Command::Doctor(args) => cli::doctor::run(args),
        Command::Kb { command } => cli::kb::run(command),
        Command::Logs(args) => cli::logs::run(args).map(|()| 0),
        Command::Watch(args) => docent_gateway::watch::run(args).map(|()| 0),
        Command::Monitor(args) => cli::monitor::run(args),
        Command::Alerts(args) => cli::alerts::run(args).map(|()| 0),
        Command::Report(args) => cli::report::run(args).map(|()| 0),
        Command::Reports(args) => cli::reports::run(args).map(|()| 0),
        Command::DemoData(args) => cli::demo_data::run(args).map(|()| 0),
        Command::HashPassword => {
            eprintln!("reading the password from standard input (one line)");
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line).context("cannot read standard input")?;
            let password = line.trim_end_matches(['\r', '\n']);
            if password.is_empty() {
                bail!("the password is empty");
            }
            let hash = docent_lifecycle::access::hash_password(password)?;
            let mut out = std::io::stdout().lock();
            writeln!(out, "{hash}")?;
            Ok(0)
        }
    }
}
