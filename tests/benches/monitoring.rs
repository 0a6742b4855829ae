//! `cargo xtask bench monitoring`: what recording events costs, and how fast analytics read them.
//!
//! 1. Answer throughput with recording on and off, in the same run: the demo bot (lexical
//!    search) answers chat requests through the gateway's `handle`, 16 at a time, in
//!    alternating rounds on two gateway states over one store, one with the recorder and one
//!    without.
//! 2. One million events written through the store's batches (the recorder's path), then the
//!    Analytics page's query over them: `Dashboard::load` for 30 days, median of 5.
//! 3. A monthly report over those events: `Report::build` (this month and the one before)
//!    and each format rendered, median of 5.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use docent_analytics::report::{Format, Period, Report};
use docent_analytics::{Dashboard, Range};
use docent_gateway::assets::WidgetAssets;
use docent_gateway::http::{AppState, handle};
use docent_gateway::recorder::Recorder;
use docent_lifecycle::store::{Event, EventKind, EventStore, SqliteStore, Tier};
use docent_lifecycle::{Lifecycle, LifecycleOptions};
use docent_tests::{copy_tree, workspace_root};
use http_body_util::Full;
use hyper::Request;

const CONCURRENCY: usize = 16;
const REQUESTS_PER_ROUND: usize = 2_000;
const ROUNDS: usize = 6;
const EVENTS: usize = 1_000_000;
const WRITE_BATCH: usize = 4_096;
const ORIGIN: &str = "http://localhost:8081";
const QUESTIONS: &[&str] = &[
    "How long does delivery take?",
    "What is your return policy?",
    "Do you ship internationally?",
    "How do I track my order?",
    "Can I pay with crypto?",
    "What size bike do I need?",
];

fn main() -> anyhow::Result<()> {
    let root = workspace_root();
    let bots = tempfile::tempdir()?;
    let data = tempfile::tempdir()?;
    copy_tree(&root.join("demo/bots/brightwater"), &bots.path().join("brightwater"))?;
    let lifecycle = Arc::new(Lifecycle::open(LifecycleOptions::new(data.path(), bots.path()))?);
    lifecycle.deploy("brightwater", "bench", &mut |_| {})?;
    let assets = || WidgetAssets::from_dir(&root.join("target/widget-dist")).map_err(anyhow::Error::msg);
    let recording = Arc::new(docent_gateway::serve::app_state(Arc::clone(&lifecycle), assets()?)?);
    let mut silent = docent_gateway::serve::app_state(Arc::clone(&lifecycle), assets()?)?;
    silent.recorder = Recorder::off();
    let silent = Arc::new(silent);

    println!("== monitoring benchmarks ==");
    let runtime = tokio::runtime::Runtime::new()?;
    let (mut on, mut off) = (Duration::ZERO, Duration::ZERO);
    runtime.block_on(answers(&silent, 200))?; // warm-up
    for round in 0..ROUNDS {
        // Alternate which goes first, so neither always meets a warmer cache.
        let order = if round % 2 == 0 { [&recording, &silent] } else { [&silent, &recording] };
        for state in order {
            let took = runtime.block_on(answers(state, REQUESTS_PER_ROUND))?;
            if Arc::ptr_eq(state, &recording) { on += took } else { off += took }
        }
    }
    let total = (ROUNDS * REQUESTS_PER_ROUND) as f64;
    let (rate_on, rate_off) = (total / on.as_secs_f64(), total / off.as_secs_f64());
    println!(
        "answers at {CONCURRENCY} concurrent, {ROUNDS} alternating rounds of {REQUESTS_PER_ROUND}: recording off {rate_off:.0}/s, \
         on {rate_on:.0}/s ({:+.1} %), {} events dropped",
        (rate_on / rate_off - 1.0) * 100.0,
        recording.recorder.dropped()
    );

    let store_dir = tempfile::tempdir()?;
    let store = SqliteStore::open(&store_dir.path().join("docent.sqlite"))?;
    let now = docent_lifecycle::when::now();
    let events = million_events(now);
    let started = Instant::now();
    for batch in events.chunks(WRITE_BATCH) {
        store.record_events(batch)?;
    }
    let wrote = started.elapsed();
    println!(
        "{EVENTS} events written in batches of {WRITE_BATCH}: {:.1} s ({:.0} events/s)",
        wrote.as_secs_f64(),
        EVENTS as f64 / wrote.as_secs_f64()
    );
    let range = Range::last(30 * 86_400, now);
    let mut timings: Vec<Duration> = (0..5)
        .map(|_| {
            let started = Instant::now();
            let board = Dashboard::load(&store, "bench", range).expect("the dashboard loads");
            assert!(board.kpis.asked > 0);
            started.elapsed()
        })
        .collect();
    timings.sort();
    println!(
        "Analytics page query (Dashboard::load, 30 days) over {EVENTS} events: median {:.1} ms, max {:.1} ms",
        timings[2].as_secs_f64() * 1000.0,
        timings[4].as_secs_f64() * 1000.0
    );
    for format in Format::ALL {
        let mut timings: Vec<(Duration, usize)> = (0..5)
            .map(|_| {
                let started = Instant::now();
                let report = Report::build(&store, "bench", Period::Month, now).expect("the report's figures load");
                let file = report.render(format).expect("the report renders");
                assert!(report.dashboard.kpis.asked > 0);
                (started.elapsed(), file.bytes.len())
            })
            .collect();
        timings.sort();
        println!(
            "Monthly report ({}) over {EVENTS} events, built and rendered: median {:.1} ms, max {:.1} ms, {} bytes",
            format.extension(),
            timings[2].0.as_secs_f64() * 1000.0,
            timings[4].0.as_secs_f64() * 1000.0,
            timings[2].1
        );
    }
    Ok(())
}

