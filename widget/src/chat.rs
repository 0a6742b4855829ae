//! The conversation: the message log, the composer, and sending a message to the bot.

use std::rc::Rc;

use docent_protocol::{ErrorCode, MAX_MESSAGE_CHARS, MessageRequest, Reply, ReplyKind};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Document, Element, HtmlButtonElement, HtmlTextAreaElement, KeyboardEvent};

use crate::api::Failure;
use crate::dom;
use crate::view::{State, Widget, report};

/// The chat view's elements.
pub(crate) struct Chat {
    view: Element,
    messages: Element,
    input: HtmlTextAreaElement,
    send: HtmlButtonElement,
    typing: Element,
}

impl Chat {
    /// The log, opened by `greeting` unless it is blank, and the composer.
    pub(crate) fn build(doc: &Document, greeting: &str) -> Result<Chat, JsValue> {
        let view: Element = dom::create(doc, "div", "docent-chat")?;
        let messages: Element = dom::create(doc, "div", "docent-messages")?;
        dom::attrs(&messages, &[("role", "log"), ("aria-live", "polite"), ("aria-label", "Conversation")])?;
        if !greeting.trim().is_empty() {
            let message = bubble(doc, "docent-msg docent-msg-bot docent-msg-greeting", greeting)?;
            messages.append_child(&message)?;
        }
        let form: Element = dom::create(doc, "form", "docent-form")?;
        let input: HtmlTextAreaElement = dom::create(doc, "textarea", "docent-input")?;
        dom::attrs(&input, &[("aria-label", "Your message"), ("placeholder", "Ask a question\u{2026}")])?;
        input.set_max_length(i32::try_from(MAX_MESSAGE_CHARS).unwrap_or(i32::MAX));
        input.set_rows(2);
        let send: HtmlButtonElement = dom::create(doc, "button", "docent-send")?;
        dom::attrs(&send, &[("type", "submit"), ("aria-label", "Send message")])?;
        send.set_text_content(Some("Send"));
        form.append_child(&input)?;
        form.append_child(&send)?;
        view.append_child(&messages)?;
        view.append_child(&form)?;
        let typing: Element = dom::create(doc, "div", "docent-typing")?;
        dom::attrs(&typing, &[("role", "status"), ("aria-label", "The assistant is typing")])?;
        for _ in 0..3 {
            typing.append_child(&dom::create(doc, "span", "")?)?;
        }
        Ok(Chat { view, messages, input, send, typing })
    }

    /// The element to put in the panel.
    pub(crate) fn view(&self) -> &Element {
        &self.view
    }

    /// Moves the focus to the message box.
    pub(crate) fn focus(&self) -> Result<(), JsValue> {
        self.input.focus()
    }

    /// Scrolls the log to its latest message.
    pub(crate) fn scroll_to_end(&self) {
        self.messages.set_scroll_top(self.messages.scroll_height());
    }

    /// Sends on submit and on Enter; Shift+Enter and IME composition keep their newline.
    pub(crate) fn wire(&self, widget: &Rc<Widget>) -> Result<(), JsValue> {
        let w = Rc::clone(widget);
        dom::on(&self.view, "submit", move |event| {
            event.prevent_default();
            report(submit(&w));
        })?;
        let w = Rc::clone(widget);
        dom::on(&self.input, "keydown", move |event| {
            let Some(key) = event.dyn_ref::<KeyboardEvent>() else {
                return;
            };
            if key.key() == "Enter" && !key.shift_key() && !key.is_composing() {
                event.prevent_default();
                report(submit(&w));
            }
        })
    }

    fn push(&self, message: &Element) -> Result<(), JsValue> {
        self.messages.append_child(message)?;
        self.scroll_to_end();
        Ok(())
    }

    fn set_busy(&self, busy: bool) -> Result<(), JsValue> {
        self.send.set_disabled(busy);
        if busy {
            self.push(&self.typing)
        } else {
            self.typing.remove();
            Ok(())
        }
    }

    /// Appends the bot's reply: its text, its sources, and a way to reach a person.
    fn push_reply(&self, doc: &Document, reply: &Reply) -> Result<(), JsValue> {
        let message = bubble(doc, "docent-msg docent-msg-bot", &reply.text)?;
        message.set_attribute("data-kind", kind_name(reply.kind))?;
        if !reply.sources.is_empty() {
            let list: Element = dom::create(doc, "ul", "docent-sources")?;
            list.set_attribute("aria-label", "Sources")?;
            for source in &reply.sources {
                let href = source.url.as_deref().and_then(|url| dom::safe_href(url, &["http:", "https:"]));
                let title = if source.title.trim().is_empty() { &source.source } else { &source.title };
                let item: Element = dom::create(doc, "li", "")?;
                item.append_child(&dom::link(doc, "docent-source", title, href.as_deref())?)?;
                list.append_child(&item)?;
            }
            message.append_child(&list)?;
        }
        if let Some(handoff) = &reply.handoff {
            let href = dom::safe_href(&handoff.url, &["http:", "https:", "mailto:"]);
            if let Some(href) = href {
                let label = if handoff.label.trim().is_empty() { "Contact us" } else { &handoff.label };
                message.append_child(&dom::link(doc, "docent-handoff", label, Some(&href))?)?;
            }
        }
        self.push(&message)
    }
}

