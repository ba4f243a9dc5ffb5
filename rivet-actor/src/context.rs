//! Contexts handed to hooks and actions. Each one lends exactly what its hook may touch:
//! the state is the method's receiver, everything else (vars, connection, events) is here.

use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Mutex};

use crate::actor::{Actor, Event};
use crate::conn::{Conn, ConnId, ConnRef, Request};
use crate::value::Value;

/// Who an actor instance is: its id, type name and key; and the registry's shared data.
pub(crate) struct ActorMeta {
    pub(crate) id: Arc<str>,
    pub(crate) name: &'static str,
    pub(crate) key: Arc<[String]>,
    pub(crate) data: Arc<SharedData>,
}

/// Values given to [`RegistryBuilder::data`](crate::RegistryBuilder::data), by type: the
/// way to hand hooks configuration and clients (a verifier, an HTTP client, a URL).
#[derive(Default)]
pub struct SharedData {
    values: std::collections::HashMap<std::any::TypeId, Box<dyn std::any::Any + Send + Sync>>,
}

impl SharedData {
    pub(crate) fn insert<T: Send + Sync + 'static>(&mut self, value: T) {
        self.values
            .insert(std::any::TypeId::of::<T>(), Box::new(value));
    }

    /// The value of type `T`, if one was given.
    pub fn get<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.values
            .get(&std::any::TypeId::of::<T>())
            .and_then(|value| value.downcast_ref::<T>())
    }
}

/// Events raised during a turn, delivered only once the turn has succeeded (and its state
/// is durable): a failed turn's events are never seen.
///
/// It also carries the turn's other staged effects — queue messages taken or completed
/// (`runtime/queue.rs`), schedules added or cancelled (`runtime/schedule.rs`) — which are
/// written in the same commit as the state, or undone with it.
pub struct Outbox<A: Actor> {
    pending: Mutex<Vec<Emit<A>>>,
    /// The actor's host, for [`ActorCtx::this`] and the parts below.
    pub(crate) host: Arc<crate::runtime::host::Host<A>>,
    /// The actor's id, as the host knows it.
    pub(crate) actor: crate::ActorId,
    pub(crate) queue: crate::runtime::queue::TurnQueue<A>,
    pub(crate) schedule: crate::runtime::schedule::TurnSchedule<A>,
}

pub(crate) struct Emit<A: Actor> {
    /// `None` broadcasts to subscribers; `Some` sends to one connection.
    pub(crate) to: Option<ConnId>,
    pub(crate) event: A::Event,
    pub(crate) payload: Arc<Value>,
}

impl<A: Actor> Outbox<A> {
    pub(crate) fn new(host: Arc<crate::runtime::host::Host<A>>, actor: crate::ActorId) -> Self {
        Self {
            actor,
            pending: Mutex::new(Vec::new()),
            queue: crate::runtime::queue::TurnQueue::new(Arc::clone(&host)),
            schedule: crate::runtime::schedule::TurnSchedule::new(Arc::clone(&host)),
            host,
        }
    }

    /// Adds the turn's queue and schedule writes to its storage write.
    pub(crate) fn stage(&self, write: &mut crate::storage::ActorWrite) {
        self.queue.stage(write);
        self.schedule.stage(write);
    }

    /// The turn's write is durable: its staged effects take hold.
    pub(crate) fn committed(&self) {
        self.queue.committed(&self.actor);
        self.schedule.committed();
    }

    pub(crate) fn push<E: Event<A>>(&self, to: Option<ConnId>, event: E) {
        match crate::value::to_value(&event) {
            Ok(payload) => self.lock().push(Emit {
                to,
                event: E::TARGET,
                payload: Arc::new(payload),
            }),
            Err(err) => {
                tracing::error!(actor = A::NAME, event = ?E::TARGET, %err, "event could not be encoded; dropped")
            }
        }
    }

    pub(crate) fn take(&self) -> Vec<Emit<A>> {
        std::mem::take(&mut *self.lock())
    }

    /// The turn failed: its events are dropped and its staged effects undone.
    pub(crate) fn clear(&self) {
        self.lock().clear();
        self.queue.abort();
        self.schedule.abort();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Emit<A>>> {
        // A panic while holding this lock cannot leave the Vec half-written.
        self.pending
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }
}

/// The context of `#[create_state]` and `#[create_vars]`: who the actor is.
///
/// ```ignore
/// #[create_state]
/// fn create(c: &CreateCtx<'_>, input: RoomInput) -> Self {
///     Self { name: c.key()[0].clone(), topic: input.topic }
/// }
/// ```
pub struct CreateCtx<'a> {
    pub(crate) meta: &'a ActorMeta,
}

impl<'a> CreateCtx<'a> {
    /// The actor's stable id.
    pub fn actor_id(&self) -> &'a str {
        &self.meta.id
    }

    /// The actor type's wire name.
    pub fn name(&self) -> &'static str {
        self.meta.name
    }

    /// The actor's key.
    pub fn key(&self) -> &'a [String] {
        &self.meta.key
    }

    /// Registry-wide data of type `T` (see [`RegistryBuilder::data`](crate::RegistryBuilder::data)).
    pub fn data<T: Send + Sync + 'static>(&self) -> Option<&'a T> {
        self.meta.data.get::<T>()
    }
}

/// The context of lifecycle hooks (`on_create`, `on_wake`, `on_sleep`, `on_state_change`):
/// the actor's identity, its vars and its events.
pub struct ActorCtx<'a, A: Actor> {
    pub(crate) meta: &'a ActorMeta,
    pub(crate) vars: &'a mut A::Vars,
    pub(crate) outbox: &'a Outbox<A>,
}

impl<'a, A: Actor> ActorCtx<'a, A> {
    /// The actor's stable id.
    pub fn actor_id(&self) -> &str {
        &self.meta.id
    }

