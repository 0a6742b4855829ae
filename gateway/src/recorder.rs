//! The events recorder: requests hand events and log records to a bounded queue; one thread
//! writes them to the store in batches, off the request path.
//!
//! Durability: the writer flushes whenever [`FLUSH_INTERVAL`] (1 s) has passed or
//! [`MAX_BATCH`] records are waiting, so a crash loses at most the last second of events.
//! Each flush also writes the usage tallied for bots without a monthly limit
//! ([`Lifecycle::flush_usage`]), which a crash can likewise lose a second of.
//! When the queue ([`QUEUE_CAPACITY`]) is full, a record is dropped and counted
//! ([`Recorder::dropped`]): recording never slows or blocks a request.
//!
//! Outages: when the store cannot be reached ([`docent_store::Error::Unavailable`], e.g.
//! PostgreSQL restarting), the writer keeps what it took in a backlog of at most
//! [`BACKLOG_CAPACITY`] records and tries again after [`FIRST_RETRY_WAIT`], doubling up to
//! [`MAX_RETRY_WAIT`], until the store answers; then the backlog is written, oldest first.
//! Beyond the capacity the oldest records are dropped, counted in [`Recorder::dropped`] and
//! logged when the store is back. Any other write failure (a corrupt file, a full disk)
//! loses its batch and is logged, as without an outage.
//!
//! Privacy: question texts are redacted ([`docent_analytics::privacy::redact`]) before they
//! are queued, and forgotten after the retention ([`DEFAULT_TEXT_RETENTION_DAYS`] days
//! unless set) by a purge the writer runs every [`PURGE_INTERVAL`]. Client addresses are
//! never queued: only a visitor id salted with a secret drawn anew each UTC day.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::{JoinHandle, Thread};
use std::time::{Duration, Instant};

use docent_analytics::privacy::{VisitorHasher, redact};
use docent_lifecycle::Lifecycle;
use docent_lifecycle::when::{self, now};
use docent_protocol::{Reply, ReplyKind, WidgetEvent};
use docent_store::{Deploy, DeployOutcome, Event, EventKind, LogLevel, LogQuery, LogRecord, Store, Tier, Timestamp};
use hyper::StatusCode;

use crate::live::ServedBot;

/// Records waiting to be written; beyond this they are dropped.
pub const QUEUE_CAPACITY: usize = 65_536;
/// The longest a record waits in the queue.
pub const FLUSH_INTERVAL: Duration = Duration::from_secs(1);
/// The most records written in one transaction.
pub const MAX_BATCH: usize = 4_096;
/// Records kept while the store cannot be reached; beyond this the oldest are dropped.
pub const BACKLOG_CAPACITY: usize = 65_536;
/// The first wait before writing again to a store that could not be reached.
pub const FIRST_RETRY_WAIT: Duration = Duration::from_millis(250);
/// The longest wait between two attempts to reach the store.
pub const MAX_RETRY_WAIT: Duration = Duration::from_secs(4);
/// When the first purge runs after the start.
pub const FIRST_PURGE_DELAY: Duration = Duration::from_secs(10);
/// How often texts past their retention are forgotten.
pub const PURGE_INTERVAL: Duration = Duration::from_secs(3600);
/// Failed requests of one bot and status are logged at most once in this many seconds.
pub const FAILURE_LOG_INTERVAL_SECONDS: i64 = 60;
/// How long question texts are kept unless configured.
pub const DEFAULT_TEXT_RETENTION_DAYS: u32 = 30;

/// Something to write.
enum Record {
    Event(Event),
    Log(LogRecord),
    /// Write what is queued, then stop.
    Stop,
}

/// A visitor's question as the chat endpoint received it: redacted at once, and timed.
pub struct Question {
    redacted: String,
    opens_conversation: bool,
    started: Instant,
}

impl Question {
    /// `text` was just asked; `opens_conversation` when the request named no conversation.
    pub fn asked(text: &str, opens_conversation: bool) -> Question {
        Question { redacted: redact(text), opens_conversation, started: Instant::now() }
    }
}

