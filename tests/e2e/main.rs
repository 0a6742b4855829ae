//! End-to-end tests: the real gateway and demo site on loopback sockets, over HTTP and in headless Chromium.

mod browser;
mod http_api;
mod tidy;
