//! `docent kb lint`: check a bot's knowledge folder for near-duplicate and conflicting Q&As,
//! empty answers and sections too long to be a good answer; `docent kb import`: knowledge from
//! the owner's website.

use std::io::Write;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use docent_gateway::fetch::FetchLimits;
use docent_gateway::import::{ImportEvent, ImportOptions};
use docent_gateway::options::load_model;
use docent_indexer::{CONFLICT_COSINE, DUPLICATE_COSINE, LintReport, MAX_SECTION_CHARS, SimilarQas};
use indicatif::{ProgressBar, ProgressStyle};

use super::Env;
use super::debug::bot_dir;

/// Exit code of `kb lint` when it finds something (0: nothing found, 1: error).
const FINDINGS: u8 = 10;

#[derive(Subcommand)]
pub(crate) enum KbCommand {
    /// Check a bot's knowledge folder for duplicate and conflicting Q&As, empty answers and long sections.
    ///
    /// Reads the bot's sources in the bots folder, not a deployed generation. Near-duplicate Q&As
    /// are questions (or `also` phrasings) with a cosine of 0.90 or more; they conflict when their
    /// answers' cosine is below 0.80. Sections over 1,500 characters are too long to be a good
    /// answer. With --model (or DOCENT_MODEL) questions and answers are compared by meaning;
    /// without a model those checks are skipped and only identical questions (ignoring case and
    /// punctuation) are found.
    ///
    /// Exit codes: 0 nothing found, 10 something found, 1 error.
    Lint(LintArgs),
    /// Import a bot's knowledge from the owner's website into knowledge/import/.
    ///
    /// Crawls same-origin pages from URL (and the site's sitemap), within robots.txt, and writes
    /// each HTML page with the address it came from and when. FAQ markup on the pages becomes
    /// Q&A pairs at the next deploy; `docent check BOT` shows what changed. A re-import asks
    /// each page whether it changed (ETag, Last-Modified) and removes pages that are gone.
    Import(ImportArgs),
}

#[derive(Args)]
pub(crate) struct ImportArgs {
    /// The page to start from, e.g. https://shop.example/help/.
    url: String,
    #[arg(long)]
    bot: String,
    /// Pages fetched at most.
    #[arg(long, default_value_t = 200)]
    max_pages: usize,
    /// Links followed from the start page and the sitemap's pages.
    #[arg(long, default_value_t = 3)]
    depth: usize,
    /// Only paths starting with this (`*` matches anything); repeatable.
    #[arg(long)]
    include: Vec<String>,
    /// Never paths starting with this (`*` matches anything); repeatable.
    #[arg(long)]
    exclude: Vec<String>,
    /// Milliseconds between two requests to the site.
    #[arg(long, default_value_t = 500)]
    delay_ms: u64,
    /// Also fetch loopback and private addresses (a site on this machine or the local network).
    #[arg(long)]
    allow_private: bool,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    env: Env,
}

#[derive(Args)]
pub(crate) struct LintArgs {
    bot: String,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    env: Env,
}

pub(crate) fn run(command: KbCommand) -> anyhow::Result<u8> {
    match command {
        KbCommand::Lint(args) => lint(&args),
        KbCommand::Import(args) => import(&args),
    }
}

