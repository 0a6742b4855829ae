//! The public HTTP API over a real socket: CORS allowlists, staff access, errors and widget assets.

use docent_tests::http::{Reply, send};
use docent_tests::{HANDBOOK_PASSWORD, stack};
use hyper::Method;

const MESSAGES: &str = "/v1/bots/brightwater/messages";

async fn post_json(path: &str, headers: &[(&str, &str)], body: &str) -> Reply {
    let mut all = vec![("content-type", "application/json")];
    all.extend_from_slice(headers);
    send(stack().gateway, Method::POST, path, &all, body.to_owned()).await.unwrap()
}

async fn get(path: &str, headers: &[(&str, &str)]) -> Reply {
    send(stack().gateway, Method::GET, path, headers, "").await.unwrap()
}

#[tokio::test]
async fn an_allowed_origin_gets_its_answer_with_cors_headers() {
    let origin = stack().allowed_origin();
    let reply = post_json(MESSAGES, &[("origin", &origin)], r#"{"text":"How long does delivery take?"}"#).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(reply.header("access-control-allow-origin"), Some(origin.as_str()));
    assert!(reply.header("vary").is_some_and(|vary| vary.contains("Origin")));
    let json = reply.json();
    assert_eq!(json["reply"]["kind"], "faq", "{json}");
    assert!(json["reply"]["text"].as_str().unwrap().contains("business day"), "{json}");
    assert!(json["reply"]["sources"][0]["source"].as_str().unwrap().starts_with("faq.toml#"), "{json}");
    assert!(json["conversation_id"].as_str().is_some_and(|id| id.starts_with("c_")));

    let preflight = send(
        stack().gateway,
        Method::OPTIONS,
        MESSAGES,
        &[
            ("origin", &origin),
            ("access-control-request-method", "POST"),
            ("access-control-request-headers", "content-type"),
        ],
        "",
    )
    .await
    .unwrap();
    assert_eq!(preflight.status, 204);
    assert_eq!(preflight.header("access-control-allow-origin"), Some(origin.as_str()));
    assert!(preflight.header("access-control-allow-methods").unwrap().contains("POST"));
    assert!(preflight.header("access-control-allow-headers").unwrap().contains("content-type"));
}

#[tokio::test]
async fn a_conversation_keeps_its_id() {
    let origin = stack().allowed_origin();
    let first = post_json(MESSAGES, &[("origin", &origin)], r#"{"text":"Do you ship abroad?"}"#).await.json();
    let id = first["conversation_id"].as_str().unwrap().to_owned();
    let body = serde_json::json!({"text": "And how much is the return shipping?", "conversation_id": id}).to_string();
    let second = post_json(MESSAGES, &[("origin", &origin)], &body).await.json();
    assert_eq!(second["conversation_id"], id.as_str());
}

#[tokio::test]
async fn a_disallowed_origin_gets_403_without_cors_headers() {
    let origin = stack().other_origin();
    for reply in [
        post_json(MESSAGES, &[("origin", &origin)], r#"{"text":"How long does delivery take?"}"#).await,
        get("/v1/bots/brightwater/config", &[("origin", &origin)]).await,
        get("/v1/bots/handbook/config", &[("origin", "https://evil.example")]).await,
        send(
            stack().gateway,
            Method::OPTIONS,
            MESSAGES,
            &[("origin", &origin), ("access-control-request-method", "POST")],
            "",
        )
        .await
        .unwrap(),
    ] {
        assert_eq!(reply.status, 403);
        assert_eq!(reply.header("access-control-allow-origin"), None);
        assert_eq!(reply.error_code(), "origin_not_allowed");
    }
}

#[tokio::test]
async fn unknown_bots_and_routes_are_404_with_stable_codes() {
    let reply = post_json("/v1/bots/nobody/messages", &[], r#"{"text":"hi"}"#).await;
    assert_eq!((reply.status, reply.error_code().as_str()), (404, "bot_not_found"));
    let reply = get("/v1/bots/brightwater/nothing", &[]).await;
    assert_eq!((reply.status, reply.error_code().as_str()), (404, "not_found"));
    let reply = get("/nothing/here", &[]).await;
    assert_eq!((reply.status, reply.error_code().as_str()), (404, "not_found"));
    let reply = get(MESSAGES, &[]).await;
    assert_eq!((reply.status, reply.error_code().as_str()), (405, "method_not_allowed"));
}

#[tokio::test]
async fn bad_message_requests_get_clear_400s() {
    let long_text = serde_json::json!({ "text": "a".repeat(2001) }).to_string();
    let cases: &[(&str, &str)] = &[
        ("{", "EOF while parsing"),
        ("not json", "expected"),
        (r#"{"text": 5}"#, "invalid type"),
        (r#"{"txt": "hi"}"#, "unknown field `txt`"),
        (r#"{}"#, "missing field `text`"),
        (r#"{"text": "   "}"#, "must not be empty"),
        (&long_text, "the limit is 2000"),
        (r#"{"text": "hi", "conversation_id": "../../etc"}"#, "conversation_id"),
    ];
    for (body, hint) in cases {
        let reply = post_json(MESSAGES, &[], body).await;
        assert_eq!(reply.status, 400, "{body}");
        assert_eq!(reply.error_code(), "invalid_request", "{body}");
        let message = reply.json()["error"]["message"].as_str().unwrap().to_owned();
        assert!(message.contains(hint), "{body}: message {message:?} lacks {hint:?}");
    }

    let huge = format!(r#"{{"text": "{}"}}"#, "a".repeat(20_000));
    let reply = post_json(MESSAGES, &[], &huge).await;
    assert_eq!((reply.status, reply.error_code().as_str()), (413, "payload_too_large"));

    let reply = send(stack().gateway, Method::POST, MESSAGES, &[("content-type", "text/plain")], "{}").await.unwrap();
    assert_eq!((reply.status, reply.error_code().as_str()), (415, "unsupported_media_type"));
}

#[tokio::test]
async fn an_unanswerable_question_gets_an_honest_unknown_with_a_handoff() {
    let reply = post_json(MESSAGES, &[], r#"{"text":"What will the weather be like in Lisbon tomorrow?"}"#).await;
    assert_eq!(reply.status, 200);
    let json = reply.json();
    assert_eq!(json["reply"]["kind"], "unknown", "{json}");
    assert_eq!(json["reply"]["sources"], serde_json::json!([]));
    assert!(json["reply"]["handoff"]["url"].as_str().is_some_and(|url| url.starts_with("mailto:")), "{json}");
}

#[tokio::test]
async fn the_internal_bot_needs_staff_credentials() {
    let origin = stack().allowed_origin();
    let ask = r#"{"text":"How many vacation days do I get?"}"#;
    let handbook = "/v1/bots/handbook/messages";

    let config = get("/v1/bots/handbook/config", &[("origin", &origin)]).await.json();
    assert_eq!(config["visibility"], "internal");

    let reply = post_json(handbook, &[("origin", &origin)], ask).await;
    assert_eq!((reply.status, reply.error_code().as_str()), (401, "unauthorized"));
    assert_eq!(reply.header("www-authenticate"), Some("Bearer"));
    let reply = post_json(handbook, &[("origin", &origin), ("authorization", "Bearer dct_forged")], ask).await;
    assert_eq!((reply.status, reply.error_code().as_str()), (401, "unauthorized"));

    let sessions = "/v1/bots/handbook/sessions";
    let reply = post_json(sessions, &[("origin", &origin)], r#"{"password":"not the password"}"#).await;
    assert_eq!((reply.status, reply.error_code().as_str()), (401, "invalid_credentials"));

    let body = serde_json::json!({ "password": HANDBOOK_PASSWORD }).to_string();
    let grant = post_json(sessions, &[("origin", &origin)], &body).await;
    assert_eq!(grant.status, 200, "{:?}", grant.body);
    let token = grant.json()["token"].as_str().unwrap().to_owned();
    let bearer = format!("Bearer {token}");
    let reply = post_json(handbook, &[("origin", &origin), ("authorization", &bearer)], ask).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_ne!(reply.json()["reply"]["kind"], "unknown");

    let reply = post_json("/v1/bots/brightwater/sessions", &[], &body).await;
    assert_eq!((reply.status, reply.error_code().as_str()), (400, "invalid_request"));
}

#[tokio::test]
async fn widget_assets_are_served_to_any_origin_with_gzip() {
    let version = env!("CARGO_PKG_VERSION");
    let reply = get(&format!("/widget/{version}/bundle.js"), &[("origin", "https://anyone.example")]).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("text/javascript; charset=utf-8"));
    assert_eq!(reply.header("access-control-allow-origin"), Some("*"));
    assert!(String::from_utf8_lossy(&reply.body).contains("data-bot"));

    let wasm = get(&format!("/widget/{version}/docent_widget_bg.wasm"), &[("accept-encoding", "gzip")]).await;
    assert_eq!(wasm.status, 200);
    assert_eq!(wasm.header("content-type"), Some("application/wasm"));
    assert_eq!(wasm.header("content-encoding"), Some("gzip"));
    assert_eq!(&wasm.body[..2], &[0x1f, 0x8b], "a gzip stream");

    let latest = get("/widget/latest/bundle.js", &[]).await;
    assert_eq!(latest.body, reply.body);

    let reply = get("/widget/0.0.0-nope/bundle.js", &[]).await;
    assert_eq!((reply.status, reply.error_code().as_str()), (404, "widget_version_not_found"));
}

#[tokio::test]
async fn health_and_demo_pages_answer() {
    let health = get("/healthz", &[("origin", "https://anyone.example")]).await;
    assert_eq!(health.status, 200);
    assert_eq!(health.header("access-control-allow-origin"), Some("*"));
    let demo = get("/demo/brightwater", &[]).await;
    assert_eq!(demo.status, 200);
    assert!(demo.header("content-security-policy").is_some_and(|csp| csp.contains("style-src 'self'")));
    assert!(String::from_utf8_lossy(&demo.body).contains(r#"data-bot="brightwater""#));
}

/// The config carries every sentence in one language: the snippet's `data-locale` (`locale`) before
/// the page's `lang`, English when neither is usable, and the direction for right-to-left ones.
#[tokio::test]
async fn the_config_speaks_the_language_the_page_asks_for() {
    let origin = stack().allowed_origin();
    for (query, language, dir, send) in [
        ("", "en", "ltr", "Send"),
        ("?lang=fr", "fr", "ltr", "Envoyer"),
        ("?locale=de-CH&lang=fr", "de", "ltr", "Senden"),
        ("?locale=&lang=es-MX", "es", "ltr", "Enviar"),
        ("?locale=%3Cb%3E&lang=ar", "ar", "rtl", "Send"),
        ("?locale=ja", "ja", "ltr", "Send"),
    ] {
        let reply = get(&format!("/v1/bots/brightwater/config{query}"), &[("origin", &origin)]).await;
        assert_eq!(reply.status, 200, "{query}: {:?}", reply.body);
        let config = reply.json();
        assert_eq!(
            (config["language"].as_str(), config["dir"].as_str(), config["strings"]["send"].as_str()),
            (Some(language), Some(dir), Some(send)),
            "{query}: {config}"
        );
        assert_eq!(config["strings"].as_object().map(|strings| strings.len()), Some(37), "{query}");
    }
}

/// The frame page of the no-wasm fallback: only the bot's allowed origins may embed it.
#[tokio::test]
async fn the_widget_frame_may_be_embedded_only_by_the_bots_origins() {
    let version = env!("CARGO_PKG_VERSION");
    let page = get(&format!("/widget/{version}/frame.html?bot=brightwater&locale=fr&lang=%22%3E"), &[]).await;
    assert_eq!(page.status, 200, "{:?}", page.body);
    let csp = page.header("content-security-policy").unwrap_or_default().to_owned();
    assert!(csp.ends_with(&format!("frame-ancestors {}", stack().allowed_origin())), "{csp}");
    assert!(csp.contains("'wasm-unsafe-eval'") && csp.contains("connect-src 'self'"), "{csp}");
    let html = String::from_utf8_lossy(&page.body).into_owned();
    assert!(html.contains(r#"<html lang="">"#), "a lang that is no language tag stays out: {html}");
    assert!(html.contains(r#"data-bot="brightwater" data-locale="fr""#), "{html}");
    for (path, status, code) in [
        (format!("/widget/{version}/frame.html?bot=nobody"), 404, "bot_not_found"),
        (format!("/widget/{version}/frame.html"), 400, "invalid_request"),
        ("/widget/9.9.9/frame.html?bot=brightwater".to_owned(), 404, "widget_version_not_found"),
    ] {
        let reply = get(&path, &[]).await;
        assert_eq!((reply.status, reply.error_code()), (status, code.to_owned()), "{path}");
    }
}

/// Property tests of the request path, through the gateway's router without a socket.
mod request_path {
    use std::net::{IpAddr, Ipv4Addr};
    use std::sync::OnceLock;

    use bytes::Bytes;
    use docent_gateway::http::{AppState, handle};
    use http_body_util::{BodyExt, Full};
    use hyper::Request;
    use proptest::prelude::*;

    fn state() -> &'static AppState {
        static STATE: OnceLock<AppState> = OnceLock::new();
        STATE.get_or_init(crate::limits::app_state)
    }

    /// Path segments the router knows, mixed with arbitrary ones.
    fn segment() -> impl Strategy<Value = String> {
        prop_oneof![
            prop::sample::select(vec![
                "v1",
                "bots",
                "brightwater",
                "handbook",
                "messages",
                "config",
                "sessions",
                "events",
                "admin",
                "widget",
                "latest",
                "0.1.0",
                "bundle.js",
                "demo",
                "healthz",
                "..",
                "%2e%2e",
                "",
            ])
            .prop_map(str::to_owned),
            "[A-Za-z0-9._~%-]{0,16}",
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

        /// Any method, path, `Origin` and body gets a response that is not a server error,
        /// and every API refusal is the JSON error form with a code.
        #[test]
        fn any_request_gets_an_answer_and_api_errors_are_json(
            method in prop::sample::select(vec!["GET", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "HEAD"]),
            segments in prop::collection::vec(segment(), 0..5),
            origin in prop::option::of("(https?://[a-z0-9.]{1,12}(:[0-9]{1,5})?|null|[ -~]{0,20})"),
            body in prop::collection::vec(any::<u8>(), 0..64),
            client in any::<u32>(),
        ) {
            let path = format!("/{}", segments.join("/"));
            let mut request = Request::builder().method(method).uri(&path).header("content-type", "application/json");
            if let Some(origin) = &origin {
                request = request.header("origin", origin.as_str());
            }
            let request = request.body(Full::new(Bytes::from(body))).unwrap();
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            let (status, api, bytes) = runtime.block_on(async {
                let response = handle(state(), request, IpAddr::V4(Ipv4Addr::from(client))).await;
                let status = response.status();
                let json = response.headers().get("content-type").is_some_and(|t| t.as_bytes().starts_with(b"application/json"));
                (status, json, response.into_body().collect().await.unwrap().to_bytes())
            });
            prop_assert!(!status.is_server_error(), "{method} {path}: {status}");
            if path.starts_with("/v1/") && status.is_client_error() && method != "HEAD" {
                prop_assert!(api, "{method} {path}: {status} is not JSON");
                let error: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
                prop_assert!(error["error"]["code"].as_str().is_some_and(|code| !code.is_empty()), "{error}");
                prop_assert!(error["error"]["message"].as_str().is_some(), "{error}");
            }
        }
    }
}
