//! `/admin/…`: the operator console, server-rendered HTML with one small script of its own.
//!
//! Operators sign in with an admin token (`docent admin token create`) and get a session
//! cookie. Every state-changing form is a POST carrying the session's CSRF token, and is
//! refused from another origin. Every action calls the lifecycle, as the CLI and the admin
//! API do. Pages are served under a strict CSP: scripts and styles from this gateway only.

mod html;
mod monitoring;
mod pages;
mod session;
mod site;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use docent_lifecycle::drafts::Drafted;
use docent_lifecycle::store::{AdminToken, LogLevel, Plan};
use docent_lifecycle::when::{self, now};
use docent_protocol::{ErrorCode, Visibility};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper::body::Body;
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};

pub(super) use session::ConsoleSessions;

use super::admin_api::{actor, blocking, may_manage};
use super::client::ClientKey;
use super::respond::full_body;
use super::{AppState, HttpResponse, MAX_BODY_BYTES};
use crate::error::ApiError;
use crate::fetch::FetchLimits;
use crate::import::ImportOptions;
pub(super) use pages::describe;
use session::{ConsoleSession, clear_cookie, same_secret, set_cookie};

/// The console's Content-Security-Policy: nothing but this gateway's own files.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; \
                   form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Key under which failed console sign-ins are braked, beside each bot's own.
const SIGN_IN_BRAKE: &str = "(console)";

pub(super) async fn route<B>(state: &AppState, request: Request<B>, path: &[&str], client: IpAddr) -> HttpResponse
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let method = request.method().clone();
    let mut response = match (&method, path) {
        (&Method::GET, ["assets", "console.css"]) => {
            return asset("text/css; charset=utf-8", include_str!("assets/console.css"));
        }
        (&Method::GET, ["assets", "console.js"]) => {
            return asset("text/javascript; charset=utf-8", include_str!("assets/console.js"));
        }
        (&Method::POST, ["sign-in"]) => sign_in(state, request, client).await,
        _ => match signed_in(state, request.headers()).await {
            Ok(Some((session, admin))) => signed_in_route(state, request, path, session, admin).await,
            Ok(None) if method == Method::GET => Ok(html(StatusCode::OK, pages::sign_in(None))),
            Ok(None) => Ok(redirect("/admin/")),
            Err(err) => Err(err),
        },
    }
    .unwrap_or_else(|err| html(err.status(), pages::error(&err)));
    secure(&mut response);
    response
}

async fn signed_in_route<B>(
    state: &AppState,
    request: Request<B>,
    path: &[&str],
    session: ConsoleSession,
    admin: AdminToken,
) -> Result<HttpResponse, ApiError>
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let me = pages::Operator { name: &admin.name, csrf: &session.csrf };
    if request.method() == Method::GET {
        return match path {
            [] | [""] => {
                let reports = blocking(&state.lifecycle, move |lifecycle| lifecycle.status(None)).await?;
                let visible = reports.into_iter().filter(|report| may_manage(&admin, &report.bot)).collect::<Vec<_>>();
                Ok(html(StatusCode::OK, pages::bots(&me, &visible)))
            }
            ["bots", bot] => bot_page(state, &me, &admin, bot, pages::Notice::from_query(request.uri().query())).await,
            ["bots", bot, "analytics"] => monitoring::analytics(state, &me, &admin, bot, request.uri().query()).await,
            ["bots", bot, "reports", file] => monitoring::report(state, &admin, bot, file).await,
            ["logs"] => monitoring::logs(state, &me, &admin, request.uri().query()).await,
            _ => Err(ApiError::not_found()),
        };
    }
    if request.method() != Method::POST {
        return Err(ApiError::new(ErrorCode::MethodNotAllowed, "use GET or POST"));
    }
    check_same_origin(request.headers())?;
    let headers = request.headers().clone();
    let form = read_form(request).await?;
    if !form.get("csrf").is_some_and(|token| same_secret(token, &session.csrf)) {
        return Err(ApiError::new(ErrorCode::Forbidden, "the form is stale or came from elsewhere; reload the page"));
    }
    match path {
        ["sign-out"] => {
            state.console_sessions.end(&headers);
            let mut response = redirect("/admin/");
            set_header(&mut response, header::SET_COOKIE, &clear_cookie());
            Ok(response)
        }
        ["bots", bot, action] => {
            if !may_manage(&admin, bot) {
                return Err(ApiError::new(ErrorCode::Forbidden, format!("this admin token may not manage \"{bot}\"")));
            }
            bot_action(state, &me, &admin, bot, action, &form, accepts_events(&headers)).await
        }
        _ => Err(ApiError::not_found()),
    }
}

