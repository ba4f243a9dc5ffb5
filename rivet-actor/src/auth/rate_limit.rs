//! [`RateLimiter`]: a fixed-window limit per key (user id, IP, ...), for actor vars.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::UserError;

/// Keys longer than this are tracked by a digest, so a table of `max_keys` keys stays small
/// whatever keys callers pass (a client-chosen id, say).
const MAX_STORED_KEY: usize = 64;
/// Below this many keys the limiter never bothers to prune.
const MIN_PRUNE_LEN: usize = 64;
/// The default cap on keys tracked at once.
const DEFAULT_MAX_KEYS: usize = 100_000;
/// Windows and TTLs are clamped to this, so `now + window` cannot overflow.
pub(super) const MAX_SPAN: Duration = Duration::from_secs(100 * 365 * 24 * 60 * 60);

/// Allows `limit` requests per key in each fixed window of length `window`, as in RivetKit's
/// `rateLimitedActor`: the first request for a key opens its window; once `limit` requests
/// were allowed in it, more are refused with code `rate_limited` (message `"Too many
/// requests, try again later"`, metadata `{"retryAfterMs": ...}`) until it ends. Refused
/// requests do not count.
///
/// Memory is bounded: keys whose window has ended are pruned (amortised, whenever the
/// number of keys doubles), at most `max_keys` (default 100 000) live windows are kept
/// (beyond that a new key is refused rather than tracked), and a key longer than 64 bytes
/// is kept as a 32-byte digest.
///
/// Keep it in the actor's vars (it is ephemeral, like RivetKit's `c.vars.rateLimits`);
/// the caller passes `now` so it is easy to test.
///
/// ```
/// use rivet_actor::auth::RateLimiter;
/// use std::time::{Duration, Instant};
///
/// let mut limiter = RateLimiter::new(10, Duration::from_secs(60));
/// let now = Instant::now();
/// for _ in 0..10 {
///     limiter.check("user-123", now).unwrap();
/// }
/// let err = limiter.check("user-123", now).unwrap_err();
/// assert_eq!(err.code_str(), "rate_limited");
/// assert_eq!(err.message(), "Too many requests, try again later");
/// // Other users have their own window; a new window starts a minute later.
/// assert!(limiter.check("user-456", now).is_ok());
/// assert!(limiter.check("user-123", now + Duration::from_secs(60)).is_ok());
/// ```
#[derive(Clone, Debug)]
pub struct RateLimiter {
    limit: u32,
    window: Duration,
    max_keys: usize,
    windows: HashMap<String, Window>,
    /// Prune when the map reaches this size.
    prune_at_len: usize,
    /// No window ends before this (as of the last prune): pruning earlier frees nothing.
    next_expiry: Option<Instant>,
}

#[derive(Clone, Debug)]
struct Window {
    count: u32,
    resets_at: Instant,
}

impl RateLimiter {
    /// `limit` requests per key per `window`. A limit of 0 refuses everything.
    ///
    /// ```
    /// use rivet_actor::auth::RateLimiter;
    /// use std::time::Duration;
    /// let limiter = RateLimiter::new(5, Duration::from_secs(1));
    /// assert!(limiter.is_empty());
    /// ```
    pub fn new(limit: u32, window: Duration) -> Self {
        Self {
            limit,
            window: window.min(MAX_SPAN),
            max_keys: DEFAULT_MAX_KEYS,
            windows: HashMap::new(),
            prune_at_len: MIN_PRUNE_LEN,
            next_expiry: None,
        }
    }

    /// Tracks at most `max_keys` keys with a live window; a new key beyond that is refused
    /// (`rate_limited`) until windows end. Default 100 000.
    ///
    /// ```
    /// use rivet_actor::auth::RateLimiter;
    /// use std::time::{Duration, Instant};
    /// let mut limiter = RateLimiter::new(5, Duration::from_secs(60)).max_keys(1);
    /// let now = Instant::now();
    /// assert!(limiter.check("a", now).is_ok());
    /// assert!(limiter.check("b", now).is_err());
    /// ```
    pub fn max_keys(mut self, max_keys: usize) -> Self {
        self.max_keys = max_keys;
        self
    }

