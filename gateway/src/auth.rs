//! Staff access to internal bots: argon2 passwords, access tokens and site-signed tokens.
//!
//! Tokens are random 256-bit values. The gateway and the store keep only their SHA-256
//! digests, so neither a memory dump, a store copy nor a log line gives a usable token.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use argon2::{Argon2, PasswordVerifier};
use docent_lifecycle::access::check_password_hash;
use docent_protocol::ErrorCode;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use password_hash::PasswordHash;
use sha2::{Digest, Sha256};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot};

use crate::error::ApiError;
use docent_store::{AccessToken, Timestamp};

/// How long a session token from a sign-in stays valid.
pub const SESSION_TTL: Duration = Duration::from_secs(12 * 60 * 60);

/// Checks `password` against a PHC hash. Blocking and costly: call it through [`PasswordChecks`].
fn verify_password(hash: &str, password: &str) -> bool {
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

/// Whether `token` is one of `bot`'s unexpired, unrevoked access tokens at `now`.
pub fn is_access_token(bot: &str, tokens: &[AccessToken], token: &str, now: Timestamp) -> bool {
    let hex = hex(&token_digest(token));
    tokens.iter().any(|known| known.bot == bot && known.digest == hex && known.is_valid_at(now))
}

/// The longest lifetime (`exp` − now, and `exp` − `iat` when given) a site-signed token may have.
pub const MAX_SITE_TOKEN_LIFETIME: Duration = Duration::from_secs(60 * 60);

/// The claims of a staff token the bot's website signed.
#[derive(serde::Deserialize)]
struct SiteClaims {
    /// The bot it opens; `aud` is accepted in its place.
    bot: Option<String>,
    aud: Option<String>,
    /// Who the site says the staff member is (logged, never used for access).
    sub: String,
    exp: u64,
    iat: Option<u64>,
}

/// Checks a site-signed staff token (JWT HS256 with the bot's site secret) for `bot` at `now`
/// and returns its subject. Every failure reads the same to the client.
pub fn verify_site_token(secret: &str, bot: &str, token: &str, now: Timestamp) -> Result<String, ApiError> {
    let refuse = |why: &str| {
        tracing::warn!(%bot, why, "site token refused");
        ApiError::new(ErrorCode::InvalidCredentials, "the site token is invalid, expired or for another bot")
    };
    let mut validation = Validation::new(Algorithm::HS256);
    // Expiry and audience are checked below, against the caller's clock and the bot.
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.set_required_spec_claims(&["exp", "sub"]);
    let claims = jsonwebtoken::decode::<SiteClaims>(token, &DecodingKey::from_secret(secret.as_bytes()), &validation)
        .map_err(|err| refuse(&err.to_string()))?
        .claims;
    let now = u64::try_from(now).unwrap_or_default();
    if claims.exp <= now {
        return Err(refuse("expired"));
    }
    let max = MAX_SITE_TOKEN_LIFETIME.as_secs();
    if claims.exp - now > max || claims.iat.is_some_and(|iat| claims.exp.saturating_sub(iat) > max) {
        return Err(refuse("lifetime over an hour"));
    }
    if claims.bot.or(claims.aud).as_deref() != Some(bot) {
        return Err(refuse("for another bot"));
    }
    Ok(claims.sub)
}

/// Lowercase hex, as the store keeps token digests.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Runs argon2 checks on a fixed set of threads of their own, at most one check per thread at
/// once, never queued: a flood of sign-ins costs at most `workers` × the hash's memory (the
/// threads live as long as the gateway, so the allocator keeps no more than one hash's memory
/// per thread), and chat answers, which run on tokio's blocking pool, never wait behind it.
pub struct PasswordChecks {
    permits: Arc<Semaphore>,
    jobs: Mutex<std::sync::mpsc::Sender<Check>>,
}

/// One check for a worker: the answer goes back with the permit freed first.
struct Check {
    hash: String,
    password: String,
    permit: OwnedSemaphorePermit,
    answer: oneshot::Sender<bool>,
}

impl PasswordChecks {
    /// `workers` threads (at least one); they end when this is dropped.
    pub fn new(workers: usize) -> PasswordChecks {
        let workers = workers.max(1);
        let (jobs, queue) = std::sync::mpsc::channel::<Check>();
        let queue = Arc::new(Mutex::new(queue));
        for _ in 0..workers {
            let queue = Arc::clone(&queue);
            let spawned = std::thread::Builder::new().name("argon2".into()).spawn(move || {
                yield_the_cpu_to_chat();
                loop {
                    let next = queue.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).recv();
                    let Ok(Check { hash, password, permit, answer }) = next else { return };
                    let matches = verify_password(&hash, &password);
                    // Freed before the answer goes out, so the next check after it finds a permit.
                    drop(permit);
                    let _ = answer.send(matches);
                }
            });
            if let Err(err) = spawned {
                tracing::error!(%err, "cannot start an argon2 thread");
            }
        }
        PasswordChecks { permits: Arc::new(Semaphore::new(workers)), jobs: Mutex::new(jobs) }
    }

    /// Half the cores, at least one: a sign-in flood can take no more, and chat keeps the rest.
    pub fn for_this_machine() -> PasswordChecks {
        PasswordChecks::new(std::thread::available_parallelism().map_or(1, usize::from) / 2)
    }

    /// Checks `password` against `hash`, or refuses at once with 429 when every worker is busy.
    /// A hash outside the accepted argon2id cost is never run.
    pub async fn verify(&self, hash: String, password: String) -> Result<bool, ApiError> {
        if let Err(why) = check_password_hash(&hash) {
            tracing::error!(%why, "the stored password hash is refused; password sign-in is off");
            return Err(ApiError::internal(&"the stored password hash is refused"));
        }
        let permit = Arc::clone(&self.permits).try_acquire_owned().map_err(|_| {
            ApiError::too_many(ErrorCode::TooManyAttempts, "too many sign-ins at once; try again", BUSY_RETRY)
        })?;
        let (answer, receiver) = oneshot::channel();
        self.jobs
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .send(Check { hash, password, permit, answer })
            .map_err(|_| ApiError::internal(&"no argon2 thread is running"))?;
        receiver.await.map_err(|err| ApiError::internal(&err))
    }
}

