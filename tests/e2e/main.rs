//! End-to-end tests: the real gateway and demo site on loopback sockets, over HTTP and in headless Chromium.

mod browser;
mod console;
mod deploy;
mod http_api;
mod tidy;
