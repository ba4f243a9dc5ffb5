//! The executor: one task per live actor instance, one turn at a time.
//!
//! `host::Host` addresses instances of one actor type by key or id and starts their
//! tasks; `instance` runs a task's turns (connect pipeline, `can_invoke`, dispatch,
//! persistence, event delivery) and survives panics in user code.

pub(crate) mod admission;
pub(crate) mod alarms;
pub(crate) mod awake_keys;
pub(crate) mod call_ids;
pub(crate) mod chunks;
pub(crate) mod command;
pub(crate) mod db;
pub(crate) mod erased;
pub(crate) mod gate;
pub(crate) mod host;
pub(crate) mod instance;
pub(crate) mod kv;
pub(crate) mod lives;
pub(crate) mod lookup;
pub(crate) mod mailbox;
pub(crate) mod on_demand;
pub(crate) mod outbound;
pub(crate) mod park;
pub(crate) mod peer;
pub(crate) mod queue;
pub(crate) mod queue_handover;
pub(crate) mod queue_send;
pub(crate) mod raw;
pub(crate) mod replay;
pub(crate) mod run_loop;
pub(crate) mod schedule;
pub(crate) mod self_call;
pub(crate) mod shutdown;
pub(crate) mod turn;

pub use admission::Admission;
pub use erased::{ErasedActor, ErasedLookup, Pending};
pub use host::HostConfig;
pub use lookup::{ActorId, Key};

pub use outbound::{Outbound, Outlet, Sink};
