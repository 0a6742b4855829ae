//! The Docent gateway: serves the widget, enforces each bot's CORS allowlist and staff access, and answers.
//!
//! Only this crate touches sockets. It serves what the store says is live
//! through [`live`], turns requests into responses in [`http`] (errors become
//! HTTP in one place, [`http::error_response`]) and runs them on hyper in
//! [`server`], started by [`serve`].

pub mod alerts;
pub mod assets;
pub mod auth;
pub mod demo_page;
pub mod deploy_notices;
pub mod doctor;
pub mod error;
pub mod fetch;
pub mod hotfix;
mod html;
pub mod http;
pub mod import;
pub mod live;
pub mod metrics;
pub mod monitor;
pub mod notify;
pub mod options;
pub mod recorder;
pub mod report_delivery;
pub mod serve;
pub mod server;
pub mod tls;
pub mod watch;
pub mod widget_text;
