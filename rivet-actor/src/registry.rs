//! Which actor types a process hosts, and in-process access to their instances.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::Arc;

use crate::actor::Actor;
use crate::client::LocalHandle;
use crate::error::{ActorError, ClientError};
use crate::runtime::erased::{Erased, ErasedActor};
use crate::runtime::host::{Host, HostConfig, InputSource};
use crate::runtime::lookup::{ActorId, Key, Lookup};
use crate::storage::{MemoryStorage, Storage};

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
/// let registry = Registry::builder().register::<Counter>().build();
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
}

type Registration = Box<dyn FnOnce(&Arc<dyn Storage>, &HostConfig) -> Registered>;

struct Registered {
    name: &'static str,
    type_id: TypeId,
    erased: Arc<dyn ErasedActor>,
    typed: Arc<dyn Any + Send + Sync>,
}

/// Builds a [`Registry`].
#[must_use]
pub struct RegistryBuilder {
    storage: Option<Arc<dyn Storage>>,
    config: HostConfig,
    registrations: Vec<Registration>,
}

impl Registry {
    /// Starts a registry with in-memory storage and default settings.
    pub fn builder() -> RegistryBuilder {
        RegistryBuilder {
            storage: None,
            config: HostConfig::default(),
            registrations: Vec::new(),
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
        let id = host.resolve(lookup).await?;
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

    /// The registered actor type with this wire name (what the network server drives).
    pub fn actor_type(&self, name: &str) -> Option<&Arc<dyn ErasedActor>> {
        self.inner.by_name.get(name)
    }

    /// Every registered actor type.
    pub fn actor_types(&self) -> impl Iterator<Item = &Arc<dyn ErasedActor>> {
        self.inner.by_name.values()
    }

    /// The storage this registry writes to.
    pub fn storage(&self) -> &Arc<dyn Storage> {
        &self.inner.storage
    }
}

impl RegistryBuilder {
    /// Hosts actor type `A`.
    pub fn register<A: Actor>(mut self) -> Self {
        self.registrations.push(Box::new(|storage, config| {
            let host = Host::<A>::new(storage.clone(), config.clone());
            Registered {
                name: A::NAME,
                type_id: TypeId::of::<A>(),
                erased: Arc::new(Erased(host.clone())),
                typed: host,
            }
        }));
        self
    }

    /// Where actors are stored (default: in memory).
    pub fn storage(mut self, storage: impl Storage) -> Self {
        self.storage = Some(Arc::new(storage));
        self
    }

    /// Where actors are stored, shared with others.
    pub fn shared_storage(mut self, storage: Arc<dyn Storage>) -> Self {
        self.storage = Some(storage);
        self
    }

    /// Executor settings.
    pub fn config(mut self, config: HostConfig) -> Self {
        self.config = config;
        self
    }

    /// Builds the registry.
    ///
    /// # Panics
    /// When two registered actor types share a wire name: requests could not be routed.
    pub fn build(self) -> Registry {
        let storage = self
            .storage
            .unwrap_or_else(|| Arc::new(MemoryStorage::new()));
        let mut by_name = HashMap::new();
        let mut by_type = HashMap::new();
        for registration in self.registrations {
            let registered = registration(&storage, &self.config);
            if by_name.insert(registered.name, registered.erased).is_some() {
                panic!(
                    "two actor types are registered under the name `{}`",
                    registered.name
                );
            }
            by_type.insert(registered.type_id, registered.typed);
        }
        Registry {
            inner: Arc::new(Inner {
                by_name,
                by_type,
                storage,
            }),
        }
    }
}
