//! Which actor types a process hosts, and in-process access to their instances.

mod admin;
mod metrics;
mod server_config;

pub use admin::ADMIN_TOKEN_ENV;
pub(crate) use admin::AdminToken;
pub(crate) use metrics::{ActionCounts, Metrics};
pub use server_config::ServerConfig;

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::Arc;

use crate::actor::Actor;
use crate::client::LocalHandle;
use crate::context::SharedData;
use crate::error::{ActorError, ClientError};
use crate::guard::{ConnectGuard, ErasedGuard};
use crate::origin::OriginPolicy;
use crate::runtime::erased::{ErasedActor, HostedActor};
use crate::runtime::host::{Host, HostConfig, InputSource};
use crate::runtime::lookup::{ActorId, Key, Lookup};
use crate::storage::{DefaultStorage, MemoryStorage, SqliteStorage, Storage, StorageError};

/// The actor types a process hosts, their storage and their instances.
///
/// ```
/// use rivet_actor::prelude::*;
///
/// #[derive(Default, Serialize, Deserialize)]
/// struct Counter { count: u64 }
///
/// #[actor]
/// impl Counter {
///     #[action]
///     fn increment(&mut self, by: u64) -> u64 {
///         self.count += by;
///         self.count
///     }
/// }
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let registry = Registry::builder().in_memory().register::<Counter>().build();
/// let counter = registry.get_or_create::<Counter>("mine").await.unwrap();
/// assert_eq!(counter.increment(2).await.unwrap(), 2);
/// # });
/// ```
#[derive(Clone)]
pub struct Registry {
    inner: Arc<Inner>,
}

struct Inner {
    by_name: HashMap<&'static str, Arc<dyn ErasedActor>>,
    by_type: HashMap<TypeId, Arc<dyn Any + Send + Sync>>,
    storage: Arc<dyn Storage>,
    server: ServerConfig,
    origins: OriginPolicy,
    actor_origins: HashMap<&'static str, OriginPolicy>,
    admin_token: Option<AdminToken>,
    metrics: Arc<Metrics>,
    /// Calls to actors on other hosts, for `c.client()` (engine mode sets it).
    remote: crate::runtime::peer::RemoteSlot,
    /// The storage, when it is the engine's (engine mode).
    #[cfg(feature = "engine")]
    engine: Option<Arc<crate::engine::EngineStorage>>,
}

type Registration = Box<
    dyn FnOnce(
        &Arc<dyn Storage>,
        &HostConfig,
        Vec<Arc<dyn ErasedGuard>>,
        &Arc<SharedData>,
        &Arc<Metrics>,
        &crate::runtime::peer::RemoteSlot,
    ) -> Registered,
>;

struct Registered {
    name: &'static str,
    type_id: TypeId,
    erased: Arc<dyn ErasedActor>,
    typed: Arc<dyn Any + Send + Sync>,
    /// Its resolver for `c.client()` (`runtime/peer.rs`).
    peer: Box<dyn Any + Send + Sync>,
    origins: Option<OriginPolicy>,
}

/// Where a registry keeps its actors.
enum StorageChoice {
    /// SQLite under `RIVET_ACTOR_DATA_DIR`, else `./.rivet-actor/`; memory with
    /// `RIVET_ACTOR_STORAGE=memory`.
    Default,
    /// SQLite under this directory.
    Dir(std::path::PathBuf),
    /// Memory only: gone at exit.
    Memory,
    /// A backend the caller made.
    Custom(Arc<dyn Storage>),
    /// The engine's actor KV (engine mode).
    #[cfg(feature = "engine")]
    Engine,
}

/// Builds a [`Registry`].
#[must_use]
pub struct RegistryBuilder {
    storage: StorageChoice,
    config: HostConfig,
    server: ServerConfig,
    origins: OriginPolicy,
    registrations: Vec<(TypeId, Registration)>,
    guards: Vec<(TypeId, Arc<dyn ErasedGuard>)>,
    data: SharedData,
    admin_token: Option<String>,
}

