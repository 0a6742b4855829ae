//! Run-time settings held by the store: visibility, password, access tokens, admin tokens and plans.
//!
//! Every change is audited (never with a secret) and bumps the store's revision, so gateways
//! apply it within a second. Tokens are shown once, at creation, and stored as SHA-256 digests.

use argon2::{Argon2, PasswordHasher};
use docent_store::{AccessToken, AdminToken, AuditEntry, Plan, Scope, Session, Timestamp, Visibility};
use password_hash::{SaltString, rand_core::OsRng};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::{Error, Lifecycle, Result, knowledge, when};

/// A plan with this month's use.
#[derive(Debug, Clone, Serialize)]
pub struct PlanReport {
    pub bot: String,
    pub plan: Option<Plan>,
    pub month: String,
    pub used: u64,
}

/// The least argon2id cost a password hash may have: OWASP's minimum (m=19456 KiB, t=2, p=1).
pub const ARGON2_MIN: Argon2Cost = Argon2Cost { memory_kib: 19_456, iterations: 2, lanes: 1 };
/// The most: every unauthenticated sign-in attempt pays this cost, so a larger one is a
/// denial of service on the gateway (256 MiB, 10 passes, 8 lanes).
pub const ARGON2_MAX: Argon2Cost = Argon2Cost { memory_kib: 262_144, iterations: 10, lanes: 8 };

/// The cost parameters of an argon2 hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Argon2Cost {
    /// `m`, in KiB.
    pub memory_kib: u32,
    /// `t`, passes over the memory.
    pub iterations: u32,
    /// `p`, lanes.
    pub lanes: u32,
}

/// Checks that `hash` is an argon2id PHC string whose cost lies within [`ARGON2_MIN`] and
/// [`ARGON2_MAX`]; the error names the parameter that is out of range.
pub fn check_password_hash(hash: &str) -> std::result::Result<(), String> {
    let parsed = password_hash::PasswordHash::new(hash).map_err(|err| format!("is not a PHC hash: {err}"))?;
    let algorithm = parsed.algorithm.as_str();
    if algorithm != "argon2id" {
        return Err(format!("uses {algorithm}; only argon2id is accepted (make one with `docent hash-password`)"));
    }
    let checks = [
        ("m", "memory in KiB", ARGON2_MIN.memory_kib, ARGON2_MAX.memory_kib),
        ("t", "iterations", ARGON2_MIN.iterations, ARGON2_MAX.iterations),
        ("p", "lanes", ARGON2_MIN.lanes, ARGON2_MAX.lanes),
    ];
    for (name, meaning, min, max) in checks {
        let value = parsed.params.get_decimal(name).ok_or_else(|| format!("lacks the parameter {name} ({meaning})"))?;
        if !(min..=max).contains(&value) {
            return Err(format!("has {name}={value} ({meaning}); it must be between {min} and {max}"));
        }
    }
    Ok(())
}

/// Hashes a password with argon2id (PHC string) at [`ARGON2_MIN`]'s cost.
pub fn hash_password(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    let params = argon2::Params::new(ARGON2_MIN.memory_kib, ARGON2_MIN.iterations, ARGON2_MIN.lanes, None)
        .map_err(|err| Error::Refused(format!("cannot hash the password: {err}")))?;
    Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|err| Error::Refused(format!("cannot hash the password: {err}")))
}

/// SHA-256 of a token, hex: how the store keeps it.
pub fn token_digest(token: &str) -> String {
    knowledge::hex(&Sha256::digest(token.as_bytes()))
}

/// A new random token with a recognizable prefix (`dct_` access, `dca_` admin, `dcs_` site secret).
fn new_token(prefix: &str) -> Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|err| Error::Refused(format!("no randomness for a token: {err}")))?;
    Ok(format!("{prefix}{}", knowledge::hex(&bytes)))
}

fn check_name(name: &str) -> Result<()> {
    if name.is_empty() || name.len() > 64 || !name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) {
        return Err(Error::Refused(format!(
            "\"{name}\" is not a token name: 1 to 64 letters, digits, '-', '_' or '.'"
        )));
    }
    Ok(())
}

impl Lifecycle {
    pub fn set_visibility(&self, bot: &str, visibility: Visibility, actor: &str) -> Result<()> {
        self.ensure_bot(bot, actor)?;
        let detail = match visibility {
            Visibility::Public => "public",
            Visibility::Internal => "internal",
        };
        self.store.set_visibility(
            bot,
            visibility,
            &AuditEntry::new(when::now(), actor, Some(bot), "access.visibility", detail),
        )?;
        Ok(())
    }

