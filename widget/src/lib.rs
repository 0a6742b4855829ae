//! Docent's chat widget: the WebAssembly that `bundle.js` loads into a customer's page.
//!
//! `bundle.js` instantiates this module and calls [`boot`] once. Everything the
//! widget draws lives in the shadow root of a single host element, styled by a
//! constructable stylesheet, so the host page is otherwise left untouched.

mod api;
mod chat;
mod dom;
mod login;
mod style;
mod view;

use wasm_bindgen::prelude::wasm_bindgen;

/// Starts the widget of `bot`, whose gateway lives at `gateway` (an absolute URL).
///
/// Returns at once and never throws: the work goes on asynchronously, and every
/// failure ends up on the console as a `docent: …` error.
#[wasm_bindgen]
pub fn boot(bot: String, gateway: String) {
    js_sys::futures::spawn_local(async move {
        if let Err(err) = view::start(bot, gateway).await {
            dom::console_error_with("docent: the widget could not start:", &err);
        }
    });
}
