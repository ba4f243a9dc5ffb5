//! The [`Actor`] trait that `#[actor]` implements, and the generated target enums it names.
//!
//! Users do not implement these by hand: `#[actor]` writes them from the annotated impl
//! block. They are public so that generated code in the user's crate can name them.

use std::fmt::Debug;
use std::future::Future;
use std::hash::Hash;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::context::{ActionCtx, ActorCtx, ConnCtx, ConnectCtx, CreateCtx};
use crate::error::{ClientError, Error};
use crate::value::Value;

/// A kind of inbound target of one actor (its actions, events or queues): a generated
/// field-less enum with one variant per declared item.
pub trait Target: Copy + Eq + Hash + Debug + Send + Sync + 'static {
    /// Every variant, in declaration order.
    const ALL: &'static [Self];

    /// The wire name (`sendMessage` for `send_message`).
    fn name(self) -> &'static str;

    /// The variant with that wire name.
    fn from_name(name: &str) -> Option<Self>;

    /// The variant's position in [`Target::ALL`]; used for bitsets.
    fn index(self) -> usize;
}

/// The generated enum of one actor's actions.
pub trait ActionTarget: Target {
    /// Whether the action takes `&self`: such a turn cannot change the state (it may still
    /// write through its context: a queue message, a schedule, kv rows).
    fn is_read_only(self) -> bool;
}

/// What `can_invoke` decides on: the kind of inbound invocation and, where it has one, its
/// declared target. Matching on the generated enums means a misspelt target does not compile.
///
/// ```
/// # use rivet_actor::prelude::*;
/// # #[derive(Serialize, Deserialize)] struct NewMessage { text: String }
/// # #[derive(Default, Serialize, Deserialize)] struct ChatRoom;
/// # #[actor(events(new_message = NewMessage))] impl ChatRoom {
/// # #[action] fn send_message(&mut self, c: &mut ActionCtx<'_, Self>, text: String) {
/// #     c.broadcast(NewMessage { text });
/// # }
/// # #[action] fn clear(&mut self) {}
/// #[can_invoke]
/// fn allow(&self, invoke: Invoke<Self>) -> bool {
///     match invoke {
///         Invoke::Action(ChatRoomAction::SendMessage) => true,
///         Invoke::Subscribe(ChatRoomEvent::NewMessage) => true,
///         _ => false,
///     }
/// }
/// # }
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// # let test = ActorTest::<ChatRoom>::new(); let room = test.get_or_create("r").await.unwrap();
/// # room.send_message("hi".into()).await.unwrap();
/// # assert!(room.clear().await.unwrap_err().is_forbidden());
/// # });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Invoke<A: Actor> {
    /// An action call.
    Action(A::Action),
    /// A message sent to a queue.
    Queue(A::Queue),
    /// A subscription to an event.
    Subscribe(A::Event),
    /// A raw HTTP request to the actor's request handler.
    Request,
    /// A raw WebSocket to the actor's WebSocket handler.
    WebSocket,
}

impl<A: Actor> Invoke<A> {
    /// `action`, `queue`, `subscribe`, `request` or `websocket`, as in RivetKit.
    pub fn kind(&self) -> &'static str {
        match self {
            Invoke::Action(_) => "action",
            Invoke::Queue(_) => "queue",
            Invoke::Subscribe(_) => "subscribe",
            Invoke::Request => "request",
            Invoke::WebSocket => "websocket",
        }
    }

    /// The target's wire name, for kinds that have one.
    pub fn name(&self) -> Option<&'static str> {
        match self {
            Invoke::Action(a) => Some(a.name()),
            Invoke::Queue(q) => Some(q.name()),
            Invoke::Subscribe(e) => Some(e.name()),
            Invoke::Request | Invoke::WebSocket => None,
        }
    }
}

/// A declared event of actor `A`: only types declared in `#[actor(events(..))]` implement
/// it, so broadcasting anything else does not compile.
pub trait Event<A: Actor>: Serialize + DeserializeOwned + Send + 'static {
    /// The event's target in `A`'s event enum.
    const TARGET: A::Event;
}

/// A declared queue of actor `A`, implemented on its message type: only types declared in
/// `#[actor(queues(..))]` implement it, so sending anything else does not compile.
pub trait Queue<A: Actor>: Serialize + DeserializeOwned + Send + 'static {
    /// What a consumer answers a message with (`()` when the queue declares none).
    type Completion: Serialize + DeserializeOwned + Send + 'static;
    /// The queue's target in `A`'s queue enum.
    const TARGET: A::Queue;
}

