//! The metrics over a real SQLite store: events in, figures out.

use docent_store::{AlertStore, Event, EventKind, EventStore, SqliteStore, Tier};

use super::*;

/// A Monday, 00:00 UTC.
const MONDAY: i64 = 1_795_996_800;

fn store() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("docent.sqlite")).unwrap();
    (dir, store)
}

/// Events of one conversation from a compact script: `m` message, `a`/`s`/`u` reply of that
/// tier, `+`/`-` thumbs, `1`–`5` a rating, `g` a goal, `e` an error; each step 10 s later.
fn conversation(bot: &str, id: &str, start: i64, script: &str) -> Vec<Event> {
    let mut events =
        vec![Event { conversation: Some(id.into()), ..Event::new(bot, start, EventKind::ConversationStart) }];
    for (step, code) in script.chars().enumerate() {
        let at = start + 10 * step as i64;
        let mut event = Event { conversation: Some(id.into()), ..Event::new(bot, at, EventKind::Message) };
        match code {
            'm' => {}
            'a' | 's' | 'u' => {
                event.kind = EventKind::Reply;
                event.tier = Some(match code {
                    'a' => Tier::Answer,
                    's' => Tier::Suggestions,
                    _ => Tier::Unknown,
                });
                event.latency_ms = Some(if code == 'a' { 1_000 } else { 3_000 });
                event.text = Some(format!("question {code}"));
            }
            '+' => event.kind = EventKind::ThumbUp,
            '-' => event.kind = EventKind::ThumbDown,
            'g' => event.kind = EventKind::Goal,
            'e' => {
                event.kind = EventKind::Error;
                event.value = Some(500);
            }
            digit => {
                event.kind = EventKind::Rating;
                event.value = Some(i64::from(digit.to_digit(10).unwrap()));
            }
        }
        events.push(event);
    }
    events
}

fn dashboard(conversations: &[(&str, i64, &str)]) -> Dashboard {
    let (_dir, store) = store();
    for (id, start, script) in conversations {
        store.record_events(&conversation("acme", id, *start, script)).unwrap();
    }
    Dashboard::load(&store, "acme", Range { from: MONDAY, to: MONDAY + 7 * 86_400 }).unwrap()
}

#[test]
fn kpis_follow_their_definitions() {
    struct Case {
        name: &'static str,
        conversations: &'static [(&'static str, i64, &'static str)],
        success: Option<f64>,
        satisfaction: Option<f64>,
        bounce: Option<f64>,
        conversion: Option<f64>,
        response_s: Option<f64>,
        errors: Option<f64>,
        session_s: Option<f64>,
    }
    let cases = [
        Case {
            name: "nothing recorded",
            conversations: &[],
            success: None,
            satisfaction: None,
            bounce: None,
            conversion: None,
            response_s: None,
            errors: None,
            session_s: None,
        },
        Case {
            name: "a thumb down unresolves an answer",
            conversations: &[("c1", MONDAY + 100, "ma-ma+5"), ("c2", MONDAY + 200, "mu1")],
            // asked 3 (a, a, u); resolved = 2 answers − 1 down = 1.
            success: Some(1.0 / 3.0),
            satisfaction: Some(3.0),
            bounce: Some(0.5),
            conversion: Some(0.0),
            response_s: Some(5.0 / 3.0),
            errors: Some(0.0),
            session_s: Some((60.0 + 20.0) / 2.0),
        },
        Case {
            name: "goals convert, errors count against chat requests",
            conversations: &[("c1", MONDAY + 100, "mamsg"), ("c2", MONDAY + 300, "me"), ("c3", MONDAY + 900, "mam")],
            success: Some(2.0 / 3.0),
            satisfaction: None,
            bounce: Some(1.0 / 3.0),
            conversion: Some(1.0 / 3.0),
            response_s: Some(5.0 / 3.0),
            errors: Some(1.0 / 4.0),
            session_s: Some((40.0 + 10.0 + 20.0) / 3.0),
        },
    ];
    for case in cases {
        let kpis = dashboard(case.conversations).kpis;
        let close = |actual: Option<f64>, expected: Option<f64>, what: &str| match (actual, expected) {
            (Some(actual), Some(expected)) => {
                assert!((actual - expected).abs() < 1e-9, "{}: {what} is {actual}, expected {expected}", case.name)
            }
            _ => assert_eq!(actual, expected, "{}: {what}", case.name),
        };
        close(kpis.success_rate, case.success, "success rate");
        close(kpis.satisfaction, case.satisfaction, "satisfaction");
        close(kpis.bounce_rate, case.bounce, "bounce rate");
        close(kpis.conversion_rate, case.conversion, "conversion rate");
        close(kpis.response_ms.map(|ms| ms / 1000.0), case.response_s, "response time");
        close(kpis.error_rate, case.errors, "error rate");
        close(kpis.average_session_seconds, case.session_s, "session duration");
    }
}

