//! End-to-end tests: the real gateway and demo site on loopback sockets, over HTTP and in headless Chromium.

mod alerts;
mod api_fuzz;
mod browser;
mod cdn;
mod console;
mod continuous_tests;
mod deploy;
mod deploy_notices;
mod doctor;
mod edge_guard;
mod hotfix;
mod http_api;
mod kb_import;
mod limits;
mod monitoring;
mod replica_artifacts;
mod replicas;
mod replicas_proxy;
mod reports;
mod restart;
mod store_postgres;
mod tidy;
mod tls;
