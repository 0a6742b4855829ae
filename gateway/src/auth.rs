//! Staff access to internal bots: argon2 passwords, access tokens, sessions and a brake on guessing.
//!
//! Tokens are random 256-bit values. The gateway keeps only their SHA-256
//! digests, so neither a memory dump nor a log line gives a usable token.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::{Argon2, PasswordVerifier};
use password_hash::PasswordHash;
use sha2::{Digest, Sha256};

use docent_store::{AccessToken, Timestamp};

/// How long a session token from a password sign-in stays valid.
pub const SESSION_TTL: Duration = Duration::from_secs(12 * 60 * 60);
/// Failed sign-ins allowed per bot and client address within [`ATTEMPT_WINDOW`].
pub const MAX_FAILED_ATTEMPTS: u32 = 5;
pub const ATTEMPT_WINDOW: Duration = Duration::from_secs(5 * 60);

/// Checks `password` against a PHC hash validated at config load.
pub fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|hash| Argon2::default().verify_password(password.as_bytes(), &hash).is_ok())
}

/// The SHA-256 digest of a token, as stored in config and in the session table.
pub fn token_digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// A new random token, prefixed so it is recognizable in a secret scanner.
pub fn new_token() -> Result<String, getrandom::Error> {
    Ok(format!("dct_{}", random_hex::<32>()?))
}

/// `N` random bytes as lowercase hex.
pub fn random_hex<const N: usize>() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes)?;
    Ok(hex(&bytes))
}

/// Live sessions, by token digest.
#[derive(Default)]
pub struct Sessions {
    by_digest: Mutex<HashMap<[u8; 32], Session>>,
}

struct Session {
    bot: String,
    expires: Instant,
}

impl Sessions {
    /// Starts a session on `bot` and returns its token.
    pub fn start(&self, bot: &str) -> Result<String, getrandom::Error> {
        let token = new_token()?;
        let now = Instant::now();
        let mut sessions = self.lock();
        sessions.retain(|_, session| session.expires > now);
        sessions.insert(token_digest(&token), Session { bot: bot.to_owned(), expires: now + SESSION_TTL });
        Ok(token)
    }

    fn is_valid(&self, bot: &str, digest: &[u8; 32]) -> bool {
        self.lock().get(digest).is_some_and(|session| session.bot == bot && session.expires > Instant::now())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Session>> {
        self.by_digest.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Whether `token` opens `bot` at `now`: one of its unexpired, unrevoked access tokens, or a
/// live session.
pub fn is_authorized(sessions: &Sessions, bot: &str, tokens: &[AccessToken], token: &str, now: Timestamp) -> bool {
    let digest = token_digest(token);
    let hex = hex(&digest);
    tokens.iter().any(|known| known.bot == bot && known.digest == hex && known.is_valid_at(now))
        || sessions.is_valid(bot, &digest)
}

/// Lowercase hex, as the store keeps token digests.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Counts failed sign-ins per bot and client address to slow down guessing.
#[derive(Default)]
pub struct SignInAttempts {
    failures: Mutex<HashMap<(String, IpAddr), (u32, Instant)>>,
}

impl SignInAttempts {
    /// Whether this client may try a password now.
    pub fn may_try(&self, bot: &str, client: IpAddr) -> bool {
        let failures = self.lock();
        match failures.get(&(bot.to_owned(), client)) {
            Some(&(count, since)) => count < MAX_FAILED_ATTEMPTS || since.elapsed() >= ATTEMPT_WINDOW,
            None => true,
        }
    }

    pub fn record_failure(&self, bot: &str, client: IpAddr) {
        let now = Instant::now();
        let mut failures = self.lock();
        failures.retain(|_, (_, since)| now.duration_since(*since) < ATTEMPT_WINDOW);
        let entry = failures.entry((bot.to_owned(), client)).or_insert((0, now));
        entry.0 += 1;
    }

    pub fn record_success(&self, bot: &str, client: IpAddr) {
        self.lock().remove(&(bot.to_owned(), client));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(String, IpAddr), (u32, Instant)>> {
        self.failures.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_against_their_own_hash() {
        let hash = docent_lifecycle::access::hash_password("correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password(&hash, "correct horse"));
        assert!(!verify_password(&hash, "correct horse "));
        assert!(!verify_password("not a hash", "correct horse"));
    }

    #[test]
    fn sessions_open_only_their_own_bot() {
        let sessions = Sessions::default();
        let token = sessions.start("handbook").unwrap();
        assert!(token.starts_with("dct_") && token.len() == 68);
        assert!(is_authorized(&sessions, "handbook", &[], &token, 0));
        assert!(!is_authorized(&sessions, "other", &[], &token, 0));
        assert!(!is_authorized(&sessions, "handbook", &[], "dct_guess", 0));
    }

    #[test]
    fn access_tokens_are_matched_by_digest_until_they_expire_or_are_revoked() {
        let token = |expires_at, revoked_at| AccessToken {
            bot: "handbook".into(),
            name: "kiosk".into(),
            digest: hex(&token_digest("s3cret-token")),
            created_at: 0,
            expires_at,
            revoked_at,
        };
        let sessions = Sessions::default();
        let valid = [token(Some(100), None)];
        assert!(is_authorized(&sessions, "handbook", &valid, "s3cret-token", 99));
        assert!(!is_authorized(&sessions, "handbook", &valid, "s3cret-tokem", 99));
        assert!(!is_authorized(&sessions, "handbook", &valid, "s3cret-token", 100), "expired at its second");
        assert!(!is_authorized(&sessions, "other", &valid, "s3cret-token", 99), "tokens open their own bot only");
        assert!(!is_authorized(&sessions, "handbook", &[token(None, Some(5))], "s3cret-token", 6));
    }

    #[test]
    fn sign_in_is_refused_after_repeated_failures() {
        let attempts = SignInAttempts::default();
        let client: IpAddr = "127.0.0.1".parse().unwrap();
        for _ in 0..MAX_FAILED_ATTEMPTS {
            assert!(attempts.may_try("handbook", client));
            attempts.record_failure("handbook", client);
        }
        assert!(!attempts.may_try("handbook", client));
        assert!(attempts.may_try("other", client), "the brake is per bot");
        attempts.record_success("handbook", client);
        assert!(attempts.may_try("handbook", client));
    }
}
