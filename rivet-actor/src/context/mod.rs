//! Contexts handed to hooks and actions. Each one lends exactly what its hook may touch:
//! the state is the method's receiver, everything else (vars, connection, events, queues,
//! schedules) is here.
//!
//! | context | hooks |
//! |---|---|
//! | [`CreateCtx`] | `#[create_state]`, `#[create_vars]` |
//! | [`ActorCtx`] | `#[on_create]`, `#[on_wake]`, `#[on_sleep]`, `#[on_destroy]`, `#[on_state_change]` |
//! | [`ActionCtx`] | `#[action]`, `#[on_connect]`, `#[on_disconnect]`, `#[on_request]`, `#[on_websocket]` |
//! | [`ConnectCtx`] | `#[before_connect]`, `#[conn_state]` with `&self` (in the turn) |
//! | [`PreConnectCtx`] | `#[before_connect]`, `#[conn_state]` without `self` (outside the turn) |
//! | [`ConnCtx`] | `#[can_invoke]`, `#[can_subscribe]`, `#[can_publish]` |

mod action;
mod actor;
pub(crate) mod client;
mod connect;
mod create;
pub(crate) mod effects;
pub(crate) mod lifecycle;
mod pre_connect;
mod this;

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::Arc;

pub use action::ActionCtx;
pub use actor::ActorCtx;
pub use client::{ActorClient, Peer, PeerInvoker};
pub use connect::{ConnCtx, ConnectCtx};
pub use create::CreateCtx;
pub use lifecycle::Stopping;
pub use pre_connect::PreConnectCtx;
pub use this::{This, ThisInvoker};

/// Who an actor instance is: its id, type name and key; and the registry's shared data.
pub(crate) struct ActorMeta {
    pub(crate) id: Arc<str>,
    pub(crate) name: &'static str,
    pub(crate) key: Arc<[String]>,
    pub(crate) data: Arc<SharedData>,
}

/// Values given to [`RegistryBuilder::data`](crate::RegistryBuilder::data), by type: the
/// way to hand hooks configuration and clients (a verifier, an HTTP client, a URL).
///
/// ```
/// use rivet_actor::prelude::*;
///
/// struct ApiUrl(String);
///
/// #[derive(Default, Serialize, Deserialize)]
/// pub struct Account { balance: i64 }
///
/// #[actor]
/// impl Account {
///     #[action]
///     fn api(&self, c: &ActionCtx<'_, Self>) -> String {
///         c.data::<ApiUrl>().map(|url| url.0.clone()).unwrap_or_default()
///     }
/// }
///
/// let registry = Registry::builder()
///     .in_memory()
///     .data(ApiUrl("https://api.example.com".into()))
///     .register::<Account>()
///     .build();
/// # let _ = registry;
/// ```
#[derive(Default)]
pub struct SharedData {
    values: HashMap<TypeId, Box<dyn Any + Send + Sync>>,
    /// The registry's actor types, for `c.client()` (set once every type is registered).
    pub(crate) peers: std::sync::OnceLock<Arc<dyn effects::PeerDirectory>>,
}

impl SharedData {
    pub(crate) fn insert<T: Send + Sync + 'static>(&mut self, value: T) {
        self.values.insert(TypeId::of::<T>(), Box::new(value));
    }

    /// The value of type `T`, if one was given.
    pub fn get<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.values
            .get(&TypeId::of::<T>())
            .and_then(|value| value.downcast_ref::<T>())
    }
}
