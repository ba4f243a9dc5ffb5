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
/// How long one fetch may take with the default HTTP client.
const DEFAULT_FETCH_TIMEOUT: Duration = Duration::from_secs(10);

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
/// - Concurrent lookups that miss wait for one shared fetch.
/// - If a refetch fails, the keys already held keep being used (and a warning is logged);
///   with no keys at all, verification fails with [`AuthError::KeysUnavailable`].
/// - Only RSA keys with a `kid`, `alg` absent or `RS256`, and `use` absent or `sig` are kept;
///   other keys in the set are ignored.
///
/// Cloning is cheap and clones share the cache. The default HTTP client has a 10 s timeout;
/// an `https` URL needs a TLS feature of `reqwest` enabled in your application (e.g.
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
    /// Held for the whole of a fetch, so concurrent misses share it.
    fetching: tokio::sync::Mutex<()>,
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

    /// Any key held for `kid`, fresh or not.
    fn lookup(&self, kid: &str) -> Result<DecodingKey, AuthError> {
        match self.keys.get(kid) {
            Some(key) => Ok(key.clone()),
            None if self.fetched_at.is_none() => Err(AuthError::KeysUnavailable),
            None => Err(AuthError::UnknownKeyId),
        }
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
            .timeout(DEFAULT_FETCH_TIMEOUT)
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
                fetching: tokio::sync::Mutex::new(()),
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

    /// Fetches with `client` instead of the default (which has a 10 s timeout).
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
    /// minimum refetch interval allows.
    pub(crate) async fn key(&self, kid: &str) -> Result<DecodingKey, AuthError> {
        let config = &self.inner.config;
        let seen = {
            let cached = self.cached();
            if let Some(key) = cached.fresh_key(kid, config.ttl) {
                return Ok(key);
            }
            cached.attempts
        };

        let _fetching = self.inner.fetching.lock().await;
        let started = Instant::now();
        {
            let cached = self.cached();
            let someone_fetched = cached.attempts != seen;
            let throttled = cached
                .attempted_at
                .is_some_and(|at| started.duration_since(at) < config.min_refetch_interval);
            if someone_fetched || throttled {
                return cached.lookup(kid);
            }
        }

        let fetched = self.fetch().await;
        let mut cached = self.cached();
        cached.attempts += 1;
        cached.attempted_at = Some(started);
        match fetched {
            Ok(keys) => {
                tracing::debug!(url = %config.url, keys = keys.len(), "fetched JWKS");
                cached.keys = keys;
                cached.fetched_at = Some(started);
            }
            Err(error) => {
                tracing::warn!(url = %config.url, %error, "JWKS fetch failed; keeping the keys held");
            }
        }
        cached.lookup(kid)
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
