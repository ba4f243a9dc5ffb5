//! WebSockets the engine tunnels to this host: an [`EnvoySocket`] is a [`FrameSocket`], so
//! the protocol sessions and raw sockets of our own server run on it unchanged.
//!
//! The envoy calls a socket's callbacks inside its actor task, where nothing may wait: they
//! only push frames into a channel the session reads. The engine accepted the upgrade and
//! answers pings itself, so liveness is its business here.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use rivet_envoy_client::config::{BoxFuture, WebSocketHandler, WebSocketMessage, WebSocketSender};
use tokio::sync::{OwnedSemaphorePermit, mpsc};

use crate::conn::Request;
use crate::protocol::names::{SEGMENT_CONNECT, SEGMENT_WEBSOCKET};
use crate::registry::Registry;
use crate::server::request;
use crate::server::ws::{Frame, FrameSocket, RecvError, close};
use crate::server::{connect, raw};

/// What the engine's callbacks say of a socket.
enum Incoming {
    /// A frame, with the bytes it was counted as.
    Frame(Frame, usize),
    /// A frame over the message size limit, not kept.
    TooLarge,
    Closed,
}

/// Frames a client may have waiting before the session reads them; past it (or past as
/// many bytes as the session itself holds: `max_incoming_bytes` and one message) the
/// socket is closed, since the envoy's callbacks cannot wait for room.
const INCOMING_FRAMES: usize = 256;
/// Bytes sent between two flushes: the session waits for the envoy's socket task to take
/// what it sent. That task hands it on to the envoy's connection writer, whose queue
/// rivet-envoy-client 2.3.19 leaves unbounded, so this paces the session with the envoy but
/// does not bound what a slow engine link holds: outgoing frames in engine mode are bounded
/// by the session's own limits only while the envoy keeps up.
const FLUSH_EVERY: usize = 256 * 1024;

/// A WebSocket tunnelled through the engine.
pub(crate) struct EnvoySocket {
    incoming: mpsc::Receiver<Incoming>,
    /// Bytes of the frames in `incoming`, shared with the envoy's callback.
    waiting: Arc<AtomicUsize>,
    /// Set when the callback cut the client off (`message.backlog`): what it had queued is
    /// not served either.
    cut_off: Arc<AtomicBool>,
    sender: WebSocketSender,
    unflushed: usize,
    write_timeout: std::time::Duration,
    closed: bool,
}

impl FrameSocket for EnvoySocket {
    async fn recv(&mut self) -> Option<Result<Frame, RecvError>> {
        if self.closed || self.cut_off.load(Ordering::Relaxed) {
            self.closed = true;
            return None;
        }
        match self.incoming.recv().await {
            Some(Incoming::Frame(frame, size)) => {
                self.waiting.fetch_sub(size, Ordering::Relaxed);
                Some(Ok(frame))
            }
            Some(Incoming::TooLarge) => Some(Err(RecvError::TooLarge)),
            Some(Incoming::Closed) | None => {
                self.closed = true;
                None
            }
        }
    }

    async fn send(&mut self, frame: Frame) -> bool {
        if self.closed {
            return false;
        }
        self.unflushed += match &frame {
            Frame::Text(text) => text.len(),
            Frame::Binary(bytes) => bytes.len(),
        };
        match frame {
            Frame::Text(text) => self.sender.send(text.into_bytes(), false),
            Frame::Binary(bytes) => self.sender.send(bytes.to_vec(), true),
        }
        if self.unflushed >= FLUSH_EVERY {
            self.unflushed = 0;
            if tokio::time::timeout(self.write_timeout, self.sender.flush())
                .await
                .is_err()
            {
                self.closed = true;
                return false;
            }
        }
        true
    }

    async fn close(&mut self, code: u16, reason: String) {
        self.sender.close(Some(code), Some(reason));
        self.closed = true;
    }

    async fn finish(&mut self) {
        self.sender.close(None, None);
    }

    async fn ping(&mut self) -> bool {
        // The engine keeps the client's socket alive; this side hears of it by `on_close`.
        !self.closed
    }

    fn last_heard(&self) -> std::time::Instant {
        // Silence is not death here (see `ping`).
        std::time::Instant::now()
    }
}

