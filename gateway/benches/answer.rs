//! In-process answer latency: `Bot::reply` over the demo eval questions, p50 and p99.
//!
//! Run with `cargo bench -p docent-gateway --bench answer` (or `cargo xtask bench`).

use std::path::Path;
use std::time::{Duration, Instant};

use docent_gateway::registry::Bot;
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
    let started = Instant::now();
    let bot = Bot::load(&root.join("demo/bots/brightwater"))?;
    let load_time = started.elapsed();

    for case in &eval.case {
        bot.reply(&case.question)?;
    }
    let mut timings: Vec<Duration> = Vec::with_capacity(ROUNDS * eval.case.len());
    for _ in 0..ROUNDS {
        for case in &eval.case {
            let started = Instant::now();
            std::hint::black_box(bot.reply(&case.question)?);
            timings.push(started.elapsed());
        }
    }
    timings.sort();
    let percentile = |p: f64| timings[((timings.len() - 1) as f64 * p).round() as usize];
    let stats = bot.knowledge.stats();
    println!(
        "answer latency (in-process, {} questions x {ROUNDS} rounds): p50 {:.1} µs, p99 {:.1} µs",
        eval.case.len(),
        percentile(0.50).as_secs_f64() * 1e6,
        percentile(0.99).as_secs_f64() * 1e6,
    );
    println!(
        "bot load + index build: {:.1} ms ({} Q&A pairs, {} passages)",
        load_time.as_secs_f64() * 1e3,
        stats.qa_pairs,
        stats.passages
    );
    Ok(())
}
