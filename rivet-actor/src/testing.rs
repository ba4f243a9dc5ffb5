//! A harness for testing one's actors in-process: the same pipeline as the network
//! (connect hooks, `can_invoke`, dispatch, persistence to in-memory storage), no sockets.

use std::marker::PhantomData;

use crate::actor::Actor;
use crate::client::LocalHandle;
use crate::error::ClientError;
use crate::registry::{Registry, RegistryBuilder};
use crate::runtime::lookup::Key;

/// A fresh registry hosting actor `A` on in-memory storage.
///
/// ```
/// use rivet_actor::prelude::*;
///
/// #[derive(Default, Serialize, Deserialize)]
/// struct Greeter { greeted: u32 }
///
/// #[actor]
/// impl Greeter {
///     #[action]
///     fn greet(&mut self, name: String) -> String {
///         self.greeted += 1;
///         format!("hello {name} (#{})", self.greeted)
///     }
/// }
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let test = ActorTest::<Greeter>::new();
/// let greeter = test.get_or_create("a").await.unwrap();
/// assert_eq!(greeter.greet("ann".into()).await.unwrap(), "hello ann (#1)");
/// # });
/// ```
pub struct ActorTest<A: Actor> {
    registry: Registry,
    _actor: PhantomData<fn() -> A>,
}

impl<A: Actor> Default for ActorTest<A> {
    fn default() -> Self {
        Self::new()
    }
}

impl<A: Actor> ActorTest<A> {
    /// A registry hosting only `A`, on in-memory storage.
    pub fn new() -> Self {
        Self::with(Registry::builder())
    }

    /// A registry built from `builder` with `A` added (for other actor types or settings).
    /// Unless `builder` chose a storage, it is in memory.
    pub fn with(builder: RegistryBuilder) -> Self {
        let builder = if builder.has_storage_choice() {
            builder
        } else {
            builder.in_memory()
        };
        Self {
            registry: builder.register::<A>().build(),
            _actor: PhantomData,
        }
    }

    /// The registry under test.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// See [`Registry::get`].
    pub async fn get(&self, key: impl Into<Key>) -> Result<LocalHandle<A>, ClientError> {
        self.registry.get::<A>(key).await
    }

    /// See [`Registry::get_or_create`].
    pub async fn get_or_create(&self, key: impl Into<Key>) -> Result<LocalHandle<A>, ClientError> {
        self.registry.get_or_create::<A>(key).await
    }

    /// See [`Registry::create`].
    pub async fn create(
        &self,
        key: impl Into<Key>,
        input: A::Input,
    ) -> Result<LocalHandle<A>, ClientError> {
        self.registry.create::<A>(key, input).await
    }
}
