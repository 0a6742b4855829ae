//! Docent's chat widget: the WebAssembly that `bundle.js` loads into a customer's page.
//!
//! `bundle.js` instantiates this module once per page, calls [`boot`] for each bot whose
//! snippet is on the page, and forwards the page's `window.Docent` calls to [`command`].
//! Everything the widget draws lives in the shadow root of one host element per bot,
//! styled by a constructable stylesheet, so the host page is otherwise left untouched.

mod api;
mod app;
mod chat;
mod dom;
mod login;
mod markdown;
mod style;
mod text;
mod view;

use wasm_bindgen::JsValue;

/// A free-list allocator: dlmalloc, std's default, is a tenth of the widget's download.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: lol_alloc::LockedAllocator<lol_alloc::FreeListAllocator> =
    lol_alloc::LockedAllocator::new(lol_alloc::FreeListAllocator::new());
use wasm_bindgen::prelude::wasm_bindgen;

/// Starts the widget of `bot`, whose gateway lives at `gateway` (an absolute URL);
/// `emit(event, bot, detail)` reaches the page's `Docent.on` handlers, and `config()` returns the
/// promise of bundle.js's `fetch` of the bot's configuration in the page's language.
///
/// Returns at once and never throws: the work goes on asynchronously, and every
/// failure ends up on the console as a `docent: …` error.
#[wasm_bindgen]
pub fn boot(bot: String, gateway: String, emit: js_sys::Function, config: JsValue) {
    js_sys::futures::spawn_local(async move {
        if let Err(err) = app::start(bot, gateway, emit, config).await {
            dom::console_error_with("docent: the widget could not start:", &err);
        }
    });
}

/// Runs `Docent.{action}(argument)` on the widget of `bot`, or on the first widget when `bot` is empty.
#[wasm_bindgen]
pub fn command(bot: &str, action: &str, argument: JsValue) {
    app::report(app::command(bot, action, &argument));
}
