//! `docent search | ask`: debug a bot's answers from the shell, one query or many (`--stdin`, JSON Lines).
//!
//! The bot is loaded once: its live generation from the data directory when it was
//! deployed there, else its sources indexed in RAM.

use std::io::{BufRead, Write};
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Args;
use docent_indexer::{BuildOptions, KnowledgeBase};
use docent_lifecycle::config::{self, BotConfig};
use docent_lifecycle::{Lifecycle, reply};
use docent_protocol::MessageReply;

use super::Env;

#[derive(Args)]
pub(crate) struct SearchArgs {
    bot: String,
    /// The query; with --stdin, one query per line instead.
    query: Option<String>,
    /// Read queries from standard input, one per line.
    #[arg(long)]
    stdin: bool,
    /// Print JSON (one line per query with --stdin).
    #[arg(long)]
    json: bool,
    /// How many hits to print.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u16).range(1..=100))]
    top: u16,
    #[command(flatten)]
    env: Env,
}

#[derive(Args)]
pub(crate) struct AskArgs {
    bot: String,
    /// The question; with --stdin, one question per line instead.
    question: Option<String>,
    #[arg(long)]
    stdin: bool,
    /// Print the JSON body exactly as the HTTP API sends it (one line per question with --stdin).
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    env: Env,
}

/// The bot's folder in the bots folder, once its id is checked (the folder may not exist).
pub(crate) fn bot_dir(env: &Env, bot: &str) -> anyhow::Result<PathBuf> {
    if !config::is_valid_bot_id(bot) {
        bail!("\"{bot}\" is not a bot id: ids are lowercase letters, digits and '-'");
    }
    Ok(env.paths.bots.join(bot))
}

/// The bot's config and index: the live generation if the data directory has one.
fn load(env: &Env, bot: &str) -> anyhow::Result<(BotConfig, KnowledgeBase)> {
    let dir = bot_dir(env, bot)?;
    let options = env.options()?;
    if env.paths.has_store() {
        let lifecycle = Lifecycle::open(options.clone())?;
        if let Some(live) = lifecycle.open_live(bot)? {
            return Ok(live);
        }
    }
    if !dir.is_dir() {
        bail!(
            "no bot named \"{bot}\" in {} and none deployed in {}",
            env.paths.bots.display(),
            env.paths.data.display()
        );
    }
    let config = config::load(&dir.join("bot.toml"), bot)?;
    let build = BuildOptions { settings: &config.search, embedder: options.embedder.as_ref(), embedding_cache: None };
    let knowledge = KnowledgeBase::build(&dir.join("knowledge"), &build)
        .with_context(|| format!("cannot index {}", dir.join("knowledge").display()))?;
    Ok((config, knowledge))
}

/// The inputs: the one given, or every non-empty line of standard input.
fn inputs(one: Option<String>, stdin: bool, what: &str) -> anyhow::Result<Vec<String>> {
    match (one, stdin) {
        (Some(one), false) => Ok(vec![one]),
        (None, true) => {
            let mut lines = Vec::new();
            for line in std::io::stdin().lock().lines() {
                let line = line.context("cannot read standard input")?;
                if !line.trim().is_empty() {
                    lines.push(line);
                }
            }
            Ok(lines)
        }
        (Some(_), true) => bail!("give a {what} or --stdin, not both"),
        (None, false) => bail!("give a {what}, or --stdin to read one per line"),
    }
}

pub(crate) fn search(args: SearchArgs) -> anyhow::Result<()> {
    let queries = inputs(args.query, args.stdin, "query")?;
    let (_, knowledge) = load(&args.env, &args.bot)?;
    let mut out = std::io::stdout().lock();
    for query in queries {
        let hits = knowledge.search(&query, usize::from(args.top))?;
        if args.json && args.stdin {
            writeln!(out, "{}", serde_json::json!({ "query": query, "hits": hits }))?;
        } else if args.json {
            writeln!(out, "{}", serde_json::to_string_pretty(&hits)?)?;
        } else if hits.is_empty() {
            writeln!(out, "{query}: no hits")?;
        } else {
            for (rank, hit) in hits.iter().enumerate() {
                writeln!(out, "{:>2}. {:>7.3}  {:?}  {}  {}", rank + 1, hit.score, hit.kind, hit.source, hit.title)?;
                writeln!(out, "              {}", hit.snippet)?;
            }
        }
    }
    Ok(())
}

pub(crate) fn ask(args: AskArgs) -> anyhow::Result<()> {
    let questions = inputs(args.question, args.stdin, "question")?;
    let (config, knowledge) = load(&args.env, &args.bot)?;
    let mut out = std::io::stdout().lock();
    for question in questions {
        let reply = reply::reply(&config, &knowledge, &question)?;
        if args.json {
            let conversation_id = format!("c_{}", docent_gateway::auth::random_hex::<16>()?);
            let body = MessageReply { conversation_id, reply };
            if args.stdin {
                // The HTTP body, with the question it answers in front.
                let mut line = serde_json::json!({ "question": question });
                if let (Some(line), serde_json::Value::Object(body)) =
                    (line.as_object_mut(), serde_json::to_value(&body)?)
                {
                    line.extend(body);
                }
                writeln!(out, "{line}")?;
            } else {
                writeln!(out, "{}", serde_json::to_string_pretty(&body)?)?;
            }
        } else {
            writeln!(out, "[{:?}] {}", reply.kind, reply.text)?;
            for source in &reply.sources {
                writeln!(out, "  source: {} ({})", source.title, source.url.as_deref().unwrap_or(&source.source))?;
            }
            if let Some(handoff) = &reply.handoff {
                writeln!(out, "  handoff: {} <{}>", handoff.label, handoff.url)?;
            }
        }
    }
    Ok(())
}
