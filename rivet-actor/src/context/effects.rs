//! What a turn's contexts ask of the executor, as traits the runtime implements.
//!
//! The contexts (and [`ConnRef`](crate::ConnRef), [`TurnQueues`](crate::queue::TurnQueues),
//! [`Schedules`](crate::schedule::Schedules), [`RunCtx`](crate::queue::RunCtx)) hold these
//! trait objects instead of the runtime's types, so the author-facing modules import
//! nothing of `runtime/` and the runtime is free to change how it stages a turn's effects.

use std::time::SystemTime;

use crate::actor::{Actor, Event};
use crate::conn::{Conn, ConnId};
use crate::context::ActionCtx;
use crate::context::This;
use crate::context::client::{ActorClient, Origin};
use crate::context::lifecycle::{AwakeHold, Background, Exit, Stopping};
use crate::error::{ActorError, Error};
use crate::naming::{ActorId, Lookup};
use crate::queue::{Draw, Taken};
use crate::schedule::Scheduled;
use crate::storage::{BoxFuture, KvPair, KvScan};
use crate::value::Value;

/// How a queue message ended, for a sender waiting on it: the consumer's response (if any),
/// or why it could not be consumed.
pub(crate) type Completion = Result<Option<Value>, ActorError>;

/// The effects of the turn in progress: events to deliver, queue messages taken and
/// completed, schedules added and cancelled. All of them take hold only if the turn
/// commits (`runtime/turn.rs`).
pub(crate) trait TurnEffects<A: Actor>: Send + Sync {
    /// Stages an event: `None` broadcasts to subscribers, `Some` sends to one connection.
    fn emit(&self, to: Option<ConnId>, event: A::Event, payload: Value);
    /// Takes up to `max` of the oldest waiting messages of `queue`.
    fn take_queued(&self, queue: A::Queue, max: usize) -> Vec<Taken>;
    /// Completes a message taken in this turn; `false` if this turn did not take it.
    fn complete_queued(&self, seq: u64, outcome: Completion) -> bool;
    /// How many messages wait in `queue` (`None`: in all queues).
    fn waiting(&self, queue: Option<A::Queue>) -> usize;
    /// Stages a message to `queue`, written with the turn; its id.
    fn send_queued(&self, queue: A::Queue, body: Value) -> Result<u64, ActorError>;
    /// Stages a call of `action(args)` at `run_at`; its id.
    fn schedule(
        &self,
        action: A::Action,
        args: Vec<Value>,
        run_at: SystemTime,
    ) -> Result<String, ActorError>;
    /// Stages a cancellation; whether the schedule was pending.
    fn cancel_schedule(&self, id: &str) -> bool;
    /// The pending schedules as this turn sees them, earliest first.
    fn schedules(&self) -> Vec<Scheduled<A>>;
    /// The actor's typed client to itself.
    fn this(&self) -> This<A>;
    /// The turn's view of the actor's key/value rows.
    fn kv(&self) -> Box<dyn KvEffects + '_>;
    /// Asks for the actor to sleep or be destroyed once this turn has committed.
    fn exit(&self, exit: Exit);
    /// Runs `work` in the background; going to sleep waits for it.
    fn wait_until(&self, work: Background);
    /// Keeps the actor from going idle until the hold is dropped.
    fn keep_awake(&self) -> AwakeHold;
    /// The actor's stopping signal.
    fn stopping(&self) -> Stopping;
    /// Closes connection `conn` with `reason` once this turn has committed.
    fn kick(&self, conn: ConnId, reason: String);
    /// The actor's client to the other actors of its registry, made in this turn.
    fn client(&self) -> ActorClient;
    /// The turn's view of the actor's SQL database.
    fn db(&self) -> Box<dyn DbEffects + '_>;
}

/// What [`Db`](crate::db::Db) asks of the executor (`runtime/db.rs`): run statements on
/// the actor's database inside the turn's savepoint.
pub(crate) trait DbEffects: Send + Sync {
    fn run(
        &self,
        f: &mut dyn FnMut(&rusqlite::Connection) -> rusqlite::Result<()>,
    ) -> Result<(), ActorError>;
}

/// The actor types of a registry, for `c.client()` (`runtime/peer.rs`).
pub(crate) trait PeerDirectory: Send + Sync {
    /// The resolver of the actor type with this id: an `Arc<dyn PeerResolver<B>>`.
    fn resolver(&self, type_id: std::any::TypeId) -> Option<&(dyn std::any::Any + Send + Sync)>;
}

/// Finds actors of type `B` and calls them.
pub(crate) trait PeerResolver<B: Actor>: Send + Sync {
    fn resolve(&self, lookup: Lookup<B::Input>) -> BoxFuture<'_, Result<PeerTarget, ActorError>>;
    /// Calls to `target` with `params` (none: what a missing params value decodes to),
    /// made from `origin`.
    fn calls(
        &self,
        target: &PeerTarget,
        params: Option<std::sync::Arc<B::ConnParams>>,
        origin: Option<Origin>,
    ) -> std::sync::Arc<dyn PeerCalls<B>>;
}

