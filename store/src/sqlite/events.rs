//! [`EventStore`] on SQLite: a batch of events and its rollups in one transaction.
//!
//! The batch is summed by [`fold`](crate::events) in Rust, shared with the PostgreSQL store;
//! the SQL keeps to what PostgreSQL also runs (`INSERT … ON CONFLICT … DO UPDATE`, `CASE`
//! instead of two-argument `MIN`/`MAX`).

use std::collections::HashMap;

use rusqlite::{Row, Transaction, params};

use super::{SqliteStore, db, stored};
use crate::events::{
    ConversationDelta, ConversationStats, DEMO_PREFIX, DropOff, Event, EventStore, FLOW_TOPICS, FlowCount,
    HourlyRollup, LogLevel, LogQuery, LogRecord, QuestionCount, QuestionDelta, Tier, day_of, fold,
};
use crate::names::StoredName;
use crate::{Result, Timestamp};

impl EventStore for SqliteStore {
    fn record_events(&self, events: &[Event]) -> Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        self.write(|tx| {
            insert_events(tx, events)?;
            let (hours, conversations, questions) = fold(events);
            upsert_hours(tx, &hours)?;
            upsert_conversations(tx, &conversations)?;
            upsert_questions(tx, &questions)
        })
    }

    fn flows(&self, bot: &str, from: Timestamp, to: Timestamp, limit: usize) -> Result<Vec<FlowCount>> {
        let conn = self.reader();
        let mut statement = conn
            .prepare_cached(
                "SELECT path, COUNT(*) FROM conversations
                 WHERE bot = ?1 AND started_at >= ?2 AND started_at < ?3 AND path_len > 0
                 GROUP BY path ORDER BY COUNT(*) DESC, path LIMIT ?4",
            )
            .map_err(db)?;
        statement
            .query_map(params![bot, from, to, limit as i64], |row| {
                let path: String = row.get(0)?;
                Ok(FlowCount { topics: path.split('\n').map(str::to_owned).collect(), conversations: row.get(1)? })
            })
            .map_err(db)?
            .collect::<rusqlite::Result<_>>()
            .map_err(db)
    }

    fn drop_offs(&self, bot: &str, from: Timestamp, to: Timestamp, limit: usize) -> Result<Vec<DropOff>> {
        let conn = self.reader();
        let mut statement = conn
            .prepare_cached(
                "SELECT last_topic, COUNT(*) FROM conversations
                 WHERE bot = ?1 AND started_at >= ?2 AND started_at < ?3 AND last_resolved = 0
                 GROUP BY last_topic ORDER BY COUNT(*) DESC, last_topic LIMIT ?4",
            )
            .map_err(db)?;
        statement
            .query_map(params![bot, from, to, limit as i64], |row| {
                Ok(DropOff { topic: row.get(0)?, conversations: row.get(1)? })
            })
            .map_err(db)?
            .collect::<rusqlite::Result<_>>()
            .map_err(db)
    }

    fn hourly_rollups(&self, bot: &str, from: Timestamp, to: Timestamp) -> Result<Vec<HourlyRollup>> {
        let conn = self.reader();
        let mut statement = conn
            .prepare_cached(
                "SELECT hour, conversations, messages, answers, suggestions, unknowns, errors, latency_ms_sum,
                        slow_replies, thumbs_up, thumbs_down, ratings, rating_sum, goals, opens, closes
                 FROM event_hours WHERE bot = ?1 AND hour >= ?2 AND hour < ?3 ORDER BY hour",
            )
            .map_err(db)?;
        statement
            .query_map(params![bot, from, to], |row| {
                Ok(HourlyRollup {
                    hour: row.get(0)?,
                    conversations: row.get(1)?,
                    messages: row.get(2)?,
                    answers: row.get(3)?,
                    suggestions: row.get(4)?,
                    unknowns: row.get(5)?,
                    errors: row.get(6)?,
                    latency_ms_sum: row.get(7)?,
                    slow_replies: row.get(8)?,
                    thumbs_up: row.get(9)?,
                    thumbs_down: row.get(10)?,
                    ratings: row.get(11)?,
                    rating_sum: row.get(12)?,
                    goals: row.get(13)?,
                    opens: row.get(14)?,
                    closes: row.get(15)?,
                })
            })
            .map_err(db)?
            .collect::<rusqlite::Result<_>>()
            .map_err(db)
    }

    fn conversation_stats(&self, bot: &str, from: Timestamp, to: Timestamp) -> Result<ConversationStats> {
        let demo_pattern = format!("{DEMO_PREFIX}%");
        self.reader()
            .query_row(
                "SELECT COUNT(*),
                        COALESCE(SUM(CASE WHEN messages = 1 THEN 1 ELSE 0 END), 0),
                        COALESCE(SUM(CASE WHEN goals > 0 THEN 1 ELSE 0 END), 0),
                        COALESCE(SUM(last_at - started_at), 0),
                        COALESCE(SUM(CASE WHEN id LIKE ?4 THEN 1 ELSE 0 END), 0)
                 FROM conversations WHERE bot = ?1 AND started_at >= ?2 AND started_at < ?3 AND messages > 0",
                params![bot, from, to, demo_pattern],
                |row| {
                    Ok(ConversationStats {
                        conversations: row.get(0)?,
                        bounced: row.get(1)?,
                        converted: row.get(2)?,
                        duration_sum: row.get(3)?,
                        demo: row.get(4)?,
                    })
                },
            )
            .map_err(db)
    }

    fn top_questions(
        &self,
        bot: &str,
        from: Timestamp,
        to: Timestamp,
        unresolved_only: bool,
        limit: usize,
    ) -> Result<Vec<QuestionCount>> {
        let conn = self.reader();
        let order = if unresolved_only { "unresolved" } else { "asked" };
        let mut statement = conn
            .prepare_cached(&format!(
                "SELECT question, MIN(example), SUM(asked) AS asked, SUM(unresolved) AS unresolved
                 FROM question_days WHERE bot = ?1 AND day >= ?2 AND day < ?3
                 GROUP BY question HAVING SUM({order}) > 0
                 ORDER BY {order} DESC, question LIMIT ?4"
            ))
            .map_err(db)?;
        statement
            .query_map(params![bot, from, to, limit as i64], |row| {
                Ok(QuestionCount {
                    question: row.get(0)?,
                    example: row.get(1)?,
                    asked: row.get(2)?,
                    unresolved: row.get(3)?,
                })
            })
            .map_err(db)?
            .collect::<rusqlite::Result<_>>()
            .map_err(db)
    }

    fn events(&self, bot: &str, from: Timestamp, to: Timestamp, limit: usize) -> Result<Vec<Event>> {
        let conn = self.reader();
        let mut statement = conn
            .prepare_cached(
                "SELECT bot, generation, conversation, at, kind, source, tier, latency_ms, value, detail, text, visitor
                 FROM events WHERE bot = ?1 AND at >= ?2 AND at < ?3 ORDER BY at, id LIMIT ?4",
            )
            .map_err(db)?;
        statement
            .query_map(params![bot, from, to, limit as i64], event_row)
            .map_err(db)?
            .collect::<rusqlite::Result<_>>()
            .map_err(db)
    }

    fn purge_texts(&self, before: Timestamp) -> Result<u64> {
        self.write(|tx| {
            let purged =
                tx.execute("UPDATE events SET text = NULL WHERE at < ?1 AND text IS NOT NULL", [before]).map_err(db)?;
            // A day's counts hold that day's texts: the whole day goes once it began before the cutoff.
            tx.execute("DELETE FROM question_days WHERE day < ?1", [day_of(before) + 1]).map_err(db)?;
            Ok(purged as u64)
        })
    }

    fn add_log(&self, record: &LogRecord) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO log_records (at, level, bot, message) VALUES (?1, ?2, ?3, ?4)",
                params![record.at, record.level.as_str(), record.bot, record.message],
            )
            .map_err(db)?;
            Ok(())
        })
    }

    fn logs(&self, query: &LogQuery) -> Result<Vec<LogRecord>> {
        let levels: &[&str] = match query.level.unwrap_or(LogLevel::Info) {
            LogLevel::Info => &["info", "warning", "error"],
            LogLevel::Warning => &["warning", "error"],
            LogLevel::Error => &["error"],
        };
        let conn = self.reader();
        let mut statement = conn
            .prepare_cached(
                "SELECT at, level, bot, message FROM log_records
                 WHERE (?1 IS NULL OR bot = ?1) AND at >= ?2 AND at < ?3 AND level IN (?4, ?5, ?6)
                 ORDER BY at DESC, id DESC LIMIT ?7",
            )
            .map_err(db)?;
        let level = |index: usize| levels.get(index).or(levels.last()).copied().unwrap_or("error");
        statement
            .query_map(
                params![
                    query.bot,
                    query.since.unwrap_or(Timestamp::MIN),
                    query.until.unwrap_or(Timestamp::MAX),
                    level(0),
                    level(1),
                    level(2),
                    query.limit as i64
                ],
                |row| Ok(LogRecord { at: row.get(0)?, level: stored(row, 1)?, bot: row.get(2)?, message: row.get(3)? }),
            )
            .map_err(db)?
            .collect::<rusqlite::Result<_>>()
            .map_err(db)
    }
}

