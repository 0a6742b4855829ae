//! `/v1/admin/…`: the operators' JSON API, behind an admin bearer token. Every operation calls
//! the lifecycle, exactly as the CLI does; a deploy streams its phases as server-sent events.

use std::sync::Arc;

use bytes::Bytes;
use docent_lifecycle::Lifecycle;
use docent_lifecycle::store::{AdminToken, Plan, Scope};
use docent_lifecycle::when::{self, now};
use docent_protocol::{ErrorCode, Visibility};
use hyper::body::Body;
use hyper::header::HeaderMap;
use hyper::{Method, Request, StatusCode};
use serde::Deserialize;

use super::body::{bearer_token, read_json};
use super::events::event_stream;
use super::respond::{error_response, json, method_not_allowed, no_store};
use super::{AppState, HttpResponse};
use crate::error::ApiError;

/// Past deploys listed by `GET …/deploys`.
const HISTORY_LIMIT: usize = 50;
/// The longest password accepted, so argon2 never hashes megabytes.
const MAX_PASSWORD_BYTES: usize = 1024;

pub(super) async fn route<B>(state: &AppState, request: Request<B>, path: &[&str]) -> HttpResponse
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let mut response = match authorize(state, request.headers()).await {
        Ok(admin) => dispatch(state, request, path, admin).await.unwrap_or_else(|err| error_response(&err)),
        Err(err) => error_response(&err),
    };
    no_store(&mut response);
    response
}

/// The admin token in `Authorization: Bearer …`, checked against the store on every request,
/// so a revoked token stops working at once.
async fn authorize(state: &AppState, headers: &HeaderMap) -> Result<AdminToken, ApiError> {
    let token = bearer_token(headers)
        .ok_or_else(|| ApiError::new(ErrorCode::Unauthorized, "send an admin token as `Authorization: Bearer …`"))?;
    let token = token.to_owned();
    let found = blocking(&state.lifecycle, move |lifecycle| lifecycle.verify_admin_token(&token)).await?;
    found.ok_or_else(|| ApiError::new(ErrorCode::Unauthorized, "the admin token is invalid or was revoked"))
}

/// Whether `admin` may manage `bot`.
pub(super) fn may_manage(admin: &AdminToken, bot: &str) -> bool {
    match &admin.scope {
        Scope::All => true,
        Scope::Bot(only) => only == bot,
    }
}

