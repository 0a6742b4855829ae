//! Two `docent serve` replicas on one PostgreSQL store, each with a data directory of its own:
//! generations reach them through the store. A CLI deploy and a rollback (to a generation one
//! replica never had, run from a third, empty data directory) are served by both within 2 s; a
//! chunk corrupted in the database makes the fetching replica keep its old generation and say
//! why on `/readyz` and in the console, until a redeploy publishes the generation again and
//! heals it, or, repaired in the database, until the replica's own next try; a publication
//! the database refuses fails the deploy and leaves the live generation everywhere; collected
//! generations leave the database and the replicas' directories.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use docent_gateway::live::{POLL_INTERVAL, RETRY_INTERVAL};
use docent_lifecycle::store::PgUrl;
use docent_lifecycle::{Lifecycle, LifecycleOptions};
use docent_tests::http::send;
use docent_tests::postgres::Postgres;
use docent_tests::{copy_tree, workspace_root};
use hyper::Method;

use crate::replicas::{PROPAGATION, cli, greeting, seen_everywhere};
use crate::restart::{Gateway, docent_binary};

const ORIGINAL: &str = "Hi! I'm the Brightwater assistant.";
/// How soon a replica tries a failed generation again by itself: its first retries come after
/// [`RETRY_INTERVAL`] and twice that.
const RETRIED: Duration = RETRY_INTERVAL.saturating_mul(5);

/// Replaces the greeting in the bot's bot.toml (a chatroom setting: a quick generation).
fn set_greeting(bots: &Path, from: &str, to: &str) {
    let toml = bots.join("brightwater/bot.toml");
    let text = std::fs::read_to_string(&toml).unwrap();
    assert!(text.contains(from), "bot.toml holds {from:?}");
    std::fs::write(&toml, text.replace(from, to)).unwrap();
}

/// The console page at `path` of `replica`, signed in with a new admin token.
async fn console_page(replica: SocketAddr, store: &str, path: &str) -> String {
    let url = PgUrl::parse(store).unwrap();
    // The PostgreSQL client blocks: the token is made on a blocking thread.
    let token = tokio::task::spawn_blocking(move || {
        let data = tempfile::tempdir().unwrap();
        let lifecycle =
            Lifecycle::open(LifecycleOptions { store: Some(url), ..LifecycleOptions::new(data.path(), data.path()) });
        lifecycle.unwrap().create_admin_token("replica-console", None, "e2e").unwrap()
    })
    .await
    .unwrap();
    let form = [("content-type", "application/x-www-form-urlencoded")];
    let signed_in = send(replica, Method::POST, "/admin/sign-in", &form, format!("token={token}")).await.unwrap();
    let cookie = signed_in.header("set-cookie").unwrap().split(';').next().unwrap().to_owned();
    let page = send(replica, Method::GET, path, &[("cookie", cookie.as_str())], "").await.unwrap();
    assert_eq!(page.status, 200);
    String::from_utf8_lossy(&page.body).into_owned()
}