fn import(args: &ImportArgs) -> anyhow::Result<u8> {
    let dir = bot_dir(&args.env, &args.bot)?;
    if !dir.join("bot.toml").is_file() {
        bail!("no bot named \"{}\" in {}", args.bot, args.env.paths.bots.display());
    }
    let options = ImportOptions {
        start: args.url.clone(),
        max_pages: args.max_pages,
        depth: args.depth,
        include: args.include.clone(),
        exclude: args.exclude.clone(),
        delay: Duration::from_millis(args.delay_ms),
        limits: FetchLimits { allow_private: args.allow_private, ..FetchLimits::default() },
    };
    let target = dir.join("knowledge").join("import");
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {pos}/{len} pages  {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let report = runtime.block_on(docent_gateway::import::import(&target, &options, &mut |event| match event {
        ImportEvent::Progress { fetched, known, url } => {
            bar.set_length(known as u64);
            bar.set_position(fetched as u64);
            bar.set_message(url);
        }
        // The summary below lists what was left out.
        ImportEvent::Skipped { .. } => {}
    }));
    bar.finish_and_clear();
    let report = report.with_context(|| format!("cannot import {}", args.url))?;
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
        return Ok(0);
    }
    let shown = target.display();
    writeln!(
        out,
        "{} pages written, {} unchanged, {} removed into {shown} ({} requests in {:.1} s)",
        report.written.len(),
        report.unchanged.len(),
        report.removed.len(),
        report.requests,
        report.seconds
    )?;
    for (label, files) in [("+", &report.written), ("-", &report.removed)] {
        for file in files {
            writeln!(out, "  {label} {file}")?;
        }
    }
    for (url, reason) in &report.skipped {
        writeln!(out, "  skipped {url}: {reason}")?;
    }
    writeln!(out, "Review the files, then `docent check {}` and `docent deploy {}`.", args.bot, args.bot)?;
    Ok(0)
}

fn lint(args: &LintArgs) -> anyhow::Result<u8> {
    let dir = bot_dir(&args.env, &args.bot)?;
    if !dir.is_dir() {
        bail!("no bot named \"{}\" in {}", args.bot, args.env.paths.bots.display());
    }
    let embedder = args.env.paths.model.as_deref().map(load_model).transpose()?;
    let knowledge = dir.join("knowledge");
    let report = docent_indexer::lint(&knowledge, embedder.as_deref())
        .with_context(|| format!("cannot lint {}", knowledge.display()))?;
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
    } else {
        print(&mut out, &args.bot, &report)?;
    }
    Ok(if report.findings() == 0 { 0 } else { FINDINGS })
}

fn print(out: &mut impl Write, bot: &str, report: &LintReport) -> std::io::Result<()> {
    writeln!(out, "{bot}: {} Q&As, {} sections", report.qa_pairs, report.sections)?;
    let (duplicates, conflicts) = match &report.model {
        Some(model) => {
            writeln!(out, "  compared by meaning with {model}")?;
            (
                format!("near-duplicate Q&As (question cosine ≥ {DUPLICATE_COSINE:.2})"),
                format!("conflicting answers (near-duplicate questions, answer cosine < {CONFLICT_COSINE:.2})"),
            )
        }
        None => {
            writeln!(
                out,
                "  embedding checks skipped: no model given (--model or DOCENT_MODEL); Q&As compared by normalized text"
            )?;
            (
                "duplicate Q&As (same normalized question)".to_owned(),
                "conflicting answers (same normalized question, different answer)".to_owned(),
            )
        }
    };
    print_similar(out, &duplicates, &report.duplicates)?;
    print_similar(out, &conflicts, &report.conflicts)?;
    writeln!(out, "empty answers: {}", count(report.empty_answers.len()))?;
    for warning in &report.empty_answers {
        writeln!(out, "  {warning}")?;
    }
    writeln!(out, "sections over {MAX_SECTION_CHARS} characters: {}", count(report.long_sections.len()))?;
    for section in &report.long_sections {
        writeln!(
            out,
            "  {}  {} characters in {} passages  ({})",
            section.source, section.chars, section.passages, section.title
        )?;
    }
    match report.findings() {
        0 => writeln!(out, "nothing to fix"),
        n => writeln!(out, "{n} findings"),
    }
}

fn print_similar(out: &mut impl Write, heading: &str, found: &[SimilarQas]) -> std::io::Result<()> {
    writeln!(out, "{heading}: {}", count(found.len()))?;
    for qa in found {
        let answers = qa.answer_similarity.map(|s| format!(", answers {s:.2}")).unwrap_or_default();
        writeln!(out, "  {} ~ {}  ({:.2}{answers})", qa.first, qa.second, qa.similarity)?;
        writeln!(out, "    {:?} / {:?}", qa.phrasings[0], qa.phrasings[1])?;
    }
    Ok(())
}

/// `none`, or the number.
fn count(n: usize) -> String {
    if n == 0 { "none".to_owned() } else { n.to_string() }
}
