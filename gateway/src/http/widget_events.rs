//! `POST /v1/bots/{bot}/events`: the widget's analytics — open and close, thumbs up or down,
//! satisfaction ratings and the site's goals.
//!
//! Checked like the chat API (the bot must exist, then the page's origin must be allowed),
//! limited per client (before the body is read), then read as a bounded [`EventBatch`] and
//! validated. Accepted events go to the recorder, which stores them off the request path for
//! the analytics, and are answered `202 Accepted` without a body.

use std::net::IpAddr;

use bytes::Bytes;
use docent_protocol::{EventBatch, MAX_EVENTS_PER_BATCH};
use hyper::body::Body;
use hyper::{Method, Request, Response, StatusCode};

use super::body::read_json;
use super::client::ClientKey;
use super::cors::{allow_any_origin, check_origin, preflight, vary_on_origin, with_cors};
use super::respond::{error_response, full_body, method_not_allowed, no_store};
use super::{AppState, HttpResponse};
use crate::error::ApiError;
use crate::live::ServedBot;

/// Answers one request to a bot's events endpoint.
pub(super) async fn events<B>(state: &AppState, request: Request<B>, bot_id: &str, client: IpAddr) -> HttpResponse
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let Some(bot) = state.live.get(bot_id) else {
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
    let method = request.method().clone();
    if method == Method::OPTIONS {
        return preflight(&cors, &Method::POST);
    }
    let mut response = if method != Method::POST {
        method_not_allowed(&method, "POST, OPTIONS")
    } else {
        match accept(state, &bot, request, client).await {
            Ok(()) => Response::builder()
                .status(StatusCode::ACCEPTED)
                .body(full_body(Bytes::new()))
                .unwrap_or_else(|_| error_response(&ApiError::internal(&"cannot build a 202 response"))),
            Err(err) => error_response(&err),
        }
    };
    no_store(&mut response);
    with_cors(response, &cors)
}

/// Reads, validates and records a batch of events for `bot`.
async fn accept<B>(state: &AppState, bot: &ServedBot, request: Request<B>, client: IpAddr) -> Result<(), ApiError>
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    state.limits.events_from(ClientKey::of(client))?;
    let batch: EventBatch = read_json(request).await?;
    check(&batch)?;
    for event in &batch.events {
        state.recorder.widget_event(bot, event);
    }
    Ok(())
}

/// Why a batch is refused: empty, too long, or with an event out of range.
fn check(batch: &EventBatch) -> Result<(), ApiError> {
    if batch.events.is_empty() || batch.events.len() > MAX_EVENTS_PER_BATCH {
        return Err(ApiError::invalid_request(format!(
            "field `events` must hold 1 to {MAX_EVENTS_PER_BATCH} events, not {}",
            batch.events.len()
        )));
    }
    for (index, event) in batch.events.iter().enumerate() {
        if let Some(problem) = event.invalid() {
            return Err(ApiError::invalid_request(format!("events[{index}] ({}): {problem}", event.kind())));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_json(json: &str) -> Result<(), String> {
        let batch: EventBatch = serde_json::from_str(json).map_err(|err| err.to_string())?;
        check(&batch).map_err(|err| err.body().error.message)
    }

    #[test]
    fn batches_are_bounded_and_every_event_in_range() {
        assert_eq!(check_json(r#"{"events":[{"type":"open"},{"type":"goal","name":"signup"}]}"#), Ok(()));
        assert_eq!(check_json(r#"{"events":[]}"#), Err("field `events` must hold 1 to 20 events, not 0".into()));
        let many = format!(r#"{{"events":[{}]}}"#, vec![r#"{"type":"close"}"#; 21].join(","));
        assert_eq!(check_json(&many), Err("field `events` must hold 1 to 20 events, not 21".into()));
        assert_eq!(
            check_json(r#"{"events":[{"type":"open"},{"type":"rating","conversation_id":"c_1","score":0}]}"#),
            Err("events[1] (rating): `score` must be 1 to 5".into())
        );
    }
}