/// Who did it, for the audit log.
pub(super) fn actor(admin: &AdminToken) -> String {
    format!("admin:{}", admin.name)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RollbackRequest {
    #[serde(default, deserialize_with = "whole_number")]
    to: Option<u64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum ScheduledAction {
    Deploy,
    Activate,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScheduleRequest {
    action: ScheduledAction,
    /// RFC 3339, `YYYY-MM-DD HH:MM[:SS]` (UTC) or a delay like `+15m`.
    at: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VisibilityRequest {
    visibility: Visibility,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordRequest {
    password: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenRequest {
    name: String,
    #[serde(default)]
    expires_at: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlanRequest {
    name: String,
    #[serde(default, deserialize_with = "whole_number")]
    messages_per_month: Option<u64>,
    #[serde(default, deserialize_with = "whole_number")]
    storage_bytes: Option<u64>,
    #[serde(default)]
    expires_at: Option<String>,
}

/// A count that JSON may write as `97` or `97.0`: both are the same integer.
fn whole_number<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    let Some(number) = Option::<serde_json::Number>::deserialize(deserializer)? else { return Ok(None) };
    let exact = number.as_u64().or_else(|| {
        // Below 2^53 a float holds every integer exactly.
        number.as_f64().filter(|n| *n >= 0.0 && n.fract() == 0.0 && *n < 9_007_199_254_740_992.0).map(|n| n as u64)
    });
    exact.map(Some).ok_or_else(|| serde::de::Error::custom(format!("{number} is not a whole number of 0 or more")))
}

/// Parses a time as the CLI does, naming the problem.
fn parse_time(text: &str) -> Result<i64, ApiError> {
    when::parse(text, now()).map_err(ApiError::invalid_request)
}

async fn dispatch<B>(
    state: &AppState,
    request: Request<B>,
    path: &[&str],
    admin: AdminToken,
) -> Result<HttpResponse, ApiError>
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let method = request.method().clone();
    let lifecycle = &state.lifecycle;
    match (&method, path) {
        (&Method::GET, ["bots"]) => {
            let scope = admin.scope.clone();
            let reports = blocking(lifecycle, move |lifecycle| lifecycle.status(None)).await?;
            let visible: Vec<_> = reports
                .into_iter()
                .filter(|report| {
                    matches!(&scope, Scope::All) || matches!(&scope, Scope::Bot(only) if *only == report.bot)
                })
                .collect();
            Ok(json(StatusCode::OK, &visible))
        }
        (_, ["bots"]) => Ok(method_not_allowed(&method, "GET")),
        (&Method::GET, ["metrics"]) => metrics(state, &admin).await,
        (_, ["metrics"]) => Ok(method_not_allowed(&method, "GET")),
        (_, ["bots", bot, rest @ ..]) => {
            if !may_manage(&admin, bot) {
                return Err(ApiError::new(ErrorCode::Forbidden, format!("this admin token may not manage \"{bot}\"")));
            }
            let Some(allowed) = allowed_methods(rest) else { return Err(ApiError::not_found()) };
            if !allowed.split(", ").any(|allowed| allowed == method.as_str()) {
                return Ok(method_not_allowed(&method, allowed));
            }
            let known = (*bot).to_owned();
            blocking(lifecycle, move |lifecycle| lifecycle.require_bot(&known)).await?;
            bot_route(state, request, bot, rest, &admin).await
        }
        _ => Err(ApiError::not_found()),
    }
}

/// `GET /v1/admin/metrics`: the Prometheus text, for a token of every bot (it names them all).
async fn metrics(state: &AppState, admin: &AdminToken) -> Result<HttpResponse, ApiError> {
    if admin.scope != Scope::All {
        return Err(ApiError::new(ErrorCode::Forbidden, "metrics cover every bot: use an admin token for all bots"));
    }
    let quota = blocking(&state.lifecycle, |lifecycle| {
        let store = lifecycle.store();
        let month = when::month(now());
        let mut quota = Vec::new();
        for bot in store.bots()? {
            let limit = store.plan(&bot.id)?.and_then(|plan| plan.messages_per_month);
            quota.push((bot.id.clone(), store.usage(&bot.id, &month)?, limit));
        }
        Ok(quota)
    })
    .await?;
    let snapshot = crate::metrics::Snapshot {
        live_generations: state.live.all().iter().map(|bot| (bot.id().to_owned(), bot.generation)).collect(),
        quota,
        queue_depth: state.recorder.queue_depth(),
        queue_dropped: state.recorder.dropped(),
    };
    let text = state.metrics.render(&snapshot).map_err(|err| ApiError::internal(&err))?;
    let mut response = hyper::Response::new(super::full_body(text));
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    Ok(response)
}

async fn bot_route<B>(
    state: &AppState,
    request: Request<B>,
    bot: &str,
    path: &[&str],
    admin: &AdminToken,
) -> Result<HttpResponse, ApiError>
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let lifecycle = &state.lifecycle;
    let bot = bot.to_owned();
    let actor = actor(admin);
    match (request.method().clone(), path) {
        (Method::GET, []) => {
            let report = blocking(lifecycle, move |lifecycle| lifecycle.status(Some(&bot))).await?;
            Ok(json(StatusCode::OK, &report.first()))
        }
        (Method::GET, ["check"]) => {
            let report = blocking(lifecycle, move |lifecycle| lifecycle.check(&bot)).await?;
            Ok(json(StatusCode::OK, &report))
        }
        (Method::GET, ["integration"]) => Ok(json(StatusCode::OK, &lifecycle.integration(&bot))),
        (Method::GET, ["deploys"]) => {
            let (deploys, generations) =
                blocking(lifecycle, move |lifecycle| lifecycle.history(&bot, HISTORY_LIMIT)).await?;
            Ok(json(StatusCode::OK, &serde_json::json!({ "deploys": deploys, "generations": generations })))
        }
        (Method::POST, ["deploys"]) => Ok(deploy(lifecycle, bot, actor)),
        (Method::POST, ["schedules"]) => {
            let ScheduleRequest { action, at } = read_json(request).await?;
            let at = parse_time(&at)?;
            let scheduled = match action {
                ScheduledAction::Deploy => {
                    blocking(lifecycle, move |lifecycle| lifecycle.schedule_deploy(&bot, at, &actor)).await?
                }
                ScheduledAction::Activate => {
                    blocking(lifecycle, move |lifecycle| lifecycle.activate(&bot, Some(at), &actor))
                        .await?
                        .ok_or_else(|| ApiError::internal(&"an activation with a time was not scheduled"))?
                }
            };
            Ok(json(StatusCode::CREATED, &scheduled))
        }
        (Method::GET, ["schedules"]) => {
            let schedules = blocking(lifecycle, move |lifecycle| lifecycle.schedules(Some(&bot))).await?;
            Ok(json(StatusCode::OK, &schedules))
        }
        (Method::POST, ["rollback"]) => {
            let RollbackRequest { to } = read_json(request).await?;
            let live = blocking(lifecycle, move |lifecycle| lifecycle.rollback(&bot, to, &actor)).await?;
            Ok(json(StatusCode::OK, &serde_json::json!({ "live": live })))
        }
        (Method::POST, ["activate"]) => {
            blocking(lifecycle, move |lifecycle| lifecycle.activate(&bot, None, &actor)).await?;
            Ok(json(StatusCode::OK, &serde_json::json!({ "active": true })))
        }
        (Method::POST, ["deactivate"]) => {
            blocking(lifecycle, move |lifecycle| lifecycle.deactivate(&bot, &actor)).await?;
            Ok(json(StatusCode::OK, &serde_json::json!({ "active": false })))
        }
        (Method::PUT, ["visibility"]) => {
            let VisibilityRequest { visibility } = read_json(request).await?;
            blocking(lifecycle, move |lifecycle| lifecycle.set_visibility(&bot, visibility, &actor)).await?;
            Ok(json(StatusCode::OK, &serde_json::json!({ "visibility": visibility })))
        }
        (Method::PUT, ["password"]) => {
            let PasswordRequest { password } = read_json(request).await?;
            if password.is_empty() || password.len() > MAX_PASSWORD_BYTES {
                return Err(ApiError::invalid_request(format!(
                    "field `password` must be 1 to {MAX_PASSWORD_BYTES} bytes, or null to remove it"
                )));
            }
            blocking(lifecycle, move |lifecycle| lifecycle.set_password(&bot, Some(&password), &actor)).await?;
            Ok(json(StatusCode::OK, &serde_json::json!({ "password": "set" })))
        }
        (Method::DELETE, ["password"]) => {
            blocking(lifecycle, move |lifecycle| lifecycle.set_password(&bot, None, &actor)).await?;
            Ok(json(StatusCode::OK, &serde_json::json!({ "password": "removed" })))
        }
        (Method::GET, ["tokens"]) => {
            let tokens = blocking(lifecycle, move |lifecycle| lifecycle.list_tokens(&bot)).await?;
            let shown: Vec<_> = tokens
                .into_iter()
                .map(|token| {
                    serde_json::json!({
                        "name": token.name,
                        "created_at": token.created_at,
                        "expires_at": token.expires_at,
                        "revoked_at": token.revoked_at,
                    })
                })
                .collect();
            Ok(json(StatusCode::OK, &shown))
        }
        (Method::POST, ["tokens"]) => {
            let TokenRequest { name, expires_at } = read_json(request).await?;
            let expires_at = expires_at.as_deref().map(parse_time).transpose()?;
            let created = name.clone();
            let token =
                blocking(lifecycle, move |lifecycle| lifecycle.create_token(&bot, &created, expires_at, &actor))
                    .await?;
            Ok(json(
                StatusCode::CREATED,
                &serde_json::json!({ "name": name, "token": token, "expires_at": expires_at }),
            ))
        }
        (Method::DELETE, ["tokens", name]) => {
            let name = (*name).to_owned();
            blocking(lifecycle, move |lifecycle| lifecycle.revoke_token(&bot, &name, &actor)).await?;
            Ok(json(StatusCode::OK, &serde_json::json!({ "revoked": true })))
        }
        (Method::GET, ["plan"]) => {
            let report = blocking(lifecycle, move |lifecycle| lifecycle.plan(&bot, now())).await?;
            Ok(json(StatusCode::OK, &report))
        }
        (Method::PUT, ["plan"]) => {
            let PlanRequest { name, messages_per_month, storage_bytes, expires_at } = read_json(request).await?;
            let plan = Plan {
                name,
                messages_per_month,
                storage_bytes,
                expires_at: expires_at.as_deref().map(parse_time).transpose()?,
            };
            blocking(lifecycle, move |lifecycle| lifecycle.set_plan(&bot, Some(&plan), &actor)).await?;
            Ok(json(StatusCode::OK, &serde_json::json!({ "plan": "set" })))
        }
        (Method::DELETE, ["plan"]) => {
            blocking(lifecycle, move |lifecycle| lifecycle.set_plan(&bot, None, &actor)).await?;
            Ok(json(StatusCode::OK, &serde_json::json!({ "plan": "removed" })))
        }
        (method, path) => Err(ApiError::internal(&format!("{method} {path:?} passed the method check unrouted"))),
    }
}

/// Starts a deploy and streams its events: `event: progress` with each [`DeployEvent`]
/// (plus a `text` line to show), then one `event: done` with the report or `event: failed`
/// with the error. The deploy goes on if the client disconnects.
///
/// [`DeployEvent`]: docent_lifecycle::DeployEvent
pub(super) fn deploy(lifecycle: &Arc<Lifecycle>, bot: String, actor: String) -> HttpResponse {
    let (events, response) = event_stream();
    let lifecycle = Arc::clone(lifecycle);
    tokio::task::spawn_blocking(move || {
        let result = lifecycle.deploy(&bot, &actor, &mut |event| {
            let text = super::console::describe(&event);
            events.send_blocking("progress", &serde_json::json!({ "event": event, "text": text }));
        });
        match result {
            Ok(report) => {
                let text = format!("Deploy completed: generation {} is live.", report.generation);
                events.send_blocking("done", &serde_json::json!({ "report": report, "text": text }));
            }
            Err(err) => {
                let api = ApiError::from(err);
                let text = format!("Deploy failed: {}", api.message);
                events.send_blocking("failed", &serde_json::json!({ "error": api.body().error, "text": text }));
            }
        }
    });
    response
}

/// The methods of each route below `/v1/admin/bots/{bot}`, as the `Allow` header lists them;
/// `None` for a path that is no route.
fn allowed_methods(path: &[&str]) -> Option<&'static str> {
    Some(match path {
        [] | ["check" | "integration"] => "GET",
        ["deploys" | "schedules" | "tokens"] => "GET, POST",
        ["rollback" | "activate" | "deactivate"] => "POST",
        ["visibility"] => "PUT",
        ["password"] => "PUT, DELETE",
        ["plan"] => "GET, PUT, DELETE",
        ["tokens", _] => "DELETE",
        _ => return None,
    })
}

/// Runs lifecycle work on the blocking pool, mapping its errors to API errors.
pub(super) async fn blocking<T, F>(lifecycle: &Arc<Lifecycle>, work: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&Lifecycle) -> Result<T, docent_lifecycle::Error> + Send + 'static,
{
    let lifecycle = Arc::clone(lifecycle);
    tokio::task::spawn_blocking(move || work(&lifecycle))
        .await
        .map_err(|err| ApiError::internal(&err))?
        .map_err(ApiError::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(scope: Scope) -> AdminToken {
        AdminToken { name: "ops".into(), digest: String::new(), scope, created_at: 0, revoked_at: None }
    }

    #[test]
    fn scoped_tokens_manage_only_their_bot() {
        assert!(may_manage(&token(Scope::All), "any"));
        assert!(may_manage(&token(Scope::Bot("acme".into())), "acme"));
        assert!(!may_manage(&token(Scope::Bot("acme".into())), "other"));
        assert_eq!(actor(&token(Scope::All)), "admin:ops");
    }
}
