//! HTTP: one [`handle`] function from request to response, usable without a socket.
//!
//! This module only routes; each area has its own file: [`public_api`] (the
//! widget's bot API), [`widget_files`], [`cors`], request [`body`] reading and
//! [`respond`] (JSON encoding and the one place errors become HTTP).

mod admin_api;
mod body;
pub mod client;
mod console;
mod cors;
mod events;
pub mod limits;
mod public_api;
mod respond;
mod widget_events;
mod widget_files;
mod widget_frame;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use docent_lifecycle::Lifecycle;
use docent_protocol::ErrorCode;
use hyper::body::Body;
use hyper::header::{self, HeaderName, HeaderValue};
use hyper::{Method, Request, StatusCode};

pub use body::MAX_BODY_BYTES;
pub use respond::{HttpResponse, ResponseBody, error_response, full_body};

use crate::assets::WidgetAssets;
use crate::auth::{self, PasswordChecks};
use crate::demo_page;
use crate::error::{ApiError, truncate};
use crate::live::LiveBots;
use crate::recorder::Recorder;
use client::ClientAddress;
use console::ConsoleSessions;
use cors::allow_any_origin;
use limits::Limits;
use public_api::bot_api;
use respond::{json, no_store};
use widget_files::widget_asset;

/// Everything a request may need, shared by all connections.
pub struct AppState {
    /// The bots as they are live now, refreshed from the store.
    pub live: Arc<LiveBots>,
    pub lifecycle: Arc<Lifecycle>,
    pub assets: WidgetAssets,
    /// Argon2 sign-in checks, bounded and off the runtime's pools.
    pub password_checks: PasswordChecks,
    /// The sign-in brake and chat rate limits.
    pub limits: Limits,
    pub console_sessions: ConsoleSessions,
    /// How the client's address is found behind proxies.
    pub client_address: ClientAddress,
    /// Events and operational records, written to the store off the request path.
    pub recorder: Recorder,
    /// Whether the console's site check and import, and alert webhooks, may reach private and
    /// loopback addresses.
    pub fetch_private: bool,
    /// How often the alert rules are evaluated.
    pub alert_interval: std::time::Duration,
    /// Prometheus counters, served at `/v1/admin/metrics`.
    pub metrics: crate::metrics::Metrics,
}

impl AppState {
    pub fn new(live: Arc<LiveBots>, lifecycle: Arc<Lifecycle>, assets: WidgetAssets) -> AppState {
        AppState {
            recorder: Recorder::start(Arc::clone(&lifecycle)),
            live,
            lifecycle,
            assets,
            password_checks: PasswordChecks::for_this_machine(),
            limits: Limits::default(),
            console_sessions: ConsoleSessions::default(),
            client_address: ClientAddress::default(),
            fetch_private: false,
            alert_interval: crate::alerts::DEFAULT_INTERVAL,
            metrics: crate::metrics::Metrics::default(),
        }
    }
}

/// The header that names each response, so a client's report can be found in the log. It is
/// always generated here; one sent by the client is not used.
const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Answers one request that arrived from the socket address `peer`.
pub async fn handle<B>(state: &AppState, request: Request<B>, peer: IpAddr) -> HttpResponse
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let started = Instant::now();
    let request_id = auth::random_hex::<8>().unwrap_or_default();
    let method = request.method().clone();
    let path = truncate(request.uri().path(), 200);
    let bot = path.strip_prefix("/v1/bots/").and_then(|rest| rest.split('/').next()).unwrap_or_default().to_owned();
    let client = state.client_address.resolve(request.headers(), peer);
    let mut response = route(state, request, client).await;
    let headers = response.headers_mut();
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        headers.insert(REQUEST_ID, value);
    }
    state.metrics.request(crate::metrics::route_of(&path), response.status().as_u16(), started.elapsed().as_secs_f64());
    tracing::info!(
        request_id,
        %method,
        %path,
        bot,
        client = %state.client_address.for_log(client),
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
            // 200 while the process answers; bots it cannot serve are listed, not a failure.
            let degraded: Vec<String> = state.live.problems().into_keys().collect();
            let status = if degraded.is_empty() { "ok" } else { "degraded" };
            let mut response = json(StatusCode::OK, &serde_json::json!({"status": status, "degraded": degraded}));
            allow_any_origin(&mut response);
            no_store(&mut response);
            response
        }
        ["readyz"] if is_read(method) => readiness(state).await,
        ["widget", version, "frame.html"] if is_read(method) => {
            widget_frame::page(state, version, request.uri().query())
        }
        ["widget", version, file] if is_read(method) => widget_asset(&state.assets, version, file, request.headers()),
        ["demo", bot] if is_read(method) => match state.live.get(bot) {
            Some(bot) => demo_page::render(&bot.config),
            None => error_response(&ApiError::bot_not_found(bot)),
        },
        ["v1", "bots", bot, "events"] => widget_events::events(state, request, bot, client).await,
        ["v1", "bots", bot, endpoint] => {
            let response = bot_api(state, request, bot, endpoint, client).await;
            state.live.get(bot).inspect(|live| state.recorder.failed_request(live, endpoint, response.status()));
            response
        }
        ["v1", "admin", rest @ ..] => admin_api::route(state, request, rest).await,
        ["admin", rest @ ..] => console::route(state, request, rest, client).await,
        ["healthz"] | ["readyz"] | ["widget", _, _] | ["demo", _] => {
            let mut response = error_response(&ApiError::new(ErrorCode::MethodNotAllowed, "use GET"));
            response.headers_mut().insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
            response
        }
        _ => error_response(&ApiError::not_found()),
    }
}

/// 200 when this gateway can serve everything live: the store answers and every live
/// generation is open, with the store revision it serves (replicas that lag show a lower one).
/// Else 503 `not_ready`, saying what is missing (each bot with why its
/// generation could not be fetched or opened), so a balancer sends
/// traffic to another replica; `/healthz` stays 200 meanwhile (the process is alive).
async fn readiness(state: &AppState) -> HttpResponse {
    let lifecycle = Arc::clone(&state.lifecycle);
    let store = tokio::task::spawn_blocking(move || lifecycle.revision()).await;
    let mut missing = Vec::new();
    if !matches!(store, Ok(Ok(_))) {
        missing.push("the store cannot be reached".to_owned());
    }
    let not_open: Vec<String> =
        state.live.problems().into_iter().map(|(bot, problem)| format!("{bot} ({problem})")).collect();
    if !not_open.is_empty() {
        missing.push(format!("live generations not open: {}", not_open.join(", ")));
    }
    let mut response = if missing.is_empty() {
        json(StatusCode::OK, &serde_json::json!({"status": "ready", "revision": state.live.revision()}))
    } else {
        error_response(&ApiError::new(ErrorCode::NotReady, missing.join("; ")))
    };
    no_store(&mut response);
    response
}

fn is_read(method: &Method) -> bool {
    method == Method::GET || method == Method::HEAD
}

/// A header map for unit tests.
#[cfg(test)]
fn headers(pairs: &[(&'static str, &str)]) -> hyper::header::HeaderMap {
    let mut map = hyper::header::HeaderMap::new();
    for (name, value) in pairs {
        map.append(*name, HeaderValue::from_str(value).unwrap());
    }
    map
}
