//! The conversation view: the message log with its replies, the composer, and the typing indicator.
//!
//! It draws; `app` decides what to send and when.

use std::rc::Rc;

use docent_protocol::MAX_MESSAGE_CHARS;
use gloo_events::EventListener;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Document, Element, HtmlButtonElement, HtmlTextAreaElement, KeyboardEvent, Node};

use crate::api::{array, field, string};
use crate::text::{Strings, Text};
use crate::{dom, markdown};

/// The chat view's elements.
pub(crate) struct Chat {
    doc: Document,
    strings: Rc<Strings>,
    view: Element,
    messages: Element,
    pub(crate) input: HtmlTextAreaElement,
    send: HtmlButtonElement,
    typing: Element,
}

impl Chat {
    /// The log, opened by `greeting` unless it is blank, and the composer, inside `parent`.
    pub(crate) fn build(
        doc: &Document,
        parent: &Element,
        greeting: &str,
        strings: Rc<Strings>,
    ) -> Result<Chat, JsValue> {
        let view: Element = dom::create(doc, "form", "docent-chat");
        let messages: Element = dom::create(doc, "div", "docent-messages");
        dom::attrs(
            &messages,
            &[("role", "log"), ("aria-live", "polite"), ("aria-label", strings.get(Text::Conversation))],
        );
        if !greeting.trim().is_empty() {
            let message =
                bubble(doc, "docent-msg docent-msg-bot docent-msg-greeting", strings.get(Text::AssistantSaid));
            markdown::render(doc, &message, greeting);
            dom::append(&messages, &message);
        }
        let form: Element = dom::create(doc, "div", "docent-form");
        let input: HtmlTextAreaElement = dom::create(doc, "textarea", "docent-input");
        dom::attrs(
            &input,
            &[("aria-label", strings.get(Text::YourMessage)), ("placeholder", strings.get(Text::Placeholder))],
        );
        input.set_max_length(i32::try_from(MAX_MESSAGE_CHARS).unwrap_or(i32::MAX));
        input.set_rows(2);
        let send: HtmlButtonElement = dom::create(doc, "button", "docent-send");
        dom::attrs(&send, &[("type", "submit"), ("aria-label", strings.get(Text::Send))]);
        send.set_text_content(Some(strings.get(Text::Send)));
        dom::append(&form, &input);
        dom::append(&form, &send);
        dom::append(&view, &messages);
        dom::append(&view, &form);
        let typing: Element = dom::create(doc, "div", "docent-typing");
        dom::attrs(&typing, &[("role", "status")]);
        dom::append(&typing, &dom::text::<Node>(doc, "span", "docent-sr", strings.get(Text::Typing)));
        for _ in 0..3 {
            let dot: Element = dom::create(doc, "span", "docent-dot");
            dom::append(&typing, &dot);
        }
        dom::append(parent, &view);
        Ok(Chat { doc: doc.clone(), strings, view, messages, input, send, typing })
    }

    /// Calls `submit` on the form's submit and on Enter; Shift+Enter and IME composition keep their newline.
    pub(crate) fn listen(&self, submit: impl Fn() + Clone + 'static) -> [EventListener; 2] {
        let on_submit = submit.clone();
        [
            dom::on(&self.view, "submit", move |event| {
                event.prevent_default();
                on_submit();
            }),
            dom::on(&self.input, "keydown", move |event| {
                let Some(key) = event.dyn_ref::<KeyboardEvent>() else {
                    return;
                };
                if key.key() == "Enter" && !key.shift_key() && !key.is_composing() {
                    event.prevent_default();
                    submit();
                }
            }),
        ]
    }

    /// Moves the focus to the message box.
    pub(crate) fn focus(&self) -> Result<(), JsValue> {
        self.input.focus()
    }

    /// Scrolls the log to its latest message.
    pub(crate) fn scroll_to_end(&self) {
        self.messages.set_scroll_top(self.messages.scroll_height());
    }

    /// Whether a reply is on its way.
    pub(crate) fn busy(&self) -> bool {
        self.send.disabled()
    }

    /// Shows or hides the typing indicator, and blocks sending meanwhile.
    pub(crate) fn set_busy(&self, busy: bool) {
        self.send.set_disabled(busy);
        if busy {
            self.push(&self.typing);
        } else {
            self.typing.remove();
        }
    }

    /// Removes every message but the greeting (ratings too).
    pub(crate) fn clear(&self) -> Result<(), JsValue> {
        let old = self.messages.query_selector_all(".docent-msg:not(.docent-msg-greeting)")?;
        for index in 0..old.length() {
            if let Some(node) = old.item(index).and_then(|node| node.dyn_into::<Element>().ok()) {
                node.remove();
            }
        }
        self.typing.remove();
        Ok(())
    }

