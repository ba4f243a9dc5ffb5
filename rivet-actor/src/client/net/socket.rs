//! The task that owns a connection's WebSocket: it opens the socket (within the client's
//! timeout), moves calls, subscriptions and events both ways, and reconnects with backoff
//! when the socket drops.
//!
//! Calls made while the socket is down wait in the task's backlog, in order, and go out once
//! it is back. A call whose caller stopped waiting (its reconnect wait passed) is dropped
//! from the backlog and never goes out: the caller was told it was not sent. While a send
//! waits on a server that does not read, what is sent meanwhile goes to the backlog too (the
//! queue is always read, so nothing piles up in it), and a close ends the socket at once.

use std::collections::HashSet;
use std::sync::{Arc, Weak};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::client::events::Streams;
use crate::client::net::backlog::Backlog;
use crate::client::net::conn::{ConnShared, ConnStatus, Outgoing, later, lock};
use crate::client::net::handle::HandleShared;
use crate::client::net::{actor_error, transport};
use crate::error::ClientError;
use crate::protocol::names;
use crate::protocol::{self, Encoding, ToClient, ToServer, Value};

/// The first pause before a reconnect; it doubles after each failed try.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);

/// The longest pause between two reconnect tries.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// How a socket's life ended.
enum Ended {
    /// Closed on purpose: stop.
    Closed,
    /// Lost: reconnect.
    Lost,
}

pub(super) struct SocketTask {
    pub(super) handle: Arc<HandleShared>,
    pub(super) shared: Weak<ConnShared>,
    pub(super) streams: Streams,
    pub(super) status: watch::Sender<ConnStatus>,
    pub(super) queue: mpsc::UnboundedReceiver<Outgoing>,
    /// Told how the first connect went (`ActorConn::open` waits on it).
    pub(super) first: Option<oneshot::Sender<Result<(), ClientError>>>,
    /// What was taken from the queue while it could not be sent, in order.
    pub(super) backlog: Backlog,
    /// The events the server was asked to send on this session's socket.
    pub(super) subscribed: HashSet<&'static str>,
}

