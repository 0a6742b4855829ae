//! `cargo xtask bench deploy`: the deploy step's speed and safety, on this machine.
//!
//! 1. a full first deploy of the demo bot;
//! 2. a quick update, and a rollback: how long until the next request sees each;
//! 3. 64 clients asking without pause during 100 alternating deploys and rollbacks: failed requests;
//! 4. a complete update of 500 Q&As plus 100 MB of documents, lexical only, with the process's
//!    peak memory (and the embedding
//!    throughput when a model is given with `DOCENT_MODEL`, which the demo bot then uses too);
//! 5. 20 `docent deploy` processes killed with SIGKILL at random points: what serves afterwards.
//!
//! The gateway runs in this process on a loopback port, following the same data directory as
//! the deploys, exactly as `docent serve` does. Needs `DOCENT_BIN`, the `docent` binary that the
//! kill test starts (`cargo xtask bench deploy` builds it and sets it).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use docent_gateway::assets::WidgetAssets;
use docent_gateway::options::load_model;
use docent_lifecycle::{Lifecycle, LifecycleOptions};
use docent_tests::http::send;
use docent_tests::{copy_tree, workspace_root};
use hyper::Method;

const CLIENTS: usize = 64;
const CHURN_ROUNDS: usize = 100;
const KILLS: usize = 20;
const BIG_QA: usize = 500;
const BIG_DOCUMENT_BYTES: usize = 100 * 1024 * 1024;
const ORIGIN: &str = "http://localhost:8081";

