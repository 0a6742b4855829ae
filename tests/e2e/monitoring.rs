//! Monitoring: real chat messages are recorded off the request path, redacted, summed into the
//! analytics, and shown with the logs in the console, in headless Chromium.

use std::time::{Duration, Instant};

use docent_analytics::{Dashboard, Range, Standing};
use docent_lifecycle::store::{EventKind, LogLevel, LogQuery, Tier};
use docent_lifecycle::when::now;
use docent_tests::http::send;
use docent_tests::webdriver::Browser;
use docent_tests::{Stack, private_stack, workspace_root};
use hyper::Method;

const WAIT: Duration = Duration::from_secs(30);
const MESSAGES: &str = "/v1/bots/brightwater/messages";

async fn ask(stack: &Stack, origin: &str, body: &str) -> docent_tests::http::Reply {
    let headers = [("content-type", "application/json"), ("origin", origin)];
    send(stack.gateway, Method::POST, MESSAGES, &headers, body.to_owned()).await.unwrap()
}

/// Waits until the recorder's batches hold `count` events of `bot`, and returns them.
async fn recorded(stack: &Stack, bot: &str, count: usize) -> Vec<docent_lifecycle::store::Event> {
    let deadline = Instant::now() + WAIT;
    loop {
        let events = stack.lifecycle.store().events(bot, 0, i64::MAX, 1_000).unwrap();
        if events.len() >= count {
            return events;
        }
        assert!(Instant::now() < deadline, "{} of {count} events recorded within {WAIT:?}", events.len());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn chat_is_recorded_summed_and_shown_in_the_console() {
    let stack = private_stack().unwrap();
    let allowed = stack.allowed_origin();
    let first = ask(&stack, &allowed, r#"{"text":"How long does delivery take?"}"#).await;
    assert_eq!(first.status, 200);
    let conversation = first.json()["conversation_id"].as_str().unwrap().to_owned();
    let second = format!(
        r#"{{"text":"I am jane.doe@example.com, card 4111 1111 1111 1111: can I fly to the moon?","conversation_id":"{conversation}"}}"#
    );
    assert_eq!(ask(&stack, &allowed, &second).await.status, 200);
    assert_eq!(ask(&stack, &allowed, r#"{"text":"   "}"#).await.status, 400);
    assert_eq!(ask(&stack, &stack.other_origin(), r#"{"text":"hello"}"#).await.status, 403);

    // conversation start, 2 × (message + reply), 2 errors.
    let events = recorded(&stack, "brightwater", 7).await;
    let kinds: Vec<EventKind> = events.iter().map(|event| event.kind).collect();
    for (kind, count) in
        [(EventKind::ConversationStart, 1), (EventKind::Message, 2), (EventKind::Reply, 2), (EventKind::Error, 2)]
    {
        assert_eq!(kinds.iter().filter(|k| **k == kind).count(), count, "{kind:?} in {kinds:?}");
    }
    let replies: Vec<_> = events.iter().filter(|event| event.kind == EventKind::Reply).collect();
    assert_eq!(replies[0].tier, Some(Tier::Answer));
    assert_eq!(replies[0].conversation.as_deref(), Some(conversation.as_str()));
    let stored = replies[1].text.as_deref().unwrap();
    assert_eq!(stored, "I am [email], card [card]: can I fly to the moon?", "redacted before storage");
    for event in &events {
        let visitor = event.visitor.as_deref().unwrap_or_default();
        assert!(!visitor.contains("127.0.0.1"), "no client address is stored: {visitor}");
    }
    let mut statuses: Vec<i64> = events.iter().filter_map(|event| event.value).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, vec![400, 403]);

    let board = Dashboard::load(stack.lifecycle.store(), "brightwater", Range::last(86_400, now() + 60)).unwrap();
    assert_eq!((board.kpis.asked, board.kpis.answers, board.kpis.errors, board.kpis.conversations), (2, 1, 2, 1));
    assert_eq!(board.kpis.error_rate, Some(0.5));
    assert_eq!(board.targets[1].standing, Standing::NoWatcher, "uptime needs a watcher");
    let refusals = stack
        .lifecycle
        .store()
        .logs(&LogQuery {
            bot: Some("brightwater".into()),
            level: Some(LogLevel::Warning),
            limit: 10,
            ..LogQuery::default()
        })
        .unwrap();
    assert_eq!(refusals.len(), 1, "{refusals:?}");
    assert_eq!(refusals[0].message, "refused a messages request: 403 Forbidden");

    // The handbook bot gets demo data, labelled as such in the console.
    let seeded = docent_analytics::demo::seed(
        stack.lifecycle.store(),
        "handbook",
        &["How many vacation days do I get?".to_owned()],
        None,
        now(),
        30,
    )
    .unwrap();
    assert!(seeded > 0);

    let browser = Browser::start().await.unwrap();
    let gateway = stack.gateway_url();
    browser.goto(&format!("{gateway}/admin/")).await.unwrap();
    let token = browser.wait_for("input#token", WAIT).await.unwrap();
    browser.type_text(&token, &stack.admin_token).await.unwrap();
    browser.click(&browser.wait_for("form[action='/admin/sign-in'] button", WAIT).await.unwrap()).await.unwrap();
    browser.wait_for("a[href='/admin/bots/brightwater']", WAIT).await.unwrap();

    browser.goto(&format!("{gateway}/admin/bots/brightwater/analytics?range=24h")).await.unwrap();
    let kpis = browser.text(&browser.wait_for("table#kpis", WAIT).await.unwrap()).await.unwrap();
    assert!(kpis.contains("Error rate") && kpis.contains("50.0 %") && kpis.contains("no watcher"), "{kpis}");
    let charts = browser.execute("return document.querySelectorAll('figure.chart svg').length").await.unwrap();
    assert_eq!(charts.as_u64(), Some(3));
    let asked = browser.text(&browser.wait_for("table#most-asked", WAIT).await.unwrap()).await.unwrap();
    assert!(asked.contains("how long does delivery take"), "{asked}");
    let unresolved = browser.text(&browser.wait_for("table#unresolved", WAIT).await.unwrap()).await.unwrap();
    assert!(unresolved.contains("[email]") && !unresolved.contains("jane"), "{unresolved}");
    assert!(unresolved.contains("Draft a Q&A"), "a draft button per unresolved group: {unresolved}");
    // An answer, then a question with no match: one flow of two topics, dropping off at the second.
    let flows = browser.text(&browser.wait_for("table#flows", WAIT).await.unwrap()).await.unwrap();
    assert!(flows.contains("faq.toml#") && flows.contains(" → (no match)"), "{flows}");
    let drop_offs = browser.text(&browser.wait_for("table#drop-offs", WAIT).await.unwrap()).await.unwrap();
    assert!(drop_offs.contains("(no match)"), "{drop_offs}");
    assert!(browser.find(".notice.demo").await.unwrap().is_none(), "real conversations are not labelled demo");

    browser.goto(&format!("{gateway}/admin/bots/handbook/analytics?range=30d")).await.unwrap();
    let demo = browser.text(&browser.wait_for(".notice.demo", WAIT).await.unwrap()).await.unwrap();
    assert!(demo.contains("Demo data"), "{demo}");
    browser.set_viewport(1200, 2200).await.unwrap();
    let shot = browser.screenshot().await.unwrap();
    assert!(shot.starts_with(b"\x89PNG"), "a PNG screenshot");
    let dir = workspace_root().join("target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("analytics.png"), &shot).unwrap();

    browser.goto(&format!("{gateway}/admin/logs?bot=brightwater")).await.unwrap();
    let rows = browser.text(&browser.wait_for("table#log-records", WAIT).await.unwrap()).await.unwrap();
    assert!(rows.contains("by e2e: succeeded, generation 1"), "the stack's deploy is an operational record: {rows}");
    browser.goto(&format!("{gateway}/admin/logs?bot=brightwater&level=warning")).await.unwrap();
    let rows = browser.text(&browser.wait_for("table#log-records", WAIT).await.unwrap()).await.unwrap();
    assert!(rows.contains("refused a messages request: 403 Forbidden") && !rows.contains("succeeded"), "{rows}");
    let csv =
        browser.execute("return fetch(document.querySelector('#export-csv').href).then(r => r.text())").await.unwrap();
    let csv = csv.as_str().unwrap();
    assert!(csv.starts_with("time,level,bot,message\r\n"), "{csv}");
    assert!(csv.contains(",warning,brightwater,refused a messages request: 403 Forbidden\r\n"), "{csv}");
    let json =
        browser.execute("return fetch(document.querySelector('#export-json').href).then(r => r.json())").await.unwrap();
    assert_eq!(json[0]["level"], "warning", "{json}");

    // Every page above rendered without a console message (a CSP refusal, a failed script...).
    let messages: Vec<String> =
        browser.console_messages().await.unwrap().into_iter().filter(|m| !m.contains("favicon.ico")).collect();
    assert!(messages.is_empty(), "console messages: {messages:?}");
    browser.quit().await.unwrap();
}
