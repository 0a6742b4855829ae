//! The behaviour every [`Store`] must have, written against `&dyn Store` so each backend runs it.
//!
//! [`CASES`] lists the cases by name; a backend's test opens a fresh, empty store per case
//! and calls it (see `store/tests/sqlite.rs`). A failing case panics with its reason.

use std::collections::BTreeSet;

use crate::{
    ARTIFACT_CHUNK_BYTES, AccessToken, AdminToken, AlertKind, ArtifactFile, AuditEntry, BotSeed, BotStatus,
    DeployOutcome, DeployStart, Event, EventKind, Generation, GenerationKind, LogLevel, LogQuery, LogRecord, Plan,
    Quota, ReportSchedule, ScheduleAction, ScheduleState, Scope, Store, Tier, Visibility,
};

/// One case: a name and a function run on a fresh store.
pub type Case = (&'static str, fn(&dyn Store));

/// Every case of the suite.
pub const CASES: &[Case] = &[
    ("bots are seeded once and keep run-time changes", bots_are_seeded_once),
    ("every visible change bumps the revision and is audited", visible_changes_bump_the_revision),
    ("activation moves the live pointer and keeps the previous one", activation_moves_the_pointer),
    ("the live and previous generations cannot be deleted", live_generations_are_kept),
    ("a second deploy is refused, a stale lock is taken over", deploy_lock),
    ("concurrent claims run each due schedule exactly once", schedules_run_once),
    ("with a limit of N exactly N messages pass across threads", quota_is_exact_under_concurrency),
    ("an expired plan refuses messages", expired_plan),
    ("bulk usage adds up with counted messages, unknown bots skipped", bulk_usage),
    ("access tokens: names are unique until revoked", access_tokens),
    ("admin tokens: found by digest until revoked, with scope", admin_tokens),
    ("sessions: found by digest until they expire or are deleted", sessions),
    ("events fold into hourly rollups, conversations and question counts", events_fold_into_rollups),
    ("question texts are forgotten after the retention", texts_are_purged),
    ("log records filter by bot, time range and lowest level", log_records_filter),
    ("alert settings are stored per bot and audited without their text", alert_settings),
    ("an incident opens once and resolves once, even under concurrent evaluators", incidents_open_and_resolve_once),
    ("probe samples fold into each target's state and hourly uptime", probes_fold_into_state_and_uptime),
    ("a due continuous test run is claimed once across threads, then recorded", monitor_runs_are_claimed_once),
    ("report schedules: one per bot and period, each due report claimed once", report_schedules),
    ("flow paths and drop-offs carry on across batches", flows_across_batches),
];

const T0: i64 = 1_790_000_000;

/// Two handles on one store (two gateways: two processes, each with its own connections) count
/// a quota of 50 exactly between them. `first` and `second` must open the same, empty store.
pub fn two_handles_count_messages_exactly(first: &dyn Store, second: &dyn Store) {
    add_bot(first, "acme");
    let plan = Plan { name: "p".into(), messages_per_month: Some(50), storage_bytes: None, expires_at: None };
    first.set_plan("acme", Some(&plan), &audit("plan", Some("acme"))).unwrap();
    let allowed = std::sync::atomic::AtomicU64::new(0);
    std::thread::scope(|scope| {
        for store in [first, second, first, second] {
            let allowed = &allowed;
            scope.spawn(move || {
                for _ in 0..20 {
                    if matches!(store.consume_message("acme", "2026-11", T0).unwrap(), Quota::Allowed { .. }) {
                        allowed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                }
            });
        }
    });
    assert_eq!(allowed.into_inner(), 50);
    assert_eq!(second.usage("acme", "2026-11").unwrap(), 50);
    assert_eq!(second.revision().unwrap(), first.revision().unwrap());
}

/// For a store that publishes artifacts (PostgreSQL; SQLite refuses, see `store/tests/sqlite.rs`):
/// a publication is read back byte for byte (an empty file, one of several chunks), a
/// republication replaces it, a file shorter than its manifest entry is refused and leaves the
/// earlier publication whole, an unknown generation is refused, and deleting the generation
/// deletes its publication.
pub fn artifacts_are_published_fetched_and_collected(store: &dyn Store) {
    add_bot(store, "acme");
    let first = add_generation(store, "acme");
    let second = add_generation(store, "acme");
    let third = add_generation(store, "acme");
    store.activate_generation("acme", third, None, &audit("activate", Some("acme"))).unwrap();
    store.activate_generation("acme", second, None, &audit("activate", Some("acme"))).unwrap();
    let large: Vec<u8> = (0..ARTIFACT_CHUNK_BYTES * 2 + 17).map(|i| (i % 251) as u8).collect();
    let contents: Vec<(&str, Vec<u8>)> =
        vec![("config.toml", b"name = \"x\"".to_vec()), ("index/empty", Vec::new()), ("index/large.bin", large)];
    let manifest = |contents: &[(&str, Vec<u8>)]| -> Vec<ArtifactFile> {
        contents
            .iter()
            .map(|(path, bytes)| ArtifactFile {
                path: (*path).to_owned(),
                size: bytes.len() as u64,
                sha256: format!("digest of {} bytes", bytes.len()),
            })
            .collect()
    };
    let publish = |number: u64, files: &[ArtifactFile], contents: &[(&str, Vec<u8>)]| {
        store.publish_artifact("acme", number, files, &mut |file: &ArtifactFile| {
            let bytes = contents.iter().find(|(path, _)| *path == file.path).map(|(_, bytes)| bytes.clone());
            Ok(Box::new(std::io::Cursor::new(bytes.unwrap_or_default())) as Box<dyn std::io::Read>)
        })
    };
    let read_back = |number: u64, path: &str| {
        let mut bytes = Vec::new();
        let count = store.read_artifact_file("acme", number, path, &mut bytes).unwrap();
        assert_eq!(count, bytes.len() as u64);
        bytes
    };

    assert_eq!(store.artifact_files("acme", first).unwrap(), None, "nothing is published by itself");
    publish(first, &manifest(&contents), &contents).unwrap();
    assert_eq!(store.artifact_files("acme", first).unwrap(), Some(manifest(&contents)));
    for (path, bytes) in &contents {
        assert!(read_back(first, path) == *bytes, "{path} reads back as published");
    }
    assert_eq!(store.artifact_files("acme", second).unwrap(), None, "publications are per generation");

    let replaced = vec![("config.toml", b"name = \"y\"".to_vec())];
    publish(first, &manifest(&replaced), &replaced).unwrap();
    assert_eq!(store.artifact_files("acme", first).unwrap(), Some(manifest(&replaced)), "republished");
    assert!(read_back(first, "index/large.bin").is_empty(), "files of the replaced publication are gone");

    let mut short = manifest(&contents);
    short[2].size += 1;
    let err = publish(first, &short, &contents).unwrap_err().to_string();
    assert!(err.contains("index/large.bin") && err.contains("manifest"), "{err}");
    assert_eq!(
        store.artifact_files("acme", first).unwrap(),
        Some(manifest(&replaced)),
        "a refused one changes nothing"
    );
    assert!(publish(99, &manifest(&replaced), &replaced).is_err(), "an unknown generation cannot be published");

    publish(second, &manifest(&contents), &contents).unwrap();
    store.delete_generation("acme", first).unwrap();
    assert_eq!(store.artifact_files("acme", first).unwrap(), None, "collected with its generation");
    assert!(read_back(first, "config.toml").is_empty());
    assert!(read_back(second, "index/large.bin") == contents[2].1, "the others stay");
}

fn audit(action: &str, bot: Option<&str>) -> AuditEntry {
    AuditEntry::new(T0, "tester", bot, action, "")
}

fn seed(visibility: Visibility) -> BotSeed {
    BotSeed { visibility, password_hash: None, token_digests: Vec::new() }
}

fn add_bot(store: &dyn Store, id: &str) {
    assert!(store.ensure_bot(id, &seed(Visibility::Public), &audit("create", Some(id))).unwrap());
}

fn add_generation(store: &dyn Store, bot: &str) -> u64 {
    let number = store.next_generation_number(bot).unwrap();
    store
        .insert_generation(&Generation {
            bot: bot.to_owned(),
            number,
            created_at: T0,
            created_by: "tester".into(),
            kind: GenerationKind::Complete,
            dir: number.to_string(),
            knowledge_digest: format!("k{number}"),
            manifest: "{}".into(),
            config: "name = \"x\"".into(),
        })
        .unwrap();
    number
}

fn bots_are_seeded_once(store: &dyn Store) {
    let seeded = BotSeed {
        visibility: Visibility::Internal,
        password_hash: Some("$argon2id$seed".into()),
        token_digests: vec!["ab".repeat(32)],
    };
    assert!(store.ensure_bot("staff", &seeded, &audit("create", Some("staff"))).unwrap());
    let tokens = store.access_tokens("staff").unwrap();
    assert_eq!(tokens.len(), 1);
    assert_eq!(tokens[0].name, "bot.toml-1");
    store.set_visibility("staff", Visibility::Public, &audit("visibility", Some("staff"))).unwrap();
    // bot.toml still says internal: seeding again must not undo the run-time change.
    assert!(!store.ensure_bot("staff", &seeded, &audit("create", Some("staff"))).unwrap());
    let bot = store.bot("staff").unwrap().unwrap();
    assert_eq!(bot.visibility, Visibility::Public);
    assert_eq!(bot.password_hash.as_deref(), Some("$argon2id$seed"));
    assert_eq!(bot.status, BotStatus::Active);
    assert_eq!(store.access_tokens("staff").unwrap().len(), 1);
    assert!(store.bot("nobody").unwrap().is_none());
    assert!(store.set_visibility("nobody", Visibility::Public, &audit("visibility", None)).is_err());
}

fn visible_changes_bump_the_revision(store: &dyn Store) {
    let mut last = store.revision().unwrap();
    let mut expect_bump = |what: &str| {
        let now = store.revision().unwrap();
        assert!(now > last, "{what} did not bump the revision");
        last = now;
    };
    add_bot(store, "acme");
    expect_bump("ensure_bot");
    let number = add_generation(store, "acme");
    store.activate_generation("acme", number, None, &audit("activate", Some("acme"))).unwrap();
    expect_bump("activate_generation");
    store.set_status("acme", BotStatus::Inactive, None, &audit("deactivate", Some("acme"))).unwrap();
    expect_bump("set_status");
    store.set_visibility("acme", Visibility::Internal, &audit("visibility", Some("acme"))).unwrap();
    expect_bump("set_visibility");
    store.set_password_hash("acme", Some("$argon2id$x"), &audit("password", Some("acme"))).unwrap();
    expect_bump("set_password_hash");
    let token = AccessToken {
        bot: "acme".into(),
        name: "ci".into(),
        digest: "cd".repeat(32),
        created_at: T0,
        expires_at: None,
        revoked_at: None,
    };
    store.add_access_token(&token, &audit("token create", Some("acme"))).unwrap();
    expect_bump("add_access_token");
    store.revoke_access_token("acme", "ci", &audit("token revoke", Some("acme"))).unwrap();
    expect_bump("revoke_access_token");
    let plan = Plan { name: "pro".into(), messages_per_month: Some(5), storage_bytes: None, expires_at: None };
    store.set_plan("acme", Some(&plan), &audit("plan", Some("acme"))).unwrap();
    expect_bump("set_plan");
    let actions: BTreeSet<String> =
        store.audit_log(Some("acme"), 100).unwrap().into_iter().map(|entry| entry.action).collect();
    for action in ["create", "activate", "deactivate", "visibility", "password", "token create", "token revoke", "plan"]
    {
        assert!(actions.contains(action), "no audit entry for {action}: {actions:?}");
    }
}

fn activation_moves_the_pointer(store: &dyn Store) {
    add_bot(store, "acme");
    let one = add_generation(store, "acme");
    let two = add_generation(store, "acme");
    assert_eq!((one, two), (1, 2));
    assert!(store.activate_generation("acme", 9, None, &audit("activate", Some("acme"))).is_err());
    store.activate_generation("acme", one, None, &audit("activate", Some("acme"))).unwrap();
    let bot = store.bot("acme").unwrap().unwrap();
    assert_eq!((bot.live, bot.previous), (Some(1), None));
    store.activate_generation("acme", two, None, &audit("activate", Some("acme"))).unwrap();
    let bot = store.bot("acme").unwrap().unwrap();
    assert_eq!((bot.live, bot.previous), (Some(2), Some(1)));
    assert_eq!(bot.live_by.as_deref(), Some("tester"));
    // Re-activating the live one changes nothing about the rollback target.
    store.activate_generation("acme", two, None, &audit("activate", Some("acme"))).unwrap();
    assert_eq!(store.bot("acme").unwrap().unwrap().previous, Some(1));
    store.activate_generation("acme", one, None, &audit("rollback", Some("acme"))).unwrap();
    let bot = store.bot("acme").unwrap().unwrap();
    assert_eq!((bot.live, bot.previous), (Some(1), Some(2)));
    let numbers: Vec<u64> = store.generations("acme").unwrap().iter().map(|g| g.number).collect();
    assert_eq!(numbers, vec![2, 1]);
    assert!(store.insert_generation(&store.generation("acme", 1).unwrap().unwrap()).is_err(), "numbers are unique");
}

fn live_generations_are_kept(store: &dyn Store) {
    add_bot(store, "acme");
    for _ in 0..3 {
        add_generation(store, "acme");
    }
    store.activate_generation("acme", 2, None, &audit("activate", Some("acme"))).unwrap();
    store.activate_generation("acme", 3, None, &audit("activate", Some("acme"))).unwrap();
    assert!(store.delete_generation("acme", 3).is_err());
    assert!(store.delete_generation("acme", 2).is_err());
    store.delete_generation("acme", 1).unwrap();
    assert!(store.generation("acme", 1).unwrap().is_none());
    assert_eq!(store.next_generation_number("acme").unwrap(), 4, "numbers are never reused");
}

fn deploy_lock(store: &dyn Store) {
    add_bot(store, "acme");
    let fresh = |_: &crate::LockHolder| false;
    let stale = |_: &crate::LockHolder| true;
    let DeployStart::Started { deploy_id: first } = store.begin_deploy("acme", "ann", "host:1", T0, &fresh).unwrap()
    else {
        panic!("the first deploy must start");
    };
    match store.begin_deploy("acme", "bob", "host:2", T0 + 1, &fresh).unwrap() {
        DeployStart::Busy(holder) => {
            assert_eq!((holder.deploy_id, holder.actor.as_str(), holder.owner.as_str()), (first, "ann", "host:1"));
        }
        other => panic!("a second deploy must be refused, got {other:?}"),
    }
    store.heartbeat_deploy(first, T0 + 5, "[\"starting\"]").unwrap();
    assert_eq!(store.deploy_lock("acme").unwrap().unwrap().heartbeat_at, T0 + 5);
    let DeployStart::Started { deploy_id: second } =
        store.begin_deploy("acme", "bob", "host:2", T0 + 9, &stale).unwrap()
    else {
        panic!("a stale lock must be taken over");
    };
    let deploys = store.deploys("acme", 10).unwrap();
    assert_eq!(deploys[0].id, second);
    assert_eq!(deploys[1].outcome, DeployOutcome::Interrupted);
    let number = add_generation(store, "acme");
    store.activate_generation("acme", number, Some((second, "[]")), &audit("deploy", Some("acme"))).unwrap();
    assert!(store.deploy_lock("acme").unwrap().is_none(), "activation releases the lock");
    let deploy = &store.deploys("acme", 1).unwrap()[0];
    assert_eq!((deploy.outcome, deploy.generation), (DeployOutcome::Succeeded, Some(number)));
    let DeployStart::Started { deploy_id: third } = store.begin_deploy("acme", "ann", "host:1", T0, &fresh).unwrap()
    else {
        panic!("the lock is free again");
    };
    store.finish_deploy(third, DeployOutcome::Failed, None, Some("test failed"), "[]", T0 + 2).unwrap();
    assert!(store.deploy_lock("acme").unwrap().is_none());
    assert_eq!(store.deploys("acme", 1).unwrap()[0].failure.as_deref(), Some("test failed"));
}

fn schedules_run_once(store: &dyn Store) {
    add_bot(store, "acme");
    for offset in 0..20 {
        store.add_schedule("acme", ScheduleAction::Activate, T0 + offset, &audit("schedule", Some("acme"))).unwrap();
    }
    let late = store.add_schedule("acme", ScheduleAction::Deploy, T0 + 1000, &audit("schedule", Some("acme"))).unwrap();
    let claimed = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..8 {
            scope.spawn(|| {
                while let Some(schedule) = store.claim_due_schedule(T0 + 100, "host:1").unwrap() {
                    claimed.lock().unwrap().push(schedule.id);
                    store.finish_schedule(schedule.id, true, "ok", T0 + 100).unwrap();
                }
            });
        }
    });
    let mut claimed = claimed.into_inner().unwrap();
    claimed.sort_unstable();
    let before = claimed.len();
    claimed.dedup();
    assert_eq!((before, claimed.len()), (20, 20), "each due schedule is claimed exactly once");
    let schedules = store.schedules(Some("acme")).unwrap();
    assert!(schedules.iter().filter(|s| s.id != late).all(|s| s.state == ScheduleState::Done));
    assert!(store.cancel_schedule(late, &audit("cancel", Some("acme"))).unwrap());
    assert!(!store.cancel_schedule(late, &audit("cancel", Some("acme"))).unwrap());
    assert!(store.claim_due_schedule(T0 + 5000, "host:1").unwrap().is_none(), "a cancelled schedule never runs");
    assert!(schedules.iter().filter(|s| s.id != late).all(|s| s.claimed_by.as_deref() == Some("host:1")));
}

