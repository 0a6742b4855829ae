//! A bot's life from its sources to live answers: `bot.toml`, checks, training, tests, deploys,
//! rollback, schedules, plans and access. No HTTP: the CLI and the admin API both call in here.

pub mod config;
pub mod origin;
