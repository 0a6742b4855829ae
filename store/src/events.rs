//! What visitors did and how the gateway fared: events, their hourly rollups, and operational log records.
//!
//! [`EventStore::record_events`] writes a batch of events and folds them, in the same
//! transaction, into three small aggregates that dashboards read instead of raw events:
//! hourly counters per bot ([`HourlyRollup`]), one row per conversation (start, last
//! activity, messages, goals) and daily counts per normalised question. Texts are stored
//! redacted by the caller; [`EventStore::purge_texts`] forgets them after the retention.

use std::collections::HashMap;

use serde::Serialize;

use crate::{Result, Timestamp};

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// A visitor's first message opened a conversation.
    ConversationStart,
    /// A visitor sent a message (answered or not).
    Message,
    /// The bot replied: `tier`, `latency_ms` and `source` are set, `text` is the question.
    Reply,
    /// A chat request failed: `value` is the HTTP status, `detail` the error code.
    Error,
    /// The visitor opened the widget.
    Open,
    /// The visitor closed the widget.
    Close,
    ThumbUp,
    ThumbDown,
    /// A 1–5 rating in `value`.
    Rating,
    /// A goal set by the page's JS API, named in `detail`.
    Goal,
}

impl EventKind {
    pub const ALL: [EventKind; 10] = [
        EventKind::ConversationStart,
        EventKind::Message,
        EventKind::Reply,
        EventKind::Error,
        EventKind::Open,
        EventKind::Close,
        EventKind::ThumbUp,
        EventKind::ThumbDown,
        EventKind::Rating,
        EventKind::Goal,
    ];

    /// The stable name stored and exported.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::ConversationStart => "conversation_start",
            EventKind::Message => "message",
            EventKind::Reply => "reply",
            EventKind::Error => "error",
            EventKind::Open => "open",
            EventKind::Close => "close",
            EventKind::ThumbUp => "thumb_up",
            EventKind::ThumbDown => "thumb_down",
            EventKind::Rating => "rating",
            EventKind::Goal => "goal",
        }
    }

    pub fn parse(text: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|kind| kind.as_str() == text)
    }
}

/// How a reply answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    /// A Q&A pair or a passage answered.
    Answer,
    /// Pages that may help, with a way to reach a person.
    Suggestions,
    /// The configured "I don't know".
    Unknown,
}

impl Tier {
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Answer => "answer",
            Tier::Suggestions => "suggestions",
            Tier::Unknown => "unknown",
        }
    }

    pub fn parse(text: &str) -> Option<Tier> {
        [Tier::Answer, Tier::Suggestions, Tier::Unknown].into_iter().find(|tier| tier.as_str() == text)
    }
}

/// One event. Never holds a client address: `visitor` is a salted hash that rotates daily.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Event {
    pub bot: String,
    /// The generation that served it, when one did.
    pub generation: Option<u64>,
    pub conversation: Option<String>,
    pub at: Timestamp,
    pub kind: EventKind,
    /// The best source of a reply (`path#anchor`).
    pub source: Option<String>,
    pub tier: Option<Tier>,
    pub latency_ms: Option<u64>,
    /// A rating (1–5) or an HTTP status.
    pub value: Option<i64>,
    /// A goal's name or an error code: fixed vocabulary, never visitor text.
    pub detail: Option<String>,
    /// The visitor's question, already redacted; kept for the retention only.
    pub text: Option<String>,
    pub visitor: Option<String>,
}

impl Event {
    /// An event with only the required fields set.
    pub fn new(bot: &str, at: Timestamp, kind: EventKind) -> Event {
        Event {
            bot: bot.to_owned(),
            generation: None,
            conversation: None,
            at,
            kind,
            source: None,
            tier: None,
            latency_ms: None,
            value: None,
            detail: None,
            text: None,
            visitor: None,
        }
    }
}

/// Replies slower than this count as slow in the rollups (the response-time target).
pub const SLOW_REPLY_MS: u64 = 2_000;

/// One bot's counters for one hour, summed from its events.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct HourlyRollup {
    /// The hour's first second (a multiple of 3600).
    pub hour: Timestamp,
    pub conversations: u64,
    pub messages: u64,
    pub answers: u64,
    pub suggestions: u64,
    pub unknowns: u64,
    pub errors: u64,
    pub latency_ms_sum: u64,
    /// Replies slower than [`SLOW_REPLY_MS`].
    pub slow_replies: u64,
    pub thumbs_up: u64,
    pub thumbs_down: u64,
    pub ratings: u64,
    pub rating_sum: u64,
    pub goals: u64,
    pub opens: u64,
    pub closes: u64,
}

impl HourlyRollup {
    pub fn replies(&self) -> u64 {
        self.answers + self.suggestions + self.unknowns
    }

