//! Wire types shared by the widget and the gateway: serde shapes only, no IO.
//!
//! Every type here is what travels as JSON between `bundle.js` in a visitor's
//! browser and the `docent` gateway. The crate compiles for `wasm32` and native.

use serde::{Deserialize, Serialize};

/// The longest chat message, in characters, that the gateway accepts.
pub const MAX_MESSAGE_CHARS: usize = 2000;

/// `POST /v1/bots/{bot}/messages`: one visitor message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageRequest {
    pub text: String,
    /// Absent on the first message of a conversation; the gateway then assigns one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation_id: Option<String>,
}

/// The gateway's answer to a [`MessageRequest`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessageReply {
    pub conversation_id: String,
    pub reply: Reply,
}

/// What the bot says back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reply {
    pub kind: ReplyKind,
    /// Plain text; the widget renders it as text, never as HTML.
    pub text: String,
    /// Where the answer comes from (or the pages suggested), best first. Empty for [`ReplyKind::Unknown`].
    pub sources: Vec<Source>,
    /// A way to reach a person; set when the bot could not answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handoff: Option<Handoff>,
}

/// How an answer was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplyKind {
    /// A curated question-and-answer pair matched.
    Faq,
    /// A passage of a knowledge document matched.
    Document,
    /// Relevant sections exist but none answers for sure: `text` introduces
    /// them ("These pages may help:"), `sources` holds 2-3 of them, and
    /// `handoff` is set.
    Suggestions,
    /// Nothing in the knowledge base answers the question.
    Unknown,
}

/// One source of an answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    pub title: String,
    /// Path relative to the bot's knowledge folder, with `#anchor` for a section.
    pub source: String,
    /// Public `http(s)` address of the source, when the knowledge file names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// A way for the visitor to reach a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Handoff {
    pub label: String,
    /// An `https:`, `http:` or `mailto:` address.
    pub url: String,
}

/// `GET /v1/bots/{bot}/config`: what the widget needs to draw itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WidgetConfig {
    pub bot: String,
    pub name: String,
    pub visibility: Visibility,
    pub greeting: String,
    pub appearance: Appearance,
    /// The language the widget speaks, a primary language subtag such as `fr`: the snippet's
    /// `data-locale`, else the bot's `appearance.locale`, else the page's `lang`, else `en`.
    pub language: String,
    /// The writing direction of [`WidgetConfig::language`].
    pub dir: TextDirection,
    /// Every sentence the widget shows, by key of [`WIDGET_TEXT_KEYS`]: the built-in wording of
    /// the language (English for a language without one) under the bot's `[appearance.strings]`.
    pub strings: std::collections::BTreeMap<String, String>,
}

/// Which way the widget's text runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TextDirection {
    Ltr,
    Rtl,
}

/// Who may talk to a bot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// Anyone, on the bot's allowlisted website origins.
    Public,
    /// Staff only: a password or an access token is needed.
    Internal,
}

/// The widget's look.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Appearance {
    /// `#rrggbb`.
    pub accent_color: String,
    pub position: Position,
    pub launcher_label: String,
    /// Where the widget keeps the conversation across pages and reloads.
    #[serde(default)]
    pub conversation_storage: ConversationStorage,
    /// Light, dark, or as the visitor's system prefers.
    #[serde(default)]
    pub theme: Theme,
    /// The widget's language (a BCP 47 tag such as `fr` or `de-CH`) when the snippet has no
    /// `data-locale`; empty: the page's `lang`.
    #[serde(default)]
    pub locale: String,
    /// The bot's own wording, by key of [`WIDGET_TEXT_KEYS`], over the widget's.
    #[serde(default)]
    pub strings: std::collections::BTreeMap<String, String>,
}

/// The keys of the widget's sentences that a bot may reword (`[appearance.strings]`). The first
/// six are those the widget shows without a configuration (the gateway unreachable, the origin
/// refused), which it keeps built in, in English.
pub const WIDGET_TEXT_KEYS: [&str; 37] = [
    "assistant",
    "launcher",
    "close",
    "new_conversation",
    "not_available",
    "unreachable",
    "conversation",
    "your_message",
    "placeholder",
    "send",
    "you_said",
    "assistant_said",
    "typing",
    "source",
    "sources",
    "untitled_source",
    "contact_us",
    "retry",
    "too_long",
    "too_many",
    "bot_offline",
    "limit_reached",
    "network",
    "something_wrong",
    "staff_intro",
    "password",
    "sign_in",
    "enter_password",
    "wrong_password",
    "too_many_attempts",
    "session_ended",
    "helpful",
    "not_helpful",
    "rate",
    "rating_scale",
    "out_of_five",
    "thanks",
];

/// The widget's colour scheme.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Theme {
    /// Follows `prefers-color-scheme`.
    #[default]
    Auto,
    Light,
    Dark,
}