fn quota_is_exact_under_concurrency(store: &dyn Store) {
    add_bot(store, "acme");
    let plan = Plan { name: "small".into(), messages_per_month: Some(100), storage_bytes: None, expires_at: None };
    store.set_plan("acme", Some(&plan), &audit("plan", Some("acme"))).unwrap();
    let allowed = std::sync::atomic::AtomicU64::new(0);
    let refused = std::sync::atomic::AtomicU64::new(0);
    std::thread::scope(|scope| {
        for _ in 0..16 {
            scope.spawn(|| {
                for _ in 0..10 {
                    match store.consume_message("acme", "2026-11", T0).unwrap() {
                        Quota::Allowed { .. } => allowed.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
                        Quota::LimitReached { limit: 100 } => {
                            refused.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
                        }
                        other => panic!("unexpected {other:?}"),
                    };
                }
            });
        }
    });
    assert_eq!(allowed.into_inner(), 100);
    assert_eq!(refused.into_inner(), 60);
    assert_eq!(store.usage("acme", "2026-11").unwrap(), 100);
    assert_eq!(
        store.consume_message("acme", "2026-12", T0).unwrap(),
        Quota::Allowed { used: 1, limit: Some(100) },
        "a new month starts at zero"
    );
    let none = Plan { name: "none".into(), messages_per_month: Some(0), storage_bytes: None, expires_at: None };
    store.set_plan("acme", Some(&none), &audit("plan", Some("acme"))).unwrap();
    assert_eq!(store.consume_message("acme", "2027-01", T0).unwrap(), Quota::LimitReached { limit: 0 });
    assert_eq!(store.usage("acme", "2027-01").unwrap(), 0);
    store.set_plan("acme", None, &audit("plan", Some("acme"))).unwrap();
    assert_eq!(store.consume_message("acme", "2027-01", T0).unwrap(), Quota::Allowed { used: 1, limit: None });
}

