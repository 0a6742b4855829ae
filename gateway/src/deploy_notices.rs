//! Deploy notices: every deploy, failed deploy, rollback, activation and deactivation of a bot
//! is announced on its alert channels (who, what, which generation, the bot's console page).
//!
//! The lifecycle reports each change to a hook ([`docent_lifecycle::change`]); [`install`]
//! makes this module that hook, in `docent serve` and in every CLI command that opens the
//! data directory, so a change is announced once whoever made it: the CLI, the console, the
//! admin API or the schedule runner. Inside a runtime (a gateway) the notices are sent on it
//! and the change does not wait; without one (the CLI) they are sent before the command
//! returns, each within [`notify::SEND_TIMEOUT`]. A failed send is logged and recorded in the
//! bot's logs by channel label; it never fails the change, which is already done.

use std::sync::Arc;

use docent_lifecycle::when::{self, now};
use docent_lifecycle::{Change, ChangeKind, Lifecycle};
use docent_store::{LogLevel, LogRecord};

use crate::alerts::settings_of;
use crate::notify::{self, Channel, Notice};

/// The longest a failure reason quoted in a notice may be, in characters.
const REASON_CHARS: usize = 600;

/// Makes deploy notices the lifecycle's change hook. `allow_private`: whether webhooks may
/// reach loopback and private addresses (`--fetch-private`).
pub fn install(lifecycle: &Lifecycle, allow_private: bool) {
    lifecycle.set_change_hook(Arc::new(move |lifecycle: &Lifecycle, change: &Change| {
        announce(lifecycle, change, allow_private);
    }));
}

/// What a change's notice says.
pub fn notice(change: &Change, console: &str) -> Notice {
    let generation = |number: Option<u64>| number.map_or("none".to_owned(), |number| number.to_string());
    let (event, headline, generation_now) = match &change.kind {
        ChangeKind::Deployed { generation: number, previous, update, hotfix } => (
            "deploy",
            format!(
                "generation {number} deployed{} ({}; was {})",
                if *hotfix { " as a hotfix" } else { "" },
                match update {
                    docent_lifecycle::UpdateKind::First => "first deploy",
                    docent_lifecycle::UpdateKind::Complete => "knowledge updated",
                    docent_lifecycle::UpdateKind::Quick => "settings only",
                    docent_lifecycle::UpdateKind::Unchanged => "unchanged",
                },
                generation(*previous)
            ),
            Some(*number),
        ),
        ChangeKind::DeployFailed { live, .. } => {
            ("deploy_failed", format!("deploy failed; generation {} stays live", generation(*live)), *live)
        }
        ChangeKind::RolledBack { generation: number, previous } => {
            ("rollback", format!("rolled back to generation {number} (was {})", generation(*previous)), Some(*number))
        }
        ChangeKind::Activated { live } => ("activate", format!("activated (generation {})", generation(*live)), *live),
        ChangeKind::Deactivated { live } => {
            ("deactivate", format!("deactivated: answers 503 bot_offline (generation {})", generation(*live)), *live)
        }
    };
    let page = format!("{}/admin/bots/{}", console.trim_end_matches('/'), change.bot);
    let mut text = format!("{headline} by {} at {}.", change.actor, when::format(change.at));
    if let ChangeKind::DeployFailed { reason, .. } = &change.kind {
        let short: String = reason.chars().take(REASON_CHARS).collect();
        let cut = if short.len() < reason.len() { " …" } else { "" };
        text.push_str(&format!("\n{short}{cut}"));
    }
    text.push_str(&format!("\nBot page: {page}"));
    Notice {
        subject: format!("[docent] {}: {headline}", change.bot),
        text,
        html: None,
        attachments: Vec::new(),
        data: serde_json::json!({
            "bot": change.bot,
            "event": event,
            "actor": change.actor,
            "at": change.at,
            "generation": generation_now,
            "change": change.kind,
            "console": page,
        }),
    }
}

