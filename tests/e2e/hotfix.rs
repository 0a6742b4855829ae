//! Hotfix mode end to end: `docent deploy --hotfix` (the real binary) runs only the tests
//! marked `critical = true`, deploys, then watches the live bot for a short window; failed
//! chat requests recorded meanwhile breach the error-rate rule within seconds, and the alert
//! reaches a webhook receiver before the window ends, with a summary printed at the end.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use docent_lifecycle::store::{Event, EventKind, Tier};
use docent_lifecycle::when::now;
use docent_lifecycle::{Lifecycle, LifecycleOptions};
use docent_tests::receivers::webhook_receiver;
use docent_tests::{copy_tree, workspace_root};

use crate::restart::docent_binary;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hotfix_runs_the_critical_tests_and_alerts_on_the_first_breach() -> anyhow::Result<()> {
    let binary = tokio::task::spawn_blocking(docent_binary).await??;
    let (data, bots) = (tempfile::tempdir()?, tempfile::tempdir()?);
    let bot_dir = bots.path().join("brightwater");
    copy_tree(&workspace_root().join("demo/bots/brightwater"), &bot_dir)?;
    let lifecycle = Arc::new(Lifecycle::open(LifecycleOptions::new(data.path(), bots.path()))?);
    let deploying = Arc::clone(&lifecycle);
    tokio::task::spawn_blocking(move || deploying.deploy("brightwater", "e2e", &mut |_| {})).await??;
    let (receiver, received) = webhook_receiver().await?;
    let settings = format!(
        "[thresholds]\nmin_requests = 10\n\n[[channel]]\nkind = \"webhook\"\nurl = \"http://{receiver}/hook\"\n"
    );
    docent_gateway::alerts::store_settings(&lifecycle, "brightwater", Some(&settings), "e2e")?;

    // One test is critical; a new test that fails is not, so only a hotfix can deploy.
    let config = bot_dir.join("bot.toml");
    let text = std::fs::read_to_string(&config)?
        .replace(
            "question = \"How long does delivery take?\"\n",
            "question = \"How long does delivery take?\"\ncritical = true\n",
        )
        .replace("launcher_label = \"Ask Brightwater\"", "launcher_label = \"Ask us\"");
    let failing = "\n[[test]]\nquestion = \"Do you repair e-scooters?\"\nexpect_text = \"scooter workshop\"\n";
    std::fs::write(&config, format!("{text}{failing}"))?;

    let mut child = Command::new(&binary)
        .args(["deploy", "brightwater", "--hotfix", "--watch", "6s", "--watch-every", "300ms", "--fetch-private"])
        .arg("--data")
        .arg(data.path())
        .arg("--bots")
        .arg(bots.path())
        .env("DOCENT_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("cannot start docent deploy --hotfix")?;
    let printed: Arc<Mutex<Vec<String>>> = Arc::default();
    let keep = Arc::clone(&printed);
    let stdout = child.stdout.take().context("the deploy's output")?;
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            keep.lock().unwrap().push(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    while !printed.lock().unwrap().iter().any(|line| line.starts_with("watching brightwater for 6s")) {
        assert!(Instant::now() < deadline, "the watch did not start: {:?}", printed.lock().unwrap());
        assert!(child.try_wait()?.is_none(), "the hotfix stopped early: {:?}", printed.lock().unwrap());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Visitors' requests fail: 10 errors beside 2 answers, as the gateways' recorders write them.
    let at = now();
    let mut burst: Vec<Event> = (0..10).map(|_| Event::new("brightwater", at, EventKind::Error)).collect();
    burst.extend((0..2).map(|_| Event { tier: Some(Tier::Answer), ..Event::new("brightwater", at, EventKind::Reply) }));
    lifecycle.store().record_events(&burst)?;
    let breach = Instant::now();
    let alert = loop {
        let found = received.lock().unwrap().iter().find(|(_, body)| body["data"]["kind"] == "error_rate").cloned();
        if let Some((_, body)) = found {
            break body;
        }
        assert!(breach.elapsed() < Duration::from_secs(5), "no error-rate alert within 5 s of the breach");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(alert["data"]["state"], "opened");
    assert!(
        alert["data"]["detail"]
            .as_str()
            .is_some_and(|detail| detail.contains("10 of 12 requests failed since the deploy")),
        "{alert}"
    );

    let status = tokio::task::spawn_blocking(move || child.wait()).await??;
    reader.join().map_err(|_| anyhow::anyhow!("the output reader panicked"))?;
    let printed = printed.lock().unwrap().join("\n");
    assert_eq!(status.code(), Some(10), "a breach exits 10:\n{printed}");
    assert!(printed.contains("generation 2 is live (Quick update, 1 critical tests passed"), "{printed}");
    assert!(printed.contains("✗ High error rate: 10 of 12 requests failed since the deploy (83.3 %"), "{printed}");
    assert!(printed.contains("hotfix watch over: 1 breach(es)"), "{printed}");
    let alerts = received.lock().unwrap().iter().filter(|(_, body)| body["data"]["kind"] == "error_rate").count();
    assert_eq!(alerts, 1, "the breach is announced once");
    let deployed = received.lock().unwrap().iter().find(|(_, body)| body["data"]["event"] == "deploy").cloned();
    let (_, deployed) = deployed.context("the hotfix's deploy notice")?;
    assert_eq!(deployed["subject"], "[docent] brightwater: generation 2 deployed as a hotfix (settings only; was 1)");
    Ok(())
}
