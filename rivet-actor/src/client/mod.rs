//! Clients of actors. The typed methods are generated per actor (`ChatRoomMethods`) over
//! an [`Invoker`]; this module holds the transports they run on.
//!
//! - [`Client`] → [`ActorHandle`] (stateless calls over HTTP) / [`ActorConn`] (one
//!   WebSocket): over the network, in RivetKit's protocol.
//! - [`LocalHandle`] / [`LocalConn`]: in-process, through the same pipeline as the network
//!   (connect hooks, `can_invoke`, dispatch), with typed calls that are never serialized.

mod events;
mod local;
pub mod net;

use std::future::Future;

use serde::de::DeserializeOwned;

use crate::actor::Actor;
use crate::error::ClientError;

pub use events::EventStream;
pub use local::{LocalConn, LocalHandle, LocalInvoker, This};
pub use net::{ActorConn, ActorHandle, Client, ConnStatus};

/// A transport that carries typed calls of actor `A`. Generated client methods call it:
///
/// ```ignore
/// pub async fn send_message(&self, text: String) -> Result<(), ClientError> {
///     self.invoker.invoke(ChatRoomCall::SendMessage((text,)), |ret| match ret {
///         ChatRoomReturn::SendMessage(value) => Some(value),
///         _ => None,
///     }).await
/// }
/// ```
pub trait Invoker<A: Actor>: Send + Sync + 'static {
    /// Runs one call; `unwrap` picks the call's own variant out of a typed return.
    fn invoke<R: DeserializeOwned + Send + 'static>(
        &self,
        call: A::Call,
        unwrap: fn(A::Return) -> Option<R>,
    ) -> impl Future<Output = Result<R, ClientError>> + Send;
}