    /// The actor type's wire name.
    pub fn name(&self) -> &'static str {
        self.meta.name
    }

    /// The actor's key.
    pub fn key(&self) -> &[String] {
        &self.meta.key
    }

    /// The ephemeral vars made by `#[create_vars]`.
    pub fn vars(&self) -> &A::Vars {
        self.vars
    }

    /// Registry-wide data of type `T` (see [`RegistryBuilder::data`](crate::RegistryBuilder::data)).
    pub fn data<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.meta.data.get::<T>()
    }

    /// The ephemeral vars, mutably.
    pub fn vars_mut(&mut self) -> &mut A::Vars {
        self.vars
    }

    /// The actor's typed client to itself: each call is a turn of its own, run as the actor
    /// (no connection, no `can_invoke`), queued behind the current turn.
    ///
    /// For tasks the actor spawns (a raw WebSocket's task, a timer) and its `#[run]` loop.
    /// Awaiting such a call *inside* a turn waits for a turn that cannot start until this
    /// one ends: spawn the call instead.
    ///
    /// ```ignore
    /// let this = c.this();
    /// tokio::spawn(async move { this.send_message("tick".into()).await });
    /// ```
    pub fn this(&self) -> crate::client::This<A> {
        crate::client::This::new(
            self.outbox.host.clone(),
            crate::ActorId(self.meta.id.clone()),
        )
    }

    /// Sends a declared event to every connection subscribed to it, once this turn has
    /// succeeded. Broadcasting a type not declared in `#[actor(events(..))]` does not compile.
    pub fn broadcast<E: Event<A>>(&self, event: E) {
        self.outbox.push(None, event);
    }
}

/// The context of an action, `on_connect` and `on_disconnect`: everything of [`ActorCtx`]
/// (through `Deref`) plus the connection on whose behalf the turn runs.
pub struct ActionCtx<'a, A: Actor> {
    pub(crate) actor: ActorCtx<'a, A>,
    pub(crate) conn: Option<&'a Conn<A>>,
}

impl<'a, A: Actor> ActionCtx<'a, A> {
    /// The calling connection.
    ///
    /// # Panics
    /// When the turn was not started by a connection (a scheduled action); use
    /// [`ActionCtx::try_conn`] where that can happen. A panic in a turn reaches the client as
    /// an internal error and reloads the actor from its last saved state.
    pub fn conn(&self) -> ConnRef<'_, A> {
        self.try_conn()
            .expect("ActionCtx::conn called in a turn that no connection started; use try_conn")
    }

    /// The calling connection, if a connection started this turn.
    pub fn try_conn(&self) -> Option<ConnRef<'_, A>> {
        self.conn.map(|conn| ConnRef {
            conn,
            outbox: self.actor.outbox,
        })
    }
}

impl<'a, A: Actor> Deref for ActionCtx<'a, A> {
    type Target = ActorCtx<'a, A>;
    fn deref(&self) -> &Self::Target {
        &self.actor
    }
}

impl<A: Actor> DerefMut for ActionCtx<'_, A> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.actor
    }
}

/// The context of `#[before_connect]` and `#[conn_state]`: the request, the actor's key and
/// its vars (mutable, e.g. for a rate limiter). The state is the hook's `&self`.
pub struct ConnectCtx<'a, A: Actor> {
    pub(crate) meta: &'a ActorMeta,
    pub(crate) vars: &'a mut A::Vars,
    pub(crate) request: Option<&'a Request>,
    pub(crate) conn_id: &'a ConnId,
}

impl<A: Actor> ConnectCtx<'_, A> {
    /// The actor's stable id.
    pub fn actor_id(&self) -> &str {
        &self.meta.id
    }

    /// The actor's key.
    pub fn key(&self) -> &[String] {
        &self.meta.key
    }

    /// The id the connection will have if accepted.
    pub fn conn_id(&self) -> &ConnId {
        self.conn_id
    }

    /// The HTTP request behind the connection (the stateless call's request, or the
    /// WebSocket upgrade). `None` for in-process connections made without one.
    pub fn request(&self) -> Option<&Request> {
        self.request
    }

    /// The request's `Origin` header.
    pub fn origin(&self) -> Option<&str> {
        self.request.and_then(Request::origin)
    }

    /// Registry-wide data of type `T` (see [`RegistryBuilder::data`](crate::RegistryBuilder::data)).
    pub fn data<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.meta.data.get::<T>()
    }

    /// The ephemeral vars.
    pub fn vars(&self) -> &A::Vars {
        self.vars
    }

    /// The ephemeral vars, mutably.
    pub fn vars_mut(&mut self) -> &mut A::Vars {
        self.vars
    }
}

/// The context of `#[can_invoke]`: the calling connection and a read-only view of the actor.
pub struct ConnCtx<'a, A: Actor> {
    pub(crate) meta: &'a ActorMeta,
    pub(crate) vars: &'a A::Vars,
    pub(crate) conn: &'a Conn<A>,
}

impl<'a, A: Actor> ConnCtx<'a, A> {
    /// The actor's stable id.
    pub fn actor_id(&self) -> &str {
        &self.meta.id
    }

    /// The actor's key.
    pub fn key(&self) -> &[String] {
        &self.meta.key
    }

    /// The calling connection.
    pub fn conn(&self) -> &'a Conn<A> {
        self.conn
    }

    /// Registry-wide data of type `T` (see [`RegistryBuilder::data`](crate::RegistryBuilder::data)).
    pub fn data<T: Send + Sync + 'static>(&self) -> Option<&'a T> {
        self.meta.data.get::<T>()
    }

    /// The ephemeral vars.
    pub fn vars(&self) -> &A::Vars {
        self.vars
    }
}