fn expired_plan(store: &dyn Store) {
    add_bot(store, "acme");
    let plan = Plan { name: "trial".into(), messages_per_month: None, storage_bytes: None, expires_at: Some(T0) };
    store.set_plan("acme", Some(&plan), &audit("plan", Some("acme"))).unwrap();
    assert!(matches!(store.consume_message("acme", "2026-11", T0 - 1).unwrap(), Quota::Allowed { .. }));
    assert_eq!(store.consume_message("acme", "2026-11", T0).unwrap(), Quota::PlanExpired { expired_at: T0 });
    assert_eq!(store.plan("acme").unwrap(), Some(plan));
}

fn bulk_usage(store: &dyn Store) {
    add_bot(store, "acme");
    store.add_usage("acme", "2026-11", 40).unwrap();
    store.add_usage("acme", "2026-11", 2).unwrap();
    assert_eq!(store.usage("acme", "2026-11").unwrap(), 42);
    assert_eq!(store.consume_message("acme", "2026-11", T0).unwrap(), Quota::Allowed { used: 43, limit: None });
    assert_eq!(store.usage("acme", "2026-12").unwrap(), 0, "another month is apart");
    store.add_usage("gone", "2026-11", 5).unwrap();
    assert_eq!(store.usage("gone", "2026-11").unwrap(), 0);
}