/// Where the widget keeps a conversation on the visitor's device. Never a bearer token.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConversationStorage {
    /// `sessionStorage`: until the tab closes.
    #[default]
    Session,
    /// `localStorage`: until the visitor starts a new conversation or clears the site's data.
    Local,
}

/// Which bottom corner the launcher sits in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Position {
    Left,
    Right,
}

/// `POST /v1/bots/{bot}/sessions`: staff sign-in to an internal bot, with exactly one of a
/// password or a token the bot's website signed (JWT HS256 with the bot's site secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_token: Option<String>,
}

/// A bearer token for an internal bot's API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionGrant {
    pub token: String,
    /// Seconds until the token stops working.
    pub expires_in: u64,
}

/// The most events one `POST /v1/bots/{bot}/events` may carry.
pub const MAX_EVENTS_PER_BATCH: usize = 20;

/// `POST /v1/bots/{bot}/events`: what visitors did with the widget, for analytics.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventBatch {
    pub events: Vec<WidgetEvent>,
}

/// One thing a visitor did, named by its `type`. Never carries message text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum WidgetEvent {
    /// The panel opened. (Braces, so that unknown fields are refused here too.)
    Open {},
    /// The panel closed.
    Close {},
    /// Thumbs up (`helpful`) or down on the `answer`-th answer (from 1) of a conversation.
    Feedback { conversation_id: String, answer: u32, helpful: bool },
    /// The 1–5 satisfaction rating of a conversation.
    Rating { conversation_id: String, score: u8 },
    /// A conversion the site reported with `Docent.goal(name)`.
    Goal { name: String },
}

impl WidgetEvent {
    /// The event's `type` as it appears on the wire.
    pub fn kind(&self) -> &'static str {
        match self {
            WidgetEvent::Open {} => "open",
            WidgetEvent::Close {} => "close",
            WidgetEvent::Feedback { .. } => "feedback",
            WidgetEvent::Rating { .. } => "rating",
            WidgetEvent::Goal { .. } => "goal",
        }
    }

    /// Why the event is out of range, if it is.
    pub fn invalid(&self) -> Option<&'static str> {
        let is_name = |text: &str| {
            (1..=64).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        };
        match self {
            WidgetEvent::Open {} | WidgetEvent::Close {} => None,
            WidgetEvent::Feedback { conversation_id, answer, .. } => {
                if !is_name(conversation_id) {
                    Some("`conversation_id` must be 1 to 64 letters, digits, '-', '_' or '.'")
                } else if *answer == 0 {
                    Some("`answer` counts from 1")
                } else {
                    None
                }
            }
            WidgetEvent::Rating { conversation_id, score } => {
                if !is_name(conversation_id) {
                    Some("`conversation_id` must be 1 to 64 letters, digits, '-', '_' or '.'")
                } else if !(1..=5).contains(score) {
                    Some("`score` must be 1 to 5")
                } else {
                    None
                }
            }
            WidgetEvent::Goal { name } => {
                (!is_name(name)).then_some("goal `name` must be 1 to 64 letters, digits, '-', '_' or '.'")
            }
        }
    }
}

/// Every HTTP error body: `{"error":{"code":"…","message":"…"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// The stable code and a human-readable message of an error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    pub code: ErrorCode,
    pub message: String,
}

/// Stable error codes. Clients match on these, never on messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The request is malformed: bad JSON, a missing or invalid field.
    InvalidRequest,
    /// The request body is larger than the gateway accepts.
    PayloadTooLarge,
    /// The body is not `application/json`.
    UnsupportedMediaType,
    /// The page's origin is not on the bot's allowlist.
    OriginNotAllowed,
    /// No bot has this id.
    BotNotFound,
    /// No widget build has this version.
    WidgetVersionNotFound,
    /// No route matches the path.
    NotFound,
    /// The route exists but not for this method.
    MethodNotAllowed,
    /// The internal bot needs a valid bearer token.
    Unauthorized,
    /// The password is wrong.
    InvalidCredentials,
    /// Too many attempts; retry later.
    TooManyAttempts,
    /// The bot is deactivated, not yet active, or not deployed.
    BotOffline,
    /// The bot's plan allows no more messages this month.
    MessageLimitReached,
    /// The bot's plan has expired.
    PlanExpired,
    /// Signed in, but not allowed to do this (an admin token scoped to another bot, a bad CSRF token).
    Forbidden,
    /// Another deploy of this bot is running.
    DeployInProgress,
    /// The bot does not meet a prerequisite for this action; the message lists them.
    CannotDeploy,
    /// The bot's current state rules the action out (e.g. a rollback with no earlier generation).
    Conflict,
    /// The request (its body, or the whole exchange) took longer than the gateway allows.
    RequestTimeout,
    /// This gateway cannot serve yet: its store is unreachable or a live generation is not open.
    NotReady,
    /// The store (PostgreSQL) cannot be reached now; retry after `Retry-After` seconds.
    StoreUnavailable,
    /// Something failed inside the gateway; the logs say what.
    Internal,
}

