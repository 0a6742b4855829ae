//! In-process answering: the reply a visitor gets, over the demo eval questions: latency (p50,
//! p99) one call at a time, then throughput on one thread and on every core, the figure HTTP
//! answering is weighed against.
//!
//! Run with `cargo bench -p docent-gateway --bench answer` (or `cargo xtask bench`). With
//! `DOCENT_MODEL` set to a model folder, semantic search is on, as in a deploy.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use docent_indexer::{BuildOptions, Embedder, KnowledgeBase};
use docent_lifecycle::config;
use docent_lifecycle::reply::reply;
use serde::Deserialize;

const ROUNDS: usize = 200;
/// How long each throughput run answers.
const THROUGHPUT_RUN: Duration = Duration::from_secs(3);

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
    let questions: Vec<&str> = eval.case.iter().map(|case| case.question.as_str()).collect();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    for threads in [1, cores] {
        let per_second = throughput(threads, &questions, &|question| {
            reply(&config, &knowledge, question).map(|_| ()).map_err(anyhow::Error::from)
        })?;
        println!("in-process throughput, {threads} threads: {per_second:.0} answers/s");
    }
    Ok(())
}

/// Answers per second from `threads` threads answering `questions` in turn (each from its own
/// offset) for [`THROUGHPUT_RUN`].
fn throughput(
    threads: usize,
    questions: &[&str],
    answer: &(dyn Fn(&str) -> anyhow::Result<()> + Sync),
) -> anyhow::Result<f64> {
    let (answered, stop) = (AtomicU64::new(0), AtomicBool::new(false));
    let started = Instant::now();
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|thread| {
                let (answered, stop) = (&answered, &stop);
                scope.spawn(move || -> anyhow::Result<()> {
                    for question in questions.iter().cycle().skip(thread * 7) {
                        if stop.load(Ordering::Relaxed) {
                            break;
                        }
                        answer(std::hint::black_box(question))?;
                        answered.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(())
                })
            })
            .collect();
        std::thread::sleep(THROUGHPUT_RUN);
        stop.store(true, Ordering::Relaxed);
        workers.into_iter().try_for_each(|worker| worker.join().map_err(|_| anyhow::anyhow!("a worker panicked"))?)
    })?;
    Ok(answered.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64())
}
