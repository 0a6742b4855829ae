//! `cargo xtask bench [deploy|widget|gateway|monitoring|import|scale]`: the figures BENCHMARKS.md records, measured here.
//!
//! `bench`:
//! 1. the widget's download: gzip size of bundle.js plus its wasm;
//! 2. in-process answer latency over the demo eval questions (`cargo bench -p docent-gateway`);
//! 3. HTTP answer throughput and latency at 16 connections, with wrk against a release gateway.
//!
//! `bench widget`: the widget's download, and its launcher's time after `load` in headless Chromium.
//!
//! `bench gateway`: HTTP answers at 1, 16 and 64 connections, TLS beside nginx, a restart under
//! load (`gateway_bench.rs`).
//!
//! `bench import`: `docent kb import` throughput against a local site (`tests/benches/import.rs`).
//!
//! `bench scale`: two replicas on one PostgreSQL behind nginx: answers through nginx with 1 and 2
//! replicas, PostgreSQL's added chat latency over SQLite, a deploy's time to every replica
//! (`bench_scale.rs`).
//!
//! `bench deploy`: deploy, quick update, rollback, churn under load, a large complete update and
//! killed deploys (`tests/benches/deploy.rs`, against a release build).

use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context, bail};

use crate::{Service, cargo, dist, ensure_packages, run as run_command, wait_for_port};

const LOAD_CONNECTIONS: u32 = 16;
const LOAD_SECONDS: u32 = 10;

pub(crate) fn run(root: &Path, what: Option<&str>) -> anyhow::Result<()> {
    match what {
        None => answers(root),
        Some("deploy") => deploy(root),
        Some("widget") => widget(root),
        Some("gateway") => crate::gateway_bench::run(root),
        Some("monitoring") => crate::bench_monitoring::run(root),
        Some("import") => run_command(cargo(root).args(["bench", "-p", "docent-tests", "--bench", "import"])),
        Some("scale") => crate::bench_scale::run(root),
        Some(other) => {
            bail!(
                "no benchmark named `{other}`: use `cargo xtask bench` or `bench deploy|widget|gateway|monitoring|import|scale`"
            )
        }
    }
}

/// The widget's size, and its launcher's time after `load` in headless Chromium (`tests/benches/widget.rs`).
fn widget(root: &Path) -> anyhow::Result<()> {
    let widget = dist::build_widget(root)?;
    run_command(cargo(root).args(["bench", "-p", "docent-tests", "--bench", "widget"]).env("DOCENT_LOG", "warn"))?;
    println!("bundle.js + docent_widget_bg.wasm: {} bytes raw, {} bytes gzipped", widget.raw_bytes, widget.gzip_bytes);
    Ok(())
}

/// The deploy benchmarks, with the release `docent` for the processes it kills.
fn deploy(root: &Path) -> anyhow::Result<()> {
    dist::build_widget(root)?;
    run_command(cargo(root).args(["build", "--release", "-p", "docent-gateway"]))?;
    run_command(
        cargo(root)
            .args(["bench", "-p", "docent-tests", "--bench", "deploy"])
            .env("DOCENT_BIN", root.join("target/release/docent"))
            .env("DOCENT_LOG", "warn"),
    )
}

fn answers(root: &Path) -> anyhow::Result<()> {
    let widget = dist::build_widget(root)?;
    run_command(cargo(root).args(["bench", "-p", "docent-gateway", "--bench", "answer"]))?;
    let load = http_load(root, &widget.dir)?;
    println!();
    println!("== widget download ==");
    println!("bundle.js + docent_widget_bg.wasm: {} bytes raw, {} bytes gzipped", widget.raw_bytes, widget.gzip_bytes);
    println!("== HTTP answers, {LOAD_CONNECTIONS} connections, {LOAD_SECONDS} s (wrk) ==");
    println!("{load}");
    Ok(())
}

