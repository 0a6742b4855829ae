//! Rate limits on the bot API: the sign-in brake and chat messages, per client and conversation.
//!
//! Each limit is a keyed token bucket (`governor`, GCRA) whose check consumes a unit in one
//! atomic step, so concurrent requests can never all pass a check before any is counted. The
//! state is in this process; [`Limit`] is the one type to swap when it moves to the store.

use std::hash::Hash;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use docent_protocol::ErrorCode;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::client::ClientKey;
use crate::error::ApiError;

/// Sign-in attempts allowed at once per bot and client; one more comes back every
/// [`SIGN_IN_REFILL`], so a guesser gets 5 tries, then one a minute.
pub const SIGN_IN_BURST: u32 = 5;
pub const SIGN_IN_REFILL: Duration = Duration::from_secs(60);
/// `docent serve`'s default chat messages per minute from one client (all its conversations and bots).
pub const DEFAULT_MESSAGES_PER_CLIENT: u32 = 30;
/// `docent serve`'s default chat messages per minute in one conversation.
pub const DEFAULT_MESSAGES_PER_CONVERSATION: u32 = 12;

/// Keys kept before idle ones (whose bucket is full again) are first dropped.
const MIN_KEYS_BEFORE_CLEANUP: usize = 10_000;

/// One keyed limit: `burst` units at once, refilled one per `refill`.
pub struct Limit<K: Hash + Eq + Clone> {
    limiter: DefaultKeyedRateLimiter<K>,
    /// The key count that triggers the next sweep of idle keys: twice what the last sweep
    /// kept, so that many busy keys (a new conversation per request) never make each request
    /// scan them all; sweeps stay amortised O(1) per request.
    cleanup_at: AtomicUsize,
}

impl<K: Hash + Eq + Clone> Limit<K> {
    pub fn new(burst: NonZeroU32, refill: Duration) -> Limit<K> {
        let quota = Quota::with_period(refill).unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN)).allow_burst(burst);
        Limit { limiter: RateLimiter::keyed(quota), cleanup_at: AtomicUsize::new(MIN_KEYS_BEFORE_CLEANUP) }
    }

    /// `per_minute` units a minute, all of which may come at once.
    pub fn per_minute(per_minute: NonZeroU32) -> Limit<K> {
        Limit::new(per_minute, Duration::from_secs(60) / per_minute.get())
    }

    /// Takes one unit for `key`, or says how long until one is free.
    pub fn take(&self, key: &K) -> Result<(), Duration> {
        if self.limiter.len() > self.cleanup_at.load(Ordering::Relaxed) {
            self.limiter.retain_recent();
            self.limiter.shrink_to_fit();
            let kept = self.limiter.len();
            self.cleanup_at.store(kept.saturating_mul(2).max(MIN_KEYS_BEFORE_CLEANUP), Ordering::Relaxed);
        }
        self.limiter.check_key(key).map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }
}

/// Widget event batches a client may send per minute (the widget batches a visit's events).
const EVENT_BATCHES_PER_MINUTE: u32 = 60;

/// Every limit on the bot API. The sign-in brake is always on; chat limits are set by
/// `docent serve` (with the defaults above) and off in a gateway embedded without them.
pub struct Limits {
    sign_in: Limit<(String, ClientKey)>,
    /// Batches of widget events (`/events`), always on: the widget sends a few per visit.
    events_per_client: Limit<ClientKey>,
    messages_per_client: Option<Limit<ClientKey>>,
    messages_per_conversation: Option<Limit<(String, String)>>,
}

impl Limits {
    pub fn new(messages_per_client: NonZeroU32, messages_per_conversation: NonZeroU32) -> Limits {
        Limits {
            messages_per_client: Some(Limit::per_minute(messages_per_client)),
            messages_per_conversation: Some(Limit::per_minute(messages_per_conversation)),
            ..Limits::default()
        }
    }

    /// Counts one sign-in attempt on `bot` (or the console) from `client`, before anything is checked.
    pub fn sign_in(&self, bot: &str, client: ClientKey) -> Result<(), ApiError> {
        self.sign_in.take(&(bot.to_owned(), client)).map_err(|wait| {
            ApiError::too_many(ErrorCode::TooManyAttempts, "too many sign-in attempts; try again later", wait)
        })
    }

    /// Counts one batch of widget events from `client`, before its body is read.
    pub fn events_from(&self, client: ClientKey) -> Result<(), ApiError> {
        self.events_per_client.take(&client).map_err(|wait| {
            ApiError::too_many(ErrorCode::TooManyAttempts, "too many widget events; wait a moment", wait)
        })
    }

