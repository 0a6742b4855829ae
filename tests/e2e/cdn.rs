//! The gateway behind a CDN, with Debian's nginx as the stand-in: a caching reverse proxy
//! (`proxy_cache`) started by the test. Widget files are cached and revalidated, bot API answers
//! never cached nor crossed between origins, and client addresses come through the trusted-proxy rule.

use std::num::NonZeroU32;
use std::time::Duration;

use docent_gateway::http::client::ClientAddress;
use docent_gateway::http::limits::Limits;
use docent_gateway::server::ServerOptions;
use docent_tests::http::{Reply, send};
use docent_tests::nginx::Nginx;
use docent_tests::stack;
use hyper::Method;

use crate::limits::{app_state, serve_on_loopback};

/// nginx in front of a gateway on the shared stack's bots that trusts loopback's 127.0.0.1
/// (nginx) as its proxy and lets each client send 2 chat messages a minute.
fn edge() -> Nginx {
    let mut state = app_state();
    state.client_address =
        ClientAddress::new(vec!["127.0.0.1/32".parse().unwrap()], None, "x-forwarded-for".parse().unwrap());
    state.limits = Limits::new(NonZeroU32::new(2).unwrap(), NonZeroU32::new(100).unwrap());
    Nginx::start(serve_on_loopback(state, ServerOptions::default()))
}

async fn get(nginx: &Nginx, path: &str, headers: &[(&str, &str)]) -> Reply {
    send(nginx.address, Method::GET, path, headers, "").await.unwrap()
}

#[tokio::test]
async fn widget_files_are_cached_per_encoding_and_revalidated_with_their_etag() {
    let nginx = edge();
    let path = format!("/widget/{}/bundle.js", env!("CARGO_PKG_VERSION"));
    let first = get(&nginx, &path, &[("accept-encoding", "gzip")]).await;
    assert_eq!((first.status, first.header("x-cache-status")), (200, Some("MISS")));
    assert_eq!(first.header("cache-control"), Some("public, max-age=31536000, immutable"));
    assert_eq!(first.header("content-encoding"), Some("gzip"));
    let etag = first.header("etag").expect("an ETag").to_owned();
    let again = get(&nginx, &path, &[("accept-encoding", "gzip")]).await;
    assert_eq!((again.status, again.header("x-cache-status")), (200, Some("HIT")));
    assert_eq!(again.body, first.body);
    let plain = get(&nginx, &path, &[]).await;
    assert_eq!(plain.header("content-encoding"), None, "the gzip copy is never served to a client without gzip");
    assert!(String::from_utf8_lossy(&plain.body).contains("data-bot"));
    let brotli = get(&nginx, &path, &[("accept-encoding", "gzip;q=0.8, br")]).await;
    assert_eq!((brotli.header("content-encoding"), brotli.header("x-cache-status")), (Some("br"), Some("MISS")));
    assert!(brotli.body.len() < first.body.len(), "the brotli copy is the smaller one");
    let conditional = get(&nginx, &path, &[("accept-encoding", "gzip"), ("if-none-match", &etag)]).await;
    assert_eq!(conditional.status, 304);

    // Once stale, nginx asks the gateway with If-None-Match and keeps its copy on a 304.
    let short = "/short/widget/latest/docent_widget_bg.wasm";
    let first = get(&nginx, short, &[("accept-encoding", "gzip")]).await;
    assert_eq!((first.status, first.header("x-cache-status")), (200, Some("MISS")));
    assert_eq!(first.header("content-type"), Some("application/wasm"));
    // nginx keeps time in whole seconds: a 1 s lifetime has surely run out 2 s later.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let revalidated = get(&nginx, short, &[("accept-encoding", "gzip")]).await;
    assert_eq!((revalidated.status, revalidated.header("x-cache-status")), (200, Some("REVALIDATED")));
    assert_eq!(revalidated.body, first.body);
}

#[tokio::test]
async fn bot_api_answers_are_never_cached_nor_served_to_another_origin() {
    let nginx = edge();
    let allowed = stack().allowed_origin();
    let other = stack().other_origin();
    for _ in 0..2 {
        let config = get(&nginx, "/v1/bots/brightwater/config", &[("origin", &allowed)]).await;
        assert_eq!(config.status, 200);
        assert_ne!(config.header("x-cache-status"), Some("HIT"));
        assert!(config.header("cache-control").is_some_and(|value| value.contains("no-store")));
        assert_eq!(config.header("access-control-allow-origin"), Some(allowed.as_str()));
    }
    let refused = get(&nginx, "/v1/bots/brightwater/config", &[("origin", &other)]).await;
    assert_eq!(refused.status, 403);
    assert_eq!(refused.header("access-control-allow-origin"), None);
    assert_ne!(refused.header("x-cache-status"), Some("HIT"));
}

/// Posts a chat message to nginx from the loopback address `from` (Linux routes all of 127/8).
async fn ask_from(nginx: &Nginx, from: &str, forwarded_for: Option<&str>) -> u16 {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(format!("{from}:0").parse().unwrap()).unwrap();
    let stream = socket.connect(nginx.address).await.unwrap();
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await.unwrap();
    tokio::spawn(connection);
    let mut request = hyper::Request::post("/v1/bots/brightwater/messages")
        .header("host", nginx.address.to_string())
        .header("origin", stack().allowed_origin())
        .header("content-type", "application/json");
    if let Some(forged) = forwarded_for {
        request = request.header("x-forwarded-for", forged);
    }
    let body = http_body_util::Full::new(bytes::Bytes::from_static(br#"{"text":"Do you ship abroad?"}"#));
    sender.send_request(request.body(body).unwrap()).await.unwrap().status().as_u16()
}

#[tokio::test]
async fn each_client_behind_the_proxy_is_limited_by_its_own_address() {
    let nginx = edge();
    assert_eq!([ask_from(&nginx, "127.0.0.2", None).await, ask_from(&nginx, "127.0.0.2", None).await], [200, 200]);
    assert_eq!(ask_from(&nginx, "127.0.0.2", None).await, 429, "the third message in a minute");
    assert_eq!(ask_from(&nginx, "127.0.0.2", Some("198.51.100.7")).await, 429, "a forged header changes nothing");
    assert_eq!(ask_from(&nginx, "127.0.0.3", None).await, 200, "another client has its own allowance");
}