#[test]
fn targets_compare_figures_with_the_seed_thresholds() {
    let standing = |kpis: &Kpis| targets(kpis).into_iter().map(|t| (t.name, t.standing)).collect::<Vec<_>>();
    assert_eq!(
        standing(&Kpis::default()),
        vec![
            ("Response time", Standing::NoData),
            ("Uptime", Standing::NoWatcher),
            ("Success rate", Standing::NoData),
            ("Satisfaction", Standing::NoData),
            ("Error rate", Standing::NoData),
        ]
    );
    let good = Kpis {
        response_ms: Some(1_999.0),
        success_rate: Some(0.86),
        satisfaction: Some(4.1),
        error_rate: Some(0.049),
        uptime: Some(0.996),
        ..Kpis::default()
    };
    assert!(standing(&good).iter().all(|(_, s)| *s == Standing::Met), "{:?}", standing(&good));
    // On the threshold is not beyond it: every target is strict.
    let edge = Kpis {
        response_ms: Some(2_000.0),
        success_rate: Some(0.85),
        satisfaction: Some(4.0),
        error_rate: Some(0.05),
        uptime: Some(0.995),
        ..Kpis::default()
    };
    assert!(standing(&edge).iter().all(|(_, s)| *s == Standing::Missed), "{:?}", standing(&edge));
}

#[test]
fn uptime_comes_from_the_watchers_samples() {
    let (_dir, store) = store();
    let range = Range { from: MONDAY, to: MONDAY + 86_400 };
    let uptime = |store: &SqliteStore| {
        let board = Dashboard::load(store, "acme", range).unwrap();
        (board.kpis.uptime, board.targets[1].standing)
    };
    assert_eq!(uptime(&store), (None, Standing::NoWatcher));
    for second in 0..200 {
        let sample =
            docent_store::ProbeSample { target: "http://gw".into(), at: MONDAY + second * 10, up: second != 7 };
        store.record_probe(&sample).unwrap();
    }
    assert_eq!(uptime(&store), (Some(0.995), Standing::Missed), "199 of 200 is not above 99.5 %");
    store
        .record_probe(&docent_store::ProbeSample { target: "http://gw".into(), at: MONDAY + 2_000, up: true })
        .unwrap();
    assert_eq!(uptime(&store).1, Standing::Met);
}

#[test]
fn the_heatmap_counts_messages_by_weekday_and_hour() {
    let board = dashboard(&[
        ("c1", MONDAY + 9 * 3600, "mama"),
        ("c2", MONDAY + 2 * 86_400 + 14 * 3600 + 5, "ma"),
        ("c3", MONDAY + 6 * 86_400 + 23 * 3600, "ma"),
    ]);
    assert_eq!(board.heatmap[0][9], 2, "Monday 09h");
    assert_eq!(board.heatmap[2][14], 1, "Wednesday 14h");
    assert_eq!(board.heatmap[6][23], 1, "Sunday 23h");
    assert_eq!(board.heatmap.iter().flatten().sum::<u64>(), 4);
}

#[test]
fn series_use_hours_up_to_two_days_and_days_beyond() {
    let (_dir, store) = store();
    store.record_events(&conversation("acme", "c1", MONDAY + 3 * 3600 + 10, "ma")).unwrap();
    let day = Dashboard::load(&store, "acme", Range { from: MONDAY, to: MONDAY + 86_400 }).unwrap();
    assert_eq!((day.bucket_seconds, day.series.len()), (3600, 24));
    assert_eq!(day.series[3].sums.answers, 1);
    let week = Dashboard::load(&store, "acme", Range { from: MONDAY - 6 * 86_400, to: MONDAY + 86_400 }).unwrap();
    assert_eq!((week.bucket_seconds, week.series.len()), (86_400, 7));
    assert_eq!(week.series[6].sums.answers, 1);
    let before = Dashboard::load(&store, "acme", Range { from: MONDAY - 86_400, to: MONDAY }).unwrap();
    assert_eq!(before.kpis.asked, 0, "the range ends before the event");
}

#[test]
fn questions_are_grouped_and_unresolved_ones_listed() {
    let (_dir, store) = store();
    for (index, (text, tier)) in [
        ("How do I return a bike?", Tier::Answer),
        ("how do i return a bike", Tier::Answer),
        ("Do you rent cargo bikes?", Tier::Unknown),
        ("do you rent cargo bikes??", Tier::Suggestions),
    ]
    .into_iter()
    .enumerate()
    {
        let reply = Event {
            tier: Some(tier),
            text: Some(text.into()),
            ..Event::new("acme", MONDAY + index as i64, EventKind::Reply)
        };
        store.record_events(&[reply]).unwrap();
    }
    let board = Dashboard::load(&store, "acme", Range { from: MONDAY, to: MONDAY + 86_400 }).unwrap();
    let asked: Vec<_> = board.top_questions.iter().map(|q| (q.question.as_str(), q.asked)).collect();
    assert_eq!(asked, vec![("do you rent cargo bikes", 2), ("how do i return a bike", 2)]);
    let unresolved: Vec<_> = board.unresolved.iter().map(|q| (q.question.as_str(), q.unresolved)).collect();
    assert_eq!(unresolved, vec![("do you rent cargo bikes", 2)]);
}

