//! Demo data: a realistic month of conversations, so a newcomer's console is not empty.
//!
//! Every seeded conversation id starts with [`DEMO_PREFIX`], which the console shows as
//! "demo data". The numbers come from a fixed-seed generator: the same bot and day give the
//! same month. Busier on weekdays and office hours; most questions answered, some not.

use docent_store::events::{DEMO_PREFIX, day_of};
use docent_store::{Event, EventKind, Store, Tier, Timestamp};

use crate::Result;

/// Questions no demo bot answers, asked now and then.
const OFF_TOPIC: &[&str] = &[
    "Do you have a discount code?",
    "What's the weather tomorrow?",
    "Can I pay with crypto?",
    "Do you rent cargo bikes?",
    "Is there a student discount?",
];

/// Events written per transaction.
const BATCH: usize = 5_000;

/// Seeds `days` days of conversations before `now` for `bot`, asking `questions` (the bot's
/// own, answered) and a few off-topic ones. Returns the number of conversations. Does
/// nothing and returns 0 when the bot already has conversations in that time.
pub fn seed(
    store: &dyn Store,
    bot: &str,
    questions: &[String],
    generation: Option<u64>,
    now: Timestamp,
    days: i64,
) -> Result<u64> {
    let start = day_of(now) - days * 86_400;
    if store.conversation_stats(bot, start, now)?.conversations > 0 {
        return Ok(0);
    }
    let mut random = SplitMix(bot.bytes().fold(0x5eed_u64, |seed, byte| seed.rotate_left(5) ^ u64::from(byte)));
    let mut events = Vec::new();
    let mut conversations = 0u64;
    for day in 0..days {
        let day_start = start + day * 86_400;
        let weekend = matches!(crate::weekday(day_start), 5 | 6);
        let count = if weekend { 8 + random.below(10) } else { 22 + random.below(25) };
        for _ in 0..count {
            let at = day_start + busy_second(&mut random);
            if at >= now {
                continue;
            }
            conversations += 1;
            let id = format!("{DEMO_PREFIX}{bot}_{day}_{conversations}");
            conversation(&mut random, &mut events, bot, &id, generation, at, questions);
        }
    }
    for chunk in events.chunks(BATCH) {
        store.record_events(chunk)?;
    }
    Ok(conversations)
}

/// A second of the day, most often in office hours (UTC).
fn busy_second(random: &mut SplitMix) -> i64 {
    let hour = match random.below(100) {
        0..=9 => random.below(8),
        10..=54 => 8 + random.below(5),
        55..=89 => 13 + random.below(5),
        _ => 18 + random.below(6),
    };
    (hour * 3600 + random.below(3600)) as i64
}

fn conversation(
    random: &mut SplitMix,
    events: &mut Vec<Event>,
    bot: &str,
    id: &str,
    generation: Option<u64>,
    mut at: Timestamp,
    questions: &[String],
) {
    let event = |kind: EventKind, at: Timestamp| Event {
        generation,
        conversation: Some(id.to_owned()),
        ..Event::new(bot, at, kind)
    };
    events.push(event(EventKind::Open, at));
    at += 5 + random.below(40) as i64;
    events.push(event(EventKind::ConversationStart, at));
    let messages = match random.below(100) {
        0..=37 => 1,
        38..=74 => 2,
        75..=92 => 3,
        _ => 4,
    };
    let mut any_unresolved = false;
    for _ in 0..messages {
        events.push(event(EventKind::Message, at));
        if random.below(100) < 2 {
            events.push(Event {
                value: Some(429),
                detail: Some("too_many_requests".into()),
                ..event(EventKind::Error, at)
            });
            continue;
        }
        let off_topic = questions.is_empty() || random.below(100) < 15;
        let (question, tier) = if off_topic {
            let question = OFF_TOPIC[random.below(OFF_TOPIC.len() as u64) as usize];
            (question.to_owned(), if random.below(100) < 70 { Tier::Unknown } else { Tier::Suggestions })
        } else {
            let question = questions[random.below(questions.len() as u64) as usize].clone();
            (question, if random.below(100) < 92 { Tier::Answer } else { Tier::Suggestions })
        };
        any_unresolved |= tier != Tier::Answer;
        let latency = if random.below(100) < 3 { 2_100 + random.below(900) } else { 120 + random.below(900) };
        events.push(Event {
            tier: Some(tier),
            latency_ms: Some(latency),
            text: Some(question),
            source: (tier == Tier::Answer).then(|| "faq.toml".to_owned()),
            ..event(EventKind::Reply, at + 1)
        });
        if tier == Tier::Answer {
            match random.below(100) {
                0..=24 => events.push(event(EventKind::ThumbUp, at + 8)),
                25..=27 => events.push(event(EventKind::ThumbDown, at + 8)),
                _ => {}
            }
        }
        at += 20 + random.below(90) as i64;
    }
    if random.below(100) < 30 {
        let score = if any_unresolved { 1 + random.below(3) } else { 4 + random.below(2) };
        events.push(Event { value: Some(score as i64), ..event(EventKind::Rating, at) });
    }
    if random.below(100) < 12 {
        events.push(Event { detail: Some("contact_form".into()), ..event(EventKind::Goal, at + 2) });
    }
    events.push(event(EventKind::Close, at + 5));
}

/// A small, fixed-seed pseudo-random generator (SplitMix64): demo data only.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..bound` (`bound` > 0).
    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound.max(1)
    }
}