impl SocketTask {
    pub(super) async fn run(mut self) {
        let mut backoff = FIRST_BACKOFF;
        loop {
            let _ = self.status.send(ConnStatus::Connecting);
            // Subscriptions kept from an earlier try are stale: this try subscribes to what
            // is listened to now (those made while it opens are kept, below).
            self.backlog.keep_only_calls();
            let timeout = self.handle.client.inner.timeout;
            let (handle, shared, streams) = (
                self.handle.clone(),
                self.shared.clone(),
                self.streams.clone(),
            );
            let connecting =
                tokio::time::timeout(
                    timeout,
                    async move { connect(&handle, &shared, &streams).await },
                );
            tokio::pin!(connecting);
            // While the socket opens, what is sent waits in the backlog, in order (a
            // subscription too: the names to subscribe may have been read already), and a
            // close ends the task at once: no session is opened after it.
            let opened = loop {
                tokio::select! {
                    opened = &mut connecting => break opened,
                    next = self.queue.recv() => match next {
                        None | Some(Outgoing::Close) => {
                            if let Some(first) = self.first.take() {
                                let _ = first.send(Err(ClientError::Closed));
                            }
                            return self.finish();
                        }
                        Some(sent) => self.backlog.push(&self.shared, sent),
                    }
                }
            };
            let opened = opened.unwrap_or_else(|_| {
                Err(ClientError::Unavailable(format!(
                    "no connection within {timeout:?}"
                )))
            });
            match opened {
                Ok((socket, subscribed)) => {
                    self.subscribed = subscribed;
                    let opened = Instant::now();
                    if let Some(shared) = self.shared.upgrade() {
                        *lock(&shared.last_failure) = None;
                    }
                    // Connected before `connect()` returns, so its caller never sees
                    // `Connecting` on a connection it was told is open.
                    let _ = self.status.send(ConnStatus::Connected);
                    if let Some(first) = self.first.take() {
                        let _ = first.send(Ok(()));
                    }
                    if let Ended::Closed = self.pump(socket).await {
                        break;
                    }
                    // A connection that lasted starts the backoff over; one dropped at once
                    // (a server that takes it and then fails) does not, or that server would
                    // be asked again every 100 ms.
                    if opened.elapsed() >= MAX_BACKOFF {
                        backoff = FIRST_BACKOFF;
                    }
                }
                Err(err) => {
                    if let Some(first) = self.first.take() {
                        let _ = first.send(Err(err));
                        break;
                    }
                    tracing::debug!(%err, "reconnect failed");
                    if let Some(shared) = self.shared.upgrade() {
                        *lock(&shared.last_failure) = Some(err.to_string());
                    }
                }
            }
            if self.shared.strong_count() == 0 {
                break;
            }
            let _ = self.status.send(ConnStatus::Disconnected);
            // Wait out the backoff. Calls made meanwhile wait in the backlog for the next try
            // rather than cut the pause short: a server that is down would otherwise be
            // asked again at every call. A close ends the task.
            let next_try = Instant::now() + backoff;
            loop {
                tokio::select! {
                    () = tokio::time::sleep_until(next_try) => break,
                    next = self.queue.recv() => match next {
                        None | Some(Outgoing::Close) => return self.finish(),
                        // Every event listened to is subscribed again on connect (and
                        // one no longer listened to is not).
                        Some(Outgoing::ListeningChanged) => {}
                        Some(call) => self.backlog.push(&self.shared, call),
                    }
                }
            }
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
        self.finish();
    }

    fn finish(&mut self) {
        if let Some(shared) = self.shared.upgrade() {
            for (_, waiting) in lock(&shared.pending).drain() {
                let _ = waiting.reply.send(Err(ClientError::Closed));
            }
        }
        self.streams.clear();
        let _ = self.status.send(ConnStatus::Closed);
    }

    fn encoding(&self) -> Encoding {
        self.handle.client.inner.encoding
    }

    /// The next change that brings the server's subscriptions to what the streams listen
    /// to (an unsubscription first), recorded as made; `None` when they agree. Kept as a
    /// difference, not as the changes themselves: a connection whose streams come and go
    /// while its socket is stuck holds nothing more for it, and a change the session's
    /// first subscriptions already covered is not made again.
    fn next_subscription_change(&mut self) -> Option<(&'static str, bool)> {
        let listened: HashSet<&'static str> = self.streams.names().into_iter().collect();
        if let Some(&gone) = self.subscribed.difference(&listened).next() {
            self.subscribed.remove(gone);
            return Some((gone, false));
        }
        let new = *listened.difference(&self.subscribed).next()?;
        self.subscribed.insert(new);
        Some((new, true))
    }
}

/// Opens the socket and waits for `Init`, then subscribes to every event listened to (the
/// names it subscribed come back with the socket); a refused connection is the actor's
/// error, one that could not be made is `Unavailable`.
async fn connect(
    handle: &HandleShared,
    shared: &Weak<ConnShared>,
    streams: &Streams,
) -> Result<(Socket, HashSet<&'static str>), ClientError> {
    let encoding = handle.client.inner.encoding;
    let inner = &handle.client.inner;
    let mut url = handle
        .address
        .url(inner, handle.actor_name, &[names::SEGMENT_CONNECT])?;
    let scheme = if url.scheme() == "https" { "wss" } else { "ws" };
    url.set_scheme(scheme)
        .map_err(|()| ClientError::Transport("cannot make a WebSocket URL".into()))?;
    let params = handle.params.current()?;
    let protocols =
        protocol::build_subprotocols(encoding, params.as_deref(), inner.token.as_deref());
    let mut request = url.as_str().into_client_request().map_err(transport)?;
    request.headers_mut().insert(
        http::header::SEC_WEBSOCKET_PROTOCOL,
        http::HeaderValue::from_str(&protocols).map_err(transport)?,
    );
    let connected = tokio_tungstenite::connect_async(request).await;
    let (mut socket, _) = connected.map_err(|err| match err {
        // No connection was made: nothing was sent. (One lost later, during the upgrade,
        // may have reached the server.)
        tokio_tungstenite::tungstenite::Error::Io(err) if never_connected(&err) => {
            ClientError::Unavailable(format!("cannot connect: {err}"))
        }
        other => transport(other),
    })?;
    loop {
        let Some(frame) = socket.next().await else {
            return Err(ClientError::Transport(
                "the connection closed before Init".into(),
            ));
        };
        let bytes = match frame.map_err(transport)? {
            Message::Text(text) => text.as_bytes().to_vec(),
            Message::Binary(bytes) => bytes.to_vec(),
            Message::Close(frame) => {
                let reason = frame.map(|f| f.reason.to_string()).unwrap_or_default();
                return Err(ClientError::Transport(format!(
                    "the connection closed before Init: {reason}"
                )));
            }
            _ => continue,
        };
        match protocol::decode_to_client(encoding, &bytes)
            .map_err(|err| ClientError::Decode(err.to_string()))?
        {
            ToClient::Init {
                actor_id,
                connection_id,
            } => {
                if let Some(shared) = shared.upgrade() {
                    *lock(&shared.ids) = Some((actor_id, connection_id));
                }
                break;
            }
            ToClient::Error(wire) => {
                let _ = socket.close(None).await;
                return Err(ClientError::Actor(actor_error(wire)));
            }
            // Nothing else may come before Init; ignore it if it does.
            _ => continue,
        }
    }
    // Re-subscribe everything being listened to.
    let names = streams.names();
    for name in &names {
        let message = ToServer::SubscriptionRequest {
            event_name: (*name).to_owned(),
            subscribe: true,
        };
        send(&mut socket, encoding, &message).await?;
    }
    Ok((socket, names.into_iter().collect()))
}

/// Whether a failed connect never reached the server (refused, unreachable, no address).
fn never_connected(err: &std::io::Error) -> bool {
    use std::io::ErrorKind;
    matches!(
        err.kind(),
        ErrorKind::ConnectionRefused
            | ErrorKind::AddrNotAvailable
            | ErrorKind::NetworkUnreachable
            | ErrorKind::HostUnreachable
            | ErrorKind::NotFound
    )
}

impl SocketTask {
    /// Moves messages both ways until the socket ends: first the backlog, then the queue.
    ///
    /// A server silent for a third of the client's timeout is pinged (any frame back, a pong
    /// included, counts as heard); one silent for the whole timeout is lost (a half-open
    /// TCP connection would otherwise look connected for ever).
    async fn pump(&mut self, socket: Socket) -> Ended {
        // Read and written apart: frames are read while a send waits (below).
        let (mut sink, mut stream) = socket.split();
        let mut sent: HashSet<u64> = HashSet::new();
        let timeout = self.handle.client.inner.timeout;
        let ping_after = timeout / 3;
        let mut heard = Instant::now();
        let mut next_check = later(heard, ping_after);
        let ended = loop {
            let next = match self.backlog.pop_front() {
                Some(kept) => Some(kept),
                None => tokio::select! {
                    next = self.queue.recv() => next,
                    () = tokio::time::sleep_until(next_check) => {
                        if heard.elapsed() >= timeout {
                            break Ended::Lost;
                        }
                        // Calls given up on (timed out) are no longer waited for here.
                        if let Some(shared) = self.shared.upgrade() {
                            let pending = lock(&shared.pending);
                            sent.retain(|id| pending.contains_key(id));
                        }
                        next_check = later(Instant::now(), ping_after);
                        if heard.elapsed() >= ping_after {
                            let ping = async {
                                let ping = sink.send(Message::Ping(Default::default()));
                                matches!(tokio::time::timeout(timeout, ping).await, Ok(Ok(())))
                            };
                            match self.send_watching(ping, &mut stream, &mut sent, &mut heard).await {
                                Some(true) => {}
                                Some(false) => break Ended::Lost,
                                None => break Ended::Closed,
                            }
                        }
                        continue;
                    }
                    frame = stream.next() => {
                        heard = Instant::now();
                        if !self.take(frame, &mut sent) {
                            break Ended::Lost;
                        }
                        continue;
                    }
                },
            };
            let message = match next {
                None | Some(Outgoing::Close) => {
                    // Let the server see the close before we report Closed (but do not
                    // wait for ever on a server that never reads or answers it).
                    let closed = async {
                        let _ = sink.close().await;
                        while let Some(Ok(_)) = stream.next().await {}
                    };
                    let _ = tokio::time::timeout(self.handle.client.inner.timeout, closed).await;
                    break Ended::Closed;
                }
                // What is listened to changed: the server is told one change at a time
                // (unsubscriptions first), in the place of the change among the calls.
                Some(Outgoing::ListeningChanged) => {
                    let Some((name, subscribe)) = self.next_subscription_change() else {
                        continue;
                    };
                    // More may be due: looked at again before anything else is sent.
                    self.backlog.push_front(Outgoing::ListeningChanged);
                    ToServer::SubscriptionRequest {
                        event_name: name.to_owned(),
                        subscribe,
                    }
                }
                Some(Outgoing::Call { id, name, args }) => {
                    if !self.mark_sent(id) {
                        // Its caller stopped waiting before it went out: it never does.
                        continue;
                    }
                    sent.insert(id);
                    ToServer::ActionRequest {
                        id,
                        name: name.to_owned(),
                        args,
                    }
                }
            };
            // A server that stops reading is a lost connection once the timeout passes. What
            // it sends meanwhile is read: a server that holds back reading until its answers
            // go out would otherwise wait on us while we wait on it.
            let encoding = self.encoding();
            let sending = async {
                let sending = send(&mut sink, encoding, &message);
                matches!(tokio::time::timeout(timeout, sending).await, Ok(Ok(())))
            };
            match self
                .send_watching(sending, &mut stream, &mut sent, &mut heard)
                .await
            {
                Some(true) => {}
                Some(false) => break Ended::Lost,
                None => break Ended::Closed,
            }
        };
        // Calls sent on this socket have no answer coming.
        if let Some(shared) = self.shared.upgrade() {
            let mut pending = lock(&shared.pending);
            for id in sent {
                if let Some(waiting) = pending.remove(&id) {
                    let _ = waiting.reply.send(Err(ClientError::Transport(
                        "the connection was lost".into(),
                    )));
                }
            }
        }
        ended
    }

