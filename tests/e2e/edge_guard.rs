//! The gateway at the edge: sign-in floods and races, rate limits, quotas under concurrency,
//! CORS marks on refusals, sessions that outlive a restart, site-signed tokens, and a broken
//! bot that must not keep the others from starting.
//!
//! Tests that exhaust a brake or change a bot run on a stack of their own; tests that need
//! other client settings start one more gateway on that stack's store.

use std::net::SocketAddr;
use std::sync::Arc;

use docent_gateway::assets::WidgetAssets;
use docent_gateway::http::client::ClientAddress;
use docent_gateway::http::limits::{Limits, SIGN_IN_BURST};
use docent_gateway::serve::{app_state, run_gateway_with};
use docent_gateway::server::ServerOptions;
use docent_lifecycle::store::{AuditEntry, Plan};
use docent_lifecycle::when::now;
use docent_tests::http::{Reply, send, until_serving};
use docent_tests::{HANDBOOK_PASSWORD, Stack, private_stack, stack, workspace_root};
use hyper::Method;
use hyper::header::HeaderName;

const SESSIONS: &str = "/v1/bots/handbook/sessions";

async fn own_stack() -> Stack {
    tokio::task::spawn_blocking(private_stack).await.unwrap().unwrap()
}

/// One more gateway on `stack`'s store, with its own client rule and limits.
async fn gateway_with(stack: &Stack, client_address: ClientAddress, limits: Limits) -> SocketAddr {
    let assets = WidgetAssets::from_dir(&workspace_root().join("target/widget-dist")).unwrap();
    let lifecycle = Arc::clone(&stack.lifecycle);
    let mut state = tokio::task::spawn_blocking(move || app_state(lifecycle, assets)).await.unwrap().unwrap();
    state.client_address = client_address;
    state.limits = limits;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    // Its connections come as from one proxy carrying many clients: no per-address cap.
    let mut options = ServerOptions::default();
    options.limits.max_connections_per_client = 0;
    tokio::spawn(run_gateway_with(listener, Arc::new(state), options, std::future::pending()));
    address
}

/// A client rule that believes `X-Forwarded-For` from loopback, as behind a local proxy.
fn behind_local_proxy() -> ClientAddress {
    ClientAddress::new(vec!["127.0.0.1/32".parse().unwrap()], None, HeaderName::from_static("x-forwarded-for"))
}

async fn post(gateway: SocketAddr, path: &str, headers: &[(&str, &str)], body: &str) -> Reply {
    let mut all = vec![("content-type", "application/json")];
    all.extend_from_slice(headers);
    send(gateway, Method::POST, path, &all, body.to_owned()).await.unwrap()
}

/// Sends every request at once and returns the replies in order.
async fn all_at_once(requests: impl IntoIterator<Item = impl Future<Output = Reply> + Send + 'static>) -> Vec<Reply> {
    let tasks: Vec<_> = requests.into_iter().map(tokio::spawn).collect();
    let mut replies = Vec::with_capacity(tasks.len());
    for task in tasks {
        replies.push(task.await.unwrap());
    }
    replies
}

/// A question to the internal `handbook` bot with `authorization`.
async fn ask_staff(gateway: SocketAddr, authorization: &str) -> Reply {
    post(
        gateway,
        "/v1/bots/handbook/messages",
        &[("authorization", authorization)],
        r#"{"text":"How do I book leave?"}"#,
    )
    .await
}

fn count(replies: &[Reply], status: u16) -> usize {
    replies.iter().filter(|reply| reply.status == status).count()
}