fn access_tokens(store: &dyn Store) {
    add_bot(store, "acme");
    let token = |name: &str, digest: &str| AccessToken {
        bot: "acme".into(),
        name: name.into(),
        digest: digest.into(),
        created_at: T0,
        expires_at: Some(T0 + 10),
        revoked_at: None,
    };
    store.add_access_token(&token("ci", "01"), &audit("token", Some("acme"))).unwrap();
    let err = store.add_access_token(&token("ci", "02"), &audit("token", Some("acme"))).unwrap_err();
    assert!(err.to_string().contains("already has an access token named \"ci\""), "{err}");
    assert!(store.revoke_access_token("acme", "ci", &audit("revoke", Some("acme"))).unwrap());
    assert!(!store.revoke_access_token("acme", "ci", &audit("revoke", Some("acme"))).unwrap());
    store.add_access_token(&token("ci", "03"), &audit("token", Some("acme"))).unwrap();
    let tokens = store.access_tokens("acme").unwrap();
    assert_eq!(tokens.len(), 2);
    assert!(!tokens[0].is_valid_at(T0));
    assert!(tokens[1].is_valid_at(T0 + 9) && !tokens[1].is_valid_at(T0 + 10));
}

fn admin_tokens(store: &dyn Store) {
    add_bot(store, "acme");
    let token = |name: &str, digest: &str, scope: Scope| AdminToken {
        name: name.into(),
        digest: digest.into(),
        scope,
        created_at: T0,
        revoked_at: None,
    };
    store.add_admin_token(&token("root", "aa", Scope::All), &audit("admin token", None)).unwrap();
    store.add_admin_token(&token("acme-ops", "bb", Scope::Bot("acme".into())), &audit("admin token", None)).unwrap();
    assert!(store.add_admin_token(&token("x", "cc", Scope::Bot("ghost".into())), &audit("admin token", None)).is_err());
    assert!(store.add_admin_token(&token("root", "dd", Scope::All), &audit("admin token", None)).is_err());
    assert_eq!(store.admin_token_by_digest("bb").unwrap().unwrap().scope, Scope::Bot("acme".into()));
    assert!(store.admin_token_by_digest("zz").unwrap().is_none());
    assert!(store.revoke_admin_token("root", &audit("admin revoke", None)).unwrap());
    assert!(store.admin_token_by_digest("aa").unwrap().is_none());
    assert_eq!(store.admin_tokens().unwrap().len(), 2);
}

