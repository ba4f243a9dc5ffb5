//! rivet-actor: stateful, keyed actors in the model of RivetKit.
//!
//! Write one `impl` block under [`actor`](macro@actor); its `#[action]` methods become a generated
//! dispatch and a generated typed client, its hooks (`#[before_connect]`, `#[conn_state]`,
//! `#[can_invoke]`, lifecycle hooks) are checked at compile time, and the [`Registry`]
//! hosts instances addressed by `(name, key)`, one turn at a time.
//!
//! ```
//! use rivet_actor::prelude::*;
//!
//! #[derive(Default, Serialize, Deserialize)]
//! pub struct Counter { count: i64 }
//!
//! #[actor]
//! impl Counter {
//!     #[action]
//!     fn increment(&mut self, by: i64) -> i64 {
//!         self.count += by;
//!         self.count
//!     }
//! }
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let test = ActorTest::<Counter>::new();
//! let counter = test.get_or_create("a").await.unwrap();
//! assert_eq!(counter.increment(5).await.unwrap(), 5);
//! # });
//! ```

// Unit tests define actors with the macro, whose expansion names `rivet_actor`.
#[cfg(test)]
extern crate self as rivet_actor;

pub mod actor;
pub mod auth;
pub mod client;
pub mod conn;
pub mod context;
pub mod db;
#[cfg(feature = "engine")]
pub mod engine;
pub mod error;
pub mod frozen;
pub mod guard;
mod http_body;
mod ids;
pub mod kv;
pub(crate) mod naming;
pub mod origin;
pub mod protocol;
pub mod queue;
pub mod raw;
pub mod registry;
pub mod runtime;
pub mod schedule;
pub mod server;
pub mod storage;
pub mod testing;
pub mod typescript;
pub mod value;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

/// Entry points of the fuzz targets in `fuzz/` and of the corpus replay test; not public API.
#[doc(hidden)]
#[path = "fuzz/mod.rs"]
pub mod __fuzz;

pub use actor::{ActionTarget, Actor, ActorCall, ActorReturn, Event, Invoke, Queue, Target};
pub use client::{
    ActorConn, ActorHandle, Client, ConnStatus, EventStream, Invoker, LocalConn, LocalHandle,
};
pub use conn::{Conn, ConnId, ConnRef, NoParams, Request};
pub use context::{ActionCtx, ActorCtx, ConnCtx, ConnectCtx, CreateCtx};
pub use error::{ActorError, ClientError, Error, UserError};
pub use frozen::Frozen;
pub use origin::OriginPolicy;
pub use registry::{Registry, RegistryBuilder};
pub use runtime::{ActorId, HostConfig, Key};
pub use testing::ActorTest;

/// The `http` crate, whose types raw handlers take and give
/// ([`RawRequest`](raw::RawRequest), [`RawResponse`](raw::RawResponse)).
pub use http;

/// Turns an impl block (and optionally its state struct) into an actor; for example, a
/// chat room with one action and one event:
///
/// ```
/// use rivet_actor::prelude::*;
///
/// #[derive(Serialize, Deserialize)]
/// pub struct NewMessage { text: String }
///
/// #[derive(Default, Serialize, Deserialize)]
/// pub struct ChatRoom { messages: Vec<String> }
///
/// #[actor(events(new_message = NewMessage))]
/// impl ChatRoom {
///     #[action]
///     async fn send_message(
///         &mut self,
///         c: &mut ActionCtx<'_, Self>,
///         text: String,
///     ) -> Result<(), UserError> {
///         if text.is_empty() {
///             return Err(UserError::new("empty message").code("empty"));
///         }
///         self.messages.push(text.clone());
///         c.broadcast(NewMessage { text });
///         Ok(())
///     }
/// }
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let test = ActorTest::<ChatRoom>::new();
/// let conn = test.get_or_create("general").await.unwrap().connect().await.unwrap();
/// let mut news = conn.events::<NewMessage>();
/// conn.send_message("hi".into()).await.unwrap();
/// assert_eq!(news.next().await.unwrap().unwrap().text, "hi");
/// # });
/// ```
pub use rivet_actor_macros::actor;

/// Everything an actor definition needs.
pub mod prelude {
    pub use crate::queue::RunCtx;
    pub use crate::raw::{RawRequest, RawResponse, RawWebSocket};
    pub use crate::{
        ActionCtx, Actor, ActorCtx, ActorError, ActorTest, Client, ClientError, ConnCtx,
        ConnectCtx, CreateCtx, Error, Frozen, Invoke, Key, NoParams, Registry, Request, UserError,
        actor,
    };
    pub use serde::{Deserialize, Serialize};
}