    /// Appends the visitor's message.
    pub(crate) fn push_user(&self, message: &str) -> Element {
        let bubble = bubble(&self.doc, "docent-msg docent-msg-user", self.strings.get(Text::YouSaid));
        dom::append(&bubble, &dom::text::<Node>(&self.doc, "div", "docent-msg-text", message));
        self.push(&bubble);
        bubble
    }

    /// Appends an error line, announced at once; with a retry button when `retry` is set, which it returns.
    pub(crate) fn push_error(&self, message: &str, retry: bool) -> Option<Element> {
        let bubble: Element = dom::create(&self.doc, "div", "docent-msg docent-msg-error");
        dom::attrs(&bubble, &[("role", "alert")]);
        dom::append(&bubble, &dom::text::<Node>(&self.doc, "span", "", message));
        let button = if retry {
            let button: Element = dom::text(&self.doc, "button", "docent-retry", self.strings.get(Text::Retry));
            dom::attrs(&button, &[("type", "button")]);
            dom::append(&bubble, &button);
            Some(button)
        } else {
            None
        };
        self.push(&bubble);
        button
    }

    /// Appends the bot's reply (the gateway's `reply` object): its text as Markdown, its
    /// sources or suggested pages, a way to reach a person, and thumbs up and down, whose
    /// element it returns.
    pub(crate) fn push_reply(&self, reply: &JsValue) -> Element {
        let doc = &self.doc;
        let kind = string(reply, "kind");
        let message = bubble(doc, "docent-msg docent-msg-bot", self.strings.get(Text::AssistantSaid));
        dom::attrs(&message, &[("data-kind", &kind)]);
        let body: Element = dom::create(doc, "div", "docent-msg-text");
        markdown::render(doc, &body, &string(reply, "text"));
        dom::append(&message, &body);
        let sources = array(reply, "sources");
        if sources.length() > 0 {
            let suggestions = kind == "suggestions";
            let block: Element = dom::create(doc, "div", "docent-sources");
            if !suggestions {
                let label = self.strings.get(if sources.length() > 1 { Text::Sources } else { Text::Source });
                dom::append(&block, &dom::text::<Node>(doc, "p", "docent-sources-label", label));
            }
            let list: Element = dom::create(doc, "ul", "");
            for source in sources.iter() {
                let href = dom::safe_href(&string(&source, "url"), &["http:", "https:"]);
                let title = string(&source, "title");
                let title = if title.trim().is_empty() { self.strings.get(Text::UntitledSource) } else { &title };
                let item: Element = dom::create(doc, "li", "");
                dom::append(&item, &dom::link::<Node>(doc, "docent-source", title, href.as_deref()));
                dom::append(&list, &item);
            }
            dom::append(&block, &list);
            dom::append(&message, &block);
        }
        let handoff = field(reply, "handoff");
        if let Some(href) = dom::safe_href(&string(&handoff, "url"), &["http:", "https:", "mailto:"]) {
            let label = string(&handoff, "label");
            let label = if label.trim().is_empty() { self.strings.get(Text::ContactUs) } else { &label };
            dom::append(&message, &dom::link::<Node>(doc, "docent-handoff", label, Some(&href)));
        }
        let feedback: Element = dom::create(doc, "div", "docent-feedback");
        for (glyph, label, helpful) in [
            ("\u{2713}", self.strings.get(Text::Helpful), "true"),
            ("\u{2717}", self.strings.get(Text::NotHelpful), "false"),
        ] {
            let button: Element = dom::text(doc, "button", "", glyph);
            dom::attrs(
                &button,
                &[("type", "button"), ("aria-label", label), ("aria-pressed", "false"), ("data-helpful", helpful)],
            );
            dom::append(&feedback, &button);
        }
        dom::append(&message, &feedback);
        self.push(&message);
        feedback
    }

    /// Appends the 1–5 satisfaction question; returns the element holding its buttons.
    pub(crate) fn push_rating(&self) -> Element {
        let doc = &self.doc;
        let block: Element = dom::create(doc, "div", "docent-msg docent-rating");
        dom::attrs(&block, &[("role", "group"), ("aria-label", self.strings.get(Text::RatingScale))]);
        dom::append(&block, &dom::text::<Node>(doc, "p", "", self.strings.get(Text::Rate)));
        for score in ["1", "2", "3", "4", "5"] {
            let button: Element = dom::text(doc, "button", "", score);
            let label = [score, self.strings.get(Text::OutOfFive)].concat();
            dom::attrs(&button, &[("type", "button"), ("aria-label", &label), ("data-score", score)]);
            dom::append(&block, &button);
        }
        self.push(&block);
        block
    }

    fn push(&self, message: &Element) {
        dom::append(&self.messages, message);
        self.scroll_to_end();
    }
}

/// A message bubble `<div class="…">` that starts with `speaker` for screen readers only.
fn bubble(doc: &Document, class: &str, speaker: &str) -> Element {
    let message: Element = dom::create(doc, "div", class);
    dom::append(&message, &dom::text::<Node>(doc, "span", "docent-sr", speaker));
    message
}