fn event(bot: &str, conversation: &str, at: i64, kind: EventKind) -> Event {
    Event { conversation: Some(conversation.to_owned()), ..Event::new(bot, at, kind) }
}

fn reply(bot: &str, conversation: &str, at: i64, tier: Tier, latency_ms: u64, text: &str) -> Event {
    Event {
        tier: Some(tier),
        latency_ms: Some(latency_ms),
        text: Some(text.to_owned()),
        ..event(bot, conversation, at, EventKind::Reply)
    }
}

fn events_fold_into_rollups(store: &dyn Store) {
    let hour = T0 - T0 % 3600;
    let first_batch = vec![
        event("acme", "c1", hour + 10, EventKind::ConversationStart),
        event("acme", "c1", hour + 10, EventKind::Message),
        reply("acme", "c1", hour + 11, Tier::Answer, 120, "How do I reset my password?"),
        event("acme", "c1", hour + 40, EventKind::Message),
        reply("acme", "c1", hour + 41, Tier::Unknown, 2_500, "what is the weather"),
        Event { value: Some(4), ..event("acme", "c1", hour + 50, EventKind::Rating) },
        event("acme", "c2", hour + 3_700, EventKind::ConversationStart),
        event("acme", "c2", hour + 3_700, EventKind::Message),
        reply("acme", "c2", hour + 3_701, Tier::Suggestions, 300, "how do i reset my PASSWORD"),
        event("other", "c9", hour + 20, EventKind::Message),
    ];
    store.record_events(&first_batch).unwrap();
    // A later batch adds to the same hour and conversation.
    let second_batch = vec![
        Event { detail: Some("signup".into()), ..event("acme", "c2", hour + 3_900, EventKind::Goal) },
        event("acme", "c1", hour + 60, EventKind::ThumbDown),
        Event {
            value: Some(503),
            detail: Some("bot_offline".into()),
            ..Event::new("acme", hour + 70, EventKind::Error)
        },
    ];
    store.record_events(&second_batch).unwrap();

    let hours = store.hourly_rollups("acme", hour, hour + 7_200).unwrap();
    assert_eq!(hours.iter().map(|h| h.hour).collect::<Vec<_>>(), vec![hour, hour + 3600]);
    let first = &hours[0];
    assert_eq!((first.conversations, first.messages, first.answers, first.unknowns), (1, 2, 1, 1));
    assert_eq!((first.latency_ms_sum, first.slow_replies), (2_620, 1));
    assert_eq!((first.ratings, first.rating_sum, first.thumbs_down, first.errors), (1, 4, 1, 1));
    assert_eq!((hours[1].suggestions, hours[1].goals), (1, 1));
    assert!(store.hourly_rollups("acme", hour + 7_200, hour + 9_000).unwrap().is_empty());

    let stats = store.conversation_stats("acme", hour, hour + 7_200).unwrap();
    assert_eq!(stats.conversations, 2);
    assert_eq!(stats.bounced, 1, "c2 had one message");
    assert_eq!(stats.converted, 1, "c2 reached a goal");
    assert_eq!(stats.duration_sum, 50 + 200, "c1 from +10 to +60, c2 from +3700 to +3900");
    assert_eq!(store.conversation_stats("acme", hour + 3_600, hour + 7_200).unwrap().conversations, 1);

    let asked = store.top_questions("acme", hour - 86_400, hour + 86_400, false, 10).unwrap();
    assert_eq!(asked[0].question, "how do i reset my password");
    assert_eq!((asked[0].asked, asked[0].unresolved), (2, 1));
    assert_eq!(asked.len(), 2);
    let unresolved = store.top_questions("acme", hour - 86_400, hour + 86_400, true, 1).unwrap();
    assert_eq!(unresolved.len(), 1);
    assert_eq!(unresolved[0].unresolved, 1);

    let raw = store.events("acme", hour, hour + 7_200, 100).unwrap();
    assert_eq!(raw.len(), first_batch.len() - 1 + second_batch.len());
    assert_eq!(raw[0], first_batch[0]);
    assert_eq!(store.events("other", hour, hour + 7_200, 100).unwrap().len(), 1);
}

