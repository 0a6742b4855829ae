//! Fuzzes `bot.toml` parsing: any text gives a config or an error naming the problem, never
//! a panic.
#![no_main]

use std::path::Path;

use docent_lifecycle::config;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Err(err) = config::parse(Path::new("bots/fuzz/bot.toml"), "fuzz", text) {
        assert!(!err.to_string().is_empty());
    }
});
