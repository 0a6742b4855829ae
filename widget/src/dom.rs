//! Small DOM helpers: element creation with text nodes only, event listeners, safe links, console.

use gloo_events::{EventListener, EventListenerOptions};
use js_sys::Promise;
use wasm_bindgen::{JsCast, JsValue, UnwrapThrowExt};
use web_sys::{Document, Element, Event, EventTarget, HtmlElement, Node};

/// Logs `message` and the JavaScript error `err` with `console.error`.
pub(crate) fn console_error_with(message: &str, err: &JsValue) {
    web_sys::console::error_2(&JsValue::from_str(message), err);
}

/// Logs `message` alone with `console.error`.
pub(crate) fn console_error(message: &str) {
    web_sys::console::error_1(&JsValue::from_str(message));
}

/// A JavaScript error value carrying `message`, for `Result<_, JsValue>` paths.
pub(crate) fn error(message: &str) -> JsValue {
    js_sys::Error::new(message).into()
}

/// A new `<tag class="…">`, typed as an [`HtmlElement`] subtype `T`.
///
/// Callers pick `T` to match `tag`, which the DOM guarantees for elements it creates.
/// A DOM that cannot create a `div` is beyond repair: that throws, and the widget's start fails.
pub(crate) fn create<T: JsCast>(doc: &Document, tag: &str, class: &str) -> T {
    element(doc, tag, class).unchecked_into()
}

#[inline(never)]
fn element(doc: &Document, tag: &str, class: &str) -> Element {
    let element = doc.create_element(tag).unwrap_throw();
    if !class.is_empty() {
        element.set_class_name(class);
    }
    element
}

/// A new `<tag class="…">` whose only child is a text node with `text`, typed as `T`.
pub(crate) fn text<T: JsCast>(doc: &Document, tag: &str, class: &str, text: &str) -> T {
    let element: Element = create(doc, tag, class);
    element.set_text_content(Some(text));
    element.unchecked_into()
}

/// Appends `child` to `parent`. Between nodes the widget made, this cannot fail; one call
/// site instead of a `Result` at each of the widget's many appends.
#[inline(never)]
pub(crate) fn append(parent: &Node, child: &Node) {
    let _ = parent.append_child(child);
}

/// Sets several attributes on `element`.
/// The names are the widget's own, valid attribute names, which cannot fail.
#[inline(never)]
pub(crate) fn attrs(element: &Element, pairs: &[(&str, &str)]) {
    for (name, value) in pairs {
        let _ = element.set_attribute(name, value);
    }
}

/// A link `<a class="…">` to `href` in a new tab, or a `<span class="…">` when
/// there is no safe `href`; `label` always goes in as text.
pub(crate) fn link<T: JsCast>(doc: &Document, class: &str, label: &str, href: Option<&str>) -> T {
    match href {
        Some(href) => {
            let anchor: Element = text(doc, "a", class, label);
            attrs(&anchor, &[("href", href), ("target", "_blank"), ("rel", "noopener noreferrer")]);
            anchor.unchecked_into()
        }
        None => text(doc, "span", class, label),
    }
}

/// `raw` as an absolute URL, if the browser parses it and its scheme is one of `protocols`
/// (each with its colon, as `URL.protocol` spells it).
pub(crate) fn safe_href(raw: &str, protocols: &[&str]) -> Option<String> {
    let url = web_sys::Url::new(raw).ok()?;
    let protocol = url.protocol();
    protocols.contains(&protocol.as_str()).then(|| url.href())
}

/// Calls `handler` on every `kind` event that reaches `target`, until the returned listener is dropped.
/// The listener is not passive: handlers may call `preventDefault()`.
pub(crate) fn on(target: &EventTarget, kind: &'static str, handler: impl FnMut(&Event) + 'static) -> EventListener {
    EventListener::new_with_options(target, kind, EventListenerOptions::enable_prevent_default(), handler)
}

/// The page's `<body>`, waiting for `DOMContentLoaded` if the parser has not reached it yet.
pub(crate) async fn body(doc: &Document) -> Result<HtmlElement, JsValue> {
    if doc.body().is_none() && doc.ready_state() == "loading" {
        let mut listening = Ok(());
        let parsed = Promise::new(&mut |resolve, _reject| {
            listening = doc.add_event_listener_with_callback("DOMContentLoaded", &resolve);
        });
        listening?;
        parsed.await?;
    }
    doc.body().ok_or_else(|| error("the page has no <body>"))
}
