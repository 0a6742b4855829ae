//! Deploy notices end to end: a deploy and a failed deploy by the real `docent` binary, a
//! rollback and a deactivation through the admin API of an in-process gateway, and an
//! activation run by its schedule runner each send exactly one notice to a webhook receiver,
//! saying who, what, which generation, and the bot's console page.

use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use docent_lifecycle::when::now;
use docent_lifecycle::{Lifecycle, LifecycleOptions};
use docent_tests::alerting::Gateway;
use docent_tests::http::send;
use docent_tests::receivers::{Received, webhook_receiver};
use docent_tests::{copy_tree, workspace_root};
use hyper::Method;
use serde_json::Value;

use crate::restart::docent_binary;

/// The console address the CLI is told, quoted in its notices.
const PUBLIC_URL: &str = "https://docent.example";

/// `docent ARGS --data DATA --bots BOTS --fetch-private`, as the operator `alice`.
fn docent(binary: &Path, data: &Path, bots: &Path, args: &[&str]) -> anyhow::Result<Output> {
    Command::new(binary)
        .args(args)
        .arg("--data")
        .arg(data)
        .arg("--bots")
        .arg(bots)
        .args(["--fetch-private", "--actor", "alice", "--public-url", PUBLIC_URL])
        .env("DOCENT_LOG", "warn")
        .output()
        .with_context(|| format!("cannot run docent {}", args.join(" ")))
}

/// The webhook bodies received so far.
fn bodies(received: &Received) -> Vec<Value> {
    received.lock().unwrap().iter().map(|(_, body)| body.clone()).collect()
}

/// Waits until `count` notices arrived, for at most 30 s.
async fn wait_for(received: &Received, count: usize, what: &str) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let got = bodies(received);
        if got.len() >= count || Instant::now() > deadline {
            assert_eq!(got.len(), count, "{what}: {got:#?}");
            return got;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_deploy_rollback_and_activation_sends_one_notice() -> anyhow::Result<()> {
    let binary = tokio::task::spawn_blocking(docent_binary).await??;
    let (data, bots) = (tempfile::tempdir()?, tempfile::tempdir()?);
    let config_path = bots.path().join("brightwater/bot.toml");
    copy_tree(&workspace_root().join("demo/bots/brightwater"), &bots.path().join("brightwater"))?;
    let (receiver, received) = webhook_receiver().await?;
    let lifecycle = Arc::new(Lifecycle::open(LifecycleOptions::new(data.path(), bots.path()))?);
    // Generation 1 is deployed before any hook or channel exists: no notice.
    let deploying = Arc::clone(&lifecycle);
    tokio::task::spawn_blocking(move || deploying.deploy("brightwater", "e2e", &mut |_| {})).await??;
    let channels = format!("[[channel]]\nkind = \"webhook\"\nurl = \"http://{receiver}/deploys\"\n");
    docent_gateway::alerts::store_settings(&lifecycle, "brightwater", Some(&channels), "e2e")?;
    let run = |args: &'static [&'static str]| {
        let (binary, data, bots) = (binary.clone(), data.path().to_owned(), bots.path().to_owned());
        tokio::task::spawn_blocking(move || docent(&binary, &data, &bots, args))
    };

    // The CLI sends before it exits: the notice is there when the command returns.
    let original = std::fs::read_to_string(&config_path)?;
    let relabelled = original.replace("launcher_label = \"Ask Brightwater\"", "launcher_label = \"Ask us\"");
    std::fs::write(&config_path, &relabelled)?;
    let deployed = run(&["deploy", "brightwater"]).await??;
    assert!(deployed.status.success(), "{}", String::from_utf8_lossy(&deployed.stderr));
    let notice = bodies(&received).pop().context("a notice once `docent deploy` returned")?;
    assert_eq!(notice["subject"], "[docent] brightwater: generation 2 deployed (settings only; was 1)");
    assert_eq!(notice["data"]["event"], "deploy");
    assert_eq!(notice["data"]["actor"], "alice");
    assert_eq!(notice["data"]["generation"], 2);
    assert_eq!(notice["data"]["console"], format!("{PUBLIC_URL}/admin/bots/brightwater"));
    assert!(notice["text"].as_str().is_some_and(|text| text.contains(" by alice at ")), "{notice}");

    // A test the knowledge cannot pass fails the deploy: the notice says so and names the test.
    let failing = "\n[[test]]\nquestion = \"Do you repair e-scooters?\"\nexpect_text = \"scooter workshop\"\n";
    std::fs::write(&config_path, format!("{relabelled}{failing}"))?;
    let failed = run(&["deploy", "brightwater"]).await??;
    assert!(!failed.status.success(), "a failing test stops the deploy");
    let notice = bodies(&received).pop().context("a notice of the failed deploy")?;
    assert_eq!(notice["subject"], "[docent] brightwater: deploy failed; generation 2 stays live");
    assert_eq!(notice["data"]["event"], "deploy_failed");
    assert!(notice["text"].as_str().is_some_and(|text| text.contains("Do you repair e-scooters?")), "{notice}");
    assert_eq!(bodies(&received).len(), 2);

    // Through a running gateway: its admin API and its schedule runner.
    let gateway = Gateway::start(Arc::clone(&lifecycle), "127.0.0.1:0".parse()?).await?;
    let token = lifecycle.create_admin_token("notices", None, "e2e")?;
    let bearer = format!("Bearer {token}");
    let admin = [("authorization", bearer.as_str()), ("content-type", "application/json")];
    let path = |action: &str| format!("/v1/admin/bots/brightwater/{action}");
    let rolled = send(gateway.address, Method::POST, &path("rollback"), &admin, "{}").await?;
    assert_eq!(rolled.status, 200, "{:?}", rolled.body);
    let got = wait_for(&received, 3, "the rollback's notice").await;
    assert_eq!(got[2]["subject"], "[docent] brightwater: rolled back to generation 1 (was 2)");
    assert_eq!(got[2]["data"]["actor"], "admin:notices");

    let offline = send(gateway.address, Method::POST, &path("deactivate"), &admin, "").await?;
    assert_eq!(offline.status, 200);
    let got = wait_for(&received, 4, "the deactivation's notice").await;
    assert_eq!(got[3]["data"]["event"], "deactivate");

    let at = now() + 2;
    let activating = Arc::clone(&lifecycle);
    tokio::task::spawn_blocking(move || activating.activate("brightwater", Some(at), "bob")).await??;
    let got = wait_for(&received, 5, "the scheduled activation's notice").await;
    assert_eq!(got[4]["subject"], "[docent] brightwater: activated (generation 1)");
    assert_eq!(got[4]["data"]["actor"], "bob (scheduled)");

    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(bodies(&received).len(), 5, "one notice per change, none twice");
    let mut gateway = gateway;
    gateway.stop().await;
    Ok(())
}