/// Starts a release gateway on a free port and loads it with wrk; returns wrk's summary lines.
fn http_load(root: &Path, widget_dir: &Path) -> anyhow::Result<String> {
    ensure_packages("the load benchmark", &[("wrk", "/usr/bin/wrk")])?;
    run_command(cargo(root).args(["build", "--release", "-p", "docent-gateway"]))?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let address = format!("127.0.0.1:{port}");
    let docent = root.join("target/release/docent");
    let data = root.join("target/bench/data");
    if data.exists() {
        std::fs::remove_dir_all(&data).with_context(|| format!("cannot empty {}", data.display()))?;
    }
    run_command(
        Command::new(&docent)
            .args(["deploy", "brightwater", "--bots"])
            .arg(root.join("demo/bots"))
            .arg("--data")
            .arg(&data),
    )?;
    let mut gateway = Service::spawn(
        Command::new(&docent)
            .arg("serve")
            .arg("--bots")
            .arg(root.join("demo/bots"))
            .arg("--data")
            .arg(&data)
            .args(["--listen", &address])
            .arg("--widget-dir")
            .arg(widget_dir)
            .env("DOCENT_LOG", "warn")
            .stdout(Stdio::null()),
    )?;
    wait_for_port(&address, &mut gateway)?;

    let script = root.join("target/bench/post.lua");
    std::fs::create_dir_all(script.parent().context("bench dir")?)?;
    std::fs::write(&script, wrk_script(&eval_questions(root)?))?;
    let output = Command::new("wrk")
        .args(["-t2", &format!("-c{LOAD_CONNECTIONS}"), &format!("-d{LOAD_SECONDS}s"), "--latency", "-s"])
        .arg(&script)
        .arg(format!("http://{address}/v1/bots/brightwater/messages"))
        .output()
        .context("cannot run wrk")?;
    drop(gateway);
    let report = String::from_utf8_lossy(&output.stdout).into_owned();
    if !output.status.success() {
        bail!("wrk failed: {report}{}", String::from_utf8_lossy(&output.stderr));
    }
    let wanted = ["Requests/sec", " 50% ", " 99% ", "requests in", "Non-2xx"];
    Ok(report.lines().filter(|line| wanted.iter().any(|w| line.contains(w))).collect::<Vec<_>>().join("\n"))
}

/// The questions of `demo/eval/brightwater.toml` (`question = "…"` lines).
pub(crate) fn eval_questions(root: &Path) -> anyhow::Result<Vec<String>> {
    let path = root.join("demo/eval/brightwater.toml");
    let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let questions: Vec<String> = text
        .lines()
        .filter_map(|line| line.trim().strip_prefix("question"))
        .filter_map(|rest| rest.trim_start().strip_prefix('='))
        .map(|value| value.trim().trim_matches('"').to_owned())
        .collect();
    if questions.is_empty() {
        bail!("{} has no `question = \"…\"` lines", path.display());
    }
    Ok(questions)
}

/// A wrk script that posts the questions in turn, from an allowed origin.
pub(crate) fn wrk_script(questions: &[String]) -> String {
    let bodies: Vec<String> = questions
        .iter()
        .map(|question| {
            let escaped = question.replace('\\', "\\\\").replace('"', "\\\"");
            let json = format!(r#"{{"text":"{escaped}"}}"#);
            format!("  \"{}\",", json.replace('\\', "\\\\").replace('"', "\\\""))
        })
        .collect();
    format!(
        "-- Generated by cargo xtask bench: posts the demo eval questions in turn.\n\
         local bodies = {{\n{}\n}}\n\
         local i = 0\n\
         wrk.method = \"POST\"\n\
         wrk.headers[\"Content-Type\"] = \"application/json\"\n\
         wrk.headers[\"Origin\"] = \"http://localhost:8081\"\n\
         request = function()\n  i = i % #bodies + 1\n  return wrk.format(nil, nil, nil, bodies[i])\nend\n",
        bodies.join("\n")
    )
}
