//! HTTP routes: one [`handle`] function from request to response, usable without a socket.
//!
//! Order of checks on a bot's API: the bot must exist, then the page's origin
//! must be allowed (CORS), then an internal bot needs a valid bearer token,
//! and only then is the body read. A refused origin learns nothing else.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use docent_protocol::{
    ErrorCode, MAX_MESSAGE_CHARS, MessageReply, MessageRequest, SessionGrant, SessionRequest, Visibility, WidgetConfig,
};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Body;
use hyper::header::{self, HeaderMap, HeaderName, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::assets::{Asset, WIDGET_VERSION, WidgetAssets};
use crate::auth::{self, Sessions, SignInAttempts};
use crate::demo_page;
use crate::error::{ApiError, truncate};
use crate::registry::{Bot, Registry};
use docent_lifecycle::origin::Origin;

/// The largest request body the API reads.
pub const MAX_BODY_BYTES: usize = 16 * 1024;
/// The longest password accepted, so argon2 never hashes megabytes.
const MAX_PASSWORD_BYTES: usize = 1024;

/// Everything a request may need, shared by all connections.
pub struct AppState {
    pub registry: Registry,
    pub assets: WidgetAssets,
    pub sessions: Sessions,
    pub sign_in_attempts: SignInAttempts,
    /// Behind a CDN or proxy: the header whose last address is the visitor's.
    pub client_ip_header: Option<HeaderName>,
}

impl AppState {
    pub fn new(registry: Registry, assets: WidgetAssets) -> AppState {
        AppState {
            registry,
            assets,
            sessions: Sessions::default(),
            sign_in_attempts: SignInAttempts::default(),
            client_ip_header: None,
        }
    }
}

type HttpResponse = Response<Full<Bytes>>;

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
        ["demo", bot] if is_read(method) => match state.registry.get(bot) {
            Some(bot) => demo_page::render(&bot.config),
            None => error_response(&ApiError::bot_not_found(bot)),
        },
        ["v1", "bots", bot, endpoint] => bot_api(state, request, bot, endpoint, client).await,
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

/// How a bot's API response is marked for CORS.
enum Cors {
    /// No `Origin`, or the gateway's own origin: no CORS headers needed.
    SameOrigin,
    /// An allowlisted website origin, echoed back.
    Allowed(HeaderValue),
}

async fn bot_api<B>(state: &AppState, request: Request<B>, bot_id: &str, endpoint: &str, client: IpAddr) -> HttpResponse
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let Some(bot) = state.registry.get(bot_id) else {
        // Nothing to protect: let any page read that the id is wrong.
        let mut response = error_response(&ApiError::bot_not_found(bot_id));
        allow_any_origin(&mut response);
        return response;
    };
    let cors = match check_origin(bot, request.headers()) {
        Ok(cors) => cors,
        Err(err) => {
            let mut response = error_response(&err);
            vary_on_origin(&mut response);
            return response;
        }
    };
    let allowed_method = match endpoint {
        "config" => Method::GET,
        "messages" | "sessions" => Method::POST,
        _ => return with_cors(error_response(&ApiError::not_found()), &cors),
    };
    let method = request.method().clone();
    let result = if method == Method::OPTIONS {
        return preflight(&cors, &allowed_method);
    } else if method != allowed_method {
        Err(ApiError::new(ErrorCode::MethodNotAllowed, format!("use {allowed_method} on {endpoint}")))
    } else {
        match endpoint {
            "config" => Ok(json(StatusCode::OK, &widget_config(bot))),
            "messages" => messages(state, bot, request).await,
            _ => sign_in(state, bot, request, client).await,
        }
    };
    let mut response = result.unwrap_or_else(|err| error_response(&err));
    no_store(&mut response);
    with_cors(response, &cors)
}

/// Enforces the bot's allowlist on the page's `Origin`.
fn check_origin(bot: &Bot, headers: &HeaderMap) -> Result<Cors, ApiError> {
    let Some(value) = headers.get(header::ORIGIN) else {
        // Browsers send Origin on every cross-origin request; without one this is
        // a same-origin page or a non-browser client, which CORS does not govern.
        return Ok(Cors::SameOrigin);
    };
    let refuse = |shown: &str| {
        ApiError::new(
            ErrorCode::OriginNotAllowed,
            format!("origin {} may not use bot \"{}\"", truncate(shown, 100), bot.config.id),
        )
    };
    let text = value.to_str().map_err(|_| refuse("(not text)"))?;
    let origin = Origin::parse(text).map_err(|_| refuse(text))?;
    let host = headers.get(header::HOST).and_then(|host| host.to_str().ok()).unwrap_or_default();
    if is_same_authority(&origin, host) {
        return Ok(Cors::SameOrigin);
    }
    if bot.config.allows_origin(&origin) {
        return Ok(Cors::Allowed(value.clone()));
    }
    Err(refuse(text))
}

