//! Connections: who is calling, with what params and per-connection state.

use std::fmt;
use std::sync::Arc;

use serde::Deserialize;

use crate::actor::{Actor, Event};
use crate::context::effects::{self, TurnEffects};

/// A connection's id, unique within the process.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId(pub(crate) Arc<str>);

impl ConnId {
    /// A fresh random id.
    pub(crate) fn new() -> Self {
        ConnId(crate::ids::new_id().into())
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

// Connections are looked up by the id's text (`ActionCtx::find_conn`); the derived `Hash`
// and `Eq` of `Arc<str>` are those of `str`.
impl std::borrow::Borrow<str> for ConnId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ConnId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for ConnId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One accepted connection of actor `A`: its id, the params it sent and the state
/// `#[conn_state]` made for it.
pub struct Conn<A: Actor> {
    pub(crate) id: ConnId,
    pub(crate) params: Arc<A::ConnParams>,
    pub(crate) state: A::ConnState,
    pub(crate) extensions: Vec<crate::guard::Extension>,
}

impl<A: Actor> Conn<A> {
    /// The connection's id.
    pub fn id(&self) -> &ConnId {
        &self.id
    }

    /// The params the client sent when it connected.
    pub fn params(&self) -> &A::ConnParams {
        &self.params
    }

    /// The state `#[conn_state]` made for this connection.
    pub fn state(&self) -> &A::ConnState {
        &self.state
    }

    /// What a registry guard ([`crate::guard::ConnectGuard`]) learned about this
    /// connection, by its type.
    pub fn extension<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.extensions
            .iter()
            .find_map(|ext| ext.downcast_ref::<T>())
    }
}

/// A connection seen from inside a turn: read its state, or send it an event.
pub struct ConnRef<'a, A: Actor> {
    pub(crate) conn: &'a Conn<A>,
    pub(crate) effects: &'a dyn TurnEffects<A>,
}

impl<'a, A: Actor> ConnRef<'a, A> {
    /// The connection's id.
    pub fn id(&self) -> &'a ConnId {
        &self.conn.id
    }

    /// The params the client sent when it connected.
    pub fn params(&self) -> &'a A::ConnParams {
        &self.conn.params
    }

    /// The state `#[conn_state]` made for this connection.
    pub fn state(&self) -> &'a A::ConnState {
        &self.conn.state
    }

    /// What a registry guard learned about this connection, by its type.
    pub fn extension<T: Send + Sync + 'static>(&self) -> Option<&'a T> {
        self.conn.extension::<T>()
    }

    /// Sends a declared event to this connection only (delivered when the turn succeeds).
    pub fn send<E: Event<A>>(&self, event: E) {
        effects::emit(self.effects, Some(self.conn.id.clone()), event);
    }

    /// Closes this connection once the turn has committed (not at all if it fails): what
    /// the turn answered reaches the client first, then the socket closes with code 1000
    /// and `reason`, and `#[on_disconnect]` runs with [`DisconnectReason::Kicked`].
    ///
    /// The npm client reports a reason of the form `group.code` (e.g. `"room.kicked"`) to
    /// its `onError` handlers as an `ActorError`; like RivetKit's, it then reconnects, so a
    /// connection that must stay out is refused by `before_connect` as well.
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// # #[derive(Default, Serialize, Deserialize)] pub struct Room;
    /// # #[actor] impl Room {
    /// #[action]
    /// fn kick(&self, c: &ActionCtx<'_, Self>, id: String) -> bool {
    ///     match c.find_conn(&id) {
    ///         Some(conn) => { conn.disconnect("room.kicked"); true }
    ///         None => false,
    ///     }
    /// }
    /// # }
    /// ```
    pub fn disconnect(&self, reason: impl Into<String>) {
        self.effects.kick(self.conn.id.clone(), reason.into());
    }
}

/// Why a connection ended, as `#[on_disconnect]` learns it from
/// [`ActionCtx::disconnect_reason`](crate::ActionCtx::disconnect_reason).
///
/// ```
/// use rivet_actor::prelude::*;
/// use rivet_actor::conn::DisconnectReason;
///
/// #[derive(Default, Serialize, Deserialize)]
/// pub struct Room { left: Vec<String> }
///
/// #[actor]
/// impl Room {
///     #[on_disconnect]
///     fn left(&mut self, c: &mut ActionCtx<'_, Self>) {
///         let why = match c.disconnect_reason() {
///             Some(DisconnectReason::Kicked(reason)) => format!("kicked: {reason}"),
///             Some(other) => format!("{other:?}"),
///             None => "unknown".into(),
///         };
///         self.left.push(why);
///     }
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DisconnectReason {
    /// The client closed the connection (for a stateless call: its request ended).
    ClientClosed,
    /// The actor closed it with [`ConnRef::disconnect`], giving this reason.
    Kicked(String),
    /// The client stopped answering pings.
    TimedOut,
    /// The connection fell too far behind on its events and was cut off.
    SlowConsumer,
    /// The actor is going to sleep or being destroyed, or the server is shutting down.
    ActorStopping,
    /// The connection failed (a frame over the size limit, a broken socket).
    Failed,
}

/// The HTTP request behind a connection: what `before_connect` sees of headers and origin.
///
/// ```
/// let req = rivet_actor::Request::new().header("origin", "https://myapp.com");
/// assert_eq!(req.origin(), Some("https://myapp.com"));
/// ```
#[derive(Clone, Debug, Default)]
pub struct Request {
    /// The request method (`POST` for stateless actions, `GET` for WebSocket upgrades).
    pub method: http::Method,
    /// The path and query of the request.
    pub uri: http::Uri,
    /// The request headers.
    pub headers: http::HeaderMap,
    /// The engine's id of the request, when the engine may deliver it again (engine mode).
    pub(crate) replay_id: Option<crate::runtime::replay::ReplayId>,
}

impl Request {
    /// An empty request (what in-process calls carry).
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a header (builder style); invalid names or values are ignored.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(name.as_bytes()),
            http::HeaderValue::from_str(value),
        ) {
            self.headers.append(name, value);
        }
        self
    }

    /// The `Origin` header, if present and valid text.
    pub fn origin(&self) -> Option<&str> {
        self.header_str("origin")
    }

    /// A header's value as text.
    pub fn header_str(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// The params type of an actor without connect hooks: accepts and ignores anything.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NoParams;

impl<'de> Deserialize<'de> for NoParams {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        serde::de::IgnoredAny::deserialize(deserializer).map(|_| NoParams)
    }
}

impl serde::Serialize for NoParams {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_unit()
    }
}
