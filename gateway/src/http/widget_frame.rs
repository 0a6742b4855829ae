//! `GET /widget/{version}/frame.html?bot=…`: the widget in a page of the gateway's own, for host
//! pages whose CSP forbids WebAssembly. The host page needs only `frame-src` for the gateway; the
//! frame's CSP allows wasm, and its `frame-ancestors` is the bot's allowlist, which the browser
//! enforces, so the frame's API calls, same-origin, come only from pages the bot allows.

use std::sync::OnceLock;

use base64::Engine;
use docent_protocol::ErrorCode;
use hyper::Response;
use hyper::header::{self, HeaderValue};
use sha2::{Digest, Sha256};

use super::respond::{error_response, full_body};
use super::{AppState, HttpResponse};
use crate::assets::WIDGET_VERSION;
use crate::error::{ApiError, truncate};
use crate::html::escape;

/// The frame's script: it reports the area the widget draws on to bundle.js on the host page, and
/// relays `Docent` commands and events, checking the other side's origin both ways.
const FRAME_SCRIPT: &str = include_str!("widget_frame.js");

pub(super) fn page(state: &AppState, version: &str, query: Option<&str>) -> HttpResponse {
    if version != WIDGET_VERSION && version != "latest" {
        return error_response(&ApiError::new(
            ErrorCode::WidgetVersionNotFound,
            format!("this gateway serves widget {WIDGET_VERSION} (or `latest`), not {}", truncate(version, 32)),
        ));
    }
    let (mut bot, mut locale, mut lang) = (None, String::new(), String::new());
    for (name, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        match name.as_ref() {
            "bot" => bot = Some(value.into_owned()),
            "locale" => locale = language_tag(&value),
            "lang" => lang = language_tag(&value),
            _ => {}
        }
    }
    let Some(bot) = bot else {
        return error_response(&ApiError::invalid_request("the query parameter `bot` names the bot to show"));
    };
    let Some(live) = state.live.get(&bot) else {
        return error_response(&ApiError::bot_not_found(&bot));
    };
    let ancestors: Vec<String> = live.config.allowed_origins.iter().map(ToString::to_string).collect();
    let ancestors = if ancestors.is_empty() { "'none'".to_owned() } else { ancestors.join(" ") };
    let csp = format!(
        "default-src 'none'; script-src 'self' '{}' 'wasm-unsafe-eval'; connect-src 'self'; style-src 'self'; \
         base-uri 'none'; form-action 'none'; frame-ancestors {ancestors}",
        script_hash()
    );
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>Chat</title>\n\
         <script src=\"bundle.js\" data-bot=\"{bot}\" data-locale=\"{locale}\" data-frame></script>\n</head>\n\
         <body>\n<script>{FRAME_SCRIPT}</script>\n</body>\n</html>\n",
        lang = escape(&lang),
        bot = escape(&bot),
        locale = escape(&locale),
    );
    let mut response = Response::new(full_body(html));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    match HeaderValue::from_str(&csp) {
        Ok(value) => {
            headers.insert(header::CONTENT_SECURITY_POLICY, value);
            response
        }
        Err(_) => error_response(&ApiError::internal(&"a bot's allowed origins do not fit a CSP header")),
    }
}

/// `tag` when it reads as a language tag (letters, digits, `-` and `_`, at most 35), else empty.
fn language_tag(tag: &str) -> String {
    let usable =
        tag.len() <= 35 && tag.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_');
    if usable { tag.to_owned() } else { String::new() }
}

/// The CSP source that allows the frame's inline script: `sha256-…` of its text.
fn script_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| {
        ["sha256-", &base64::engine::general_purpose::STANDARD.encode(Sha256::digest(FRAME_SCRIPT))].concat()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_language_tags_reach_the_page() {
        for (tag, kept) in
            [("fr-CA", "fr-CA"), ("en_US", "en_US"), ("", ""), ("fr\"><script>", ""), (&"a".repeat(36), "")]
        {
            assert_eq!(language_tag(tag), kept, "{tag}");
        }
    }
}
