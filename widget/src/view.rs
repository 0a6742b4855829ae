//! The widget's frame: host element and shadow root, launcher, panel, and its states.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use docent_protocol::{ErrorCode, Position, Visibility, WidgetConfig};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Document, Element, HtmlElement, KeyboardEvent, ShadowRootInit, ShadowRootMode};

use crate::api::{Api, Failure};
use crate::chat::Chat;
use crate::dom;
use crate::login::Login;
use crate::style;

/// What the panel shows; its name is the panel's `data-state` attribute.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum State {
    /// The conversation.
    Chat,
    /// The staff password form of an internal bot.
    Login,
    /// The gateway is up but refuses this page's origin.
    NotAvailable,
    /// Neither the bot nor the gateway can be reached.
    Offline,
}

impl State {
    fn name(self) -> &'static str {
        match self {
            State::Chat => "chat",
            State::Login => "login",
            State::NotAvailable => "not-available",
            State::Offline => "offline",
        }
    }
}

/// The conversation's memory. Kept in this page's memory only: never in storage.
#[derive(Default)]
pub(crate) struct Session {
    /// The bearer token of an internal bot, once the visitor signed in.
    pub(crate) token: Option<String>,
    /// The id the gateway gave the conversation in its last reply.
    pub(crate) conversation_id: Option<String>,
}

/// One widget on the page, shared by its event handlers.
pub(crate) struct Widget {
    pub(crate) doc: Document,
    pub(crate) api: Api,
    pub(crate) session: RefCell<Session>,
    /// Present once the configuration loaded.
    pub(crate) chat: Option<Chat>,
    /// Present for internal bots.
    pub(crate) login: Option<Login>,
    state: Cell<State>,
    host: Element,
    root: HtmlElement,
    panel: HtmlElement,
    launcher: HtmlElement,
    close: HtmlElement,
}

/// Loads the bot's configuration, then draws the widget in the state it calls for.
pub(crate) async fn start(bot: String, gateway: String) -> Result<(), JsValue> {
    if bot.is_empty() {
        dom::console_error("docent: boot() needs a bot id");
        return Ok(());
    }
    let doc =
        web_sys::window().and_then(|window| window.document()).ok_or_else(|| dom::error("no document to draw in"))?;
    let api = Api::new(&gateway, &bot);
    let loaded = match api.config().await {
        Ok(config) => Ok(config),
        Err(failure) if failure.code() == Some(ErrorCode::BotNotFound) => {
            dom::console_error(&["docent: no bot named \"", &bot, "\" on this gateway"].concat());
            return Ok(());
        }
        Err(failure) if failure.code() == Some(ErrorCode::OriginNotAllowed) => Err(State::NotAvailable),
        // A rejected fetch is what a CORS refusal looks like from here: if the
        // gateway itself answers, it is this site that the bot refuses.
        Err(Failure::Network) if api.healthy().await => Err(State::NotAvailable),
        Err(_) => Err(State::Offline),
    };
    let body = dom::body(&doc).await?;
    // The snippet may be on the page twice: the first widget of a bot wins.
    if dom::hosted(&doc, &bot)? {
        return Ok(());
    }
    let widget = Rc::new(Widget::build(doc, api, loaded)?);
    widget.host.set_attribute("data-docent-bot", &bot)?;
    let shadow = widget.host.attach_shadow(&ShadowRootInit::new(ShadowRootMode::Open))?;
    if let Err(err) = style::adopt(&shadow) {
        dom::console_error_with("docent: this browser cannot style the widget:", &err);
        return Ok(());
    }
    shadow.append_child(&widget.root)?;
    wire(&widget)?;
    body.append_child(&widget.host)?;
    Ok(())
}

