//! [`TokenCache`]: what a token was validated to, until it expires (RivetKit's
//! `cachedAuthActor`).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::rate_limit::MAX_SPAN;

/// Below this many entries the cache never bothers to prune.
const MIN_PRUNE_LEN: usize = 64;
/// The default cap on entries.
const DEFAULT_MAX_ENTRIES: usize = 10_000;

/// Remembers the result of validating a token (user id, role, ...) for a while, so repeated
/// connections with the same token skip the expensive check. Keep it in the actor's vars.
///
/// An expired entry is never returned. Memory is bounded: expired entries are pruned
/// (amortised, whenever the number of entries doubles) and at most `max_entries` (default
/// 10 000) are kept; when full of live entries, a new token is simply not cached (the
/// cache is only a shortcut, so that is always safe).
///
/// Cache for no longer than the token itself is valid: with a JWT, use the smaller of your
/// TTL and the time left until its `exp`.
///
/// ```
/// use rivet_actor::auth::TokenCache;
/// use std::time::Duration;
///
/// #[derive(Clone)]
/// struct ConnState { user_id: String, role: String }
///
/// let mut cache = TokenCache::new();
/// assert!(cache.get("token-abc").is_none());
/// // Validate (expensively), then remember for five minutes:
/// let state = ConnState { user_id: "user-123".into(), role: "member".into() };
/// cache.insert("token-abc", state, Duration::from_secs(5 * 60));
/// assert_eq!(cache.get("token-abc").unwrap().user_id, "user-123");
/// ```
#[derive(Clone, Debug)]
pub struct TokenCache<V> {
    entries: HashMap<String, Entry<V>>,
    max_entries: usize,
    /// Prune when the map reaches this size.
    prune_at_len: usize,
    /// No entry expires before this (as of the last prune): pruning earlier frees nothing.
    next_expiry: Option<Instant>,
}

#[derive(Clone, Debug)]
struct Entry<V> {
    value: V,
    expires_at: Instant,
}

impl<V> Default for TokenCache<V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<V> TokenCache<V> {
    /// An empty cache holding at most 10 000 entries.
    ///
    /// ```
    /// let cache = rivet_actor::auth::TokenCache::<String>::new();
    /// assert!(cache.is_empty());
    /// ```
    pub fn new() -> Self {
        Self {
            entries: HashMap::new(),
            max_entries: DEFAULT_MAX_ENTRIES,
            prune_at_len: MIN_PRUNE_LEN,
            next_expiry: None,
        }
    }

    /// Keeps at most `max_entries` entries.
    ///
    /// ```
    /// use rivet_actor::auth::TokenCache;
    /// use std::time::Duration;
    /// let mut cache = TokenCache::new().max_entries(1);
    /// cache.insert("a", 1, Duration::from_secs(60));
    /// cache.insert("b", 2, Duration::from_secs(60)); // full: not cached
    /// assert_eq!(cache.get("b"), None);
    /// ```
    pub fn max_entries(mut self, max_entries: usize) -> Self {
        self.max_entries = max_entries;
        self
    }

    /// The value cached for `token`, unless it has expired.
    ///
    /// ```
    /// use rivet_actor::auth::TokenCache;
    /// use std::time::Duration;
    /// let mut cache = TokenCache::new();
    /// cache.insert("t", "user-1", Duration::from_secs(60));
    /// assert_eq!(cache.get("t"), Some(&"user-1"));
    /// ```
    pub fn get(&self, token: &str) -> Option<&V> {
        self.get_at(token, Instant::now())
    }

    /// [`get`](TokenCache::get) as of `now`.
    ///
    /// ```
    /// use rivet_actor::auth::TokenCache;
    /// use std::time::{Duration, Instant};
    /// let mut cache = TokenCache::new();
    /// let now = Instant::now();
    /// cache.insert_at("t", 1, now, Duration::from_secs(60));
    /// assert_eq!(cache.get_at("t", now + Duration::from_secs(59)), Some(&1));
    /// assert_eq!(cache.get_at("t", now + Duration::from_secs(60)), None);
    /// ```
    pub fn get_at(&self, token: &str, now: Instant) -> Option<&V> {
        self.entries
            .get(token)
            .filter(|entry| entry.expires_at > now)
            .map(|entry| &entry.value)
    }

    /// Caches `value` for `token` for `ttl` from now, replacing any earlier entry.
    ///
    /// ```
    /// use rivet_actor::auth::TokenCache;
    /// use std::time::Duration;
    /// let mut cache = TokenCache::new();
    /// cache.insert(String::from("t"), 1, Duration::from_secs(60));
    /// cache.insert("t", 2, Duration::from_secs(60));
    /// assert_eq!((cache.get("t"), cache.len()), (Some(&2), 1));
    /// ```
    pub fn insert(&mut self, token: impl Into<String>, value: V, ttl: Duration) {
        self.insert_at(token, value, Instant::now(), ttl);
    }