impl Registry {
    /// Starts a registry with the default, durable storage (a SQLite file under
    /// `RIVET_ACTOR_DATA_DIR`, else `./.rivet-actor/`; `RIVET_ACTOR_STORAGE=memory` keeps
    /// actors in memory instead) and default settings.
    pub fn builder() -> RegistryBuilder {
        RegistryBuilder {
            storage: StorageChoice::Default,
            config: HostConfig::default(),
            server: ServerConfig::default(),
            origins: OriginPolicy::any(),
            registrations: Vec::new(),
            guards: Vec::new(),
            data: SharedData::default(),
            admin_token: None,
        }
    }

    fn host<A: Actor>(&self) -> Result<Arc<Host<A>>, ClientError> {
        self.inner
            .by_type
            .get(&TypeId::of::<A>())
            .and_then(|any| any.clone().downcast::<Host<A>>().ok())
            .ok_or_else(|| ClientError::Actor(ActorError::unknown_actor(A::NAME)))
    }

    async fn resolve<A: Actor>(
        &self,
        lookup: Lookup<InputSource<A>>,
    ) -> Result<LocalHandle<A>, ClientError> {
        let host = self.host::<A>()?;
        let (id, _created) = host.resolve(lookup, None).await?;
        Ok(LocalHandle::new(host, id))
    }

    /// The actor with this key; `actor.not_found` if there is none.
    pub async fn get<A: Actor>(&self, key: impl Into<Key>) -> Result<LocalHandle<A>, ClientError> {
        self.resolve(Lookup::Get(key.into())).await
    }

    /// The actor with this key, created (without input) if there is none.
    pub async fn get_or_create<A: Actor>(
        &self,
        key: impl Into<Key>,
    ) -> Result<LocalHandle<A>, ClientError> {
        self.resolve(Lookup::GetOrCreate(key.into(), None)).await
    }

    /// The actor with this key, created with `input` if there is none.
    pub async fn get_or_create_with<A: Actor>(
        &self,
        key: impl Into<Key>,
        input: A::Input,
    ) -> Result<LocalHandle<A>, ClientError> {
        self.resolve(Lookup::GetOrCreate(
            key.into(),
            Some(InputSource::Typed(input)),
        ))
        .await
    }

    /// A new actor with this key and input; `actor.already_exists` if the key is taken.
    pub async fn create<A: Actor>(
        &self,
        key: impl Into<Key>,
        input: A::Input,
    ) -> Result<LocalHandle<A>, ClientError> {
        self.resolve(Lookup::Create(key.into(), Some(InputSource::Typed(input))))
            .await
    }

    /// The actor with this id.
    pub async fn get_for_id<A: Actor>(&self, id: &ActorId) -> Result<LocalHandle<A>, ClientError> {
        self.resolve(Lookup::Id(id.clone())).await
    }

    /// Shuts the actors down: no actor wakes any more (a call to one that is not awake fails
    /// with `actor.stopped`), and every awake actor, running or parked, stops the way it
    /// goes to sleep: its turn ends, its writes settle, its connections close with
    /// `actor.stopped`, and its `on_sleep` runs. Returns once they have all left. What they
    /// stored is kept: a registry built again on the same storage wakes them from it. Stop
    /// serving first ([`Server::shutdown`](crate::server::Server::shutdown)), so no request
    /// arrives meanwhile.
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// # #[derive(Default, Serialize, Deserialize)] struct Counter { n: u64 }
    /// # #[actor] impl Counter { #[action] fn increment(&mut self, by: u64) -> u64 { self.n += by; self.n } }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let registry = Registry::builder().in_memory().register::<Counter>().build();
    /// let counter = registry.get_or_create::<Counter>(["mine"]).await.unwrap();
    /// counter.increment(1).await.unwrap();
    /// registry.shutdown().await;
    /// assert!(counter.increment(1).await.is_err()); // actor.stopped
    /// # });
    /// ```
    pub async fn shutdown(&self) {
        futures_util::future::join_all(self.actor_types().map(|actor| actor.shutdown())).await;
    }

    /// Where engine mode puts its calls to actors on other hosts (`c.client()`).
    #[cfg_attr(not(feature = "engine"), allow(dead_code))]
    pub(crate) fn remote_slot(&self) -> &crate::runtime::peer::RemoteSlot {
        &self.inner.remote
    }

