//! Small DOM helpers: element creation with text nodes only, event listeners, safe links, console.

use js_sys::Promise;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Document, Element, Event, EventTarget, HtmlElement};

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
pub(crate) fn create<T: JsCast>(doc: &Document, tag: &str, class: &str) -> Result<T, JsValue> {
    let element = doc.create_element(tag)?;
    if !class.is_empty() {
        element.set_class_name(class);
    }
    Ok(element.unchecked_into())
}

/// A new `<tag class="…">` whose only child is a text node with `text`, typed as `T`.
pub(crate) fn text<T: JsCast>(doc: &Document, tag: &str, class: &str, text: &str) -> Result<T, JsValue> {
    let element: Element = create(doc, tag, class)?;
    element.set_text_content(Some(text));
    Ok(element.unchecked_into())
}

/// Sets several attributes on `element`.
pub(crate) fn attrs(element: &Element, pairs: &[(&str, &str)]) -> Result<(), JsValue> {
    for (name, value) in pairs {
        element.set_attribute(name, value)?;
    }
    Ok(())
}

/// A link `<a class="…">` to `href` in a new tab, or a `<span class="…">` when
/// there is no safe `href`; `label` always goes in as text.
pub(crate) fn link<T: JsCast>(doc: &Document, class: &str, label: &str, href: Option<&str>) -> Result<T, JsValue> {
    match href {
        Some(href) => {
            let anchor: Element = text(doc, "a", class, label)?;
            attrs(&anchor, &[("href", href), ("target", "_blank"), ("rel", "noopener noreferrer")])?;
            Ok(anchor.unchecked_into())
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

/// Calls `handler` on every `kind` event that reaches `target`, for the life of the page.
pub(crate) fn on(target: &EventTarget, kind: &str, handler: impl FnMut(Event) + 'static) -> Result<(), JsValue> {
    let callback = Closure::<dyn FnMut(Event)>::new(handler).into_js_value();
    target.add_event_listener_with_callback(kind, callback.unchecked_ref())
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

/// Whether an element on the page already hosts the widget of `bot`.
pub(crate) fn hosted(doc: &Document, bot: &str) -> Result<bool, JsValue> {
    let hosts = doc.query_selector_all("[data-docent-bot]")?;
    Ok((0..hosts.length()).any(|index| {
        hosts
            .item(index)
            .and_then(|node| node.dyn_into::<Element>().ok())
            .and_then(|host| host.get_attribute("data-docent-bot"))
            .is_some_and(|name| name == bot)
    }))
}
