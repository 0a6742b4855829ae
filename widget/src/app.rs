//! One widget per bot on the page: loading its configuration, the conversation with the
//! gateway, sign-in, persistence, and the commands of the page's `window.Docent` API.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use docent_protocol::{ErrorCode, MAX_MESSAGE_CHARS};
use gloo_events::EventListener;
use js_sys::{Array, Function, JSON};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Document, Element, KeyboardEvent, Node, Storage};

use crate::api::{Api, Failure, array, field, object_with, string};
use crate::chat::Chat;
use crate::dom;
use crate::login::Login;
use crate::text::{Strings, Text};
use crate::view::{Frame, Look};

thread_local! {
    /// The widgets on this page, in the order they started.
    static WIDGETS: RefCell<Vec<Rc<Widget>>> = const { RefCell::new(Vec::new()) };
    /// The bots whose widget is starting or started: a second snippet for the same bot does nothing.
    static CLAIMED: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// One widget on the page, shared by its event handlers.
pub(crate) struct Widget {
    bot: String,
    strings: Rc<Strings>,
    api: Api,
    frame: Frame,
    chat: Option<Chat>,
    login: Option<Login>,
    /// The bearer token of an internal bot. In this page's memory only: never in storage.
    token: RefCell<Option<String>>,
    /// `{conversation_id, log: [{user: "…"} | {reply: {…}}]}`, mirrored into `storage`.
    memory: RefCell<JsValue>,
    storage: Option<Storage>,
    /// `emit(event, bot, detail)`: the page's `Docent.on` handlers.
    emit: Function,
    /// Whether this conversation's satisfaction rating was offered already.
    rating_offered: Cell<bool>,
    listeners: RefCell<Vec<EventListener>>,
}

/// Starts the widget of `bot` from the gateway at `gateway`, unless it is already on the page.
/// `config()` returns bundle.js's `fetch` of the bot's configuration for this page's language,
/// started while the wasm loaded when it could be.
pub(crate) async fn start(bot: String, gateway: String, emit: Function, config: JsValue) -> Result<(), JsValue> {
    if bot.is_empty() {
        dom::console_error("docent: boot() needs a bot id");
        return Ok(());
    }
    let claimed = CLAIMED.with_borrow_mut(|claimed| {
        let known = claimed.contains(&bot);
        if !known {
            claimed.push(bot.clone());
        }
        known
    });
    if claimed {
        return Ok(());
    }
    let window = web_sys::window().ok_or_else(|| dom::error("no window"))?;
    let doc = window.document().ok_or_else(|| dom::error("no document to draw in"))?;
    let api = Api::new(&gateway, &bot);
    let config = match api.config(config).await {
        Ok(config) => Ok(config),
        Err(failure) if failure.is(ErrorCode::BotNotFound) => {
            dom::console_error(&["docent: no bot named \"", &bot, "\" on this gateway"].concat());
            return Ok(());
        }
        Err(failure) if failure.is(ErrorCode::OriginNotAllowed) => Err(Text::NotAvailable),
        // A rejected fetch is what a CORS refusal looks like from here: if the
        // gateway itself answers, it is this site that the bot refuses.
        Err(Failure::Network) if api.healthy().await => Err(Text::NotAvailable),
        Err(_) => Err(Text::Unreachable),
    };
    if config == Err(Text::NotAvailable) {
        let origin = window.location().origin().unwrap_or_default();
        dom::console_error(
            &[
                "docent: the bot \"",
                &bot,
                "\" does not allow this page's origin ",
                &origin,
                "; add it to allowed_origins in the bot's bot.toml",
            ]
            .concat(),
        );
    }
    let body = dom::body(&doc).await?;
    let widget = Rc::new(Widget::build(&doc, bot, api, config, emit)?);
    widget.listen();
    widget.restore()?;
    WIDGETS.with_borrow_mut(|widgets| widgets.push(Rc::clone(&widget)));
    dom::append(&body, &widget.frame.host);
    Ok(())
}

/// Runs the page's `Docent` command `action` on the widget of `bot` (the first widget when `bot` is
/// empty; every widget for `mount`).
pub(crate) fn command(bot: &str, action: &str, argument: &JsValue) -> Result<(), JsValue> {
    let widgets: Vec<Rc<Widget>> = WIDGETS.with_borrow(|widgets| {
        let mut chosen = widgets.iter().filter(|widget| bot.is_empty() || widget.bot == bot);
        if action == "mount" { chosen.cloned().collect() } else { chosen.next().cloned().into_iter().collect() }
    });
    for widget in widgets {
        match action {
            "open" => widget.open()?,
            "close" => widget.close(false)?,
            "toggle" if widget.frame.is_open() => widget.close(false)?,
            "toggle" => widget.open()?,
            "reset" => widget.reset()?,
            "mount" => widget.mount()?,
            "destroy" => widget.destroy(),
            "identify" => widget.identify(argument.as_string().unwrap_or_default()),
            "goal" => widget.track("goal", &[("name", argument)]),
            "end" => widget.offer_rating()?,
            _ => dom::console_error(&["docent: no command named ", action].concat()),
        }
    }
    Ok(())
}

impl Widget {
    /// Builds the widget's tree, detached, from the configuration or the message that replaces it.
    fn build(
        doc: &Document,
        bot: String,
        api: Api,
        config: Result<JsValue, Text>,
        emit: Function,
    ) -> Result<Widget, JsValue> {
        let appearance = config.as_ref().map(|config| field(config, "appearance")).unwrap_or(JsValue::UNDEFINED);
        let title = config.as_ref().map(|config| string(config, "name")).unwrap_or_default();
        let label = string(&appearance, "launcher_label");
        let theme = string(&appearance, "theme");
        let strings = Rc::new(Strings::new(config.as_ref().ok()));
        let assistant = strings.get(Text::Assistant);
        let launcher = strings.get(Text::Launcher);
        let look = Look {
            title: non_empty(&title, assistant),
            launcher_label: non_empty(&label, launcher),
            left: string(&appearance, "position") == "left",
            accent: &string(&appearance, "accent_color"),
            theme: non_empty(&theme, "auto"),
            stack: WIDGETS.with_borrow(Vec::len).try_into().unwrap_or(0),
        };
        let frame = Frame::build(doc, &bot, &look, &strings)?;
        let window = web_sys::window();
        let storage = match string(&appearance, "conversation_storage").as_str() {
            "local" => window.and_then(|window| window.local_storage().ok().flatten()),
            _ => window.and_then(|window| window.session_storage().ok().flatten()),
        };
        let (chat, login) = match &config {
            Ok(config) => {
                let chat = Chat::build(doc, &frame.body, &string(config, "greeting"), Rc::clone(&strings))?;
                let login = match string(config, "visibility").as_str() {
                    "internal" => Some(Login::build(doc, &frame.body, &bot, &strings)?),
                    _ => None,
                };
                frame.set_state(if login.is_some() { "login" } else { "chat" })?;
                frame.new_conversation.set_hidden(false);
                (Some(chat), login)
            }
            Err(message) => {
                dom::append(&frame.body, &dom::text::<Node>(doc, "p", "docent-state-message", strings.get(*message)));
                frame.set_state(if *message == Text::NotAvailable { "not-available" } else { "offline" })?;
                (None, None)
            }
        };
        let widget = Widget {
            bot,
            strings,
            api,
            frame,
            chat,
            login,
            token: RefCell::new(None),
            memory: RefCell::new(JsValue::UNDEFINED),
            storage,
            emit,
            rating_offered: Cell::new(false),
            listeners: RefCell::new(Vec::new()),
        };
        Ok(widget)
    }

    /// Connects the launcher, the header's buttons, Escape, Tab, and the forms.
    fn listen(self: &Rc<Self>) {
        let mut listeners = Vec::new();
        let w = Rc::clone(self);
        listeners.push(dom::on(&self.frame.launcher, "click", move |_| {
            report(if w.frame.is_open() { w.close(true) } else { w.open() });
        }));
        let w = Rc::clone(self);
        listeners.push(dom::on(&self.frame.close, "click", move |_| report(w.close(true))));
        let w = Rc::clone(self);
        listeners.push(dom::on(&self.frame.new_conversation, "click", move |_| report(w.reset())));
        let w = Rc::clone(self);
        listeners.push(dom::on(&self.frame.shadow, "keydown", move |event| {
            let Some(key) = event.dyn_ref::<KeyboardEvent>() else {
                return;
            };
            if key.key() == "Escape" && w.frame.is_open() {
                event.prevent_default();
                report(w.close(true));
            } else {
                report(w.frame.trap_focus(key));
            }
        }));
        if let Some(chat) = &self.chat {
            let w = Rc::clone(self);
            listeners.extend(chat.listen(move || report(w.submit())));
        }
        if let Some(login) = &self.login {
            let w = Rc::clone(self);
            listeners.push(login.listen(move || report(w.sign_in())));
        }
        self.listeners.replace(listeners);
    }

    fn open(&self) -> Result<(), JsValue> {
        if self.frame.is_open() {
            return Ok(());
        }
        self.frame.open()?;
        if let Some(chat) = &self.chat {
            chat.scroll_to_end();
        }
        self.event("open", &JsValue::UNDEFINED);
        self.track("open", &[]);
        self.focus_state()
    }

    fn close(self: &Rc<Self>, refocus: bool) -> Result<(), JsValue> {
        if !self.frame.is_open() {
            return Ok(());
        }
        // Leaving after an answer: the rating waits in the log for the visitor's return.
        if self.answers() > 0 {
            self.offer_rating()?;
        }
        self.event("close", &JsValue::UNDEFINED);
        self.track("close", &[]);
        self.frame.close(refocus)
    }

    /// Focuses the field the current state asks the visitor to fill in.
    fn focus_state(&self) -> Result<(), JsValue> {
        match (self.frame.state().as_str(), &self.chat, &self.login) {
            ("chat", Some(chat), _) => chat.focus(),
            ("login", _, Some(login)) => login.focus(),
            _ => self.frame.close.focus(),
        }
    }

    /// Gives the focus back to the current state's field after an exchange with
    /// the gateway, unless the visitor has moved on to something else on the page.
    fn refocus(&self) -> Result<(), JsValue> {
        let doc = self.frame.host.owner_document();
        let idle = match doc.as_ref().and_then(Document::active_element) {
            None => true,
            Some(active) => {
                active == *self.frame.host.as_ref()
                    || doc.and_then(|doc| doc.body()).is_some_and(|body| active == *body.as_ref())
            }
        };
        if idle && self.frame.is_open() { self.focus_state() } else { Ok(()) }
    }

    /// Puts the widget back on the page after the page replaced its `<body>`.
    fn mount(&self) -> Result<(), JsValue> {
        if self.frame.host.is_connected() {
            return Ok(());
        }
        let body = self.frame.host.owner_document().and_then(|doc| doc.body());
        match body {
            Some(body) => body.append_child(&self.frame.host).map(drop),
            None => Ok(()),
        }
    }

    /// Removes the widget's listeners and nodes; a later `mount()` of its snippet starts it afresh.
    fn destroy(&self) {
        self.listeners.borrow_mut().clear();
        let _ = self.frame.close(false);
        self.frame.host.remove();
        WIDGETS.with_borrow_mut(|widgets| widgets.retain(|widget| widget.bot != self.bot));
        CLAIMED.with_borrow_mut(|claimed| claimed.retain(|bot| *bot != self.bot));
    }

    /// Starts a new conversation: the log empties and the stored copy goes.
    fn reset(&self) -> Result<(), JsValue> {
        if let Some(chat) = &self.chat {
            chat.clear()?;
            chat.focus()?;
        }
        self.memory.replace(JsValue::UNDEFINED);
        self.rating_offered.set(false);
        if let Some(storage) = &self.storage {
            storage.remove_item(&self.storage_key())?;
        }
        Ok(())
    }

    /// Sends the composer's text, unless a reply is still on its way.
    fn submit(self: &Rc<Self>) -> Result<(), JsValue> {
        let Some(chat) = &self.chat else {
            return Ok(());
        };
        let message = chat.input.value().trim().to_owned();
        if chat.busy() || message.is_empty() {
            return Ok(());
        }
        if message.chars().count() > MAX_MESSAGE_CHARS {
            chat.push_error(self.strings.get(Text::TooLong), false);
            return Ok(());
        }
        chat.input.set_value("");
        let mine = chat.push_user(&message);
        chat.set_busy(true);
        self.event("message", &JsValue::from_str(&message));
        let widget = Rc::clone(self);
        js_sys::futures::spawn_local(async move {
            report(widget.exchange(message, mine).await);
        });
        Ok(())
    }

    /// Posts `message` and shows what comes back. `mine` is the visitor's bubble for it.
    async fn exchange(self: &Rc<Self>, message: String, mine: Element) -> Result<(), JsValue> {
        let Some(chat) = &self.chat else {
            return Ok(());
        };
        let conversation_id = string(&self.memory.borrow(), "conversation_id");
        let token = self.token.borrow().clone();
        let conversation = Some(conversation_id.as_str()).filter(|id| !id.is_empty());
        let result = self.api.message(&message, conversation, token.as_deref()).await;
        chat.set_busy(false);
        let failure = match result {
            Ok(answer) => {
                let reply = field(&answer, "reply");
                let feedback = chat.push_reply(&reply);
                self.remember(&field(&answer, "conversation_id"), &message, &reply)?;
                self.listen_feedback(&feedback, self.answers());
                self.event("answer", &reply);
                // A handoff ends what the bot can do: time to ask how it went.
                if field(&reply, "handoff").is_object() {
                    self.offer_rating()?;
                }
                return self.refocus();
            }
            Err(failure) => failure,
        };
        // The question is not lost: it goes back into the composer, to send again.
        mine.remove();
        if chat.input.value().is_empty() {
            chat.input.set_value(&message);
        }
        if failure.is(ErrorCode::Unauthorized)
            && let Some(login) = &self.login
        {
            self.token.replace(None);
            login.show_error(self.strings.get(Text::SessionEnded));
            self.frame.set_state("login")?;
            return self.refocus();
        }
        let (wording, retry) = failure_text(&failure);
        let wording = match wording {
            Ok(text) => self.strings.get(text),
            Err(message) => message,
        };
        if let Some(button) = chat.push_error(wording, retry) {
            let widget = Rc::clone(self);
            let alert = button.parent_element();
            self.listeners.borrow_mut().push(dom::on(&button, "click", move |_| {
                if let Some(alert) = &alert {
                    alert.remove();
                }
                report(widget.submit());
            }));
        }
        self.refocus()
    }

    /// Starts a sign-in with the typed password, unless one is under way.
    fn sign_in(self: &Rc<Self>) -> Result<(), JsValue> {
        let Some(login) = &self.login else {
            return Ok(());
        };
        let password = login.password.value();
        if login.button.disabled() {
            return Ok(());
        }
        if password.is_empty() {
            login.show_error(self.strings.get(Text::EnterPassword));
            return login.focus();
        }
        self.authenticate("password", password);
        Ok(())
    }

    /// `Docent.identify(token)`: signs in with a token the site signed for this visitor.
    fn identify(self: &Rc<Self>, site_token: String) {
        if self.login.is_some() && !site_token.is_empty() {
            self.authenticate("site_token", site_token);
        }
    }

    /// Trades a password or a site token for a bearer token; on success the conversation opens.
    fn authenticate(self: &Rc<Self>, kind: &'static str, secret: String) {
        let Some(login) = &self.login else {
            return;
        };
        login.show_error("");
        login.button.set_disabled(true);
        let widget = Rc::clone(self);
        js_sys::futures::spawn_local(async move {
            let Some(login) = &widget.login else {
                return;
            };
            let result = widget.api.session(kind, &secret).await;
            login.button.set_disabled(false);
            let shown = match result {
                Ok(token) => {
                    widget.token.replace(Some(token));
                    login.password.set_value("");
                    widget.frame.set_state("chat").and_then(|()| widget.refocus())
                }
                Err(failure) => {
                    login.show_error(widget.strings.get(match failure {
                        _ if failure.is(ErrorCode::InvalidCredentials) => Text::WrongPassword,
                        _ if failure.is(ErrorCode::TooManyAttempts) => Text::TooManyAttempts,
                        Failure::Network => Text::Unreachable,
                        Failure::Http { .. } => Text::SomethingWrong,
                    }));
                    login.password.select();
                    widget.refocus()
                }
            };
            report(shown);
        });
    }

    /// Tells the page's `Docent.on(event, …)` handlers.
    fn event(&self, name: &str, detail: &JsValue) {
        let _ = self.emit.call3(&JsValue::NULL, &JsValue::from_str(name), &JsValue::from_str(&self.bot), detail);
    }

    /// Sends the analytics event `kind` (`open`, `goal`, …) with its `fields` to the gateway.
    fn track(&self, kind: &str, fields: &[(&str, &JsValue)]) {
        let event = object_with(fields);
        let _ = js_sys::Reflect::set(&event, &JsValue::from_str("type"), &JsValue::from_str(kind));
        self.api.events(&Array::of1(&event));
    }

    /// The conversation's id, as a JS string, for events about it.
    fn conversation_id(&self) -> JsValue {
        field(&self.memory.borrow(), "conversation_id")
    }

    /// How many answers the conversation holds.
    fn answers(&self) -> u32 {
        array(&self.memory.borrow(), "log").iter().filter(|entry| field(entry, "reply").is_object()).count() as u32
    }

    /// Makes the thumbs of the `answer`-th answer send their verdict.
    fn listen_feedback(self: &Rc<Self>, feedback: &Element, answer: u32) {
        let widget = Rc::clone(self);
        let buttons = feedback.clone();
        self.listeners.borrow_mut().push(dom::on(feedback, "click", move |event| {
            let Some(button) = event.target().and_then(|target| target.dyn_into::<Element>().ok()) else {
                return;
            };
            let Some(verdict) = button.get_attribute("data-helpful") else {
                return;
            };
            if let Ok(all) = buttons.query_selector_all("button") {
                for index in 0..all.length() {
                    if let Some(other) = all.item(index).and_then(|node| node.dyn_into::<Element>().ok()) {
                        let _ = other.set_attribute("aria-pressed", if other == button { "true" } else { "false" });
                    }
                }
            }
            let helpful = JsValue::from_bool(verdict == "true");
            let answer = JsValue::from(answer);
            widget.track(
                "feedback",
                &[("conversation_id", &widget.conversation_id()), ("answer", &answer), ("helpful", &helpful)],
            );
            widget.event("rating", &object_with(&[("answer", &answer), ("helpful", &helpful)]));
        }));
    }

    /// Asks for a 1–5 rating of the conversation, once, when there is one to rate.
    fn offer_rating(self: &Rc<Self>) -> Result<(), JsValue> {
        let Some(chat) = &self.chat else {
            return Ok(());
        };
        if self.rating_offered.get() || self.answers() == 0 {
            return Ok(());
        }
        self.rating_offered.set(true);
        let block = chat.push_rating();
        let widget = Rc::clone(self);
        let question = block.clone();
        self.listeners.borrow_mut().push(dom::on(&block, "click", move |event| {
            let score = event
                .target()
                .and_then(|target| target.dyn_into::<Element>().ok())
                .and_then(|button| button.get_attribute("data-score"));
            let Some(score) = score.and_then(|score| score.parse::<u8>().ok()) else {
                return;
            };
            let score = JsValue::from(score);
            widget.track("rating", &[("conversation_id", &widget.conversation_id()), ("score", &score)]);
            widget.event("rating", &object_with(&[("score", &score)]));
            question.set_text_content(Some(widget.strings.get(Text::Thanks)));
            dom::attrs(&question, &[("role", "status")]);
        }));
        Ok(())
    }

    fn storage_key(&self) -> String {
        ["docent:", &self.bot].concat()
    }

    /// Adds an exchange to the conversation's memory and stores it.
    fn remember(&self, conversation_id: &JsValue, message: &str, reply: &JsValue) -> Result<(), JsValue> {
        let log = array(&self.memory.borrow(), "log");
        log.push(&object_with(&[("user", &JsValue::from_str(message))]));
        log.push(&object_with(&[("reply", reply)]));
        let memory = object_with(&[("conversation_id", conversation_id), ("log", &log)]);
        if let Some(storage) = &self.storage {
            // A full or blocked storage only costs the memory across pages.
            let _ = storage.set_item(&self.storage_key(), &String::from(JSON::stringify(&memory)?));
        }
        self.memory.replace(memory);
        Ok(())
    }

    /// Shows the conversation stored by an earlier page of this site, if any.
    fn restore(self: &Rc<Self>) -> Result<(), JsValue> {
        let (Some(chat), Some(storage)) = (&self.chat, &self.storage) else {
            return Ok(());
        };
        let Some(stored) = storage.get_item(&self.storage_key())? else {
            return Ok(());
        };
        let Ok(memory) = JSON::parse(&stored) else {
            return Ok(());
        };
        let mut answers = 0;
        for entry in array(&memory, "log").iter() {
            let reply = field(&entry, "reply");
            if reply.is_object() {
                answers += 1;
                self.listen_feedback(&chat.push_reply(&reply), answers);
            } else {
                chat.push_user(&string(&entry, "user"));
            }
        }
        self.memory.replace(memory);
        Ok(())
    }
}

/// What the visitor reads when a message could not be answered (a sentence, or the gateway's
/// own words), and whether trying again may help.
fn failure_text(failure: &Failure) -> (Result<Text, &str>, bool) {
    match failure {
        Failure::Network => (Ok(Text::Network), true),
        _ if failure.is(ErrorCode::TooManyAttempts) => (Ok(Text::TooMany), true),
        _ if failure.is(ErrorCode::PayloadTooLarge) => (Ok(Text::TooLong), false),
        _ if failure.is(ErrorCode::BotOffline) => (Ok(Text::BotOffline), true),
        _ if failure.is(ErrorCode::MessageLimitReached) || failure.is(ErrorCode::PlanExpired) => {
            (Ok(Text::LimitReached), false)
        }
        // Our own gateway's words about what is wrong with the request.
        Failure::Http { message, .. } if failure.is(ErrorCode::InvalidRequest) && !message.is_empty() => {
            (Err(message), false)
        }
        Failure::Http { .. } => (Ok(Text::SomethingWrong), true),
    }
}

/// Logs the failure of an event handler; handlers have no caller to return it to.
pub(crate) fn report(result: Result<(), JsValue>) {
    if let Err(err) = result {
        dom::console_error_with("docent: unexpected error:", &err);
    }
}

/// `text`, unless it is blank.
fn non_empty<'a>(text: &'a str, fallback: &'a str) -> &'a str {
    if text.trim().is_empty() { fallback } else { text }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn http(code: ErrorCode, message: &str) -> Failure {
        Failure::Http { code: code.as_str().to_owned(), message: message.to_owned() }
    }

    #[test]
    fn failures_read_as_friendly_text() {
        for (failure, expected) in [
            (http(ErrorCode::TooManyAttempts, "slow down"), (Ok(Text::TooMany), true)),
            (http(ErrorCode::InvalidRequest, "text is empty"), (Err("text is empty"), false)),
            (http(ErrorCode::Internal, "disk full"), (Ok(Text::SomethingWrong), true)),
            (http(ErrorCode::BotOffline, "inactive"), (Ok(Text::BotOffline), true)),
            (http(ErrorCode::MessageLimitReached, "quota"), (Ok(Text::LimitReached), false)),
            (Failure::Network, (Ok(Text::Network), true)),
            (Failure::Http { code: String::new(), message: String::new() }, (Ok(Text::SomethingWrong), true)),
        ] {
            assert_eq!(failure_text(&failure), expected, "{failure:?}");
        }
    }
}