/// Puts the calling thread at the lowest CPU priority (nice 19): while chat has work, the
/// kernel runs chat first, and sign-ins get what is left.
fn yield_the_cpu_to_chat() {
    #[cfg(target_os = "linux")]
    if let Err(err) = rustix::process::setpriority_process(Some(rustix::thread::gettid()), 19) {
        tracing::warn!(%err, "cannot lower the priority of an argon2 thread");
    }
}

/// How long a client is asked to wait when every argon2 permit is taken: about one check.
const BUSY_RETRY: Duration = Duration::from_secs(1);

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
    fn access_tokens_are_matched_by_digest_until_they_expire_or_are_revoked() {
        let token = |expires_at, revoked_at| AccessToken {
            bot: "handbook".into(),
            name: "kiosk".into(),
            digest: hex(&token_digest("s3cret-token")),
            created_at: 0,
            expires_at,
            revoked_at,
        };
        let valid = [token(Some(100), None)];
        assert!(is_access_token("handbook", &valid, "s3cret-token", 99));
        assert!(!is_access_token("handbook", &valid, "s3cret-tokem", 99));
        assert!(!is_access_token("handbook", &valid, "s3cret-token", 100), "expired at its second");
        assert!(!is_access_token("other", &valid, "s3cret-token", 99), "tokens open their own bot only");
        assert!(!is_access_token("handbook", &[token(None, Some(5))], "s3cret-token", 6));
    }

    const NOW: Timestamp = 1_790_000_000;

    fn site_token(secret: &str, claims: serde_json::Value) -> String {
        let key = jsonwebtoken::EncodingKey::from_secret(secret.as_bytes());
        jsonwebtoken::encode(&jsonwebtoken::Header::new(Algorithm::HS256), &claims, &key).unwrap()
    }

    #[test]
    fn site_tokens_open_their_bot_only_while_fresh_and_correctly_signed() {
        let exp = NOW as u64 + 300;
        let check = |token: &str| verify_site_token("dcs_secret", "handbook", token, NOW).map_err(|err| err.code);
        let good =
            site_token("dcs_secret", serde_json::json!({"bot": "handbook", "sub": "ana@example.com", "exp": exp}));
        assert_eq!(check(&good), Ok("ana@example.com".to_owned()));
        let by_aud = site_token("dcs_secret", serde_json::json!({"aud": "handbook", "sub": "ana", "exp": exp}));
        assert_eq!(check(&by_aud), Ok("ana".to_owned()));
        let refused = Err(ErrorCode::InvalidCredentials);
        for (why, claims, secret) in [
            ("wrong signature", serde_json::json!({"bot": "handbook", "sub": "a", "exp": exp}), "dcs_other"),
            ("another bot", serde_json::json!({"bot": "other", "sub": "a", "exp": exp}), "dcs_secret"),
            ("no bot", serde_json::json!({"sub": "a", "exp": exp}), "dcs_secret"),
            ("expired", serde_json::json!({"bot": "handbook", "sub": "a", "exp": NOW - 1}), "dcs_secret"),
            ("expires now", serde_json::json!({"bot": "handbook", "sub": "a", "exp": NOW}), "dcs_secret"),
            ("lives too long", serde_json::json!({"bot": "handbook", "sub": "a", "exp": NOW + 3601}), "dcs_secret"),
            (
                "issued for too long",
                serde_json::json!({"bot": "handbook", "sub": "a", "iat": NOW - 7200, "exp": exp}),
                "dcs_secret",
            ),
            ("no subject", serde_json::json!({"bot": "handbook", "exp": exp}), "dcs_secret"),
            ("no expiry", serde_json::json!({"bot": "handbook", "sub": "a"}), "dcs_secret"),
        ] {
            assert_eq!(check(&site_token(secret, claims)), refused, "{why}");
        }
        let unsigned = format!("{}.", good.rsplit_once('.').unwrap().0);
        assert_eq!(check(&unsigned), refused, "unsigned");
        let none_alg =
            "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJib3QiOiJoYW5kYm9vayIsInN1YiI6ImEiLCJleHAiOjk5OTk5OTk5OTl9.";
        assert_eq!(check(none_alg), refused, "alg none");
    }

    #[tokio::test]
    async fn argon2_checks_beyond_the_permits_are_refused_at_once() {
        let hash = docent_lifecycle::access::hash_password("correct horse").unwrap();
        let checks = PasswordChecks::new(1);
        let (first, second) = tokio::join!(
            checks.verify(hash.clone(), "wrong".into()),
            checks.verify(hash.clone(), "correct horse".into())
        );
        assert_eq!(first, Ok(false));
        let refused = second.unwrap_err();
        assert_eq!((refused.code, refused.retry_after), (ErrorCode::TooManyAttempts, Some(BUSY_RETRY)));
        assert_eq!(checks.verify(hash, "correct horse".into()).await, Ok(true), "the permit came back");
    }

    #[tokio::test]
    async fn hashes_below_the_minimum_cost_are_never_run() {
        let weak = "$argon2i$v=19$m=8,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$Zb5CzZr2G2z5Wv6KQ3bJ3Fq8m0b6z1oV7l8xQ3r4s5A";
        let refused = PasswordChecks::new(1).verify(weak.into(), "x".into()).await.unwrap_err();
        assert_eq!(refused.code, ErrorCode::Internal);
    }
}