fn texts_are_purged(store: &dyn Store) {
    let day = T0 - T0 % 86_400;
    store
        .record_events(&[
            reply("acme", "old", day - 86_400 + 5, Tier::Answer, 10, "an old question"),
            reply("acme", "new", day + 86_400 + 5, Tier::Answer, 10, "a new question"),
        ])
        .unwrap();
    assert_eq!(store.purge_texts(day).unwrap(), 1);
    let texts: Vec<_> =
        store.events("acme", day - 86_400, day + 2 * 86_400, 10).unwrap().into_iter().map(|e| e.text).collect();
    assert_eq!(texts, vec![None, Some("a new question".to_owned())]);
    let questions = store.top_questions("acme", day - 86_400, day + 2 * 86_400, false, 10).unwrap();
    assert_eq!(questions.iter().map(|q| q.question.as_str()).collect::<Vec<_>>(), vec!["a new question"]);
    assert_eq!(store.purge_texts(day).unwrap(), 0, "purging twice changes nothing");
    assert_eq!(store.hourly_rollups("acme", day - 86_400, day + 2 * 86_400).unwrap().len(), 2, "counts stay");
}

fn log_records_filter(store: &dyn Store) {
    for (at, level, bot, message) in [
        (T0, LogLevel::Info, Some("acme"), "deployed generation 2"),
        (T0 + 10, LogLevel::Warning, Some("acme"), "refused origin"),
        (T0 + 20, LogLevel::Error, Some("other"), "internal error"),
        (T0 + 30, LogLevel::Error, None, "cannot write events"),
    ] {
        let record = LogRecord { at, level, bot: bot.map(str::to_owned), message: message.to_owned() };
        store.add_log(&record).unwrap();
    }
    let messages = |query: LogQuery| -> Vec<String> {
        store.logs(&LogQuery { limit: 100, ..query }).unwrap().into_iter().map(|record| record.message).collect()
    };
    assert_eq!(messages(LogQuery::default()).len(), 4);
    assert_eq!(messages(LogQuery::default())[0], "cannot write events", "newest first");
    assert_eq!(messages(LogQuery { bot: Some("acme".into()), ..LogQuery::default() }).len(), 2);
    assert_eq!(
        messages(LogQuery { level: Some(LogLevel::Warning), ..LogQuery::default() }),
        vec!["cannot write events", "internal error", "refused origin"]
    );
    assert_eq!(messages(LogQuery { level: Some(LogLevel::Error), ..LogQuery::default() }).len(), 2);
    assert_eq!(
        messages(LogQuery { since: Some(T0 + 10), until: Some(T0 + 30), ..LogQuery::default() }),
        vec!["internal error", "refused origin"]
    );
    assert_eq!(store.logs(&LogQuery { limit: 1, ..LogQuery::default() }).unwrap().len(), 1);
}

fn sessions(store: &dyn Store) {
    add_bot(store, "acme");
    let session = |digest: &str, created_at, expires_at| crate::Session {
        digest: digest.into(),
        bot: "acme".into(),
        created_at,
        expires_at,
    };
    store.add_session(&session("aa", T0, T0 + 100)).unwrap();
    assert_eq!(store.session("aa", T0 + 99).unwrap(), Some(session("aa", T0, T0 + 100)));
    assert_eq!(store.session("aa", T0 + 100).unwrap(), None, "expired at its second");
    assert_eq!(store.session("bb", T0).unwrap(), None);
    assert!(store.add_session(&crate::Session { bot: "nobody".into(), ..session("cc", T0, T0 + 1) }).is_err());
    store.add_session(&session("bb", T0 + 200, T0 + 300)).unwrap();
    assert!(!store.delete_session("aa").unwrap(), "the expired session went when a new one started");
    assert!(store.delete_session("bb").unwrap());
    assert_eq!(store.session("bb", T0 + 201).unwrap(), None, "a deleted session is gone at once");
    let revision = store.revision().unwrap();
    assert_eq!(store.site_secret("acme").unwrap(), None);
    store.set_site_secret("acme", Some("s3cret"), &audit("access.site_secret", Some("acme"))).unwrap();
    assert_eq!(store.site_secret("acme").unwrap().as_deref(), Some("s3cret"));
    assert!(store.revision().unwrap() > revision, "gateways see a new site secret");
    store.set_site_secret("acme", None, &audit("access.site_secret", Some("acme"))).unwrap();
    assert_eq!(store.site_secret("acme").unwrap(), None);
}

