//! Engine mode: this process hosts its actors as an envoy of the Rivet Engine, which places
//! them across hosts, routes clients to them through its gateway (client protocol v4, as our
//! own server speaks it) and keeps their data in its actor KV.
//!
//! ```no_run
//! use rivet_actor::prelude::*;
//! use rivet_actor::engine::EngineConfig;
//!
//! # #[derive(Default, Serialize, Deserialize)] pub struct Counter { count: i64 }
//! # #[actor] impl Counter { #[action] fn increment(&mut self, by: i64) -> i64 { self.count += by; self.count } }
//! # async fn run() -> Result<(), rivet_actor::engine::EngineError> {
//! let registry = Registry::builder().engine().register::<Counter>().build();
//! let config = EngineConfig::new("http://127.0.0.1:6420", "default", "rivet-actor");
//! let host = registry.serve_engine(config).await?;
//! tokio::signal::ctrl_c().await.ok();
//! host.shutdown().await; // the engine moves our actors elsewhere at once
//! # Ok(()) }
//! ```
//!
//! What stays ours: origin policies (the engine forwards `Origin`; it answers CORS
//! preflights itself and adds its own CORS headers), guards, hooks, `can_invoke`, error
//! masking, every encoding, queues and raw handlers — the same router serves both. What is
//! the engine's: creating actors (by its gateway's `getOrCreate`/`create` or its `/actors`
//! API), placement, sleep and wake, alarms, destroy.

mod call_mac;
mod callbacks;
mod commit;
mod http;
mod journal;
pub(crate) mod layout;
mod peer;
mod socket;
mod storage;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use rivet_envoy_client::config::{ActorName, EnvoyConfig};
use rivet_envoy_client::handle::EnvoyHandle;
use tokio::sync::watch;

use crate::client::Client;
use crate::registry::Registry;

pub use storage::EngineStorage;

/// Environment variable naming the engine to host actors on (`http://127.0.0.1:6420`).
pub const ENDPOINT_ENV: &str = "RIVET_ENGINE_ENDPOINT";
/// Environment variable naming the engine namespace (default `default`).
pub const NAMESPACE_ENV: &str = "RIVET_ENGINE_NAMESPACE";
/// Environment variable naming the pool this host joins (default `rivet-actor`).
pub const POOL_ENV: &str = "RIVET_ENGINE_POOL";
/// Environment variable holding the engine's token, if it needs one.
pub const TOKEN_ENV: &str = "RIVET_ENGINE_TOKEN";
/// Environment variable holding the secret the hosts of a pool sign call ids with
/// ([`EngineConfig::call_secret`]).
pub const CALL_SECRET_ENV: &str = "RIVET_ENGINE_CALL_SECRET";

/// Where and how to join the engine.
///
/// ```
/// let config = rivet_actor::engine::EngineConfig::new("http://127.0.0.1:6420", "default", "pool-a");
/// assert_eq!(config.pool, "pool-a");
/// assert_eq!(config.version, 1);
/// ```
#[derive(Clone)]
pub struct EngineConfig {
    /// The engine's endpoint (its gateway and API), e.g. `http://127.0.0.1:6420`.
    pub endpoint: String,
    /// The engine namespace.
    pub namespace: String,
    /// The pool (runner config) this host joins; upserted if missing.
    pub pool: String,
    /// The engine's token, if it requires one.
    pub token: Option<String>,
    /// A secret shared by the hosts of the pool, and by no client: the calls a turn makes
    /// to actors on other hosts carry ids signed with it, so a turn the engine runs again
    /// after a failover does not apply them twice. Without it only calls within a host
    /// carry ids. (Not the token: clients hold that one.)
    pub call_secret: Option<String>,
    /// This host's version: the engine places actors on the highest version of a pool and
    /// drains older ones, so keep it equal across hosts of one release.
    pub version: u32,
    /// How long to wait for the engine to accept this host.
    pub start_timeout: Duration,
    /// How long a graceful [`EngineHost::shutdown`] may wait for the engine to move this
    /// host's actors before the host leaves at once.
    pub shutdown_timeout: Duration,
}

impl EngineConfig {
    /// A config for `endpoint`, `namespace` and `pool`, version 1, no token.
    pub fn new(
        endpoint: impl Into<String>,
        namespace: impl Into<String>,
        pool: impl Into<String>,
    ) -> Self {
        Self {
            endpoint: endpoint.into(),
            namespace: namespace.into(),
            pool: pool.into(),
            token: None,
            call_secret: None,
            version: 1,
            start_timeout: Duration::from_secs(30),
            shutdown_timeout: Duration::from_secs(30),
        }
    }

