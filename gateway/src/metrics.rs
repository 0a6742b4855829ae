//! Prometheus metrics, served at `GET /v1/admin/metrics` to an admin token of every bot.
//!
//! Counted as requests go: requests per route and status, latency histograms per route, and
//! replies per bot and tier. Read at scrape time: each bot's live generation and this month's
//! quota use (from the store), and the events queue's depth and drops (from the recorder).
//! Routes are a fixed vocabulary ([`route_of`]), never the raw path, so an unauthenticated
//! client cannot grow the label sets; bots are the store's.

use prometheus_client::encoding::text::{encode_eof, encode_registry};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// Labels as name/value pairs.
type Labels = Vec<(&'static str, String)>;

/// Latency buckets, in seconds: from 1 ms to the 10 s request timeout.
const LATENCY_BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 10.0];

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

/// The counters kept as requests go.
pub struct Metrics {
    registry: Registry,
    requests: Family<Labels, Counter>,
    latency: Family<Labels, Histogram, fn() -> Histogram>,
    replies: Family<Labels, Counter>,
}

impl Default for Metrics {
    fn default() -> Metrics {
        let mut registry = Registry::with_prefix("docent");
        let requests = Family::<Labels, Counter>::default();
        let latency = Family::<Labels, Histogram, fn() -> Histogram>::new_with_constructor(latency_histogram);
        let replies = Family::<Labels, Counter>::default();
        registry.register("http_requests", "HTTP requests answered, by route and status", requests.clone());
        registry.register(
            "http_request_duration_seconds",
            "Time from a request read to its response, by route",
            latency.clone(),
        );
        registry.register(
            "replies",
            "Replies to visitors, by bot and tier (answer, suggestions, unknown)",
            replies.clone(),
        );
        Metrics { registry, requests, latency, replies }
    }
}

/// The figures read at scrape time.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// Per bot: the live generation.
    pub live_generations: Vec<(String, u64)>,
    /// Per bot: messages counted this month, and the plan's limit if any.
    pub quota: Vec<(String, u64, Option<u64>)>,
    pub queue_depth: u64,
    pub queue_dropped: u64,
}

impl Metrics {
    /// Counts one answered request.
    pub fn request(&self, route: &'static str, status: u16, seconds: f64) {
        self.requests.get_or_create(&vec![("route", route.to_owned()), ("status", status.to_string())]).inc();
        self.latency.get_or_create(&vec![("route", route.to_owned())]).observe(seconds);
    }

    /// Counts one reply of `bot` (a live bot's id) with `tier`.
    pub fn reply(&self, bot: &str, tier: &'static str) {
        self.replies.get_or_create(&vec![("bot", bot.to_owned()), ("tier", tier.to_owned())]).inc();
    }

    /// The OpenMetrics text of every metric.
    pub fn render(&self, snapshot: &Snapshot) -> Result<String, std::fmt::Error> {
        let mut scraped = Registry::with_prefix("docent");
        let generations = Family::<Labels, Gauge>::default();
        for (bot, generation) in &snapshot.live_generations {
            generations.get_or_create(&vec![("bot", bot.clone())]).set(i64::try_from(*generation).unwrap_or(i64::MAX));
        }
        scraped.register("live_generation", "The generation each bot serves", generations);
        let (used, limits) = (Family::<Labels, Gauge>::default(), Family::<Labels, Gauge>::default());
        for (bot, count, limit) in &snapshot.quota {
            used.get_or_create(&vec![("bot", bot.clone())]).set(i64::try_from(*count).unwrap_or(i64::MAX));
            if let Some(limit) = limit {
                limits.get_or_create(&vec![("bot", bot.clone())]).set(i64::try_from(*limit).unwrap_or(i64::MAX));
            }
        }
        scraped.register("quota_used_messages", "Messages counted this month (UTC), per bot", used);
        scraped.register("quota_limit_messages", "The plan's monthly message limit, per bot that has one", limits);
        let depth = Gauge::<i64>::default();
        depth.set(i64::try_from(snapshot.queue_depth).unwrap_or(i64::MAX));
        scraped.register("events_queue_depth", "Events and log records waiting to be written to the store", depth);
        let dropped = Counter::<u64>::default();
        dropped.inc_by(snapshot.queue_dropped);
        scraped.register(
            "events_dropped",
            "Events and log records dropped because the queue, or the backlog kept through a store outage, was full",
            dropped,
        );

        let mut text = String::new();
        encode_registry(&mut text, &self.registry)?;
        encode_registry(&mut text, &scraped)?;
        encode_eof(&mut text)?;
        Ok(text)
    }
}

/// The route a path belongs to, from a fixed list.
pub fn route_of(path: &str) -> &'static str {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match segments.as_slice() {
        ["healthz"] => "healthz",
        ["widget", ..] => "widget",
        ["demo", ..] => "demo",
        ["v1", "bots", _, "config"] => "bot_config",
        ["v1", "bots", _, "messages"] => "bot_messages",
        ["v1", "bots", _, "sessions"] => "bot_sessions",
        ["v1", "bots", _, "events"] => "bot_events",
        ["v1", "admin", "metrics"] => "metrics",
        ["v1", "admin", ..] => "admin_api",
        ["admin", ..] => "console",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_a_fixed_vocabulary() {
        for (path, route) in [
            ("/healthz", "healthz"),
            ("/v1/bots/acme/messages", "bot_messages"),
            ("/v1/bots/acme/events", "bot_events"),
            ("/v1/admin/metrics", "metrics"),
            ("/v1/admin/bots/acme/deploys", "admin_api"),
            ("/admin/bots/acme", "console"),
            ("/widget/1.0.0/bundle.js", "widget"),
            ("/anything/the/client/invents", "other"),
            ("/v1/bots/acme/invented", "other"),
        ] {
            assert_eq!(route_of(path), route, "{path}");
        }
    }

    #[test]
    fn the_text_holds_every_family() {
        let metrics = Metrics::default();
        metrics.request("bot_messages", 200, 0.004);
        metrics.reply("acme", "answer");
        let snapshot = Snapshot {
            live_generations: vec![("acme".into(), 3)],
            quota: vec![("acme".into(), 41, Some(1000))],
            queue_depth: 2,
            queue_dropped: 0,
        };
        let text = metrics.render(&snapshot).unwrap();
        for line in [
            "docent_http_requests_total{route=\"bot_messages\",status=\"200\"} 1",
            "docent_http_request_duration_seconds_bucket{le=\"0.005\",route=\"bot_messages\"} 1",
            "docent_replies_total{bot=\"acme\",tier=\"answer\"} 1",
            "docent_live_generation{bot=\"acme\"} 3",
            "docent_quota_used_messages{bot=\"acme\"} 41",
            "docent_quota_limit_messages{bot=\"acme\"} 1000",
            "docent_events_queue_depth 2",
            "docent_events_dropped_total 0",
            "# EOF",
        ] {
            assert!(text.contains(line), "{line} in\n{text}");
        }
    }
}
