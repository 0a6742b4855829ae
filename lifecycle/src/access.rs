//! Run-time settings held by the store: visibility, password, access tokens, admin tokens and plans.
//!
//! Every change is audited (never with a secret) and bumps the store's revision, so gateways
//! apply it within a second. Tokens are shown once, at creation, and stored as SHA-256 digests.

use argon2::{Argon2, PasswordHasher};
use docent_store::{AccessToken, AdminToken, AuditEntry, Plan, Scope, Timestamp, Visibility};
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

/// Hashes a password with argon2id (PHC string).
pub fn hash_password(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|err| Error::Refused(format!("cannot hash the password: {err}")))
}

/// SHA-256 of a token, hex: how the store keeps it.
pub fn token_digest(token: &str) -> String {
    knowledge::hex(&Sha256::digest(token.as_bytes()))
}

/// A new random token with a recognizable prefix (`dct_` access, `dca_` admin).
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
            return Err(Error::Refused(format!("\"{bot}\" has no valid access token named \"{name}\"")));
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
            return Err(Error::Refused(format!("no valid admin token named \"{name}\"")));
        }
        Ok(())
    }

    /// The admin token `token` is, if it is valid.
    pub fn verify_admin_token(&self, token: &str) -> Result<Option<AdminToken>> {
        Ok(self.store.admin_token_by_digest(&token_digest(token))?)
    }

    /// Sets (or with `None` removes) the bot's plan.
    pub fn set_plan(&self, bot: &str, plan: Option<&Plan>, actor: &str) -> Result<()> {
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

    /// The plan and this month's use.
    pub fn plan(&self, bot: &str, now: Timestamp) -> Result<PlanReport> {
        let month = when::month(now);
        Ok(PlanReport { bot: bot.to_owned(), plan: self.store.plan(bot)?, used: self.store.usage(bot, &month)?, month })
    }
}