    /// The config the environment names ([`ENDPOINT_ENV`], [`NAMESPACE_ENV`], [`POOL_ENV`],
    /// [`TOKEN_ENV`], [`CALL_SECRET_ENV`]); `None` when [`ENDPOINT_ENV`] is unset or empty.
    ///
    /// ```
    /// // With RIVET_ENGINE_ENDPOINT unset there is no engine to join.
    /// # unsafe { std::env::remove_var("RIVET_ENGINE_ENDPOINT") };
    /// assert!(rivet_actor::engine::EngineConfig::from_env().is_none());
    /// ```
    pub fn from_env() -> Option<Self> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let mut config = Self::new(
            var(ENDPOINT_ENV)?,
            var(NAMESPACE_ENV).unwrap_or_else(|| "default".into()),
            var(POOL_ENV).unwrap_or_else(|| "rivet-actor".into()),
        );
        config.token = var(TOKEN_ENV);
        config.call_secret = var(CALL_SECRET_ENV);
        Some(config)
    }
}

impl std::fmt::Debug for EngineConfig {
    /// The token and the call secret are not printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hidden = |set: &Option<String>| set.as_ref().map(|_| "<hidden>");
        f.debug_struct("EngineConfig")
            .field("endpoint", &self.endpoint)
            .field("namespace", &self.namespace)
            .field("pool", &self.pool)
            .field("token", &hidden(&self.token))
            .field("call_secret", &hidden(&self.call_secret))
            .field("version", &self.version)
            .field("start_timeout", &self.start_timeout)
            .field("shutdown_timeout", &self.shutdown_timeout)
            .finish()
    }
}

/// Why this host could not join the engine.
///
/// ```
/// use rivet_actor::engine::EngineError;
/// assert!(EngineError::NotEngineStorage.to_string().contains("RegistryBuilder::engine()"));
/// ```
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The registry was not built with [`RegistryBuilder::engine`](crate::RegistryBuilder::engine).
    #[error("the registry keeps its actors elsewhere: build it with RegistryBuilder::engine()")]
    NotEngineStorage,
    /// The pool could not be set up.
    #[error("the engine refused the pool `{pool}`: {message}")]
    Pool {
        /// The pool.
        pool: String,
        /// What the engine said (or why it could not be asked).
        message: String,
    },
    /// The engine did not accept this host in time.
    #[error("the engine at {endpoint} did not accept this host within {timeout:?}")]
    StartTimeout {
        /// The engine.
        endpoint: String,
        /// How long we waited.
        timeout: Duration,
    },
}

/// A host serving a registry's actors for the engine; see [`Registry::serve_engine`].
///
/// ```no_run
/// # use rivet_actor::prelude::*;
/// # use rivet_actor::engine::EngineConfig;
/// # #[derive(Default, Serialize, Deserialize)] pub struct Counter { n: i64 }
/// # #[actor] impl Counter { #[action] fn get(&self) -> i64 { self.n } }
/// # async fn run() -> Result<(), rivet_actor::engine::EngineError> {
/// let registry = Registry::builder().engine().register::<Counter>().build();
/// let host = registry
///     .serve_engine(EngineConfig::from_env().expect("RIVET_ENGINE_ENDPOINT is set"))
///     .await?;
/// println!("{} actors run here", host.actors());
/// host.shutdown().await;
/// # Ok(()) }
/// ```
pub struct EngineHost {
    handle: EnvoyHandle,
    /// True once the envoy has shut down (set by the callbacks, so it cannot be missed).
    stopped: watch::Receiver<bool>,
    shutdown_timeout: Duration,
}

impl EngineHost {
    /// Leaves the engine gracefully: the engine moves this host's actors to other hosts at
    /// once (each is stopped here first, `on_sleep` included). Returns when it is done, or
    /// after [`EngineConfig::shutdown_timeout`], leaving at once (the envoy waits for every
    /// actor's stop with no deadline of its own).
    pub async fn shutdown(self) {
        self.handle.shutdown(false);
        if tokio::time::timeout(self.shutdown_timeout, self.stopped())
            .await
            .is_err()
        {
            tracing::warn!(
                timeout = ?self.shutdown_timeout,
                "the engine did not take this host's actors in time; leaving at once"
            );
            self.handle.shutdown(true);
            let _ = tokio::time::timeout(Duration::from_secs(5), self.stopped()).await;
        }
    }

    /// Waits until the envoy stops (after [`EngineHost::shutdown`] or a fatal error).
    pub async fn stopped(&self) {
        // The callbacks hold the sender for as long as the envoy lives.
        let _ = self.stopped.clone().wait_for(|stopped| *stopped).await;
    }

    /// How many actors the engine runs on this host now.
    pub fn actors(&self) -> usize {
        self.handle.active_actor_count()
    }
}

impl Registry {
    /// For tests of crash recovery in engine mode: while `stall` holds, a write committed
    /// through the journal (one no single engine put holds) is left unapplied, as if this
    /// host stopped right after its commit point, and a journal found at a wake is not
    /// applied here either. Not for use outside tests.
    #[doc(hidden)]
    pub fn __stall_engine_journals(&self, stall: bool) {
        if let Some(storage) = self.engine_storage() {
            storage.stall_journals(stall);
        }
    }

