//! Console sign-in: an admin token exchanged for an `HttpOnly`, `SameSite=Strict` session cookie,
//! with a per-session CSRF token for every form.
//!
//! A session remembers the digest of the admin token it came from, and every request checks
//! that token against the store again, so revoking the token ends its sessions at once.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hyper::header::{self, HeaderMap};

use crate::auth::{new_token, random_hex, token_digest};

/// Name of the console's session cookie.
pub(super) const COOKIE: &str = "docent_console";
/// How long a console session lasts.
pub(super) const SESSION_TTL: Duration = Duration::from_secs(8 * 60 * 60);
/// Most console sessions kept at once; the oldest go first.
const MAX_SESSIONS: usize = 1024;

/// A signed-in operator.
#[derive(Debug, Clone)]
pub(super) struct ConsoleSession {
    /// SHA-256 of the admin token used to sign in, hex.
    pub(super) admin_digest: String,
    /// Sent in every form and compared on every POST.
    pub(super) csrf: String,
    expires: Instant,
}

/// Live console sessions, by the digest of their cookie value.
#[derive(Default)]
pub struct ConsoleSessions {
    by_digest: Mutex<HashMap<[u8; 32], ConsoleSession>>,
}

impl ConsoleSessions {
    /// Starts a session for the admin token with `admin_digest`; returns the cookie value.
    pub(super) fn start(&self, admin_digest: String) -> Result<String, getrandom::Error> {
        let cookie = new_token()?;
        let csrf = random_hex::<16>()?;
        let now = Instant::now();
        let mut sessions = self.lock();
        sessions.retain(|_, session| session.expires > now);
        if sessions.len() >= MAX_SESSIONS
            && let Some(oldest) = sessions.iter().min_by_key(|(_, session)| session.expires).map(|(key, _)| *key)
        {
            sessions.remove(&oldest);
        }
        sessions.insert(token_digest(&cookie), ConsoleSession { admin_digest, csrf, expires: now + SESSION_TTL });
        Ok(cookie)
    }

    /// The session named by the request's cookie, if it is live.
    pub(super) fn find(&self, headers: &HeaderMap) -> Option<ConsoleSession> {
        let cookie = cookie_value(headers, COOKIE)?;
        let sessions = self.lock();
        sessions.get(&token_digest(cookie)).filter(|session| session.expires > Instant::now()).cloned()
    }

    pub(super) fn end(&self, headers: &HeaderMap) {
        if let Some(cookie) = cookie_value(headers, COOKIE) {
            self.lock().remove(&token_digest(cookie));
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], ConsoleSession>> {
        self.by_digest.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The `Set-Cookie` value for a new session (`Secure` when served over TLS).
pub(super) fn set_cookie(value: &str, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{COOKIE}={value}; Path=/admin; HttpOnly; SameSite=Strict; Max-Age={}{secure}", SESSION_TTL.as_secs())
}

/// The `Set-Cookie` value that removes the session cookie.
pub(super) fn clear_cookie() -> String {
    format!("{COOKIE}=; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=0")
}

/// Compares two secrets in time independent of where they differ.
pub(super) fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find_map(|(key, value)| (key == name).then_some(value))
}

#[cfg(test)]
mod tests {
    use hyper::header::HeaderValue;

    use super::*;

    fn with_cookie(cookie: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_str(cookie).unwrap());
        headers
    }

    #[test]
    fn a_session_is_found_by_its_cookie_and_ended() {
        let sessions = ConsoleSessions::default();
        let cookie = sessions.start("abc".into()).unwrap();
        let headers = with_cookie(&format!("theme=dark; {COOKIE}={cookie}"));
        assert_eq!(sessions.find(&headers).unwrap().admin_digest, "abc");
        assert!(sessions.find(&with_cookie(&format!("{COOKIE}=dct_guess"))).is_none());
        sessions.end(&headers);
        assert!(sessions.find(&headers).is_none());
    }

    #[test]
    fn cookies_are_http_only_and_strict() {
        let cookie = set_cookie("v", false);
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && !cookie.contains("Secure"));
        assert!(set_cookie("v", true).ends_with("; Secure"));
    }

    #[test]
    fn secrets_compare_exactly() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "abcd"));
    }
}