/// One typed call of an action of `A`: the generated `Call` enum holds each action's
/// arguments as a tuple.
pub trait ActorCall<A: Actor>: Send + 'static {
    /// Which action this call invokes.
    fn action(&self) -> A::Action;

    /// The arguments as the positional wire array.
    fn to_args(&self) -> Result<Vec<Value>, Error>;

    /// Decodes a positional wire array into a typed call of `action`.
    fn from_args(action: A::Action, args: Vec<Value>) -> Result<Self, crate::ActorError>
    where
        Self: Sized;
}

/// One action's return value, typed: the generated `Return` enum.
pub trait ActorReturn: Send + 'static {
    /// Encodes the value for the wire.
    fn to_value(&self) -> Result<Value, Error>;
}

/// A stateful, keyed actor. Implemented by `#[actor]` on the state type's impl block.
///
/// Every method has the meaning of the hook of the same name; the default bodies are what
/// an actor without that hook does.
///
/// Its options (`#[actor(name = .., origins = [..])]`) that are not wire-level live in the
/// supertrait `ActorOptions`, which the macro implements on whichever of the struct or the
/// impl block carries them.
pub trait Actor:
    Serialize + DeserializeOwned + Send + Sync + Sized + crate::__private::ActorOptions + 'static
{
    /// Wire name: `ChatRoom` is `chatRoom`.
    const NAME: &'static str;

    /// The input given to `create`/`get_or_create`, passed to `#[create_state]`.
    type Input: Serialize + DeserializeOwned + Send + 'static;
    /// Parameters a client sends when it connects, read by `#[before_connect]`/`#[conn_state]`.
    type ConnParams: DeserializeOwned + Send + Sync + 'static;
    /// Per-connection state made by `#[conn_state]`.
    type ConnState: Send + Sync + 'static;
    /// Ephemeral variables made by `#[create_vars]`; never persisted.
    type Vars: Send + Sync + 'static;
    /// The generated enum of actions.
    type Action: ActionTarget;
    /// The generated enum of declared events.
    type Event: Target;
    /// The generated enum of declared queues.
    type Queue: Target;
    /// The generated enum of typed calls.
    type Call: ActorCall<Self>;
    /// The generated enum of typed returns.
    type Return: ActorReturn;
    /// The generated typed client methods over any transport.
    type Methods<I: Invoker<Self>>: From<I> + Send + Sync;

    /// Makes the initial state (`#[create_state]`, else `Default`).
    fn create_state(
        ctx: &CreateCtx<'_>,
        input: Self::Input,
    ) -> impl Future<Output = Result<Self, Error>> + Send;

    /// Turns stored state that no longer decodes as `Self` into `Self` (`#[on_migrate]`).
    /// `old` is the stored state as a generic value. Without the hook (`None`), such an actor
    /// fails to start with an error naming it and the cause, and its stored bytes stay as
    /// they are.
    fn on_migrate(old: Value) -> Option<impl Future<Output = Result<Self, Error>> + Send> {
        let _ = old;
        None::<std::future::Ready<Result<Self, Error>>>
    }

    /// Makes the ephemeral vars on every start (`#[create_vars]`).
    fn create_vars(
        &self,
        ctx: &CreateCtx<'_>,
    ) -> impl Future<Output = Result<Self::Vars, Error>> + Send;

    /// Runs once in the actor's lifetime, after `create_state`.
    fn on_create(
        &mut self,
        ctx: &mut ActorCtx<'_, Self>,
    ) -> impl Future<Output = Result<(), Error>> + Send {
        let _ = ctx;
        async { Ok(()) }
    }

    /// Runs on every start of an instance, after `create_vars`.
    fn on_wake(
        &mut self,
        ctx: &mut ActorCtx<'_, Self>,
    ) -> impl Future<Output = Result<(), Error>> + Send {
        let _ = ctx;
        async { Ok(()) }
    }

    /// Runs before an instance goes to sleep.
    fn on_sleep(
        &mut self,
        ctx: &mut ActorCtx<'_, Self>,
    ) -> impl Future<Output = Result<(), Error>> + Send {
        let _ = ctx;
        async { Ok(()) }
    }

    /// Runs once when the actor is destroyed, before its storage is removed (its
    /// connections are still open; a failure is logged and the destroy goes on).
    fn on_destroy(
        &mut self,
        ctx: &mut ActorCtx<'_, Self>,
    ) -> impl Future<Output = Result<(), Error>> + Send {
        let _ = ctx;
        async { Ok(()) }
    }

    /// Runs after a turn changed the state.
    fn on_state_change(&self, ctx: &ActorCtx<'_, Self>) -> impl Future<Output = ()> + Send {
        let _ = ctx;
        async {}
    }

    /// Accepts or rejects a connection before anything else of it exists.
    fn before_connect(
        &self,
        ctx: &mut ConnectCtx<'_, Self>,
        params: &Self::ConnParams,
    ) -> impl Future<Output = Result<(), Error>> + Send {
        let _ = (ctx, params);
        async { Ok(()) }
    }

    /// Makes the connection's state; failing rejects the connection.
    fn conn_state(
        &self,
        ctx: &mut ConnectCtx<'_, Self>,
        params: &Self::ConnParams,
    ) -> impl Future<Output = Result<Self::ConnState, Error>> + Send;

    /// Runs once a connection is accepted.
    fn on_connect(
        &mut self,
        ctx: &mut ActionCtx<'_, Self>,
    ) -> impl Future<Output = Result<(), Error>> + Send {
        let _ = ctx;
        async { Ok(()) }
    }

    /// Runs when a connection goes away.
    fn on_disconnect(
        &mut self,
        ctx: &mut ActionCtx<'_, Self>,
    ) -> impl Future<Output = Result<(), Error>> + Send {
        let _ = ctx;
        async { Ok(()) }
    }

    /// Whether `on_connect` may change the state (`#[on_connect]` takes `&mut self`). Only
    /// then is the state encoded and compared after a connect turn: with a large state that
    /// is most of a stateless HTTP call's cost.
    const ON_CONNECT_MUTATES: bool = false;

    /// Whether `on_disconnect` may change the state (as [`Actor::ON_CONNECT_MUTATES`]).
    const ON_DISCONNECT_MUTATES: bool = false;

    /// Whether `on_request` may change the state (as [`Actor::ON_CONNECT_MUTATES`]).
    const ON_REQUEST_MUTATES: bool = false;

    /// Whether `on_websocket` may change the state (as [`Actor::ON_CONNECT_MUTATES`]).
    const ON_WEBSOCKET_MUTATES: bool = false;

    /// Whether `#[before_connect]` takes no `self` and so runs outside the turn
    /// ([`Actor::before_connect_detached`]).
    const BEFORE_CONNECT_DETACHED: bool = false;

    /// `#[before_connect]` without `self`: run outside the actor's turn, concurrently.
    fn before_connect_detached(
        ctx: &crate::context::PreConnectCtx<'_, Self>,
        params: &Self::ConnParams,
    ) -> impl Future<Output = Result<(), Error>> + Send {
        let _ = (ctx, params);
        async { Ok(()) }
    }

    /// Whether `#[conn_state]` takes no `self` and so runs outside the turn
    /// ([`Actor::conn_state_detached`]).
    const CONN_STATE_DETACHED: bool = false;

    /// `#[conn_state]` without `self`: run outside the actor's turn, concurrently.
    fn conn_state_detached(
        ctx: &crate::context::PreConnectCtx<'_, Self>,
        params: &Self::ConnParams,
    ) -> impl Future<Output = Result<Option<Self::ConnState>, Error>> + Send {
        let _ = (ctx, params);
        async { Ok(None) }
    }

    /// Decides whether a connection may invoke a target; `false` answers `auth.forbidden`.
    fn can_invoke(
        &self,
        ctx: &ConnCtx<'_, Self>,
        invoke: Invoke<Self>,
    ) -> impl Future<Output = bool> + Send {
        let _ = (ctx, invoke);
        async { true }
    }

    /// Decides whether a connection may subscribe to `event` (`#[can_subscribe(event)]`);
    /// runs after [`Actor::can_invoke`] allowed it. `false` answers `auth.forbidden`.
    fn can_subscribe(
        &self,
        ctx: &ConnCtx<'_, Self>,
        event: Self::Event,
    ) -> impl Future<Output = bool> + Send {
        let _ = (ctx, event);
        async { true }
    }

    /// Decides whether a connection may send to `queue` (`#[can_publish(queue)]`); runs
    /// after [`Actor::can_invoke`] allowed it. `false` answers `auth.forbidden`.
    fn can_publish(
        &self,
        ctx: &ConnCtx<'_, Self>,
        queue: Self::Queue,
    ) -> impl Future<Output = bool> + Send {
        let _ = (ctx, queue);
        async { true }
    }

    /// Whether the actor has an `#[on_request]` handler; without one, raw requests answer
    /// `actor.request_handler_not_found` (404) before any hook runs.
    const HANDLES_REQUESTS: bool = false;

    /// Answers a raw HTTP request to `/gateway/{actor}/request/<path>` (`#[on_request]`), as
    /// one turn on the request's throwaway connection.
    fn on_request(
        &mut self,
        ctx: &mut ActionCtx<'_, Self>,
        request: crate::raw::RawRequest,
    ) -> impl Future<Output = Result<crate::raw::RawResponse, Error>> + Send {
        let _ = (ctx, request);
        async { Err(Error::internal("this actor has no #[on_request] handler")) }
    }

    /// Whether the actor has an `#[on_websocket]` handler; without one, raw WebSockets are
    /// refused with `actor.websocket_handler_not_found` before any hook runs.
    const HANDLES_WEBSOCKETS: bool = false;

    /// Takes a raw WebSocket opened at `/gateway/{actor}/websocket/<path>`
    /// (`#[on_websocket]`), as one turn on the socket's connection. The socket outlives the
    /// turn: the handler typically spawns a task that owns it.
    fn on_websocket(
        &mut self,
        ctx: &mut ActionCtx<'_, Self>,
        socket: crate::raw::RawWebSocket,
    ) -> impl Future<Output = Result<(), Error>> + Send {
        let _ = (ctx, socket);
        async { Err(Error::internal("this actor has no #[on_websocket] handler")) }
    }

    /// Whether the actor has a `#[run]` loop. Set by `#[actor]`: [`Actor::run`] is started
    /// only when this is `true`.
    const HAS_RUN: bool = false;

    /// Whether the actor has an `#[on_state_change]` hook (a turn that changed the state
    /// runs nothing more when it has none). Set by `#[actor]`: [`Actor::on_state_change`]
    /// is called only when this is `true`.
    const HAS_ON_STATE_CHANGE: bool = false;

    /// The actor's background loop (`#[run]`): started after every wake, beside the turns,
    /// stopped before the actor sleeps. It reaches the state only through turns it asks for.
    fn run(ctx: crate::queue::RunCtx<Self>) -> impl Future<Output = Result<(), Error>> + Send {
        let _ = ctx;
        async { Ok(()) }
    }

    /// Runs one action: an exhaustive `match` over the typed call.
    fn dispatch(
        &mut self,
        ctx: &mut ActionCtx<'_, Self>,
        call: Self::Call,
    ) -> impl Future<Output = Result<Self::Return, Error>> + Send;

    /// Describes the actor's actions, events and queues and their types, for
    /// [`Registry::typescript`](crate::Registry::typescript). Generated by `#[actor]`.
    #[doc(hidden)]
    fn describe(d: &mut crate::typescript::Describe) {
        let _ = d;
    }

    /// Whether this actor declares a `#[before_connect]` or `#[conn_state]` hook, i.e.
    /// whether connection params are read at all. Without hooks, params are ignored.
    const READS_PARAMS: bool = false;
}

