//! Raw HTTP requests (`#[on_request]`) and raw WebSockets (`#[on_websocket]`): the actor's
//! own protocol beside actions and events, behind the same connect pipeline (guards,
//! `before_connect`, `conn_state`, `on_connect`) and `can_invoke` (kinds `request` and
//! `websocket`).
//!
//! ```
//! use rivet_actor::prelude::*;
//! use rivet_actor::raw::RawMessage;
//!
//! #[derive(Default, Serialize, Deserialize)]
//! struct Site { hits: u32, said: Vec<String> }
//!
//! #[actor]
//! impl Site {
//!     #[on_request]
//!     fn http(&mut self, request: RawRequest) -> RawResponse {
//!         self.hits += 1; // committed before the response leaves, like an action's change
//!         RawResponse::new(format!("hit {} at {}", self.hits, request.uri()).into())
//!     }
//!
//!     #[on_websocket]
//!     fn socket(&self, c: &mut ActionCtx<'_, Self>, socket: RawWebSocket) {
//!         // The socket outlives this turn: a task owns it and reaches the actor through
//!         // its own typed client.
//!         let this = c.this();
//!         tokio::spawn(async move {
//!             let (tx, mut rx) = socket.split();
//!             while let Some(RawMessage::Text(text)) = rx.recv().await {
//!                 let count = this.say(text.clone()).await.unwrap_or(0);
//!                 let _ = tx.send(format!("{count}: {text}"));
//!             }
//!         });
//!     }
//!
//!     #[action]
//!     fn say(&mut self, text: String) -> usize {
//!         self.said.push(text);
//!         self.said.len()
//!     }
//! }
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use futures_util::{SinkExt, StreamExt};
//! use tokio_tungstenite::tungstenite::Message;
//!
//! let registry = Registry::builder().in_memory().register::<Site>().build();
//! let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
//! let site = Client::new(server.endpoint()).get_or_create::<Site>(["home"]);
//!
//! let request = rivet_actor::http::Request::get("/docs?page=2").body(Vec::new()).unwrap();
//! let response = site.fetch(request).await.unwrap();
//! assert_eq!(response.body().as_ref(), b"hit 1 at /docs?page=2");
//!
//! let mut socket = site.websocket("/chat").await.unwrap();
//! socket.send(Message::text("hi")).await.unwrap();
//! assert_eq!(socket.next().await.unwrap().unwrap(), Message::text("1: hi"));
//! # server.shutdown().await.unwrap();
//! # });
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};

/// The request an `#[on_request]` handler receives: method, the URI relative to
/// `/gateway/{actor}/request` (the path still percent-encoded as sent, `/` when empty, and
/// the query without the gateway's `rvt-*` parameters), headers and the whole body (at
/// most the server's `max_message_size`; larger bodies are refused with 413).
///
/// ```
/// use rivet_actor::raw::RawRequest;
///
/// let request: RawRequest = rivet_actor::http::Request::post("/notes?draft=1")
///     .body("hello".into())
///     .unwrap();
/// assert_eq!(request.uri().path(), "/notes");
/// ```
pub type RawRequest = http::Request<axum::body::Bytes>;

/// What an `#[on_request]` handler answers: status, headers and body pass to the client.
///
/// ```
/// use rivet_actor::raw::RawResponse;
///
/// let mut response = RawResponse::new("created".into());
/// *response.status_mut() = rivet_actor::http::StatusCode::CREATED;
/// ```
pub type RawResponse = http::Response<axum::body::Bytes>;

/// One WebSocket message.
///
/// ```
/// use rivet_actor::raw::RawMessage;
///
/// assert_eq!(RawMessage::from("hi"), RawMessage::Text("hi".into()));
/// assert_eq!(RawMessage::from(vec![1, 2]), RawMessage::Binary(vec![1, 2].into()));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RawMessage {
    /// A text frame.
    Text(String),
    /// A binary frame.
    Binary(axum::body::Bytes),
}

impl RawMessage {
    /// The message's size in bytes.
    ///
    /// ```
    /// assert_eq!(rivet_actor::raw::RawMessage::from("hey").len(), 3);
    /// ```
    pub fn len(&self) -> usize {
        match self {
            RawMessage::Text(text) => text.len(),
            RawMessage::Binary(bytes) => bytes.len(),
        }
    }

    /// Whether the message is empty.
    ///
    /// ```
    /// assert!(rivet_actor::raw::RawMessage::from("").is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl From<&str> for RawMessage {
    fn from(text: &str) -> Self {
        RawMessage::Text(text.to_owned())
    }
}