/// The queue's sending side, shared by every request.
pub struct Recorder {
    queue: Option<SyncSender<Record>>,
    writer: Mutex<Option<JoinHandle<()>>>,
    /// The writer, to wake when a batch is full or on shutdown; it sleeps otherwise, so a
    /// request never pays for waking it.
    writer_thread: Option<Thread>,
    /// Records dropped: the queue was full, or the outage backlog was.
    dropped: Arc<AtomicU64>,
    /// Records sent and not yet written (nor dropped).
    queued: Arc<AtomicU64>,
    visitors: VisitorHasher,
    retention_seconds: Arc<AtomicI64>,
    /// Per bot and status: when a failed request was last logged, and how many like it since.
    recent_failures: Mutex<HashMap<(String, u16), (Timestamp, u64)>>,
}

impl Recorder {
    /// Starts the writer thread on the lifecycle's store.
    pub fn start(lifecycle: Arc<Lifecycle>) -> Recorder {
        let (queue, records) = sync_channel(QUEUE_CAPACITY);
        let retention_seconds = Arc::new(AtomicI64::new(i64::from(DEFAULT_TEXT_RETENTION_DAYS) * 86_400));
        let retention = Arc::clone(&retention_seconds);
        let queued = Arc::new(AtomicU64::new(0));
        let dropped = Arc::new(AtomicU64::new(0));
        let counts = Counts { queued: Arc::clone(&queued), dropped: Arc::clone(&dropped) };
        let writer = std::thread::Builder::new()
            .name("docent-recorder".into())
            .spawn(move || write_batches(&lifecycle, &records, &retention, &counts));
        let writer = match writer {
            Ok(writer) => Some(writer),
            Err(err) => {
                tracing::error!(%err, "cannot start the events writer; nothing is recorded");
                None
            }
        };
        Recorder {
            queue: writer.is_some().then_some(queue),
            writer_thread: writer.as_ref().map(|writer| writer.thread().clone()),
            writer: Mutex::new(writer),
            dropped,
            queued,
            visitors: VisitorHasher::default(),
            retention_seconds,
            recent_failures: Mutex::default(),
        }
    }

    /// A recorder that records nothing (recording off).
    pub fn off() -> Recorder {
        Recorder {
            queue: None,
            writer: Mutex::new(None),
            writer_thread: None,
            dropped: Arc::new(AtomicU64::new(0)),
            queued: Arc::new(AtomicU64::new(0)),
            visitors: VisitorHasher::default(),
            retention_seconds: Arc::new(AtomicI64::new(0)),
            recent_failures: Mutex::default(),
        }
    }

    /// How long question texts are kept.
    pub fn set_text_retention_days(&self, days: u32) {
        self.retention_seconds.store(i64::from(days) * 86_400, Ordering::Relaxed);
    }

    /// Queues `event` without waiting. Texts must already be redacted (widget events carry none).
    pub fn record(&self, event: Event) {
        self.send(Record::Event(event));
    }

    /// An operational record, to the store and to the process log. `message` never holds a
    /// secret nor visitor text.
    pub fn log(&self, level: LogLevel, bot: Option<&str>, message: String) {
        match level {
            LogLevel::Info => tracing::info!(bot, "{message}"),
            LogLevel::Warning => tracing::warn!(bot, "{message}"),
            LogLevel::Error => tracing::error!(bot, "{message}"),
        }
        self.send(Record::Log(LogRecord { at: now(), level, bot: bot.map(str::to_owned), message }));
    }