async fn bot_page(
    state: &AppState,
    me: &pages::Operator<'_>,
    admin: &AdminToken,
    bot: &str,
    notice: Option<pages::Notice>,
) -> Result<HttpResponse, ApiError> {
    if !may_manage(admin, bot) {
        return Err(ApiError::new(ErrorCode::Forbidden, format!("this admin token may not manage \"{bot}\"")));
    }
    let id = bot.to_owned();
    let view = blocking(&state.lifecycle, move |lifecycle| pages::BotView::load(lifecycle, &id)).await?;
    Ok(html(StatusCode::OK, pages::bot(me, &view, state.live.problems().get(bot).map(String::as_str), notice.as_ref())))
}

/// One form of the bot page. Success redirects back to the page with a fixed notice (no
/// user text in the URL); a new access token is shown once, on the page itself.
async fn bot_action(
    state: &AppState,
    me: &pages::Operator<'_>,
    admin: &AdminToken,
    bot: &str,
    action: &str,
    form: &HashMap<String, String>,
    wants_events: bool,
) -> Result<HttpResponse, ApiError> {
    let lifecycle = &state.lifecycle;
    let (id, actor) = (bot.to_owned(), actor(admin));
    let field = |name: &str| form.get(name).map(|value| value.trim().to_owned()).filter(|value| !value.is_empty());
    let at = field("at").map(|text| when::parse(&text, now()).map_err(ApiError::invalid_request)).transpose()?;
    let done = match action {
        "deploy" if at.is_some() => {
            let at = at.unwrap_or_default();
            let scheduled = blocking(lifecycle, move |lifecycle| lifecycle.schedule_deploy(&id, at, &actor)).await?;
            let notice = pages::Notice::Scheduled { at: scheduled.at, warnings: scheduled.warnings };
            return page_with(state, me, bot, notice).await;
        }
        "deploy" if wants_events => return Ok(super::admin_api::deploy(lifecycle, id, actor)),
        "deploy" => {
            blocking(lifecycle, move |lifecycle| lifecycle.deploy(&id, &actor, &mut |_| {})).await?;
            "deployed"
        }
        "rollback" => {
            let to = field("to")
                .map(|text| text.parse::<u64>().map_err(|_| ApiError::invalid_request("`to` is a generation number")))
                .transpose()?;
            blocking(lifecycle, move |lifecycle| lifecycle.rollback(&id, to, &actor)).await?;
            "rolled-back"
        }
        "activate" => match blocking(lifecycle, move |lifecycle| lifecycle.activate(&id, at, &actor)).await? {
            Some(scheduled) => {
                let notice = pages::Notice::Scheduled { at: scheduled.at, warnings: scheduled.warnings };
                return page_with(state, me, bot, notice).await;
            }
            None => "activated",
        },
        "deactivate" => {
            blocking(lifecycle, move |lifecycle| lifecycle.deactivate(&id, &actor)).await?;
            "deactivated"
        }
        "visibility" => {
            let visibility = match field("visibility").as_deref() {
                Some("public") => Visibility::Public,
                Some("internal") => Visibility::Internal,
                _ => return Err(ApiError::invalid_request("`visibility` is public or internal")),
            };
            blocking(lifecycle, move |lifecycle| lifecycle.set_visibility(&id, visibility, &actor)).await?;
            "visibility-set"
        }
        "password" => {
            let password = form.get("password").cloned().unwrap_or_default();
            if password.is_empty() {
                return Err(ApiError::invalid_request("type the new password"));
            }
            blocking(lifecycle, move |lifecycle| lifecycle.set_password(&id, Some(&password), &actor)).await?;
            "password-set"
        }
        "tokens" => {
            let name = field("name").ok_or_else(|| ApiError::invalid_request("give the token a name"))?;
            let expires = field("expires")
                .map(|text| when::parse(&text, now()).map_err(ApiError::invalid_request))
                .transpose()?;
            let token =
                blocking(lifecycle, move |lifecycle| lifecycle.create_token(&id, &name, expires, &actor)).await?;
            return page_with(state, me, bot, pages::Notice::NewToken(token)).await;
        }
        "revoke-token" => {
            let name = field("name").ok_or_else(|| ApiError::invalid_request("which token?"))?;
            blocking(lifecycle, move |lifecycle| lifecycle.revoke_token(&id, &name, &actor)).await?;
            "token-revoked"
        }
        "plan" => {
            let number = |name: &str| {
                field(name)
                    .map(|text| {
                        text.parse::<u64>()
                            .map_err(|_| ApiError::invalid_request(format!("`{name}` is a whole number")))
                    })
                    .transpose()
            };
            let plan = Plan {
                name: field("name").unwrap_or_else(|| "custom".to_owned()),
                messages_per_month: number("messages")?,
                storage_bytes: number("storage")?,
                expires_at: field("expires")
                    .map(|text| when::parse(&text, now()).map_err(ApiError::invalid_request))
                    .transpose()?,
            };
            blocking(lifecycle, move |lifecycle| lifecycle.set_plan(&id, Some(&plan), &actor)).await?;
            "plan-set"
        }
        "alerts" => {
            let text = form.get("settings").cloned().unwrap_or_default();
            if text.trim().is_empty() {
                return Err(ApiError::invalid_request("paste the alert settings (TOML)"));
            }
            let lifecycle = Arc::clone(lifecycle);
            tokio::task::spawn_blocking(move || crate::alerts::store_settings(&lifecycle, &id, Some(&text), &actor))
                .await
                .map_err(|err| ApiError::internal(&err))?
                .map_err(|err| ApiError::invalid_request(format!("{err:#}")))?;
            state.recorder.log(
                LogLevel::Info,
                Some(bot),
                format!("console: alert settings set by admin:{}", admin.name),
            );
            return Ok(redirect(&format!("/admin/bots/{bot}/analytics#alerts")));
        }
        "draft" => {
            let question = form.get("question").cloned().unwrap_or_default();
            let today = docent_analytics::report::date(now());
            let drafted = blocking(lifecycle, move |lifecycle| lifecycle.draft_qa(&id, &question, &today)).await?;
            let outcome = match drafted {
                Drafted::Added { .. } => "added",
                Drafted::AlreadyThere { .. } => "exists",
            };
            state.recorder.log(
                LogLevel::Info,
                Some(bot),
                format!("console: Q&A draft {outcome} in knowledge/drafts.toml by admin:{}", admin.name),
            );
            return Ok(redirect(&format!("/admin/bots/{bot}/analytics?drafted={outcome}#unresolved")));
        }
        "check-site" => {
            let url = field("url").ok_or_else(|| ApiError::invalid_request("give the page's address"))?;
            let limits = FetchLimits { allow_private: state.fetch_private, ..FetchLimits::default() };
            let report = crate::doctor::diagnose(&url, Some(Arc::clone(lifecycle)), limits).await;
            return page_with(state, me, bot, pages::Notice::SiteCheck(report)).await;
        }
        "import" => {
            let url = field("url").ok_or_else(|| ApiError::invalid_request("give the site's address"))?;
            let options = ImportOptions {
                start: url.clone(),
                max_pages: site::CONSOLE_IMPORT_PAGES,
                depth: 3,
                include: Vec::new(),
                exclude: Vec::new(),
                delay: Duration::from_millis(200),
                limits: FetchLimits { allow_private: state.fetch_private, ..FetchLimits::default() },
            };
            let target = lifecycle.options().bots_dir.join(bot).join("knowledge").join("import");
            if wants_events {
                state.recorder.log(
                    LogLevel::Info,
                    Some(bot),
                    format!("console: import from {url} started by admin:{}", admin.name),
                );
                return Ok(site::import_with_progress(target, options));
            }
            let report = crate::import::import(&target, &options, &mut |_| {})
                .await
                .map_err(|err| ApiError::invalid_request(format!("cannot import {url}: {err}")))?;
            state.recorder.log(
                LogLevel::Info,
                Some(bot),
                format!("console: import of {} pages by admin:{}", report.written.len(), admin.name),
            );
            return page_with(state, me, bot, pages::Notice::Imported { url, report }).await;
        }
        _ => return Err(ApiError::not_found()),
    };
    state.recorder.log(LogLevel::Info, Some(bot), format!("console: {done} by admin:{}", admin.name));
    Ok(redirect(&format!("/admin/bots/{bot}?done={done}")))
}