/// Sends the notice of `change` to the bot's channels (no SMS: deploy notices are not critical).
fn announce(lifecycle: &Lifecycle, change: &Change, allow_private: bool) {
    let channels: Vec<Channel> = match settings_of(lifecycle.store(), &change.bot) {
        Ok(settings) => settings.channels.into_iter().filter(|channel| channel.takes(false)).collect(),
        Err(err) => {
            tracing::error!(bot = %change.bot, %err, "cannot read alert settings for a deploy notice");
            return;
        }
    };
    if channels.is_empty() {
        return;
    }
    let notice = notice(change, &lifecycle.options().public_url);
    let bot = change.bot.clone();
    let sending = async move {
        let mut sends = tokio::task::JoinSet::new();
        let notice = Arc::new(notice);
        for channel in channels {
            let notice = Arc::clone(&notice);
            sends.spawn(async move { (channel.label(), notify::send(&channel, &notice, allow_private).await) });
        }
        let mut failures = Vec::new();
        while let Some(done) = sends.join_next().await {
            match done {
                Ok((_, Ok(()))) => {}
                Ok((label, Err(err))) => failures.push(format!("deploy notice to {label} failed: {err}")),
                Err(err) => failures.push(format!("a deploy notice task failed: {err}")),
            }
        }
        failures
    };
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => {
            let store = lifecycle.store_handle();
            runtime.spawn(async move {
                let failures = sending.await;
                let _ = tokio::task::spawn_blocking(move || record_failures(store.as_ref(), &bot, failures)).await;
            });
        }
        Err(_) => {
            let failures = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                Ok(runtime) => runtime.block_on(sending),
                Err(err) => vec![format!("cannot start a runtime for deploy notices: {err}")],
            };
            record_failures(lifecycle.store(), &bot, failures);
        }
    }
}

fn record_failures(store: &dyn docent_store::Store, bot: &str, failures: Vec<String>) {
    for message in failures {
        tracing::error!(%bot, "{message}");
        let record = LogRecord { at: now(), level: LogLevel::Error, bot: Some(bot.to_owned()), message };
        if let Err(err) = store.add_log(&record) {
            tracing::error!(%bot, %err, "cannot record a failed deploy notice");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_say_who_did_what_to_which_generation() {
        let change = |kind| Change { bot: "acme".into(), actor: "alice".into(), at: 1_790_000_000, kind };
        for (kind, subject, event) in [
            (
                ChangeKind::Deployed {
                    generation: 4,
                    previous: Some(3),
                    update: docent_lifecycle::UpdateKind::Complete,
                    hotfix: false,
                },
                "[docent] acme: generation 4 deployed (knowledge updated; was 3)",
                "deploy",
            ),
            (
                ChangeKind::Deployed {
                    generation: 5,
                    previous: Some(4),
                    update: docent_lifecycle::UpdateKind::Quick,
                    hotfix: true,
                },
                "[docent] acme: generation 5 deployed as a hotfix (settings only; was 4)",
                "deploy",
            ),
            (
                ChangeKind::DeployFailed { live: Some(3), reason: "x".repeat(2000) },
                "[docent] acme: deploy failed; generation 3 stays live",
                "deploy_failed",
            ),
            (
                ChangeKind::RolledBack { generation: 2, previous: Some(4) },
                "[docent] acme: rolled back to generation 2 (was 4)",
                "rollback",
            ),
            (ChangeKind::Activated { live: None }, "[docent] acme: activated (generation none)", "activate"),
        ] {
            let notice = notice(&change(kind), "https://docent.example/");
            assert_eq!(notice.subject, subject);
            assert!(notice.text.contains(" by alice at "), "{}", notice.text);
            assert!(notice.text.ends_with("\nBot page: https://docent.example/admin/bots/acme"), "{}", notice.text);
            assert!(notice.text.chars().count() < 800, "a long reason is cut: {}", notice.text.len());
            assert_eq!(notice.data["event"], event);
        }
    }
}
