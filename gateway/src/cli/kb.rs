//! `docent kb lint`: check a bot's knowledge folder for near-duplicate and conflicting Q&As,
//! empty answers and sections too long to be a good answer.

use std::io::Write;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use docent_gateway::options::load_model;
use docent_indexer::{CONFLICT_COSINE, DUPLICATE_COSINE, LintReport, MAX_SECTION_CHARS, SimilarQas};

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
    }
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
