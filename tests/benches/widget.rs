//! `cargo xtask bench widget`: how soon the widget's launcher shows, in headless Chromium.
//!
//! Loads `launcher-timing.html` of the demo site (another origin than the gateway's) 30 times in
//! a fresh headless Chromium, without throttling. Its probe script records when the launcher is in
//! the page (at the next animation frame), the cross-origin requests started before that, and
//! main-thread long tasks. Prints the launcher time after the `load` event (p50, p90, max), the
//! requests before the launcher, and the long tasks. A benchmark, never a test: nothing is asserted.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use docent_tests::stack;
use docent_tests::webdriver::Browser;
use serde_json::Value;

const RUNS: usize = 30;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let page = format!("{}/launcher-timing.html", stack().allowed_origin());
    let browser = Browser::start().await?;
    let mut after_load = Vec::new();
    let mut requests = Vec::new();
    let mut long_tasks = 0;
    for run in 0..RUNS {
        browser.goto(&page).await?;
        let timing = wait_for_launcher(&browser).await.with_context(|| format!("run {run}"))?;
        let shown = timing["shown"].as_f64().context("no launcher time")?;
        let load = timing["load"].as_f64().context("no load time")?;
        after_load.push(shown - load);
        requests.push(timing["requests"].as_array().map(Vec::len).unwrap_or(0));
        long_tasks += timing["longTasks"].as_i64().unwrap_or(0);
        if run == 0 {
            println!("requests before the first launcher: {}", timing["requests"]);
        }
    }
    browser.quit().await?;
    after_load.sort_by(f64::total_cmp);
    let percentile = |p: f64| after_load[((after_load.len() - 1) as f64 * p).round() as usize];
    println!("== widget launcher, {RUNS} loads of {page} ==");
    println!(
        "launcher shown after load: p50 {:.0} ms, p90 {:.0} ms, max {:.0} ms",
        percentile(0.5),
        percentile(0.9),
        percentile(1.0)
    );
    println!(
        "cross-origin requests before the launcher: {}..{}",
        requests.iter().min().unwrap_or(&0),
        requests.iter().max().unwrap_or(&0)
    );
    println!("main-thread long tasks (> 50 ms) over all loads: {long_tasks}");
    Ok(())
}

/// The probe's record once the launcher showed, with the page's `load` event end time.
async fn wait_for_launcher(browser: &Browser) -> anyhow::Result<Value> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let timing = browser
            .execute(
                "const t = window.docentTiming; if (!t || t.shown === undefined) return null; \
                 return Object.assign({ load: performance.getEntriesByType('navigation')[0].loadEventEnd }, t)",
            )
            .await?;
        if !timing.is_null() {
            return Ok(timing);
        }
        if Instant::now() > deadline {
            bail!("the launcher did not show within 20 s");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