    /// Counts one chat message from `client`, before its body is read.
    pub fn message_from(&self, client: ClientKey) -> Result<(), ApiError> {
        self.messages_per_client.as_ref().map_or(Ok(()), |limit| limit.take(&client).map_err(too_many_messages))
    }

    /// Counts one chat message in an existing `conversation` of `bot`.
    pub fn message_in(&self, bot: &str, conversation: &str) -> Result<(), ApiError> {
        let key = (bot.to_owned(), conversation.to_owned());
        self.messages_per_conversation.as_ref().map_or(Ok(()), |limit| limit.take(&key).map_err(too_many_messages))
    }
}

fn too_many_messages(wait: Duration) -> ApiError {
    ApiError::too_many(ErrorCode::TooManyAttempts, "too many messages; wait a moment", wait)
}

impl Default for Limits {
    /// The sign-in brake only.
    fn default() -> Limits {
        Limits {
            sign_in: Limit::new(NonZeroU32::new(SIGN_IN_BURST).unwrap_or(NonZeroU32::MIN), SIGN_IN_REFILL),
            events_per_client: Limit::per_minute(NonZeroU32::new(EVENT_BATCHES_PER_MINUTE).unwrap_or(NonZeroU32::MIN)),
            messages_per_client: None,
            messages_per_conversation: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use super::*;

    fn client(text: &str) -> ClientKey {
        ClientKey::of(text.parse::<IpAddr>().unwrap())
    }

    #[test]
    fn the_sign_in_brake_allows_its_burst_then_says_when_to_retry() {
        let limits = Limits::default();
        let guesser = client("203.0.113.9");
        for _ in 0..SIGN_IN_BURST {
            limits.sign_in("handbook", guesser).unwrap();
        }
        let refused = limits.sign_in("handbook", guesser).unwrap_err();
        assert_eq!(refused.code, ErrorCode::TooManyAttempts);
        let wait = refused.retry_after.unwrap();
        assert!(wait > Duration::ZERO && wait <= SIGN_IN_REFILL, "{wait:?}");
        assert!(limits.sign_in("other", guesser).is_ok(), "the brake is per bot");
        assert!(limits.sign_in("handbook", client("203.0.113.10")).is_ok(), "and per client");
    }

    #[test]
    fn one_ipv6_client_is_braked_across_its_whole_64() {
        let limits = Limits::default();
        for host in 0..SIGN_IN_BURST {
            limits.sign_in("handbook", client(&format!("2001:db8:1:2::{host:x}"))).unwrap();
        }
        assert!(limits.sign_in("handbook", client("2001:db8:1:2:ffff::1")).is_err());
        assert!(limits.sign_in("handbook", client("2001:db8:1:3::1")).is_ok(), "another /64 is another client");
    }

    #[test]
    fn chat_is_limited_per_client_and_per_conversation() {
        let or_one = |n| NonZeroU32::new(n).unwrap();
        let limits = Limits::new(or_one(3), or_one(2));
        let visitor = client("198.51.100.7");
        for _ in 0..3 {
            limits.message_from(visitor).unwrap();
        }
        assert!(limits.message_from(visitor).is_err_and(|err| err.retry_after.is_some()));
        limits.message_from(client("198.51.100.8")).unwrap();
        limits.message_in("shop", "c_1").unwrap();
        limits.message_in("shop", "c_1").unwrap();
        assert!(limits.message_in("shop", "c_1").is_err());
        limits.message_in("shop", "c_2").unwrap();
        limits.message_in("other", "c_1").unwrap();
        let unlimited = Limits::default();
        for _ in 0..100 {
            unlimited.message_from(visitor).unwrap();
            unlimited.message_in("shop", "c_1").unwrap();
        }
    }

    #[test]
    fn idle_keys_are_swept_but_busy_ones_do_not_make_every_request_sweep() {
        let limit: Limit<u32> = Limit::new(NonZeroU32::MIN, Duration::from_secs(3600));
        let busy = MIN_KEYS_BEFORE_CLEANUP as u32 * 3;
        for key in 0..busy {
            limit.take(&key).unwrap();
        }
        assert_eq!(limit.limiter.len(), busy as usize, "no key is idle within the hour, so all are kept");
        let next = limit.cleanup_at.load(Ordering::Relaxed);
        assert!(next >= busy as usize, "the next sweep waits for the map to double: {next}");
        assert!(limit.take(&0).is_err(), "and the kept keys are still braked");

        let refilled_at_once: Limit<u32> = Limit::new(NonZeroU32::MIN, Duration::from_nanos(1));
        for key in 0..=MIN_KEYS_BEFORE_CLEANUP as u32 + 1 {
            refilled_at_once.take(&key).unwrap();
        }
        assert!(refilled_at_once.limiter.len() < MIN_KEYS_BEFORE_CLEANUP, "idle keys are dropped");
    }
}
