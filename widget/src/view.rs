//! The widget's frame: host element and shadow root, launcher, and the panel with its header.
//!
//! It knows nothing of what the panel shows: the conversation and the sign-in form put
//! themselves in [`Frame::body`], and `app` wires the buttons to what they do.

use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Document, Element, HtmlElement, KeyboardEvent, Node, ShadowRoot, ShadowRootInit, ShadowRootMode};

use crate::text::{Strings, Text};
use crate::{dom, style};

/// The panel covers the whole viewport below these sizes; it is then a modal dialog.
const FULL_SCREEN: &str = "(max-width: 480px), (max-height: 500px)";

/// How the widget looks, from the bot's configuration.
pub(crate) struct Look<'a> {
    pub(crate) title: &'a str,
    pub(crate) launcher_label: &'a str,
    pub(crate) left: bool,
    pub(crate) accent: &'a str,
    /// `auto`, `light` or `dark`.
    pub(crate) theme: &'a str,
    /// How many widgets are already on the page: this one's launcher stacks above theirs (up to 9).
    pub(crate) stack: u32,
}

/// The host element, its shadow root and the frame's elements.
pub(crate) struct Frame {
    pub(crate) host: HtmlElement,
    pub(crate) shadow: ShadowRoot,
    pub(crate) panel: HtmlElement,
    pub(crate) launcher: HtmlElement,
    pub(crate) close: HtmlElement,
    pub(crate) new_conversation: HtmlElement,
    /// Where the panel's content goes.
    pub(crate) body: Element,
}

impl Frame {
    /// Builds the host and its shadow tree for `bot`, detached from the page.
    pub(crate) fn build(doc: &Document, bot: &str, look: &Look, strings: &Strings) -> Result<Frame, JsValue> {
        let host: HtmlElement = dom::create(doc, "div", "");
        dom::attrs(&host, &[("data-docent-bot", bot)]);
        let shadow = host.attach_shadow(&ShadowRootInit::new(ShadowRootMode::Open))?;
        style::adopt(&shadow)?;
        let root: HtmlElement = dom::create(doc, "div", "docent-root");
        dom::attrs(
            &root,
            &[
                ("data-position", if look.left { "left" } else { "right" }),
                ("data-theme", look.theme),
                ("lang", &strings.language),
                ("dir", &strings.dir),
            ],
        );
        style::set_accent(&root, look.accent)?;
        // `calc(N * step)` in the stylesheet: a digit spares the wasm number formatting.
        let stack = char::from_digit(look.stack.min(9), 10).unwrap_or('0');
        root.style().set_property("--docent-stack", stack.encode_utf8(&mut [0; 4]))?;

        let launcher: HtmlElement = dom::create(doc, "button", "docent-launcher");
        dom::attrs(
            &launcher,
            &[
                ("type", "button"),
                ("aria-label", look.launcher_label),
                ("aria-haspopup", "dialog"),
                ("aria-expanded", "false"),
                ("aria-controls", "docent-panel"),
            ],
        );
        let icon: Element = dom::create(doc, "span", "docent-launcher-icon");
        dom::attrs(&icon, &[("aria-hidden", "true")]);
        dom::append(&launcher, &icon);
        dom::append(&launcher, &dom::text::<Node>(doc, "span", "docent-launcher-label", look.launcher_label));

        let panel: HtmlElement = dom::create(doc, "div", "docent-panel");
        dom::attrs(&panel, &[("id", "docent-panel"), ("role", "dialog"), ("aria-label", look.title)]);
        panel.set_hidden(true);
        let header: Element = dom::create(doc, "div", "docent-header");
        dom::append(&header, &dom::text::<Node>(doc, "span", "docent-title", look.title));
        let new_conversation: HtmlElement = dom::create(doc, "button", "docent-new");
        dom::attrs(&new_conversation, &[("type", "button"), ("aria-label", strings.get(Text::NewConversation))]);
        new_conversation.set_text_content(Some("+"));
        new_conversation.set_title(strings.get(Text::NewConversation));
        new_conversation.set_hidden(true);
        let close: HtmlElement = dom::create(doc, "button", "docent-close");
        dom::attrs(&close, &[("type", "button"), ("aria-label", strings.get(Text::Close))]);
        close.set_text_content(Some("\u{d7}"));
        dom::append(&header, &new_conversation);
        dom::append(&header, &close);
        dom::append(&panel, &header);
        let body: Element = dom::create(doc, "div", "docent-body");
        dom::append(&panel, &body);
        dom::append(&root, &launcher);
        dom::append(&root, &panel);
        dom::append(&shadow, &root);
        Ok(Frame { host, shadow, panel, launcher, close, new_conversation, body })
    }

