//! Raw HTTP requests (`#[on_request]`) and raw WebSockets (`#[on_websocket]`): the actor's
//! own protocol beside actions and events, behind the same connect pipeline (guards,
//! `before_connect`, `conn_state`, `on_connect`) and `can_invoke` (kinds `request` and
//! `websocket`).
//!
//! ```ignore
//! #[on_request]
//! fn http(&mut self, request: RawRequest) -> RawResponse {
//!     self.hits += 1;
//!     RawResponse::new(format!("hit {} at {}", self.hits, request.uri().path()).into())
//! }
//!
//! #[on_websocket]
//! fn socket(&self, c: &mut ActionCtx<'_, Self>, socket: RawWebSocket) {
//!     let this = c.this();
//!     tokio::spawn(async move {
//!         let (tx, mut rx) = socket.split();
//!         while let Some(message) = rx.recv().await {
//!             if let RawMessage::Text(text) = message {
//!                 let count = this.record(text.clone()).await.unwrap_or(0);
//!                 let _ = tx.send(RawMessage::Text(format!("{count}: {text}")));
//!             }
//!         }
//!     });
//! }
//! ```

use std::sync::Arc;

use tokio::sync::mpsc;

use crate::conn::Request;

/// The request an `#[on_request]` handler receives: method, the URI relative to
/// `/gateway/{actor}/request` (path and the query without the gateway's `rvt-*` parameters),
/// headers and the whole body.
pub type RawRequest = http::Request<axum::body::Bytes>;

/// What an `#[on_request]` handler answers: status, headers and body pass to the client.
pub type RawResponse = http::Response<axum::body::Bytes>;

/// One WebSocket message.
///
/// ```
/// use rivet_actor::raw::RawMessage;
///
/// assert_eq!(RawMessage::from("hi"), RawMessage::Text("hi".into()));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RawMessage {
    /// A text frame.
    Text(String),
    /// A binary frame.
    Binary(axum::body::Bytes),
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

/// The sending half of a [`RawWebSocket`]; clone it to send from several tasks.
#[derive(Clone, Debug)]
pub struct RawSender {
    tx: mpsc::UnboundedSender<Outgoing>,
}

impl RawSender {
    /// Queues a message for the client.
    pub fn send(&self, message: impl Into<RawMessage>) -> Result<(), SocketClosed> {
        self.tx
            .send(Outgoing::Message(message.into()))
            .map_err(|_| SocketClosed)
    }

    /// Closes the socket with `code` (e.g. 1000) and `reason`.
    pub fn close(&self, code: u16, reason: impl Into<String>) {
        let _ = self.tx.send(Outgoing::Close(code, reason.into()));
    }

    /// Whether the socket is closed.
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }
}

/// The receiving half of a [`RawWebSocket`].
#[derive(Debug)]
pub struct RawReceiver {
    rx: mpsc::Receiver<RawMessage>,
}

impl RawReceiver {
    /// The next message from the client; `None` once the client closed the socket.
    pub async fn recv(&mut self) -> Option<RawMessage> {
        self.rx.recv().await
    }
}

/// A raw WebSocket handed to `#[on_websocket]`. It outlives the handler's turn: spawn a task
/// that owns it (and reaches the actor through `c.this()`). The actor keeps the socket's
/// connection (so it does not sleep) until either side closes it; then `on_disconnect` runs.
#[derive(Debug)]
pub struct RawWebSocket {
    sender: RawSender,
    receiver: RawReceiver,
    request: Arc<Request>,
}

impl RawWebSocket {
    /// A socket and the server's ends of it: messages the client sent go into the returned
    /// sender, what the actor sends comes out of the returned receiver.
    pub(crate) fn pair(
        request: Arc<Request>,
    ) -> (
        RawWebSocket,
        mpsc::Sender<RawMessage>,
        mpsc::UnboundedReceiver<Outgoing>,
    ) {
        // Bounded toward the actor: a client that sends faster than the actor reads is
        // slowed down by the socket, not buffered without limit.
        let (in_tx, in_rx) = mpsc::channel(64);
        let (out_tx, out_rx) = mpsc::unbounded_channel();
        let socket = RawWebSocket {
            sender: RawSender { tx: out_tx },
            receiver: RawReceiver { rx: in_rx },
            request,
        };
        (socket, in_tx, out_rx)
    }

    /// Queues a message for the client.
    pub fn send(&self, message: impl Into<RawMessage>) -> Result<(), SocketClosed> {
        self.sender.send(message)
    }

    /// The next message from the client; `None` once the client closed the socket.
    pub async fn recv(&mut self) -> Option<RawMessage> {
        self.receiver.recv().await
    }

    /// Closes the socket with `code` and `reason`.
    pub fn close(&self, code: u16, reason: impl Into<String>) {
        self.sender.close(code, reason)
    }

    /// The path the client opened, relative to `/gateway/{actor}/websocket` (with the query
    /// minus the gateway's `rvt-*` parameters).
    pub fn uri(&self) -> &http::Uri {
        &self.request.uri
    }

    /// The upgrade request's headers.
    pub fn headers(&self) -> &http::HeaderMap {
        &self.request.headers
    }

    /// Splits the socket into halves that can move to different tasks.
    pub fn split(self) -> (RawSender, RawReceiver) {
        (self.sender, self.receiver)
    }
}