fn alert_settings(store: &dyn Store) {
    add_bot(store, "acme");
    assert_eq!(store.alert_settings("acme").unwrap(), None);
    let text = "[[channel]]\nkind = \"webhook\"\nurl = \"https://hooks.example/T0K3N\"\n";
    store.set_alert_settings("acme", Some(text), &audit("alerts.set", Some("acme"))).unwrap();
    assert_eq!(store.alert_settings("acme").unwrap().as_deref(), Some(text));
    assert_eq!(store.bots_with_alerts().unwrap(), vec!["acme".to_owned()]);
    assert!(
        store.audit_log(Some("acme"), 10).unwrap().iter().all(|entry| !entry.detail.contains("T0K3N")),
        "the audit never holds the settings' secrets"
    );
    assert!(store.set_alert_settings("nobody", Some(text), &audit("alerts.set", Some("nobody"))).is_err());
    store.set_alert_settings("acme", None, &audit("alerts.clear", Some("acme"))).unwrap();
    assert_eq!(store.alert_settings("acme").unwrap(), None);
    assert!(store.bots_with_alerts().unwrap().is_empty());
}

fn incidents_open_and_resolve_once(store: &dyn Store) {
    let opened = std::sync::atomic::AtomicU64::new(0);
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                for _ in 0..5 {
                    if store.open_incident("acme", AlertKind::ErrorRate, T0, "12 % errors").unwrap().is_some() {
                        opened.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                }
            });
        }
    });
    assert_eq!(opened.into_inner(), 1, "twenty attempts open one incident");
    let other = store.open_incident("acme", AlertKind::Storage, T0 + 1, "95 %").unwrap().unwrap();
    assert_eq!((other.kind, other.resolved_at), (AlertKind::Storage, None));
    assert!(store.open_incident("beta", AlertKind::ErrorRate, T0, "x").unwrap().is_some(), "per bot");

    let resolved = store.resolve_incident("acme", AlertKind::ErrorRate, T0 + 60).unwrap().unwrap();
    assert_eq!(
        (resolved.opened_at, resolved.resolved_at, resolved.detail.as_str()),
        (T0, Some(T0 + 60), "12 % errors")
    );
    assert_eq!(store.resolve_incident("acme", AlertKind::ErrorRate, T0 + 61).unwrap(), None, "resolved once");
    assert_eq!(store.resolve_incident("acme", AlertKind::Downtime, T0).unwrap(), None, "nothing open");
    assert_eq!(
        store.open_incident("acme", AlertKind::ErrorRate, T0 + 60, "stale").unwrap(),
        None,
        "a judgement from before the resolution does not reopen"
    );
    assert_eq!(store.resolve_incident("acme", AlertKind::Storage, T0 + 1).unwrap(), None, "not older than its opening");
    let again = store.open_incident("acme", AlertKind::ErrorRate, T0 + 120, "15 % errors").unwrap().unwrap();
    assert_ne!(again.id, resolved.id, "after resolving, a new incident opens");

    let listed = store.incidents(Some("acme"), 10).unwrap();
    assert_eq!(listed.iter().map(|incident| incident.id).collect::<Vec<_>>(), vec![again.id, other.id, resolved.id]);
    assert_eq!(store.incidents(None, 10).unwrap().len(), 4);
    assert_eq!(store.incidents(None, 2).unwrap().len(), 2);
}

fn probes_fold_into_state_and_uptime(store: &dyn Store) {
    let hour = T0 - T0 % 3600;
    for (target, at, up) in [
        ("http://a", hour, true),
        ("http://a", hour + 10, true),
        ("http://a", hour + 20, false),
        ("http://a", hour + 30, false),
        ("http://b", hour + 5, true),
        ("http://a", hour + 3_600, true),
    ] {
        store.record_probe(&crate::ProbeSample { target: target.into(), at, up }).unwrap();
    }
    let targets = store.probe_targets().unwrap();
    assert_eq!(
        targets,
        vec![
            crate::ProbeTarget { target: "http://a".into(), up: true, since: hour + 3_600, last_at: hour + 3_600 },
            crate::ProbeTarget { target: "http://b".into(), up: true, since: hour + 5, last_at: hour + 5 },
        ]
    );
    store.record_probe(&crate::ProbeSample { target: "http://b".into(), at: hour + 40, up: false }).unwrap();
    store.record_probe(&crate::ProbeSample { target: "http://b".into(), at: hour + 50, up: false }).unwrap();
    let b = store.probe_targets().unwrap().pop().unwrap();
    assert_eq!((b.up, b.since, b.last_at), (false, hour + 40, hour + 50), "a run of downs keeps its start");

    assert_eq!(store.uptime(hour, hour + 3_600).unwrap(), crate::UptimeCounts { samples: 7, up: 3 });
    assert_eq!(store.uptime(hour, hour + 7_200).unwrap(), crate::UptimeCounts { samples: 8, up: 4 });
    assert_eq!(store.uptime(hour + 7_200, hour + 9_000).unwrap(), crate::UptimeCounts::default());
}

