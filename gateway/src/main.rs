//! The `docent` command: serve the bots, check them, or search and ask one from the shell.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use docent_gateway::registry::Bot;
use docent_gateway::{auth, serve};
use docent_lifecycle::config;
use docent_protocol::MessageReply;

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
    /// Load every bot's config and knowledge, report all problems, and print a summary.
    Check(BotsArg),
    /// Print the ranked knowledge-base hits for a query, to debug search.
    Search {
        bot: String,
        query: String,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// How many hits to print.
        #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u16).range(1..=100))]
        top: u16,
        #[command(flatten)]
        bots: BotsArg,
    },
    /// Print the reply the widget would receive for a question.
    Ask {
        bot: String,
        question: String,
        /// Print the JSON body exactly as the HTTP API sends it.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        bots: BotsArg,
    },
    /// Read a password from standard input and print its argon2 hash for `bot.toml`.
    HashPassword,
}

#[derive(Args)]
struct BotsArg {
    /// The bots folder: one folder per bot, named by its id.
    #[arg(long = "bots", default_value = "bots", env = "DOCENT_BOTS")]
    dir: PathBuf,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("DOCENT_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(cli.command) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve(args) => serve::run(args),
        Command::Check(bots) => {
            let registry = serve::load_registry(&bots.dir)?;
            for bot in registry.iter() {
                let stats = bot.knowledge.stats();
                println!(
                    "{}: {} ({:?}), {} Q&A pairs, {} documents, {} passages, {} files skipped",
                    bot.config.id,
                    bot.config.name,
                    bot.config.visibility,
                    stats.qa_pairs,
                    stats.documents,
                    stats.passages,
                    stats.skipped.len()
                );
            }
            Ok(())
        }
        Command::Search { bot, query, json, top, bots } => {
            let bot = load_bot(&bots.dir, &bot)?;
            let hits = bot.knowledge.search(&query, usize::from(top))?;
            if json {
                println!("{}", serde_json::to_string_pretty(&hits)?);
            } else if hits.is_empty() {
                println!("no hits");
            } else {
                for (rank, hit) in hits.iter().enumerate() {
                    println!("{:>2}. {:>7.3}  {:?}  {}  {}", rank + 1, hit.score, hit.kind, hit.source, hit.title);
                    println!("              {}", hit.snippet);
                }
            }
            Ok(())
        }
        Command::Ask { bot, question, json, bots } => {
            let bot = load_bot(&bots.dir, &bot)?;
            let reply = bot.reply(&question)?;
            if json {
                let conversation_id = format!("c_{}", auth::random_hex::<16>()?);
                println!("{}", serde_json::to_string_pretty(&MessageReply { conversation_id, reply })?);
            } else {
                println!("[{:?}] {}", reply.kind, reply.text);
                for source in &reply.sources {
                    println!("  source: {} ({})", source.title, source.url.as_deref().unwrap_or(&source.source));
                }
                if let Some(handoff) = &reply.handoff {
                    println!("  handoff: {} <{}>", handoff.label, handoff.url);
                }
            }
            Ok(())
        }
        Command::HashPassword => {
            eprintln!("reading the password from standard input (one line)");
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line).context("cannot read standard input")?;
            let password = line.trim_end_matches(['\r', '\n']);
            if password.is_empty() {
                bail!("the password is empty");
            }
            let hash = auth::hash_password(password).map_err(|err| anyhow::anyhow!("cannot hash: {err}"))?;
            let mut out = std::io::stdout().lock();
            writeln!(out, "{hash}")?;
            Ok(())
        }
    }
}

fn load_bot(bots_dir: &Path, id: &str) -> anyhow::Result<Bot> {
    if !config::is_valid_bot_id(id) {
        bail!("\"{id}\" is not a bot id: ids are lowercase letters, digits and '-'");
    }
    let dir = bots_dir.join(id);
    if !dir.is_dir() {
        bail!("no bot named \"{id}\" in {}", bots_dir.display());
    }
    Ok(Bot::load(&dir)?)
}
