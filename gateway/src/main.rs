//! The `docent` command: serve the bots, check them, or search and ask one from the shell.

use std::io::{BufRead, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use docent_gateway::assets::WidgetAssets;
use docent_gateway::http::AppState;
use docent_gateway::registry::{Bot, Registry};
use docent_gateway::{auth, config, demo_page, server};
use docent_protocol::MessageReply;
use tokio::net::TcpListener;

#[derive(Parser)]
#[command(name = "docent", version, about = "Docent: an embeddable chat widget and its gateway")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the widget and every bot in the bots folder.
    Serve(ServeArgs),
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

#[derive(Args)]
struct ServeArgs {
    #[command(flatten)]
    bots: BotsArg,
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080", env = "DOCENT_LISTEN")]
    listen: SocketAddr,
    /// Serve the widget from this folder instead of the build embedded in the binary.
    #[arg(long, env = "DOCENT_WIDGET_DIR")]
    widget_dir: Option<PathBuf>,
    /// Behind a CDN or proxy: the request header whose last address is the visitor's
    /// (e.g. X-Forwarded-For). Without it, the socket's peer address is used.
    #[arg(long, env = "DOCENT_CLIENT_IP_HEADER")]
    client_ip_header: Option<hyper::header::HeaderName>,
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
        Command::Serve(args) => serve(args),
        Command::Check(bots) => {
            let registry = load_registry(&bots.dir)?;
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

fn load_registry(dir: &Path) -> anyhow::Result<Registry> {
    Registry::load(dir).map_err(|errors| {
        let list: Vec<String> = errors.iter().map(|err| format!("  {err}")).collect();
        anyhow::anyhow!("cannot load the bots in {}:\n{}", dir.display(), list.join("\n"))
    })
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

fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let assets = match (&args.widget_dir, WidgetAssets::embedded()) {
        (Some(dir), _) => WidgetAssets::from_dir(dir),
        (None, Some(embedded)) => Ok(embedded),
        (None, None) => WidgetAssets::from_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/widget-dist")),
    }
    .map_err(anyhow::Error::msg)?;
    let registry = load_registry(&args.bots.dir)?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async {
        let listener =
            TcpListener::bind(args.listen).await.with_context(|| format!("cannot listen on {}", args.listen))?;
        let address = listener.local_addr()?;
        let base = format!("http://{address}");
        for bot in registry.iter() {
            let stats = bot.knowledge.stats();
            tracing::info!(
                bot = %bot.config.id,
                visibility = ?bot.config.visibility,
                qa_pairs = stats.qa_pairs,
                passages = stats.passages,
                "bot loaded"
            );
            println!("bot {:<12} demo page {base}/demo/{}", bot.config.id, bot.config.id);
            println!("  snippet: {}", demo_page::snippet(&base, &bot.config.id));
        }
        println!("docent is listening on {base} (Ctrl-C stops it)");
        let mut state = AppState::new(registry, assets);
        state.client_ip_header = args.client_ip_header;
        let state = Arc::new(state);
        server::serve(listener, state, shutdown_signal()).await;
        anyhow::Ok(())
    })
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(%err, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::error!(%err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
