//! HTTP: one [`handle`] function from request to response, usable without a socket.
//!
//! This module only routes; each area has its own file: [`public_api`] (the
//! widget's bot API), [`widget_files`], [`cors`], request [`body`] reading and
//! [`respond`] (JSON encoding and the one place errors become HTTP).

mod admin_api;
mod body;
mod console;
mod cors;
mod events;
mod public_api;
mod respond;
mod widget_files;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use docent_lifecycle::Lifecycle;
use docent_protocol::ErrorCode;
use hyper::body::Body;
use hyper::header::{self, HeaderMap, HeaderName, HeaderValue};
use hyper::{Method, Request, StatusCode};

pub use body::MAX_BODY_BYTES;
pub use respond::{HttpResponse, ResponseBody, error_response, full_body};

use crate::assets::WidgetAssets;
use crate::auth::{Sessions, SignInAttempts};
use crate::demo_page;
use crate::error::{ApiError, truncate};
use crate::live::LiveBots;
use console::ConsoleSessions;
use cors::allow_any_origin;
use public_api::bot_api;
use respond::{json, no_store};
use widget_files::widget_asset;

/// Everything a request may need, shared by all connections.
pub struct AppState {
    /// The bots as they are live now, refreshed from the store.
    pub live: Arc<LiveBots>,
    pub lifecycle: Arc<Lifecycle>,
    pub assets: WidgetAssets,
    pub sessions: Sessions,
    pub sign_in_attempts: SignInAttempts,
    pub console_sessions: ConsoleSessions,
    /// Behind a CDN or proxy: the header whose last address is the visitor's.
    pub client_ip_header: Option<HeaderName>,
}

impl AppState {
    pub fn new(live: Arc<LiveBots>, lifecycle: Arc<Lifecycle>, assets: WidgetAssets) -> AppState {
        AppState {
            live,
            lifecycle,
            assets,
            sessions: Sessions::default(),
            sign_in_attempts: SignInAttempts::default(),
            console_sessions: ConsoleSessions::default(),
            client_ip_header: None,
        }
    }
}

/// Answers one request that arrived from the socket address `peer`.
pub async fn handle<B>(state: &AppState, request: Request<B>, peer: IpAddr) -> HttpResponse
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let started = Instant::now();
    let method = request.method().clone();
    let path = truncate(request.uri().path(), 200);
    let client = client_address(state.client_ip_header.as_ref(), request.headers(), peer);
    let mut response = route(state, request, client).await;
    response.headers_mut().insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    tracing::info!(
        %method,
        %path,
        status = response.status().as_u16(),
        micros = started.elapsed().as_micros() as u64,
        "request"
    );
    response
}

async fn route<B>(state: &AppState, request: Request<B>, client: IpAddr) -> HttpResponse
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let path = request.uri().path().to_owned();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let method = request.method();
    match segments.as_slice() {
        ["healthz"] if is_read(method) => {
            let mut response = json(StatusCode::OK, &serde_json::json!({"status": "ok"}));
            allow_any_origin(&mut response);
            no_store(&mut response);
            response
        }
        ["widget", version, file] if is_read(method) => widget_asset(&state.assets, version, file, request.headers()),
        ["demo", bot] if is_read(method) => match state.live.get(bot) {
            Some(bot) => demo_page::render(&bot.config),
            None => error_response(&ApiError::bot_not_found(bot)),
        },
        ["v1", "bots", bot, endpoint] => bot_api(state, request, bot, endpoint, client).await,
        ["v1", "admin", rest @ ..] => admin_api::route(state, request, rest).await,
        ["admin", rest @ ..] => console::route(state, request, rest, client).await,
        ["healthz"] | ["widget", _, _] | ["demo", _] => {
            let mut response = error_response(&ApiError::new(ErrorCode::MethodNotAllowed, "use GET"));
            response.headers_mut().insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
            response
        }
        _ => error_response(&ApiError::not_found()),
    }
}

/// The visitor's address: the socket peer, or behind a proxy the last address
/// in the configured header (the one the proxy itself appended; earlier
/// entries come from the client and can be forged).
fn client_address(header: Option<&HeaderName>, headers: &HeaderMap, peer: IpAddr) -> IpAddr {
    header
        .and_then(|name| headers.get_all(name).iter().next_back())
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.rsplit(',').next())
        .and_then(|last| last.trim().parse().ok())
        .unwrap_or(peer)
}

fn is_read(method: &Method) -> bool {
    method == Method::GET || method == Method::HEAD
}

/// A header map for unit tests.
#[cfg(test)]
fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.append(*name, HeaderValue::from_str(value).unwrap());
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_address_comes_from_the_proxy_header_only_when_configured() {
        let peer: IpAddr = "10.0.0.1".parse().unwrap();
        let forwarded = headers(&[("x-forwarded-for", "203.0.113.9, 198.51.100.7")]);
        let name = HeaderName::from_static("x-forwarded-for");
        assert_eq!(client_address(None, &forwarded, peer), peer);
        assert_eq!(client_address(Some(&name), &forwarded, peer), "198.51.100.7".parse::<IpAddr>().unwrap());
        assert_eq!(client_address(Some(&name), &headers(&[("x-forwarded-for", "nonsense")]), peer), peer);
        assert_eq!(client_address(Some(&name), &headers(&[]), peer), peer);
    }
}
