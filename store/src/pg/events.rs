//! [`EventStore`] on PostgreSQL: a batch of events and its rollups in one transaction.
//!
//! The batch is summed by the shared `fold` and upserted with the same `ON CONFLICT` rules as
//! on SQLite; concurrent batches from several gateways add up, since each upsert adds to the
//! row's newest version.

use std::collections::HashMap;

use ::postgres::Transaction;

use super::{PgStore, db, get, rows, stored, unsigned};
use crate::events::{
    ConversationDelta, ConversationStats, DEMO_PREFIX, DropOff, Event, EventStore, FLOW_TOPICS, FlowCount,
    HourlyRollup, LogLevel, LogQuery, LogRecord, QuestionCount, QuestionDelta, Tier, day_of, fold,
};
use crate::names::StoredName;
use crate::{Error, Result, Timestamp};

/// A count as BIGINT.
fn big(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

impl EventStore for PgStore {
    fn record_events(&self, events: &[Event]) -> Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        self.write(|tx| {
            insert_events(tx, events)?;
            let (hours, conversations, questions) = fold(events);
            upsert_hours(tx, &hours)?;
            upsert_conversations(tx, &conversations)?;
            extend_paths(tx, &conversations)?;
            upsert_questions(tx, &questions)
        })
    }

    fn flows(&self, bot: &str, from: Timestamp, to: Timestamp, limit: usize) -> Result<Vec<FlowCount>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        rows(
            self.query(
                "SELECT path, COUNT(*) FROM conversations
                 WHERE bot = $1 AND started_at >= $2 AND started_at < $3 AND path_len > 0
                 GROUP BY path ORDER BY COUNT(*) DESC, path COLLATE \"C\" LIMIT $4",
                &[&bot, &from, &to, &limit],
            )?,
            |row| {
                let path: &str = get(row, 0)?;
                Ok(FlowCount {
                    topics: path.split('\n').map(str::to_owned).collect(),
                    conversations: unsigned(row, 1)?,
                })
            },
        )
    }

    fn drop_offs(&self, bot: &str, from: Timestamp, to: Timestamp, limit: usize) -> Result<Vec<DropOff>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        rows(
            self.query(
                "SELECT last_topic, COUNT(*) FROM conversations
                 WHERE bot = $1 AND started_at >= $2 AND started_at < $3 AND last_resolved = FALSE
                 GROUP BY last_topic ORDER BY COUNT(*) DESC, last_topic COLLATE \"C\" LIMIT $4",
                &[&bot, &from, &to, &limit],
            )?,
            |row| Ok(DropOff { topic: get(row, 0)?, conversations: unsigned(row, 1)? }),
        )
    }

    fn hourly_rollups(&self, bot: &str, from: Timestamp, to: Timestamp) -> Result<Vec<HourlyRollup>> {
        rows(
            self.query(
                "SELECT hour, conversations, messages, answers, suggestions, unknowns, errors, latency_ms_sum,
                        slow_replies, thumbs_up, thumbs_down, ratings, rating_sum, goals, opens, closes
                 FROM event_hours WHERE bot = $1 AND hour >= $2 AND hour < $3 ORDER BY hour",
                &[&bot, &from, &to],
            )?,
            |row| {
                Ok(HourlyRollup {
                    hour: get(row, 0)?,
                    conversations: unsigned(row, 1)?,
                    messages: unsigned(row, 2)?,
                    answers: unsigned(row, 3)?,
                    suggestions: unsigned(row, 4)?,
                    unknowns: unsigned(row, 5)?,
                    errors: unsigned(row, 6)?,
                    latency_ms_sum: unsigned(row, 7)?,
                    slow_replies: unsigned(row, 8)?,
                    thumbs_up: unsigned(row, 9)?,
                    thumbs_down: unsigned(row, 10)?,
                    ratings: unsigned(row, 11)?,
                    rating_sum: unsigned(row, 12)?,
                    goals: unsigned(row, 13)?,
                    opens: unsigned(row, 14)?,
                    closes: unsigned(row, 15)?,
                })
            },
        )
    }

    fn conversation_stats(&self, bot: &str, from: Timestamp, to: Timestamp) -> Result<ConversationStats> {
        let demo_pattern = format!("{DEMO_PREFIX}%");
        let row = self.connection()?.query_one(
            "SELECT COUNT(*),
                    COALESCE(SUM(CASE WHEN messages = 1 THEN 1 ELSE 0 END), 0)::bigint,
                    COALESCE(SUM(CASE WHEN goals > 0 THEN 1 ELSE 0 END), 0)::bigint,
                    COALESCE(SUM(last_at - started_at), 0)::bigint,
                    COALESCE(SUM(CASE WHEN id LIKE $4 THEN 1 ELSE 0 END), 0)::bigint
             FROM conversations WHERE bot = $1 AND started_at >= $2 AND started_at < $3 AND messages > 0",
            &[&bot, &from, &to, &demo_pattern],
        );
        let row = row.map_err(db)?;
        Ok(ConversationStats {
            conversations: unsigned(&row, 0)?,
            bounced: unsigned(&row, 1)?,
            converted: unsigned(&row, 2)?,
            duration_sum: unsigned(&row, 3)?,
            demo: unsigned(&row, 4)?,
        })
    }

    fn top_questions(
        &self,
        bot: &str,
        from: Timestamp,
        to: Timestamp,
        unresolved_only: bool,
        limit: usize,
    ) -> Result<Vec<QuestionCount>> {
        let order = if unresolved_only { "unresolved" } else { "asked" };
        let limit = big(limit as u64);
        rows(
            self.query(
                &format!(
                    "SELECT question, MIN(example), SUM(asked)::bigint AS asked, SUM(unresolved)::bigint AS unresolved
                     FROM question_days WHERE bot = $1 AND day >= $2 AND day < $3
                     GROUP BY question HAVING SUM({order}) > 0
                     ORDER BY {order} DESC, question LIMIT $4"
                ),
                &[&bot, &from, &to, &limit],
            )?,
            |row| {
                Ok(QuestionCount {
                    question: get(row, 0)?,
                    example: get(row, 1)?,
                    asked: unsigned(row, 2)?,
                    unresolved: unsigned(row, 3)?,
                })
            },
        )
    }

    fn events(&self, bot: &str, from: Timestamp, to: Timestamp, limit: usize) -> Result<Vec<Event>> {
        let limit = big(limit as u64);
        rows(
            self.query(
                "SELECT bot, generation, conversation, at, kind, source, tier, latency_ms, value, detail, text, visitor
                 FROM events WHERE bot = $1 AND at >= $2 AND at < $3 ORDER BY at, id LIMIT $4",
                &[&bot, &from, &to, &limit],
            )?,
            |row| {
                let tier: Option<&str> = get(row, 6)?;
                Ok(Event {
                    bot: get(row, 0)?,
                    generation: get::<Option<i64>>(row, 1)?.map(|number| number as u64),
                    conversation: get(row, 2)?,
                    at: get(row, 3)?,
                    kind: stored(row, 4)?,
                    source: get(row, 5)?,
                    tier: tier.map(|tier| Tier::from_name(tier).map_err(Error::Backend)).transpose()?,
                    latency_ms: get::<Option<i64>>(row, 7)?.map(|ms| ms as u64),
                    value: get(row, 8)?,
                    detail: get(row, 9)?,
                    text: get(row, 10)?,
                    visitor: get(row, 11)?,
                })
            },
        )
    }

    fn purge_texts(&self, before: Timestamp) -> Result<u64> {
        self.write(|tx| {
            let purged = tx
                .execute("UPDATE events SET text = NULL WHERE at < $1 AND text IS NOT NULL", &[&before])
                .map_err(db)?;
            // A day's counts hold that day's texts: the whole day goes once it began before the cutoff.
            tx.execute("DELETE FROM question_days WHERE day < $1", &[&(day_of(before) + 1)]).map_err(db)?;
            Ok(purged)
        })
    }

    fn add_log(&self, record: &LogRecord) -> Result<()> {
        self.connection()?
            .execute(
                "INSERT INTO log_records (at, level, bot, message) VALUES ($1, $2, $3, $4)",
                &[&record.at, &record.level.as_str(), &record.bot, &record.message],
            )
            .map_err(db)?;
        Ok(())
    }

    fn logs(&self, query: &LogQuery) -> Result<Vec<LogRecord>> {
        let lowest = query.level.unwrap_or(LogLevel::Info);
        let levels: Vec<&str> =
            LogLevel::ALL.iter().filter(|level| **level >= lowest).map(|level| level.name()).collect();
        let limit = big(query.limit as u64);
        rows(
            self.query(
                "SELECT at, level, bot, message FROM log_records
                 WHERE ($1::text IS NULL OR bot = $1) AND at >= $2 AND at < $3 AND level = ANY($4)
                 ORDER BY at DESC, id DESC LIMIT $5",
                &[
                    &query.bot,
                    &query.since.unwrap_or(Timestamp::MIN),
                    &query.until.unwrap_or(Timestamp::MAX),
                    &levels,
                    &limit,
                ],
            )?,
            |row| Ok(LogRecord { at: get(row, 0)?, level: stored(row, 1)?, bot: get(row, 2)?, message: get(row, 3)? }),
        )
    }
}

