//! CORS for the bots' API: the page's `Origin` against the bot's allowlist, preflights and response marks.

use docent_lifecycle::origin::Origin;
use docent_protocol::ErrorCode;
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Method, Response, StatusCode};

use bytes::Bytes;

use super::HttpResponse;
use super::respond::{full_body, no_store};
use crate::error::{ApiError, truncate};
use docent_lifecycle::config::BotConfig;

/// How a bot's API response is marked for CORS.
pub(super) enum Cors {
    /// No `Origin`, or the gateway's own origin: no CORS headers needed.
    SameOrigin,
    /// An allowlisted website origin, echoed back.
    Allowed(HeaderValue),
}

/// Enforces the bot's allowlist on the page's `Origin`.
pub(super) fn check_origin(config: &BotConfig, headers: &HeaderMap) -> Result<Cors, ApiError> {
    let mut values = headers.get_all(header::ORIGIN).iter();
    let Some(value) = values.next() else {
        // Browsers send Origin on every cross-origin request; without one this is
        // a same-origin page or a non-browser client, which CORS does not govern.
        return Ok(Cors::SameOrigin);
    };
    if values.next().is_some() {
        return Err(ApiError::invalid_request("send one `Origin` header, not several"));
    }
    let refuse = |shown: &str| {
        ApiError::new(
            ErrorCode::OriginNotAllowed,
            format!("origin {} may not use bot \"{}\"", truncate(shown, 100), config.id),
        )
    };
    let text = value.to_str().map_err(|_| refuse("(not text)"))?;
    let origin = Origin::parse(text).map_err(|_| refuse(text))?;
    let host = headers.get(header::HOST).and_then(|host| host.to_str().ok()).unwrap_or_default();
    if is_same_authority(&origin, host) {
        return Ok(Cors::SameOrigin);
    }
    if config.allows_origin(&origin) {
        // The normalized origin, never the raw header: `HTTP://Shop.example` is sent back as
        // `http://shop.example`, which is what the browser compares.
        return HeaderValue::from_str(&origin.to_string()).map(Cors::Allowed).map_err(|_| refuse(text));
    }
    Err(refuse(text))
}

/// Whether the page's origin is this gateway itself (its own `/demo/{bot}` page).
fn is_same_authority(origin: &Origin, host: &str) -> bool {
    let host = host.to_ascii_lowercase();
    let authority = origin.authority();
    authority == host || Some(authority.as_str()) == host.strip_suffix(":80").or(host.strip_suffix(":443"))
}

/// The answer to a preflight for a route that takes `allowed_method` (and OPTIONS).
pub(super) fn preflight(cors: &Cors, allowed_method: &Method) -> HttpResponse {
    let mut response = preflight_answer(&format!("{allowed_method}, OPTIONS"));
    no_store(&mut response);
    with_cors(response, cors)
}

/// A preflight's 204 allowing `methods` (e.g. `POST, DELETE, OPTIONS`), before CORS marks.
pub(super) fn preflight_answer(methods: &str) -> HttpResponse {
    let mut response = Response::new(full_body(Bytes::new()));
    *response.status_mut() = StatusCode::NO_CONTENT;
    let headers = response.headers_mut();
    if let Ok(methods) = HeaderValue::from_str(methods) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, methods);
    }
    headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static("content-type, authorization"));
    headers.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
    response
}

pub(super) fn with_cors(mut response: HttpResponse, cors: &Cors) -> HttpResponse {
    if let Cors::Allowed(origin) = cors {
        response.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
    }
    vary_on_origin(&mut response);
    response
}

pub(super) fn vary_on_origin(response: &mut HttpResponse) {
    response.headers_mut().append(header::VARY, HeaderValue::from_static("Origin"));
}

pub(super) fn allow_any_origin(response: &mut HttpResponse) {
    response.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(origins: &str) -> BotConfig {
        let text = format!("name = \"Shop\"\nvisibility = \"public\"\nallowed_origins = [{origins}]\n");
        docent_lifecycle::config::parse(std::path::Path::new("bots/shop/bot.toml"), "shop", &text).unwrap()
    }

    fn check(origins: &[&str], expect: Result<Option<&str>, ErrorCode>) {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_static("gateway.example"));
        for origin in origins {
            headers.append(header::ORIGIN, HeaderValue::from_str(origin).unwrap());
        }
        let got = check_origin(&config("\"https://shop.example\", \"http://localhost:8081\""), &headers);
        let got = got.map(|cors| match cors {
            Cors::SameOrigin => None,
            Cors::Allowed(value) => Some(value.to_str().unwrap().to_owned()),
        });
        assert_eq!(got.as_ref().map(Option::as_deref).map_err(|err| err.code), expect, "{origins:?}");
    }

    #[test]
    fn origins_are_checked_one_at_a_time_and_echoed_normalized() {
        check(&[], Ok(None));
        check(&["https://shop.example"], Ok(Some("https://shop.example")));
        check(&["HTTPS://Shop.Example:443"], Ok(Some("https://shop.example")));
        check(&["HTTP://LOCALHOST:8081"], Ok(Some("http://localhost:8081")));
        check(&["http://localhost:8081/"], Err(ErrorCode::OriginNotAllowed));
        check(&["HTTP://LOCALHOST:8081/"], Err(ErrorCode::OriginNotAllowed));
        check(&["https://evil.example"], Err(ErrorCode::OriginNotAllowed));
        check(&["https://shop.example", "https://evil.example"], Err(ErrorCode::InvalidRequest));
        check(&["https://shop.example", "https://shop.example"], Err(ErrorCode::InvalidRequest));
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
}