#[tokio::test(flavor = "multi_thread")]
async fn forty_parallel_wrong_guesses_get_at_most_the_brakes_allowance_checked() {
    // Regression: the brake was checked before the body read and argon2 and counted only
    // afterwards, so all 40 guesses were checked.
    let stack = own_stack().await;
    let gateway = stack.gateway;
    let replies =
        all_at_once((0..40).map(|guess| async move {
            post(gateway, SESSIONS, &[], &format!(r#"{{"password":"guess {guess}"}}"#)).await
        }))
        .await;
    let checked = count(&replies, 401);
    assert!((1..=SIGN_IN_BURST as usize).contains(&checked), "{checked} guesses were checked");
    assert_eq!(count(&replies, 429), 40 - checked);
    for refused in replies.iter().filter(|reply| reply.status == 429) {
        assert_eq!(refused.error_code(), "too_many_attempts");
        assert!(refused.header("retry-after").is_some_and(|seconds| seconds.parse::<u64>().is_ok_and(|s| s >= 1)));
    }
    let right = serde_json::json!({ "password": HANDBOOK_PASSWORD }).to_string();
    assert_eq!(post(gateway, SESSIONS, &[], &right).await.status, 429, "the brake holds for the right password too");
}

/// The process's resident memory in KiB, from `/proc/self/status` (`VmHWM` or `VmRSS`).
fn memory_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|line| line.starts_with(field)).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn four_hundred_concurrent_sign_ins_from_as_many_clients_stay_under_256_mb() {
    // Regression: each check ran argon2 (19 MiB) on tokio's blocking pool of 512 threads; 400
    // guesses took the gateway from 16 MB to 7.1 GB. Each guess comes from its own address
    // (behind a trusted proxy), so the brake lets every one through to the argon2 bound.
    let stack = own_stack().await;
    let gateway = gateway_with(&stack, behind_local_proxy(), Limits::default()).await;
    let before = memory_kib("VmRSS:");
    // Resets VmHWM to the current RSS, so the peak below is this flood's.
    std::fs::write("/proc/self/clear_refs", "5").unwrap();
    let replies = all_at_once((0..400u32).map(|client| async move {
        let forwarded = format!("10.9.{}.{}", client / 256, client % 256);
        post(gateway, SESSIONS, &[("x-forwarded-for", &forwarded)], r#"{"password":"a guess"}"#).await
    }))
    .await;
    let peak = memory_kib("VmHWM:");
    let grown_mib = peak.saturating_sub(before) / 1024;
    assert!(grown_mib < 256, "the flood grew the process by {grown_mib} MiB (before {before} KiB, peak {peak} KiB)");
    assert_eq!(count(&replies, 401) + count(&replies, 429), 400, "only wrong passwords and refusals");
    assert!(count(&replies, 429) > 0, "some checks found every argon2 permit taken");
}

#[tokio::test(flavor = "multi_thread")]
async fn fifty_concurrent_messages_for_the_last_of_a_quota_get_exactly_one_answer() {
    let stack = own_stack().await;
    let lifecycle = Arc::clone(&stack.lifecycle);
    let revision = tokio::task::spawn_blocking(move || {
        let used = lifecycle.plan("brightwater", now())?.used;
        let plan =
            Plan { name: "last".into(), messages_per_month: Some(used + 1), storage_bytes: None, expires_at: None };
        lifecycle.set_plan("brightwater", Some(&plan), "e2e")?;
        lifecycle.revision()
    })
    .await
    .unwrap()
    .unwrap();
    let gateway = stack.gateway;
    until_serving(gateway, revision).await.unwrap();
    let replies = all_at_once((0..50).map(|_| async move {
        post(gateway, "/v1/bots/brightwater/messages", &[], r#"{"text":"Do you ship abroad?"}"#).await
    }))
    .await;
    assert_eq!(count(&replies, 200), 1, "{:?}", replies.iter().map(|reply| reply.status).collect::<Vec<_>>());
    assert!(
        replies.iter().filter(|reply| reply.status != 200).all(|reply| reply.error_code() == "message_limit_reached")
    );
}

#[tokio::test]
async fn chat_messages_are_limited_per_client_with_retry_after() {
    let stack = own_stack().await;
    let limits = Limits::new(3.try_into().unwrap(), 2.try_into().unwrap());
    let gateway = gateway_with(&stack, behind_local_proxy(), limits).await;
    let ask = |client: &'static str, body: String| async move {
        post(gateway, "/v1/bots/brightwater/messages", &[("x-forwarded-for", client)], &body).await
    };
    let question = || r#"{"text":"Do you ship abroad?"}"#.to_owned();
    let first = ask("2001:db8:5:6::1", question()).await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    let conversation = first.json()["conversation_id"].as_str().unwrap().to_owned();
    let same = format!(r#"{{"text":"And to Norway?","conversation_id":"{conversation}"}}"#);
    assert_eq!(ask("2001:db8:5:6::2", same.clone()).await.status, 200, "another address of the same /64");
    let refused = ask("2001:db8:5:6::3", same).await;
    assert_eq!((refused.status, refused.error_code().as_str()), (429, "too_many_attempts"), "the conversation's 2");
    assert!(refused.header("retry-after").is_some());
    let refused = ask("2001:db8:5:6:ffff::9", question()).await;
    assert_eq!(refused.status, 429, "the client's 3 per minute are used");
    assert_eq!(ask("2001:db8:5:7::1", question()).await.status, 200, "another /64");
}

#[tokio::test]
async fn every_bot_api_answer_is_marked_no_store_and_vary_origin_even_refusals() {
    let gateway = stack().gateway;
    let allowed = stack().allowed_origin();
    let shouted = allowed.to_ascii_uppercase();
    let cases = [
        ("/v1/bots/brightwater/config", vec![("origin", allowed.as_str())], 200, Some(allowed.as_str())),
        ("/v1/bots/brightwater/config", vec![("origin", shouted.as_str())], 200, Some(allowed.as_str())),
        ("/v1/bots/brightwater/config", vec![("origin", "https://evil.example")], 403, None::<&str>),
        ("/v1/bots/nobody/config", vec![("origin", allowed.as_str())], 404, Some("*")),
        (
            "/v1/bots/brightwater/config",
            vec![("origin", allowed.as_str()), ("origin", "https://evil.example")],
            400,
            None,
        ),
        ("/v1/bots/brightwater/nothing", vec![("origin", allowed.as_str())], 404, Some(allowed.as_str())),
    ];
    for (path, headers, status, allow_origin) in cases {
        let reply = send(gateway, Method::GET, path, &headers, "").await.unwrap();
        assert_eq!(reply.status, status, "{path} {headers:?}: {:?}", reply.body);
        assert_eq!(reply.header("cache-control"), Some("no-store"), "{path} {headers:?}");
        assert!(reply.header("vary").is_some_and(|vary| vary.contains("Origin")), "{path} {headers:?}");
        assert_eq!(reply.header("access-control-allow-origin"), allow_origin, "{path} {headers:?}");
        assert!(reply.header("x-request-id").is_some_and(|id| id.len() == 16), "{path} {headers:?}");
    }
    let trailing_slash = format!("{allowed}/");
    let reply =
        send(gateway, Method::GET, "/v1/bots/brightwater/config", &[("origin", &trailing_slash)], "").await.unwrap();
    assert_eq!((reply.status, reply.error_code().as_str()), (403, "origin_not_allowed"));
}

#[tokio::test(flavor = "multi_thread")]
async fn sessions_survive_a_restart_and_end_at_sign_out() {
    let stack = own_stack().await;
    let right = serde_json::json!({ "password": HANDBOOK_PASSWORD }).to_string();
    let grant = post(stack.gateway, SESSIONS, &[], &right).await;
    assert_eq!(grant.status, 200, "{:?}", grant.body);
    let bearer = format!("Bearer {}", grant.json()["token"].as_str().unwrap());
    // A gateway started afterwards on the same store, as after a restart, knows the session.
    let restarted = gateway_with(&stack, ClientAddress::default(), Limits::default()).await;
    assert_eq!(ask_staff(restarted, &bearer).await.status, 200);
    let signed_out =
        send(restarted, Method::DELETE, SESSIONS, &[("authorization", bearer.as_str())], "").await.unwrap();
    assert_eq!(signed_out.status, 204, "{:?}", signed_out.body);
    for gateway in [stack.gateway, restarted] {
        let reply = ask_staff(gateway, &bearer).await;
        assert_eq!((reply.status, reply.error_code().as_str()), (401, "unauthorized"), "revoked on every gateway");
    }
    let again = send(stack.gateway, Method::DELETE, SESSIONS, &[("authorization", bearer.as_str())], "").await.unwrap();
    assert_eq!(again.status, 401);
}

fn site_token(secret: &str, claims: serde_json::Value) -> String {
    let key = jsonwebtoken::EncodingKey::from_secret(secret.as_bytes());
    jsonwebtoken::encode(&jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256), &claims, &key).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_site_signed_token_opens_its_bot_until_it_expires() {
    let stack = own_stack().await;
    let lifecycle = Arc::clone(&stack.lifecycle);
    let secret =
        tokio::task::spawn_blocking(move || lifecycle.create_site_secret("handbook", "e2e")).await.unwrap().unwrap();
    let gateway = stack.gateway;
    let exchange = |token: String| async move {
        post(gateway, SESSIONS, &[], &serde_json::json!({ "site_token": token }).to_string()).await
    };
    let exp = now() + 300;
    let grant = exchange(site_token(&secret, serde_json::json!({"bot": "handbook", "sub": "ana", "exp": exp}))).await;
    assert_eq!(grant.status, 200, "{:?}", grant.body);
    let bearer = format!("Bearer {}", grant.json()["token"].as_str().unwrap());
    let reply = ask_staff(gateway, &bearer).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    for (why, token) in [
        ("expired", site_token(&secret, serde_json::json!({"bot": "handbook", "sub": "ana", "exp": now() - 1}))),
        ("another bot", site_token(&secret, serde_json::json!({"bot": "brightwater", "sub": "ana", "exp": exp}))),
        ("another secret", site_token("dcs_not-it", serde_json::json!({"bot": "handbook", "sub": "ana", "exp": exp}))),
    ] {
        let reply = exchange(token).await;
        assert_eq!((reply.status, reply.error_code().as_str()), (401, "invalid_credentials"), "{why}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn one_broken_bot_is_reported_and_the_others_still_start() {
    // Regression: a live generation whose stored bot.toml no longer loads (here, since
    // wildcards over public suffixes are refused) failed the whole snapshot, and the gateway
    // did not start.
    let stack = own_stack().await;
    let lifecycle = Arc::clone(&stack.lifecycle);
    tokio::task::spawn_blocking(move || {
        let store = lifecycle.store();
        let live = store.bot("brightwater").unwrap().unwrap().live.unwrap();
        let mut generation = store.generation("brightwater", live).unwrap().unwrap();
        generation.number = store.next_generation_number("brightwater").unwrap();
        generation.config =
            generation.config.replacen("allowed_origins = [", "allowed_origins = [\"https://*.com\", ", 1);
        store.insert_generation(&generation).unwrap();
        let audit = AuditEntry::new(now(), "e2e", Some("brightwater"), "deploy", "a generation that no longer loads");
        store.activate_generation("brightwater", generation.number, None, &audit).unwrap();
    })
    .await
    .unwrap();
    let gateway = gateway_with(&stack, ClientAddress::default(), Limits::default()).await;
    let health = send(gateway, Method::GET, "/healthz", &[], "").await.unwrap();
    assert_eq!(health.status, 200);
    assert_eq!(health.json(), serde_json::json!({"status": "degraded", "degraded": ["brightwater"]}));
    let handbook = send(gateway, Method::GET, "/v1/bots/handbook/config", &[], "").await.unwrap();
    assert_eq!(handbook.status, 200, "the other bot serves");
    let broken = send(gateway, Method::GET, "/v1/bots/brightwater/config", &[], "").await.unwrap();
    assert_eq!(broken.status, 404);
}
