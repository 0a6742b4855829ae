//! Staff sign-in for internal bots: a password form with a visible label and a line for errors.
//!
//! It draws; `app` trades the password for a token.

use gloo_events::EventListener;
use wasm_bindgen::JsValue;
use web_sys::{Document, Element, HtmlButtonElement, HtmlInputElement, Node};

use crate::dom;
use crate::text::{Strings, Text};

/// The login view's elements.
pub(crate) struct Login {
    view: Element,
    pub(crate) password: HtmlInputElement,
    pub(crate) button: HtmlButtonElement,
    error: Element,
}

impl Login {
    /// The password form of `bot`, inside `parent`.
    pub(crate) fn build(doc: &Document, parent: &Element, bot: &str, strings: &Strings) -> Result<Login, JsValue> {
        let view: Element = dom::create(doc, "form", "docent-login-view");
        dom::append(&view, &dom::text::<Node>(doc, "p", "", strings.get(Text::StaffIntro)));
        // A hidden account name lets password managers file the password under this bot.
        let account: HtmlInputElement = dom::create(doc, "input", "");
        dom::attrs(&account, &[("type", "text"), ("autocomplete", "username"), ("value", bot)]);
        account.set_hidden(true);
        dom::append(&view, &account);
        let label: Element = dom::text(doc, "label", "docent-label", strings.get(Text::Password));
        dom::attrs(&label, &[("for", "docent-password")]);
        let password: HtmlInputElement = dom::create(doc, "input", "docent-password");
        dom::attrs(&password, &[("id", "docent-password"), ("type", "password"), ("autocomplete", "current-password")]);
        let button: HtmlButtonElement = dom::text(doc, "button", "docent-login", strings.get(Text::SignIn));
        dom::attrs(&button, &[("type", "submit")]);
        let error: Element = dom::create(doc, "p", "docent-login-error");
        dom::attrs(&error, &[("role", "alert")]);
        dom::append(&view, &label);
        dom::append(&view, &password);
        dom::append(&view, &button);
        dom::append(&view, &error);
        dom::append(parent, &view);
        Ok(Login { view, password, button, error })
    }

    /// Calls `submit` when the form is sent.
    pub(crate) fn listen(&self, submit: impl Fn() + 'static) -> EventListener {
        dom::on(&self.view, "submit", move |event| {
            event.prevent_default();
            submit();
        })
    }

    /// Moves the focus to the password field.
    pub(crate) fn focus(&self) -> Result<(), JsValue> {
        self.password.focus()
    }

    /// Shows `message` under the form; an empty `message` clears it.
    pub(crate) fn show_error(&self, message: &str) {
        self.error.set_text_content(Some(message));
    }
}
