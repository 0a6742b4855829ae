//! End-to-end tests: the real gateway and demo site on loopback sockets, over HTTP and in headless Chromium.

mod api_fuzz;
mod browser;
mod cdn;
mod console;
mod deploy;
mod doctor;
mod edge_guard;
mod http_api;
mod kb_import;
mod limits;
mod monitoring;
mod replicas;
mod restart;
mod store_postgres;
mod tidy;
mod tls;
