//! Fuzzes the request path: an arbitrary method, path, headers and body go through the
//! gateway's router (no socket) with no bot deployed, and always get a response.
#![no_main]

use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use docent_gateway::assets::WidgetAssets;
use docent_gateway::http::{AppState, handle};
use docent_gateway::serve::app_state;
use docent_lifecycle::{Lifecycle, LifecycleOptions};
use http_body_util::Full;
use hyper::Request;
use libfuzzer_sys::fuzz_target;

fn state() -> &'static AppState {
    static STATE: OnceLock<AppState> = OnceLock::new();
    STATE.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("docent-fuzz-{}", std::process::id()));
        let lifecycle = Lifecycle::open(LifecycleOptions::new(dir.join("data"), dir.join("bots")))
            .expect("a lifecycle in a temporary folder");
        let widget = concat!(env!("CARGO_MANIFEST_DIR"), "/../target/widget-dist");
        let assets = WidgetAssets::from_dir(std::path::Path::new(widget)).expect("the widget, built by `cargo xtask widget`");
        app_state(Arc::new(lifecycle), assets).expect("the gateway's state")
    })
}

fuzz_target!(|input: (&str, &str, Vec<(&str, &str)>, &[u8])| {
    let (method, path, headers, body) = input;
    let mut request = Request::builder().method(method).uri(path);
    for (name, value) in headers {
        request = request.header(name, value);
    }
    let Ok(request) = request.body(Full::new(Bytes::copy_from_slice(body))) else { return };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    let response = runtime.block_on(handle(state(), request, IpAddr::V4(Ipv4Addr::LOCALHOST)));
    assert!(response.status().as_u16() >= 200);
});
