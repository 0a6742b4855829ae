//! `docent access | plan | admin | audit | backup | restore`: run-time settings kept in the store.

use std::io::BufRead;
use std::path::Path;

use anyhow::{Context, bail};
use docent_lifecycle::store::{Plan, Visibility};
use docent_lifecycle::{Lifecycle, when};

use super::{AccessCommand, AdminCommand, AdminTokenCommand, Env, PlanCommand, TokenCommand};

fn parse_time(flag: &str, text: &str) -> anyhow::Result<i64> {
    when::parse(text, when::now()).map_err(|err| anyhow::anyhow!("{flag} {err}"))
}

pub(crate) fn access(env: &Env, bot: &str, command: AccessCommand) -> anyhow::Result<()> {
    let lifecycle = env.open()?;
    let actor = env.actor();
    match command {
        AccessCommand::Visibility { visibility } => {
            let value = if visibility == "public" { Visibility::Public } else { Visibility::Internal };
            lifecycle.set_visibility(bot, value, &actor)?;
            println!("{bot}: {visibility} (live within a second)");
        }
        AccessCommand::Password { remove: true } => {
            lifecycle.set_password(bot, None, &actor)?;
            println!("{bot}: password removed");
        }
        AccessCommand::Password { remove: false } => {
            eprintln!("reading the new password from standard input (one line)");
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line).context("cannot read standard input")?;
            let password = line.trim_end_matches(['\r', '\n']);
            if password.is_empty() {
                bail!("the password is empty");
            }
            lifecycle.set_password(bot, Some(password), &actor)?;
            println!("{bot}: password set (stored as an argon2id hash)");
        }
        AccessCommand::SiteSecret { remove: true } => {
            lifecycle.remove_site_secret(bot, &actor)?;
            println!("{bot}: site secret removed");
        }
        AccessCommand::SiteSecret { remove: false } => {
            let secret = lifecycle.create_site_secret(bot, &actor)?;
            eprintln!("site secret for {bot} (shown once; keep it on your server, never in a page):");
            println!("{secret}");
        }
        AccessCommand::Token { command: TokenCommand::Create { name, expires } } => {
            let expires = expires.map(|text| parse_time("--expires", &text)).transpose()?;
            let token = lifecycle.create_token(bot, &name, expires, &actor)?;
            eprintln!("access token \"{name}\" for {bot} (shown once; only its hash is kept):");
            println!("{token}");
        }
        AccessCommand::Token { command: TokenCommand::List } => {
            let now = when::now();
            for token in lifecycle.list_tokens(bot)? {
                let state = match (token.revoked_at, token.expires_at) {
                    (Some(at), _) => format!("revoked {}", when::format(at)),
                    (None, Some(at)) if at <= now => format!("expired {}", when::format(at)),
                    (None, Some(at)) => format!("valid until {}", when::format(at)),
                    (None, None) => "valid".to_owned(),
                };
                println!("  {:<20} created {}  {state}", token.name, when::format(token.created_at));
            }
        }
        AccessCommand::Token { command: TokenCommand::Revoke { name } } => {
            lifecycle.revoke_token(bot, &name, &actor)?;
            println!("{bot}: token \"{name}\" revoked");
        }
    }
    Ok(())
}

pub(crate) fn plan(env: &Env, bot: &str, command: PlanCommand) -> anyhow::Result<()> {
    let lifecycle = env.open()?;
    match command {
        PlanCommand::Set { name, messages, storage, expires } => {
            let expires_at = expires.map(|text| parse_time("--expires", &text)).transpose()?;
            let plan = Plan { name, messages_per_month: messages, storage_bytes: storage, expires_at };
            lifecycle.set_plan(bot, Some(&plan), &env.actor())?;
            println!("{bot}: plan set");
        }
        PlanCommand::Remove => {
            lifecycle.set_plan(bot, None, &env.actor())?;
            println!("{bot}: plan removed (no limits)");
        }
        PlanCommand::Show => {}
    }
    let report = lifecycle.plan(bot, when::now())?;
    match &report.plan {
        None => println!("{bot}: no plan (no limits); {} messages in {}", report.used, report.month),
        Some(plan) => {
            let limit = plan.messages_per_month.map_or("unlimited".to_owned(), |n| n.to_string());
            println!("{bot}: plan \"{}\"", plan.name);
            println!("  messages: {} of {limit} used in {}", report.used, report.month);
            println!("  storage:  {}", plan.storage_bytes.map_or("unlimited".to_owned(), |n| format!("{n} bytes")));
            println!("  expires:  {}", plan.expires_at.map_or("never".to_owned(), when::format));
        }
    }
    Ok(())
}

pub(crate) fn admin(env: &Env, command: AdminCommand) -> anyhow::Result<()> {
    let lifecycle = env.open()?;
    let AdminCommand::Token { command } = command;
    match command {
        AdminTokenCommand::Create { name, bot } => {
            let token = lifecycle.create_admin_token(&name, bot.as_deref(), &env.actor())?;
            eprintln!(
                "admin token \"{name}\" for {} (shown once; only its hash is kept):",
                bot.as_deref().unwrap_or("all bots")
            );
            println!("{token}");
        }
        AdminTokenCommand::List => {
            for token in lifecycle.list_admin_tokens()? {
                let scope = match &token.scope {
                    docent_lifecycle::store::Scope::All => "all bots".to_owned(),
                    docent_lifecycle::store::Scope::Bot(bot) => format!("bot {bot}"),
                };
                let state = token.revoked_at.map_or("valid".to_owned(), |at| format!("revoked {}", when::format(at)));
                println!("  {:<20} {scope:<20} created {}  {state}", token.name, when::format(token.created_at));
            }
        }
        AdminTokenCommand::Revoke { name } => {
            lifecycle.revoke_admin_token(&name, &env.actor())?;
            println!("admin token \"{name}\" revoked");
        }
    }
    Ok(())
}

pub(crate) fn audit(env: &Env, bot: Option<&str>, limit: usize) -> anyhow::Result<()> {
    for entry in env.open()?.store().audit_log(bot, limit)? {
        println!(
            "{}  {:<12} {:<14} {:<22} {}",
            when::format(entry.at),
            entry.actor,
            entry.bot.unwrap_or_default(),
            entry.action,
            entry.detail
        );
    }
    Ok(())
}

pub(crate) fn backup(env: &Env, file: &Path, verify: bool) -> anyhow::Result<()> {
    let report = if verify { Lifecycle::verify_backup(file, &env.options()?)? } else { env.open()?.backup(file)? };
    let verb = if verify { "verified" } else { "written" };
    println!("backup {} {verb} ({} bytes)", report.file.display(), report.bytes);
    for (bot, live, qa_pairs) in report.bots {
        match (live, verify) {
            (Some(live), true) => println!("  {bot}: generation {live} opens ({qa_pairs} Q&As)"),
            (Some(live), false) => println!("  {bot}: generation {live}"),
            (None, _) => println!("  {bot}: never deployed"),
        }
    }
    Ok(())
}

pub(crate) fn restore(env: &Env, file: &Path) -> anyhow::Result<()> {
    let report = Lifecycle::restore(file, env.options()?)?;
    println!("restored {} into {}", report.file.display(), env.paths.data.display());
    for (bot, live, _) in report.bots {
        println!("  {bot}: {}", live.map_or("never deployed".to_owned(), |n| format!("generation {n} live")));
    }
    Ok(())
}