    /// [`insert`](TokenCache::insert) as of `now`.
    ///
    /// ```
    /// use rivet_actor::auth::TokenCache;
    /// use std::time::{Duration, Instant};
    /// let mut cache = TokenCache::new();
    /// cache.insert_at("t", 1, Instant::now(), Duration::from_secs(60));
    /// assert_eq!(cache.get("t"), Some(&1));
    /// ```
    pub fn insert_at(&mut self, token: impl Into<String>, value: V, now: Instant, ttl: Duration) {
        let token = token.into();
        let expires_at = now + ttl.min(MAX_SPAN);
        if !self.entries.contains_key(&token) {
            let full = self.entries.len() >= self.max_entries;
            let may_free = self.next_expiry.is_none_or(|at| at <= now);
            if self.entries.len() >= self.prune_at_len || (full && may_free) {
                self.prune(now);
            }
            if self.entries.len() >= self.max_entries {
                return;
            }
        }
        self.entries.insert(token, Entry { value, expires_at });
    }

    /// Forgets `token` (e.g. on logout), returning what was cached, expired or not.
    ///
    /// ```
    /// use rivet_actor::auth::TokenCache;
    /// use std::time::Duration;
    /// let mut cache = TokenCache::new();
    /// cache.insert("t", 1, Duration::from_secs(60));
    /// assert_eq!(cache.remove("t"), Some(1));
    /// assert_eq!(cache.get("t"), None);
    /// ```
    pub fn remove(&mut self, token: &str) -> Option<V> {
        self.entries.remove(token).map(|entry| entry.value)
    }

    /// Drops every entry expired by `now`. Inserting does this by itself as the cache grows.
    ///
    /// ```
    /// use rivet_actor::auth::TokenCache;
    /// use std::time::{Duration, Instant};
    /// let mut cache = TokenCache::new();
    /// let now = Instant::now();
    /// cache.insert_at("t", 1, now, Duration::from_secs(1));
    /// cache.prune(now + Duration::from_secs(1));
    /// assert!(cache.is_empty());
    /// ```
    pub fn prune(&mut self, now: Instant) {
        self.entries.retain(|_, entry| entry.expires_at > now);
        self.prune_at_len = (self.entries.len() * 2).max(MIN_PRUNE_LEN);
        self.next_expiry = self.entries.values().map(|e| e.expires_at).min();
    }

    /// How many entries are held (including expired ones not yet pruned).
    ///
    /// ```
    /// use rivet_actor::auth::TokenCache;
    /// use std::time::Duration;
    /// let mut cache = TokenCache::new();
    /// cache.insert("t", (), Duration::from_secs(1));
    /// assert_eq!(cache.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is held.
    ///
    /// ```
    /// assert!(rivet_actor::auth::TokenCache::<u8>::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);

    #[test]
    fn entries_expire() {
        let mut cache = TokenCache::new();
        let t0 = Instant::now();
        cache.insert_at("tok", "user-123", t0, 5 * MINUTE);
        assert_eq!(cache.get_at("tok", t0), Some(&"user-123"));
        assert_eq!(
            cache.get_at("tok", t0 + 5 * MINUTE - Duration::from_millis(1)),
            Some(&"user-123")
        );
        assert_eq!(cache.get_at("tok", t0 + 5 * MINUTE), None);
        assert_eq!(cache.get_at("other", t0), None);
    }

    #[test]
    fn real_clock_insert_and_get() {
        let mut cache = TokenCache::new();
        cache.insert("short", 1, Duration::from_millis(30));
        cache.insert("long", 2, MINUTE);
        assert_eq!(cache.get("short"), Some(&1));
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(cache.get("short"), None);
        assert_eq!(cache.get("long"), Some(&2));
    }

    #[test]
    fn reinserting_refreshes_the_entry() {
        let mut cache = TokenCache::new();
        let t0 = Instant::now();
        cache.insert_at("tok", 1, t0, MINUTE);
        cache.insert_at("tok", 2, t0 + MINUTE, MINUTE);
        assert_eq!(cache.get_at("tok", t0 + MINUTE + MINUTE / 2), Some(&2));
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn expired_entries_are_pruned_as_tokens_arrive() {
        let mut cache = TokenCache::new();
        let t0 = Instant::now();
        let mut peak = 0;
        // One new token every 10 ms, each cached for 1 s: ~100 live at a time.
        for i in 0..10_000u64 {
            cache.insert_at(
                format!("tok-{i}"),
                i,
                t0 + Duration::from_millis(i * 10),
                Duration::from_secs(1),
            );
            peak = peak.max(cache.len());
        }
        assert!(peak <= 2 * 100 + MIN_PRUNE_LEN, "peak {peak} entries");
    }

    #[test]
    fn full_cache_skips_new_tokens_until_room_is_made() {
        let mut cache = TokenCache::new().max_entries(100);
        let t0 = Instant::now();
        for i in 0..100 {
            cache.insert_at(format!("t{i}"), i, t0, MINUTE);
        }
        cache.insert_at("new", 999, t0, MINUTE);
        assert_eq!(cache.get_at("new", t0), None, "full of live entries");
        // Replacing a held token is always allowed.
        cache.insert_at("t5", 555, t0, MINUTE);
        assert_eq!(cache.get_at("t5", t0), Some(&555));
        // Once the entries expire, the new token is cached.
        cache.insert_at("new", 999, t0 + MINUTE, MINUTE);
        assert_eq!(cache.get_at("new", t0 + MINUTE), Some(&999));
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn remove_forgets() {
        let mut cache = TokenCache::new();
        cache.insert("tok", 1, MINUTE);
        assert_eq!(cache.remove("tok"), Some(1));
        assert_eq!(cache.remove("tok"), None);
        assert!(cache.is_empty());
    }
}