impl Widget {
    /// Builds the widget's tree, detached, from the configuration or the reason there is none.
    fn build(doc: Document, api: Api, loaded: Result<WidgetConfig, State>) -> Result<Widget, JsValue> {
        let host: Element = dom::create(&doc, "div", "")?;
        let root: HtmlElement = dom::create(&doc, "div", "docent-root")?;
        let (title, label) = match &loaded {
            Ok(config) => (config.name.as_str(), config.appearance.launcher_label.as_str()),
            Err(_) => ("", ""),
        };
        let title = non_empty(title, "Assistant");
        let label = non_empty(label, "Chat");

        let launcher: HtmlElement = dom::create(&doc, "button", "docent-launcher")?;
        dom::attrs(
            &launcher,
            &[
                ("type", "button"),
                ("aria-label", label),
                ("aria-haspopup", "dialog"),
                ("aria-expanded", "false"),
                ("aria-controls", "docent-panel"),
            ],
        )?;
        launcher.set_text_content(Some(label));

        let panel: HtmlElement = dom::create(&doc, "div", "docent-panel")?;
        dom::attrs(&panel, &[("id", "docent-panel"), ("role", "dialog"), ("aria-label", title)])?;
        panel.set_hidden(true);
        let header: Element = dom::create(&doc, "div", "docent-header")?;
        header.append_child(&dom::text(&doc, "span", "docent-title", title)?)?;
        let close: HtmlElement = dom::create(&doc, "button", "docent-close")?;
        dom::attrs(&close, &[("type", "button"), ("aria-label", "Close chat")])?;
        close.set_text_content(Some("\u{d7}"));
        header.append_child(&close)?;
        panel.append_child(&header)?;

        let (state, chat, login) = match loaded {
            Ok(config) => {
                let left = config.appearance.position == Position::Left;
                root.set_attribute("data-position", if left { "left" } else { "right" })?;
                style::set_accent(&root, &config.appearance.accent_color)?;
                let chat = Chat::build(&doc, &config.greeting)?;
                panel.append_child(chat.view())?;
                if config.visibility == Visibility::Internal {
                    let login = Login::build(&doc, &config.bot)?;
                    panel.append_child(login.view())?;
                    (State::Login, Some(chat), Some(login))
                } else {
                    (State::Chat, Some(chat), None)
                }
            }
            Err(state) => {
                root.set_attribute("data-position", "right")?;
                style::set_accent(&root, "")?;
                let text = if state == State::NotAvailable {
                    "This assistant is not available on this site."
                } else {
                    "The assistant can't be reached right now. Please try again later."
                };
                panel.append_child(&dom::text(&doc, "p", "docent-state-message", text)?)?;
                (state, None, None)
            }
        };
        panel.set_attribute("data-state", state.name())?;
        root.append_child(&launcher)?;
        root.append_child(&panel)?;
        Ok(Widget {
            doc,
            api,
            session: RefCell::new(Session::default()),
            chat,
            login,
            state: Cell::new(state),
            host,
            root,
            panel,
            launcher,
            close,
        })
    }

    /// Switches the panel to `state`, moving the focus along if the panel is open.
    pub(crate) fn set_state(&self, state: State) -> Result<(), JsValue> {
        self.state.set(state);
        self.panel.set_attribute("data-state", state.name())?;
        if self.is_open() {
            self.focus_state()?;
        }
        Ok(())
    }

    /// Gives the focus back to the current state's field after an exchange with
    /// the gateway, unless the visitor has moved on to something else on the page.
    pub(crate) fn refocus(&self) -> Result<(), JsValue> {
        let idle = match self.doc.active_element() {
            None => true,
            Some(active) => active == self.host || self.doc.body().is_some_and(|body| active == *body.as_ref()),
        };
        if idle && self.is_open() { self.focus_state() } else { Ok(()) }
    }

    fn is_open(&self) -> bool {
        !self.panel.hidden()
    }

    fn open(&self) -> Result<(), JsValue> {
        self.panel.set_hidden(false);
        self.launcher.set_attribute("aria-expanded", "true")?;
        if let Some(chat) = &self.chat {
            chat.scroll_to_end();
        }
        self.focus_state()
    }

    fn close(&self) -> Result<(), JsValue> {
        self.panel.set_hidden(true);
        self.launcher.set_attribute("aria-expanded", "false")?;
        self.launcher.focus()
    }

    /// Focuses the field the current state asks the visitor to fill in.
    fn focus_state(&self) -> Result<(), JsValue> {
        match (self.state.get(), &self.chat, &self.login) {
            (State::Chat, Some(chat), _) => chat.focus(),
            (State::Login, _, Some(login)) => login.focus(),
            _ => self.close.focus(),
        }
    }
}

/// Connects the launcher, the close button, Escape, and the forms to the widget.
fn wire(widget: &Rc<Widget>) -> Result<(), JsValue> {
    let w = Rc::clone(widget);
    dom::on(&widget.launcher, "click", move |_| {
        let toggled = if w.is_open() { w.close() } else { w.open() };
        report(toggled);
    })?;
    let w = Rc::clone(widget);
    dom::on(&widget.close, "click", move |_| report(w.close()))?;
    let w = Rc::clone(widget);
    dom::on(&widget.root, "keydown", move |event| {
        let escape = event.dyn_ref::<KeyboardEvent>().is_some_and(|key| key.key() == "Escape");
        if escape && w.is_open() {
            event.prevent_default();
            report(w.close());
        }
    })?;
    if let Some(chat) = &widget.chat {
        chat.wire(widget)?;
    }
    if let Some(login) = &widget.login {
        login.wire(widget)?;
    }
    Ok(())
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
