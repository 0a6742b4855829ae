//! Continuous tests end to end: a gateway behind Debian's nginx runs the bot's `[[test]]`s
//! every 2 s through nginx with the bot's allowed origin, and the next run catches each fault
//! of the live path: nginx reconfigured to strip `Access-Control-Allow-Origin`, an exhausted
//! quota, and a rollback to a generation that fails a test added since. Each failure opens one
//! incident and each recovery resolves it, announced to a webhook receiver; the console's bot
//! page shows the failing question, and `docent monitor` (the real binary) reports it too.
//! Over HTTPS, a certificate near its end fails a run with the days left.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use docent_gateway::assets::WidgetAssets;
use docent_gateway::server::ServerOptions;
use docent_gateway::tls::{ReloadingCert, TlsFiles};
use docent_lifecycle::store::Plan;
use docent_lifecycle::when::now;
use docent_lifecycle::{Lifecycle, LifecycleOptions};
use docent_tests::alerting::Gateway;
use docent_tests::http::send;
use docent_tests::nginx::Nginx;
use docent_tests::receivers::{Received, webhook_receiver};
use docent_tests::{copy_tree, workspace_root};
use hyper::Method;
use serde_json::Value;

use crate::limits::serve_on_loopback;
use crate::restart::docent_binary;
use crate::tls::TestCa;

const STRIP_CORS: &str = "proxy_hide_header Access-Control-Allow-Origin;";

/// The incident notices received (deploy notices left out), as (state, detail).
fn incident_notices(received: &Received) -> Vec<(String, String)> {
    received
        .lock()
        .unwrap()
        .iter()
        .filter(|(_, body)| body["data"]["kind"] == "continuous_tests")
        .map(|(_, body)| {
            let text = |value: &Value| value.as_str().unwrap_or_default().to_owned();
            (text(&body["data"]["state"]), text(&body["data"]["detail"]))
        })
        .collect()
}

/// Waits, for at most 30 s, until `count` incident notices arrived; returns the last.
async fn next_notice(received: &Received, count: usize, what: &str) -> (String, String) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let got = incident_notices(received);
        if got.len() >= count || Instant::now() > deadline {
            assert_eq!(got.len(), count, "{what}: {got:#?}");
            return got[count - 1].clone();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn free_address() -> anyhow::Result<SocketAddr> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?)
}

