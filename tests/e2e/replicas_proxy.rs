//! Two `docent serve` replicas on one PostgreSQL store and one shared data directory, behind
//! Debian's nginx as a caching reverse proxy (an upstream of both, failing over with
//! `proxy_next_upstream`), each test under a steady load of chat requests through nginx: a
//! deploy and a rollback reach both replicas within 2 s with no failed request; a replica
//! killed with SIGKILL costs no request and serves the current generation once restarted;
//! PostgreSQL restarted under load makes chat that needs the store (a bot under a monthly
//! limit, whose messages are counted there) answer 503 `store_unavailable` with `Retry-After`
//! within a bound (never a hang), the replicas reconnect by themselves, and every event sent
//! meanwhile reaches the store.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use docent_tests::http::{Reply, send, served_revision, until_serving};
use docent_tests::nginx::Nginx;
use docent_tests::postgres::Postgres;
use docent_tests::{copy_tree, workspace_root};
use hyper::Method;

use crate::replicas::{greeting, seen_everywhere};
use crate::restart::{Gateway, docent_binary};

/// The origin `demo/bots/brightwater/bot.toml` allows.
const ORIGIN: &str = "http://localhost:8081";
/// Chat requests in flight at once through nginx.
const LOAD_CLIENTS: usize = 6;
/// The longest any chat request may take, the store down or not: the pool waits 1 s for a
/// connection, then the gateway answers 503; the rest is room for a loaded 2-core machine.
const SLOWEST_ALLOWED: Duration = Duration::from_secs(4);
/// The bound on PostgreSQL coming back and the replicas reconnecting, and on the events kept
/// meanwhile reaching the store (retries wait at most 4 s).
const RECOVERY: Duration = Duration::from_secs(15);
/// Widget event batches sent during the outage, and goal events in each.
const OUTAGE_BATCHES: usize = 10;
const GOALS_PER_BATCH: usize = 5;

/// Two replicas on one throwaway PostgreSQL, behind nginx.
struct Cluster {
    docent: PathBuf,
    postgres: Option<Postgres>,
    store: String,
    bots: tempfile::TempDir,
    data: tempfile::TempDir,
    replicas: Vec<SocketAddr>,
    gateways: Vec<Option<Gateway>>,
    nginx: Nginx,
}

impl Cluster {
    async fn start(database: &str) -> Cluster {
        let docent = tokio::task::spawn_blocking(docent_binary).await.unwrap().unwrap();
        let postgres = tokio::task::spawn_blocking(Postgres::start).await.unwrap().unwrap();
        let store = postgres.create_database(database).unwrap();
        let bots = tempfile::tempdir().unwrap();
        copy_tree(&workspace_root().join("demo/bots"), bots.path()).unwrap();
        let data = tempfile::tempdir().unwrap();
        let replicas: Vec<SocketAddr> =
            (0..2).map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap()).collect();
        let mut cluster = Cluster {
            docent,
            postgres: Some(postgres),
            store,
            bots,
            data,
            nginx: Nginx::start_balancing(&replicas),
            replicas,
            gateways: Vec::new(),
        };
        cluster.cli(&["deploy", "brightwater"]).await;
        for index in 0..cluster.replicas.len() {
            let gateway = cluster.start_replica(index);
            cluster.gateways.push(Some(gateway));
        }
        cluster
    }

    /// Starts replica `index` on its address; every client comes through nginx, so the
    /// per-client limits are lifted.
    fn start_replica(&self, index: usize) -> Gateway {
        let limits = [
            "--messages-per-client",
            "1000000",
            "--messages-per-conversation",
            "1000",
            "--max-connections-per-client",
            "0",
        ];
        Gateway::start_with(&self.docent, self.bots.path(), self.data.path(), self.replicas[index], |command| {
            command.args(["--store", &self.store]).args(limits).env("DOCENT_LOG", "error");
        })
        .unwrap()
    }

    /// Runs a lifecycle command of the CLI on the shared store and data directory.
    async fn cli(&self, arguments: &[&str]) {
        let mut command = Command::new(&self.docent);
        command
            .args(arguments)
            .env("DOCENT_BOTS", self.bots.path())
            .env("DOCENT_DATA", self.data.path())
            .env("DOCENT_STORE", &self.store)
            .env("DOCENT_LOG", "error")
            .stdout(Stdio::null());
        let shown = format!("{arguments:?}");
        let status = tokio::task::spawn_blocking(move || command.status()).await.unwrap().unwrap();
        assert!(status.success(), "docent {shown} failed with {status}");
    }

    /// Rewrites the bot's greeting in its bot.toml.
    fn set_greeting(&self, from: &str, to: &str) {
        let toml = self.bots.path().join("brightwater/bot.toml");
        let text = std::fs::read_to_string(&toml).unwrap();
        assert!(text.contains(from), "bot.toml has the greeting {from:?}");
        std::fs::write(&toml, text.replace(from, to)).unwrap();
    }

    /// Counts events of the store's `events` table matching `condition`, with `psql`.
    fn count_events(&self, database: &str, condition: &str) -> u64 {
        let postgres = self.postgres.as_ref().unwrap();
        postgres.sql(database, &format!("SELECT count(*) FROM events WHERE {condition}")).unwrap().parse().unwrap()
    }
}