    /// The registered actor type with this wire name (what the network server drives).
    pub fn actor_type(&self, name: &str) -> Option<&Arc<dyn ErasedActor>> {
        self.inner.by_name.get(name)
    }

    /// Every registered actor type.
    pub fn actor_types(&self) -> impl Iterator<Item = &Arc<dyn ErasedActor>> {
        self.inner.by_name.values()
    }

    /// A TypeScript module typing this registry for the npm client (feature `typescript`):
    /// it exports `type Registry`, for `createClient<Registry>(endpoint)` from
    /// `rivetkit/client`. Types that implement `ts_rs::TS` (`#[derive(TS)]`) keep their
    /// shape; others are `unknown`. See [`crate::typescript`].
    ///
    /// ```
    /// use rivet_actor::prelude::*;
    ///
    /// #[derive(Default, Serialize, Deserialize)]
    /// pub struct Counter { count: i64 }
    ///
    /// #[actor(events(new_count = i64))]
    /// impl Counter {
    ///     #[action]
    ///     fn increment(&mut self, by: i64) -> i64 {
    ///         self.count += by;
    ///         self.count
    ///     }
    /// }
    ///
    /// let registry = Registry::builder().in_memory().register::<Counter>().build();
    /// let module = registry.typescript();
    /// assert!(module.contains("increment: (_c, by: number): number => stub(),"));
    /// assert!(module.contains("newCount: payload<number>(),"));
    /// assert!(module.contains("export type Registry = typeof registry;"));
    /// ```
    #[cfg(feature = "typescript")]
    pub fn typescript(&self) -> String {
        let mut described: Vec<_> = self.actor_types().map(|actor| actor.describe()).collect();
        described.sort_by(|a, b| a.shape().name.cmp(&b.shape().name));
        let shapes: Vec<_> = described.iter().map(|d| d.shape().clone()).collect();
        let sinks: Vec<_> = described.into_iter().map(|d| d.types).collect();
        crate::typescript::write_module(&shapes, &sinks)
    }

    /// The storage this registry writes to.
    /// The engine's storage, when the registry was built for engine mode.
    #[cfg(feature = "engine")]
    pub(crate) fn engine_storage(&self) -> Option<Arc<crate::engine::EngineStorage>> {
        self.inner.engine.clone()
    }

    pub fn storage(&self) -> &Arc<dyn Storage> {
        &self.inner.storage
    }

    /// The origin policy of actor type `name`: its own (`#[actor(origins = ..)]`), else the
    /// registry's.
    pub fn origin_policy(&self, name: &str) -> &OriginPolicy {
        self.inner
            .actor_origins
            .get(name)
            .unwrap_or(&self.inner.origins)
    }

    /// The registry-wide origin policy (for paths that name no actor, and actors without
    /// their own).
    pub fn default_origin_policy(&self) -> &OriginPolicy {
        &self.inner.origins
    }

    /// The network server's settings.
    pub fn server_config(&self) -> &ServerConfig {
        &self.inner.server
    }

    /// The registry's counters (`/metrics`).
    pub(crate) fn metrics(&self) -> &Arc<Metrics> {
        &self.inner.metrics
    }

    /// The management API's token, if one is configured.
    pub(crate) fn admin_token(&self) -> Option<&AdminToken> {
        self.inner.admin_token.as_ref()
    }
}

