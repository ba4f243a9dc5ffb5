//! The executor: one task per live actor instance, one turn at a time.
//!
//! `host::Host` addresses instances of one actor type by key or id and starts their
//! tasks; `instance` runs a task's turns (connect pipeline, `can_invoke`, dispatch,
//! persistence, event delivery) and survives panics in user code.

pub(crate) mod command;
pub(crate) mod erased;
pub(crate) mod host;
pub(crate) mod instance;
pub(crate) mod lookup;
pub(crate) mod queue;
pub(crate) mod raw;
pub(crate) mod run_loop;
pub(crate) mod schedule;
pub(crate) mod self_call;
pub(crate) mod turn;

use std::sync::Arc;

use crate::value::Value;

pub use erased::{ErasedActor, ErasedLookup, Pending};
pub use host::HostConfig;
pub use lookup::{ActorId, Key};

/// What an instance pushes to a connection outside of action replies.
#[derive(Clone, Debug)]
pub enum Outbound {
    /// A declared event: its wire name and its single argument.
    Event {
        /// The event's wire name.
        name: &'static str,
        /// The event value (the wire's `args` is `[payload]`).
        payload: Arc<Value>,
    },
    /// The actor closed the connection (it was destroyed or failed to restart).
    Close(crate::ActorError),
}

/// The channel an instance pushes a connection's [`Outbound`] messages into.
pub type Sink = tokio::sync::mpsc::UnboundedSender<Outbound>;
