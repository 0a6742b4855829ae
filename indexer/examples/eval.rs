//! Scores retrieval and replies on evaluation sets: `cargo xtask eval` runs it.
//!
//! For each set (a TOML file of `[[case]] question / expect`, with `knowledge`
//! naming the knowledge folder relative to the file, the demo bot's by default)
//! it builds the knowledge base lexical-only and hybrid, and prints top-1,
//! MRR@10, nDCG@10, the reply split and the off-topic false-answer rate,
//! with a reference BM25 (PyPI `bm25s` + `PyStemmer`, run by
//! `demo/eval/bm25_reference.py`) beside each retrieval figure.
//!
//! `cargo run -p docent-indexer --example eval -- demo/eval/brightwater.toml demo/eval/debian-faq.toml`
//! (`DOCENT_MODEL` names the model folder; `--dump` prints every case).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use docent_indexer::{BuildOptions, Embedder, HitKind, KnowledgeBase, Outcome, SearchSettings, SemanticMode};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EvalSet {
    /// Knowledge folder relative to the set's file.
    knowledge: Option<String>,
    case: Vec<Case>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    question: String,
    /// Source to answer from, or `none`.
    expect: String,
    /// For `none`: the question is about the knowledge's topic, only not answered by it.
    #[serde(default)]
    on_topic: bool,
}

/// Retrieval figures over the answerable cases.
#[derive(Default)]
struct Retrieval {
    top1: f64,
    mrr: f64,
    ndcg: f64,
}

impl Retrieval {
    fn of(rankings: &[(Vec<String>, &str)]) -> Retrieval {
        let n = rankings.len().max(1) as f64;
        let mut out = Retrieval::default();
        for (ranking, expect) in rankings {
            if let Some(rank) = ranking.iter().take(10).position(|source| source == expect) {
                out.top1 += f64::from(u8::from(rank == 0));
                out.mrr += 1.0 / (rank as f64 + 1.0);
                out.ndcg += 1.0 / (rank as f64 + 2.0).log2();
            }
        }
        Retrieval { top1: out.top1 / n, mrr: out.mrr / n, ndcg: out.ndcg / n }
    }
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dump = args.iter().any(|arg| arg == "--dump");
    let sets: Vec<PathBuf> = args.iter().filter(|arg| !arg.starts_with("--")).map(PathBuf::from).collect();
    if sets.is_empty() {
        bail!("usage: eval [--dump] SET.toml...");
    }
    let model_dir = docent_indexer::default_model_dir().context("no model folder: set DOCENT_MODEL")?;
    let started = Instant::now();
    let embedder = Arc::new(Embedder::load(&model_dir)?);
    println!("model {} loaded in {:.2} s", embedder.id(), started.elapsed().as_secs_f64());
    let cache = std::env::temp_dir().join("docent-eval-embeddings");
    for set in &sets {
        evaluate(set, &embedder, &cache, dump).with_context(|| format!("eval set {}", set.display()))?;
    }
    Ok(())
}