impl RegistryBuilder {
    /// Hosts actor type `A`.
    pub fn register<A: Actor>(mut self) -> Self {
        self.registrations.push((
            TypeId::of::<A>(),
            Box::new(|storage, config, guards, data, metrics, remote| {
                let host = Host::<A>::new(
                    storage.clone(),
                    crate::__private::config_for::<A>(config),
                    guards,
                    data.clone(),
                    metrics.clone(),
                );
                // Actors with pending schedules (or queued messages for a `#[run]` loop)
                // wake now (after a restart) rather than on their next request. Without a
                // runtime (a registry built outside tokio), they wake on first use instead.
                if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                    let host = host.clone();
                    runtime.spawn(async move { host.wake_pending().await });
                }
                Registered {
                    name: A::NAME,
                    type_id: TypeId::of::<A>(),
                    peer: crate::runtime::peer::resolver(&host, remote.clone()),
                    erased: Arc::new(HostedActor(host.clone())),
                    typed: host,
                    origins: <A as crate::__private::ActorOptions>::ORIGINS.map(|patterns| {
                        match OriginPolicy::allow(patterns) {
                            Ok(policy) => policy.allow_missing(
                                <A as crate::__private::ActorOptions>::ALLOW_NO_ORIGIN,
                            ),
                            Err(err) => panic!("actor `{}`: {err}", A::NAME),
                        }
                    }),
                }
            }),
        ));
        self
    }

    /// Stores actors in a SQLite file under `dir` (created on first use).
    pub fn data_dir(mut self, dir: impl Into<std::path::PathBuf>) -> Self {
        self.storage = StorageChoice::Dir(dir.into());
        self
    }

    /// Keeps actors in memory only: for tests and benchmarks, gone at exit.
    pub fn in_memory(mut self) -> Self {
        self.storage = StorageChoice::Memory;
        self
    }

    /// Stores actors in a backend of the caller's.
    pub fn storage(mut self, storage: impl Storage) -> Self {
        self.storage = StorageChoice::Custom(Arc::new(storage));
        self
    }

    /// Stores actors in a backend shared with others.
    pub fn shared_storage(mut self, storage: Arc<dyn Storage>) -> Self {
        self.storage = StorageChoice::Custom(storage);
        self
    }

    /// Whether a storage was chosen explicitly.
    pub(crate) fn has_storage_choice(&self) -> bool {
        !matches!(self.storage, StorageChoice::Default)
    }

    /// Makes `value` available to every hook and action of every actor type, as
    /// `c.data::<T>()` (one value per type): configuration, clients, verifiers.
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// struct AuthService { url: String }
    /// # #[derive(Default, Serialize, Deserialize)] struct Api;
    /// # #[actor] impl Api {
    /// #     #[action]
    /// #     fn url(&self, c: &ActionCtx<'_, Self>) -> String {
    /// #         c.data::<AuthService>().map(|s| s.url.clone()).unwrap_or_default()
    /// #     }
    /// # }
    /// let registry = Registry::builder()
    ///     .in_memory()
    ///     .data(AuthService { url: "http://127.0.0.1:9000/validate".into() })
    ///     .register::<Api>()
    ///     .build();
    /// ```
    pub fn data<T: Send + Sync + 'static>(mut self, value: T) -> Self {
        self.data.insert(value);
        self
    }

    /// Attaches a connection check to actor type `A` from outside its impl block (see
    /// [`ConnectGuard`]): it runs before `A`'s own hooks on every connection and stateless
    /// call. Several guards run in the order given.
    pub fn guard<A: Actor, G: ConnectGuard<A>>(mut self, guard: G) -> Self {
        let erased: Arc<dyn ErasedGuard> = Arc::new(crate::guard::TypedGuard::<A, G>(
            guard,
            std::marker::PhantomData,
        ));
        self.guards.push((TypeId::of::<A>(), erased));
        self
    }

    /// The browser origins every actor without its own policy accepts (default: any).
    /// Enforced for HTTP actions and WebSocket connects before any hook runs, and used to
    /// answer CORS preflights.
    pub fn origins(mut self, policy: OriginPolicy) -> Self {
        self.origins = policy;
        self
    }

    /// The token the management API asks for (`Authorization: Bearer <token>`, what the npm
    /// client sends for its `token` option): listing every actor and destroying one. Without
    /// it (and without [`ADMIN_TOKEN_ENV`] set) those endpoints are refused.
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// let registry = Registry::builder().in_memory().admin_token("a-long-random-secret").build();
    /// # let _ = registry;
    /// ```
    pub fn admin_token(mut self, token: impl Into<String>) -> Self {
        self.admin_token = Some(token.into());
        self
    }

    /// Network server settings (message size limit, …).
    pub fn server_config(mut self, server: ServerConfig) -> Self {
        self.server = server;
        self
    }

    /// Keeps the actors in the Rivet Engine's actor KV, to be hosted there with
    /// [`Registry::serve_engine`] (engine mode; the `engine` feature).
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// # #[derive(Default, Serialize, Deserialize)] pub struct Counter { count: i64 }
    /// # #[actor] impl Counter { #[action] fn get(&self) -> i64 { self.count } }
    /// let registry = Registry::builder().engine().register::<Counter>().build();
    /// # let _ = registry;
    /// ```
    #[cfg(feature = "engine")]
    pub fn engine(mut self) -> Self {
        self.storage = StorageChoice::Engine;
        self
    }

    /// Executor settings.
    pub fn config(mut self, config: HostConfig) -> Self {
        self.config = config;
        self
    }

    /// Builds the registry, opening its storage.
    ///
    /// # Errors
    /// When the storage cannot be opened (the data directory is not writable, the file is
    /// not ours or is damaged).
    ///
    /// # Panics
    /// When two registered actor types share a wire name: requests could not be routed.
    pub fn try_build(self) -> Result<Registry, StorageError> {
        #[cfg(feature = "engine")]
        let engine = matches!(self.storage, StorageChoice::Engine)
            .then(|| Arc::new(crate::engine::EngineStorage::new()));
        #[cfg(feature = "engine")]
        let engine_storage: Option<Arc<dyn Storage>> =
            engine.clone().map(|e| e as Arc<dyn Storage>);
        let storage: Arc<dyn Storage> = match self.storage {
            StorageChoice::Default => match crate::storage::default_storage_kind()? {
                DefaultStorage::Sqlite => {
                    Arc::new(SqliteStorage::open(crate::storage::default_data_dir())?)
                }
                DefaultStorage::Memory => {
                    tracing::warn!(
                        "RIVET_ACTOR_STORAGE=memory: actors are kept in memory only and lost at exit"
                    );
                    Arc::new(MemoryStorage::new())
                }
            },
            StorageChoice::Dir(dir) => Arc::new(SqliteStorage::open(dir)?),
            StorageChoice::Memory => Arc::new(MemoryStorage::new()),
            StorageChoice::Custom(storage) => storage,
            #[cfg(feature = "engine")]
            StorageChoice::Engine => engine_storage.expect("made above"),
        };
        let mut by_name = HashMap::new();
        let mut by_type = HashMap::new();
        let mut actor_origins = HashMap::new();
        let data = Arc::new(self.data);
        let metrics = Arc::new(Metrics::default());
        let mut peers = crate::runtime::peer::Directory::default();
        let remote = crate::runtime::peer::RemoteSlot::default();
        for (type_id, registration) in self.registrations {
            let guards = self
                .guards
                .iter()
                .filter(|(guarded, _)| *guarded == type_id)
                .map(|(_, guard)| guard.clone())
                .collect();
            let registered = registration(&storage, &self.config, guards, &data, &metrics, &remote);
            if by_name.insert(registered.name, registered.erased).is_some() {
                panic!(
                    "two actor types are registered under the name `{}`",
                    registered.name
                );
            }
            by_type.insert(registered.type_id, registered.typed);
            peers.resolvers.insert(registered.type_id, registered.peer);
            if let Some(policy) = registered.origins {
                actor_origins.insert(registered.name, policy);
            }
        }
        // Set once: every type is registered, and no actor has run yet.
        let _ = data.peers.set(Arc::new(peers));
        Ok(Registry {
            inner: Arc::new(Inner {
                by_name,
                by_type,
                storage,
                server: self.server,
                origins: self.origins,
                actor_origins,
                admin_token: AdminToken::configured(self.admin_token),
                metrics,
                remote,
                #[cfg(feature = "engine")]
                engine,
            }),
        })
    }

    /// Builds the registry.
    ///
    /// # Panics
    /// When the storage cannot be opened (see [`RegistryBuilder::try_build`]) or two actor
    /// types share a wire name.
    pub fn build(self) -> Registry {
        match self.try_build() {
            Ok(registry) => registry,
            Err(err) => panic!("the registry's storage could not be opened: {err}"),
        }
    }
}
