//! Two `docent serve` replicas on one PostgreSQL store and one shared data directory, as real
//! processes: a deploy and a rollback through the CLI reach both within 2 s, a quota's last
//! message, asked for 50 times at once across both, is granted exactly once, and `/readyz`
//! follows the store going away and coming back.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use docent_tests::http::{send, served_revision, until_serving};
use docent_tests::postgres::Postgres;
use docent_tests::{copy_tree, workspace_root};
use hyper::Method;

use crate::restart::{Gateway, docent_binary};

/// The origin `demo/bots/brightwater/bot.toml` allows.
pub(crate) const ORIGIN: &str = "http://localhost:8081";
/// How soon every replica must serve what the store made live.
pub(crate) const PROPAGATION: Duration = Duration::from_secs(2);
const RACERS: usize = 50;

/// Runs a lifecycle command of the CLI on the shared store and data directory, named by environment.
pub(crate) fn cli(docent: &Path, arguments: &[&str], bots: &Path, data: &Path, store: &str) {
    let status = Command::new(docent)
        .args(arguments)
        .env("DOCENT_BOTS", bots)
        .env("DOCENT_DATA", data)
        .env("DOCENT_STORE", store)
        .env("DOCENT_LOG", "error")
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "docent {arguments:?} failed with {status}");
}

pub(crate) async fn greeting(replica: SocketAddr) -> String {
    let reply = send(replica, Method::GET, "/v1/bots/brightwater/config", &[("origin", ORIGIN)], "").await.unwrap();
    assert_eq!(reply.status, 200, "{}", String::from_utf8_lossy(&reply.body));
    reply.json()["greeting"].as_str().unwrap().to_owned()
}

/// Waits until every replica shows a greeting containing `expected`; fails after [`PROPAGATION`].
pub(crate) async fn seen_everywhere(replicas: &[SocketAddr], expected: &str, what: &str) -> Duration {
    let started = Instant::now();
    for replica in replicas {
        while !greeting(*replica).await.contains(expected) {
            assert!(started.elapsed() < PROPAGATION, "{what} not served by {replica} within {PROPAGATION:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    started.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_on_postgresql_follow_one_deploy_share_one_exact_quota_and_report_readiness() {
    let docent = tokio::task::spawn_blocking(docent_binary).await.unwrap().unwrap();
    let server = tokio::task::spawn_blocking(Postgres::start).await.unwrap().unwrap();
    let store = server.create_database("replicas").unwrap();
    let bots = tempfile::tempdir().unwrap();
    copy_tree(&workspace_root().join("demo/bots"), bots.path()).unwrap();
    let data = tempfile::tempdir().unwrap();
    let run = |arguments: &[&str]| cli(&docent, arguments, bots.path(), data.path(), &store);
    run(&["deploy", "brightwater"]);

    // One replica names the store by flag, the other by environment; both share the data directory.
    let limits =
        ["--messages-per-client", "1000", "--messages-per-conversation", "1000", "--max-connections-per-client", "0"];
    let replicas: Vec<SocketAddr> =
        (0..2).map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap()).collect();
    let _first = Gateway::start_with(&docent, bots.path(), data.path(), replicas[0], |command| {
        command.args(["--store", &store]).args(limits);
    })
    .unwrap();
    let _second = Gateway::start_with(&docent, bots.path(), data.path(), replicas[1], |command| {
        command.env("DOCENT_STORE", &store).args(limits);
    })
    .unwrap();
    let original = greeting(replicas[0]).await;
    assert_eq!(greeting(replicas[1]).await, original);

    let toml = bots.path().join("brightwater/bot.toml");
    let updated = "Hello from the shared store!";
    std::fs::write(
        &toml,
        std::fs::read_to_string(&toml).unwrap().replace("Hi! I'm the Brightwater assistant.", updated),
    )
    .unwrap();
    run(&["deploy", "brightwater"]);
    let deployed = seen_everywhere(&replicas, updated, "the deploy").await;
    run(&["rollback", "brightwater"]);
    let rolled_back = seen_everywhere(&replicas, &original, "the rollback").await;
    eprintln!("deploy seen by both replicas after {deployed:?}, rollback after {rolled_back:?}");

    let mut before = 0;
    for replica in &replicas {
        before = before.max(served_revision(*replica).await.unwrap());
    }
    run(&["plan", "brightwater", "set", "--messages", "1"]);
    for replica in &replicas {
        until_serving(*replica, before + 1).await.unwrap();
    }
    let asks = (0..RACERS).map(|index| {
        let replica = replicas[index % replicas.len()];
        tokio::spawn(async move {
            let body = serde_json::json!({ "text": "Do you ship abroad?" }).to_string();
            let headers = [("content-type", "application/json"), ("origin", ORIGIN)];
            send(replica, Method::POST, "/v1/bots/brightwater/messages", &headers, body).await.unwrap()
        })
    });
    let mut granted = 0;
    for ask in asks.collect::<Vec<_>>() {
        let reply = ask.await.unwrap();
        match reply.status {
            200 => granted += 1,
            429 => assert_eq!(reply.error_code(), "message_limit_reached"),
            other => panic!("unexpected {other}: {}", String::from_utf8_lossy(&reply.body)),
        }
    }
    assert_eq!(granted, 1, "the last message of the quota went to exactly one of {RACERS} requests");

    for replica in &replicas {
        assert_eq!(readiness(*replica).await, (200, None), "{replica} is ready");
    }
    let server = tokio::task::spawn_blocking(move || server.stop().map(|()| server)).await.unwrap().unwrap();
    for replica in &replicas {
        assert_eq!(readiness(*replica).await, (503, Some("not_ready".to_owned())), "{replica} without its store");
        let health = send(*replica, Method::GET, "/healthz", &[], "").await.unwrap();
        assert_eq!(health.status, 200, "the process is alive all the same");
    }
    let server = tokio::task::spawn_blocking(move || server.start_server().map(|()| server)).await.unwrap().unwrap();
    for replica in &replicas {
        let started = Instant::now();
        while readiness(*replica).await.0 != 200 {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "{replica} did not reconnect to its store: {:?}; PostgreSQL's log: {}",
                readiness(*replica).await,
                server.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        eprintln!("{replica} ready again {:?} after PostgreSQL restarted", started.elapsed());
    }
}

/// `/readyz`'s status and, on a refusal, its error code.
async fn readiness(replica: SocketAddr) -> (u16, Option<String>) {
    let reply = send(replica, Method::GET, "/readyz", &[], "").await.unwrap();
    let code = (reply.status != 200).then(|| reply.error_code());
    if reply.status != 200 {
        eprintln!("{replica} not ready: {}", String::from_utf8_lossy(&reply.body));
    }
    (reply.status, code)
}
