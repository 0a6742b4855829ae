//! Runs the shared store suite on SQLite files, plus what only SQLite has: migrations and backups.

use docent_store::suite::CASES;
use docent_store::{ArtifactFile, AuditEntry, BotSeed, SqliteStore, Store, Visibility};

/// The number of migrations.
const LATEST_SCHEMA: i64 = 8;

#[test]
fn the_store_suite_passes_on_sqlite() {
    for (name, case) in CASES {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("docent.sqlite")).unwrap();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| case(&store)));
        assert!(outcome.is_ok(), "store case failed: {name}");
    }
}

#[test]
fn publishing_artifacts_is_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("docent.sqlite")).unwrap();
    let file = ArtifactFile { path: "config.toml".into(), size: 0, sha256: String::new() };
    let errors = [
        store.publish_artifact("acme", 1, &[file], &mut |_: &ArtifactFile| Ok(Box::new(std::io::empty()) as _)).err(),
        store.artifact_files("acme", 1).err(),
        store.read_artifact_file("acme", 1, "config.toml", &mut Vec::new()).err(),
    ];
    for err in errors {
        let text = err.expect("refused").to_string();
        assert!(text.contains("data directory only") && text.contains("PostgreSQL"), "{text}");
    }
}

#[test]
fn two_handles_on_one_file_count_messages_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("docent.sqlite");
    let first = SqliteStore::open(&path).unwrap();
    let second = SqliteStore::open(&path).unwrap();
    docent_store::suite::two_handles_count_messages_exactly(&first, &second);
}

#[test]
fn reopening_keeps_data_and_the_schema_version() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("docent.sqlite");
    let audit = AuditEntry::new(0, "tester", Some("acme"), "create", "");
    let seed = BotSeed { visibility: Visibility::Internal, password_hash: None, token_digests: Vec::new() };
    {
        let store = SqliteStore::open(&path).unwrap();
        store.ensure_bot("acme", &seed, &audit).unwrap();
        assert_eq!(store.schema_version().unwrap(), LATEST_SCHEMA);
    }
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), LATEST_SCHEMA);
    assert_eq!(store.bot("acme").unwrap().unwrap().visibility, Visibility::Internal);
    let backup = dir.path().join("copy.sqlite");
    store.backup_to(&backup).unwrap();
    assert!(store.backup_to(&backup).is_err(), "a backup never overwrites");
    let copy = SqliteStore::open(&backup).unwrap();
    assert_eq!(copy.bot("acme").unwrap(), store.bot("acme").unwrap());
    assert_eq!(copy.revision().unwrap(), store.revision().unwrap());
}

#[test]
fn migrations_upgrade_an_older_store_and_refuse_a_newer_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("docent.sqlite");
    drop(SqliteStore::open(&path).unwrap());
    // Take the file back to schema version 1.
    let raw = rusqlite::Connection::open(&path).unwrap();
    raw.execute_batch(
        "ALTER TABLE schedules DROP COLUMN claimed_by; DELETE FROM schema_migrations WHERE version >= 2;
         DROP TABLE events; DROP TABLE event_hours; DROP TABLE conversations; DROP TABLE question_days;
         DROP TABLE log_records; DROP TABLE sessions; ALTER TABLE bots DROP COLUMN site_secret;
         DROP TABLE alert_settings; DROP TABLE incidents; DROP TABLE probe_targets; DROP TABLE probe_hours;
         DROP TABLE monitor_runs; DROP TABLE report_schedules;",
    )
    .unwrap();
    drop(raw);
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), LATEST_SCHEMA);
    let seed = BotSeed { visibility: Visibility::Public, password_hash: None, token_digests: Vec::new() };
    store.ensure_bot("acme", &seed, &AuditEntry::new(0, "t", Some("acme"), "create", "")).unwrap();
    store
        .add_schedule("acme", docent_store::ScheduleAction::Deploy, 5, &AuditEntry::new(0, "t", Some("acme"), "s", ""))
        .unwrap();
    assert_eq!(store.claim_due_schedule(5, "host:9").unwrap().unwrap().claimed_by.as_deref(), Some("host:9"));
    drop(store);

    let raw = rusqlite::Connection::open(&path).unwrap();
    raw.execute("INSERT INTO schema_migrations (version) VALUES (99)", []).unwrap();
    drop(raw);
    let err = SqliteStore::open(&path).err().unwrap().to_string();
    assert_eq!(
        err,
        format!("store schema version 99 is newer than this docent knows ({LATEST_SCHEMA}); upgrade docent")
    );
}