async fn chat(address: SocketAddr) -> anyhow::Result<Reply> {
    let body = serde_json::json!({ "text": "Do you ship abroad?" }).to_string();
    let headers = [("content-type", "application/json"), ("origin", ORIGIN)];
    send(address, Method::POST, "/v1/bots/brightwater/messages", &headers, body).await
}

/// What the load saw.
#[derive(Debug, Default)]
struct Tally {
    answered: u64,
    /// 503 `store_unavailable` with `Retry-After`.
    unavailable: u64,
    /// Anything else: a status, a connection error, a 503 without its header.
    failures: Vec<String>,
    slowest: Duration,
}

/// Chat requests back to back through nginx from [`LOAD_CLIENTS`] tasks, until stopped.
struct Load {
    stop: Arc<AtomicBool>,
    clients: Vec<tokio::task::JoinHandle<Tally>>,
}

impl Load {
    fn start(proxy: SocketAddr) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let clients = (0..LOAD_CLIENTS)
            .map(|_| {
                let stop = Arc::clone(&stop);
                tokio::spawn(async move {
                    let mut tally = Tally::default();
                    while !stop.load(Ordering::Relaxed) {
                        let started = Instant::now();
                        let reply = chat(proxy).await;
                        tally.slowest = tally.slowest.max(started.elapsed());
                        match reply {
                            Ok(reply) if reply.status == 200 => tally.answered += 1,
                            Ok(reply)
                                if reply.status == 503
                                    && reply.error_code() == "store_unavailable"
                                    && reply
                                        .header("retry-after")
                                        .is_some_and(|seconds| seconds.parse::<u64>().is_ok()) =>
                            {
                                tally.unavailable += 1;
                            }
                            Ok(reply) => tally.failures.push(format!(
                                "{} {:?}: {}",
                                reply.status,
                                reply.header("retry-after"),
                                String::from_utf8_lossy(&reply.body)
                            )),
                            Err(err) => tally.failures.push(format!("{err:#}")),
                        }
                    }
                    tally
                })
            })
            .collect();
        Load { stop, clients }
    }

    async fn finish(self) -> Tally {
        self.stop.store(true, Ordering::Relaxed);
        let mut total = Tally::default();
        for client in self.clients {
            let tally = client.await.unwrap();
            total.answered += tally.answered;
            total.unavailable += tally.unavailable;
            total.failures.extend(tally.failures);
            total.slowest = total.slowest.max(tally.slowest);
        }
        eprintln!(
            "load: {} answered, {} store_unavailable, {} failed, slowest {:?}",
            total.answered,
            total.unavailable,
            total.failures.len(),
            total.slowest
        );
        total
    }
}