    /// Counts a request for `key` at `now`, or refuses it with `rate_limited`.
    ///
    /// ```
    /// use rivet_actor::auth::RateLimiter;
    /// use std::time::{Duration, Instant};
    /// let mut limiter = RateLimiter::new(1, Duration::from_secs(60));
    /// let now = Instant::now();
    /// assert!(limiter.check("k", now).is_ok());
    /// let err = limiter.check("k", now + Duration::from_secs(15)).unwrap_err();
    /// assert_eq!(err, rivet_actor::UserError::new("Too many requests, try again later")
    ///     .code("rate_limited")
    ///     .metadata(serde_json::json!({ "retryAfterMs": 45_000 })));
    /// ```
    pub fn check(&mut self, key: &str, now: Instant) -> Result<(), UserError> {
        let digest;
        let key = if key.len() > MAX_STORED_KEY {
            digest = format!("#{}", crate::ids::digest(key.as_bytes()));
            digest.as_str()
        } else {
            key
        };
        if let Some(window) = self.windows.get_mut(key) {
            if window.resets_at > now {
                if window.count >= self.limit {
                    return Err(rate_limited(window.resets_at - now));
                }
                window.count += 1;
                return Ok(());
            }
            if self.limit == 0 {
                return Err(rate_limited(self.window));
            }
            *window = Window {
                count: 1,
                resets_at: now + self.window,
            };
            return Ok(());
        }
        if self.limit == 0 {
            return Err(rate_limited(self.window));
        }
        let full = self.windows.len() >= self.max_keys;
        let may_free = self.next_expiry.is_none_or(|at| at <= now);
        if self.windows.len() >= self.prune_at_len || (full && may_free) {
            self.prune(now);
        }
        if self.windows.len() >= self.max_keys {
            return Err(rate_limited(self.window));
        }
        self.windows.insert(
            key.to_owned(),
            Window {
                count: 1,
                resets_at: now + self.window,
            },
        );
        Ok(())
    }

    /// Forgets every key whose window has ended by `now`. [`check`](RateLimiter::check)
    /// does this by itself as the map grows; call it from a timer to shrink sooner.
    ///
    /// ```
    /// use rivet_actor::auth::RateLimiter;
    /// use std::time::{Duration, Instant};
    /// let mut limiter = RateLimiter::new(5, Duration::from_secs(60));
    /// let now = Instant::now();
    /// limiter.check("a", now).unwrap();
    /// limiter.prune(now + Duration::from_secs(60));
    /// assert!(limiter.is_empty());
    /// ```
    pub fn prune(&mut self, now: Instant) {
        self.windows.retain(|_, window| window.resets_at > now);
        self.prune_at_len = (self.windows.len() * 2).max(MIN_PRUNE_LEN);
        self.next_expiry = self.windows.values().map(|w| w.resets_at).min();
    }

    /// How many keys are tracked (including ended windows not yet pruned).
    ///
    /// ```
    /// use rivet_actor::auth::RateLimiter;
    /// use std::time::{Duration, Instant};
    /// let mut limiter = RateLimiter::new(5, Duration::from_secs(60));
    /// limiter.check("a", Instant::now()).unwrap();
    /// assert_eq!(limiter.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.windows.len()
    }

    /// Whether no key is tracked.
    ///
    /// ```
    /// use rivet_actor::auth::RateLimiter;
    /// assert!(RateLimiter::new(1, std::time::Duration::from_secs(1)).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.windows.is_empty()
    }
}