/// Where another actor is: awake or stored here, or on another host of the engine (named
/// as its lookup, its input encoded).
#[derive(Clone, Debug)]
pub(crate) enum PeerTarget {
    Local(ActorId),
    Remote(Lookup<crate::value::Value>),
}

/// What a call into another actor answered: typed (in-process) or encoded (from another
/// host).
pub(crate) enum PeerAnswer<B: Actor> {
    Typed(B::Return),
    Encoded(crate::value::Value),
}

/// Typed calls and queue sends into another actor.
pub(crate) trait PeerCalls<B: Actor>: Send + Sync {
    fn call(&self, call: B::Call) -> BoxFuture<'static, Result<PeerAnswer<B>, ActorError>>;
    /// Sends `body` to `queue`; with `wait`, waits up to it for the message's completion
    /// (its response encoded).
    fn queue_send(
        &self,
        queue: B::Queue,
        body: Value,
        wait: Option<std::time::Duration>,
    ) -> BoxFuture<'static, Result<crate::queue::QueueSendResult<Value>, ActorError>>;
}

/// The actor's connections as a turn sees them (`runtime/instance/connections.rs` keeps
/// them).
pub(crate) trait ConnTable<A: Actor>: Send + Sync {
    fn get(&self, id: &str) -> Option<&Conn<A>>;
    fn get_mut(&mut self, id: &str) -> Option<&mut Conn<A>>;
    fn all(&self) -> Box<dyn Iterator<Item = &Conn<A>> + '_>;
}

/// What [`Kv`](crate::kv::Kv) asks of the executor: reads through the turn's staged writes,
/// writes staged into the turn's commit (`runtime/kv.rs`). Keys are the user's encoded keys.
pub(crate) trait KvEffects: Send + Sync {
    fn get(&self, key: Vec<u8>) -> BoxFuture<'_, Result<Option<Vec<u8>>, ActorError>>;
    fn scan(&self, scan: KvScan) -> BoxFuture<'_, Result<Vec<KvPair>, ActorError>>;
    fn put(&self, key: Vec<u8>, value: Vec<u8>) -> Result<(), ActorError>;
    fn delete(&self, key: Vec<u8>) -> Result<(), ActorError>;
    /// Deletes `[start, end)` (no `end`: every key from `start` on).
    fn delete_range(&self, start: Vec<u8>, end: Option<Vec<u8>>) -> Result<(), ActorError>;
}

/// Encodes `event` and stages it; an event that cannot be encoded is logged and dropped
/// (the turn goes on: its other effects do not depend on it).
pub(crate) fn emit<A: Actor, E: Event<A>>(
    effects: &dyn TurnEffects<A>,
    to: Option<ConnId>,
    event: E,
) {
    match crate::value::to_value(&event) {
        Ok(payload) => effects.emit(to, E::TARGET, payload),
        Err(err) => {
            tracing::error!(actor = A::NAME, event = ?E::TARGET, %err, "event could not be encoded; dropped")
        }
    }
}

/// What the `#[run]` loop asks of the executor (`runtime/run_loop.rs`). The messages it
/// takes are held for it until it completes them; any it still holds when it ends answer
/// their senders `queue.consumer_stopped`.
pub(crate) trait RunLoopEffects<A: Actor>: Send + Sync {
    /// Takes up to `max` messages of the queues `draw` admits, oldest first, waiting for one
    /// if `wait`; `None` when the actor is stopping.
    fn take<'a>(
        &'a self,
        draw: Draw<A>,
        max: usize,
        wait: bool,
    ) -> BoxFuture<'a, Option<Vec<Taken>>>;
    /// Completes a message the loop holds (ignored if it holds no such message).
    fn complete(&self, seq: u64, outcome: Completion);
    /// The actor's typed client to itself.
    fn this(&self) -> This<A>;
    /// The actor's client to the other actors of its registry (calls from the loop are
    /// part of no turn).
    fn client(&self) -> ActorClient;
    /// Keeps the actor from going idle until the hold is dropped.
    fn keep_awake(&self) -> AwakeHold;
}

/// Runs typed calls as the actor itself (no connection, no `can_invoke`), each a turn of
/// its own: what [`This`] sends its calls through (`runtime/self_call.rs`).
pub(crate) trait SelfCalls<A: Actor>: Send + Sync + 'static {
    fn call(&self, call: A::Call) -> BoxFuture<'static, Result<A::Return, ActorError>>;
    /// Runs `work` as a turn of its own ([`This::turn`]); its output comes back erased.
    fn turn(&self, work: TurnWork<A>) -> BoxFuture<'static, Result<TurnOutput, ActorError>>;
}

/// A closure run as a turn with the actor's state ([`This::turn`]): its output type erased,
/// so one mailbox command carries any of them.
pub(crate) type TurnWork<A> = Box<
    dyn for<'s, 'c> FnOnce(&'s mut A, &'s mut ActionCtx<'c, A>) -> Result<TurnOutput, Error> + Send,
>;

/// What a [`TurnWork`] returned, erased.
pub(crate) type TurnOutput = Box<dyn std::any::Any + Send>;