/// Sends the composer's text, unless a reply is still on its way.
fn submit(widget: &Rc<Widget>) -> Result<(), JsValue> {
    let Some(chat) = &widget.chat else {
        return Ok(());
    };
    let text = chat.input.value().trim().to_owned();
    if chat.send.disabled() || text.is_empty() {
        return Ok(());
    }
    let doc = &widget.doc;
    if text.chars().count() > MAX_MESSAGE_CHARS {
        return chat.push(&bubble(doc, "docent-msg docent-msg-error", "That message is too long.")?);
    }
    chat.input.set_value("");
    let mine = bubble(doc, "docent-msg docent-msg-user", &text)?;
    chat.push(&mine)?;
    chat.set_busy(true)?;
    let widget = Rc::clone(widget);
    js_sys::futures::spawn_local(async move {
        report(exchange(&widget, text, &mine).await);
    });
    Ok(())
}

/// Posts `text` and shows what comes back. `mine` is the visitor's bubble for `text`.
async fn exchange(widget: &Widget, text: String, mine: &Element) -> Result<(), JsValue> {
    let Some(chat) = &widget.chat else {
        return Ok(());
    };
    let (token, conversation_id) = {
        let session = widget.session.borrow();
        (session.token.clone(), session.conversation_id.clone())
    };
    let request = MessageRequest { text, conversation_id };
    let result = widget.api.message(&request, token.as_deref()).await;
    chat.set_busy(false)?;
    match result {
        Ok(answer) => {
            widget.session.borrow_mut().conversation_id = Some(answer.conversation_id);
            chat.push_reply(&widget.doc, &answer.reply)?;
        }
        Err(failure) if failure.code() == Some(ErrorCode::Unauthorized) && widget.login.is_some() => {
            // The token expired: sign in again, then send the same text again.
            widget.session.borrow_mut().token = None;
            mine.remove();
            if chat.input.value().is_empty() {
                chat.input.set_value(&request.text);
            }
            if let Some(login) = &widget.login {
                login.show_error("Your session has ended. Please sign in again.");
            }
            return widget.set_state(State::Login);
        }
        Err(failure) => {
            chat.push(&bubble(&widget.doc, "docent-msg docent-msg-error", failure_text(&failure))?)?;
        }
    }
    widget.refocus()
}

/// A message bubble `<div class="…"><div class="docent-msg-text">text</div></div>`.
fn bubble(doc: &Document, class: &str, text: &str) -> Result<Element, JsValue> {
    let message: Element = dom::create(doc, "div", class)?;
    message.append_child(&dom::text(doc, "div", "docent-msg-text", text)?)?;
    Ok(message)
}

/// The reply kind as the `data-kind` attribute spells it.
fn kind_name(kind: ReplyKind) -> &'static str {
    match kind {
        ReplyKind::Faq => "faq",
        ReplyKind::Document => "document",
        ReplyKind::Suggestions => "suggestions",
        ReplyKind::Unknown => "unknown",
    }
}

/// What the visitor reads when a message could not be answered.
fn failure_text(failure: &Failure) -> &str {
    match failure {
        Failure::Http { code: Some(ErrorCode::TooManyAttempts), .. } => "Too many messages, please wait a moment.",
        Failure::Http { code: Some(ErrorCode::PayloadTooLarge), .. } => "That message is too long.",
        Failure::Http { code: Some(ErrorCode::BotOffline), .. } => {
            "The assistant is offline right now. Please try again later."
        }
        Failure::Http { code: Some(ErrorCode::MessageLimitReached | ErrorCode::PlanExpired), .. } => {
            "The assistant can't take more questions right now. Please contact us another way."
        }
        // Our own gateway's words about what is wrong with the request.
        Failure::Http { code: Some(ErrorCode::InvalidRequest), message } if !message.is_empty() => message,
        _ => "Something went wrong. Please try again.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn http(code: ErrorCode, message: &str) -> Failure {
        Failure::Http { code: Some(code), message: message.to_owned() }
    }

    #[test]
    fn failures_read_as_friendly_text() {
        assert_eq!(
            failure_text(&http(ErrorCode::TooManyAttempts, "slow down")),
            "Too many messages, please wait a moment."
        );
        assert_eq!(failure_text(&http(ErrorCode::InvalidRequest, "text is empty")), "text is empty");
        assert_eq!(failure_text(&http(ErrorCode::Internal, "disk full")), "Something went wrong. Please try again.");
        assert_eq!(failure_text(&Failure::Network), "Something went wrong. Please try again.");
        assert_eq!(
            failure_text(&Failure::Http { code: None, message: String::new() }),
            "Something went wrong. Please try again."
        );
    }
}
