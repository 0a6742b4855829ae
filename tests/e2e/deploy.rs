//! The deploy step seen from outside: changes made through the lifecycle reach a running gateway
//! without a restart — deactivation, plans, quick updates, rollbacks — and the admin API.

use std::time::{Duration, Instant};

use docent_lifecycle::store::Plan;
use docent_tests::http::{Reply, send, until_serving};
use docent_tests::stack;
use hyper::Method;

/// How long a test waits for a change to reach the gateway. The gateway polls every 250 ms;
/// the ≤ 1 s figure is measured by `cargo xtask bench deploy`, not asserted here.
const PATIENCE: Duration = Duration::from_secs(10);

async fn ask(bot: &str, text: &str) -> Reply {
    let origin = stack().allowed_origin();
    let body = serde_json::json!({ "text": text }).to_string();
    send(
        stack().gateway,
        Method::POST,
        &format!("/v1/bots/{bot}/messages"),
        &[("content-type", "application/json"), ("origin", &origin)],
        body,
    )
    .await
    .unwrap()
}

async fn config(bot: &str) -> Reply {
    let origin = stack().allowed_origin();
    send(stack().gateway, Method::GET, &format!("/v1/bots/{bot}/config"), &[("origin", &origin)], "").await.unwrap()
}

/// Polls `probe` until it returns true, failing after [`PATIENCE`].
async fn eventually<F, Fut>(what: &str, mut probe: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let started = Instant::now();
    while started.elapsed() < PATIENCE {
        if probe().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{what}: not seen within {PATIENCE:?}");
}

/// Runs lifecycle work off the async runtime.
async fn lifecycle<T: Send + 'static>(work: impl FnOnce(&docent_lifecycle::Lifecycle) -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(move || work(&stack().lifecycle)).await.unwrap()
}

#[tokio::test]
async fn a_deactivated_bot_is_offline_until_activated_again() {
    let bot = "lab-offline";
    assert_eq!(ask(bot, "How long does delivery take?").await.status, 200);
    lifecycle(move |lc| lc.deactivate(bot, "e2e")).await.unwrap();
    eventually("503 bot_offline", || async {
        let reply = ask(bot, "How long does delivery take?").await;
        reply.status == 503 && reply.error_code() == "bot_offline"
    })
    .await;
    let offline_config = config(bot).await;
    assert_eq!((offline_config.status, offline_config.error_code().as_str()), (503, "bot_offline"));
    lifecycle(move |lc| lc.activate(bot, None, "e2e")).await.unwrap();
    eventually("answers again", || async { ask(bot, "How long does delivery take?").await.status == 200 }).await;
}

#[tokio::test]
async fn a_monthly_message_limit_is_exact_under_concurrency() {
    let bot = "lab-quota";
    let plan = Plan { name: "trial".into(), messages_per_month: Some(5), storage_bytes: None, expires_at: None };
    let revision =
        lifecycle(move |lc| lc.set_plan(bot, Some(&plan), "e2e").and_then(|()| lc.revision())).await.unwrap();
    until_serving(stack().gateway, revision).await.unwrap();
    let asks = (0..24).map(|_| tokio::spawn(async move { ask(bot, "Do you ship abroad?").await }));
    let mut statuses = Vec::new();
    for task in asks {
        let reply = task.await.unwrap();
        if reply.status == 429 {
            assert_eq!(reply.error_code(), "message_limit_reached");
        }
        statuses.push(reply.status);
    }
    assert_eq!(statuses.iter().filter(|&&status| status == 200).count(), 5, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|&&status| status == 429).count(), 19, "{statuses:?}");
}

#[tokio::test]
async fn a_quick_update_and_its_rollback_reach_the_running_gateway() {
    let bot = "lab-rollback";
    let toml = stack().bots_dir().join(bot).join("bot.toml");
    let original = std::fs::read_to_string(&toml).unwrap();
    let first = lifecycle(move |lc| lc.status(Some(bot))).await.unwrap()[0].live.unwrap();

    let greeting = "Hello from the quick update!";
    std::fs::write(&toml, original.replace("Hi! I'm the Brightwater assistant.", greeting)).unwrap();
    let report = lifecycle(move |lc| lc.deploy(bot, "e2e", &mut |_| {})).await.unwrap();
    assert_eq!(report.kind, docent_lifecycle::UpdateKind::Quick, "only the greeting changed");
    assert!(report.generation > first);
    eventually("the new greeting", || async {
        config(bot).await.json()["greeting"].as_str().unwrap().contains(greeting)
    })
    .await;

    let live = lifecycle(move |lc| lc.rollback(bot, None, "e2e")).await.unwrap();
    assert_eq!(live, first);
    eventually("the old greeting", || async {
        !config(bot).await.json()["greeting"].as_str().unwrap().contains(greeting)
    })
    .await;
    std::fs::write(&toml, original).unwrap();
}

async fn admin(method: Method, path: &str, token: &str, body: &str) -> Reply {
    let bearer = format!("Bearer {token}");
    send(
        stack().gateway,
        method,
        path,
        &[("authorization", &bearer), ("content-type", "application/json")],
        body.to_owned(),
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn the_admin_api_needs_a_valid_token_and_respects_its_scope() {
    let anonymous = send(stack().gateway, Method::GET, "/v1/admin/bots", &[], "").await.unwrap();
    assert_eq!((anonymous.status, anonymous.error_code().as_str()), (401, "unauthorized"));
    let forged = admin(Method::GET, "/v1/admin/bots", "dca_forged", "").await;
    assert_eq!(forged.status, 401);

    let bots = admin(Method::GET, "/v1/admin/bots", &stack().admin_token, "").await;
    assert_eq!(bots.status, 200);
    let listed: Vec<String> =
        bots.json().as_array().unwrap().iter().map(|bot| bot["bot"].as_str().unwrap().to_owned()).collect();
    assert!(listed.contains(&"brightwater".to_owned()) && listed.contains(&"handbook".to_owned()), "{listed:?}");

    let scoped = lifecycle(|lc| lc.create_admin_token("handbook-only", Some("handbook"), "e2e")).await.unwrap();
    assert_eq!(admin(Method::GET, "/v1/admin/bots/handbook/check", &scoped, "").await.status, 200);
    let refused = admin(Method::GET, "/v1/admin/bots/brightwater/check", &scoped, "").await;
    assert_eq!((refused.status, refused.error_code().as_str()), (403, "forbidden"));
    let scoped_list = admin(Method::GET, "/v1/admin/bots", &scoped, "").await.json();
    assert_eq!(scoped_list.as_array().unwrap().len(), 1, "{scoped_list}");

    lifecycle(|lc| lc.revoke_admin_token("handbook-only", "e2e")).await.unwrap();
    assert_eq!(admin(Method::GET, "/v1/admin/bots/handbook/check", &scoped, "").await.status, 401, "revoked at once");
}

#[tokio::test]
async fn an_admin_deploy_streams_its_phases_as_server_sent_events() {
    let reply = admin(Method::POST, "/v1/admin/bots/handbook/deploys", &stack().admin_token, "").await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("text/event-stream"));
    let text = String::from_utf8(reply.body.to_vec()).unwrap();
    for phase in ["Starting", "Loading the knowledge base", "Updating models", "Automatic testing", "Activating"] {
        assert!(text.contains(phase), "no {phase} in {text}");
    }
    assert!(text.contains("event: done\n"), "{text}");
    let check = admin(Method::GET, "/v1/admin/bots/handbook/check", &stack().admin_token, "").await.json();
    assert_eq!(check["state"], "ready", "{check}");
}