fn insert_events(tx: &Transaction<'_>, events: &[Event]) -> Result<()> {
    let mut statement = tx
        .prepare_cached(
            "INSERT INTO events (bot, generation, conversation, at, kind, source, tier, latency_ms, value, detail, text, visitor)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        )
        .map_err(db)?;
    for event in events {
        statement
            .execute(params![
                event.bot,
                event.generation.map(|number| number as i64),
                event.conversation,
                event.at,
                event.kind.as_str(),
                event.source,
                event.tier.map(Tier::as_str),
                event.latency_ms.map(|ms| ms as i64),
                event.value,
                event.detail,
                event.text,
                event.visitor,
            ])
            .map_err(db)?;
    }
    Ok(())
}

fn upsert_hours(tx: &Transaction<'_>, hours: &HashMap<(String, Timestamp), HourlyRollup>) -> Result<()> {
    let mut statement = tx
        .prepare_cached(
            "INSERT INTO event_hours (bot, hour, conversations, messages, answers, suggestions, unknowns, errors,
                 latency_ms_sum, slow_replies, thumbs_up, thumbs_down, ratings, rating_sum, goals, opens, closes)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)
             ON CONFLICT (bot, hour) DO UPDATE SET
                 conversations = event_hours.conversations + excluded.conversations,
                 messages = event_hours.messages + excluded.messages,
                 answers = event_hours.answers + excluded.answers,
                 suggestions = event_hours.suggestions + excluded.suggestions,
                 unknowns = event_hours.unknowns + excluded.unknowns,
                 errors = event_hours.errors + excluded.errors,
                 latency_ms_sum = event_hours.latency_ms_sum + excluded.latency_ms_sum,
                 slow_replies = event_hours.slow_replies + excluded.slow_replies,
                 thumbs_up = event_hours.thumbs_up + excluded.thumbs_up,
                 thumbs_down = event_hours.thumbs_down + excluded.thumbs_down,
                 ratings = event_hours.ratings + excluded.ratings,
                 rating_sum = event_hours.rating_sum + excluded.rating_sum,
                 goals = event_hours.goals + excluded.goals,
                 opens = event_hours.opens + excluded.opens,
                 closes = event_hours.closes + excluded.closes",
        )
        .map_err(db)?;
    for ((bot, hour), sums) in hours {
        statement
            .execute(params![
                bot,
                hour,
                sums.conversations,
                sums.messages,
                sums.answers,
                sums.suggestions,
                sums.unknowns,
                sums.errors,
                sums.latency_ms_sum,
                sums.slow_replies,
                sums.thumbs_up,
                sums.thumbs_down,
                sums.ratings,
                sums.rating_sum,
                sums.goals,
                sums.opens,
                sums.closes,
            ])
            .map_err(db)?;
    }
    Ok(())
}

