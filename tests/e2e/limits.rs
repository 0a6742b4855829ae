//! The gateway's connection limits over real sockets: slow bodies are cut off, idle connections
//! closed, connection caps and header limits enforced — each on a gateway of its own with small limits.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use docent_gateway::assets::WidgetAssets;
use docent_gateway::http::AppState;
use docent_gateway::server::{ConnectionLimits, ServerOptions};
use docent_tests::http::send;
use docent_tests::{stack, workspace_root};
use hyper::Method;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long a test waits for the gateway to close a connection; the limits under test are shorter.
const PATIENCE: Duration = Duration::from_secs(30);

/// A gateway state on the shared stack's bots, to adjust before [`serve_on_loopback`].
pub(crate) fn app_state() -> AppState {
    let assets = WidgetAssets::from_dir(&workspace_root().join("target/widget-dist")).unwrap();
    docent_gateway::serve::app_state(Arc::clone(&stack().lifecycle), assets).unwrap()
}

/// Serves `state` with `options` on a free loopback port, on this test's runtime.
pub(crate) fn serve_on_loopback(state: AppState, options: ServerOptions) -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let address = listener.local_addr().unwrap();
    let listener = tokio::net::TcpListener::from_std(listener).unwrap();
    tokio::spawn(docent_gateway::server::serve(listener, Arc::new(state), options, std::future::pending()));
    address
}

/// A gateway with `options` on the shared stack's bots.
pub(crate) fn gateway_with(options: ServerOptions) -> SocketAddr {
    serve_on_loopback(app_state(), options)
}

fn with_limits(limits: ConnectionLimits) -> SocketAddr {
    gateway_with(ServerOptions { limits, tls: None })
}

/// Writes `request` and reads until the gateway closes the connection (or resets it).
async fn exchange(stream: &mut TcpStream, request: &[u8]) -> String {
    let _ = stream.write_all(request).await;
    let mut response = Vec::new();
    let read = tokio::time::timeout(PATIENCE, stream.read_to_end(&mut response)).await;
    assert!(read.is_ok(), "the gateway kept the connection open: {}", String::from_utf8_lossy(&response));
    String::from_utf8_lossy(&response).into_owned()
}

/// Finding 5 of the edge review: a POST trickling one byte every 2 s stayed open for good.
#[tokio::test]
async fn a_body_trickled_slower_than_the_body_timeout_is_cut_off_with_408() {
    let address =
        with_limits(ConnectionLimits { body_read_timeout: Duration::from_secs(3), ..ConnectionLimits::default() });
    let origin = stack().allowed_origin();
    let head = format!(
        "POST /v1/bots/brightwater/messages HTTP/1.1\r\nHost: gateway\r\nOrigin: {origin}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
    );
    let stream = TcpStream::connect(address).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    writer.write_all(head.as_bytes()).await.unwrap();
    let trickle = tokio::spawn(async move {
        for byte in br#"{"text":"#.iter().cycle().take(100) {
            if writer.write_all(&[*byte]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
    });
    let mut response = Vec::new();
    let read = tokio::time::timeout(PATIENCE, reader.read_to_end(&mut response)).await;
    trickle.abort();
    assert!(read.is_ok(), "the trickling request is still open after {PATIENCE:?}");
    let response = String::from_utf8_lossy(&response);
    assert!(response.starts_with("HTTP/1.1 408 "), "{response}");
    assert!(response.contains(r#""code":"request_timeout""#), "{response}");
    assert!(response.to_ascii_lowercase().contains("connection: close"), "{response}");
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed() {
    let address = with_limits(ConnectionLimits {
        idle_timeout: Duration::from_secs(1),
        header_read_timeout: Duration::from_secs(120),
        ..ConnectionLimits::default()
    });
    let mut stream = TcpStream::connect(address).await.unwrap();
    let response = exchange(&mut stream, b"GET /healthz HTTP/1.1\r\nHost: gateway\r\n\r\n").await;
    assert!(response.starts_with("HTTP/1.1 200 "), "{response}");
    assert!(!response.to_ascii_lowercase().contains("connection: close"), "kept alive at first: {response}");
}

#[tokio::test]
async fn connections_over_a_cap_are_closed_until_one_frees_a_slot() {
    for limits in [
        ConnectionLimits { max_connections: 2, ..ConnectionLimits::default() },
        ConnectionLimits { max_connections_per_client: 2, ..ConnectionLimits::default() },
    ] {
        let address = with_limits(limits.clone());
        let mut first = TcpStream::connect(address).await.unwrap();
        let second = TcpStream::connect(address).await.unwrap();
        // A request on the first proves both are accepted and counted (accepts are in order).
        first.write_all(b"GET /healthz HTTP/1.1\r\nHost: gateway\r\n\r\n").await.unwrap();
        let mut buffer = [0; 16];
        first.read_exact(&mut buffer).await.unwrap();
        assert_eq!(&buffer[..12], b"HTTP/1.1 200", "{limits:?}");

        let mut third = TcpStream::connect(address).await.unwrap();
        let refused = exchange(&mut third, b"GET /healthz HTTP/1.1\r\nHost: gateway\r\n\r\n").await;
        assert_eq!(refused, "", "over the cap, no answer: {limits:?}");

        drop((first, second));
        let mut answered = false;
        for _ in 0..100 {
            if send(address, Method::GET, "/healthz", &[], "").await.is_ok_and(|reply| reply.status == 200) {
                answered = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(answered, "a freed slot serves again: {limits:?}");
    }
}

#[tokio::test]
async fn too_many_or_too_large_headers_get_431() {
    let address = with_limits(ConnectionLimits::default());
    let many: String = (0..70).map(|i| format!("X-Filler-{i}: {i}\r\n")).collect();
    let large = format!("X-Large: {}\r\n", "a".repeat(20 * 1024));
    for (extra, expect) in [("", "HTTP/1.1 200 "), (many.as_str(), "HTTP/1.1 431 "), (large.as_str(), "HTTP/1.1 431 ")]
    {
        let mut stream = TcpStream::connect(address).await.unwrap();
        let request = format!("GET /healthz HTTP/1.1\r\nHost: gateway\r\nConnection: close\r\n{extra}\r\n");
        let response = exchange(&mut stream, request.as_bytes()).await;
        assert!(response.starts_with(expect), "{} header bytes: {response}", extra.len());
    }
}
