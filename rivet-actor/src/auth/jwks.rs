//! [`JwksCache`]: an issuer's signing keys, fetched from its JWKS URL and cached by `kid`.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use jsonwebtoken::DecodingKey;
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, KeyAlgorithm, PublicKeyUse};

use super::AuthError;

/// How long fetched keys are trusted before they are fetched again.
const DEFAULT_TTL: Duration = Duration::from_secs(10 * 60);
/// The least time between two fetches, whatever asks for them.
const DEFAULT_MIN_REFETCH_INTERVAL: Duration = Duration::from_secs(30);
/// How long one fetch may take, whatever the HTTP client's own timeout.
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);
/// How long keys are still used, past their TTL, while the issuer cannot be reached: a key
/// the issuer withdrew stops working after this even if its JWKS URL stays down.
const MAX_STALE: Duration = Duration::from_secs(24 * 60 * 60);

/// The RS256 signing keys of an issuer, fetched from its JWKS URL (e.g.
/// `https://issuer/.well-known/jwks.json`) and cached by `kid`. Use it through
/// [`JwtVerifier::jwks`](super::JwtVerifier::jwks).
///
/// - Keys are fetched on first use and again once they are older than the TTL (default
///   10 min).
/// - A `kid` the cache does not know triggers a refetch, so a rotated-in key is picked up
///   at once; but no two fetches are ever closer than the minimum refetch interval
///   (default 30 s), so a flood of tokens with made-up `kid`s costs the issuer at most one
///   request per interval.
/// - Concurrent lookups that miss wait for one shared fetch. A fetch runs to its end (at
///   most 10 s) even when the verification that started it is given up on (a hook
///   timeout): its keys serve the next one, and it counts toward the refetch interval.
/// - A key past its TTL is still used while fresh keys are fetched in the background, and
///   if a refetch fails (a warning is logged), for at most 24 h after its last successful
///   fetch; with no usable keys, verification fails with [`AuthError::KeysUnavailable`].
/// - Only RSA keys with a `kid`, `alg` absent or `RS256`, and `use` absent or `sig` are kept;
///   other keys in the set are ignored.
///
/// Cloning is cheap and clones share the cache. A fetch is given up after 10 s; an `https` URL needs a TLS feature of `reqwest` enabled in your application (e.g.
/// `reqwest = { version = "0.13", features = ["rustls"] }`), or pass your own client.
///
/// ```
/// use rivet_actor::auth::{JwksCache, JwtVerifier};
/// use std::time::Duration;
///
/// let keys = JwksCache::new("https://auth.example.com/.well-known/jwks.json")
///     .ttl(Duration::from_secs(300))
///     .min_refetch_interval(Duration::from_secs(60));
/// let verifier = JwtVerifier::jwks(keys).audience("my-app");
/// # drop(verifier);
/// ```
#[derive(Clone)]
pub struct JwksCache {
    inner: Arc<Inner>,
}

#[derive(Clone)]
struct Config {
    url: String,
    client: reqwest::Client,
    ttl: Duration,
    min_refetch_interval: Duration,
}

struct Inner {
    config: Config,
    cached: Mutex<Cached>,
    /// Held for the whole of a fetch (by the task running it), so concurrent misses share it.
    fetching: Arc<tokio::sync::Mutex<()>>,
}

#[derive(Default)]
struct Cached {
    keys: HashMap<String, DecodingKey>,
    /// When the last successful fetch started.
    fetched_at: Option<Instant>,
    /// When the last fetch, successful or not, started.
    attempted_at: Option<Instant>,
    /// How many fetches have finished; tells a waiter someone else fetched for it.
    attempts: u64,
}

impl Cached {
    fn fresh_key(&self, kid: &str, ttl: Duration) -> Option<DecodingKey> {
        let fresh = self.fetched_at.is_some_and(|at| at.elapsed() < ttl);
        fresh.then(|| self.keys.get(kid).cloned()).flatten()
    }