/// Whether the page's origin is this gateway itself (its own `/demo/{bot}` page).
fn is_same_authority(origin: &Origin, host: &str) -> bool {
    let host = host.to_ascii_lowercase();
    let authority = origin.authority();
    authority == host || Some(authority.as_str()) == host.strip_suffix(":80").or(host.strip_suffix(":443"))
}

fn preflight(cors: &Cors, allowed_method: &Method) -> HttpResponse {
    let mut response = Response::new(Full::default());
    *response.status_mut() = StatusCode::NO_CONTENT;
    let headers = response.headers_mut();
    if let Ok(methods) = HeaderValue::from_str(&format!("{allowed_method}, OPTIONS")) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, methods);
    }
    headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static("content-type, authorization"));
    headers.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
    with_cors(response, cors)
}

fn with_cors(mut response: HttpResponse, cors: &Cors) -> HttpResponse {
    if let Cors::Allowed(origin) = cors {
        response.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
    }
    vary_on_origin(&mut response);
    response
}

fn vary_on_origin(response: &mut HttpResponse) {
    response.headers_mut().append(header::VARY, HeaderValue::from_static("Origin"));
}

fn allow_any_origin(response: &mut HttpResponse) {
    response.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
}

fn no_store(response: &mut HttpResponse) {
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

fn widget_config(bot: &Bot) -> WidgetConfig {
    let config = &bot.config;
    WidgetConfig {
        bot: config.id.clone(),
        name: config.name.clone(),
        visibility: config.visibility,
        greeting: config.greeting.clone(),
        appearance: config.appearance.clone(),
    }
}

async fn messages<B>(state: &AppState, bot: &Arc<Bot>, request: Request<B>) -> Result<HttpResponse, ApiError>
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    if bot.config.visibility == Visibility::Internal {
        let token = bearer_token(request.headers()).ok_or_else(|| {
            ApiError::new(ErrorCode::Unauthorized, "this bot is for staff: sign in or send an access token")
        })?;
        if !auth::is_authorized(&state.sessions, &bot.config.id, &bot.config.access, token) {
            return Err(ApiError::new(ErrorCode::Unauthorized, "the token is invalid or has expired"));
        }
    }
    let message: MessageRequest = read_json(request).await?;
    let text = message.text.trim().to_owned();
    if text.is_empty() {
        return Err(ApiError::invalid_request("field `text` must not be empty"));
    }
    let chars = text.chars().count();
    if chars > MAX_MESSAGE_CHARS {
        return Err(ApiError::invalid_request(format!(
            "field `text` has {chars} characters; the limit is {MAX_MESSAGE_CHARS}"
        )));
    }
    let conversation_id = match message.conversation_id {
        Some(id) if is_valid_conversation_id(&id) => id,
        Some(_) => {
            return Err(ApiError::invalid_request(
                "field `conversation_id` must be 1 to 64 letters, digits, '-' or '_'",
            ));
        }
        None => format!("c_{}", auth::random_hex::<16>().map_err(|err| ApiError::internal(&err))?),
    };
    let answering = Arc::clone(bot);
    let reply = tokio::task::spawn_blocking(move || answering.reply(&text))
        .await
        .map_err(|err| ApiError::internal(&err))?
        .map_err(|err| ApiError::internal(&err))?;
    tracing::info!(bot = %bot.config.id, kind = ?reply.kind, chars, "answered");
    Ok(json(StatusCode::OK, &MessageReply { conversation_id, reply }))
}

async fn sign_in<B>(state: &AppState, bot: &Bot, request: Request<B>, client: IpAddr) -> Result<HttpResponse, ApiError>
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let id = &bot.config.id;
    let Some(hash) = bot.config.access.password_hash.clone() else {
        return Err(ApiError::invalid_request(match bot.config.visibility {
            Visibility::Public => format!("bot \"{id}\" is public and needs no sign-in"),
            Visibility::Internal => format!("bot \"{id}\" accepts access tokens only"),
        }));
    };
    if !state.sign_in_attempts.may_try(id, client) {
        return Err(ApiError::new(ErrorCode::TooManyAttempts, "too many failed sign-ins; try again in a few minutes"));
    }
    let SessionRequest { password } = read_json(request).await?;
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(ApiError::invalid_request(format!("field `password` is longer than {MAX_PASSWORD_BYTES} bytes")));
    }
    let matches = tokio::task::spawn_blocking(move || auth::verify_password(&hash, &password))
        .await
        .map_err(|err| ApiError::internal(&err))?;
    if !matches {
        state.sign_in_attempts.record_failure(id, client);
        tracing::warn!(bot = %id, %client, "failed sign-in");
        return Err(ApiError::new(ErrorCode::InvalidCredentials, "wrong password"));
    }
    state.sign_in_attempts.record_success(id, client);
    let token = state.sessions.start(id).map_err(|err| ApiError::internal(&err))?;
    Ok(json(StatusCode::OK, &SessionGrant { token, expires_in: auth::SESSION_TTL.as_secs() }))
}

fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

