//! `/v1/bots/{bot}/…`: the widget's API — config, messages and staff sign-in.
//!
//! Order of checks: the bot must exist, then the page's origin must be allowed
//! (CORS), then an internal bot needs a valid bearer token, then the rate limit or
//! sign-in brake counts the request, and only then is the body read. A refused origin
//! learns nothing else. Every response, refusals included, is `no-store` and varies by `Origin`.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use docent_protocol::{
    ErrorCode, MAX_MESSAGE_CHARS, MessageReply, MessageRequest, SessionGrant, SessionRequest, Visibility, WidgetConfig,
};
use hyper::body::Body;
use hyper::header::HeaderMap;
use hyper::{Method, Request, Response, StatusCode};

use super::body::{bearer_token, read_json};
use super::client::ClientKey;
use super::cors::{Cors, allow_any_origin, check_origin, preflight_answer, with_cors};
use super::respond::{error_response, full_body, json, method_not_allowed, no_store};
use super::{AppState, HttpResponse};
use crate::auth;
use crate::error::{ApiError, truncate};
use crate::live::ServedBot;
use crate::recorder::Question;
use crate::widget_text;
use docent_lifecycle::Lifecycle;
use docent_lifecycle::reply::reply;
use docent_lifecycle::when::now;
use docent_store::{Quota, Session};

/// The longest password accepted, so argon2 never hashes megabytes.
const MAX_PASSWORD_BYTES: usize = 1024;

pub(super) async fn bot_api<B>(
    state: &AppState,
    request: Request<B>,
    bot_id: &str,
    endpoint: &str,
    client: IpAddr,
) -> HttpResponse
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let Some(bot) = state.live.get(bot_id) else {
        // Nothing to protect: let any page read that the id is wrong.
        let mut response = error_response(&ApiError::bot_not_found(bot_id));
        allow_any_origin(&mut response);
        return marked(response, &Cors::SameOrigin);
    };
    let cors = match check_origin(&bot.config, request.headers()) {
        Ok(cors) => cors,
        Err(err) => return marked(error_response(&err), &Cors::SameOrigin),
    };
    let allowed = match endpoint {
        "config" => "GET, OPTIONS",
        "messages" => "POST, OPTIONS",
        "sessions" => "POST, DELETE, OPTIONS",
        _ => return marked(error_response(&ApiError::not_found()), &cors),
    };
    let method = request.method().clone();
    if method == Method::OPTIONS {
        return marked(preflight_answer(allowed), &cors);
    }
    if !allowed.split(", ").any(|name| name == method.as_str()) {
        return marked(method_not_allowed(&method, allowed), &cors);
    }
    let result = if !bot.is_active_at(now()) {
        Err(ApiError::new(ErrorCode::BotOffline, format!("bot \"{}\" is offline", bot.id())))
    } else {
        match (endpoint, method) {
            ("config", _) => Ok(json(StatusCode::OK, &widget_config(&bot, request.uri().query()))),
            ("messages", _) => messages(state, &bot, request, ClientKey::of(client)).await,
            (_, Method::DELETE) => sign_out(state, &bot, request.headers()).await,
            _ => {
                let signed_in = sign_in(state, &bot, request, ClientKey::of(client)).await;
                if signed_in.is_err() {
                    tokio::time::sleep(FAILED_SIGN_IN_DELAY).await;
                }
                signed_in
            }
        }
    };
    marked(result.unwrap_or_else(|err| error_response(&err)), &cors)
}

/// Every bot API response, refusals included: never cached, and varying by `Origin`.
fn marked(mut response: HttpResponse, cors: &Cors) -> HttpResponse {
    no_store(&mut response);
    with_cors(response, cors)
}

/// The bot's configuration for a page that asked for `?locale=` (the snippet's `data-locale`) and
/// `?lang=` (the page's `<html lang>`), with every sentence in the language they resolve to.
fn widget_config(bot: &ServedBot, query: Option<&str>) -> WidgetConfig {
    let config = &bot.config;
    let (mut requested, mut page) = (String::new(), String::new());
    for (name, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        match name.as_ref() {
            "locale" => requested = value.into_owned(),
            "lang" => page = value.into_owned(),
            _ => {}
        }
    }
    let appearance = &config.appearance;
    let text = widget_text::resolve(&requested, &appearance.locale, &page, &appearance.strings);
    WidgetConfig {
        bot: config.id.clone(),
        name: config.name.clone(),
        visibility: bot.visibility(),
        greeting: config.greeting.clone(),
        appearance: appearance.clone(),
        language: text.language,
        dir: text.dir,
        strings: text.strings,
    }
}