    /// Whether the keys held may still be used (fresh, or stale for less than `MAX_STALE`).
    fn usable(&self) -> bool {
        self.fetched_at.is_some_and(|at| at.elapsed() < MAX_STALE)
    }

    /// The key held for `kid`, fresh or stale but still usable.
    fn lookup(&self, kid: &str) -> Result<DecodingKey, AuthError> {
        if !self.usable() {
            return Err(AuthError::KeysUnavailable);
        }
        self.keys.get(kid).cloned().ok_or(AuthError::UnknownKeyId)
    }
}

impl JwksCache {
    /// A cache for the JWKS at `url`. Nothing is fetched until a key is needed.
    ///
    /// ```
    /// let keys = rivet_actor::auth::JwksCache::new("https://auth.example.com/.well-known/jwks.json");
    /// # drop(keys);
    /// ```
    pub fn new(url: impl Into<String>) -> Self {
        let client = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        Self::from_config(Config {
            url: url.into(),
            client,
            ttl: DEFAULT_TTL,
            min_refetch_interval: DEFAULT_MIN_REFETCH_INTERVAL,
        })
    }

    fn from_config(config: Config) -> Self {
        Self {
            inner: Arc::new(Inner {
                config,
                cached: Mutex::new(Cached::default()),
                fetching: Arc::default(),
            }),
        }
    }

    /// Returns a new cache (nothing cached, nothing shared with `self`) with `change` applied
    /// to the configuration. Configure before use.
    fn reconfigure(self, change: impl FnOnce(&mut Config)) -> Self {
        let mut config = self.inner.config.clone();
        change(&mut config);
        Self::from_config(config)
    }

    /// How long fetched keys are used before they are fetched again (default 10 min).
    ///
    /// ```
    /// # use rivet_actor::auth::JwksCache; use std::time::Duration;
    /// let keys = JwksCache::new("https://auth.example.com/jwks").ttl(Duration::from_secs(60));
    /// # drop(keys);
    /// ```
    pub fn ttl(self, ttl: Duration) -> Self {
        self.reconfigure(|c| c.ttl = ttl)
    }

    /// The least time between two fetches (default 30 s). Bounds how often tokens with
    /// unknown `kid`s can make the cache call the issuer.
    ///
    /// ```
    /// # use rivet_actor::auth::JwksCache; use std::time::Duration;
    /// let keys = JwksCache::new("https://auth.example.com/jwks")
    ///     .min_refetch_interval(Duration::from_secs(5));
    /// # drop(keys);
    /// ```
    pub fn min_refetch_interval(self, interval: Duration) -> Self {
        self.reconfigure(|c| c.min_refetch_interval = interval)
    }

    /// Fetches with `client` instead of the default (a fetch is given up after 10 s either
    /// way).
    ///
    /// ```
    /// # use rivet_actor::auth::JwksCache; use std::time::Duration;
    /// let client = reqwest::Client::builder().timeout(Duration::from_secs(3)).build().unwrap();
    /// let keys = JwksCache::new("https://auth.example.com/jwks").client(client);
    /// # drop(keys);
    /// ```
    pub fn client(self, client: reqwest::Client) -> Self {
        self.reconfigure(|c| c.client = client)
    }

    /// The key for `kid`, fetching the JWKS if the cache is stale or lacks it and the
    /// minimum refetch interval allows. A stale key is answered at once while the refetch
    /// runs in the background.
    pub(crate) async fn key(&self, kid: &str) -> Result<DecodingKey, AuthError> {
        let config = &self.inner.config;
        let seen = {
            let cached = self.cached();
            if let Some(key) = cached.fresh_key(kid, config.ttl) {
                return Ok(key);
            }
            if cached.usable()
                && let Some(key) = cached.keys.get(kid)
            {
                let key = key.clone();
                drop(cached);
                // Refresh unless a fetch is running already (it refreshes them).
                if let Ok(fetching) = self.inner.fetching.clone().try_lock_owned() {
                    let _ = self.start_fetch(fetching);
                }
                return Ok(key);
            }
            cached.attempts
        };

        let fetching = self.inner.fetching.clone().lock_owned().await;
        {
            let cached = self.cached();
            if cached.attempts != seen {
                // Someone fetched while this waited.
                return cached.lookup(kid);
            }
        }
        if let Some(fetch) = self.start_fetch(fetching) {
            // Given up on (a hook's timeout), the fetch still runs to its end.
            let _ = fetch.await;
        }
        self.cached().lookup(kid)
    }

