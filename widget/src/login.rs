//! Staff sign-in for internal bots: a password form that trades the password for a token.

use std::rc::Rc;

use docent_protocol::ErrorCode;
use wasm_bindgen::JsValue;
use web_sys::{Document, Element, HtmlButtonElement, HtmlInputElement};

use crate::api::Failure;
use crate::dom;
use crate::view::{State, Widget, report};

/// The login view's elements.
pub(crate) struct Login {
    view: Element,
    password: HtmlInputElement,
    button: HtmlButtonElement,
    error: Element,
}

impl Login {
    /// The password form of `bot`, with a line for what went wrong.
    pub(crate) fn build(doc: &Document, bot: &str) -> Result<Login, JsValue> {
        let view: Element = dom::create(doc, "form", "docent-login-view")?;
        let intro = "This assistant is for staff. Enter the password to continue.";
        view.append_child(&dom::text(doc, "p", "docent-login-intro", intro)?)?;
        // A hidden account name lets password managers file the password under this bot.
        let account: HtmlInputElement = dom::create(doc, "input", "")?;
        dom::attrs(&account, &[("type", "text"), ("autocomplete", "username"), ("value", bot)])?;
        account.set_hidden(true);
        view.append_child(&account)?;
        let password: HtmlInputElement = dom::create(doc, "input", "docent-password")?;
        dom::attrs(
            &password,
            &[("type", "password"), ("aria-label", "Password"), ("autocomplete", "current-password")],
        )?;
        let button: HtmlButtonElement = dom::create(doc, "button", "docent-login")?;
        dom::attrs(&button, &[("type", "submit"), ("aria-label", "Sign in")])?;
        button.set_text_content(Some("Sign in"));
        let error: Element = dom::create(doc, "p", "docent-login-error")?;
        error.set_attribute("role", "alert")?;
        view.append_child(&password)?;
        view.append_child(&button)?;
        view.append_child(&error)?;
        Ok(Login { view, password, button, error })
    }

    /// The element to put in the panel.
    pub(crate) fn view(&self) -> &Element {
        &self.view
    }

    /// Moves the focus to the password field.
    pub(crate) fn focus(&self) -> Result<(), JsValue> {
        self.password.focus()
    }

    /// Shows `text` under the form; an empty `text` clears it.
    pub(crate) fn show_error(&self, text: &str) {
        self.error.set_text_content(Some(text));
    }

    /// Signs in on submit.
    pub(crate) fn wire(&self, widget: &Rc<Widget>) -> Result<(), JsValue> {
        let w = Rc::clone(widget);
        dom::on(&self.view, "submit", move |event| {
            event.prevent_default();
            report(submit(&w));
        })
    }
}

/// Starts a sign-in with the typed password, unless one is under way.
fn submit(widget: &Rc<Widget>) -> Result<(), JsValue> {
    let Some(login) = &widget.login else {
        return Ok(());
    };
    if login.button.disabled() {
        return Ok(());
    }
    let password = login.password.value();
    if password.is_empty() {
        login.show_error("Enter the password.");
        return login.focus();
    }
    login.show_error("");
    login.button.set_disabled(true);
    let widget = Rc::clone(widget);
    js_sys::futures::spawn_local(async move {
        report(sign_in(&widget, &password).await);
    });
    Ok(())
}

/// Trades `password` for a token; on success the conversation opens.
async fn sign_in(widget: &Widget, password: &str) -> Result<(), JsValue> {
    let Some(login) = &widget.login else {
        return Ok(());
    };
    let result = widget.api.session(password).await;
    login.button.set_disabled(false);
    match result {
        Ok(grant) => {
            widget.session.borrow_mut().token = Some(grant.token);
            login.password.set_value("");
            widget.set_state(State::Chat)
        }
        Err(failure) => {
            login.show_error(failure_text(&failure));
            login.password.select();
            widget.refocus()
        }
    }
}

/// What the visitor reads when signing in failed.
fn failure_text(failure: &Failure) -> &'static str {
    match failure {
        Failure::Http { code: Some(ErrorCode::InvalidCredentials), .. } => "Wrong password. Please try again.",
        Failure::Http { code: Some(ErrorCode::TooManyAttempts), .. } => {
            "Too many attempts. Please wait a moment and try again."
        }
        Failure::Network => "The assistant can't be reached right now. Please try again later.",
        _ => "Something went wrong. Please try again.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_in_failures_read_as_friendly_text() {
        let wrong = Failure::Http { code: Some(ErrorCode::InvalidCredentials), message: String::new() };
        assert_eq!(failure_text(&wrong), "Wrong password. Please try again.");
        let busy = Failure::Http { code: Some(ErrorCode::TooManyAttempts), message: String::new() };
        assert_eq!(failure_text(&busy), "Too many attempts. Please wait a moment and try again.");
        assert_eq!(failure_text(&Failure::Malformed), "Something went wrong. Please try again.");
    }
}
