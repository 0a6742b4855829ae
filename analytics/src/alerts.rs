//! The alert rules, as one pure function from stored figures to findings: no IO, no clock.
//!
//! [`evaluate`] says, for each [`AlertKind`], whether it fires now and what was measured. The
//! caller reads the facts ([`rollup_window`] says which hours), opens an incident for each
//! firing rule and resolves the others; the store makes sure each opens and resolves once.
//! Every rule and its window is defined in `docs/analytics.md`.

use docent_store::events::hour_of;
use docent_store::{AlertKind, Event, EventKind, HourlyRollup, ProbeTarget, Tier, Timestamp};
use serde::Serialize;

/// A target whose latest sample is older than this is no longer watched and is left out.
pub const STALE_PROBE_SECONDS: i64 = 3600;

/// Days whose same hour make a traffic spike's "normal".
pub const NORMAL_DAYS: i64 = 7;

/// When each rule fires; the defaults are the operator's guide's.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Thresholds {
    /// A gateway seen down for longer than this.
    pub downtime_seconds: i64,
    /// Failed requests over this share of requests in the last hour.
    pub error_rate: f64,
    /// Resolved questions under this share of questions in the last 24 hours.
    pub success_rate: f64,
    /// An hour's messages over this multiple of the same hour's normal.
    pub spike_ratio: f64,
    /// The live knowledge over this share of the plan's storage limit.
    pub storage_ratio: f64,
    /// The error and success rates are judged only on at least this many requests or questions.
    pub min_requests: u64,
    /// A spike needs at least this many messages in the hour, so 1 → 4 is not one.
    pub spike_min_messages: u64,
}

impl Default for Thresholds {
    fn default() -> Thresholds {
        Thresholds {
            downtime_seconds: 120,
            error_rate: 0.10,
            success_rate: 0.70,
            spike_ratio: 3.0,
            storage_ratio: 0.90,
            min_requests: 20,
            spike_min_messages: 30,
        }
    }
}

/// What the rules look at, read by the caller.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    pub now: Timestamp,
    /// The bot's hourly rollups over [`rollup_window`], in any order.
    pub hours: &'a [HourlyRollup],
    /// Every probed gateway's state.
    pub probes: &'a [ProbeTarget],
    /// The live knowledge's bytes and the plan's storage limit, when both are known.
    pub storage: Option<(u64, u64)>,
}

/// One rule's verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub kind: AlertKind,
    pub firing: bool,
    /// What was measured, in words; sent in the notice.
    pub detail: String,
}

/// The hours `[from, to)` whose rollups [`evaluate`] needs at `now`: the current hour and the
/// previous one, and the same two hours on each of the [`NORMAL_DAYS`] days before.
pub fn rollup_window(now: Timestamp) -> (Timestamp, Timestamp) {
    let hour = hour_of(now);
    (hour - 3600 - NORMAL_DAYS * 86_400, hour + 3600)
}

/// Whether the alert kind is critical: critical alerts also go to SMS channels.
pub fn is_critical(kind: AlertKind) -> bool {
    matches!(kind, AlertKind::Downtime | AlertKind::ErrorRate)
}

/// Every rule's verdict at `facts.now`, in [`AlertKind::RULES`] order.
pub fn evaluate(thresholds: &Thresholds, facts: &Facts<'_>) -> Vec<Finding> {
    AlertKind::RULES
        .into_iter()
        .filter_map(|kind| {
            let (firing, detail) = match kind {
                AlertKind::Downtime => downtime(thresholds, facts),
                AlertKind::ErrorRate => error_rate(thresholds, facts),
                AlertKind::SuccessRate => success_rate(thresholds, facts),
                AlertKind::TrafficSpike => traffic_spike(thresholds, facts),
                AlertKind::Storage => storage(thresholds, facts),
                // Judged by each run of the tests against the live bot, not from rollups.
                AlertKind::ContinuousTests => return None,
            };
            Some(Finding { kind, firing, detail })
        })
        .collect()
}