/// `/readyz`'s status and body.
async fn readiness(replica: SocketAddr) -> (u16, String) {
    let reply = send(replica, Method::GET, "/readyz", &[], "").await.unwrap();
    (reply.status, String::from_utf8_lossy(&reply.body).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_with_their_own_data_directories_fetch_verify_and_heal_generations_from_the_store() {
    let docent = tokio::task::spawn_blocking(docent_binary).await.unwrap().unwrap();
    let server = tokio::task::spawn_blocking(Postgres::start).await.unwrap().unwrap();
    let store = server.create_database("artifacts").unwrap();
    let bots = tempfile::tempdir().unwrap();
    copy_tree(&workspace_root().join("demo/bots"), bots.path()).unwrap();
    let (data_a, data_b, data_c) =
        (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let run = |data: &Path, arguments: &[&str]| cli(&docent, arguments, bots.path(), data, &store);

    // Generations 1 and 2 are built and published from data directory A before any replica runs.
    run(data_a.path(), &["deploy", "brightwater"]);
    let second = "Hello from the database!";
    set_greeting(bots.path(), ORIGINAL, second);
    run(data_a.path(), &["deploy", "brightwater"]);

    let replicas: Vec<SocketAddr> =
        (0..2).map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap()).collect();
    let _first = Gateway::start_with(&docent, bots.path(), data_a.path(), replicas[0], |command| {
        command.args(["--store", &store]);
    })
    .unwrap();
    // The default for a PostgreSQL store, said once by environment.
    let _second = Gateway::start_with(&docent, bots.path(), data_b.path(), replicas[1], |command| {
        command.env("DOCENT_STORE", &store).env("DOCENT_ARTIFACTS", "store");
    })
    .unwrap();
    for replica in &replicas {
        assert!(greeting(*replica).await.contains(second), "{replica} serves generation 2");
    }
    let fetched = |number: u64| data_b.path().join(format!("generations/brightwater/{number}"));
    assert!(fetched(2).join("index").is_dir() && !fetched(1).exists(), "replica B fetched the live generation only");

    // A rollback from an empty data directory: that CLI fetches generation 1 to check it, and
    // replica B, which never had it, fetches it too.
    run(data_c.path(), &["rollback", "brightwater"]);
    let rolled_back = seen_everywhere(&replicas, ORIGINAL, "the rollback to generation 1").await;
    assert!(fetched(1).join("config.toml").is_file());

    let third = "Hello again from the database!";
    set_greeting(bots.path(), second, third);
    run(data_a.path(), &["deploy", "brightwater"]);
    let deployed = seen_everywhere(&replicas, third, "the deploy of generation 3").await;
    eprintln!("rollback served by both replicas after {rolled_back:?}, deploy after {deployed:?}");

    // Generation 4 is trained (published, not live); one byte of its largest chunk is changed
    // in the database before it goes live.
    let fourth = "Hello, said the fourth generation.";
    set_greeting(bots.path(), third, fourth);
    run(data_a.path(), &["train", "brightwater"]);
    let corrupted = change_chunk(&server, 4, 1);
    run(data_a.path(), &["rollback", "brightwater", "--to", "4"]);
    seen_everywhere(&replicas[..1], fourth, "generation 4 on replica A, which built it").await;
    reported_corrupt(replicas[1], &corrupted).await;
    assert!(greeting(replicas[1]).await.contains(third), "replica B keeps serving generation 3");
    let page = console_page(replicas[1], &store, "/admin/bots/brightwater").await;
    assert!(
        page.contains("This gateway cannot serve the live generation") && page.contains(&corrupted),
        "the console names the problem: {page}"
    );
    assert!(!fetched(4).exists(), "nothing unverified is left in replica B's data directory");
    assert_eq!(readiness(replicas[0]).await.0, 200, "replica A serves generation 4");

    // The same sources deployed again: generation 4 is published anew, and replica B heals.
    run(data_a.path(), &["deploy", "brightwater"]);
    seen_everywhere(&replicas, fourth, "generation 4 after its republication").await;
    let (status, body) = readiness(replicas[1]).await;
    assert_eq!(status, 200, "{body}");

    // Once more with generation 5, repaired in the database this time: replica B tries again by
    // itself, with no change in the store to tell it.
    let fifth = "Hello, said the fifth generation.";
    set_greeting(bots.path(), fourth, fifth);
    run(data_a.path(), &["train", "brightwater"]);
    let corrupted = change_chunk(&server, 5, 1);
    run(data_a.path(), &["rollback", "brightwater", "--to", "5"]);
    reported_corrupt(replicas[1], &corrupted).await;
    assert!(greeting(replicas[1]).await.contains(fourth), "replica B keeps serving generation 4");
    assert_eq!(change_chunk(&server, 5, 255), corrupted, "the same chunk is restored");
    let started = Instant::now();
    while !greeting(replicas[1]).await.contains(fifth) {
        assert!(started.elapsed() < RETRIED, "replica B did not try generation 5 again within {RETRIED:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    eprintln!("replica B fetched the repaired generation {:?} after the repair", started.elapsed());
    assert_eq!(readiness(replicas[1]).await.0, 200);

    // A publication that fails (the database refuses chunks) fails the deploy: generation 5
    // stays live everywhere. Once the database takes chunks again, a deploy publishes and
    // activates the generation the failed one left behind.
    server
        .sql(
            "artifacts",
            "CREATE FUNCTION refuse_chunks() RETURNS trigger LANGUAGE plpgsql AS
                 $$ BEGIN RAISE EXCEPTION 'no room for artifact chunks'; END $$;
             CREATE TRIGGER refuse_chunks BEFORE INSERT ON artifact_chunks
                 FOR EACH ROW EXECUTE FUNCTION refuse_chunks()",
        )
        .unwrap();
    let sixth = "Hello, said the sixth generation.";
    set_greeting(bots.path(), fifth, sixth);
    let failed = Command::new(&docent)
        .args(["deploy", "brightwater"])
        .env("DOCENT_BOTS", bots.path())
        .env("DOCENT_DATA", data_a.path())
        .env("DOCENT_STORE", &store)
        .env("DOCENT_LOG", "error")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&failed.stderr);
    assert!(!failed.status.success() && said.contains("no room for artifact chunks"), "{:?}: {said}", failed.status);
    assert_eq!(server.sql("artifacts", "SELECT live FROM bots WHERE id = 'brightwater'").unwrap(), "5");
    tokio::time::sleep(POLL_INTERVAL * 2).await;
    for replica in &replicas {
        assert!(greeting(*replica).await.contains(fifth), "{replica} still serves generation 5");
        assert_eq!(readiness(*replica).await.0, 200, "{replica} has nothing to report");
    }
    server.sql("artifacts", "DROP TRIGGER refuse_chunks ON artifact_chunks").unwrap();
    run(data_a.path(), &["deploy", "brightwater"]);
    seen_everywhere(&replicas, sixth, "generation 6 after its publication").await;

    // That deploy collected generation 1 (five are kept, and the live and previous ones): its
    // publication went with its row, and replica B removes its own copy.
    assert_eq!(server.sql("artifacts", "SELECT COUNT(*) FROM artifact_files WHERE generation = 1").unwrap(), "0");
    let started = Instant::now();
    while fetched(1).exists() {
        assert!(started.elapsed() < PROPAGATION, "replica B kept its copy of collected generation 1");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(fetched(6).is_dir() && fetched(5).is_dir(), "the live and previous generations stay");
}

/// Adds `delta` to the first byte of the largest stored chunk of `generation`; returns its file.
fn change_chunk(server: &Postgres, generation: u64, delta: u8) -> String {
    let path = server
        .sql(
            "artifacts",
            &format!(
                "UPDATE artifact_chunks SET data = set_byte(data, 0, (get_byte(data, 0) + {delta}) % 256)
                 WHERE (bot, generation, path, seq) = (
                     SELECT bot, generation, path, seq FROM artifact_chunks
                     WHERE bot = 'brightwater' AND generation = {generation}
                     ORDER BY length(data) DESC, path, seq LIMIT 1)
                 RETURNING path"
            ),
        )
        .unwrap();
    assert!(!path.is_empty(), "one chunk of generation {generation} was changed");
    path
}

/// Waits until `replica`'s `/readyz` refuses, naming the bot and the damaged `file`.
async fn reported_corrupt(replica: SocketAddr, file: &str) {
    let started = Instant::now();
    loop {
        let (status, body) = readiness(replica).await;
        if status == 503 {
            assert!(
                body.contains("not_ready")
                    && body.contains("brightwater")
                    && body.contains("does not match its manifest")
                    && body.contains(file),
                "{body}"
            );
            return;
        }
        assert!(started.elapsed() < PROPAGATION, "{replica} did not report the damaged generation: {status} {body}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