fn insert_events(tx: &mut Transaction<'_>, events: &[Event]) -> Result<()> {
    let statement = tx
        .prepare(
            "INSERT INTO events (bot, generation, conversation, at, kind, source, tier, latency_ms, value, detail, text, visitor)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .map_err(db)?;
    for event in events {
        tx.execute(
            &statement,
            &[
                &event.bot,
                &event.generation.map(big),
                &event.conversation,
                &event.at,
                &event.kind.as_str(),
                &event.source,
                &event.tier.map(Tier::as_str),
                &event.latency_ms.map(big),
                &event.value,
                &event.detail,
                &event.text,
                &event.visitor,
            ],
        )
        .map_err(db)?;
    }
    Ok(())
}

fn upsert_hours(tx: &mut Transaction<'_>, hours: &HashMap<(String, Timestamp), HourlyRollup>) -> Result<()> {
    let statement = tx
        .prepare(
            "INSERT INTO event_hours (bot, hour, conversations, messages, answers, suggestions, unknowns, errors,
                 latency_ms_sum, slow_replies, thumbs_up, thumbs_down, ratings, rating_sum, goals, opens, closes)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
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
        tx.execute(
            &statement,
            &[
                bot,
                hour,
                &big(sums.conversations),
                &big(sums.messages),
                &big(sums.answers),
                &big(sums.suggestions),
                &big(sums.unknowns),
                &big(sums.errors),
                &big(sums.latency_ms_sum),
                &big(sums.slow_replies),
                &big(sums.thumbs_up),
                &big(sums.thumbs_down),
                &big(sums.ratings),
                &big(sums.rating_sum),
                &big(sums.goals),
                &big(sums.opens),
                &big(sums.closes),
            ],
        )
        .map_err(db)?;
    }
    Ok(())
}