/// The bot page with `notice`, as the direct answer to a form.
async fn page_with(
    state: &AppState,
    me: &pages::Operator<'_>,
    bot: &str,
    notice: pages::Notice,
) -> Result<HttpResponse, ApiError> {
    let id = bot.to_owned();
    let view = blocking(&state.lifecycle, move |lifecycle| pages::BotView::load(lifecycle, &id)).await?;
    Ok(html(StatusCode::OK, pages::bot(me, &view, state.live.problems().get(bot).map(String::as_str), Some(&notice))))
}

async fn sign_in<B>(state: &AppState, request: Request<B>, client: IpAddr) -> Result<HttpResponse, ApiError>
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    check_same_origin(request.headers())?;
    state.limits.sign_in(SIGN_IN_BRAKE, ClientKey::of(client))?;
    let form = read_form(request).await?;
    let token = form.get("token").map(|token| token.trim().to_owned()).unwrap_or_default();
    let admin = blocking(&state.lifecycle, move |lifecycle| lifecycle.verify_admin_token(&token)).await?;
    let Some(admin) = admin else {
        tracing::warn!(%client, "failed console sign-in");
        return Ok(html(StatusCode::UNAUTHORIZED, pages::sign_in(Some("That admin token is not valid."))));
    };
    let cookie = state.console_sessions.start(admin.digest.clone()).map_err(|err| ApiError::internal(&err))?;
    tracing::info!(admin = %admin.name, "console sign-in");
    let mut response = redirect("/admin/");
    set_header(
        &mut response,
        header::SET_COOKIE,
        &set_cookie(&cookie, state.lifecycle.options().public_url.starts_with("https://")),
    );
    Ok(response)
}

