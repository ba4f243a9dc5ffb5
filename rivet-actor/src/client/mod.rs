//! Clients of actors. The typed methods are generated per actor (`ChatRoomMethods`) over
//! an [`Invoker`]; this module holds the transports they run on.
//!
//! - [`Client`] → [`ActorHandle`] (stateless calls over HTTP) / [`ActorConn`] (one
//!   WebSocket): over the network, in RivetKit's protocol.
//! - [`LocalHandle`] / [`LocalConn`]: in-process, through the same pipeline as the network
//!   (connect hooks, `can_invoke`, dispatch), with typed calls that are never serialized.

mod events;
mod kept_mailbox;
mod local;
pub mod net;

pub use crate::actor::Invoker;
pub use crate::context::This;
pub use events::{EVENT_STREAM_CAPACITY, EventStream};
pub use local::{LocalConn, LocalHandle, LocalInvoker};
pub use net::{ActorConn, ActorHandle, Client, ConnStatus};