async fn messages<B>(
    state: &AppState,
    bot: &Arc<ServedBot>,
    request: Request<B>,
    client: ClientKey,
) -> Result<HttpResponse, ApiError>
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    if bot.visibility() == Visibility::Internal {
        let token = bearer_token(request.headers()).ok_or_else(|| {
            ApiError::new(ErrorCode::Unauthorized, "this bot is for staff: sign in or send an access token")
        })?;
        if !auth::is_access_token(bot.id(), &bot.state.access.tokens, token, now())
            && session_of(state, bot.id(), token).await?.is_none()
        {
            return Err(ApiError::new(ErrorCode::Unauthorized, "the token is invalid or has expired"));
        }
    }
    state.limits.message_from(client)?;
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
    let question = Question::asked(&text, message.conversation_id.is_none());
    let conversation_id = match message.conversation_id {
        Some(id) if is_valid_conversation_id(&id) => id,
        Some(_) => {
            return Err(ApiError::invalid_request(
                "field `conversation_id` must be 1 to 64 letters, digits, '-' or '_'",
            ));
        }
        None => format!("c_{}", auth::random_hex::<16>().map_err(|err| ApiError::internal(&err))?),
    };
    state.limits.message_in(bot.id(), &conversation_id)?;
    // A lexical reply is a few hundred microseconds of CPU and no IO: it is answered on the
    // runtime's thread, where a hand-off to the blocking pool and back would cost about as much
    // again. Embedding the question (semantic search) or counting against a monthly limit (a
    // store write) goes to the blocking pool.
    let off_runtime = bot.knowledge.is_semantic() || Lifecycle::message_counted_in_store(bot.state.plan.as_ref());
    let (lifecycle, answering) = (Arc::clone(&state.lifecycle), Arc::clone(bot));
    let answer = move || {
        match lifecycle
            .consume_message(answering.id(), answering.state.plan.as_ref(), now())
            .map_err(ApiError::serving)?
        {
            Quota::Allowed { .. } | Quota::Unlimited => {}
            Quota::LimitReached { limit } => {
                return Err(ApiError::new(
                    ErrorCode::MessageLimitReached,
                    format!("this bot has answered its {limit} messages for this month"),
                ));
            }
            Quota::PlanExpired { .. } => {
                return Err(ApiError::new(ErrorCode::PlanExpired, "this bot's plan has expired"));
            }
        }
        reply(&answering.config, &answering.knowledge, &text).map_err(|err| ApiError::internal(&err))
    };
    let reply = if off_runtime {
        tokio::task::spawn_blocking(answer).await.map_err(|err| ApiError::internal(&err))??
    } else {
        answer()?
    };
    tracing::info!(bot = %bot.id(), generation = bot.generation, kind = ?reply.kind, chars, "answered");
    state.metrics.reply(bot.id(), crate::recorder::tier_of(reply.kind).as_str());
    state.recorder.exchange(bot, &conversation_id, question, &reply, &client);
    Ok(json(StatusCode::OK, &MessageReply { conversation_id, reply }))
}

/// The unexpired session of `bot` that `token` opens, read from the store so that a sign-out
/// on any gateway counts at once.
async fn session_of(state: &AppState, bot: &str, token: &str) -> Result<Option<Session>, ApiError> {
    let (lifecycle, bot, digest) =
        (Arc::clone(&state.lifecycle), bot.to_owned(), auth::hex(&auth::token_digest(token)));
    let session = tokio::task::spawn_blocking(move || lifecycle.session(&digest, now()))
        .await
        .map_err(|err| ApiError::internal(&err))?
        .map_err(ApiError::serving)?;
    Ok(session.filter(|session| session.bot == bot))
}

/// How long a refused sign-in waits before its answer. A person who mistyped hardly notices;
/// a flood of guesses on kept-alive connections sends one guess per connection per delay
/// instead of one per round trip, so it cannot take the CPU from chat.
const FAILED_SIGN_IN_DELAY: Duration = Duration::from_secs(1);