    /// Records a visitor message and its reply: the conversation's start, the message, and
    /// the reply with its tier, latency (from the question read to the reply ready), best
    /// source and the redacted question.
    /// `client` is whatever identifies the visitor's address (an IP, a network prefix): only
    /// its salted hash is kept.
    pub fn exchange(
        &self,
        bot: &ServedBot,
        conversation: &str,
        question: Question,
        reply: &Reply,
        client: &impl std::fmt::Debug,
    ) {
        let at = now();
        let visitor = self.visitors.visitor(&format!("{client:?}"), at);
        let event = |kind| Event {
            generation: Some(bot.generation),
            conversation: Some(conversation.to_owned()),
            visitor: Some(visitor.clone()),
            ..Event::new(bot.id(), at, kind)
        };
        if question.opens_conversation {
            self.record(event(EventKind::ConversationStart));
        }
        self.record(event(EventKind::Message));
        self.record(Event {
            tier: Some(tier_of(reply.kind)),
            latency_ms: Some(question.started.elapsed().as_millis() as u64),
            source: reply.sources.first().map(|source| source.source.clone()),
            text: Some(question.redacted),
            ..event(EventKind::Reply)
        });
    }

    /// Records an event the widget sent (validated by the events endpoint).
    pub fn widget_event(&self, bot: &ServedBot, event: &WidgetEvent) {
        self.record(widget_event(bot.id(), bot.generation, event, now()));
    }

    /// Records a failed widget-API request (4xx or 5xx) of a live bot; refusals and server
    /// errors also go to the operational log.
    pub fn failed_request(&self, bot: &ServedBot, endpoint: &str, status: StatusCode) {
        if !(status.is_client_error() || status.is_server_error()) {
            return;
        }
        let at = now();
        let reason = status.canonical_reason().unwrap_or("error");
        let endpoint: String = endpoint.chars().filter(char::is_ascii_alphanumeric).take(32).collect();
        self.record(Event {
            generation: Some(bot.generation),
            value: Some(i64::from(status.as_u16())),
            detail: Some(endpoint.clone()),
            ..Event::new(bot.id(), at, EventKind::Error)
        });
        let (level, what) = match status {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN | StatusCode::TOO_MANY_REQUESTS => {
                (LogLevel::Warning, "refused")
            }
            status if status.is_server_error() => (LogLevel::Error, "failed"),
            _ => return,
        };
        // A flood of refusals is one record a minute per bot and status, not one per request.
        let similar = {
            let mut recent = self.recent_failures.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            let (logged_at, since) = recent.entry((bot.id().to_owned(), status.as_u16())).or_insert((i64::MIN, 0));
            if at.saturating_sub(*logged_at) < FAILURE_LOG_INTERVAL_SECONDS {
                *since += 1;
                return;
            }
            *logged_at = at;
            std::mem::take(since)
        };
        let mut message = format!("{what} a {endpoint} request: {} {reason}", status.as_u16());
        if similar > 0 {
            message.push_str(&format!(" (and {similar} more since the last such record)"));
        }
        self.log(level, Some(bot.id()), message);
    }

    /// Records dropped because the queue or the outage backlog was full, since the start.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Records waiting to be written now: in the queue, or kept through an outage.
    pub fn queue_depth(&self) -> u64 {
        self.queued.load(Ordering::Relaxed)
    }