    /// Waits for `sending` to end (`Some(whether it went out)`) while reading the server's
    /// frames and keeping what is sent meanwhile in the backlog (which drops what is no
    /// longer wanted) rather than leaving it to pile up in the queue; `None` for a close,
    /// which ends the socket at once (the frame half sent goes with it).
    async fn send_watching(
        &mut self,
        sending: impl std::future::Future<Output = bool>,
        stream: &mut futures_util::stream::SplitStream<Socket>,
        sent: &mut HashSet<u64>,
        heard: &mut Instant,
    ) -> Option<bool> {
        tokio::pin!(sending);
        loop {
            tokio::select! {
                went_out = &mut sending => return Some(went_out),
                frame = stream.next() => {
                    *heard = Instant::now();
                    if !self.take(frame, sent) {
                        return Some(false);
                    }
                }
                next = self.queue.recv() => match next {
                    None | Some(Outgoing::Close) => return None,
                    Some(kept) => self.backlog.push(&self.shared, kept),
                },
            }
        }
    }

    /// Handles a frame read from the server; `false` when the socket has ended.
    fn take(
        &mut self,
        frame: Option<Result<Message, tokio_tungstenite::tungstenite::Error>>,
        sent: &mut HashSet<u64>,
    ) -> bool {
        let bytes = match frame {
            Some(Ok(Message::Text(text))) => text.as_bytes().to_vec(),
            Some(Ok(Message::Binary(bytes))) => bytes.to_vec(),
            Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return false,
            Some(Ok(_)) => return true,
        };
        match protocol::decode_to_client(self.encoding(), &bytes) {
            Ok(message) => self.route(message, sent),
            Err(err) => tracing::warn!(%err, "undecodable message from the server"),
        }
        true
    }

