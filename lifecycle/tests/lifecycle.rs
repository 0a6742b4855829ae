//! The lifecycle end to end on real SQLite files and real tantivy artifacts of the demo bots.

use std::path::{Path, PathBuf};
use std::time::Instant;

use docent_lifecycle::store::{DeployStart, Plan, Quota, Visibility};
use docent_lifecycle::{CheckState, Error, Lifecycle, LifecycleOptions, UpdateKind, when};

const ACTOR: &str = "tester";

/// A copy of the demo bots and an empty data directory.
struct Fixture {
    dir: tempfile::TempDir,
    lifecycle: Lifecycle,
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

impl Fixture {
    fn new() -> Fixture {
        Fixture::with(|_| {})
    }

    fn with(adjust: impl FnOnce(&mut LifecycleOptions)) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        copy_tree(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../demo/bots"), &dir.path().join("bots"));
        let mut options = LifecycleOptions::new(dir.path().join("data"), dir.path().join("bots"));
        adjust(&mut options);
        let lifecycle = Lifecycle::open(options).unwrap();
        Fixture { dir, lifecycle }
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    /// Replaces `from` with `to` in a file of the copied bots.
    fn edit(&self, file: &str, from: &str, to: &str) {
        let path = self.path(file);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(from), "{file} has no {from:?}");
        std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
    }

    fn deploy(&self, bot: &str) -> docent_lifecycle::Result<docent_lifecycle::DeployReport> {
        self.lifecycle.deploy(bot, ACTOR, &mut |_| {})
    }

    fn live(&self, bot: &str) -> Option<u64> {
        self.lifecycle.store().bot(bot).unwrap().and_then(|row| row.live)
    }