    /// Hosts this registry's actors on the Rivet Engine: upserts the pool, connects as an
    /// envoy and serves what the engine sends until [`EngineHost::shutdown`]. The registry
    /// must have been built with [`RegistryBuilder::engine`](crate::RegistryBuilder::engine).
    ///
    /// # Errors
    /// [`EngineError`] when the registry keeps its actors elsewhere, the pool cannot be set
    /// up, or the engine does not accept the host within the start timeout.
    pub async fn serve_engine(&self, config: EngineConfig) -> Result<EngineHost, EngineError> {
        let storage = self.engine_storage().ok_or(EngineError::NotEngineStorage)?;
        upsert_pool(&config).await?;
        // `c.client()` reaches actors on other hosts through this engine's gateway.
        let client = Client::new(&config.endpoint).engine(&config.namespace, &config.pool);
        // Call ids crossing hosts are signed with the secret the hosts share.
        let call_secret = call_mac::CallSecret::new(config.call_secret.as_deref()).map(Arc::new);
        let peers = peer::EnginePeers {
            client: match &config.token {
                Some(token) => client.token(token),
                None => client,
            },
            call_secret: call_secret.clone(),
        };
        let _ = self.remote_slot().set(Arc::new(peers));
        let (stopped, stopped_rx) = watch::channel(false);
        let callbacks = callbacks::Callbacks {
            registry: self.clone(),
            storage: storage.clone(),
            router: crate::server::router::router(self.clone()),
            stopped,
            fenced: Default::default(),
            start_timeout: config.start_timeout,
            call_secret,
            connections: Arc::new(tokio::sync::Semaphore::new(
                self.server_config()
                    .max_connections
                    .clamp(1, tokio::sync::Semaphore::MAX_PERMITS),
            )),
        };
        let names: HashMap<String, ActorName> = self
            .actor_types()
            .map(|actor| {
                let metadata = serde_json::json!({});
                (actor.name().to_owned(), ActorName { metadata })
            })
            .collect();
        let handle = rivet_envoy_client::envoy::start_envoy_sync(EnvoyConfig {
            version: config.version,
            endpoint: config.endpoint.clone(),
            token: config.token.clone(),
            namespace: config.namespace.clone(),
            pool_name: config.pool.clone(),
            prepopulate_actor_names: names,
            metadata: Some(serde_json::json!({ "host": "rivet-actor" })),
            not_global: true,
            debug_latency_ms: None,
            callbacks: Arc::new(callbacks),
        });
        // Actors may start as soon as the engine accepts us: the storage needs the handle.
        storage.attach(handle.clone());
        // `started` never fails on its own (a wrong namespace or an unreachable engine just
        // never answers), hence the deadline.
        match tokio::time::timeout(config.start_timeout, handle.started()).await {
            Ok(Ok(())) => {}
            _ => {
                handle.shutdown(true);
                return Err(EngineError::StartTimeout {
                    endpoint: config.endpoint,
                    timeout: config.start_timeout,
                });
            }
        }
        tracing::info!(endpoint = %config.endpoint, pool = %config.pool, "hosting actors for the engine");
        Ok(EngineHost {
            handle,
            stopped: stopped_rx,
            shutdown_timeout: config.shutdown_timeout,
        })
    }
}

/// `PUT /runner-configs/{pool}`: a normal pool in the default datacenter, unless the pool
/// is there already (an operator's configuration of it is left alone).
async fn upsert_pool(config: &EngineConfig) -> Result<(), EngineError> {
    let refused = |message: String| EngineError::Pool {
        pool: config.pool.clone(),
        message,
    };
    let http = reqwest::Client::new();
    let mut list = reqwest::Url::parse(&config.endpoint).map_err(|err| refused(err.to_string()))?;
    list.path_segments_mut()
        .map_err(|()| refused("the endpoint cannot have a path".into()))?
        .pop_if_empty()
        .push("runner-configs");
    list.query_pairs_mut()
        .append_pair("namespace", &config.namespace);
    let mut request = http.get(list);
    if let Some(token) = &config.token {
        request = request.bearer_auth(token);
    }
    if let Ok(response) = request.send().await
        && response.status().is_success()
        && let Ok(body) = response.json::<serde_json::Value>().await
        && body["runner_configs"].get(&config.pool).is_some()
    {
        return Ok(());
    }
    let mut url = reqwest::Url::parse(&config.endpoint).map_err(|err| refused(err.to_string()))?;
    url.path_segments_mut()
        .map_err(|()| refused("the endpoint cannot have a path".into()))?
        .pop_if_empty()
        .extend(["runner-configs", config.pool.as_str()]);
    url.query_pairs_mut()
        .append_pair("namespace", &config.namespace);
    let mut request = http
        .put(url)
        .json(&serde_json::json!({ "datacenters": { "default": { "normal": {} } } }));
    if let Some(token) = &config.token {
        request = request.bearer_auth(token);
    }
    let response = request
        .send()
        .await
        .map_err(|err| refused(err.to_string()))?;
    if !response.status().is_success() {
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        return Err(refused(format!("{status}: {body}")));
    }
    Ok(())
}