impl From<String> for RawMessage {
    fn from(text: String) -> Self {
        RawMessage::Text(text)
    }
}

impl From<Vec<u8>> for RawMessage {
    fn from(bytes: Vec<u8>) -> Self {
        RawMessage::Binary(bytes.into())
    }
}

/// What the actor side sends toward the socket.
#[derive(Debug)]
pub(crate) enum Outgoing {
    Message(RawMessage),
    Close(u16, String),
}

/// The socket is closed: nothing more can be sent.
///
/// ```
/// let closed = rivet_actor::raw::SocketClosed;
/// assert_eq!(closed.to_string(), "the WebSocket is closed");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the WebSocket is closed")]
pub struct SocketClosed;

/// The sending half of a [`RawWebSocket`]; clone it to send from several tasks. Sending
/// never waits: messages queue until the server writes them to the socket — up to the
/// server's bound (`ServerConfig::max_outgoing_bytes`); a client that falls that far behind
/// is cut off (close 1011 `message.slow_consumer`) and sends answer [`SocketClosed`].
///
/// ```
/// # use rivet_actor::prelude::*;
/// # #[derive(Default, Serialize, Deserialize)] struct Ticker;
/// # #[actor] impl Ticker {
/// #[on_websocket]
/// fn socket(&self, socket: RawWebSocket) {
///     let (tx, _rx) = socket.split();
///     tokio::spawn(async move {
///         // Ends when the client goes away.
///         while tx.send("tick").is_ok() {
///             tokio::time::sleep(std::time::Duration::from_secs(1)).await;
///         }
///     });
/// }
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct RawSender {
    tx: mpsc::UnboundedSender<Outgoing>,
    /// Bytes queued and not yet taken by the server, shared with [`OutgoingRx`].
    queued: Arc<AtomicUsize>,
    limit: usize,
    /// A close is queued (asked for, or the client fell too far behind): nothing more is.
    closing: Arc<AtomicBool>,
}

/// The server's end of what the actor sends: takes messages and gives their room back.
#[derive(Debug)]
pub(crate) struct OutgoingRx {
    rx: mpsc::UnboundedReceiver<Outgoing>,
    queued: Arc<AtomicUsize>,
}

impl OutgoingRx {
    pub(crate) async fn recv(&mut self) -> Option<Outgoing> {
        let out = self.rx.recv().await?;
        if let Outgoing::Message(message) = &out {
            self.queued.fetch_sub(message.len(), Ordering::Relaxed);
        }
        Some(out)
    }
}

impl RawSender {
    /// Queues a message for the client; [`SocketClosed`] once the socket is closed.
    pub fn send(&self, message: impl Into<RawMessage>) -> Result<(), SocketClosed> {
        if self.closing.load(Ordering::Relaxed) {
            return Err(SocketClosed);
        }
        let message = message.into();
        let size = message.len();
        if self.queued.fetch_add(size, Ordering::Relaxed) + size > self.limit {
            self.queued.fetch_sub(size, Ordering::Relaxed);
            self.close(1011, "message.slow_consumer");
            return Err(SocketClosed);
        }
        self.tx.send(Outgoing::Message(message)).map_err(|_| {
            self.queued.fetch_sub(size, Ordering::Relaxed);
            SocketClosed
        })
    }

    /// Closes the socket with `code` (e.g. 1000) and `reason` (at most 123 bytes), after
    /// the messages queued before it.
    pub fn close(&self, code: u16, reason: impl Into<String>) {
        // Only the first close is queued: the socket ends with it.
        if !self.closing.swap(true, Ordering::Relaxed) {
            let _ = self.tx.send(Outgoing::Close(code, reason.into()));
        }
    }

    /// Whether the socket is closed, or closing (by either side, or by the server shutting
    /// down).
    pub fn is_closed(&self) -> bool {
        self.closing.load(Ordering::Relaxed) || self.tx.is_closed()
    }
}

/// The receiving half of a [`RawWebSocket`].
///
/// ```
/// # use rivet_actor::prelude::*;
/// # use rivet_actor::raw::RawMessage;
/// # #[derive(Default, Serialize, Deserialize)] struct Sink;
/// # #[actor] impl Sink {
/// #[on_websocket]
/// fn socket(&self, c: &mut ActionCtx<'_, Self>, socket: RawWebSocket) {
///     let this = c.this();
///     let (_tx, mut rx) = socket.split();
///     tokio::spawn(async move {
///         while let Some(message) = rx.recv().await {
///             if let RawMessage::Text(text) = message {
///                 let _ = this.record(text).await;
///             }
///         }
///     });
/// }
/// #[action] fn record(&mut self, _text: String) {}
/// # }
/// ```
#[derive(Debug)]
pub struct RawReceiver {
    /// Each message with its share of the socket's incoming budget, given back when taken.
    rx: mpsc::Receiver<(RawMessage, OwnedSemaphorePermit)>,
}