/// Sends `count` chat requests, [`CONCURRENCY`] at a time, and returns how long they took.
async fn answers(state: &Arc<AppState>, count: usize) -> anyhow::Result<Duration> {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..CONCURRENCY)
        .map(|_| {
            let (state, next) = (Arc::clone(state), Arc::clone(&next));
            tokio::spawn(async move {
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    if index >= count {
                        return Ok::<_, anyhow::Error>(());
                    }
                    let body = format!(r#"{{"text":"{}"}}"#, QUESTIONS[index % QUESTIONS.len()]);
                    let request = Request::post("/v1/bots/brightwater/messages")
                        .header("content-type", "application/json")
                        .header("origin", ORIGIN)
                        .body(Full::new(Bytes::from(body)))?;
                    // Distinct clients, so per-client rate limits measure nothing here.
                    let peer = std::net::IpAddr::from([10, 0, (index >> 8) as u8, index as u8]);
                    let response = handle(&state, request, peer).await;
                    anyhow::ensure!(response.status() == 200, "answer {index}: status {}", response.status());
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await??;
    }
    Ok(started.elapsed())
}

/// About a million events over the 30 days before `now`: conversations of a start, then
/// message-and-reply pairs, thumbs, ratings and goals.
fn million_events(now: i64) -> Vec<Event> {
    let mut events = Vec::with_capacity(EVENTS + 16);
    let mut conversation = 0usize;
    while events.len() < EVENTS {
        conversation += 1;
        let id = format!("c{conversation}");
        let start = now - 30 * 86_400 + (conversation as i64 * 7_919) % (30 * 86_400 - 600);
        let event = |kind, at| Event { conversation: Some(id.clone()), ..Event::new("bench", at, kind) };
        events.push(event(EventKind::ConversationStart, start));
        for step in 0..(1 + conversation % 4) as i64 {
            let at = start + step * 30;
            events.push(event(EventKind::Message, at));
            let question = QUESTIONS[(conversation + step as usize) % QUESTIONS.len()];
            let tier = if question.contains("crypto") { Tier::Unknown } else { Tier::Answer };
            events.push(Event {
                tier: Some(tier),
                latency_ms: Some(200 + (conversation % 700) as u64),
                text: Some(question.to_owned()),
                ..event(EventKind::Reply, at + 1)
            });
        }
        match conversation % 10 {
            0 => events.push(Event { value: Some(4), ..event(EventKind::Rating, start + 200) }),
            1 => events.push(event(EventKind::ThumbDown, start + 200)),
            2 => events.push(event(EventKind::Goal, start + 200)),
            _ => events.push(event(EventKind::Close, start + 200)),
        }
    }
    events
}