#[test]
fn demo_data_fills_a_month_once_and_is_labelled() {
    let (_dir, store) = store();
    let now = MONDAY + 12 * 3600;
    let questions = vec!["What is your return policy?".to_owned(), "How long does delivery take?".to_owned()];
    let seeded = demo::seed(&store, "acme", &questions, Some(1), now, 30).unwrap();
    assert!(seeded > 300, "a month of conversations, got {seeded}");
    assert_eq!(demo::seed(&store, "acme", &questions, Some(1), now, 30).unwrap(), 0, "seeding twice adds nothing");
    let board = Dashboard::load(&store, "acme", Range::last(30 * 86_400 + 12 * 3600, now)).unwrap();
    assert_eq!(board.demo_conversations, seeded);
    assert_eq!(board.kpis.conversations, seeded);
    let success = board.kpis.success_rate.unwrap();
    assert!((0.5..1.0).contains(&success), "a realistic success rate, got {success}");
    assert_eq!(board.top_questions.len(), questions.len() + 5, "the bot's questions and the off-topic ones");
    assert!(
        board.heatmap[0].iter().sum::<u64>() > board.heatmap[5].iter().sum::<u64>(),
        "Mondays busier than Saturdays"
    );
}

#[test]
fn charts_are_plain_svg() {
    let (_dir, store) = store();
    demo::seed(&store, "acme", &["Where is your store?".to_owned()], None, MONDAY, 7).unwrap();
    let board = Dashboard::load(&store, "acme", Range::last(7 * 86_400, MONDAY)).unwrap();
    for svg in [
        chart::replies(&board.series, board.bucket_seconds).unwrap(),
        chart::latency(&board.series, board.bucket_seconds).unwrap(),
        chart::heatmap(&board.heatmap).unwrap(),
    ] {
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"), "{}", &svg[..80.min(svg.len())]);
        assert!(!svg.contains("<script") && !svg.contains("style="), "no script and no inline style");
        assert!(svg.contains("<rect") || svg.contains("<polyline"), "something is drawn");
    }
}

#[test]
fn flows_and_drop_offs_follow_the_reply_topics() {
    let (_dir, store) = store();
    let (ship, returns, warranty) = ("shipping.md#times", "returns.md#policy", "warranty.html#frame");
    // Each reply: its tier and source; conversations start an hour apart, replies 10 s apart.
    let reply = |id: &str, at: i64, tier: Tier, source: Option<&str>| Event {
        conversation: Some(id.into()),
        tier: Some(tier),
        source: source.map(str::to_owned),
        ..Event::new("acme", at, EventKind::Reply)
    };
    let script = |id: &str, start: i64, steps: &[(Tier, Option<&str>)]| -> Vec<Event> {
        steps
            .iter()
            .enumerate()
            .map(|(index, (tier, source))| reply(id, start + 10 * index as i64, *tier, *source))
            .collect()
    };
    let (a, s, u) = (Tier::Answer, Tier::Suggestions, Tier::Unknown);
    let mut batch = Vec::new();
    batch.extend(script("c1", MONDAY, &[(a, Some(ship)), (a, Some(returns))]));
    batch.extend(script("c2", MONDAY + 3600, &[(a, Some(ship)), (s, Some(returns))]));
    // A repeated topic counts once, and the path keeps the first three topics.
    batch.extend(script(
        "c3",
        MONDAY + 7200,
        &[(a, Some(ship)), (a, Some(ship)), (u, None), (a, Some(warranty)), (a, Some(returns))],
    ));
    batch.extend(script("c4", MONDAY + 10_800, &[(u, None)]));
    // Started before the range: not counted.
    batch.extend(script("c0", MONDAY - 3600, &[(u, None)]));
    batch.push(reply("c5", MONDAY + 14_400, a, Some(ship)));
    store.record_events(&batch).unwrap();
    // The same conversation goes on in a later batch: the path and the last topic carry on.
    store
        .record_events(&[reply("c5", MONDAY + 14_410, a, Some(ship)), reply("c5", MONDAY + 14_420, s, Some(returns))])
        .unwrap();

    let board = Dashboard::load(&store, "acme", Range { from: MONDAY, to: MONDAY + 86_400 }).unwrap();
    let flows: Vec<(Vec<&str>, u64)> =
        board.flows.iter().map(|flow| (flow.topics.iter().map(String::as_str).collect(), flow.conversations)).collect();
    assert_eq!(
        flows,
        vec![
            (vec![ship, returns], 3),
            (vec![docent_store::events::NO_MATCH], 1),
            (vec![ship, docent_store::events::NO_MATCH, warranty], 1),
        ]
    );
    let drop_offs: Vec<(&str, u64)> =
        board.drop_offs.iter().map(|drop| (drop.topic.as_str(), drop.conversations)).collect();
    assert_eq!(drop_offs, vec![(returns, 2), (docent_store::events::NO_MATCH, 1)]);
}