impl RawReceiver {
    /// The next message from the client; `None` once the socket is closed. Until this is
    /// called, the server stops reading the socket after a few messages, or fewer bytes
    /// than `ServerConfig::max_incoming_bytes` (backpressure).
    pub async fn recv(&mut self) -> Option<RawMessage> {
        self.rx.recv().await.map(|(message, _budget)| message)
    }
}

/// The server's end of a raw socket's messages toward the actor: at most 64 messages and
/// about `max_incoming_bytes` wait there (one message is always let through, however
/// large).
#[derive(Debug)]
pub(crate) struct IncomingTx {
    tx: mpsc::Sender<(RawMessage, OwnedSemaphorePermit)>,
    budget: Arc<Semaphore>,
    limit: u32,
}

/// Room for one message toward the actor.
pub(crate) struct IncomingPermit<'a> {
    slot: mpsc::Permit<'a, (RawMessage, OwnedSemaphorePermit)>,
    bytes: OwnedSemaphorePermit,
}

impl IncomingPermit<'_> {
    pub(crate) fn send(self, message: RawMessage) {
        self.slot.send((message, self.bytes));
    }
}

impl IncomingTx {
    /// Waits for room for a message of `bytes`; `Err` once the actor dropped its receiving
    /// half. Cancel-safe: dropped, it holds nothing.
    pub(crate) async fn reserve(&self, bytes: usize) -> Result<IncomingPermit<'_>, ()> {
        let need = u32::try_from(bytes).unwrap_or(u32::MAX).min(self.limit);
        let budget = self.budget.clone().acquire_many_owned(need).await;
        let bytes = budget.map_err(|_| ())?;
        let slot = self.tx.reserve().await.map_err(|_| ())?;
        Ok(IncomingPermit { slot, bytes })
    }

    /// Resolves once the actor dropped its receiving half.
    pub(crate) async fn closed(&self) {
        self.tx.closed().await
    }
}

/// A raw WebSocket handed to `#[on_websocket]`, after the origin policy, the connect
/// pipeline and `can_invoke(Invoke::WebSocket)`.
///
/// It outlives the handler's turn: spawn a task that owns it (and reaches the actor through
/// `c.this()`; awaiting `recv` inside the handler would hold the actor's turn). The socket's
/// connection stays open in the actor, so the actor does not sleep, until the client closes
/// it, the actor closes it ([`close`](Self::close), or dropping both halves), or the server
/// shuts down; then `on_disconnect` runs. A destroyed actor's sockets close with 1011 and
/// `actor.destroyed`. See the [module example](self).
///
/// ```
/// # use rivet_actor::prelude::*;
/// # #[derive(Default, Serialize, Deserialize)] struct Echo;
/// # #[actor] impl Echo {
/// #[on_websocket]
/// fn socket(&self, mut socket: RawWebSocket) {
///     if socket.uri().path() != "/echo" {
///         return socket.close(4004, "no such socket");
///     }
///     tokio::spawn(async move {
///         while let Some(message) = socket.recv().await {
///             if socket.send(message).is_err() {
///                 break;
///             }
///         }
///     });
/// }
/// # }
/// ```
#[derive(Debug)]
pub struct RawWebSocket {
    sender: RawSender,
    receiver: RawReceiver,
    uri: http::Uri,
    headers: http::HeaderMap,
}

impl RawWebSocket {
    /// A socket and the server's ends of it: messages the client sent go into the returned
    /// sender, what the actor sends comes out of the returned receiver.
    pub(crate) fn pair(
        uri: http::Uri,
        headers: http::HeaderMap,
        limit: usize,
        incoming_limit: usize,
    ) -> (RawWebSocket, IncomingTx, OutgoingRx) {
        // Bounded toward the actor, in messages and in bytes: a client that sends faster
        // than the actor reads is slowed down by the socket, not buffered without limit.
        let (tx, in_rx) = mpsc::channel(64);
        // At most what a semaphore holds (less than 2^32 on 32-bit targets).
        let most = u32::try_from(Semaphore::MAX_PERMITS).unwrap_or(u32::MAX);
        let incoming_limit = u32::try_from(incoming_limit)
            .unwrap_or(u32::MAX)
            .clamp(1, most);
        let in_tx = IncomingTx {
            tx,
            budget: Arc::new(Semaphore::new(incoming_limit as usize)),
            limit: incoming_limit,
        };
        // Toward the client, bounded in bytes (see `RawSender`).
        let (out_tx, out_rx) = mpsc::unbounded_channel();
        let queued = Arc::new(AtomicUsize::new(0));
        let out_rx = OutgoingRx {
            rx: out_rx,
            queued: queued.clone(),
        };
        let socket = RawWebSocket {
            sender: RawSender {
                tx: out_tx,
                queued,
                limit,
                closing: Arc::new(AtomicBool::new(false)),
            },
            receiver: RawReceiver { rx: in_rx },
            uri,
            headers,
        };
        (socket, in_tx, out_rx)
    }