fn downtime(thresholds: &Thresholds, facts: &Facts<'_>) -> (bool, String) {
    let watched = facts.probes.iter().filter(|probe| facts.now - probe.last_at <= STALE_PROBE_SECONDS);
    let down: Vec<String> = watched
        .filter(|probe| !probe.up && probe.last_at - probe.since > thresholds.downtime_seconds)
        .map(|probe| format!("{} down for {} s", probe.target, probe.last_at - probe.since))
        .collect();
    if down.is_empty() {
        (false, format!("no gateway down for more than {} s", thresholds.downtime_seconds))
    } else {
        (true, down.join("; "))
    }
}

/// The rollups of the hours starting in `[from, to)`, summed.
fn sum_hours(hours: &[HourlyRollup], from: Timestamp, to: Timestamp) -> HourlyRollup {
    let mut sums = HourlyRollup::default();
    for hour in hours.iter().filter(|hour| hour.hour >= from && hour.hour < to) {
        sums.add(hour);
    }
    sums
}

fn percent(value: f64) -> String {
    format!("{:.1} %", value * 100.0)
}

fn error_rate(thresholds: &Thresholds, facts: &Facts<'_>) -> (bool, String) {
    let hour = hour_of(facts.now);
    error_rate_of(thresholds, &sum_hours(facts.hours, hour - 3600, hour + 3600), "in the last hour")
}

fn error_rate_of(thresholds: &Thresholds, sums: &HourlyRollup, window: &str) -> (bool, String) {
    let requests = sums.replies() + sums.errors;
    if requests < thresholds.min_requests {
        return (false, format!("{requests} requests {window}, under the {} judged", thresholds.min_requests));
    }
    let rate = sums.errors as f64 / requests as f64;
    (
        rate > thresholds.error_rate,
        format!(
            "{} of {requests} requests failed {window} ({}; threshold {})",
            sums.errors,
            percent(rate),
            percent(thresholds.error_rate)
        ),
    )
}

fn success_rate(thresholds: &Thresholds, facts: &Facts<'_>) -> (bool, String) {
    let hour = hour_of(facts.now);
    success_rate_of(thresholds, &sum_hours(facts.hours, hour - 23 * 3600, hour + 3600), "in the last 24 hours")
}

fn success_rate_of(thresholds: &Thresholds, sums: &HourlyRollup, window: &str) -> (bool, String) {
    let asked = sums.replies();
    if asked < thresholds.min_requests {
        return (false, format!("{asked} questions {window}, under the {} judged", thresholds.min_requests));
    }
    let resolved = sums.answers.saturating_sub(sums.thumbs_down);
    let rate = resolved as f64 / asked as f64;
    (
        rate < thresholds.success_rate,
        format!(
            "{resolved} of {asked} questions resolved {window} ({}; threshold {})",
            percent(rate),
            percent(thresholds.success_rate)
        ),
    )
}

/// The error-rate and success-rate rules over `events` alone (a hotfix's watch window, since
/// its deploy), with the same thresholds: a breach shows in seconds, not at the hourly windows.
pub fn evaluate_window(thresholds: &Thresholds, events: &[Event], window: &str) -> Vec<Finding> {
    let mut sums = HourlyRollup::default();
    for event in events {
        match event.kind {
            EventKind::Reply => match event.tier {
                Some(Tier::Answer) => sums.answers += 1,
                Some(Tier::Suggestions) => sums.suggestions += 1,
                Some(Tier::Unknown) | None => sums.unknowns += 1,
            },
            EventKind::Error => sums.errors += 1,
            EventKind::ThumbDown => sums.thumbs_down += 1,
            _ => {}
        }
    }
    let (firing, detail) = error_rate_of(thresholds, &sums, window);
    let errors = Finding { kind: AlertKind::ErrorRate, firing, detail };
    let (firing, detail) = success_rate_of(thresholds, &sums, window);
    vec![errors, Finding { kind: AlertKind::SuccessRate, firing, detail }]
}