fn is_valid_conversation_id(id: &str) -> bool {
    (1..=64).contains(&id.len()) && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Reads a bounded JSON body, with errors that say what is wrong and where.
async fn read_json<B, T>(request: Request<B>) -> Result<T, ApiError>
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    T: DeserializeOwned,
{
    let is_json = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return Err(ApiError::new(ErrorCode::UnsupportedMediaType, "send the body as application/json"));
    }
    let body = Limited::new(request.into_body(), MAX_BODY_BYTES).collect().await.map_err(|err| {
        if err.downcast_ref::<LengthLimitError>().is_some() {
            ApiError::new(ErrorCode::PayloadTooLarge, format!("the body is larger than {MAX_BODY_BYTES} bytes"))
        } else {
            ApiError::invalid_request("cannot read the request body")
        }
    })?;
    serde_json::from_slice(&body.to_bytes())
        .map_err(|err| ApiError::invalid_request(format!("invalid JSON body: {err}")))
}

fn widget_asset(assets: &WidgetAssets, version: &str, file: &str, headers: &HeaderMap) -> HttpResponse {
    let cache = if *version == *WIDGET_VERSION {
        "public, max-age=86400"
    } else if version == "latest" {
        "public, max-age=300"
    } else {
        let mut response = error_response(&ApiError::new(
            ErrorCode::WidgetVersionNotFound,
            format!("this gateway serves widget {WIDGET_VERSION} (or `latest`), not {}", truncate(version, 32)),
        ));
        allow_any_origin(&mut response);
        return response;
    };
    let Some(asset) = assets.get(file) else {
        return error_response(&ApiError::not_found());
    };
    let Asset { content_type, plain, gzip } = asset;
    let gzipped = accepts_gzip(headers);
    let mut response = Response::new(Full::new(if gzipped { gzip.clone() } else { plain.clone() }));
    let out = response.headers_mut();
    out.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    out.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    out.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    out.insert("cross-origin-resource-policy", HeaderValue::from_static("cross-origin"));
    if gzipped {
        out.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    allow_any_origin(&mut response);
    response
}

/// Whether `Accept-Encoding` lists gzip with a non-zero quality.
fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|item| {
            let mut parts = item.split(';').map(str::trim);
            let coding = parts.next().unwrap_or_default();
            let refused = parts
                .any(|param| param.strip_prefix("q=").and_then(|q| q.parse::<f32>().ok()).is_some_and(|q| q <= 0.0));
            (coding.eq_ignore_ascii_case("gzip") || coding == "*") && !refused
        })
}

fn json<T: Serialize>(status: StatusCode, value: &T) -> HttpResponse {
    let body = serde_json::to_vec(value).unwrap_or_else(|err| {
        tracing::error!(%err, "cannot serialize a response");
        br#"{"error":{"code":"internal","message":"the gateway failed to handle this request"}}"#.to_vec()
    });
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// The single place where an [`ApiError`] becomes a response.
pub fn error_response(err: &ApiError) -> HttpResponse {
    let mut response = json(err.status(), &err.body());
    if err.code == ErrorCode::Unauthorized {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn gzip_is_served_only_when_accepted() {
        for (accept, expect) in [
            ("gzip, deflate, br", true),
            ("br;q=1.0, GZIP;q=0.5", true),
            ("*", true),
            ("gzip;q=0", false),
            ("br", false),
            ("", false),
        ] {
            assert_eq!(accepts_gzip(&headers(&[("accept-encoding", accept)])), expect, "{accept}");
        }
    }

    #[test]
    fn bearer_tokens_are_read_from_the_authorization_header() {
        assert_eq!(bearer_token(&headers(&[("authorization", "Bearer abc")])), Some("abc"));
        assert_eq!(bearer_token(&headers(&[("authorization", "bearer  abc ")])), Some("abc"));
        assert_eq!(bearer_token(&headers(&[("authorization", "Basic abc")])), None);
        assert_eq!(bearer_token(&headers(&[("authorization", "Bearer ")])), None);
        assert_eq!(bearer_token(&headers(&[])), None);
    }

    #[test]
    fn the_gateways_own_origin_is_recognized_by_its_host() {
        let origin = Origin::parse("http://127.0.0.1:8080").unwrap();
        assert!(is_same_authority(&origin, "127.0.0.1:8080"));
        assert!(!is_same_authority(&origin, "127.0.0.1:8081"));
        let origin = Origin::parse("https://chat.example").unwrap();
        assert!(is_same_authority(&origin, "chat.example"));
        assert!(is_same_authority(&origin, "CHAT.example:443"));
        assert!(!is_same_authority(&origin, "evil.example"));
    }

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

    #[test]
    fn conversation_ids_are_bounded_and_url_safe() {
        assert!(is_valid_conversation_id("c_0123abcd"));
        assert!(!is_valid_conversation_id(""));
        assert!(!is_valid_conversation_id("a b"));
        assert!(!is_valid_conversation_id(&"x".repeat(65)));
    }
}