fn rate_limited(retry_after: Duration) -> UserError {
    let retry_after_ms = u64::try_from(retry_after.as_millis()).unwrap_or(u64::MAX);
    UserError::new("Too many requests, try again later")
        .code("rate_limited")
        .metadata(serde_json::json!({ "retryAfterMs": retry_after_ms }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);

    #[test]
    fn limit_is_enforced_per_key() {
        let mut limiter = RateLimiter::new(10, MINUTE);
        let t0 = Instant::now();
        for i in 0..10 {
            limiter
                .check("alice", t0 + Duration::from_secs(i))
                .unwrap_or_else(|e| panic!("request {i}: {e}"));
        }
        for i in 0..5 {
            let err = limiter
                .check("alice", t0 + Duration::from_secs(10 + i))
                .unwrap_err();
            assert_eq!(err.code_str(), "rate_limited");
            assert_eq!(err.message(), "Too many requests, try again later");
        }
        // Bob is unaffected by Alice.
        assert!(limiter.check("bob", t0 + Duration::from_secs(30)).is_ok());
    }

    #[test]
    fn long_keys_are_kept_small_and_still_apart() {
        let mut limiter = RateLimiter::new(1, MINUTE);
        let t0 = Instant::now();
        let long_a = "a".repeat(1 << 20);
        let long_b = format!("{}b", "a".repeat((1 << 20) - 1));
        assert!(limiter.check(&long_a, t0).is_ok());
        assert!(
            limiter.check(&long_a, t0).is_err(),
            "the same long key is limited"
        );
        assert!(
            limiter.check(&long_b, t0).is_ok(),
            "another long key has its own window"
        );
        let stored: usize = limiter.windows.keys().map(String::len).sum();
        assert!(stored <= 2 * 33, "{stored} bytes of keys kept");
    }

    #[test]
    fn window_resets_and_refusals_do_not_count() {
        let mut limiter = RateLimiter::new(2, MINUTE);
        let t0 = Instant::now();
        assert!(limiter.check("k", t0).is_ok());
        assert!(limiter.check("k", t0 + Duration::from_secs(1)).is_ok());
        // Refused many times within the window...
        for s in 2..60 {
            assert!(limiter.check("k", t0 + Duration::from_secs(s)).is_err());
        }
        // ... and the window is still the first one: it ends at t0 + 60 s, not later.
        let err = limiter
            .check("k", t0 + Duration::from_millis(59_500))
            .unwrap_err();
        assert_eq!(
            err,
            rate_limited(Duration::from_millis(500)),
            "retry-after counts down to the end of the window"
        );
        assert!(limiter.check("k", t0 + MINUTE).is_ok());
        assert!(limiter.check("k", t0 + MINUTE).is_ok());
        assert!(limiter.check("k", t0 + MINUTE).is_err());
    }

    #[test]
    fn zero_limit_refuses_everything() {
        let mut limiter = RateLimiter::new(0, MINUTE);
        let t0 = Instant::now();
        assert!(limiter.check("k", t0).is_err());
        assert!(limiter.check("k", t0 + 2 * MINUTE).is_err());
        assert!(limiter.is_empty());
    }

    #[test]
    fn ended_windows_are_pruned_as_keys_arrive() {
        let mut limiter = RateLimiter::new(1, Duration::from_secs(1));
        let t0 = Instant::now();
        // 10 000 distinct keys, 100 per second: at most ~100 windows are live at a time.
        let mut peak = 0;
        for i in 0..10_000u64 {
            let now = t0 + Duration::from_millis(i * 10);
            limiter.check(&format!("user-{i}"), now).unwrap();
            peak = peak.max(limiter.len());
        }
        assert!(peak <= 2 * 100 + MIN_PRUNE_LEN, "peak {peak} keys tracked");
        limiter.prune(t0 + Duration::from_secs(1000));
        assert!(limiter.is_empty());
    }

    #[test]
    fn prune_keeps_live_windows_and_their_counts() {
        let mut limiter = RateLimiter::new(1, MINUTE);
        let t0 = Instant::now();
        limiter.check("old", t0).unwrap();
        limiter.check("new", t0 + Duration::from_secs(30)).unwrap();
        limiter.prune(t0 + Duration::from_secs(61));
        assert_eq!(limiter.len(), 1);
        assert!(limiter.check("new", t0 + Duration::from_secs(62)).is_err());
        assert!(limiter.check("old", t0 + Duration::from_secs(62)).is_ok());
    }

    #[test]
    fn max_keys_bounds_memory_and_fails_closed() {
        let mut limiter = RateLimiter::new(5, MINUTE).max_keys(100);
        let t0 = Instant::now();
        for i in 0..100 {
            limiter.check(&format!("k{i}"), t0).unwrap();
        }
        // Full of live windows: a new key is refused, known keys still work.
        assert_eq!(
            limiter.check("k-new", t0).unwrap_err().code_str(),
            "rate_limited"
        );
        assert!(limiter.check("k7", t0).is_ok());
        assert_eq!(limiter.len(), 100);
        // Once the windows end, room is made by pruning.
        assert!(limiter.check("k-new", t0 + MINUTE).is_ok());
        assert_eq!(limiter.len(), 1);
    }

    #[test]
    fn huge_windows_do_not_overflow() {
        let mut limiter = RateLimiter::new(1, Duration::MAX);
        let t0 = Instant::now();
        assert!(limiter.check("k", t0).is_ok());
        assert!(limiter.check("k", t0 + MAX_SPAN / 2).is_err());
    }
}
