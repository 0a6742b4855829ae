//! The store suite on a real PostgreSQL started by the test (one database per case), plus what
//! only this backend has: concurrent migration, a version refusal and the pg_dump backup note.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use docent_lifecycle::store::suite::{
    CASES, artifacts_are_published_fetched_and_collected, two_handles_count_messages_exactly,
};
use docent_lifecycle::store::{AuditEntry, BotSeed, PgStore, PgUrl, Store, Visibility};
use docent_tests::postgres::Postgres;

fn open(url: &str) -> PgStore {
    PgStore::open(&PgUrl::parse(url).unwrap()).unwrap()
}

#[test]
fn the_store_suite_passes_on_postgresql() {
    let server = Postgres::start().unwrap();
    let mut failed = Vec::new();
    for (index, (name, case)) in CASES.iter().enumerate() {
        let store = open(&server.create_database(&format!("case_{index}")).unwrap());
        if catch_unwind(AssertUnwindSafe(|| case(&store))).is_err() {
            failed.push(*name);
        }
    }
    assert!(failed.is_empty(), "store cases failed on PostgreSQL: {failed:?}");
}

#[test]
fn generation_artifacts_are_published_fetched_and_collected() {
    let server = Postgres::start().unwrap();
    artifacts_are_published_fetched_and_collected(&open(&server.create_database("artifacts").unwrap()));
}

#[test]
fn two_stores_on_one_database_count_messages_exactly() {
    let server = Postgres::start().unwrap();
    let url = server.create_database("quota").unwrap();
    two_handles_count_messages_exactly(&open(&url), &open(&url));
}

#[test]
fn replicas_starting_together_migrate_once_and_a_newer_schema_is_refused() {
    let server = Postgres::start().unwrap();
    let url = server.create_database("migrations").unwrap();
    let versions: Vec<i64> = std::thread::scope(|scope| {
        let opening: Vec<_> = (0..4).map(|_| scope.spawn(|| open(&url).schema_version().unwrap())).collect();
        opening.into_iter().map(|thread| thread.join().unwrap()).collect()
    });
    assert!(versions.iter().all(|version| *version == versions[0] && *version >= 1), "{versions:?}");
    assert_eq!(server.sql("migrations", "SELECT COUNT(*) FROM schema_migrations").unwrap(), versions[0].to_string());

    let store = open(&url);
    let seed = BotSeed { visibility: Visibility::Internal, password_hash: None, token_digests: Vec::new() };
    store.ensure_bot("acme", &seed, &AuditEntry::new(0, "tester", Some("acme"), "create", "")).unwrap();
    drop(store);
    let store = open(&url);
    assert_eq!(store.bot("acme").unwrap().unwrap().visibility, Visibility::Internal, "reopening keeps the data");
    let backup = tempfile::tempdir().unwrap();
    let err = store.backup_to(&backup.path().join("copy")).unwrap_err().to_string();
    assert!(err.contains("back it up with pg_dump"), "{err}");
    assert!(!backup.path().join("copy").exists());
    drop(store);

    server.sql("migrations", "INSERT INTO schema_migrations (version) VALUES (99)").unwrap();
    let err = PgStore::open(&PgUrl::parse(&url).unwrap()).err().unwrap().to_string();
    assert_eq!(
        err,
        format!("store schema version 99 is newer than this docent knows ({}); upgrade docent", versions[0])
    );
}

#[test]
fn a_visible_change_is_announced_to_a_waiting_store_at_once() {
    let server = Postgres::start().unwrap();
    let url = server.create_database("notices").unwrap();
    let (watcher, writer) = (open(&url), open(&url));
    assert!(!watcher.wait_for_change(Duration::from_millis(200)).unwrap(), "nothing changed yet");
    let seed = BotSeed { visibility: Visibility::Public, password_hash: None, token_digests: Vec::new() };
    let heard = std::thread::scope(|scope| {
        scope.spawn(|| {
            std::thread::sleep(Duration::from_millis(100));
            writer.ensure_bot("acme", &seed, &AuditEntry::new(0, "tester", Some("acme"), "create", "")).unwrap();
        });
        let started = Instant::now();
        let heard = watcher.wait_for_change(Duration::from_secs(10)).unwrap();
        (heard, started.elapsed())
    });
    assert!(heard.0 && heard.1 < Duration::from_secs(2), "the change was not announced: {heard:?}");
    assert_eq!(watcher.revision().unwrap(), writer.revision().unwrap());
    // A reader that is not a visible change is never announced.
    writer.usage("acme", "2026-11").unwrap();
    assert!(!watcher.wait_for_change(Duration::from_millis(200)).unwrap());
}