/// A transport that carries typed calls of actor `A`: the generated client methods
/// (`ChatRoomMethods<I: Invoker<ChatRoom>>`) call it, whatever carries the call —
/// in-process ([`LocalHandle`](crate::LocalHandle), [`This`](crate::context::This)) or the
/// network ([`ActorHandle`](crate::ActorHandle), [`ActorConn`](crate::ActorConn)).
///
/// A generated method looks like this:
///
/// ```
/// # use rivet_actor::prelude::*;
/// # use rivet_actor::Invoker;
/// # #[derive(Default, Serialize, Deserialize)] pub struct ChatRoom;
/// # #[actor] impl ChatRoom { #[action] fn send_message(&mut self, text: String) {} }
/// # struct Methods<I> { invoker: I }
/// # impl<I: Invoker<ChatRoom>> Methods<I> {
/// pub async fn send_message(&self, text: String) -> Result<(), ClientError> {
///     self.invoker.invoke(ChatRoomCall::SendMessage((text,)), |ret| match ret {
///         ChatRoomReturn::SendMessage(value) => Some(value),
///     }).await
/// }
/// # }
/// ```
pub trait Invoker<A: Actor>: Send + Sync + 'static {
    /// Runs one call; `unwrap` picks the call's own variant out of a typed return.
    fn invoke<R: DeserializeOwned + Send + 'static>(
        &self,
        call: A::Call,
        unwrap: fn(A::Return) -> Option<R>,
    ) -> impl Future<Output = Result<R, ClientError>> + Send;
}