    /// Sets the staff password (argon2id); `None` removes it.
    pub fn set_password(&self, bot: &str, password: Option<&str>, actor: &str) -> Result<()> {
        self.ensure_bot(bot, actor)?;
        let hash = match password {
            Some("") => return Err(Error::Refused("the password is empty".into())),
            Some(password) => Some(hash_password(password)?),
            None => None,
        };
        let detail = if hash.is_some() { "password set" } else { "password removed" };
        self.store.set_password_hash(
            bot,
            hash.as_deref(),
            &AuditEntry::new(when::now(), actor, Some(bot), "access.password", detail),
        )?;
        Ok(())
    }

    /// Creates an access token and returns it: the only time it is shown.
    pub fn create_token(&self, bot: &str, name: &str, expires_at: Option<Timestamp>, actor: &str) -> Result<String> {
        check_name(name)?;
        self.ensure_bot(bot, actor)?;
        let now = when::now();
        if let Some(at) = expires_at
            && at <= now
        {
            return Err(Error::Refused(format!("the expiry {} is in the past", when::format(at))));
        }
        let token = new_token("dct_")?;
        let record = AccessToken {
            bot: bot.to_owned(),
            name: name.to_owned(),
            digest: token_digest(&token),
            created_at: now,
            expires_at,
            revoked_at: None,
        };
        let detail = format!(
            "token \"{name}\" created{}",
            expires_at.map(|at| format!(", expires {}", when::format(at))).unwrap_or_default()
        );
        self.store.add_access_token(&record, &AuditEntry::new(now, actor, Some(bot), "access.token.create", detail))?;
        Ok(token)
    }

    pub fn list_tokens(&self, bot: &str) -> Result<Vec<AccessToken>> {
        Ok(self.store.access_tokens(bot)?)
    }

    pub fn revoke_token(&self, bot: &str, name: &str, actor: &str) -> Result<()> {
        let audit =
            AuditEntry::new(when::now(), actor, Some(bot), "access.token.revoke", format!("token \"{name}\" revoked"));
        if !self.store.revoke_access_token(bot, name, &audit)? {
            return Err(Error::NotFound(format!("\"{bot}\" has no valid access token named \"{name}\"")));
        }
        Ok(())
    }

    /// Creates an admin token for every bot (`bot` = `None`) or one; returns it, shown once.
    pub fn create_admin_token(&self, name: &str, bot: Option<&str>, actor: &str) -> Result<String> {
        check_name(name)?;
        if let Some(bot) = bot {
            self.ensure_bot(bot, actor)?;
        }
        let token = new_token("dca_")?;
        let scope = bot.map_or(Scope::All, |bot| Scope::Bot(bot.to_owned()));
        let record = AdminToken {
            name: name.to_owned(),
            digest: token_digest(&token),
            scope,
            created_at: when::now(),
            revoked_at: None,
        };
        let detail = format!("admin token \"{name}\" created for {}", bot.unwrap_or("all bots"));
        self.store.add_admin_token(&record, &AuditEntry::new(when::now(), actor, bot, "admin.token.create", detail))?;
        Ok(token)
    }

    pub fn list_admin_tokens(&self) -> Result<Vec<AdminToken>> {
        Ok(self.store.admin_tokens()?)
    }

    pub fn revoke_admin_token(&self, name: &str, actor: &str) -> Result<()> {
        let audit =
            AuditEntry::new(when::now(), actor, None, "admin.token.revoke", format!("admin token \"{name}\" revoked"));
        if !self.store.revoke_admin_token(name, &audit)? {
            return Err(Error::NotFound(format!("no valid admin token named \"{name}\"")));
        }
        Ok(())
    }

    /// The admin token `token` is, if it is valid.
    pub fn verify_admin_token(&self, token: &str) -> Result<Option<AdminToken>> {
        Ok(self.store.admin_token_by_digest(&token_digest(token))?)
    }

    /// Records a staff session (by its token's digest) so it outlives a restart.
    pub fn add_session(&self, session: &Session) -> Result<()> {
        Ok(self.store.add_session(session)?)
    }

    /// The unexpired session whose token has this SHA-256 digest (hex).
    pub fn session(&self, digest: &str, now: Timestamp) -> Result<Option<Session>> {
        Ok(self.store.session(digest, now)?)
    }

    /// Ends a session (sign-out); returns whether there was one.
    pub fn end_session(&self, digest: &str) -> Result<bool> {
        Ok(self.store.delete_session(digest)?)
    }