fn upsert_conversations(
    tx: &Transaction<'_>,
    conversations: &HashMap<(String, String), ConversationDelta>,
) -> Result<()> {
    let mut statement = tx
        .prepare_cached(
            "INSERT INTO conversations (bot, id, started_at, last_at, messages, goals) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (bot, id) DO UPDATE SET
                 started_at = CASE WHEN excluded.started_at < conversations.started_at
                                   THEN excluded.started_at ELSE conversations.started_at END,
                 last_at = CASE WHEN excluded.last_at > conversations.last_at
                                THEN excluded.last_at ELSE conversations.last_at END,
                 messages = conversations.messages + excluded.messages,
                 goals = conversations.goals + excluded.goals",
        )
        .map_err(db)?;
    for ((bot, id), delta) in conversations {
        statement.execute(params![bot, id, delta.first, delta.last, delta.messages, delta.goals]).map_err(db)?;
    }
    extend_paths(tx, conversations)
}

/// Extends each conversation's flow path with the batch's reply topics, and sets its last
/// topic: read and written in the batch's transaction, so exact across writers.
fn extend_paths(tx: &Transaction<'_>, conversations: &HashMap<(String, String), ConversationDelta>) -> Result<()> {
    let mut read = tx.prepare_cached("SELECT path FROM conversations WHERE bot = ?1 AND id = ?2").map_err(db)?;
    let mut write = tx
        .prepare_cached(
            "UPDATE conversations SET path = ?3, path_len = ?4, last_topic = ?5, last_resolved = ?6
             WHERE bot = ?1 AND id = ?2",
        )
        .map_err(db)?;
    for ((bot, id), delta) in conversations {
        let mut replies: Vec<&(Timestamp, String, bool)> = delta.replies.iter().collect();
        replies.sort_by_key(|(at, _, _)| *at);
        let Some((_, last_topic, last_resolved)) = replies.last() else { continue };
        let path: String = read.query_row(params![bot, id], |row| row.get(0)).map_err(db)?;
        let mut topics: Vec<String> = path.split('\n').filter(|topic| !topic.is_empty()).map(str::to_owned).collect();
        for (_, topic, _) in &replies {
            if topics.len() < FLOW_TOPICS && topics.last() != Some(topic) {
                topics.push(topic.clone());
            }
        }
        write
            .execute(params![bot, id, topics.join("\n"), topics.len() as i64, last_topic, last_resolved])
            .map_err(db)?;
    }
    Ok(())
}