    /// Adds `other`'s counters to these.
    pub fn add(&mut self, other: &HourlyRollup) {
        self.conversations += other.conversations;
        self.messages += other.messages;
        self.answers += other.answers;
        self.suggestions += other.suggestions;
        self.unknowns += other.unknowns;
        self.errors += other.errors;
        self.latency_ms_sum += other.latency_ms_sum;
        self.slow_replies += other.slow_replies;
        self.thumbs_up += other.thumbs_up;
        self.thumbs_down += other.thumbs_down;
        self.ratings += other.ratings;
        self.rating_sum += other.rating_sum;
        self.goals += other.goals;
        self.opens += other.opens;
        self.closes += other.closes;
    }
}

/// Conversations that started in a time range, summed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ConversationStats {
    /// Conversations with at least one visitor message.
    pub conversations: u64,
    /// Of those, the ones with exactly one visitor message.
    pub bounced: u64,
    /// Of those, the ones with at least one goal.
    pub converted: u64,
    /// Sum over those of (last activity − start), in seconds.
    pub duration_sum: u64,
    /// Of those, the ones seeded as demo data (their id starts with [`DEMO_PREFIX`]).
    pub demo: u64,
}

/// Topics kept per conversation for its flow path.
pub const FLOW_TOPICS: usize = 3;

/// The topic of a reply without a matched source ("I don't know").
pub const NO_MATCH: &str = "(no match)";

/// A flow path (the first [`FLOW_TOPICS`] topics of a conversation's replies, a topic repeated
/// at once counted once) and the conversations that took it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FlowCount {
    pub topics: Vec<String>,
    pub conversations: u64,
}

/// Where unresolved conversations ended: the topic of their last reply, and how many.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DropOff {
    pub topic: String,
    pub conversations: u64,
}

/// Conversation ids of seeded demo data start with this.
pub const DEMO_PREFIX: &str = "demo_";

/// A normalised question and how often it was asked, and left unresolved, in a range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QuestionCount {
    /// The normalised text ([`normalize_question`]).
    pub question: String,
    /// One way a visitor phrased it (redacted).
    pub example: String,
    pub asked: u64,
    /// Answered with suggestions or "I don't know".
    pub unresolved: u64,
}

/// A level of an operational record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    Info,
    Warning,
    Error,
}

impl LogLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Info => "info",
            LogLevel::Warning => "warning",
            LogLevel::Error => "error",
        }
    }

    pub fn parse(text: &str) -> Option<LogLevel> {
        [LogLevel::Info, LogLevel::Warning, LogLevel::Error].into_iter().find(|level| level.as_str() == text)
    }
}

/// One operational record (a deploy, an error, a refusal). Never holds a secret or message text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogRecord {
    pub at: Timestamp,
    pub level: LogLevel,
    /// The bot it concerns, if one.
    pub bot: Option<String>,
    pub message: String,
}

/// Which log records to read: all bounds optional, `level` is the lowest level shown.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogQuery {
    pub bot: Option<String>,
    pub since: Option<Timestamp>,
    /// Exclusive.
    pub until: Option<Timestamp>,
    pub level: Option<LogLevel>,
    pub limit: usize,
}

/// The monitoring part of the store. Ranges are `[from, to)` in Unix seconds.
pub trait EventStore {
    /// Writes `events` and updates the rollups, in one transaction.
    fn record_events(&self, events: &[Event]) -> Result<()>;
    /// The bot's hourly rollups whose hour starts in `[from, to)`, oldest first; hours without events are absent.
    fn hourly_rollups(&self, bot: &str, from: Timestamp, to: Timestamp) -> Result<Vec<HourlyRollup>>;
    /// Conversations of the bot that started in `[from, to)`.
    fn conversation_stats(&self, bot: &str, from: Timestamp, to: Timestamp) -> Result<ConversationStats>;
    /// The most asked questions of days starting in `[from, to)`, most asked first; with
    /// `unresolved_only`, those left unresolved, most often first.
    fn top_questions(
        &self,
        bot: &str,
        from: Timestamp,
        to: Timestamp,
        unresolved_only: bool,
        limit: usize,
    ) -> Result<Vec<QuestionCount>>;
    /// Raw events of the bot in `[from, to)`, oldest first (for exports and tests).
    fn events(&self, bot: &str, from: Timestamp, to: Timestamp, limit: usize) -> Result<Vec<Event>>;
    /// The most taken flow paths of the conversations that started in `[from, to)`.
    fn flows(&self, bot: &str, from: Timestamp, to: Timestamp, limit: usize) -> Result<Vec<FlowCount>>;
    /// The last topics of the conversations that started in `[from, to)` whose last reply was
    /// not an answer, most frequent first.
    fn drop_offs(&self, bot: &str, from: Timestamp, to: Timestamp, limit: usize) -> Result<Vec<DropOff>>;
    /// Forgets question texts recorded before `before` (events and question counts); returns how many events lost theirs.
    fn purge_texts(&self, before: Timestamp) -> Result<u64>;
    fn add_log(&self, record: &LogRecord) -> Result<()>;
    /// Newest first.
    fn logs(&self, query: &LogQuery) -> Result<Vec<LogRecord>>;
}