fn monitor_runs_are_claimed_once(store: &dyn Store) {
    let claimed = std::sync::atomic::AtomicU64::new(0);
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                // Due when no run started in the last hour.
                if store.claim_monitor_run("acme", T0, T0 - 3600).unwrap().is_some() {
                    claimed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            });
        }
    });
    assert_eq!(claimed.into_inner(), 1, "one of the concurrent claims starts the run");
    let running = store.monitor_runs("acme", 10).unwrap();
    assert_eq!(running.len(), 1);
    assert_eq!((running[0].started_at, running[0].finished_at, running[0].passed), (T0, None, None));
    store.finish_monitor_run(running[0].id, T0 + 5, false, "1 of 4 failed", "[{}]").unwrap();
    assert_eq!(store.claim_monitor_run("acme", T0 + 60, T0 + 60 - 3600).unwrap(), None, "not due yet");
    assert!(store.claim_monitor_run("beta", T0 + 60, T0 + 60 - 3600).unwrap().is_some(), "per bot");
    let next = store.claim_monitor_run("acme", T0 + 3601, T0 + 1).unwrap().expect("due an hour later");
    store.finish_monitor_run(next, T0 + 3605, true, "4 passed", "[]").unwrap();
    let runs = store.monitor_runs("acme", 10).unwrap();
    assert_eq!(
        runs.iter().map(|run| (run.passed, run.summary.as_str())).collect::<Vec<_>>(),
        [(Some(true), "4 passed"), (Some(false), "1 of 4 failed")]
    );
    assert_eq!(runs[1].results, "[{}]");
}

fn report_schedules(store: &dyn Store) {
    add_bot(store, "acme");
    add_bot(store, "beta");
    let schedule = |bot: &str, period: &str, formats: &[&str], next_at| ReportSchedule {
        bot: bot.into(),
        period: period.into(),
        formats: formats.iter().map(|format| (*format).to_owned()).collect(),
        next_at,
        last_sent_at: None,
    };
    store
        .set_report_schedule(&schedule("acme", "week", &["pdf"], T0), &audit("reports.schedule", Some("acme")))
        .unwrap();
    store
        .set_report_schedule(&schedule("beta", "day", &["html"], T0), &audit("reports.schedule", Some("beta")))
        .unwrap();
    let replaced = schedule("acme", "week", &["pdf", "xlsx"], T0 + 60);
    store.set_report_schedule(&replaced, &audit("reports.schedule", Some("acme"))).unwrap();
    store
        .set_report_schedule(&schedule("acme", "month", &["xlsx"], T0), &audit("reports.schedule", Some("acme")))
        .unwrap();
    assert!(store.set_report_schedule(&schedule("nobody", "day", &["pdf"], T0), &audit("x", None)).is_err());
    let listed = store.report_schedules(Some("acme")).unwrap();
    assert_eq!(listed.iter().map(|s| s.period.as_str()).collect::<Vec<_>>(), ["month", "week"]);
    assert_eq!(listed[1], replaced, "one schedule per bot and period, replaced whole");
    assert_eq!(store.report_schedules(None).unwrap().len(), 3);

    let claimed = std::sync::atomic::AtomicU64::new(0);
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                if store.claim_report("acme", "week", T0 + 60, T0 + 7 * 86_400, T0 + 61).unwrap() {
                    claimed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            });
        }
    });
    assert_eq!(claimed.into_inner(), 1, "four claims of one due report: one wins");
    let week = store.report_schedules(Some("acme")).unwrap().remove(1);
    assert_eq!((week.next_at, week.last_sent_at), (T0 + 7 * 86_400, Some(T0 + 61)));
    assert!(!store.claim_report("acme", "week", T0 + 60, T0 + 7 * 86_400, T0 + 62).unwrap(), "already moved on");

    assert!(store.remove_report_schedule("acme", "week", &audit("reports.unschedule", Some("acme"))).unwrap());
    assert!(!store.remove_report_schedule("acme", "week", &audit("reports.unschedule", Some("acme"))).unwrap());
    assert_eq!(store.report_schedules(Some("acme")).unwrap().len(), 1);
    assert!(store.audit_log(Some("acme"), 10).unwrap().iter().any(|entry| entry.action == "reports.unschedule"));
}

fn flows_across_batches(store: &dyn Store) {
    let topic = |at: i64, tier: Tier, source: Option<&str>| Event {
        source: source.map(str::to_owned),
        ..reply("acme", "c1", at, tier, 100, "q")
    };
    store
        .record_events(&[topic(T0, Tier::Answer, Some("a.md#x")), topic(T0 + 1, Tier::Answer, Some("a.md#x"))])
        .unwrap();
    store
        .record_events(&[topic(T0 + 2, Tier::Unknown, None), topic(T0 + 3, Tier::Suggestions, Some("b.md#y"))])
        .unwrap();
    store.record_events(&[topic(T0 + 4, Tier::Suggestions, Some("c.md#z"))]).unwrap();
    let flows = store.flows("acme", T0, T0 + 60, 10).unwrap();
    assert_eq!(flows.len(), 1);
    assert_eq!(flows[0].topics, ["a.md#x", crate::events::NO_MATCH, "b.md#y"], "three topics, a repeat once");
    assert_eq!(flows[0].conversations, 1);
    let drop_offs = store.drop_offs("acme", T0, T0 + 60, 10).unwrap();
    assert_eq!((drop_offs.len(), drop_offs[0].topic.as_str(), drop_offs[0].conversations), (1, "c.md#z", 1));
    assert!(store.flows("acme", T0 + 60, T0 + 120, 10).unwrap().is_empty(), "by start time");
    store.record_events(&[topic(T0 + 5, Tier::Answer, Some("c.md#z"))]).unwrap();
    assert!(store.drop_offs("acme", T0, T0 + 60, 10).unwrap().is_empty(), "answered at last: no drop-off");
}