fn traffic_spike(thresholds: &Thresholds, facts: &Facts<'_>) -> (bool, String) {
    let current = hour_of(facts.now);
    let messages = |hour: Timestamp| sum_hours(facts.hours, hour, hour + 3600).messages;
    let mut details = Vec::new();
    let mut firing = false;
    for hour in [current, current - 3600] {
        let count = messages(hour);
        let normal =
            (1..=NORMAL_DAYS).map(|days| messages(hour - days * 86_400)).sum::<u64>() as f64 / NORMAL_DAYS as f64;
        let spike = count >= thresholds.spike_min_messages && count as f64 > thresholds.spike_ratio * normal;
        firing |= spike;
        let label = if hour == current { "this hour so far" } else { "the previous hour" };
        details.push(format!("{count} messages {label} against a normal of {normal:.1}"));
    }
    (firing, details.join("; "))
}

fn storage(thresholds: &Thresholds, facts: &Facts<'_>) -> (bool, String) {
    match facts.storage {
        Some((used, limit)) if limit > 0 => {
            let share = used as f64 / limit as f64;
            (
                share > thresholds.storage_ratio,
                format!(
                    "the knowledge takes {used} of {limit} bytes ({}; threshold {})",
                    percent(share),
                    percent(thresholds.storage_ratio)
                ),
            )
        }
        _ => (false, "no storage limit or no live knowledge".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A Monday, 10:30 UTC.
    const NOW: Timestamp = 1_795_996_800 + 10 * 3600 + 1800;

    fn hour(start: Timestamp, fill: impl FnOnce(&mut HourlyRollup)) -> HourlyRollup {
        let mut rollup = HourlyRollup { hour: start, ..HourlyRollup::default() };
        fill(&mut rollup);
        rollup
    }

    fn firing(facts: &Facts<'_>, thresholds: &Thresholds) -> Vec<AlertKind> {
        evaluate(thresholds, facts).into_iter().filter(|finding| finding.firing).map(|finding| finding.kind).collect()
    }

    fn facts<'a>(hours: &'a [HourlyRollup], probes: &'a [ProbeTarget], storage: Option<(u64, u64)>) -> Facts<'a> {
        Facts { now: NOW, hours, probes, storage }
    }

    #[test]
    fn each_rule_fires_on_its_own_figure_and_not_below_it() {
        let current = hour_of(NOW);
        let probe = |up, since, last_at| ProbeTarget { target: "http://gw".into(), up, since, last_at };
        let quiet_days: Vec<HourlyRollup> =
            (1..=7).map(|days| hour(current - days * 86_400, |h| h.messages = 10)).collect();
        let with = |extra: HourlyRollup| -> Vec<HourlyRollup> {
            let mut hours = quiet_days.clone();
            hours.push(extra);
            hours
        };
        let defaults = Thresholds::default();
        #[allow(clippy::type_complexity)]
        let cases: Vec<(&str, Vec<HourlyRollup>, Vec<ProbeTarget>, Option<(u64, u64)>, Vec<AlertKind>)> = vec![
            ("nothing happened", quiet_days.clone(), vec![], None, vec![]),
            ("down 121 s", vec![], vec![probe(false, NOW - 121, NOW)], None, vec![AlertKind::Downtime]),
            ("down 120 s is not over 2 minutes", vec![], vec![probe(false, NOW - 120, NOW)], None, vec![]),
            ("up again", vec![], vec![probe(true, NOW - 5, NOW)], None, vec![]),
            ("a watcher gone for over an hour", vec![], vec![probe(false, NOW - 9_000, NOW - 3_601)], None, vec![]),
            (
                "11 errors in 100 requests",
                with(hour(current, |h| {
                    h.answers = 89;
                    h.errors = 11;
                })),
                vec![],
                None,
                vec![AlertKind::ErrorRate],
            ),
            (
                "10 errors in 100 requests is not over 10 %",
                with(hour(current, |h| {
                    h.answers = 90;
                    h.errors = 10;
                })),
                vec![],
                None,
                vec![],
            ),
            (
                "5 errors in 10 requests are too few to judge",
                with(hour(current, |h| {
                    h.answers = 5;
                    h.errors = 5;
                })),
                vec![],
                None,
                vec![],
            ),
            (
                "errors of the previous hour count",
                with(hour(current - 3600, |h| {
                    h.answers = 20;
                    h.errors = 20;
                })),
                vec![],
                None,
                vec![AlertKind::ErrorRate],
            ),
            (
                "13 of 20 answered, 1 thumbed down",
                with(hour(current - 5 * 3600, |h| {
                    h.answers = 13;
                    h.unknowns = 7;
                    h.thumbs_down = 1;
                })),
                vec![],
                None,
                vec![AlertKind::SuccessRate],
            ),
            (
                "14 of 20 resolved is not under 70 %",
                with(hour(current - 5 * 3600, |h| {
                    h.answers = 14;
                    h.unknowns = 6;
                })),
                vec![],
                None,
                vec![],
            ),
            (
                "31 messages against a normal of 10",
                with(hour(current, |h| h.messages = 31)),
                vec![],
                None,
                vec![AlertKind::TrafficSpike],
            ),
            ("30 messages is not over 300 % of 10", with(hour(current, |h| h.messages = 30)), vec![], None, vec![]),
            ("29 messages with no normal: too few", vec![hour(current, |h| h.messages = 29)], vec![], None, vec![]),
            (
                "30 messages with no normal",
                vec![hour(current, |h| h.messages = 30)],
                vec![],
                None,
                vec![AlertKind::TrafficSpike],
            ),
            ("91 of 100 bytes", vec![], vec![], Some((91, 100)), vec![AlertKind::Storage]),
            ("90 of 100 bytes is not over 90 %", vec![], vec![], Some((90, 100)), vec![]),
        ];
        for (name, hours, probes, storage, expected) in cases {
            assert_eq!(firing(&facts(&hours, &probes, storage), &defaults), expected, "{name}");
        }
    }

    #[test]
    fn thresholds_are_per_bot() {
        let probes = [ProbeTarget { target: "http://gw".into(), up: false, since: NOW - 30, last_at: NOW }];
        let strict = Thresholds { downtime_seconds: 10, storage_ratio: 0.5, ..Thresholds::default() };
        assert_eq!(
            firing(&facts(&[], &probes, Some((60, 100))), &strict),
            vec![AlertKind::Downtime, AlertKind::Storage]
        );
        assert!(firing(&facts(&[], &probes, Some((60, 100))), &Thresholds::default()).is_empty());
    }

    #[test]
    fn a_hotfix_window_is_judged_on_its_own_events() {
        let events = |kind: EventKind, tier: Option<Tier>, count: usize| {
            (0..count).map(move |_| Event { tier, ..Event::new("acme", NOW, kind) }).collect::<Vec<_>>()
        };
        let thresholds = Thresholds { min_requests: 10, ..Thresholds::default() };
        let verdict = |events: &[Event]| {
            evaluate_window(&thresholds, events, "since the deploy")
                .into_iter()
                .map(|finding| (finding.kind, finding.firing, finding.detail))
                .collect::<Vec<_>>()
        };
        let mut calm = events(EventKind::Reply, Some(Tier::Answer), 9);
        assert_eq!(
            verdict(&calm),
            [
                (AlertKind::ErrorRate, false, "9 requests since the deploy, under the 10 judged".to_owned()),
                (AlertKind::SuccessRate, false, "9 questions since the deploy, under the 10 judged".to_owned()),
            ]
        );
        calm.extend(events(EventKind::Error, None, 2));
        assert!(verdict(&calm)[0].1, "2 of 11 failed: over 10 %");
        assert_eq!(verdict(&calm)[0].2, "2 of 11 requests failed since the deploy (18.2 %; threshold 10.0 %)");
        let mut unresolved = events(EventKind::Reply, Some(Tier::Unknown), 5);
        unresolved.extend(events(EventKind::Reply, Some(Tier::Answer), 6));
        assert_eq!(verdict(&unresolved).iter().map(|(_, firing, _)| *firing).collect::<Vec<_>>(), [false, true]);
    }

    #[test]
    fn the_window_covers_the_spike_normal() {
        let (from, to) = rollup_window(NOW);
        assert_eq!(from, hour_of(NOW) - 3600 - 7 * 86_400);
        assert_eq!(to, hour_of(NOW) + 3600);
    }
}
