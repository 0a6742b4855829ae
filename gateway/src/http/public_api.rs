//! `/v1/bots/{bot}/…`: the widget's API — config, messages and staff sign-in.
//!
//! Order of checks: the bot must exist, then the page's origin must be allowed
//! (CORS), then an internal bot needs a valid bearer token, and only then is the
//! body read. A refused origin learns nothing else.

use std::net::IpAddr;
use std::sync::Arc;

use bytes::Bytes;
use docent_protocol::{
    ErrorCode, MAX_MESSAGE_CHARS, MessageReply, MessageRequest, SessionGrant, SessionRequest, Visibility, WidgetConfig,
};
use hyper::body::Body;
use hyper::{Method, Request, StatusCode};

use super::body::{bearer_token, read_json};
use super::cors::{allow_any_origin, check_origin, preflight, vary_on_origin, with_cors};
use super::respond::{error_response, json, no_store};
use super::{AppState, HttpResponse};
use crate::auth;
use crate::error::ApiError;
use crate::live::ServedBot;
use docent_lifecycle::reply::reply;
use docent_lifecycle::when::now;
use docent_store::Quota;

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
        no_store(&mut response);
        return response;
    };
    let cors = match check_origin(&bot.config, request.headers()) {
        Ok(cors) => cors,
        Err(err) => {
            let mut response = error_response(&err);
            vary_on_origin(&mut response);
            no_store(&mut response);
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
    } else if !bot.is_active_at(now()) {
        Err(ApiError::new(ErrorCode::BotOffline, format!("bot \"{}\" is offline", bot.id())))
    } else {
        match endpoint {
            "config" => Ok(json(StatusCode::OK, &widget_config(&bot))),
            "messages" => messages(state, &bot, request).await,
            _ => sign_in(state, &bot, request, client).await,
        }
    };
    let mut response = result.unwrap_or_else(|err| error_response(&err));
    no_store(&mut response);
    with_cors(response, &cors)
}

fn widget_config(bot: &ServedBot) -> WidgetConfig {
    let config = &bot.config;
    WidgetConfig {
        bot: config.id.clone(),
        name: config.name.clone(),
        visibility: bot.visibility(),
        greeting: config.greeting.clone(),
        appearance: config.appearance.clone(),
    }
}

async fn messages<B>(state: &AppState, bot: &Arc<ServedBot>, request: Request<B>) -> Result<HttpResponse, ApiError>
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    if bot.visibility() == Visibility::Internal {
        let token = bearer_token(request.headers()).ok_or_else(|| {
            ApiError::new(ErrorCode::Unauthorized, "this bot is for staff: sign in or send an access token")
        })?;
        if !auth::is_authorized(&state.sessions, bot.id(), &bot.state.access.tokens, token, now()) {
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
    let (lifecycle, answering) = (Arc::clone(&state.lifecycle), Arc::clone(bot));
    let reply = tokio::task::spawn_blocking(move || {
        match lifecycle.consume_message(answering.id(), now()).map_err(|err| ApiError::internal(&err))? {
            Quota::Allowed { .. } => {}
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
    })
    .await
    .map_err(|err| ApiError::internal(&err))??;
    tracing::info!(bot = %bot.id(), generation = bot.generation, kind = ?reply.kind, chars, "answered");
    Ok(json(StatusCode::OK, &MessageReply { conversation_id, reply }))
}

async fn sign_in<B>(
    state: &AppState,
    bot: &ServedBot,
    request: Request<B>,
    client: IpAddr,
) -> Result<HttpResponse, ApiError>
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let id = bot.id();
    let Some(hash) = bot.state.access.password_hash.clone() else {
        return Err(ApiError::invalid_request(match bot.visibility() {
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
