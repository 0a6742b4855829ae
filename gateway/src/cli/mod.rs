//! The `docent` subcommands that manage bots: arguments shared by all of them, and opening the lifecycle.

pub(crate) mod alerts;
pub(crate) mod debug;
pub(crate) mod demo_data;
pub(crate) mod doctor;
pub(crate) mod kb;
pub(crate) mod logs;
pub(crate) mod manage;
pub(crate) mod monitor;
pub(crate) mod report;
pub(crate) mod reports;
pub(crate) mod settings;

use std::sync::Arc;

use anyhow::Context;
use clap::{Args, Subcommand};
use docent_gateway::options::{DataArgs, WidgetArgs};
use docent_lifecycle::{Lifecycle, LifecycleOptions};

/// Where the bots and the data live, and who is acting.
#[derive(Args, Clone)]
pub(crate) struct Env {
    #[command(flatten)]
    pub(crate) paths: DataArgs,
    /// The widget build the gateway serves (for the snippet's integrity hash).
    #[command(flatten)]
    pub(crate) widget: WidgetArgs,
    /// Who is acting, for the audit log (default: $USER).
    #[arg(long, env = "DOCENT_ACTOR")]
    pub(crate) actor: Option<String>,
    /// The gateway's public base URL, for the integration code.
    #[arg(long, env = "DOCENT_PUBLIC_URL", default_value = "http://127.0.0.1:8080")]
    pub(crate) public_url: String,
    /// Let webhooks (deploy notices, `report --send`) reach loopback and private addresses.
    #[arg(long, env = "DOCENT_FETCH_PRIVATE")]
    pub(crate) fetch_private: bool,
}

impl Env {
    pub(crate) fn actor(&self) -> String {
        self.actor
            .clone()
            .or_else(|| std::env::var("USER").ok())
            .filter(|actor| !actor.trim().is_empty())
            .unwrap_or_else(|| "unknown".to_owned())
    }

    pub(crate) fn options(&self) -> anyhow::Result<LifecycleOptions> {
        let mut options = self.paths.lifecycle_options()?;
        options.public_url = self.public_url.trim_end_matches('/').to_owned();
        // Without a widget build the snippet simply has no integrity attribute.
        options.widget_bundle = self.widget.load().ok().map(|assets| Arc::new(assets.bundle_js.plain.to_vec()));
        Ok(options)
    }

    /// The lifecycle, announcing its deploys, rollbacks and status changes (deploy notices).
    pub(crate) fn open(&self) -> anyhow::Result<Lifecycle> {
        let options = self.options()?;
        let location = options.location();
        let lifecycle = Lifecycle::open(options).with_context(|| format!("cannot open {location}"))?;
        docent_gateway::deploy_notices::install(&lifecycle, self.fetch_private);
        Ok(lifecycle)
    }
}

#[derive(Subcommand)]
pub(crate) enum AccessCommand {
    /// Make the bot public (anyone on its allowed origins) or internal (staff only).
    Visibility {
        #[arg(value_parser = ["public", "internal"])]
        visibility: String,
    },
    /// Set the staff password, read from standard input (one line).
    Password {
        /// Remove the password instead.
        #[arg(long)]
        remove: bool,
    },
    /// Access tokens: bearer tokens for scripts and tools.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Make the secret your website's backend signs staff tokens with (JWT HS256), printed
    /// once; a new one replaces the old.
    SiteSecret {
        /// Remove the secret instead: site-signed tokens stop working.
        #[arg(long)]
        remove: bool,
    },
}

#[derive(Subcommand)]
pub(crate) enum TokenCommand {
    /// Create a token; it is printed once and stored only as a hash.
    Create {
        name: String,
        /// Expiry (UTC), e.g. 2027-01-31 or +30d.
        #[arg(long)]
        expires: Option<String>,
    },
    List,
    Revoke {
        name: String,
    },
}

#[derive(Subcommand)]
pub(crate) enum PlanCommand {
    /// Set the plan's limits; a limit left out is unlimited.
    Set {
        #[arg(long, default_value = "custom")]
        name: String,
        /// Messages per calendar month (UTC).
        #[arg(long)]
        messages: Option<u64>,
        /// Knowledge storage: bytes, or with a unit (500KB, 50MB, 1GiB).
        #[arg(long, value_parser = parse_bytes)]
        storage: Option<u64>,
        /// Expiry (UTC), e.g. 2027-01-31.
        #[arg(long)]
        expires: Option<String>,
    },
    /// The plan and this month's use.
    Show,
    /// Remove the plan: no limits.
    Remove,
}

#[derive(Subcommand)]
pub(crate) enum AdminCommand {
    /// Admin tokens for the console and the admin API.
    Token {
        #[command(subcommand)]
        command: AdminTokenCommand,
    },
}

#[derive(Subcommand)]
pub(crate) enum AdminTokenCommand {
    /// Create a token for every bot, or for one with --bot; printed once.
    Create {
        name: String,
        #[arg(long)]
        bot: Option<String>,
    },
    List,
    Revoke {
        name: String,
    },
}

/// `500`, `500B`, `64KB`, `50MB`, `2GB` (powers of 1000) or `64KiB`, `50MiB`, `1GiB` (powers of 1024).
fn parse_bytes(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().map_err(|_| format!("`{text}` is not a size: use bytes or 50MB, 1GiB"))?;
    let factor: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        "kib" => 1 << 10,
        "mib" => 1 << 20,
        "gib" => 1 << 30,
        _ => return Err(format!("`{text}`: the unit is B, KB, MB, GB, KiB, MiB or GiB")),
    };
    number.checked_mul(factor).ok_or_else(|| format!("`{text}` is too large"))
}