    /// Starts a fetch in a task of its own holding `fetching` to its end, unless the last
    /// one started less than the minimum refetch interval ago. A fetch counts toward the
    /// interval from when it starts, finished or not.
    fn start_fetch(
        &self,
        fetching: tokio::sync::OwnedMutexGuard<()>,
    ) -> Option<tokio::task::JoinHandle<()>> {
        let started = Instant::now();
        {
            let mut cached = self.cached();
            let interval = self.inner.config.min_refetch_interval;
            if cached
                .attempted_at
                .is_some_and(|at| started.duration_since(at) < interval)
            {
                return None;
            }
            cached.attempted_at = Some(started);
        }
        let cache = self.clone();
        Some(tokio::spawn(async move {
            let _fetching = fetching;
            let fetched = match tokio::time::timeout(FETCH_TIMEOUT, cache.fetch()).await {
                Ok(fetched) => fetched,
                Err(_) => Err(format!("no answer within {FETCH_TIMEOUT:?}")),
            };
            let url = &cache.inner.config.url;
            let mut cached = cache.cached();
            cached.attempts += 1;
            match fetched {
                Ok(keys) => {
                    tracing::debug!(%url, keys = keys.len(), "fetched JWKS");
                    cached.keys = keys;
                    cached.fetched_at = Some(started);
                }
                Err(error) => {
                    tracing::warn!(%url, %error, "JWKS fetch failed; keeping the keys held");
                }
            }
        }))
    }

    fn cached(&self) -> MutexGuard<'_, Cached> {
        // The data is a plain cache: a panic elsewhere cannot leave it inconsistent.
        self.inner
            .cached
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    async fn fetch(&self) -> Result<HashMap<String, DecodingKey>, String> {
        /// The largest key set read.
        const MAX_JWKS_BYTES: usize = 1024 * 1024;
        #[derive(serde::Deserialize)]
        struct RawSet {
            keys: Vec<serde_json::Value>,
        }
        let config = &self.inner.config;
        let response = config
            .client
            .get(&config.url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| e.to_string())?;
        // A key set is a few KiB: what is larger is not one, and is not read to its end.
        let body = crate::http_body::read_at_most(response, MAX_JWKS_BYTES).await?;
        let set: RawSet = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
        // Parse key by key: one key of a type we do not know must not hide the others.
        Ok(set
            .keys
            .into_iter()
            .filter_map(|raw| serde_json::from_value::<Jwk>(raw).ok())
            .filter_map(usable_rs256_key)
            .collect())
    }
}

/// `(kid, key)` if `jwk` can verify RS256 signatures.
fn usable_rs256_key(jwk: Jwk) -> Option<(String, DecodingKey)> {
    let common = &jwk.common;
    let alg_ok = matches!(common.key_algorithm, None | Some(KeyAlgorithm::RS256));
    let use_ok = matches!(common.public_key_use, None | Some(PublicKeyUse::Signature));
    let rsa = matches!(jwk.algorithm, AlgorithmParameters::RSA(_));
    if !(alg_ok && use_ok && rsa) {
        return None;
    }
    let kid = common.key_id.clone()?;
    let key = DecodingKey::from_jwk(&jwk).ok()?;
    Some((kid, key))
}

impl fmt::Debug for JwksCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let config = &self.inner.config;
        f.debug_struct("JwksCache")
            .field("url", &config.url)
            .field("ttl", &config.ttl)
            .field("min_refetch_interval", &config.min_refetch_interval)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests;