fn start_nginx(gateway: SocketAddr, address: SocketAddr, directives: &'static str) -> tokio::task::JoinHandle<Nginx> {
    tokio::task::spawn_blocking(move || Nginx::start_with(gateway, Some(address), directives))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_next_run_catches_stripped_cors_an_exhausted_quota_and_a_bad_rollback() -> anyhow::Result<()> {
    let binary = tokio::task::spawn_blocking(docent_binary).await??;
    let (data, bots) = (tempfile::tempdir()?, tempfile::tempdir()?);
    let bot_dir = bots.path().join("brightwater");
    copy_tree(&workspace_root().join("demo/bots/brightwater"), &bot_dir)?;
    let (gateway_address, edge_address) = (free_address()?, free_address()?);
    let public_url = format!("http://{edge_address}");
    let mut options = LifecycleOptions::new(data.path(), bots.path());
    options.public_url = public_url.clone();
    let lifecycle = Arc::new(Lifecycle::open(options)?);
    let deploying = Arc::clone(&lifecycle);
    tokio::task::spawn_blocking(move || deploying.deploy("brightwater", "e2e", &mut |_| {})).await??;
    let (receiver, received) = webhook_receiver().await?;
    let settings = format!(
        "[monitor]\ninterval_seconds = 2\n\n[[channel]]\nkind = \"webhook\"\nurl = \"http://{receiver}/hook\"\n"
    );
    docent_gateway::alerts::store_settings(&lifecycle, "brightwater", Some(&settings), "e2e")?;

    let mut gateway = Gateway::start(Arc::clone(&lifecycle), gateway_address).await?;
    let nginx = start_nginx(gateway.address, edge_address, "").await?;
    let store = lifecycle.store();
    let deadline = Instant::now() + Duration::from_secs(30);
    while store.monitor_runs("brightwater", 1)?.first().is_none_or(|run| run.passed != Some(true)) {
        assert!(Instant::now() < deadline, "a first passing run: {:?}", store.monitor_runs("brightwater", 5)?);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(incident_notices(&received).is_empty(), "a passing run announces nothing");

    // (a) The CDN strips CORS: every answer is refused by browsers.
    drop(nginx);
    let nginx = start_nginx(gateway.address, edge_address, STRIP_CORS).await?;
    let (state, detail) = next_notice(&received, 1, "stripped CORS opens an incident").await;
    assert_eq!(state, "opened");
    assert!(detail.contains("no Access-Control-Allow-Origin for http://localhost:8081"), "{detail}");
    drop(nginx);
    let _nginx = start_nginx(gateway.address, edge_address, "").await?;
    assert_eq!(next_notice(&received, 2, "CORS restored resolves it").await.0, "resolved");

    // (c) The month's messages are used up.
    let limited = Plan { name: "e2e".into(), messages_per_month: Some(1), storage_bytes: None, expires_at: None };
    lifecycle.set_plan("brightwater", Some(&limited), "e2e")?;
    let (state, detail) = next_notice(&received, 3, "an exhausted quota opens an incident").await;
    assert_eq!(state, "opened");
    assert!(detail.contains("HTTP 429 Too Many Requests message_limit_reached"), "{detail}");
    lifecycle.set_plan("brightwater", None, "e2e")?;
    assert_eq!(next_notice(&received, 4, "no limit resolves it").await.0, "resolved");

    // (b) A new answer and its test go live in generation 2; a rollback to 1 fails that test.
    std::fs::write(
        bot_dir.join("knowledge/trade-in.toml"),
        "[[qa]]\nquestion = \"Do you take old bikes as a trade-in?\"\n\
         answer = \"Yes: bring your old bike to the store and we credit its value against a new one.\"\n",
    )?;
    let config = bot_dir.join("bot.toml");
    let added = "\n[[test]]\nquestion = \"Do you take old bikes as a trade-in?\"\nexpect_source = \"trade-in.toml\"\n";
    std::fs::write(&config, format!("{}{added}", std::fs::read_to_string(&config)?))?;
    let deploying = Arc::clone(&lifecycle);
    tokio::task::spawn_blocking(move || deploying.deploy("brightwater", "e2e", &mut |_| {})).await??;
    let rolling = Arc::clone(&lifecycle);
    tokio::task::spawn_blocking(move || rolling.rollback("brightwater", Some(1), "e2e")).await??;
    let (state, detail) = next_notice(&received, 5, "the rollback opens an incident").await;
    assert_eq!(state, "opened");
    assert!(
        detail.contains(
            "1 of 5 questions failed; \"Do you take old bikes as a trade-in?\": expected an answer from trade-in.toml"
        ),
        "{detail}"
    );

    // The console's bot page shows the failing question.
    let token = lifecycle.create_admin_token("monitor-console", Some("brightwater"), "e2e")?;
    let form = [("content-type", "application/x-www-form-urlencoded")];
    let signed_in = send(gateway.address, Method::POST, "/admin/sign-in", &form, format!("token={token}")).await?;
    let cookie = signed_in.header("set-cookie").context("a session cookie")?.split(';').next().unwrap_or_default();
    let page = send(gateway.address, Method::GET, "/admin/bots/brightwater", &[("cookie", cookie)], "").await?;
    let html = String::from_utf8(page.body.to_vec())?;
    let section = html.split("id=\"continuous-tests\"").nth(1).context("the continuous tests section")?;
    assert!(section.contains("<span class=\"state bad\">failed</span>"), "{section}");
    assert!(section.contains("<td>Do you take old bikes as a trade-in?</td>"), "{section}");

    // `docent monitor` asks now, through the same public URL, and exits 10; the incident is
    // already open, so nothing more is announced.
    let (data_dir, bots_dir) = (data.path().to_owned(), bots.path().to_owned());
    let cli = tokio::task::spawn_blocking(move || {
        std::process::Command::new(&binary)
            .args(["monitor", "brightwater", "--fetch-private", "--public-url", &public_url, "--data"])
            .arg(data_dir)
            .arg("--bots")
            .arg(bots_dir)
            .env("DOCENT_LOG", "warn")
            .output()
    })
    .await??;
    let printed = String::from_utf8_lossy(&cli.stdout);
    assert_eq!(cli.status.code(), Some(10), "{printed}");
    assert!(printed.contains("✗ \"Do you take old bikes as a trade-in?\""), "{printed}");
    assert!(printed.contains("✓ \"How long does delivery take?\""), "{printed}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(incident_notices(&received).len(), 5, "one notice per change of state");
    gateway.stop().await;
    Ok(())
}

/// Over HTTPS, a certificate with days left fails the run and says how many: `docent monitor`
/// asks a TLS gateway whose certificate, from a CA the process trusts through
/// `SSL_CERT_FILE`, ends in 5 days' date.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expiring_certificate_fails_the_run_with_the_days_left() -> anyhow::Result<()> {
    let binary = tokio::task::spawn_blocking(docent_binary).await??;
    let (data, bots, certs) = (tempfile::tempdir()?, tempfile::tempdir()?, tempfile::tempdir()?);
    copy_tree(&workspace_root().join("demo/bots/brightwater"), &bots.path().join("brightwater"))?;
    let lifecycle = Arc::new(Lifecycle::open(LifecycleOptions::new(data.path(), bots.path()))?);
    let deploying = Arc::clone(&lifecycle);
    tokio::task::spawn_blocking(move || deploying.deploy("brightwater", "e2e", &mut |_| {})).await??;

    let ca = TestCa::new();
    let day = docent_lifecycle::when::format(now() + 5 * 86_400);
    let ymd: Vec<&str> = day[..10].split('-').collect();
    let date = (ymd[0].parse()?, ymd[1].parse()?, ymd[2].parse()?);
    ca.issue_until(certs.path(), std::time::SystemTime::now(), Some(date));
    std::fs::write(certs.path().join("ca.pem"), ca.issuer.pem())?;
    let files = TlsFiles { cert: certs.path().join("cert.pem"), key: certs.path().join("key.pem") };
    let tls = ReloadingCert::load(files)?;
    let assets = WidgetAssets::from_dir(&workspace_root().join("target/widget-dist")).map_err(anyhow::Error::msg)?;
    let opening = Arc::clone(&lifecycle);
    let state = tokio::task::spawn_blocking(move || docent_gateway::serve::app_state(opening, assets)).await??;
    let address = serve_on_loopback(state, ServerOptions { tls: Some(tls.acceptor()?), ..ServerOptions::default() });

    let (data_dir, bots_dir, ca_file) = (data.path().to_owned(), bots.path().to_owned(), certs.path().join("ca.pem"));
    let public_url = format!("https://localhost:{}", address.port());
    let cli = tokio::task::spawn_blocking(move || {
        std::process::Command::new(&binary)
            .args(["monitor", "brightwater", "--fetch-private", "--public-url", &public_url, "--data"])
            .arg(data_dir)
            .arg("--bots")
            .arg(bots_dir)
            .env("SSL_CERT_FILE", ca_file)
            .env("DOCENT_LOG", "warn")
            .output()
    })
    .await??;
    let printed = String::from_utf8_lossy(&cli.stdout);
    assert_eq!(cli.status.code(), Some(10), "{printed}{}", String::from_utf8_lossy(&cli.stderr));
    assert!(printed.contains(&format!("expires in 4 days ({} 00:00:00 UTC)", &day[..10])), "{printed}");
    let run = lifecycle.store().monitor_runs("brightwater", 1)?.pop().context("the run is stored")?;
    assert_eq!(run.passed, Some(false));
    Ok(())
}