    /// Writes what is queued and stops the writer (after one attempt if the store cannot be
    /// reached); later records are dropped.
    pub fn shutdown(&self) {
        if let Some(queue) = &self.queue {
            // Waits for room: at shutdown, losing nothing matters more than speed.
            let _ = queue.send(Record::Stop);
        }
        if let Some(writer) = &self.writer_thread {
            writer.unpark();
        }
        let writer = self.writer.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).take();
        if let Some(writer) = writer
            && writer.join().is_err()
        {
            tracing::error!("the events writer panicked");
        }
    }

    fn send(&self, record: Record) {
        let Some(queue) = &self.queue else { return };
        // Counted before the send, so the writer never takes one not yet counted.
        let before = self.queued.fetch_add(1, Ordering::Relaxed);
        match queue.try_send(record) {
            Ok(()) => {
                if (before + 1).is_multiple_of(MAX_BATCH as u64)
                    && let Some(writer) = &self.writer_thread
                {
                    writer.unpark();
                }
            }
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.queued.fetch_sub(1, Ordering::Relaxed);
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// The stored form of a widget event: a thumb carries the answer's number (from 1) in
/// `value`, a rating its score, a goal its name in `detail`.
fn widget_event(bot: &str, generation: u64, event: &WidgetEvent, at: Timestamp) -> Event {
    let base = |kind, conversation: Option<&String>| Event {
        generation: Some(generation),
        conversation: conversation.cloned(),
        ..Event::new(bot, at, kind)
    };
    match event {
        WidgetEvent::Open {} => base(EventKind::Open, None),
        WidgetEvent::Close {} => base(EventKind::Close, None),
        WidgetEvent::Feedback { conversation_id, answer, helpful } => Event {
            value: Some(i64::from(*answer)),
            ..base(if *helpful { EventKind::ThumbUp } else { EventKind::ThumbDown }, Some(conversation_id))
        },
        WidgetEvent::Rating { conversation_id, score } => {
            Event { value: Some(i64::from(*score)), ..base(EventKind::Rating, Some(conversation_id)) }
        }
        WidgetEvent::Goal { name } => Event { detail: Some(name.clone()), ..base(EventKind::Goal, None) },
    }
}

/// The tier a reply kind counts as.
pub fn tier_of(kind: ReplyKind) -> Tier {
    match kind {
        ReplyKind::Faq | ReplyKind::Document => Tier::Answer,
        ReplyKind::Suggestions => Tier::Suggestions,
        ReplyKind::Unknown => Tier::Unknown,
    }
}

/// The writer's counters, shared with the [`Recorder`].
struct Counts {
    /// Records sent and not yet written, lost or dropped.
    queued: Arc<AtomicU64>,
    dropped: Arc<AtomicU64>,
}

impl Counts {
    fn done(&self, records: usize) {
        self.queued.fetch_sub(records as u64, Ordering::Relaxed);
    }
}

/// Records taken from the queue and not yet written, oldest first.
#[derive(Default)]
struct Backlog {
    events: VecDeque<Event>,
    logs: VecDeque<LogRecord>,
}

impl Backlog {
    fn len(&self) -> usize {
        self.events.len() + self.logs.len()
    }

    /// Drops the oldest records beyond `capacity` (events first: they are the many) and
    /// returns how many went.
    fn trim(&mut self, capacity: usize) -> usize {
        let over = self.len().saturating_sub(capacity);
        let events = over.min(self.events.len());
        self.events.drain(..events);
        self.logs.drain(..over - events);
        over
    }

    /// Writes the backlog, oldest first, in transactions of at most [`MAX_BATCH`] events.
    /// Stops at the first failure to reach the store, keeping what is not written; a batch
    /// refused for another reason is logged and lost, as retrying would not help it.
    fn write(&mut self, store: &dyn Store, counts: &Counts) -> docent_store::Result<()> {
        while !self.events.is_empty() {
            let size = self.events.len().min(MAX_BATCH);
            match store.record_events(&self.events.make_contiguous()[..size]) {
                Ok(()) => {}
                Err(err @ docent_store::Error::Unavailable(_)) => return Err(err),
                Err(err) => tracing::error!(%err, events = size, "cannot write events; they are lost"),
            }
            self.events.drain(..size);
            counts.done(size);
        }
        while let Some(record) = self.logs.front() {
            match store.add_log(record) {
                Ok(()) => {}
                Err(err @ docent_store::Error::Unavailable(_)) => return Err(err),
                Err(err) => tracing::error!(%err, "cannot write a log record"),
            }
            self.logs.pop_front();
            counts.done(1);
        }
        Ok(())
    }
}

/// An outage as the writer sees it: since when, the next attempt, and what it cost.
struct Outage {
    since: Instant,
    wait: Duration,
    next_attempt: Instant,
    dropped: usize,
}

impl Outage {
    fn began() -> Outage {
        Outage {
            since: Instant::now(),
            wait: FIRST_RETRY_WAIT,
            next_attempt: Instant::now() + FIRST_RETRY_WAIT,
            dropped: 0,
        }
    }

    fn failed_again(&mut self) {
        self.wait = (self.wait * 2).min(MAX_RETRY_WAIT);
        self.next_attempt = Instant::now() + self.wait;
    }
}

/// The writer thread: sleeps until a write is due ([`FLUSH_INTERVAL`] after the last, or
/// sooner when the [`Recorder`] wakes it for a full batch or a stop), then takes everything
/// queued and writes it in transactions; keeps records through an outage of the store and
/// retries with a growing wait; purges old texts every [`PURGE_INTERVAL`]. Ends on
/// [`Record::Stop`] or when every sender is gone.
fn write_batches(lifecycle: &Lifecycle, records: &Receiver<Record>, retention_seconds: &AtomicI64, counts: &Counts) {
    let store = lifecycle.store();
    let mut backlog = Backlog::default();
    let mut outage: Option<Outage> = None;
    let mut last_flush = Instant::now();
    // The first purge waits a little, so a configured retention is in place before it runs.
    let mut next_purge = Instant::now() + FIRST_PURGE_DELAY;
    loop {
        let next_write = outage.as_ref().map_or(last_flush + FLUSH_INTERVAL, |outage| outage.next_attempt);
        std::thread::park_timeout(next_write.saturating_duration_since(Instant::now()));
        let stop = loop {
            match records.try_recv() {
                Ok(Record::Event(event)) => backlog.events.push_back(event),
                Ok(Record::Log(record)) => backlog.logs.push_back(record),
                Ok(Record::Stop) | Err(TryRecvError::Disconnected) => break true,
                Err(TryRecvError::Empty) => break false,
            }
        };
        let over = backlog.trim(BACKLOG_CAPACITY);
        if over > 0 {
            counts.dropped.fetch_add(over as u64, Ordering::Relaxed);
            counts.done(over);
            if let Some(outage) = &mut outage {
                outage.dropped += over;
            }
        }
        let moment = Instant::now();
        let due = match &outage {
            Some(outage) => moment >= outage.next_attempt,
            None => moment >= last_flush + FLUSH_INTERVAL || backlog.len() >= MAX_BATCH,
        };
        if stop || due {
            match backlog.write(store, counts) {
                Ok(()) => {
                    if let Some(outage) = outage.take() {
                        tracing::warn!(
                            after = ?outage.since.elapsed(),
                            dropped = outage.dropped,
                            "the store is reachable again; the events kept meanwhile are written"
                        );
                    }
                    if let Err(err) = lifecycle.flush_usage() {
                        tracing::error!(%err, "cannot write message usage; it is kept for the next flush");
                    }
                }
                Err(err) => match &mut outage {
                    Some(outage) => {
                        tracing::debug!(%err, kept = backlog.len(), "the store is still unreachable");
                        outage.failed_again();
                    }
                    None => {
                        tracing::warn!(
                            %err,
                            kept = backlog.len(),
                            capacity = BACKLOG_CAPACITY,
                            "the store cannot be reached; events are kept and written when it is back"
                        );
                        outage = Some(Outage::began());
                    }
                },
            }
            last_flush = Instant::now();
        }
        if Instant::now() >= next_purge {
            let retention = retention_seconds.load(Ordering::Relaxed);
            match store.purge_texts(now() - retention) {
                Ok(0) => {}
                Ok(purged) => tracing::info!(purged, "question texts past their retention forgotten"),
                Err(err) => tracing::error!(%err, "cannot purge question texts"),
            }
            next_purge = Instant::now() + PURGE_INTERVAL;
        }
        if stop {
            if !backlog.events.is_empty() || !backlog.logs.is_empty() {
                tracing::error!(
                    lost = backlog.len(),
                    "stopping while the store cannot be reached; unwritten events are lost"
                );
                counts.done(backlog.len());
            }
            return;
        }
    }
}

/// A moment for log and range filters: what [`when::parse`] reads (`2026-11-25`,
/// `2026-11-25 02:00`, RFC 3339, `+15m`), or a time before `now` such as `-24h` or `-7d`.
pub fn parse_moment(text: &str, now: Timestamp) -> Result<Timestamp, String> {
    match text.trim().strip_prefix('-') {
        Some(ago) => when::parse(&format!("+{ago}"), 0).map(|seconds| now - seconds),
        None => when::parse(text, now),
    }
}

/// The operational records matching `query`, newest first: the log records, merged with the
/// deploys the store keeps (whoever ran them: CLI, console, admin API or a schedule). A
/// failed deploy is an error, an interrupted one a warning.
pub fn operational_records(store: &dyn Store, query: &LogQuery) -> docent_store::Result<Vec<LogRecord>> {
    let mut records = store.logs(query)?;
    let bots = match &query.bot {
        Some(bot) => vec![bot.clone()],
        None => store.bots()?.into_iter().map(|row| row.id).collect(),
    };
    for bot in bots {
        for deploy in store.deploys(&bot, query.limit)? {
            let record = deploy_record(&deploy);
            let in_range =
                query.since.is_none_or(|since| record.at >= since) && query.until.is_none_or(|until| record.at < until);
            if in_range && query.level.is_none_or(|lowest| record.level >= lowest) {
                records.push(record);
            }
        }
    }
    records.sort_by_key(|record| std::cmp::Reverse(record.at));
    records.truncate(query.limit);
    Ok(records)
}

fn deploy_record(deploy: &Deploy) -> LogRecord {
    let (level, outcome) = match deploy.outcome {
        DeployOutcome::Running => (LogLevel::Info, "running"),
        DeployOutcome::Succeeded => (LogLevel::Info, "succeeded"),
        DeployOutcome::Trained => (LogLevel::Info, "trained (not activated)"),
        DeployOutcome::Interrupted => (LogLevel::Warning, "interrupted"),
        DeployOutcome::Failed => (LogLevel::Error, "failed"),
    };
    let mut message = format!("deploy {} by {}: {outcome}", deploy.id, deploy.actor);
    if let Some(generation) = deploy.generation {
        message.push_str(&format!(", generation {generation}"));
    }
    if let Some(failure) = &deploy.failure {
        message.push_str(&format!(": {failure}"));
    }
    LogRecord { at: deploy.finished_at.unwrap_or(deploy.started_at), level, bot: Some(deploy.bot.clone()), message }
}

/// Log records as CSV (RFC 4180) with a header row: `time,level,bot,message`. A cell that a
/// spreadsheet would run as a formula (`=`, `+`, `-`, `@` first) is prefixed with `'`.
pub fn logs_csv(records: &[LogRecord]) -> String {
    let cell = |text: &str| {
        let text = if text.starts_with(['=', '+', '-', '@']) { format!("'{text}") } else { text.to_owned() };
        if text.contains([',', '"', '\n', '\r']) { format!("\"{}\"", text.replace('"', "\"\"")) } else { text }
    };
    let mut csv = String::from("time,level,bot,message\r\n");
    for record in records {
        csv.push_str(&format!(
            "{},{},{},{}\r\n",
            when::format(record.at),
            record.level.as_str(),
            cell(record.bot.as_deref().unwrap_or_default()),
            cell(&record.message)
        ));
    }
    csv
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widget_events_map_to_stored_events() {
        let conversation = Some("c_1".to_owned());
        for (event, kind, value, detail, in_conversation) in [
            (WidgetEvent::Open {}, EventKind::Open, None, None, false),
            (WidgetEvent::Close {}, EventKind::Close, None, None, false),
            (
                WidgetEvent::Feedback { conversation_id: "c_1".into(), answer: 2, helpful: true },
                EventKind::ThumbUp,
                Some(2),
                None,
                true,
            ),
            (
                WidgetEvent::Feedback { conversation_id: "c_1".into(), answer: 1, helpful: false },
                EventKind::ThumbDown,
                Some(1),
                None,
                true,
            ),
            (WidgetEvent::Rating { conversation_id: "c_1".into(), score: 5 }, EventKind::Rating, Some(5), None, true),
            (WidgetEvent::Goal { name: "signup".into() }, EventKind::Goal, None, Some("signup"), false),
        ] {
            let stored = widget_event("acme", 3, &event, 42);
            assert_eq!((stored.kind, stored.value, stored.detail.as_deref()), (kind, value, detail), "{event:?}");
            assert_eq!(stored.conversation, if in_conversation { conversation.clone() } else { None }, "{event:?}");
            assert_eq!((stored.bot.as_str(), stored.generation, stored.at), ("acme", Some(3), 42));
        }
    }

    #[test]
    fn a_full_backlog_drops_its_oldest_events_first() {
        let log = |message: &str| LogRecord { at: 0, level: LogLevel::Error, bot: None, message: message.to_owned() };
        for (events, logs, capacity, dropped, first_event_kept, logs_kept) in [
            (3, 1, 10, 0, Some(0), 1),
            (3, 1, 4, 0, Some(0), 1),
            (3, 1, 2, 2, Some(2), 1),
            (3, 2, 1, 4, None, 1),
            (0, 3, 1, 2, None, 1),
        ] {
            let mut backlog = Backlog::default();
            backlog.events.extend((0..events).map(|at| Event::new("acme", at, EventKind::Message)));
            backlog.logs.extend((0..logs).map(|index| log(&index.to_string())));
            assert_eq!(backlog.trim(capacity), dropped, "{events} events, {logs} logs, capacity {capacity}");
            assert_eq!(backlog.events.front().map(|event| event.at), first_event_kept);
            assert_eq!(backlog.logs.len(), logs_kept);
            assert!(backlog.len() <= capacity);
        }
    }

    #[test]
    fn retries_wait_longer_each_time_up_to_the_ceiling() {
        let mut outage = Outage::began();
        let mut waits = vec![outage.wait];
        for _ in 0..6 {
            outage.failed_again();
            waits.push(outage.wait);
        }
        let millis: Vec<u128> = waits.iter().map(Duration::as_millis).collect();
        assert_eq!(millis, [250, 500, 1000, 2000, 4000, 4000, 4000]);
        assert!(outage.next_attempt > outage.since);
    }

    #[test]
    fn moments_are_dates_or_delays_either_way() {
        let now = 1_000_000;
        for (text, expected) in [
            ("-24h", Ok(now - 86_400)),
            ("-7d", Ok(now - 7 * 86_400)),
            ("+1m", Ok(now + 60)),
            ("2026-11-01", Ok(1_793_491_200)),
            ("-x", Err(())),
            ("yesterday", Err(())),
        ] {
            assert_eq!(parse_moment(text, now).map_err(|_| ()), expected, "{text}");
        }
    }

    #[test]
    fn csv_cells_are_quoted_and_never_formulas() {
        let record = |bot: Option<&str>, message: &str| LogRecord {
            at: 0,
            level: LogLevel::Warning,
            bot: bot.map(str::to_owned),
            message: message.to_owned(),
        };
        let csv = logs_csv(&[
            record(Some("acme"), "refused a messages request: 403 Forbidden"),
            record(None, "said \"hi\", then left"),
            record(Some("acme"), "=HYPERLINK(\"x\")"),
        ]);
        let lines: Vec<&str> = csv.split("\r\n").collect();
        assert_eq!(lines[0], "time,level,bot,message");
        assert_eq!(lines[1], "1970-01-01 00:00:00 UTC,warning,acme,refused a messages request: 403 Forbidden");
        assert_eq!(lines[2], "1970-01-01 00:00:00 UTC,warning,,\"said \"\"hi\"\", then left\"");
        assert_eq!(lines[3], "1970-01-01 00:00:00 UTC,warning,acme,\"'=HYPERLINK(\"\"x\"\")\"");
    }
}