fn evaluate(path: &Path, embedder: &Arc<Embedder>, cache: &Path, dump: bool) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(path)?;
    let set: EvalSet = toml::from_str(&text)?;
    let base = path.parent().unwrap_or(Path::new("."));
    let knowledge = match &set.knowledge {
        Some(dir) => base.join(dir),
        None => base.join("../bots/brightwater/knowledge"),
    };
    let lexical_settings = SearchSettings { semantic: SemanticMode::Off, ..SearchSettings::default() };
    let lexical = KnowledgeBase::build(
        &knowledge,
        &BuildOptions { settings: &lexical_settings, embedder: None, embedding_cache: None },
    )?;
    let settings = SearchSettings { semantic: SemanticMode::On, ..SearchSettings::default() };
    let started = Instant::now();
    let hybrid = KnowledgeBase::build(
        &knowledge,
        &BuildOptions { settings: &settings, embedder: Some(embedder), embedding_cache: Some(cache) },
    )?;
    let stats = hybrid.stats();
    println!(
        "\n== {} ({} cases; {} Q&A pairs, {} passages, {} vectors, {} embedded now, build {:.1} s)",
        path.display(),
        set.case.len(),
        stats.qa_pairs,
        stats.passages,
        stats.embedded,
        stats.newly_embedded,
        started.elapsed().as_secs_f64()
    );
    let reference = bm25_reference(&hybrid, &set.case)?;

    let answerable: Vec<&Case> = set.case.iter().filter(|c| c.expect != "none").collect();
    // Replies first: each question is new to the query-embedding cache, as a visitor's would be.
    for (name, kb) in [("docent lexical", &lexical), ("docent hybrid", &hybrid)] {
        let mut split: BTreeMap<&str, usize> = BTreeMap::new();
        let mut timings = Vec::new();
        for case in &set.case {
            let started = Instant::now();
            let outcome = kb.reply(&case.question)?;
            timings.push(started.elapsed());
            let label = label(case, &outcome);
            *split.entry(label).or_default() += 1;
            if dump {
                let ranked: Vec<String> = kb
                    .search(&case.question, 3)?
                    .into_iter()
                    .map(|h| {
                        format!("{} {:.3}{}", h.source, h.score, if h.kind == HitKind::Faq { " (faq)" } else { "" })
                    })
                    .collect();
                println!("  {name} [{label}] {:?} expect {} -> {}", case.question, case.expect, ranked.join(" | "));
            }
        }
        timings.sort();
        let p50 = timings.get(timings.len() / 2).copied().unwrap_or(Duration::ZERO);
        let count = |labels: &[&str]| labels.iter().map(|l| split.get(l).copied().unwrap_or(0)).sum::<usize>();
        let answerable = answerable.len().max(1) as f64;
        let off = set.case.iter().filter(|c| c.expect == "none" && !c.on_topic).count().max(1) as f64;
        let on = set.case.iter().filter(|c| c.expect == "none" && c.on_topic).count();
        println!(
            "{name}: answerable: right answer {:.1} %, suggestions holding it {:.1} %, other suggestions {:.1} %, unknown {:.1} %, wrong answer {:.1} %",
            100.0 * count(&["answer right"]) as f64 / answerable,
            100.0 * count(&["suggest right"]) as f64 / answerable,
            100.0 * count(&["suggest wrong"]) as f64 / answerable,
            100.0 * count(&["unknown (should answer)"]) as f64 / answerable,
            100.0 * count(&["answer wrong"]) as f64 / answerable,
        );
        println!(
            "  off-topic: falsely answered {:.1} %, suggestions {:.1} %; on-topic unanswered ({on}): answered {}, suggestions {}, unknown {}; reply p50 {:.1} ms",
            100.0 * count(&["off-topic answered"]) as f64 / off,
            100.0 * count(&["off-topic suggestions"]) as f64 / off,
            count(&["on-topic answered"]),
            count(&["on-topic suggestions"]),
            count(&["on-topic unknown"]),
            p50.as_secs_f64() * 1e3,
        );
    }
    let mut rows: Vec<(&str, Retrieval)> = Vec::new();
    for (name, kb) in [("docent lexical", &lexical), ("docent hybrid", &hybrid)] {
        let mut rankings = Vec::new();
        for case in &answerable {
            let hits = kb.search(&case.question, 10)?;
            let mut ranking: Vec<String> = Vec::new();
            for hit in hits {
                if !ranking.contains(&hit.source) {
                    ranking.push(hit.source);
                }
            }
            rankings.push((ranking, case.expect.as_str()));
        }
        rows.push((name, Retrieval::of(&rankings)));
    }
    if let Some(reference) = &reference {
        let rankings: Vec<(Vec<String>, &str)> = set
            .case
            .iter()
            .zip(reference)
            .filter(|(case, _)| case.expect != "none")
            .map(|(case, ranking)| (ranking.clone(), case.expect.as_str()))
            .collect();
        rows.push(("reference BM25", Retrieval::of(&rankings)));
    }
    println!("retrieval over {} answerable questions:", answerable.len());
    println!("  {:<16} {:>6} {:>7} {:>8}", "", "top-1", "MRR@10", "nDCG@10");
    for (name, r) in &rows {
        println!("  {name:<16} {:>6.3} {:>7.3} {:>8.3}", r.top1, r.mrr, r.ndcg);
    }
    if let (Some((_, hybrid)), Some((_, bm25))) = (rows.get(1), rows.get(2)) {
        println!("  hybrid / BM25: nDCG@10 x{:.2}, top-1 x{:.2}", hybrid.ndcg / bm25.ndcg, hybrid.top1 / bm25.top1);
    }

    Ok(())
}

fn label(case: &Case, outcome: &Outcome) -> &'static str {
    match (case.expect.as_str(), outcome) {
        ("none", Outcome::Answer(_)) if case.on_topic => "on-topic answered",
        ("none", Outcome::Suggestions(_)) if case.on_topic => "on-topic suggestions",
        ("none", Outcome::Unknown) if case.on_topic => "on-topic unknown",
        ("none", Outcome::Answer(_)) => "off-topic answered",
        ("none", Outcome::Suggestions(_)) => "off-topic suggestions",
        ("none", Outcome::Unknown) => "off-topic unknown",
        (expect, Outcome::Answer(answer)) => {
            if answer.sources.iter().any(|s| s.source == expect) {
                "answer right"
            } else {
                "answer wrong"
            }
        }
        (expect, Outcome::Suggestions(sources)) => {
            if sources.iter().any(|s| s.source == expect) {
                "suggest right"
            } else {
                "suggest wrong"
            }
        }
        (_, Outcome::Unknown) => "unknown (should answer)",
    }
}

/// Rankings of a reference BM25 (bm25s, English stemmer and stop words) over
/// the same sources, one text per source; `None` with a note when Python or
/// its packages are missing.
fn bm25_reference(kb: &KnowledgeBase, cases: &[Case]) -> anyhow::Result<Option<Vec<Vec<String>>>> {
    let mut corpus: BTreeMap<String, String> = BTreeMap::new();
    for item in kb.items()? {
        let text = corpus.entry(item.source).or_default();
        if text.is_empty() {
            text.push_str(&item.title);
            for phrasing in &item.also {
                text.push_str(". ");
                text.push_str(phrasing);
            }
        }
        text.push_str(". ");
        text.push_str(&item.text);
    }
    let input = serde_json::json!({
        "corpus": corpus.iter().map(|(id, text)| serde_json::json!({"id": id, "text": text})).collect::<Vec<_>>(),
        "queries": cases.iter().map(|c| c.question.as_str()).collect::<Vec<_>>(),
    });
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../demo/eval/bm25_reference.py");
    let mut child = match std::process::Command::new("python3")
        .arg(&script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
    {
        Ok(child) => child,
        Err(err) => {
            println!("reference BM25 skipped: cannot run python3: {err}");
            return Ok(None);
        }
    };
    if let Some(mut stdin) = child.stdin.take() {
        use std::io::Write;
        stdin.write_all(input.to_string().as_bytes())?;
    }
    let output = child.wait_with_output()?;
    if !output.status.success() {
        println!("reference BM25 skipped: {} failed (python3 -m pip install bm25s PyStemmer)", script.display());
        return Ok(None);
    }
    Ok(Some(serde_json::from_slice(&output.stdout).context("reference BM25 output")?))
}