/// `POST …/sessions`: a password or a site-signed token for a session token. The brake
/// counts the attempt before the body is read, and argon2 runs only within its permits.
async fn sign_in<B>(
    state: &AppState,
    bot: &ServedBot,
    request: Request<B>,
    client: ClientKey,
) -> Result<HttpResponse, ApiError>
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let id = bot.id();
    if bot.visibility() == Visibility::Public {
        return Err(ApiError::invalid_request(format!("bot \"{id}\" is public and needs no sign-in")));
    }
    state.limits.sign_in(id, client)?;
    let subject = match read_json(request).await? {
        SessionRequest { password: Some(password), site_token: None } => {
            let Some(hash) = bot.state.access.password_hash.clone() else {
                return Err(ApiError::invalid_request(format!("bot \"{id}\" has no staff password")));
            };
            if password.len() > MAX_PASSWORD_BYTES {
                return Err(ApiError::invalid_request(format!(
                    "field `password` is longer than {MAX_PASSWORD_BYTES} bytes"
                )));
            }
            if !state.password_checks.verify(hash, password).await? {
                // At debug level: a flood would otherwise write a line per guess. The
                // operational log counts refusals once a minute per bot (`Recorder::failed_request`).
                tracing::debug!(bot = %id, ?client, "failed sign-in");
                return Err(ApiError::new(ErrorCode::InvalidCredentials, "wrong password"));
            }
            "(password)".to_owned()
        }
        SessionRequest { password: None, site_token: Some(token) } => {
            let lifecycle = Arc::clone(&state.lifecycle);
            let bot_id = id.to_owned();
            let secret = tokio::task::spawn_blocking(move || lifecycle.site_secret(&bot_id))
                .await
                .map_err(|err| ApiError::internal(&err))?
                .map_err(ApiError::serving)?
                .ok_or_else(|| ApiError::invalid_request(format!("bot \"{id}\" has no site secret")))?;
            auth::verify_site_token(&secret, id, &token, now())?
        }
        _ => return Err(ApiError::invalid_request("send exactly one of the fields `password` and `site_token`")),
    };
    let token = auth::new_token().map_err(|err| ApiError::internal(&err))?;
    let started = now();
    let session = Session {
        digest: auth::hex(&auth::token_digest(&token)),
        bot: id.to_owned(),
        created_at: started,
        expires_at: started + auth::SESSION_TTL.as_secs() as i64,
    };
    let lifecycle = Arc::clone(&state.lifecycle);
    tokio::task::spawn_blocking(move || lifecycle.add_session(&session))
        .await
        .map_err(|err| ApiError::internal(&err))?
        .map_err(ApiError::serving)?;
    tracing::info!(bot = %id, subject = %truncate(&subject, 64), "staff sign-in");
    Ok(json(StatusCode::OK, &SessionGrant { token, expires_in: auth::SESSION_TTL.as_secs() }))
}

/// `DELETE …/sessions` with the session's bearer token: sign-out, on every gateway at once.
async fn sign_out(state: &AppState, bot: &ServedBot, headers: &HeaderMap) -> Result<HttpResponse, ApiError> {
    let unauthorized = || ApiError::new(ErrorCode::Unauthorized, "send the session's token as a bearer token");
    let token = bearer_token(headers).ok_or_else(unauthorized)?;
    let session = session_of(state, bot.id(), token).await?.ok_or_else(unauthorized)?;
    let lifecycle = Arc::clone(&state.lifecycle);
    tokio::task::spawn_blocking(move || lifecycle.end_session(&session.digest))
        .await
        .map_err(|err| ApiError::internal(&err))?
        .map_err(ApiError::serving)?;
    let mut response = Response::new(full_body(Bytes::new()));
    *response.status_mut() = StatusCode::NO_CONTENT;
    Ok(response)
}

fn is_valid_conversation_id(id: &str) -> bool {
    (1..=64).contains(&id.len()) && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversation_ids_are_bounded_and_url_safe() {
        assert!(is_valid_conversation_id("c_0123abcd"));
        assert!(!is_valid_conversation_id(""));
        assert!(!is_valid_conversation_id("a b"));
        assert!(!is_valid_conversation_id(&"x".repeat(65)));
    }
}
