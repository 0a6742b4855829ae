//! A small HTTP/1.1 client on hyper, for talking to the gateway and to chromedriver over real sockets.

use std::net::SocketAddr;

use anyhow::Context;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::HeaderMap;
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;

/// A response read to the end.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|err| panic!("body is not JSON ({err}): {}", String::from_utf8_lossy(&self.body)))
    }

    /// The error code, after checking the body is exactly `{"error":{"code","message"}}`.
    pub fn error_code(&self) -> String {
        let json = self.json();
        let error = json.get("error").and_then(|error| error.as_object()).expect("an `error` object");
        assert_eq!(json.as_object().map(|o| o.len()), Some(1), "only `error` at the top: {json}");
        let message = error.get("message").and_then(|m| m.as_str()).expect("an error message");
        assert!(!message.is_empty(), "empty error message: {json}");
        assert_eq!(error.len(), 2, "only `code` and `message`: {json}");
        error.get("code").and_then(|code| code.as_str()).expect("an error code").to_owned()
    }
}

/// Sends one request on a fresh connection and reads the whole response.
pub async fn send(
    address: SocketAddr,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: impl Into<Bytes>,
) -> anyhow::Result<Reply> {
    let stream =
        tokio::net::TcpStream::connect(address).await.with_context(|| format!("cannot connect to {address}"))?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    let mut request = Request::builder().method(method).uri(path).header("host", address.to_string());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = sender.send_request(request.body(Full::new(body.into()))?).await?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await?.to_bytes();
    Ok(Reply { status, headers, body })
}

/// The store revision the gateway at `address` serves, from `/readyz`.
pub async fn served_revision(address: SocketAddr) -> anyhow::Result<u64> {
    let reply = send(address, Method::GET, "/readyz", &[], "").await?;
    reply.json()["revision"].as_u64().with_context(|| format!("/readyz of {address} has no revision: {reply:?}"))
}

/// Waits until the gateway at `address` serves store revision `revision` or a later one, as it
/// does within a poll interval of an operator's change; fails after 10 s.
pub async fn until_serving(address: SocketAddr, revision: u64) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    loop {
        let served = served_revision(address).await?;
        if served >= revision {
            return Ok(());
        }
        anyhow::ensure!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "{address} still serves revision {served} of the store's {revision}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
