//! Crash points for fault tests: `DOCENT_FAILPOINT=<name>` aborts the process when it reaches `<name>`.
//!
//! Always compiled in: one environment read, once. The names are the moments a deploy
//! can die at: see [`POINTS`].

use std::sync::OnceLock;

/// Every failpoint, in the order a deploy reaches them.
pub const POINTS: &[&str] =
    &["starting", "loading", "built", "renamed", "recorded", "updating", "testing", "activating", "activated"];

/// Aborts the process (as `kill -9` would stop it: no destructors, no cleanup) if `name` is armed.
pub fn hit(name: &str) {
    static ARMED: OnceLock<Option<String>> = OnceLock::new();
    if ARMED.get_or_init(|| std::env::var("DOCENT_FAILPOINT").ok()).as_deref() == Some(name) {
        eprintln!("failpoint {name}: aborting");
        std::process::abort();
    }
}