    /// Shows `state` (`chat`, `login`, `not-available`, `offline`) in the panel.
    pub(crate) fn set_state(&self, state: &str) -> Result<(), JsValue> {
        self.panel.set_attribute("data-state", state)
    }

    /// The panel's current state.
    pub(crate) fn state(&self) -> String {
        self.panel.get_attribute("data-state").unwrap_or_default()
    }

    pub(crate) fn is_open(&self) -> bool {
        !self.panel.hidden()
    }

    /// Opens the panel; when it covers the page, it becomes modal and the page stops scrolling.
    pub(crate) fn open(&self) -> Result<(), JsValue> {
        self.panel.set_hidden(false);
        dom::attrs(&self.launcher, &[("aria-expanded", "true")]);
        if full_screen() {
            dom::attrs(&self.panel, &[("aria-modal", "true")]);
            set_page_scroll(false)?;
        }
        Ok(())
    }

    /// Closes the panel and gives the page its scrolling back. `refocus` moves the focus to the launcher.
    pub(crate) fn close(&self, refocus: bool) -> Result<(), JsValue> {
        self.panel.set_hidden(true);
        dom::attrs(&self.launcher, &[("aria-expanded", "false")]);
        if self.panel.has_attribute("aria-modal") {
            self.panel.remove_attribute("aria-modal")?;
            set_page_scroll(true)?;
        }
        if refocus { self.launcher.focus() } else { Ok(()) }
    }

    /// Keeps Tab and Shift+Tab inside the panel while it is modal.
    pub(crate) fn trap_focus(&self, event: &KeyboardEvent) -> Result<(), JsValue> {
        if event.key() != "Tab" || !self.panel.has_attribute("aria-modal") {
            return Ok(());
        }
        let focusable = self.panel.query_selector_all("button, textarea, input, a[href]")?;
        let visible: Vec<HtmlElement> = (0..focusable.length())
            .filter_map(|index| focusable.item(index)?.dyn_into::<HtmlElement>().ok())
            .filter(|element| element.offset_parent().is_some() && !element.has_attribute("disabled"))
            .collect();
        let (Some(first), Some(last)) = (visible.first(), visible.last()) else {
            return Ok(());
        };
        let active = self.shadow.active_element();
        let wrap_to = if event.shift_key() {
            (active.as_ref() == Some(first.as_ref()) || active.is_none()).then_some(last)
        } else {
            (active.as_ref() == Some(last.as_ref()) || active.is_none()).then_some(first)
        };
        if let Some(target) = wrap_to {
            event.prevent_default();
            target.focus()?;
        }
        Ok(())
    }
}

/// Whether the panel covers the viewport at its current size.
fn full_screen() -> bool {
    web_sys::window().and_then(|window| window.match_media(FULL_SCREEN).ok().flatten()).is_some_and(|m| m.matches())
}

/// Locks or unlocks the page's scrolling behind a full-screen panel.
fn set_page_scroll(enabled: bool) -> Result<(), JsValue> {
    let root = web_sys::window().and_then(|window| window.document()).and_then(|doc| doc.document_element());
    if let Some(root) = root.and_then(|root| root.dyn_into::<HtmlElement>().ok()) {
        let style = root.style();
        if enabled {
            style.remove_property("overflow")?;
        } else {
            style.set_property("overflow", "hidden")?;
        }
    }
    Ok(())
}