/// The session of this request and its admin token, if both are still valid.
async fn signed_in(state: &AppState, headers: &HeaderMap) -> Result<Option<(ConsoleSession, AdminToken)>, ApiError> {
    let Some(session) = state.console_sessions.find(headers) else { return Ok(None) };
    let digest = session.admin_digest.clone();
    let admin =
        blocking(&state.lifecycle, move |lifecycle| Ok(lifecycle.store().admin_token_by_digest(&digest)?)).await?;
    Ok(admin.map(|admin| (session, admin)))
}

/// Refuses a POST whose `Origin` is another site (SameSite cookies already keep most out).
fn check_same_origin(headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|value| value.to_str().ok()) else { return Ok(()) };
    let host = headers.get(header::HOST).and_then(|value| value.to_str().ok()).unwrap_or_default();
    let authority = origin.split_once("://").map_or("", |(_, rest)| rest);
    if authority.eq_ignore_ascii_case(host) {
        Ok(())
    } else {
        Err(ApiError::new(ErrorCode::Forbidden, "console forms are accepted from the console only"))
    }
}

fn accepts_events(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|accept| accept.contains("text/event-stream"))
}

/// Reads a bounded `application/x-www-form-urlencoded` body.
async fn read_form<B>(request: Request<B>) -> Result<HashMap<String, String>, ApiError>
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let is_form = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.trim_start().starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "send the form as application/x-www-form-urlencoded",
        ));
    }
    let body = Limited::new(request.into_body(), MAX_BODY_BYTES).collect().await.map_err(|err| {
        if err.downcast_ref::<LengthLimitError>().is_some() {
            ApiError::new(ErrorCode::PayloadTooLarge, format!("the form is larger than {MAX_BODY_BYTES} bytes"))
        } else {
            ApiError::invalid_request("cannot read the form")
        }
    })?;
    Ok(form_urlencoded::parse(&body.to_bytes()).into_owned().collect())
}

fn html(status: StatusCode, page: String) -> HttpResponse {
    let mut response = Response::new(full_body(page));
    *response.status_mut() = status;
    set_header(&mut response, header::CONTENT_TYPE, "text/html; charset=utf-8");
    response
}

fn redirect(to: &str) -> HttpResponse {
    let mut response = Response::new(full_body(Bytes::new()));
    *response.status_mut() = StatusCode::SEE_OTHER;
    set_header(&mut response, header::LOCATION, to);
    response
}

fn asset(content_type: &'static str, text: &'static str) -> HttpResponse {
    let mut response = Response::new(full_body(text));
    set_header(&mut response, header::CONTENT_TYPE, content_type);
    set_header(&mut response, header::CACHE_CONTROL, "no-cache");
    response
}

/// Console pages are private: never cached, never framed, never sent as a referrer to
/// another site (`same-origin`: with `no-referrer`, browsers send `Origin: null` on the
/// console's own forms).
fn secure(response: &mut HttpResponse) {
    set_header(response, header::CONTENT_SECURITY_POLICY, CSP);
    set_header(response, header::CACHE_CONTROL, "no-store");
    set_header(response, header::X_FRAME_OPTIONS, "DENY");
    set_header(response, header::REFERRER_POLICY, "same-origin");
}

fn set_header(response: &mut HttpResponse, name: header::HeaderName, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        response.headers_mut().insert(name, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::http::headers;

    #[test]
    fn forms_from_other_origins_are_refused() {
        for (origin, host, allowed) in [
            (None, "gw.example", true),
            (Some("https://gw.example"), "gw.example", true),
            (Some("http://127.0.0.1:8080"), "127.0.0.1:8080", true),
            (Some("https://evil.example"), "gw.example", false),
            (Some("null"), "gw.example", false),
        ] {
            let mut pairs = vec![("host", host)];
            if let Some(origin) = origin {
                pairs.push(("origin", origin));
            }
            assert_eq!(check_same_origin(&headers(&pairs)).is_ok(), allowed, "{origin:?} on {host}");
        }
    }
}
