//! Docent's conversation analytics: every metric, its KPI target, and the charts, computed
//! from the store's rollups — never from raw events, and with no HTTP.
//!
//! The metrics are defined in `docs/analytics.md`; each field of [`Kpis`] says its formula.
//! [`Dashboard::load`] reads one bot's figures for a [`Range`]; [`chart`] draws them as SVG,
//! [`privacy`] filters what is stored, [`demo`] seeds a month of sample conversations, and
//! [`report`] gathers a day, week or month into HTML, Excel and PDF files.

pub mod alerts;
pub mod chart;
pub mod demo;
pub mod privacy;
pub mod report;

use docent_store::events::{day_of, hour_of};
use docent_store::{
    ConversationStats, DropOff, FlowCount, HourlyRollup, QuestionCount, Store, Timestamp, UptimeCounts,
};
use serde::Serialize;

pub use docent_store::Result;

/// Questions shown in each table.
pub const QUESTION_ROWS: usize = 20;

/// Flow paths and drop-off points shown.
pub const FLOW_ROWS: usize = 10;

/// A time range `[from, to)` in Unix seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Range {
    pub from: Timestamp,
    pub to: Timestamp,
}

impl Range {
    /// The `seconds` before `now`.
    pub fn last(seconds: i64, now: Timestamp) -> Range {
        Range { from: now - seconds, to: now }
    }

    pub fn seconds(&self) -> i64 {
        (self.to - self.from).max(0)
    }
}

/// The headline figures of a range. A rate is `None` when its denominator is zero.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Kpis {
    /// Questions asked: replies of any tier.
    pub asked: u64,
    /// Answers (Q&A or passage) minus thumbs down, never below zero. Thumbs rate answers.
    pub resolved: u64,
    /// `resolved / asked`.
    pub success_rate: Option<f64>,
    /// Mean of the 1–5 ratings.
    pub satisfaction: Option<f64>,
    pub ratings: u64,
    /// Conversations that started in the range (with a visitor message).
    pub conversations: u64,
    /// Mean of (last activity − first activity) over those conversations, in seconds.
    pub average_session_seconds: Option<f64>,
    /// Conversations with exactly one visitor message / conversations.
    pub bounce_rate: Option<f64>,
    /// Conversations with at least one goal / conversations.
    pub conversion_rate: Option<f64>,
    /// Mean reply latency, in milliseconds, measured in the gateway from request to reply.
    pub response_ms: Option<f64>,
    /// Replies slower than 2 s.
    pub slow_replies: u64,
    /// Failed chat requests (4xx and 5xx).
    pub errors: u64,
    /// `errors / (asked + errors)`.
    pub error_rate: Option<f64>,
    pub messages: u64,
    pub answers: u64,
    pub suggestions: u64,
    pub unknowns: u64,
    /// Up samples / samples of every gateway `docent watch` probed in the range's hours;
    /// `None` when no watcher reported. Not computed by [`Kpis::compute`]: it comes from the probes.
    pub uptime: Option<f64>,
    /// Probe samples behind [`Kpis::uptime`].
    pub probe_samples: u64,
}

impl Kpis {
    /// The figures of summed rollups and conversation stats.
    pub fn compute(sums: &HourlyRollup, conversations: &ConversationStats) -> Kpis {
        let asked = sums.replies();
        let resolved = sums.answers.saturating_sub(sums.thumbs_down);
        let count = conversations.conversations;
        Kpis {
            asked,
            resolved,
            success_rate: ratio(resolved, asked),
            satisfaction: ratio(sums.rating_sum, sums.ratings),
            ratings: sums.ratings,
            conversations: count,
            average_session_seconds: ratio(conversations.duration_sum, count),
            bounce_rate: ratio(conversations.bounced, count),
            conversion_rate: ratio(conversations.converted, count),
            response_ms: ratio(sums.latency_ms_sum, asked),
            slow_replies: sums.slow_replies,
            errors: sums.errors,
            error_rate: ratio(sums.errors, asked + sums.errors),
            messages: sums.messages,
            answers: sums.answers,
            suggestions: sums.suggestions,
            unknowns: sums.unknowns,
            uptime: None,
            probe_samples: 0,
        }
    }

    /// Sets [`Kpis::uptime`] from probe counts.
    pub fn with_uptime(mut self, counts: UptimeCounts) -> Kpis {
        self.uptime = ratio(counts.up, counts.samples);
        self.probe_samples = counts.samples;
        self
    }
}

fn ratio(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// Which way a target points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Goal {
    Below,
    Above,
}

/// How a figure stands against its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    Met,
    Missed,
    /// Nothing to measure in the range.
    NoData,
    /// Uptime comes from `docent watch`, an outside prober; none has reported.
    NoWatcher,
}

/// One KPI against its target.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Target {
    pub name: &'static str,
    pub goal: Goal,
    /// In the figure's unit: seconds, or a fraction for rates, or 1–5 for satisfaction.
    pub threshold: f64,
    pub value: Option<f64>,
    pub standing: Standing,
}