    /// Notes that call `id` goes out now; `false` if its caller no longer waits for it.
    fn mark_sent(&self, id: u64) -> bool {
        let Some(shared) = self.shared.upgrade() else {
            return false;
        };
        let mut pending = lock(&shared.pending);
        match pending.get_mut(&id) {
            Some(waiting) => {
                waiting.sent_at = Some(Instant::now());
                true
            }
            None => false,
        }
    }

    fn route(&mut self, message: ToClient, sent: &mut HashSet<u64>) {
        let Some(shared) = self.shared.upgrade() else {
            return;
        };
        match message {
            ToClient::ActionResponse { id, output } => {
                sent.remove(&id);
                if let Some(waiting) = lock(&shared.pending).remove(&id) {
                    let _ = waiting.reply.send(Ok(output));
                }
            }
            ToClient::Error(wire) => match wire.action_id {
                Some(id) => {
                    sent.remove(&id);
                    if let Some(waiting) = lock(&shared.pending).remove(&id) {
                        let _ = waiting
                            .reply
                            .send(Err(ClientError::Actor(actor_error(wire))));
                    }
                }
                None => {
                    let err = actor_error(wire);
                    // A refused subscription names its event; deliver the refusal there.
                    let event = err
                        .metadata
                        .as_ref()
                        .and_then(|m| m.get("eventName"))
                        .and_then(|e| e.as_str())
                        .map(str::to_owned);
                    // A refusal the streams have already heard (a subscription sent twice
                    // across a reconnect) is no connection error either.
                    match event {
                        Some(name) => {
                            self.streams.deny(&name, &err);
                            self.subscribed.remove(name.as_str());
                        }
                        None => {
                            // A connection-level error fails the calls in flight, as
                            // RivetKit does; but it is not theirs (a frame the server could
                            // not read, a connection it is about to drop), and they may
                            // have run or still run: each fails as a transport error.
                            let failed = format!(
                                "the connection failed ({}.{}: {}); the call may have run",
                                err.group, err.code, err.message
                            );
                            let mut pending = lock(&shared.pending);
                            for id in sent.drain() {
                                if let Some(waiting) = pending.remove(&id) {
                                    let _ = waiting
                                        .reply
                                        .send(Err(ClientError::Transport(failed.clone())));
                                }
                            }
                        }
                    }
                }
            },
            ToClient::Event { name, args } => {
                let payload = Arc::new(args.into_iter().next().unwrap_or(Value::Null));
                self.streams.deliver(&name, &payload);
            }
            ToClient::Init { .. } => {}
        }
    }
}

async fn send<S>(socket: &mut S, encoding: Encoding, message: &ToServer) -> Result<(), ClientError>
where
    S: futures_util::Sink<Message, Error = tokio_tungstenite::tungstenite::Error> + Unpin,
{
    let bytes = protocol::encode_to_server(encoding, message);
    let frame = match encoding {
        Encoding::Json => Message::Text(String::from_utf8_lossy(&bytes).into_owned().into()),
        Encoding::Cbor | Encoding::Bare => Message::Binary(bytes.into()),
    };
    socket.send(frame).await.map_err(transport)
}
