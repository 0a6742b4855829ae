//! Scores retrieval and replies on evaluation sets: `cargo xtask eval` runs it.
//!
//! For each set (a TOML file of `[[case]] question / expect`, with `knowledge`
//! naming the knowledge folder relative to the file, the demo bot's by default)
//! it builds the knowledge base lexical-only and hybrid, and prints top-1,
//! MRR@10, nDCG@10, the reply split and the off-topic false-answer rate,
//! with a reference BM25 (PyPI `bm25s` + `PyStemmer`, run by
//! `demo/eval/bm25_reference.py`) beside each retrieval figure. A set with
//! `faq_answers = true` instead runs FAQ answer retrieval: the question
//! headings of its knowledge's HTML against their sections' text, headings
//! removed, written to a generated folder of plain-text files.
//!
//! `cargo run -p docent-indexer --example eval -- demo/eval/brightwater.toml demo/eval/debian-faq.toml demo/eval/debian-faq-answers.toml`
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
    /// FAQ answer retrieval instead of cases (see [`evaluate_faq_answers`]).
    #[serde(default)]
    faq_answers: bool,
    #[serde(default)]
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
    if set.faq_answers {
        if !set.case.is_empty() {
            bail!("a set with faq_answers = true has no cases");
        }
        return evaluate_faq_answers(path, &knowledge, embedder, cache);
    }
    let (lexical, hybrid) = build_both(path, &format!("{} cases", set.case.len()), &knowledge, embedder, cache)?;
    let questions: Vec<&str> = set.case.iter().map(|c| c.question.as_str()).collect();
    let reference = bm25_reference(&source_texts(&hybrid)?, &questions)?;

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
            rankings.push((ranking(kb, &case.question)?, case.expect.as_str()));
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
    print_retrieval(&rows);
    Ok(())
}

/// FAQ answer retrieval: every section of the FAQ pages in `knowledge` whose
/// heading is a question gives a query (the heading) and a document (the
/// section's text, heading removed). The documents are written as numbered
/// plain-text files, so no heading text is anywhere in them, and ranked by
/// Docent (lexical and hybrid, from that folder) and the reference BM25.
fn evaluate_faq_answers(path: &Path, knowledge: &Path, embedder: &Arc<Embedder>, cache: &Path) -> anyhow::Result<()> {
    let pairs = faq_pairs(knowledge)?;
    let folder = tempfile::tempdir()?;
    let mut corpus: BTreeMap<String, String> = BTreeMap::new();
    let mut expected: Vec<(&str, String)> = Vec::new();
    for (i, (question, answer)) in pairs.iter().enumerate() {
        let file = format!("{:03}.txt", i + 1);
        std::fs::write(folder.path().join(&file), answer)?;
        corpus.insert(file.clone(), answer.clone());
        expected.push((question.as_str(), file));
    }
    let what = format!("{} question headings against their answers", pairs.len());
    let (lexical, hybrid) = build_both(path, &what, folder.path(), embedder, cache)?;
    let mut rows: Vec<(&str, Retrieval)> = Vec::new();
    for (name, kb) in [("docent lexical", &lexical), ("docent hybrid", &hybrid)] {
        let mut rankings = Vec::new();
        for (question, file) in &expected {
            rankings.push((ranking(kb, question)?, file.as_str()));
        }
        rows.push((name, Retrieval::of(&rankings)));
    }
    let questions: Vec<&str> = expected.iter().map(|(question, _)| *question).collect();
    if let Some(reference) = bm25_reference(&corpus, &questions)? {
        let rankings: Vec<(Vec<String>, &str)> =
            reference.into_iter().zip(&expected).map(|(ranking, (_, file))| (ranking, file.as_str())).collect();
        rows.push(("reference BM25", Retrieval::of(&rankings)));
    }
    println!("FAQ answer retrieval over {} questions:", pairs.len());
    print_retrieval(&rows);
    Ok(())
}