fn main() -> anyhow::Result<()> {
    let root = workspace_root();
    let docent = PathBuf::from(std::env::var_os("DOCENT_BIN").context("set DOCENT_BIN to a built docent binary")?);
    let bots = tempfile::tempdir()?;
    let data = tempfile::tempdir()?;
    copy_tree(&root.join("demo/bots/brightwater"), &bots.path().join("brightwater"))?;
    let mut options = LifecycleOptions::new(data.path(), bots.path());
    options.embedder = std::env::var_os("DOCENT_MODEL").map(|dir| load_model(Path::new(&dir))).transpose()?;
    let semantic = options.embedder.is_some();
    let lifecycle = Arc::new(Lifecycle::open(options.clone())?);

    println!("== deploy benchmarks ({}) ==", if semantic { "semantic search on" } else { "lexical only" });
    let started = Instant::now();
    lifecycle.deploy("brightwater", "bench", &mut |_| {})?;
    println!("full first deploy of the demo bot: {:.2} s", started.elapsed().as_secs_f64());

    let runtime = tokio::runtime::Runtime::new()?;
    let assets = WidgetAssets::from_dir(&root.join("target/widget-dist")).map_err(anyhow::Error::msg)?;
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let gateway = listener.local_addr()?;
    listener.set_nonblocking(true)?;
    let state = Arc::new(docent_gateway::serve::app_state(Arc::clone(&lifecycle), assets)?);
    runtime.spawn(async move {
        let listener = tokio::net::TcpListener::from_std(listener).expect("a listener");
        docent_gateway::serve::run_gateway(listener, state, std::future::pending()).await;
    });

    let toml = bots.path().join("brightwater/bot.toml");
    let original = std::fs::read_to_string(&toml)?;
    let greeting = |n: usize| format!("Hi! Greeting number {n}.");
    let set_greeting =
        |n: usize| std::fs::write(&toml, original.replace("Hi! I'm the Brightwater assistant.", &greeting(n)));

    set_greeting(1)?;
    let started = Instant::now();
    lifecycle.deploy("brightwater", "bench", &mut |_| {})?;
    let deployed = started.elapsed();
    let visible = runtime.block_on(until_greeting(gateway, &greeting(1)))?;
    println!(
        "quick update (greeting): deploy {:.0} ms, then visible to the next request after {:.0} ms",
        ms(deployed),
        ms(visible)
    );
    let started = Instant::now();
    lifecycle.rollback("brightwater", None, "bench")?;
    let rolled = started.elapsed();
    let visible = runtime.block_on(until_greeting(gateway, "Hi! I'm the Brightwater assistant."))?;
    println!("rollback: {:.0} ms, then visible to the next request after {:.0} ms", ms(rolled), ms(visible));

    let (asked, failed) = runtime.block_on(churn(gateway, &lifecycle, &set_greeting))?;
    println!(
        "{CLIENTS} clients during {CHURN_ROUNDS} alternating deploys and rollbacks: {asked} requests, {failed} failed"
    );
    std::fs::write(&toml, &original)?;

    big_update(bots.path(), data.path(), &options)?;
    kills(&docent, bots.path(), data.path(), &lifecycle, gateway, &runtime)?;
    Ok(())
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// Time until the bot's greeting contains `greeting`, polling every millisecond.
async fn until_greeting(gateway: std::net::SocketAddr, greeting: &str) -> anyhow::Result<Duration> {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(10) {
        let reply = send(gateway, Method::GET, "/v1/bots/brightwater/config", &[("origin", ORIGIN)], "").await?;
        if reply.status == 200 && reply.json()["greeting"].as_str().is_some_and(|shown| shown.contains(greeting)) {
            return Ok(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    bail!("\"{greeting}\" not visible within 10 s")
}

/// 64 clients ask without pause while deploys and rollbacks alternate; returns (asked, failed).
async fn churn(
    gateway: std::net::SocketAddr,
    lifecycle: &Arc<Lifecycle>,
    set_greeting: &(dyn Fn(usize) -> std::io::Result<()> + Sync),
) -> anyhow::Result<(u64, u64)> {
    let stop = Arc::new(AtomicBool::new(false));
    let (asked, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let mut clients = Vec::new();
    for _ in 0..CLIENTS {
        let (stop, asked, failed) = (Arc::clone(&stop), Arc::clone(&asked), Arc::clone(&failed));
        clients.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let headers = [("content-type", "application/json"), ("origin", ORIGIN)];
                let reply = send(
                    gateway,
                    Method::POST,
                    "/v1/bots/brightwater/messages",
                    &headers,
                    r#"{"text":"Do you ship abroad?"}"#,
                )
                .await;
                asked.fetch_add(1, Ordering::Relaxed);
                if !reply.is_ok_and(|reply| reply.status == 200) {
                    failed.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for round in 0..CHURN_ROUNDS {
        let lifecycle = Arc::clone(lifecycle);
        if round % 2 == 0 {
            set_greeting(100 + round)?;
            tokio::task::spawn_blocking(move || lifecycle.deploy("brightwater", "bench", &mut |_| {})).await??;
        } else {
            tokio::task::spawn_blocking(move || lifecycle.rollback("brightwater", None, "bench")).await??;
        }
    }
    stop.store(true, Ordering::Relaxed);
    for client in clients {
        client.await?;
    }
    Ok((asked.load(Ordering::Relaxed), failed.load(Ordering::Relaxed)))
}

/// A bot with `qa` generated Q&As and about `document_bytes` of generated Markdown.
fn generate_bot(bots: &Path, id: &str, qa: usize, document_bytes: usize, salt: &str) -> anyhow::Result<()> {
    let dir = bots.join(id);
    copy_tree(&workspace_root().join("demo/bots/brightwater"), &dir)?;
    let config = std::fs::read_to_string(dir.join("bot.toml"))?;
    // Generated knowledge does not answer the demo's tests: keep only an off-topic one. Its
    // chunks are not embedded (see the throughput line for what embedding would cost).
    let cut = config.find("[[test]]").unwrap_or(config.len());
    let tail =
        "[search]\nsemantic = \"off\"\n\n[[test]]\nquestion = \"What is the weather on Mars?\"\nexpect = \"unknown\"\n";
    std::fs::write(dir.join("bot.toml"), format!("{}{tail}", &config[..cut]))?;
    let knowledge = dir.join("knowledge");
    std::fs::remove_dir_all(&knowledge)?;
    std::fs::create_dir_all(&knowledge)?;
    let mut faq = String::new();
    for n in 0..qa {
        faq.push_str(&format!(
            "[[qa]]\nquestion = \"How do I configure widget model {n} {salt}?\"\nanswer = \"Open the settings of model {n}, choose a profile and save it. Reference {salt}-{n}.\"\n\n"
        ));
    }
    std::fs::write(knowledge.join("faq.toml"), faq)?;
    let words =
        ["frame", "gear", "brake", "chain", "wheel", "saddle", "pedal", "battery", "motor", "light", "tyre", "spoke"];
    let mut written = 0;
    let mut file = 0;
    while written < document_bytes {
        let mut text = format!("# Manual {file} {salt}\n\n");
        for section in 0..40 {
            text.push_str(&format!("## Part {section}\n\n"));
            for sentence in 0..40 {
                let word = |k: usize| words[(file * 7 + section * 3 + sentence + k) % words.len()];
                text.push_str(&format!(
                    "The {} of unit {file}-{section}-{sentence} connects to the {} and the {}. ",
                    word(0),
                    word(1),
                    word(2)
                ));
            }
            text.push_str("\n\n");
        }
        written += text.len();
        std::fs::write(knowledge.join(format!("manual-{file:04}.md")), text)?;
        file += 1;
    }
    Ok(())
}

fn big_update(bots: &Path, data: &Path, options: &LifecycleOptions) -> anyhow::Result<()> {
    generate_bot(bots, "big", BIG_QA, BIG_DOCUMENT_BYTES, "v1")?;
    let mut separate = options.clone();
    separate.data_dir = data.join("big");
    let lifecycle = Lifecycle::open(separate)?;
    let before = reset_peak_memory()?;
    let started = Instant::now();
    lifecycle.deploy("big", "bench", &mut |_| {})?;
    println!(
        "first deploy of {BIG_QA} Q&As + {} MB of documents, lexical only: {:.1} s, peak memory {} MiB (before {} MiB)",
        BIG_DOCUMENT_BYTES / 1024 / 1024,
        started.elapsed().as_secs_f64(),
        memory_kib("VmHWM:")? / 1024,
        before / 1024
    );
    generate_bot(bots, "big", BIG_QA, BIG_DOCUMENT_BYTES, "v2")?;
    let before = reset_peak_memory()?;
    let started = Instant::now();
    lifecycle.deploy("big", "bench", &mut |_| {})?;
    println!(
        "complete update of the same (every file changed), lexical only: {:.1} s, peak memory {} MiB (before {} MiB)",
        started.elapsed().as_secs_f64(),
        memory_kib("VmHWM:")? / 1024,
        before / 1024
    );
    if let Some(embedder) = &options.embedder {
        let texts: Vec<String> = (0..256)
            .map(|n| format!("Manual {n}. The frame of unit {n} connects to the gear and the brake."))
            .collect();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let started = Instant::now();
        embedder.embed_batch(&refs)?;
        let rate = refs.len() as f64 / started.elapsed().as_secs_f64();
        println!("embedding throughput (short passages): {rate:.1} chunks/s");
    }
    Ok(())
}

/// This process's memory in KiB, from `/proc/self/status` (`VmHWM:` the peak, `VmRSS:` now).
fn memory_kib(field: &str) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|kib| kib.split_whitespace().next()?.parse().ok())
        .with_context(|| format!("no {field} in /proc/self/status"))
}

/// Resets the peak (`VmHWM`) to the present resident memory, which it returns in KiB.
fn reset_peak_memory() -> anyhow::Result<u64> {
    std::fs::write("/proc/self/clear_refs", "5").context("cannot reset the peak memory")?;
    memory_kib("VmRSS:")
}

/// Kills `docent deploy` at random points; after each, the old or the new generation must serve.
fn kills(
    docent: &Path,
    bots: &Path,
    data: &Path,
    lifecycle: &Arc<Lifecycle>,
    gateway: std::net::SocketAddr,
    runtime: &tokio::runtime::Runtime,
) -> anyhow::Result<()> {
    let bot = "killed";
    generate_bot(bots, bot, 50, 2 * 1024 * 1024, "k0")?;
    lifecycle.deploy(bot, "bench", &mut |_| {})?;
    // Kill points are spread over the time a whole `docent deploy` process takes.
    generate_bot(bots, bot, 50, 2 * 1024 * 1024, "k1")?;
    let started = Instant::now();
    let status = deploy_command(docent, bot, bots, data).status().context("cannot run docent deploy")?;
    if !status.success() {
        bail!("docent deploy {bot} exited with {status}");
    }
    let deploy_time = started.elapsed();
    let mut outcomes = (0, 0);
    let mut seed = 0x9e37_79b9_u64;
    for round in 0..KILLS {
        let before = lifecycle.status(Some(bot))?[0].live;
        generate_bot(bots, bot, 50, 2 * 1024 * 1024, &format!("r{round}"))?;
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let delay = Duration::from_millis(seed % (deploy_time.as_millis() as u64).max(1));
        let mut child = deploy_command(docent, bot, bots, data).spawn().context("cannot start docent deploy")?;
        std::thread::sleep(delay);
        child.kill()?;
        child.wait()?;
        let after = lifecycle.status(Some(bot))?[0].live;
        if after == before {
            outcomes.0 += 1;
        } else {
            outcomes.1 += 1;
        }
        std::thread::sleep(Duration::from_millis(600));
        let headers = [("content-type", "application/json"), ("origin", ORIGIN)];
        let path = format!("/v1/bots/{bot}/messages");
        let reply = runtime.block_on(send(
            gateway,
            Method::POST,
            &path,
            &headers,
            r#"{"text":"How do I configure widget model 7?"}"#,
        ))?;
        if reply.status != 200 {
            bail!("after kill {round} ({delay:?}), the bot answered {}: {:?}", reply.status, reply.body);
        }
        // A reopened lifecycle (as after a restart) cleans what the killed process left.
        Lifecycle::open(lifecycle.options().clone())?;
    }
    println!(
        "{KILLS} `docent deploy` processes (each {:.0} ms when not killed) killed at random points: \
         old generation serving {} times, new {} times, never nothing",
        ms(deploy_time),
        outcomes.0,
        outcomes.1
    );
    Ok(())
}

/// `docent deploy BOT` on these folders, quiet.
fn deploy_command(docent: &Path, bot: &str, bots: &Path, data: &Path) -> Command {
    let mut command = Command::new(docent);
    command
        .args(["deploy", bot, "--bots"])
        .arg(bots)
        .arg("--data")
        .arg(data)
        .env("DOCENT_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    command
}