/// A question's grouping key: lowercase, letters and digits only, single spaces, and the
/// trailing `?`/`!`/`.` dropped. `"How do I  reset my password?"` and `"how do i reset my
/// password"` are one question.
pub fn normalize_question(text: &str) -> String {
    let mut key = String::with_capacity(text.len());
    for word in text.split(|c: char| !c.is_alphanumeric() && c != '\'' && c != '[' && c != ']') {
        let word: String = word.chars().filter(|c| *c != '\'').flat_map(char::to_lowercase).collect();
        if word.is_empty() {
            continue;
        }
        if !key.is_empty() {
            key.push(' ');
        }
        key.push_str(&word);
    }
    key
}

/// The start of the hour containing `at`.
pub fn hour_of(at: Timestamp) -> Timestamp {
    at - at.rem_euclid(3600)
}

/// The start of the UTC day containing `at`.
pub fn day_of(at: Timestamp) -> Timestamp {
    at - at.rem_euclid(86_400)
}

/// One conversation's change from a batch.
pub(crate) struct ConversationDelta {
    pub(crate) first: Timestamp,
    pub(crate) last: Timestamp,
    pub(crate) messages: u64,
    pub(crate) goals: u64,
    /// The batch's replies in order: (time, topic, answered).
    pub(crate) replies: Vec<(Timestamp, String, bool)>,
}

/// One question's change from a batch.
pub(crate) struct QuestionDelta {
    pub(crate) example: String,
    pub(crate) asked: u64,
    pub(crate) unresolved: u64,
}

pub(crate) type Folded = (
    HashMap<(String, Timestamp), HourlyRollup>,
    HashMap<(String, String), ConversationDelta>,
    HashMap<(String, Timestamp, String), QuestionDelta>,
);

/// Sums a batch per bot and hour, per conversation and per question and day.
pub(crate) fn fold(events: &[Event]) -> Folded {
    let (mut hours, mut conversations, mut questions) = (HashMap::new(), HashMap::new(), HashMap::new());
    for event in events {
        let hour: &mut HourlyRollup = hours.entry((event.bot.clone(), hour_of(event.at))).or_default();
        match event.kind {
            EventKind::ConversationStart => hour.conversations += 1,
            EventKind::Message => hour.messages += 1,
            EventKind::Reply => {
                match event.tier {
                    Some(Tier::Answer) => hour.answers += 1,
                    Some(Tier::Suggestions) => hour.suggestions += 1,
                    Some(Tier::Unknown) | None => hour.unknowns += 1,
                }
                let latency = event.latency_ms.unwrap_or(0);
                hour.latency_ms_sum += latency;
                hour.slow_replies += u64::from(latency > SLOW_REPLY_MS);
            }
            EventKind::Error => hour.errors += 1,
            EventKind::Open => hour.opens += 1,
            EventKind::Close => hour.closes += 1,
            EventKind::ThumbUp => hour.thumbs_up += 1,
            EventKind::ThumbDown => hour.thumbs_down += 1,
            EventKind::Rating => {
                hour.ratings += 1;
                hour.rating_sum += event.value.unwrap_or(0).clamp(0, 5) as u64;
            }
            EventKind::Goal => hour.goals += 1,
        }
        if let Some(conversation) = &event.conversation {
            let delta = conversations.entry((event.bot.clone(), conversation.clone())).or_insert(ConversationDelta {
                first: event.at,
                last: event.at,
                messages: 0,
                goals: 0,
                replies: Vec::new(),
            });
            delta.first = delta.first.min(event.at);
            delta.last = delta.last.max(event.at);
            delta.messages += u64::from(event.kind == EventKind::Message);
            delta.goals += u64::from(event.kind == EventKind::Goal);
            if event.kind == EventKind::Reply {
                let topic = event.source.clone().unwrap_or_else(|| NO_MATCH.to_owned());
                delta.replies.push((event.at, topic, event.tier == Some(Tier::Answer)));
            }
        }
        if event.kind == EventKind::Reply
            && let Some(text) = &event.text
        {
            let question = normalize_question(text);
            if !question.is_empty() {
                let delta = questions.entry((event.bot.clone(), day_of(event.at), question)).or_insert(QuestionDelta {
                    example: text.clone(),
                    asked: 0,
                    unresolved: 0,
                });
                delta.asked += 1;
                delta.unresolved += u64::from(event.tier != Some(Tier::Answer));
            }
        }
    }
    (hours, conversations, questions)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn questions_group_by_their_words() {
        for (text, key) in [
            ("How do I  reset my password?", "how do i reset my password"),
            ("how do i reset my PASSWORD", "how do i reset my password"),
            ("What's the price?!", "whats the price"),
            ("Où est la gare ?", "où est la gare"),
            ("my e-mail is [email]", "my e mail is [email]"),
            ("   ", ""),
        ] {
            assert_eq!(normalize_question(text), key, "{text:?}");
        }
    }

    #[test]
    fn hours_and_days_start_on_their_boundary() {
        for (at, hour, day) in
            [(0, 0, 0), (3599, 0, 0), (3600, 3600, 0), (90_061, 90_000, 86_400), (-1, -3600, -86_400)]
        {
            assert_eq!((hour_of(at), day_of(at)), (hour, day), "{at}");
        }
    }
}