/// Fails with the first failures seen, if any.
fn assert_no_failures(tally: &Tally, what: &str) {
    assert!(
        tally.failures.is_empty(),
        "{} requests failed {what}: {:?}",
        tally.failures.len(),
        &tally.failures[..3.min(tally.failures.len())]
    );
    assert!(tally.answered > 0, "the load was answered {what}");
    assert!(tally.slowest < SLOWEST_ALLOWED, "a request took {:?} {what}", tally.slowest);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deploy_and_a_rollback_under_load_reach_both_replicas_with_no_failed_request() {
    let cluster = Cluster::start("proxy_deploy").await;
    let original = greeting(cluster.replicas[0]).await;
    let load = Load::start(cluster.nginx.address);
    tokio::time::sleep(Duration::from_millis(300)).await;

    let updated = "Hello from behind the proxy!";
    cluster.set_greeting("Hi! I'm the Brightwater assistant.", updated);
    cluster.cli(&["deploy", "brightwater"]).await;
    let deployed = seen_everywhere(&cluster.replicas, updated, "the deploy").await;
    cluster.cli(&["rollback", "brightwater"]).await;
    let rolled_back = seen_everywhere(&cluster.replicas, &original, "the rollback").await;
    eprintln!("under load, deploy seen by both replicas after {deployed:?}, rollback after {rolled_back:?}");
    tokio::time::sleep(Duration::from_millis(300)).await;

    assert_no_failures(&load.finish().await, "during the deploy and the rollback");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_killed_under_load_costs_no_request_and_comes_back_on_the_current_generation() {
    let mut cluster = Cluster::start("proxy_kill").await;
    let load = Load::start(cluster.nginx.address);
    tokio::time::sleep(Duration::from_millis(300)).await;

    // SIGKILL: no drain, connections cut mid-answer; nginx sends those requests to the other replica.
    drop(cluster.gateways[1].take());
    tokio::time::sleep(Duration::from_millis(500)).await;
    let updated = "Deployed while a replica was down.";
    cluster.set_greeting("Hi! I'm the Brightwater assistant.", updated);
    cluster.cli(&["deploy", "brightwater"]).await;
    seen_everywhere(&cluster.replicas[..1], updated, "the deploy").await;

    let restarted = cluster.start_replica(1);
    cluster.gateways[1] = Some(restarted);
    assert!(
        greeting(cluster.replicas[1]).await.contains(updated),
        "the restarted replica serves the current generation"
    );
    // nginx tries the replica again once its 2 s `fail_timeout` has passed.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let answered_directly = chat(cluster.replicas[1]).await.unwrap();
    assert_eq!(answered_directly.status, 200, "{}", String::from_utf8_lossy(&answered_directly.body));

    assert_no_failures(&load.finish().await, "while a replica was killed and restarted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgresql_restarted_under_load_means_503_with_retry_after_and_no_lost_event() {
    let mut cluster = Cluster::start("proxy_outage").await;
    // Under a monthly limit every message is counted in the store: chat needs it.
    let mut before = 0;
    for replica in &cluster.replicas {
        before = before.max(served_revision(*replica).await.unwrap());
    }
    cluster.cli(&["plan", "brightwater", "set", "--messages", "1000000"]).await;
    for replica in &cluster.replicas {
        until_serving(*replica, before + 1).await.unwrap();
    }
    let load = Load::start(cluster.nginx.address);
    tokio::time::sleep(Duration::from_millis(500)).await;

    let postgres = cluster.postgres.take().unwrap();
    let postgres = tokio::task::spawn_blocking(move || postgres.stop().map(|()| postgres)).await.unwrap().unwrap();
    let outage = Instant::now();
    // Widget events need no store to be accepted: they wait in the replicas' recorders.
    let goals: Vec<serde_json::Value> =
        (0..GOALS_PER_BATCH).map(|_| serde_json::json!({ "type": "goal", "name": "during-outage" })).collect();
    let batch = serde_json::json!({ "events": goals }).to_string();
    for _ in 0..OUTAGE_BATCHES {
        let headers = [("content-type", "application/json"), ("origin", ORIGIN)];
        let reply = send(cluster.nginx.address, Method::POST, "/v1/bots/brightwater/events", &headers, batch.clone())
            .await
            .unwrap();
        assert_eq!(reply.status, 202, "{}", String::from_utf8_lossy(&reply.body));
    }
    // Long enough for every load client to have met the outage (each waits 1 s for the pool).
    tokio::time::sleep(Duration::from_millis(2000)).await;
    let postgres =
        tokio::task::spawn_blocking(move || postgres.start_server().map(|()| postgres)).await.unwrap().unwrap();
    eprintln!("PostgreSQL was down for {:?}", outage.elapsed());
    cluster.postgres = Some(postgres);

    // Asked directly, each replica answers 503 store_unavailable until it has reconnected, then 200.
    let (mut direct_unavailable, mut direct_answered) = (0, 0);
    for replica in &cluster.replicas {
        let started = Instant::now();
        loop {
            let reply = chat(*replica).await.unwrap();
            if reply.status == 200 {
                direct_answered += 1;
                break;
            }
            assert_eq!((reply.status, reply.error_code().as_str()), (503, "store_unavailable"));
            direct_unavailable += 1;
            assert!(started.elapsed() < RECOVERY, "{replica} did not reconnect to PostgreSQL within {RECOVERY:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        eprintln!("{replica} answers again {:?} after PostgreSQL restarted", started.elapsed());
    }
    let tally = load.finish().await;
    assert_no_failures(&tally, "while PostgreSQL restarted");
    assert!(tally.unavailable > 0, "chat that needed the store answered 503 store_unavailable during the outage");

    // Every event reaches the store: the goals sent during the outage, one `message` per
    // answer and one `error` per 503, counted by the clients that saw them.
    let expected = (
        (OUTAGE_BATCHES * GOALS_PER_BATCH) as u64,
        tally.answered + direct_answered,
        tally.unavailable + direct_unavailable,
    );
    let started = Instant::now();
    loop {
        let stored = (
            cluster.count_events("proxy_outage", "kind = 'goal' AND detail = 'during-outage'"),
            cluster.count_events("proxy_outage", "kind = 'message'"),
            cluster.count_events("proxy_outage", "kind = 'error' AND value = 503"),
        );
        if stored == expected {
            break;
        }
        assert!(
            started.elapsed() < RECOVERY,
            "(goals, messages, 503s) stored {stored:?}, sent {expected:?}: events were lost or doubled"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    eprintln!("stored after the outage, as sent: (goals, messages, 503s) {expected:?}");
}