    /// Makes a new secret for the bot's website to sign staff tokens with, replacing any
    /// earlier one (whose tokens stop working), and returns it: the only time it is shown.
    pub fn create_site_secret(&self, bot: &str, actor: &str) -> Result<String> {
        self.ensure_bot(bot, actor)?;
        let secret = new_token("dcs_")?;
        let audit = AuditEntry::new(when::now(), actor, Some(bot), "access.site_secret", "site secret created");
        self.store.set_site_secret(bot, Some(&secret), &audit)?;
        Ok(secret)
    }

    /// Removes the site secret: site-signed tokens stop working.
    pub fn remove_site_secret(&self, bot: &str, actor: &str) -> Result<()> {
        self.ensure_bot(bot, actor)?;
        let audit = AuditEntry::new(when::now(), actor, Some(bot), "access.site_secret", "site secret removed");
        Ok(self.store.set_site_secret(bot, None, &audit)?)
    }

    /// The secret staff tokens from the bot's website are signed with, if it has one.
    pub fn site_secret(&self, bot: &str) -> Result<Option<String>> {
        Ok(self.store.site_secret(bot)?)
    }

    /// Sets (or with `None` removes) the bot's plan.
    pub fn set_plan(&self, bot: &str, plan: Option<&Plan>, actor: &str) -> Result<()> {
        if let Some(plan) = plan {
            let chars = plan.name.chars().count();
            if chars == 0 || chars > 64 || plan.name.chars().any(char::is_control) {
                return Err(Error::Refused(format!(
                    "a plan name is 1 to 64 characters without control characters; got {chars}"
                )));
            }
        }
        self.ensure_bot(bot, actor)?;
        let detail = match plan {
            Some(plan) => format!(
                "plan \"{}\": {} messages/month, {} bytes, expires {}",
                plan.name,
                plan.messages_per_month.map_or("unlimited".to_owned(), |n| n.to_string()),
                plan.storage_bytes.map_or("unlimited".to_owned(), |n| n.to_string()),
                plan.expires_at.map_or("never".to_owned(), when::format)
            ),
            None => "plan removed (unlimited)".to_owned(),
        };
        self.store.set_plan(bot, plan, &AuditEntry::new(when::now(), actor, Some(bot), "plan.set", detail))?;
        Ok(())
    }

    /// The plan and this month's use (what this process has tallied but not yet written
    /// included).
    pub fn plan(&self, bot: &str, now: Timestamp) -> Result<PlanReport> {
        let month = when::month(now);
        let used = self.store.usage(bot, &month)? + self.tallied_usage(bot, &month);
        Ok(PlanReport { bot: bot.to_owned(), plan: self.store.plan(bot)?, used, month })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(hash: &str, expect: std::result::Result<(), &str>) {
        match (check_password_hash(hash), expect) {
            (Ok(()), Ok(())) => {}
            (Err(got), Err(want)) => assert!(got.contains(want), "{hash}: error {got:?} lacks {want:?}"),
            (got, want) => panic!("{hash}: got {got:?}, want {want:?}"),
        }
    }

    const SALT_AND_HASH: &str = "c29tZXNhbHRzb21lc2FsdA$Zb5CzZr2G2z5Wv6KQ3bJ3Fq8m0b6z1oV7l8xQ3r4s5A";

    #[test]
    fn password_hashes_outside_the_argon2id_cost_range_are_refused() {
        let hash = |algorithm: &str, params: &str| format!("${algorithm}$v=19${params}${SALT_AND_HASH}");
        check(&hash("argon2id", "m=19456,t=2,p=1"), Ok(()));
        check(&hash("argon2id", "m=262144,t=10,p=8"), Ok(()));
        check(&hash("argon2i", "m=8,t=1,p=1"), Err("uses argon2i; only argon2id"));
        check(&hash("argon2d", "m=19456,t=2,p=1"), Err("uses argon2d"));
        check(&hash("argon2id", "m=1,t=2,p=1"), Err("m=1 (memory in KiB); it must be between 19456 and 262144"));
        check(&hash("argon2id", "m=1048576,t=2,p=1"), Err("m=1048576 (memory in KiB)"));
        check(&hash("argon2id", "m=19456,t=1,p=1"), Err("t=1 (iterations)"));
        check(&hash("argon2id", "m=65536,t=11,p=1"), Err("t=11 (iterations)"));
        check(&hash("argon2id", "m=65536,t=2,p=9"), Err("p=9 (lanes)"));
        check("hunter2", Err("is not a PHC hash"));
        check(&hash("argon2id", "t=2,p=1"), Err("lacks the parameter m (memory in KiB)"));
    }

    #[test]
    fn new_password_hashes_meet_the_minimum() {
        let hash = hash_password("correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
        check(&hash, Ok(()));
    }
}
