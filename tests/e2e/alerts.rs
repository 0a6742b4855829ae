//! Alerts end to end: every alert rule fires once and resolves once, and each change reaches a
//! real webhook receiver (generic, Slack- and Teams-shaped, an SMS gateway) and a real SMTP
//! server (`python3 -m aiosmtpd`), with no duplicate. Downtime comes from a real `docent watch`
//! process probing a gateway that is stopped and started again; the gateway's own alert loop
//! runs beside it, and the store lets only one of them announce each change.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use docent_lifecycle::store::{AlertKind, Event, EventKind, Plan, Tier};
use docent_lifecycle::when::now;
use docent_lifecycle::{Lifecycle, LifecycleOptions};
use docent_tests::alerting::Gateway;
use docent_tests::http::send;
use docent_tests::receivers::{Received, SmtpServer, webhook_receiver};
use docent_tests::{copy_tree, stack, workspace_root};
use hyper::Method;

use crate::restart::docent_binary;

/// The longest any awaited change may take.
const WAIT: Duration = Duration::from_secs(30);

/// A `docent watch` child, killed when dropped.
struct Watcher(Child);

impl Drop for Watcher {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits until the notices received are `expected`, checking every 100 ms, for at most [`WAIT`].
async fn notices(received: &Received, smtp: &SmtpServer, expected: BTreeMap<String, usize>, what: &str) {
    let deadline = Instant::now() + WAIT;
    loop {
        let got = counts(received, smtp);
        if got == expected {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "not within {WAIT:?}: {what}; got {got:?}, expected {expected:?}; webhooks {:?}; e-mails {:?}",
            received.lock().unwrap().iter().map(|(path, body)| format!("{path} {body}")).collect::<Vec<_>>(),
            smtp.subjects(),
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Notices received so far, by channel: path prefix for webhooks, `email` for SMTP.
fn counts(received: &Received, smtp: &SmtpServer) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for (path, _) in received.lock().unwrap().iter() {
        let channel = path.trim_start_matches('/').split(['/', '?']).next().unwrap_or_default().to_owned();
        *counts.entry(channel).or_insert(0) += 1;
    }
    counts.insert("email".into(), smtp.subjects().len());
    counts
}

fn expect(webhooks: usize, sms: usize) -> BTreeMap<String, usize> {
    ["email", "slack", "teams", "webhook"]
        .into_iter()
        .map(|channel| (channel.to_owned(), webhooks))
        .chain([("sms".to_owned(), sms)])
        .filter(|(_, count)| *count > 0)
        .collect()
}

fn events(kind: EventKind, count: usize, at: i64, tier: Option<Tier>) -> Vec<Event> {
    (0..count)
        .map(|index| Event {
            conversation: Some(format!("alerts-{at}-{index}")),
            tier,
            latency_ms: tier.map(|_| 40),
            ..Event::new("brightwater", at, kind)
        })
        .collect()
}

fn settings(receiver: SocketAddr, smtp_port: u16) -> String {
    format!(
        r#"[thresholds]
downtime_seconds = 2
min_requests = 10
spike_min_messages = 10

[[channel]]
kind = "webhook"
url = "http://{receiver}/webhook"

[[channel]]
kind = "slack"
url = "http://{receiver}/slack/T000/B000/secret"

[[channel]]
kind = "teams"
url = "http://{receiver}/teams/workflow"

[[channel]]
kind = "email"
server = "127.0.0.1"
port = {smtp_port}
security = "none"
from = "Docent <alerts@brightwater.example>"
to = ["ops@brightwater.example"]

[[channel]]
kind = "sms"
url = "http://{receiver}/sms?to={{to}}"
to = ["+15550100"]
"#
    )
}

fn deployed(data: &Path, bots: &Path) -> anyhow::Result<Arc<Lifecycle>> {
    copy_tree(&workspace_root().join("demo/bots/brightwater"), &bots.join("brightwater"))?;
    let lifecycle = Arc::new(Lifecycle::open(LifecycleOptions::new(data, bots))?);
    lifecycle.deploy("brightwater", "e2e", &mut |_| {}).context("cannot deploy brightwater")?;
    Ok(lifecycle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_alert_fires_once_and_resolves_once_on_every_channel() -> anyhow::Result<()> {
    let docent = tokio::task::spawn_blocking(docent_binary).await??;
    let (data, bots) = (tempfile::tempdir()?, tempfile::tempdir()?);
    let opening = (data.path().to_owned(), bots.path().to_owned());
    let lifecycle = tokio::task::spawn_blocking(move || deployed(&opening.0, &opening.1)).await??;
    let (receiver, received) = webhook_receiver().await?;
    let smtp = tokio::task::spawn_blocking(SmtpServer::start).await??;
    docent_gateway::alerts::store_settings(&lifecycle, "brightwater", Some(&settings(receiver, smtp.port)), "e2e")?;
    let store = lifecycle.store();
    let knowledge = lifecycle.live_knowledge_bytes("brightwater")?.context("the deploy records the knowledge size")?;

    let mut gateway = Gateway::start(Arc::clone(&lifecycle), "127.0.0.1:0".parse()?).await?;
    let watcher = Watcher(
        Command::new(&docent)
            .args(["watch", "--gateway", &format!("http://{}/", gateway.address), "--interval", "200ms"])
            .arg("--data")
            .arg(data.path())
            .arg("--bots")
            .arg(bots.path())
            .arg("--fetch-private")
            .env("DOCENT_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .context("cannot start docent watch")?,
    );

    // The rules look at clock hours: keep the phases within one (this waits at most a minute).
    let into_hour = now().rem_euclid(3600);
    if into_hour > 3540 {
        tokio::time::sleep(Duration::from_secs((3601 - into_hour) as u64)).await;
    }
    // Four rules at once: half the requests fail, no question is resolved, ten messages with no
    // normal, and knowledge over 90 % of the plan.
    let at = now();
    let mut burst = events(EventKind::Error, 10, at, None);
    burst.extend(events(EventKind::Message, 10, at, None));
    burst.extend(events(EventKind::Reply, 10, at, Some(Tier::Unknown)));
    store.record_events(&burst)?;
    let plan =
        |bytes| Plan { name: "e2e".into(), messages_per_month: None, storage_bytes: Some(bytes), expires_at: None };
    lifecycle.set_plan("brightwater", Some(&plan(knowledge)), "e2e")?;
    notices(&received, &smtp, expect(4, 1), "four notices on each channel, one SMS for the critical one").await;

    // Back to normal: many answers, the same hour's traffic on the days before, a bigger plan.
    let at = now();
    let mut calm = events(EventKind::Reply, 200, at, Some(Tier::Answer));
    for days in 1..=7 {
        calm.extend(events(EventKind::Message, 5, at - days * 86_400, None));
    }
    store.record_events(&calm)?;
    lifecycle.set_plan("brightwater", Some(&plan(knowledge * 10)), "e2e")?;
    notices(&received, &smtp, expect(8, 2), "four resolutions on each channel").await;

    // Downtime is seen from outside: the gateway stops, the watcher alerts; it starts again.
    gateway.stop().await;
    notices(&received, &smtp, expect(9, 3), "the downtime notice").await;
    let mut gateway = Gateway::start(Arc::clone(&gateway.lifecycle), gateway.address).await?;
    notices(&received, &smtp, expect(10, 4), "the downtime resolution").await;

    // No storm: nothing more arrives while the rules keep being evaluated.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(counts(&received, &smtp), expect(10, 4), "no duplicate notice");
    drop(watcher);
    console_shows_incidents_and_takes_settings(&lifecycle, gateway.address).await?;
    gateway.stop().await;

    let incidents = store.incidents(Some("brightwater"), 50)?;
    let mut kinds: Vec<AlertKind> = incidents.iter().map(|incident| incident.kind).collect();
    kinds.sort();
    assert_eq!(kinds, AlertKind::RULES.to_vec(), "each rule opened one incident: {incidents:?}");
    assert!(incidents.iter().all(|incident| incident.resolved_at.is_some()), "{incidents:?}");

    // Each service got its own shape, and none carried a webhook URL's secret.
    let received = received.lock().unwrap();
    let body = |prefix: &str| {
        received.iter().find(|(path, _)| path.starts_with(prefix)).map(|(_, body)| body.clone()).unwrap_or_default()
    };
    assert_eq!(body("/webhook")["data"]["bot"], "brightwater");
    assert!(body("/slack")["text"].as_str().is_some_and(|text| text.starts_with("*[docent] brightwater: ")));
    assert_eq!(body("/teams")["attachments"][0]["contentType"], "application/vnd.microsoft.card.adaptive");
    assert_eq!(body("/sms")["to"], "+15550100");
    assert!(
        received.iter().filter(|(path, _)| path.starts_with("/sms")).all(|(path, _)| path == "/sms?to=%2B15550100")
    );
    let subjects = smtp.subjects();
    assert!(subjects.contains(&"[docent] brightwater: Downtime opened (critical)".to_owned()), "{subjects:?}");
    let logs = store.logs(&docent_lifecycle::store::LogQuery {
        bot: Some("brightwater".into()),
        limit: 1000,
        ..Default::default()
    })?;
    assert_eq!(logs.iter().filter(|record| record.message.starts_with("alert opened")).count(), 5);
    assert!(logs.iter().all(|record| !record.message.contains("secret")), "no webhook token in the logs");

    // Uptime on the KPI panel comes from the watcher's samples: below 100 % after the outage.
    let range = docent_analytics::Range::last(3600, now() + 1);
    let board = docent_analytics::Dashboard::load(store, "brightwater", range)?;
    let uptime = board.kpis.uptime.context("the watcher's samples give an uptime")?;
    assert!(uptime > 0.0 && uptime < 1.0, "{uptime}");
    Ok(())
}

/// The Analytics page lists the incidents and the channels (without their secrets), and its
/// form replaces the settings, refusing invalid ones with the line at fault.
async fn console_shows_incidents_and_takes_settings(lifecycle: &Lifecycle, gateway: SocketAddr) -> anyhow::Result<()> {
    let token = lifecycle.create_admin_token("alerts-console", Some("brightwater"), "e2e")?;
    let form = [("content-type", "application/x-www-form-urlencoded")];
    let signed_in = send(gateway, Method::POST, "/admin/sign-in", &form, format!("token={token}")).await?;
    let cookie =
        signed_in.header("set-cookie").context("a session cookie")?.split(';').next().unwrap_or_default().to_owned();
    let page =
        send(gateway, Method::GET, "/admin/bots/brightwater/analytics", &[("cookie", cookie.as_str())], "").await?;
    assert_eq!(page.status, 200);
    let html = String::from_utf8(page.body.to_vec())?;
    assert_eq!(html.matches("<tr data-kind=").count(), 5, "{html}");
    assert_eq!(html.matches("<span class=\"state good\">resolved ").count(), 5, "{html}");
    assert!(html.contains("slack 127.0.0.1") && html.contains("email via 127.0.0.1:"), "{html}");
    assert!(!html.contains("secret") && !html.contains("B000"), "no webhook token on the page");

    let csrf = html.split("name=\"csrf\" value=\"").nth(1).and_then(|rest| rest.split('"').next()).unwrap_or_default();
    let with_cookie = [("content-type", "application/x-www-form-urlencoded"), ("cookie", cookie.as_str())];
    let post = |settings: &str| {
        form_urlencoded::Serializer::new(String::new())
            .append_pair("csrf", csrf)
            .append_pair("settings", settings)
            .finish()
    };
    let refused = send(
        gateway,
        Method::POST,
        "/admin/bots/brightwater/alerts",
        &with_cookie,
        post("[[channel]]\nkind = \"sms\"\n"),
    )
    .await?;
    assert_eq!(refused.status, 400);
    assert!(String::from_utf8_lossy(&refused.body).contains("line 1: channel 1 (`to` is required)"));
    let saved = send(
        gateway,
        Method::POST,
        "/admin/bots/brightwater/alerts",
        &with_cookie,
        post("[thresholds]\nerror_rate_percent = 25\n"),
    )
    .await?;
    assert_eq!((saved.status, saved.header("location")), (303, Some("/admin/bots/brightwater/analytics#alerts")));
    let settings = docent_gateway::alerts::settings_of(lifecycle.store(), "brightwater")?;
    assert!(settings.channels.is_empty() && (settings.thresholds.error_rate - 0.25).abs() < 1e-9);
    Ok(())
}

#[tokio::test]
async fn metrics_need_an_admin_token_for_every_bot() -> anyhow::Result<()> {
    let stack = stack();
    let origin = stack.allowed_origin();
    let ask = [("content-type", "application/json"), ("origin", origin.as_str())];
    let body = r#"{"text":"How long does delivery take?"}"#;
    let answered = send(stack.gateway, Method::POST, "/v1/bots/brightwater/messages", &ask, body).await?;
    assert_eq!(answered.status, 200);

    let refused = send(stack.gateway, Method::GET, "/v1/admin/metrics", &[], "").await?;
    assert_eq!((refused.status, refused.error_code().as_str()), (401, "unauthorized"));
    let scoped = stack.lifecycle.create_admin_token("metrics-scoped", Some("brightwater"), "e2e")?;
    let bearer = |token: &str| format!("Bearer {token}");
    let forbidden =
        send(stack.gateway, Method::GET, "/v1/admin/metrics", &[("authorization", &bearer(&scoped))], "").await?;
    assert_eq!((forbidden.status, forbidden.error_code().as_str()), (403, "forbidden"));

    let scraped =
        send(stack.gateway, Method::GET, "/v1/admin/metrics", &[("authorization", &bearer(&stack.admin_token))], "")
            .await?;
    assert_eq!(scraped.status, 200);
    assert!(scraped.header("content-type").is_some_and(|value| value.starts_with("application/openmetrics-text")));
    let text = String::from_utf8(scraped.body.to_vec())?;
    for expected in [
        "docent_http_requests_total{route=\"bot_messages\",status=\"200\"}",
        "docent_http_request_duration_seconds_bucket{le=\"0.001\",route=\"bot_messages\"}",
        "docent_replies_total{bot=\"brightwater\",tier=",
        "docent_live_generation{bot=\"brightwater\"} ",
        "docent_quota_used_messages{bot=\"brightwater\"} ",
        "docent_events_queue_depth ",
        "docent_events_dropped_total 0",
    ] {
        assert!(text.contains(expected), "{expected} in\n{text}");
    }
    Ok(())
}