    fn reopen(&mut self) {
        let options = self.lifecycle.options().clone();
        self.lifecycle = Lifecycle::open(options).unwrap();
    }
}

#[test]
fn the_demo_bots_are_ready_to_deploy() {
    let fixture = Fixture::new();
    for bot in ["brightwater", "handbook"] {
        let report = fixture.lifecycle.check(bot).unwrap();
        assert_eq!(report.state, CheckState::Ready, "{bot}: {:?}", report.failures);
        assert!(report.qa_pairs >= 10, "{bot}");
        assert!(report.warnings.is_empty(), "{bot}: {:?}", report.warnings);
    }
}

#[test]
fn every_failed_prerequisite_is_reported_with_the_seed_text() {
    type Setup = fn(&Fixture);
    let cases: &[(&str, Setup, &str, &str)] = &[
        (
            "a survey answer is missing",
            |f| f.edit("bots/brightwater/bot.toml", "tone = \"Friendly, concise and practical\"\n", ""),
            "Incomplete survey",
            "missing answers: tone",
        ),
        (
            "too few Q&As",
            |f| f.edit("bots/brightwater/bot.toml", "min_qa = 10", "min_qa = 50"),
            "Not enough Q&As",
            "the knowledge holds 20 Q&A pairs; at least 50 are needed",
        ),
        (
            "no description",
            |f| f.edit("bots/brightwater/bot.toml", "description = ", "# description = "),
            "Incomplete configuration",
            "`description` is not set",
        ),
        (
            "a knowledge file cannot be processed",
            |f| std::fs::write(f.path("bots/brightwater/knowledge/broken.toml"), "[[qa]\nquestion = = 1\n").unwrap(),
            "The chatbot is not trained",
            "broken.toml",
        ),
        (
            "the plan expired",
            |f| {
                let plan = Plan {
                    name: "trial".into(),
                    messages_per_month: None,
                    storage_bytes: None,
                    expires_at: Some(when::now() - 60),
                };
                f.lifecycle.set_plan("brightwater", Some(&plan), ACTOR).unwrap();
            },
            "Upgrade chatbot plan",
            "the plan \"trial\" expired on",
        ),
        (
            "the knowledge exceeds the storage limit",
            |f| {
                let plan =
                    Plan { name: "tiny".into(), messages_per_month: None, storage_bytes: Some(100), expires_at: None };
                f.lifecycle.set_plan("brightwater", Some(&plan), ACTOR).unwrap();
            },
            "Upgrade chatbot plan",
            "the plan \"tiny\" allows 100",
        ),
        (
            "the month's messages are used up",
            |f| {
                let plan =
                    Plan { name: "small".into(), messages_per_month: Some(2), storage_bytes: None, expires_at: None };
                f.lifecycle.set_plan("brightwater", Some(&plan), ACTOR).unwrap();
                for _ in 0..3 {
                    f.lifecycle.consume_message("brightwater", Some(&plan), when::now()).unwrap();
                }
            },
            "Message usage limit reached",
            "2 of 2 messages used in",
        ),
    ];
    for (name, setup, error, detail) in cases {
        let fixture = Fixture::new();
        setup(&fixture);
        let report = fixture.lifecycle.check("brightwater").unwrap();
        assert_eq!(report.state, CheckState::CannotDeploy, "{name}");
        assert_eq!(report.state.exit_code(), 20);
        let failure = report.failures.iter().find(|f| f.error == *error);
        let failure = failure.unwrap_or_else(|| panic!("{name}: no {error:?} in {:?}", report.failures));
        assert!(failure.detail.contains(detail), "{name}: {:?}", failure.detail);
        assert!(!failure.solution.is_empty(), "{name}: no solution steps");
        match fixture.deploy("brightwater") {
            Err(Error::CannotDeploy { failures, .. }) => assert!(failures.iter().any(|f| f.error == *error), "{name}"),
            other => panic!("{name}: deploy must refuse, got {other:?}"),
        }
        assert_eq!(fixture.live("brightwater"), None, "{name}");
    }
}

#[test]
fn deploys_detect_first_unchanged_quick_and_complete_updates() {
    let fixture = Fixture::new();
    let first = fixture.deploy("brightwater").unwrap();
    assert_eq!((first.kind, first.generation, first.tests_passed), (UpdateKind::First, 1, 4));
    assert!(first.integration.snippet.contains("/widget/0.1.0/bundle.js"));
    assert_eq!(first.integration.console_url, "http://127.0.0.1:8080/admin/bots/brightwater");

    let again = fixture.deploy("brightwater").unwrap();
    assert_eq!((again.kind, again.generation), (UpdateKind::Unchanged, 1));

    fixture.edit("bots/brightwater/bot.toml", "launcher_label = \"Ask Brightwater\"", "launcher_label = \"Help\"");
    let check = fixture.lifecycle.check("brightwater").unwrap();
    assert_eq!(check.state, CheckState::Outdated);
    assert_eq!(check.state.exit_code(), 10);
    let changes = check.changes.unwrap();
    assert_eq!(changes.update_kind(), UpdateKind::Quick);
    assert_eq!(changes.settings.iter().map(|s| (s.key, s.chatroom)).collect::<Vec<_>>(), vec![("appearance", true)]);
    let quick = fixture.deploy("brightwater").unwrap();
    assert_eq!((quick.kind, quick.generation), (UpdateKind::Quick, 2));
    let snapshot = fixture.lifecycle.snapshot().unwrap();
    let live = snapshot.bots.iter().find(|b| b.id == "brightwater").unwrap().generation.clone().unwrap();
    assert_eq!(live.config.appearance.launcher_label, "Help");
    assert_eq!(live.number, 2);

    fixture.edit(
        "bots/brightwater/knowledge/faq.toml",
        "question = \"Do you price match?\"",
        "question = \"Do you match competitors' prices?\"",
    );
    std::fs::write(
        fixture.path("bots/brightwater/knowledge/events.md"),
        "# Events\n\nGroup rides leave the store every Sunday at 9 am.\n",
    )
    .unwrap();
    let check = fixture.lifecycle.check("brightwater").unwrap();
    let changes = check.changes.unwrap();
    assert_eq!(changes.files.added, vec!["events.md"]);
    assert_eq!(changes.files.changed, vec!["faq.toml"]);
    assert_eq!(changes.qa.added, vec!["faq.toml#do-you-match-competitors-prices"]);
    assert_eq!(changes.qa.removed, vec!["faq.toml#do-you-price-match"]);
    assert_eq!(changes.update_kind(), UpdateKind::Complete);
    let complete = fixture.deploy("brightwater").unwrap();
    assert_eq!((complete.kind, complete.generation), (UpdateKind::Complete, 3));
    assert_eq!(fixture.lifecycle.check("brightwater").unwrap().trained, Some(3));
}

#[test]
fn an_faq_page_gives_qa_pairs_that_check_counts_and_diffs() {
    let fixture = Fixture::new();
    fixture.deploy("brightwater").unwrap();
    let page = |answer: &str| {
        format!(
            "<html><head><title>Help</title></head><body><h1>Help</h1>\
             <details id=\"lights\"><summary>Do you sell lights?</summary><p>{answer}</p></details>\
             <details><summary>Can I rent a bike?</summary><p>Not yet.</p></details></body></html>"
        )
    };
    let help = fixture.path("bots/brightwater/knowledge/help.html");
    std::fs::write(&help, page("Yes, front and rear.")).unwrap();
    let check = fixture.lifecycle.check("brightwater").unwrap();
    assert_eq!(check.faq_items.get("help.html"), Some(&2));
    assert_eq!(check.faq_items.get("warranty.html"), Some(&0), "a page without FAQ markup says so");
    let changes = check.changes.unwrap();
    assert_eq!(changes.qa.added, vec!["help.html#can-i-rent-a-bike", "help.html#lights"]);
    fixture.deploy("brightwater").unwrap();

    std::fs::write(&help, page("Yes, and bells.")).unwrap();
    let changes = fixture.lifecycle.check("brightwater").unwrap().changes.unwrap();
    assert_eq!(changes.qa.changed, vec!["help.html#lights"]);
}

#[test]
fn a_failing_test_stops_the_deploy_and_keeps_the_live_generation() {
    let fixture = Fixture::new();
    fixture.deploy("handbook").unwrap();
    fixture.edit("bots/handbook/bot.toml", "expect_text = \"15th\"", "expect_text = \"every Friday\"");
    fixture.edit("bots/handbook/bot.toml", "expect = \"unknown\"", "expect_source = \"faq.toml#when-is-payday\"");
    match fixture.deploy("handbook") {
        Err(Error::TestsFailed { failures, .. }) => {
            let questions: Vec<&str> = failures.iter().map(|f| f.question.as_str()).collect();
            assert_eq!(questions, vec!["When do I get paid?", "What is the capital of Australia?"]);
            assert!(
                failures[0].to_string().contains("expected an answer containing \"every Friday\""),
                "{}",
                failures[0]
            );
        }
        other => panic!("the deploy must fail its tests, got {other:?}"),
    }
    assert_eq!(fixture.live("handbook"), Some(1));
    let deploy = &fixture.lifecycle.store().deploys("handbook", 1).unwrap()[0];
    assert!(deploy.failure.as_deref().unwrap().contains("automatic test(s)"));
    assert!(fixture.lifecycle.store().deploy_lock("handbook").unwrap().is_none(), "a failed deploy releases its lock");
}

#[test]
fn a_second_deploy_is_refused_while_one_runs() {
    let fixture = Fixture::new();
    fixture.deploy("brightwater").unwrap();
    let store = fixture.lifecycle.store();
    let owner = Lifecycle::lock_owner();
    let DeployStart::Started { deploy_id } =
        store.begin_deploy("brightwater", "ann", &owner, when::now(), &|_| false).unwrap()
    else {
        panic!("the lock must be free");
    };
    let err = fixture.deploy("brightwater").unwrap_err().to_string();
    assert!(err.contains("\"brightwater\" is being deployed by ann"), "{err}");
    // A holder whose process is gone is stale: its lock is taken over.
    store
        .finish_deploy(deploy_id, docent_lifecycle::store::DeployOutcome::Failed, None, None, "[]", when::now())
        .unwrap();
    let dead = format!("{}:4194999", owner.rsplit_once(':').unwrap().0);
    store.begin_deploy("brightwater", "bob", &dead, when::now(), &|_| false).unwrap();
    let report = fixture.deploy("brightwater").unwrap();
    assert_eq!(report.kind, UpdateKind::Unchanged);
    let interrupted = &fixture.lifecycle.store().deploys("brightwater", 2).unwrap()[1];
    assert_eq!(interrupted.outcome, docent_lifecycle::store::DeployOutcome::Interrupted);
}

#[test]
fn rollback_moves_the_pointer_in_well_under_a_second() {
    let fixture = Fixture::new();
    fixture.deploy("brightwater").unwrap();
    fixture.edit("bots/brightwater/bot.toml", "greeting = \"Hi!", "greeting = \"Hello!");
    fixture.deploy("brightwater").unwrap();
    let revision = fixture.lifecycle.revision().unwrap();
    let started = Instant::now();
    assert_eq!(fixture.lifecycle.rollback("brightwater", None, ACTOR).unwrap(), 1);
    assert!(started.elapsed().as_millis() < 1000, "rollback took {:?}", started.elapsed());
    assert!(fixture.lifecycle.revision().unwrap() > revision);
    assert_eq!(fixture.live("brightwater"), Some(1));
    assert_eq!(fixture.lifecycle.rollback("brightwater", None, ACTOR).unwrap(), 2, "the previous one is now 2");
    let err = fixture.lifecycle.rollback("brightwater", Some(9), ACTOR).unwrap_err().to_string();
    assert_eq!(err, "\"brightwater\" has no generation 9");
    let err = fixture.lifecycle.rollback("brightwater", Some(u64::MAX), ACTOR).unwrap_err();
    assert!(matches!(err, docent_lifecycle::Error::NotFound(_)), "beyond the store's integers: {err}");
    let err = fixture.lifecycle.rollback("brightwater", Some(2), ACTOR).unwrap_err().to_string();
    assert_eq!(err, "generation 2 of \"brightwater\" is already live");
}

#[test]
fn scheduled_activation_is_exact_and_schedules_run_once() {
    let fixture = Fixture::new();
    fixture.deploy("brightwater").unwrap();
    fixture.lifecycle.deactivate("brightwater", ACTOR).unwrap();
    let at = when::now() + 3600;
    let scheduled = fixture.lifecycle.activate("brightwater", Some(at), ACTOR).unwrap().unwrap();
    assert_eq!(scheduled.at, at);
    let bot = |f: &Fixture| f.lifecycle.snapshot().unwrap().bots.into_iter().find(|b| b.id == "brightwater").unwrap();
    assert!(!bot(&fixture).is_active_at(at - 1));
    assert!(bot(&fixture).is_active_at(at), "active exactly at the second");
    let status = &fixture.lifecycle.status(Some("brightwater")).unwrap()[0];
    assert_eq!(status.state, docent_lifecycle::StatusState::Scheduled);

    let deploy_at = when::now() + 7200;
    fixture.edit("bots/brightwater/bot.toml", "greeting = \"Hi!", "greeting = \"Hello!");
    fixture.lifecycle.schedule_deploy("brightwater", deploy_at, ACTOR).unwrap();
    assert!(fixture.lifecycle.run_due_schedules(at - 1, &mut |_| {}).unwrap().is_empty());
    let runs = fixture.lifecycle.run_due_schedules(deploy_at, &mut |_| {}).unwrap();
    assert_eq!(runs.len(), 2);
    assert!(runs.iter().all(|run| run.ok), "{runs:?}");
    assert!(fixture.lifecycle.run_due_schedules(deploy_at + 10, &mut |_| {}).unwrap().is_empty(), "each runs once");
    assert_eq!(fixture.live("brightwater"), Some(2));
    assert!(bot(&fixture).is_active_at(0), "the activation is permanent now");

    let peak = when::parse("2030-01-07 12:00", 0).unwrap();
    fixture.lifecycle.deactivate("brightwater", ACTOR).unwrap();
    let warned = fixture.lifecycle.activate("brightwater", Some(peak), ACTOR).unwrap().unwrap();
    assert!(warned.warnings[0].contains("peak hours"), "{:?}", warned.warnings);
    let err = fixture.lifecycle.activate("brightwater", Some(when::now() - 5), ACTOR).unwrap_err().to_string();
    assert!(err.contains("is in the past"), "{err}");
}

#[test]
fn access_changes_reach_the_snapshot_are_audited_and_survive_deploys() {
    let fixture = Fixture::new();
    fixture.deploy("handbook").unwrap();
    let revision = fixture.lifecycle.revision().unwrap();
    let token = fixture.lifecycle.create_token("handbook", "ci", Some(when::now() + 86_400), ACTOR).unwrap();
    assert!(token.starts_with("dct_"));
    fixture.lifecycle.set_password("handbook", Some("new secret"), ACTOR).unwrap();
    fixture.lifecycle.set_visibility("handbook", Visibility::Public, ACTOR).unwrap();
    assert!(fixture.lifecycle.revision().unwrap() >= revision + 3);
    let live = |f: &Fixture| f.lifecycle.snapshot().unwrap().bots.into_iter().find(|b| b.id == "handbook").unwrap();
    let bot = live(&fixture);
    let generation = bot.generation.as_ref().unwrap();
    assert_eq!(generation.config.visibility, Visibility::Public);
    assert_eq!(generation.config.access.token_digests.len(), 1);
    assert!(bot.access.password_hash.as_deref().unwrap().starts_with("$argon2id$"));

    // bot.toml still says internal with the demo password: a deploy must not undo run-time changes.
    fixture.edit("bots/handbook/bot.toml", "greeting = \"Hello!", "greeting = \"Hi!");
    fixture.deploy("handbook").unwrap();
    let bot = live(&fixture);
    assert_eq!(bot.access.visibility, Visibility::Public);
    fixture.edit("bots/handbook/bot.toml", "faq.toml#how-many-vacation-days-do-i-get", "faq.toml#vacation");
    let warnings = fixture.lifecycle.check("handbook").unwrap().warnings;
    assert!(warnings.iter().any(|w| w.contains("visibility = \"internal\"")), "{warnings:?}");
    assert!(
        warnings.iter().any(|w| w.ends_with("expects the source faq.toml#vacation, which the knowledge does not hold")),
        "{warnings:?}"
    );

    fixture.lifecycle.revoke_token("handbook", "ci", ACTOR).unwrap();
    assert!(live(&fixture).generation.unwrap().config.access.token_digests.is_empty());
    assert!(fixture.lifecycle.revoke_token("handbook", "ci", ACTOR).is_err());
    let admin = fixture.lifecycle.create_admin_token("ops", Some("handbook"), ACTOR).unwrap();
    let found = fixture.lifecycle.verify_admin_token(&admin).unwrap().unwrap();
    assert_eq!(found.scope, docent_lifecycle::store::Scope::Bot("handbook".into()));
    assert!(fixture.lifecycle.verify_admin_token("dca_guess").unwrap().is_none());

    let log = fixture.lifecycle.store().audit_log(None, 100).unwrap();
    for entry in &log {
        for secret in [token.as_str(), admin.as_str(), "new secret"] {
            assert!(
                !entry.detail.contains(secret) && !entry.action.contains(secret),
                "a secret in the audit log: {entry:?}"
            );
        }
    }
    for action in [
        "access.token.create",
        "access.password",
        "access.visibility",
        "access.token.revoke",
        "admin.token.create",
        "deploy",
    ] {
        assert!(log.iter().any(|e| e.action == action), "no {action} in the audit log");
    }
}

#[test]
fn garbage_collection_keeps_the_live_the_previous_and_the_newest() {
    let fixture = Fixture::with(|options| options.keep_generations = 1);
    for label in ["A", "B", "C", "D"] {
        fixture.edit("bots/brightwater/bot.toml", "launcher_label = \"", &format!("launcher_label = \"{label}"));
        fixture.deploy("brightwater").unwrap();
    }
    fixture.lifecycle.rollback("brightwater", Some(1), ACTOR).unwrap_err();
    let numbers: Vec<u64> =
        fixture.lifecycle.store().generations("brightwater").unwrap().iter().map(|g| g.number).collect();
    assert_eq!(numbers, vec![4, 3]);
    let mut dirs: Vec<String> = std::fs::read_dir(fixture.path("data/generations/brightwater"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    dirs.sort();
    assert_eq!(dirs, vec!["3", "4"]);
}

#[test]
fn unfinished_builds_are_removed_at_open_and_never_listed() {
    let mut fixture = Fixture::new();
    fixture.deploy("brightwater").unwrap();
    std::fs::create_dir_all(fixture.path("data/generations/brightwater/.tmp-7-12345/index")).unwrap();
    std::fs::create_dir_all(fixture.path("data/generations/brightwater/8/index")).unwrap();
    fixture.reopen();
    let mut dirs: Vec<String> = std::fs::read_dir(fixture.path("data/generations/brightwater"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    dirs.sort();
    assert_eq!(dirs, vec!["1"]);
    assert!(fixture.lifecycle.open_live("brightwater").unwrap().is_some());
}

#[test]
fn train_builds_a_generation_without_activating_it() {
    let fixture = Fixture::new();
    fixture.deploy("brightwater").unwrap();
    fixture.edit("bots/brightwater/knowledge/shipping.md", "# ", "# Delivery and ");
    let report = fixture.lifecycle.train("brightwater", ACTOR, &mut |_| {}).unwrap();
    assert_eq!((report.generation, report.reused), (2, false));
    assert_eq!(fixture.live("brightwater"), Some(1));
    let check = fixture.lifecycle.check("brightwater").unwrap();
    assert_eq!((check.state, check.trained), (CheckState::Outdated, Some(2)));
    let deployed = fixture.deploy("brightwater").unwrap();
    assert_eq!((deployed.generation, deployed.kind), (2, UpdateKind::Complete), "deploy reuses the trained generation");
    fixture.lifecycle.rollback("brightwater", None, ACTOR).unwrap();
    let again = fixture.deploy("brightwater").unwrap();
    assert_eq!((again.generation, again.kind), (2, UpdateKind::Complete), "going back to 2 is not \"unchanged\"");
}

#[test]
fn a_backup_restores_and_verifies() {
    let fixture = Fixture::new();
    fixture.deploy("brightwater").unwrap();
    fixture.deploy("handbook").unwrap();
    fixture.lifecycle.create_token("handbook", "ci", None, ACTOR).unwrap();
    let file = fixture.path("backup.tar");
    fixture.lifecycle.backup(&file).unwrap();
    assert!(fixture.lifecycle.backup(&file).is_err(), "never overwrites");
    let verified = Lifecycle::verify_backup(&file, fixture.lifecycle.options()).unwrap();
    assert_eq!(verified.bots, vec![("brightwater".into(), Some(1), 20), ("handbook".into(), Some(1), 10)]);

    let mut options = fixture.lifecycle.options().clone();
    options.data_dir = fixture.path("restored");
    Lifecycle::restore(&file, options.clone()).unwrap();
    let restored = Lifecycle::open(options.clone()).unwrap();
    let (config, knowledge) = restored.open_live("handbook").unwrap().unwrap();
    assert_eq!(config.name, "Staff Handbook");
    assert_eq!(knowledge.stats().qa_pairs, 10);
    assert_eq!(restored.list_tokens("handbook").unwrap().len(), 1);
    let err = Lifecycle::restore(&file, options.clone()).unwrap_err().to_string();
    assert!(err.contains("is not empty"), "{err}");

    // A backup is a SQLite store: it never lands in a PostgreSQL store, nor does verifying one touch it.
    options.data_dir = fixture.path("restored-elsewhere");
    options.store = Some(docent_lifecycle::store::PgUrl::parse("postgres://docent:s3cret@127.0.0.1:9/docent").unwrap());
    let err = Lifecycle::restore(&file, options.clone()).unwrap_err().to_string();
    assert!(err.contains("run restore without --store") && !err.contains("s3cret"), "{err}");
    assert!(!options.data_dir.exists());
    assert_eq!(Lifecycle::verify_backup(&file, &options).unwrap().bots, verified.bots);
}

#[test]
fn a_schedule_left_running_by_a_dead_process_is_failed_not_rerun() {
    let fixture = Fixture::new();
    fixture.deploy("brightwater").unwrap();
    let at = when::now() + 60;
    let id = fixture.lifecycle.schedule_deploy("brightwater", at, ACTOR).unwrap().id;
    let host = Lifecycle::lock_owner().rsplit_once(':').unwrap().0.to_owned();
    let claimed = fixture.lifecycle.store().claim_due_schedule(at, &format!("{host}:4194999")).unwrap().unwrap();
    assert_eq!(claimed.id, id);
    assert!(fixture.lifecycle.run_due_schedules(at + 1, &mut |_| {}).unwrap().is_empty());
    let schedule = fixture.lifecycle.schedules(Some("brightwater")).unwrap().into_iter().find(|s| s.id == id).unwrap();
    assert_eq!(schedule.state, docent_lifecycle::store::ScheduleState::Failed);
    assert!(schedule.result.unwrap().starts_with("interrupted"));
}

#[test]
fn messages_to_an_unlimited_bot_are_tallied_then_written_in_bulk() {
    let fixture = Fixture::new();
    fixture.deploy("brightwater").unwrap();
    let now = when::now();
    let month = when::month(now);
    for _ in 0..3 {
        assert_eq!(fixture.lifecycle.consume_message("brightwater", None, now).unwrap(), Quota::Unlimited);
    }
    assert_eq!(fixture.lifecycle.store().usage("brightwater", &month).unwrap(), 0, "not written one by one");
    assert_eq!(fixture.lifecycle.plan("brightwater", now).unwrap().used, 3, "the tally counts in the plan report");
    fixture.lifecycle.flush_usage().unwrap();
    assert_eq!(fixture.lifecycle.store().usage("brightwater", &month).unwrap(), 3);
    assert_eq!(fixture.lifecycle.plan("brightwater", now).unwrap().used, 3, "flushed once, counted once");

    let plan = Plan { name: "small".into(), messages_per_month: Some(4), storage_bytes: None, expires_at: None };
    fixture.lifecycle.set_plan("brightwater", Some(&plan), ACTOR).unwrap();
    assert_eq!(
        fixture.lifecycle.consume_message("brightwater", Some(&plan), now).unwrap(),
        Quota::Allowed { used: 4, limit: Some(4) },
        "a limit counts in the store at once, on top of the bulk count"
    );
    assert_eq!(
        fixture.lifecycle.consume_message("brightwater", Some(&plan), now).unwrap(),
        Quota::LimitReached { limit: 4 }
    );
    let expired = Plan { name: "trial".into(), messages_per_month: None, storage_bytes: None, expires_at: Some(now) };
    fixture.lifecycle.set_plan("brightwater", Some(&expired), ACTOR).unwrap();
    assert_eq!(
        fixture.lifecycle.consume_message("brightwater", Some(&expired), now).unwrap(),
        Quota::PlanExpired { expired_at: now }
    );
}

#[test]
fn publishing_generations_into_a_sqlite_store_is_refused_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let mut options = LifecycleOptions::new(dir.path().join("data"), dir.path().join("bots"));
    options.artifacts = docent_lifecycle::Artifacts::Store;
    let err = Lifecycle::open(options).err().expect("refused").to_string();
    assert!(err.contains("only with a PostgreSQL store"), "{err}");
    assert!(!dir.path().join("data/docent.sqlite").exists(), "refused before anything is created");
}