/// The operator's KPI targets: response time < 2 s, uptime > 99.5 %, success rate > 85 %,
/// satisfaction > 4.0, error rate < 5 %.
pub fn targets(kpis: &Kpis) -> Vec<Target> {
    let target = |name, goal, threshold, value: Option<f64>| {
        let standing = match value {
            None => Standing::NoData,
            Some(value) if (goal == Goal::Below && value < threshold) || (goal == Goal::Above && value > threshold) => {
                Standing::Met
            }
            Some(_) => Standing::Missed,
        };
        Target { name, goal, threshold, value, standing }
    };
    vec![
        target("Response time", Goal::Below, 2.0, kpis.response_ms.map(|ms| ms / 1000.0)),
        match kpis.uptime {
            Some(uptime) => target("Uptime", Goal::Above, 0.995, Some(uptime)),
            None => Target {
                name: "Uptime",
                goal: Goal::Above,
                threshold: 0.995,
                value: None,
                standing: Standing::NoWatcher,
            },
        },
        target("Success rate", Goal::Above, 0.85, kpis.success_rate),
        target("Satisfaction", Goal::Above, 4.0, kpis.satisfaction),
        target("Error rate", Goal::Below, 0.05, kpis.error_rate),
    ]
}

/// Messages per weekday (Monday first) and UTC hour.
pub type Heatmap = [[u64; 24]; 7];

/// One bucket of a time series: an hour, or a day for ranges over two days.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Bucket {
    pub start: Timestamp,
    pub sums: HourlyRollup,
}

/// Everything the analytics page shows for one bot and range.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Dashboard {
    pub bot: String,
    pub range: Range,
    pub kpis: Kpis,
    pub targets: Vec<Target>,
    pub series: Vec<Bucket>,
    /// Seconds per bucket of `series`.
    pub bucket_seconds: i64,
    pub heatmap: Heatmap,
    pub top_questions: Vec<QuestionCount>,
    pub unresolved: Vec<QuestionCount>,
    /// The most taken flow paths of the conversations that started in the range.
    pub flows: Vec<FlowCount>,
    /// Where those of them that ended unresolved ended.
    pub drop_offs: Vec<DropOff>,
    /// Conversations in the range that are seeded demo data.
    pub demo_conversations: u64,
}

impl Dashboard {
    /// Reads the bot's rollups for `range`: the hours that overlap it, the conversations that
    /// started in it, and the questions of the days that overlap it.
    pub fn load(store: &dyn Store, bot: &str, range: Range) -> Result<Dashboard> {
        let rollups = store.hourly_rollups(bot, hour_of(range.from), range.to)?;
        let conversations = store.conversation_stats(bot, range.from, range.to)?;
        let uptime = store.uptime(hour_of(range.from), range.to)?;
        let (first_day, last_day) = (day_of(range.from), day_of(range.to - 1) + 86_400);
        Ok(Dashboard {
            flows: store.flows(bot, range.from, range.to, FLOW_ROWS)?,
            drop_offs: store.drop_offs(bot, range.from, range.to, FLOW_ROWS)?,
            ..Dashboard::from_parts(
                bot,
                range,
                &rollups,
                &conversations,
                uptime,
                store.top_questions(bot, first_day, last_day, false, QUESTION_ROWS)?,
                store.top_questions(bot, first_day, last_day, true, QUESTION_ROWS)?,
            )
        })
    }

    fn from_parts(
        bot: &str,
        range: Range,
        rollups: &[HourlyRollup],
        conversations: &ConversationStats,
        uptime: UptimeCounts,
        top_questions: Vec<QuestionCount>,
        unresolved: Vec<QuestionCount>,
    ) -> Dashboard {
        let mut sums = HourlyRollup::default();
        let mut heatmap = [[0u64; 24]; 7];
        for hour in rollups {
            sums.add(hour);
            heatmap[weekday(hour.hour)][hour.hour.rem_euclid(86_400) as usize / 3600] += hour.messages;
        }
        let bucket_seconds = if range.seconds() > 2 * 86_400 { 86_400 } else { 3600 };
        let kpis = Kpis::compute(&sums, conversations).with_uptime(uptime);
        Dashboard {
            bot: bot.to_owned(),
            range,
            targets: targets(&kpis),
            kpis,
            series: series(range, rollups, bucket_seconds),
            bucket_seconds,
            heatmap,
            top_questions,
            unresolved,
            flows: Vec::new(),
            drop_offs: Vec::new(),
            demo_conversations: conversations.demo,
        }
    }
}

/// Every bucket of the range, empty ones included, so charts show quiet times as zero.
fn series(range: Range, rollups: &[HourlyRollup], bucket_seconds: i64) -> Vec<Bucket> {
    let first = range.from - range.from.rem_euclid(bucket_seconds);
    let mut buckets: Vec<Bucket> = (0..)
        .map(|index| first + index * bucket_seconds)
        .take_while(|start| *start < range.to)
        .map(|start| Bucket { start, sums: HourlyRollup { hour: start, ..HourlyRollup::default() } })
        .collect();
    for hour in rollups {
        let index = ((hour.hour - first) / bucket_seconds) as usize;
        if let Some(bucket) = buckets.get_mut(index) {
            bucket.sums.add(hour);
        }
    }
    buckets
}

/// 0 for Monday … 6 for Sunday (1970-01-01 was a Thursday).
pub fn weekday(at: Timestamp) -> usize {
    (at.div_euclid(86_400) + 3).rem_euclid(7) as usize
}

#[cfg(test)]
mod tests;