/// The handler for a WebSocket the engine opened to actor `actor_id` at `path`: a protocol
/// session (`/connect`) or the actor's raw socket (`/websocket/…`), started once the engine
/// says the socket is open. A socket the handlers refuse is closed with the reason they give.
pub(crate) fn handler(
    registry: Registry,
    actor_id: &str,
    path: &str,
    headers: &HashMap<String, String>,
    sender: WebSocketSender,
    slot: Option<OwnedSemaphorePermit>,
) -> WebSocketHandler {
    let (tx, rx) = mpsc::channel(INCOMING_FRAMES);
    let config = registry.server_config();
    let limit = config.max_message_size;
    let max_waiting = config.max_incoming_bytes.saturating_add(limit);
    let max_connections = config.max_connections.max(1);
    let waiting = Arc::new(AtomicUsize::new(0));
    let cut_off = Arc::new(AtomicBool::new(false));
    let socket = EnvoySocket {
        incoming: rx,
        waiting: waiting.clone(),
        cut_off: cut_off.clone(),
        sender: sender.clone(),
        unflushed: 0,
        write_timeout: registry.server_config().write_timeout,
        closed: false,
    };
    let uri = crate::engine::http::gateway_uri(actor_id, path);
    let request = Request {
        method: http::Method::GET,
        uri: uri.parse().unwrap_or_else(|_| http::Uri::from_static("/")),
        headers: crate::engine::http::headers(headers),
        // A socket dies with its host; nothing on it is delivered again.
        replay_id: None,
    };
    let serve = Arc::new(Mutex::new(Some((
        registry,
        actor_id.to_owned(),
        socket,
        request,
    ))));
    let on_message_tx = tx.clone();
    let slot = Mutex::new(slot);
    let refuse_tx = sender.clone();
    WebSocketHandler {
        on_open: Some(Box::new(move |_sender| -> BoxFuture<()> {
            let taken = serve.lock().unwrap_or_else(|p| p.into_inner()).take();
            let slot = slot.lock().unwrap_or_else(|p| p.into_inner()).take();
            match (taken, slot) {
                (Some((registry, actor_id, socket, request)), Some(slot)) => {
                    tokio::spawn(async move {
                        // The socket's place under `max_connections`, given back as it ends.
                        let _slot = slot;
                        serve_socket(registry, actor_id, socket, request).await;
                    });
                }
                (Some(_), None) => {
                    let err = crate::error::ActorError::too_many_connections(max_connections);
                    let reason = crate::server::respond::wire_error(&err).close_reason();
                    let (code, reason) =
                        crate::server::ws::close_reason(close::TRY_AGAIN_LATER, reason);
                    refuse_tx.close(Some(code), Some(reason));
                }
                (None, _) => {}
            }
            Box::pin(async {})
        })),
        on_message: Box::new(move |message: WebSocketMessage| -> BoxFuture<()> {
            if cut_off.load(Ordering::Relaxed) {
                // Cut off: nothing more is taken, so no call runs past a dropped one.
                return Box::pin(async {});
            }
            let size = message.data.len();
            let too_large = size > limit;
            let incoming = if too_large {
                Incoming::TooLarge
            } else if message.binary {
                Incoming::Frame(Frame::Binary(Bytes::from(message.data)), size)
            } else {
                let text = String::from_utf8_lossy(&message.data).into_owned();
                Incoming::Frame(Frame::Text(text), size)
            };
            // (Once over the bound the socket is being closed: the count no longer matters.)
            let room = too_large
                || waiting
                    .fetch_add(size, Ordering::Relaxed)
                    .saturating_add(size)
                    <= max_waiting;
            if !room || on_message_tx.try_send(incoming).is_err() {
                // Called inside the envoy's actor task: no waiting for room. A client that
                // far ahead of the actor is cut off, like a slow consumer the other way.
                cut_off.store(true, Ordering::Relaxed);
                let (code, reason) = crate::server::ws::close_reason(
                    crate::server::ws::close::INTERNAL,
                    "message.backlog".into(),
                );
                sender.close(Some(code), Some(reason));
            }
            Box::pin(async {})
        }),
        on_close: Box::new(move |_code, _reason| -> BoxFuture<()> {
            // A full channel already ends the session; otherwise it ends with this.
            let _ = tx.try_send(Incoming::Closed);
            Box::pin(async {})
        }),
    }
}

/// Runs the session or raw socket the path names.
async fn serve_socket(registry: Registry, actor_id: String, mut socket: EnvoySocket, req: Request) {
    let path = req.uri.path().to_owned();
    let after = path
        .splitn(4, '/')
        .nth(3)
        .map(|rest| rest.split('/').next().unwrap_or(""))
        .unwrap_or("");
    let query = match request::query(&req.uri) {
        Ok(query) => query,
        Err(err) => return refuse(&mut socket, &err).await,
    };
    if after == SEGMENT_CONNECT {
        let protocol = match connect::offered_protocol(&req.headers) {
            Ok(protocol) => protocol,
            Err(err) => return refuse(&mut socket, &err).await,
        };
        let accept = connect::Accept {
            registry,
            target: actor_id,
            query,
            protocol,
            request: req,
            closing: None,
        };
        connect::session(socket, accept).await;
    } else if after == SEGMENT_WEBSOCKET {
        let params = match raw::offered_params(&req.headers) {
            Ok(params) => params,
            Err(err) => return refuse(&mut socket, &err).await,
        };
        let accept = raw::Accept {
            registry,
            target: actor_id,
            query,
            params,
            request: req,
            closing: None,
        };
        raw::serve(socket, accept).await;
    } else {
        let err = crate::error::ActorError::no_such_endpoint(&path);
        refuse(&mut socket, &err).await;
    }
}

/// Closes a socket the handlers cannot take, 1011 with `group.code`.
async fn refuse(socket: &mut EnvoySocket, err: &crate::error::ActorError) {
    let reason = crate::server::respond::wire_error(err).close_reason();
    let (code, reason) =
        crate::server::ws::close_reason(crate::server::ws::close::INTERNAL, reason);
    socket.close(code, reason).await;
}
