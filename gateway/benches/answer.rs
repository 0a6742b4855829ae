//! In-process answer latency: the reply a visitor gets, over the demo eval questions, p50 and p99.
//!
//! Run with `cargo bench -p docent-gateway --bench answer` (or `cargo xtask bench`). With
//! `DOCENT_MODEL` set to a model folder, semantic search is on, as in a deploy.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use docent_indexer::{BuildOptions, Embedder, KnowledgeBase};
use docent_lifecycle::config;
use docent_lifecycle::reply::reply;
use serde::Deserialize;

const ROUNDS: usize = 200;

#[derive(Deserialize)]
struct Eval {
    case: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    question: String,
}

fn main() -> anyhow::Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let eval: Eval = toml::from_str(&std::fs::read_to_string(root.join("demo/eval/brightwater.toml"))?)?;
    let embedder =
        std::env::var_os("DOCENT_MODEL").map(|dir| Embedder::load(Path::new(&dir)).map(Arc::new)).transpose()?;
    let started = Instant::now();
    let bot = root.join("demo/bots/brightwater");
    let config = config::load(&bot.join("bot.toml"), "brightwater")?;
    let options = BuildOptions { settings: &config.search, embedder: embedder.as_ref(), embedding_cache: None };
    let knowledge = KnowledgeBase::build(&bot.join("knowledge"), &options)?;
    let load_time = started.elapsed();

    for case in &eval.case {
        reply(&config, &knowledge, &case.question)?;
    }
    let mut timings: Vec<Duration> = Vec::with_capacity(ROUNDS * eval.case.len());
    for _ in 0..ROUNDS {
        for case in &eval.case {
            let started = Instant::now();
            std::hint::black_box(reply(&config, &knowledge, &case.question)?);
            timings.push(started.elapsed());
        }
    }
    timings.sort();
    let percentile = |p: f64| timings[((timings.len() - 1) as f64 * p).round() as usize];
    let stats = knowledge.stats();
    println!(
        "answer latency (in-process, {}, {} questions x {ROUNDS} rounds): p50 {:.1} µs, p99 {:.1} µs",
        if embedder.is_some() { "semantic" } else { "lexical only" },
        eval.case.len(),
        percentile(0.50).as_secs_f64() * 1e6,
        percentile(0.99).as_secs_f64() * 1e6,
    );
    println!(
        "bot load + index build (embeddings included): {:.1} ms ({} Q&A pairs, {} passages)",
        load_time.as_secs_f64() * 1e3,
        stats.qa_pairs,
        stats.passages
    );
    Ok(())
}