impl ErrorCode {
    /// The code as it appears on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::OriginNotAllowed => "origin_not_allowed",
            ErrorCode::BotNotFound => "bot_not_found",
            ErrorCode::WidgetVersionNotFound => "widget_version_not_found",
            ErrorCode::NotFound => "not_found",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::InvalidCredentials => "invalid_credentials",
            ErrorCode::TooManyAttempts => "too_many_attempts",
            ErrorCode::BotOffline => "bot_offline",
            ErrorCode::MessageLimitReached => "message_limit_reached",
            ErrorCode::PlanExpired => "plan_expired",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::DeployInProgress => "deploy_in_progress",
            ErrorCode::CannotDeploy => "cannot_deploy",
            ErrorCode::Conflict => "conflict",
            ErrorCode::RequestTimeout => "request_timeout",
            ErrorCode::NotReady => "not_ready",
            ErrorCode::StoreUnavailable => "store_unavailable",
            ErrorCode::Internal => "internal",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_serialize_as_their_stable_names() {
        let all = [
            ErrorCode::InvalidRequest,
            ErrorCode::PayloadTooLarge,
            ErrorCode::UnsupportedMediaType,
            ErrorCode::OriginNotAllowed,
            ErrorCode::BotNotFound,
            ErrorCode::WidgetVersionNotFound,
            ErrorCode::NotFound,
            ErrorCode::MethodNotAllowed,
            ErrorCode::Unauthorized,
            ErrorCode::InvalidCredentials,
            ErrorCode::TooManyAttempts,
            ErrorCode::BotOffline,
            ErrorCode::MessageLimitReached,
            ErrorCode::PlanExpired,
            ErrorCode::Forbidden,
            ErrorCode::DeployInProgress,
            ErrorCode::CannotDeploy,
            ErrorCode::Conflict,
            ErrorCode::RequestTimeout,
            ErrorCode::NotReady,
            ErrorCode::StoreUnavailable,
            ErrorCode::Internal,
        ];
        for code in all {
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
        }
    }

    #[test]
    fn error_body_has_the_documented_shape() {
        let body =
            ErrorBody { error: ErrorDetail { code: ErrorCode::BotNotFound, message: "no bot named \"x\"".into() } };
        assert_eq!(
            serde_json::to_string(&body).unwrap(),
            r#"{"error":{"code":"bot_not_found","message":"no bot named \"x\""}}"#
        );
    }

    #[test]
    fn reply_kinds_serialize_as_their_wire_names() {
        for (kind, name) in [
            (ReplyKind::Faq, "\"faq\""),
            (ReplyKind::Document, "\"document\""),
            (ReplyKind::Suggestions, "\"suggestions\""),
            (ReplyKind::Unknown, "\"unknown\""),
        ] {
            assert_eq!(serde_json::to_string(&kind).unwrap(), name);
            assert_eq!(serde_json::from_str::<ReplyKind>(name).unwrap(), kind);
        }
    }

    #[test]
    fn widget_events_have_their_wire_shape_and_ranges() {
        let batch: EventBatch = serde_json::from_str(
            r#"{"events":[{"type":"open"},{"type":"feedback","conversation_id":"c_1","answer":2,"helpful":false},
               {"type":"rating","conversation_id":"c_1","score":5},{"type":"goal","name":"signup"}]}"#,
        )
        .unwrap();
        let kinds: Vec<&str> = batch.events.iter().map(WidgetEvent::kind).collect();
        assert_eq!(kinds, ["open", "feedback", "rating", "goal"]);
        assert!(batch.events.iter().all(|event| event.invalid().is_none()));
        for (json, problem) in [
            (r#"{"type":"rating","conversation_id":"c_1","score":6}"#, "`score` must be 1 to 5"),
            (r#"{"type":"rating","conversation_id":"","score":3}"#, "`conversation_id` must be"),
            (r#"{"type":"feedback","conversation_id":"c","answer":0,"helpful":true}"#, "`answer` counts from 1"),
            (r#"{"type":"goal","name":"a b"}"#, "goal `name` must be"),
        ] {
            let event: WidgetEvent = serde_json::from_str(json).unwrap();
            assert!(event.invalid().is_some_and(|why| why.starts_with(problem)), "{json}");
        }
        for bad in [r#"{"type":"open","text":"hi"}"#, r#"{"type":"purchase"}"#, r#"{"type":"goal"}"#] {
            assert!(serde_json::from_str::<WidgetEvent>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn message_request_rejects_unknown_fields() {
        let err = serde_json::from_str::<MessageRequest>(r#"{"text":"hi","txt":"x"}"#).unwrap_err();
        assert!(err.to_string().contains("unknown field `txt`"), "{err}");
        let ok: MessageRequest = serde_json::from_str(r#"{"text":"hi"}"#).unwrap();
        assert_eq!(ok.conversation_id, None);
    }
}