fn upsert_conversations(
    tx: &mut Transaction<'_>,
    conversations: &HashMap<(String, String), ConversationDelta>,
) -> Result<()> {
    let statement = tx
        .prepare(
            "INSERT INTO conversations (bot, id, started_at, last_at, messages, goals) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (bot, id) DO UPDATE SET
                 started_at = LEAST(excluded.started_at, conversations.started_at),
                 last_at = GREATEST(excluded.last_at, conversations.last_at),
                 messages = conversations.messages + excluded.messages,
                 goals = conversations.goals + excluded.goals",
        )
        .map_err(db)?;
    for ((bot, id), delta) in conversations {
        tx.execute(&statement, &[bot, id, &delta.first, &delta.last, &big(delta.messages), &big(delta.goals)])
            .map_err(db)?;
    }
    Ok(())
}

/// Extends each conversation's flow path with the batch's reply topics, and sets its last
/// topic. The upsert before it holds the conversation's row lock until commit, so a
/// concurrent batch of the same conversation reads the path only once this one is written.
fn extend_paths(tx: &mut Transaction<'_>, conversations: &HashMap<(String, String), ConversationDelta>) -> Result<()> {
    let read = tx.prepare("SELECT path FROM conversations WHERE bot = $1 AND id = $2").map_err(db)?;
    let write = tx
        .prepare(
            "UPDATE conversations SET path = $3, path_len = $4, last_topic = $5, last_resolved = $6
             WHERE bot = $1 AND id = $2",
        )
        .map_err(db)?;
    for ((bot, id), delta) in conversations {
        let mut replies: Vec<&(Timestamp, String, bool)> = delta.replies.iter().collect();
        replies.sort_by_key(|(at, _, _)| *at);
        let Some((_, last_topic, last_resolved)) = replies.last() else { continue };
        let path: String = get(&tx.query_one(&read, &[bot, id]).map_err(db)?, 0)?;
        let mut topics: Vec<String> = path.split('\n').filter(|topic| !topic.is_empty()).map(str::to_owned).collect();
        for (_, topic, _) in &replies {
            if topics.len() < FLOW_TOPICS && topics.last() != Some(topic) {
                topics.push(topic.clone());
            }
        }
        let path_len = topics.len() as i64;
        tx.execute(&write, &[bot, id, &topics.join("\n"), &path_len, last_topic, last_resolved]).map_err(db)?;
    }
    Ok(())
}

fn upsert_questions(
    tx: &mut Transaction<'_>,
    questions: &HashMap<(String, Timestamp, String), QuestionDelta>,
) -> Result<()> {
    let statement = tx
        .prepare(
            "INSERT INTO question_days (bot, day, question, example, asked, unresolved) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (bot, day, question) DO UPDATE SET
                 asked = question_days.asked + excluded.asked,
                 unresolved = question_days.unresolved + excluded.unresolved",
        )
        .map_err(db)?;
    for ((bot, day, question), delta) in questions {
        tx.execute(&statement, &[bot, day, question, &delta.example, &big(delta.asked), &big(delta.unresolved)])
            .map_err(db)?;
    }
    Ok(())
}