/// The (question, answer) pairs of the FAQ pages in `dir`, read by Docent's
/// HTML reader: each section whose heading, less its number (`1.7.`), ends
/// with `?`, and the section's text. Sections without text are left out.
/// Each page is cut at its DocBook navigation footer first, which would
/// otherwise end a chapter's last answer with the next chapter's title.
fn faq_pairs(dir: &Path) -> anyhow::Result<Vec<(String, String)>> {
    let pages = tempfile::tempdir()?;
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|ext| ext == "html")
            && let Some(name) = path.file_name()
        {
            let html = std::fs::read_to_string(&path)?;
            let page = html.split("<div class=\"navfooter\">").next().unwrap_or_default();
            std::fs::write(pages.path().join(name), page)?;
        }
    }
    let settings = SearchSettings { semantic: SemanticMode::Off, ..SearchSettings::default() };
    let kb = KnowledgeBase::build(
        pages.path(),
        &BuildOptions { settings: &settings, embedder: None, embedding_cache: None },
    )?;
    // (source, question, answer), passages of one section being consecutive.
    let mut sections: Vec<(String, String, String)> = Vec::new();
    for item in kb.items()?.into_iter().filter(|item| item.kind == HitKind::Passage) {
        match sections.last_mut() {
            Some((source, _, answer)) if *source == item.source => {
                answer.push_str("\n\n");
                answer.push_str(&item.text);
            }
            _ => {
                let heading = item.title.rsplit(" › ").next().unwrap_or_default();
                sections.push((item.source, without_number(heading).to_owned(), item.text));
            }
        }
    }
    Ok(sections.into_iter().filter(|(_, question, _)| question.ends_with('?')).map(|(_, q, a)| (q, a)).collect())
}

/// `heading` less a leading section number such as `3.1.2.`.
fn without_number(heading: &str) -> &str {
    match heading.split_once(' ') {
        Some((number, rest)) if number.ends_with('.') && number.chars().all(|c| c.is_ascii_digit() || c == '.') => {
            rest.trim_start()
        }
        _ => heading,
    }
}

/// Builds `knowledge` lexical-only and hybrid, and prints what the hybrid build holds.
fn build_both(
    path: &Path,
    what: &str,
    knowledge: &Path,
    embedder: &Arc<Embedder>,
    cache: &Path,
) -> anyhow::Result<(KnowledgeBase, KnowledgeBase)> {
    let lexical_settings = SearchSettings { semantic: SemanticMode::Off, ..SearchSettings::default() };
    let lexical = KnowledgeBase::build(
        knowledge,
        &BuildOptions { settings: &lexical_settings, embedder: None, embedding_cache: None },
    )?;
    let settings = SearchSettings { semantic: SemanticMode::On, ..SearchSettings::default() };
    let started = Instant::now();
    let hybrid = KnowledgeBase::build(
        knowledge,
        &BuildOptions { settings: &settings, embedder: Some(embedder), embedding_cache: Some(cache) },
    )?;
    let stats = hybrid.stats();
    println!(
        "\n== {} ({what}; {} Q&A pairs, {} passages, {} vectors, {} embedded now, build {:.1} s)",
        path.display(),
        stats.qa_pairs,
        stats.passages,
        stats.embedded,
        stats.newly_embedded,
        started.elapsed().as_secs_f64()
    );
    Ok((lexical, hybrid))
}

/// The sources of the top ten hits for `question`, each once.
fn ranking(kb: &KnowledgeBase, question: &str) -> anyhow::Result<Vec<String>> {
    let mut ranking: Vec<String> = Vec::new();
    for hit in kb.search(question, 10)? {
        if !ranking.contains(&hit.source) {
            ranking.push(hit.source);
        }
    }
    Ok(ranking)
}

/// Prints the retrieval table: Docent lexical, Docent hybrid, then the reference BM25 when it ran.
fn print_retrieval(rows: &[(&str, Retrieval)]) {
    println!("  {:<16} {:>6} {:>7} {:>8}", "", "top-1", "MRR@10", "nDCG@10");
    for (name, r) in rows {
        println!("  {name:<16} {:>6.3} {:>7.3} {:>8.3}", r.top1, r.mrr, r.ndcg);
    }
    if let (Some((_, hybrid)), Some((_, bm25))) = (rows.get(1), rows.get(2)) {
        println!("  hybrid / BM25: nDCG@10 x{:.2}, top-1 x{:.2}", hybrid.ndcg / bm25.ndcg, hybrid.top1 / bm25.top1);
    }
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

/// One text per source of `kb`: its title, other phrasings and every passage.
fn source_texts(kb: &KnowledgeBase) -> anyhow::Result<BTreeMap<String, String>> {
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
    Ok(corpus)
}

/// Rankings of a reference BM25 (bm25s, English stemmer and stop words) of
/// the `corpus` texts (by id) for each query; `None` with a note when Python
/// or its packages are missing.
fn bm25_reference(corpus: &BTreeMap<String, String>, queries: &[&str]) -> anyhow::Result<Option<Vec<Vec<String>>>> {
    let input = serde_json::json!({
        "corpus": corpus.iter().map(|(id, text)| serde_json::json!({"id": id, "text": text})).collect::<Vec<_>>(),
        "queries": queries,
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