fn upsert_questions(
    tx: &Transaction<'_>,
    questions: &HashMap<(String, Timestamp, String), QuestionDelta>,
) -> Result<()> {
    let mut statement = tx
        .prepare_cached(
            "INSERT INTO question_days (bot, day, question, example, asked, unresolved) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (bot, day, question) DO UPDATE SET
                 asked = question_days.asked + excluded.asked,
                 unresolved = question_days.unresolved + excluded.unresolved",
        )
        .map_err(db)?;
    for ((bot, day, question), delta) in questions {
        statement.execute(params![bot, day, question, delta.example, delta.asked, delta.unresolved]).map_err(db)?;
    }
    Ok(())
}

fn event_row(row: &Row<'_>) -> rusqlite::Result<Event> {
    let tier: Option<String> = row.get(6)?;
    Ok(Event {
        bot: row.get(0)?,
        generation: row.get::<_, Option<i64>>(1)?.map(|number| number as u64),
        conversation: row.get(2)?,
        at: row.get(3)?,
        kind: stored(row, 4)?,
        source: row.get(5)?,
        tier: tier
            .map(|tier| {
                Tier::from_name(&tier).map_err(|message| {
                    rusqlite::Error::FromSqlConversionFailure(6, rusqlite::types::Type::Text, message.into())
                })
            })
            .transpose()?,
        latency_ms: row.get::<_, Option<i64>>(7)?.map(|ms| ms as u64),
        value: row.get(8)?,
        detail: row.get(9)?,
        text: row.get(10)?,
        visitor: row.get(11)?,
    })
}