    /// Queues a message for the client; [`SocketClosed`] once the socket is closed.
    pub fn send(&self, message: impl Into<RawMessage>) -> Result<(), SocketClosed> {
        self.sender.send(message)
    }

    /// The next message from the client; `None` once the socket is closed.
    pub async fn recv(&mut self) -> Option<RawMessage> {
        self.receiver.recv().await
    }

    /// Closes the socket with `code` and `reason` (at most 123 bytes).
    pub fn close(&self, code: u16, reason: impl Into<String>) {
        self.sender.close(code, reason)
    }

    /// The path the client opened, relative to `/gateway/{actor}/websocket` (still
    /// percent-encoded, `/` when empty), with the query minus the gateway's `rvt-*`
    /// parameters.
    pub fn uri(&self) -> &http::Uri {
        &self.uri
    }

    /// The upgrade request's headers.
    pub fn headers(&self) -> &http::HeaderMap {
        &self.headers
    }

    /// Splits the socket into halves that can move to different tasks.
    pub fn split(self) -> (RawSender, RawReceiver) {
        (self.sender, self.receiver)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_client_that_falls_behind_the_bound_is_cut_off() {
        let (socket, _incoming, mut outgoing) =
            RawWebSocket::pair(http::Uri::from_static("/"), http::HeaderMap::new(), 10, 10);
        assert!(socket.send("123456").is_ok());
        assert_eq!(socket.send("123456"), Err(SocketClosed));
        assert!(matches!(outgoing.recv().await, Some(Outgoing::Message(_))));
        match outgoing.recv().await {
            Some(Outgoing::Close(code, reason)) => {
                assert_eq!((code, reason.as_str()), (1011, "message.slow_consumer"));
            }
            other => panic!("expected the cut-off, got {other:?}"),
        }
        // Cut off: later sends, however small, fail, and nothing more is queued (not even
        // another close).
        assert_eq!(socket.send("1"), Err(SocketClosed));
        assert_eq!(socket.send("123456"), Err(SocketClosed));
        socket.sender.close(1000, "bye");
        assert!(socket.sender.is_closed());
        assert!(
            outgoing.rx.try_recv().is_err(),
            "something was queued after the cut-off"
        );
        // Taken messages give their room back.
        let (socket, _incoming, mut outgoing) =
            RawWebSocket::pair(http::Uri::from_static("/"), http::HeaderMap::new(), 10, 10);
        for _ in 0..5 {
            assert!(socket.send("123456").is_ok());
            assert!(matches!(outgoing.recv().await, Some(Outgoing::Message(_))));
        }
    }

    #[tokio::test]
    async fn messages_toward_the_actor_are_bounded_in_bytes_and_one_always_passes() {
        let (mut socket, incoming, _outgoing) =
            RawWebSocket::pair(http::Uri::from_static("/"), http::HeaderMap::new(), 10, 10);
        let quick = std::time::Duration::from_millis(20);
        incoming
            .reserve(6)
            .await
            .unwrap()
            .send(RawMessage::Text("123456".into()));
        // 6 of 10 bytes wait: another 6 do not fit until the actor takes the first.
        assert!(
            tokio::time::timeout(quick, incoming.reserve(6))
                .await
                .is_err()
        );
        assert!(matches!(socket.recv().await, Some(RawMessage::Text(_))));
        let permit = tokio::time::timeout(quick, incoming.reserve(6)).await;
        permit
            .expect("room once taken")
            .unwrap()
            .send(RawMessage::Text("abcdef".into()));
        assert!(socket.recv().await.is_some());
        // A message larger than the whole budget still passes, alone.
        let permit = tokio::time::timeout(quick, incoming.reserve(1_000)).await;
        permit
            .expect("one message always passes")
            .unwrap()
            .send(RawMessage::Binary(vec![0; 1_000].into()));
        assert!(
            tokio::time::timeout(quick, incoming.reserve(1))
                .await
                .is_err()
        );
        assert!(socket.recv().await.is_some());
    }
}
