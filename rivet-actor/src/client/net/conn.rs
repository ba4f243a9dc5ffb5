//! A persistent connection: one WebSocket, actions multiplexed by id, typed event streams,
//! status changes, and reconnection that re-subscribes every event being listened to.
//!
//! One task owns the socket. Calls and subscriptions reach it through a channel that it only
//! drains while connected, so nothing is sent before `Init` and calls made during a
//! reconnect go out once it succeeds. A call already sent when the socket drops fails with
//! a transport error (it may or may not have run).

use std::collections::{HashMap, HashSet};
use std::marker::PhantomData;
use std::ops::Deref;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde::de::DeserializeOwned;
use tokio::sync::{mpsc, oneshot, watch};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::actor::{Actor, ActorCall, Event, Target as _};
use crate::client::Invoker;
use crate::client::events::{EventItem, EventStream};
use crate::client::net::handle::HandleShared;
use crate::client::net::{actor_error, transport};
use crate::error::ClientError;
use crate::protocol::names;
use crate::protocol::{self, Encoding, ToClient, ToServer, Value};

/// Where a connection is in its life.
///
/// ```
/// # use rivet_actor::prelude::*; #[derive(Default, Serialize, Deserialize)] struct Counter { n: u64 }
/// # #[actor] impl Counter { #[action] fn increment(&mut self, by: u64) -> u64 { self.n += by; self.n } }
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// # let registry = Registry::builder().in_memory().register::<Counter>().build();
/// # let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap(); let client = Client::new(server.endpoint());
/// use rivet_actor::ConnStatus;
/// let conn = client.get_or_create::<Counter>("a").connect().await.unwrap();
/// let status = conn.status_changes();
/// conn.increment(1).await.unwrap(); // answered over the socket
/// assert_eq!(conn.status(), ConnStatus::Connected);
/// conn.close().await;
/// assert_eq!(*status.borrow(), ConnStatus::Closed);
/// # });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnStatus {
    /// Opening the socket or waiting for `Init`.
    Connecting,
    /// `Init` received: calls and events flow.
    Connected,
    /// The socket dropped; a reconnect is pending.
    Disconnected,
    /// Closed by [`ActorConn::close`] (or the last handle dropped); final.
    Closed,
}

type Reply = oneshot::Sender<Result<Value, ClientError>>;

enum Outgoing {
    Call {
        id: u64,
        name: &'static str,
        args: Vec<Value>,
    },
    Subscribe(&'static str),
    Close,
}

type Streams = Arc<Mutex<HashMap<&'static str, Vec<mpsc::UnboundedSender<EventItem>>>>>;

struct ConnShared {
    outgoing: mpsc::UnboundedSender<Outgoing>,
    pending: Mutex<HashMap<u64, Reply>>,
    streams: Streams,
    next_id: AtomicU64,
    status: watch::Receiver<ConnStatus>,
    ids: Mutex<Option<(String, String)>>,
}

impl Drop for ConnShared {
    fn drop(&mut self) {
        let _ = self.outgoing.send(Outgoing::Close);
    }
}

/// The WebSocket [`Invoker`] of an [`ActorConn`].
///
/// An [`ActorConn`] derefs to the generated methods over it: each call is a socket message.
///
/// ```
/// # use rivet_actor::prelude::*; #[derive(Default, Serialize, Deserialize)] struct Counter { n: u64 }
/// # #[actor] impl Counter { #[action] fn increment(&mut self, by: u64) -> u64 { self.n += by; self.n } }
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// # let registry = Registry::builder().in_memory().register::<Counter>().build();
/// # let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap(); let client = Client::new(server.endpoint());
/// use rivet_actor::client::net::ConnInvoker;
/// let conn = client.get_or_create::<Counter>("a").connect().await.unwrap();
/// let methods: &CounterMethods<ConnInvoker<Counter>> = &conn;
/// assert_eq!(methods.increment(2).await.unwrap(), 2);
/// # });
/// ```
pub struct ConnInvoker<A: Actor> {
    shared: Arc<ConnShared>,
    _actor: PhantomData<fn() -> A>,
}

impl<A: Actor> Invoker<A> for ConnInvoker<A> {
    async fn invoke<R: DeserializeOwned + Send + 'static>(
        &self,
        call: A::Call,
        _unwrap: fn(A::Return) -> Option<R>,
    ) -> Result<R, ClientError> {
        let args = call
            .to_args()
            .map_err(|err| ClientError::Decode(err.to_string()))?;
        let id = self.shared.next_id.fetch_add(1, Ordering::Relaxed);
        let (reply, answer) = oneshot::channel();
        lock(&self.shared.pending).insert(id, reply);
        let outgoing = Outgoing::Call {
            id,
            name: call.action().name(),
            args,
        };
        if self.shared.outgoing.send(outgoing).is_err() {
            lock(&self.shared.pending).remove(&id);
            return Err(ClientError::Closed);
        }
        let output = answer.await.map_err(|_| ClientError::Closed)??;
        crate::value::from_value(output).map_err(|err| ClientError::Decode(err.to_string()))
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// A persistent connection to one actor: typed actions (through `Deref` to the generated
/// methods), typed event streams and status. Dropping it closes it.
///
/// ```
/// # use rivet_actor::prelude::*; #[derive(Default, Serialize, Deserialize)] struct Counter { n: u64 }
/// # #[actor] impl Counter { #[action] fn increment(&mut self, by: u64) -> u64 { self.n += by; self.n } }
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// # let registry = Registry::builder().in_memory().register::<Counter>().build();
/// # let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap(); let client = Client::new(server.endpoint());
/// let counter = client.get_or_create::<Counter>("a");
/// let conn = counter.connect().await.unwrap(); // one WebSocket
/// let (one, two) = tokio::join!(conn.increment(1), conn.increment(1)); // multiplexed
/// assert_eq!(one.unwrap() + two.unwrap(), 3);
/// # });
/// ```
pub struct ActorConn<A: Actor> {
    shared: Arc<ConnShared>,
    methods: A::Methods<ConnInvoker<A>>,
    /// The handle it was opened from: queue sends go over HTTP with its params, as the npm
    /// client's `conn.send` does (the protocol has no queue message on the socket).
    pub(super) handle: Arc<HandleShared>,
}

impl<A: Actor> ActorConn<A> {
    pub(crate) async fn open(handle: Arc<HandleShared>) -> Result<Self, ClientError> {
        let (outgoing, queue) = mpsc::unbounded_channel();
        let (status_tx, status) = watch::channel(ConnStatus::Connecting);
        let shared = Arc::new(ConnShared {
            outgoing,
            pending: Mutex::new(HashMap::new()),
            streams: Arc::default(),
            next_id: AtomicU64::new(0),
            status,
            ids: Mutex::new(None),
        });
        let (first, opened) = oneshot::channel();
        let task = SocketTask {
            handle: handle.clone(),
            shared: Arc::downgrade(&shared),
            streams: shared.streams.clone(),
            status: status_tx,
            queue,
            first: Some(first),
        };
        tokio::spawn(task.run());
        opened.await.map_err(|_| ClientError::Closed)??;
        let methods = A::Methods::from(ConnInvoker {
            shared: shared.clone(),
            _actor: PhantomData,
        });
        Ok(Self {
            shared,
            methods,
            handle,
        })
    }

    /// The connection's current status.
    ///
    /// ```
    /// # use rivet_actor::prelude::*; #[derive(Default, Serialize, Deserialize)] struct Counter { n: u64 }
    /// # #[actor] impl Counter { #[action] fn increment(&mut self, by: u64) -> u64 { self.n += by; self.n } }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let registry = Registry::builder().in_memory().register::<Counter>().build();
    /// # let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap(); let client = Client::new(server.endpoint());
    /// let conn = client.get_or_create::<Counter>("a").connect().await.unwrap();
    /// conn.increment(1).await.unwrap();
    /// assert_eq!(conn.status(), rivet_actor::ConnStatus::Connected);
    /// # });
    /// ```
    pub fn status(&self) -> ConnStatus {
        *self.shared.status.borrow()
    }

    /// Status changes, as a `watch` receiver (`changed().await`).
    ///
    /// ```
    /// # use rivet_actor::prelude::*; #[derive(Default, Serialize, Deserialize)] struct Counter { n: u64 }
    /// # #[actor] impl Counter { #[action] fn increment(&mut self, by: u64) -> u64 { self.n += by; self.n } }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let registry = Registry::builder().in_memory().register::<Counter>().build();
    /// # let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap(); let client = Client::new(server.endpoint());
    /// use rivet_actor::ConnStatus;
    /// let conn = client.get_or_create::<Counter>("a").connect().await.unwrap();
    /// let mut status = conn.status_changes();
    /// let closed = tokio::spawn(async move {
    ///     status.wait_for(|s| *s == ConnStatus::Closed).await.is_ok()
    /// });
    /// conn.close().await;
    /// assert!(closed.await.unwrap());
    /// # });
    /// ```
    pub fn status_changes(&self) -> watch::Receiver<ConnStatus> {
        self.shared.status.clone()
    }

    /// The actor's id and this connection's id, as `Init` reported them.
    ///
    /// ```
    /// # use rivet_actor::prelude::*; #[derive(Default, Serialize, Deserialize)] struct Counter { n: u64 }
    /// # #[actor] impl Counter { #[action] fn increment(&mut self, by: u64) -> u64 { self.n += by; self.n } }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let registry = Registry::builder().in_memory().register::<Counter>().build();
    /// # let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap(); let client = Client::new(server.endpoint());
    /// let conn = client.get_or_create::<Counter>("a").connect().await.unwrap();
    /// let (actor_id, conn_id) = conn.ids().unwrap();
    /// let local = registry.get::<Counter>("a").await.unwrap();
    /// assert_eq!(actor_id, local.id().as_str());
    /// assert!(!conn_id.is_empty());
    /// # });
    /// ```
    pub fn ids(&self) -> Option<(String, String)> {
        lock(&self.shared.ids).clone()
    }

    /// Subscribes to a declared event; re-subscribed after every reconnect. A subscription
    /// the actor refuses yields its error (`auth.forbidden`) on the stream.
    ///
    /// ```
    /// # use rivet_actor::prelude::*; #[derive(Default, Serialize, Deserialize)] struct Counter { n: u64 }
    /// # #[actor(events(changed = u64))] impl Counter {
    /// #     #[action] fn increment(&mut self, c: &mut ActionCtx<'_, Self>, by: u64) { self.n += by; c.broadcast(self.n); } }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let registry = Registry::builder().in_memory().register::<Counter>().build();
    /// # let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap(); let client = Client::new(server.endpoint());
    /// let conn = client.get_or_create::<Counter>("a").connect().await.unwrap();
    /// let mut changes = conn.events::<u64>(); // `#[actor(events(changed = u64))]`
    /// conn.increment(5).await.unwrap();
    /// assert_eq!(changes.next().await.unwrap().unwrap(), 5);
    /// # });
    /// ```
    pub fn events<E: Event<A>>(&self) -> EventStream<E> {
        let (tx, rx) = mpsc::unbounded_channel();
        let name = E::TARGET.name();
        let first = {
            let mut streams = lock(&self.shared.streams);
            let list = streams.entry(name).or_default();
            list.push(tx);
            list.len() == 1
        };
        if first {
            let _ = self.shared.outgoing.send(Outgoing::Subscribe(name));
        }
        EventStream {
            rx,
            _event: PhantomData,
        }
    }

    /// Closes the connection (the actor's `on_disconnect` runs) and waits until it is closed.
    ///
    /// ```
    /// # use rivet_actor::prelude::*; #[derive(Default, Serialize, Deserialize)] struct Counter { n: u64 }
    /// # #[actor] impl Counter { #[action] fn increment(&mut self, by: u64) -> u64 { self.n += by; self.n } }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let registry = Registry::builder().in_memory().register::<Counter>().build();
    /// # let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap(); let client = Client::new(server.endpoint());
    /// let counter = client.get_or_create::<Counter>("a");
    /// let conn = counter.connect().await.unwrap();
    /// conn.increment(1).await.unwrap();
    /// conn.close().await;
    /// assert_eq!(counter.increment(1).await.unwrap(), 2); // the actor lives on
    /// # });
    /// ```
    pub async fn close(self) {
        let mut status = self.shared.status.clone();
        let _ = self.shared.outgoing.send(Outgoing::Close);
        let _ = status.wait_for(|s| *s == ConnStatus::Closed).await;
    }
}

impl<A: Actor> Deref for ActorConn<A> {
    type Target = A::Methods<ConnInvoker<A>>;
    fn deref(&self) -> &Self::Target {
        &self.methods
    }
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// How a socket's life ended.
enum Ended {
    /// Closed on purpose: stop.
    Closed,
    /// Lost: reconnect.
    Lost,
}

struct SocketTask {
    handle: Arc<HandleShared>,
    shared: std::sync::Weak<ConnShared>,
    streams: Streams,
    status: watch::Sender<ConnStatus>,
    queue: mpsc::UnboundedReceiver<Outgoing>,
    first: Option<oneshot::Sender<Result<(), ClientError>>>,
}

impl SocketTask {
    async fn run(mut self) {
        let mut backoff = Duration::from_millis(100);
        loop {
            let _ = self.status.send(ConnStatus::Connecting);
            match self.connect().await {
                Ok(socket) => {
                    backoff = Duration::from_millis(100);
                    // Connected before `connect()` returns, so its caller never sees
                    // `Connecting` on a connection it was told is open.
                    let _ = self.status.send(ConnStatus::Connected);
                    if let Some(first) = self.first.take() {
                        let _ = first.send(Ok(()));
                    }
                    if let Ended::Closed = self.pump(socket).await {
                        break;
                    }
                }
                Err(err) => {
                    if let Some(first) = self.first.take() {
                        let _ = first.send(Err(err));
                        break;
                    }
                    tracing::debug!(%err, "reconnect failed");
                }
            }
            if self.shared.strong_count() == 0 {
                break;
            }
            let _ = self.status.send(ConnStatus::Disconnected);
            // Wait out the backoff; a call made meanwhile ends it early, a close ends the task.
            tokio::select! {
                () = tokio::time::sleep(backoff) => {}
                next = self.queue.recv() => match next {
                    None | Some(Outgoing::Close) => return self.finish(),
                    // Keep it for when the connection is back.
                    Some(other) => self.requeue(other),
                }
            }
            backoff = (backoff * 2).min(Duration::from_secs(5));
        }
        self.finish();
    }

    fn requeue(&mut self, outgoing: Outgoing) {
        // The queue's sender lives in ConnShared; re-send through it if it still exists.
        if let Some(shared) = self.shared.upgrade() {
            let _ = shared.outgoing.send(outgoing);
        }
    }

    fn finish(&mut self) {
        if let Some(shared) = self.shared.upgrade() {
            for (_, reply) in lock(&shared.pending).drain() {
                let _ = reply.send(Err(ClientError::Closed));
            }
        }
        lock(&self.streams).clear();
        let _ = self.status.send(ConnStatus::Closed);
    }

    fn encoding(&self) -> Encoding {
        self.handle.client.inner.encoding
    }

    /// Opens the socket and waits for `Init`; a refused connection is the actor's error.
    async fn connect(&mut self) -> Result<Socket, ClientError> {
        let inner = &self.handle.client.inner;
        let mut url =
            self.handle
                .address
                .url(inner, self.handle.actor_name, &[names::SEGMENT_CONNECT])?;
        let scheme = if url.scheme() == "https" { "wss" } else { "ws" };
        url.set_scheme(scheme)
            .map_err(|()| ClientError::Transport("cannot make a WebSocket URL".into()))?;
        let params = self.handle.params.current()?;
        let protocols = protocol::build_subprotocols(self.encoding(), params.as_deref(), None);
        let mut request = url.as_str().into_client_request().map_err(transport)?;
        request.headers_mut().insert(
            http::header::SEC_WEBSOCKET_PROTOCOL,
            http::HeaderValue::from_str(&protocols).map_err(transport)?,
        );
        let (mut socket, _) = tokio_tungstenite::connect_async(request)
            .await
            .map_err(transport)?;
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
            match protocol::decode_to_client(self.encoding(), &bytes)
                .map_err(|err| ClientError::Decode(err.to_string()))?
            {
                ToClient::Init {
                    actor_id,
                    connection_id,
                } => {
                    if let Some(shared) = self.shared.upgrade() {
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
        let names: Vec<&'static str> = lock(&self.streams).keys().copied().collect();
        for name in names {
            let message = ToServer::SubscriptionRequest {
                event_name: name.to_owned(),
                subscribe: true,
            };
            send(&mut socket, self.encoding(), &message).await?;
        }
        Ok(socket)
    }

    /// Moves messages both ways until the socket ends.
    async fn pump(&mut self, mut socket: Socket) -> Ended {
        let encoding = self.encoding();
        let mut sent: HashSet<u64> = HashSet::new();
        let ended = loop {
            tokio::select! {
                next = self.queue.recv() => match next {
                    None | Some(Outgoing::Close) => {
                        let _ = socket.close(None).await;
                        // Let the server see the close before we report Closed.
                        while let Some(Ok(_)) = socket.next().await {}
                        break Ended::Closed;
                    }
                    Some(Outgoing::Subscribe(name)) => {
                        let message = ToServer::SubscriptionRequest { event_name: name.to_owned(), subscribe: true };
                        if send(&mut socket, encoding, &message).await.is_err() {
                            break Ended::Lost;
                        }
                    }
                    Some(Outgoing::Call { id, name, args }) => {
                        let message = ToServer::ActionRequest { id, name: name.to_owned(), args };
                        sent.insert(id);
                        if send(&mut socket, encoding, &message).await.is_err() {
                            break Ended::Lost;
                        }
                    }
                },
                frame = socket.next() => {
                    let bytes = match frame {
                        Some(Ok(Message::Text(text))) => text.as_bytes().to_vec(),
                        Some(Ok(Message::Binary(bytes))) => bytes.to_vec(),
                        Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break Ended::Lost,
                        Some(Ok(_)) => continue,
                    };
                    match protocol::decode_to_client(encoding, &bytes) {
                        Ok(message) => self.route(message, &mut sent),
                        Err(err) => tracing::warn!(%err, "undecodable message from the server"),
                    }
                }
            }
        };
        // Calls sent on this socket have no answer coming.
        if let Some(shared) = self.shared.upgrade() {
            let mut pending = lock(&shared.pending);
            for id in sent {
                if let Some(reply) = pending.remove(&id) {
                    let _ = reply.send(Err(ClientError::Transport(
                        "the connection was lost".into(),
                    )));
                }
            }
        }
        ended
    }

    fn route(&mut self, message: ToClient, sent: &mut HashSet<u64>) {
        let Some(shared) = self.shared.upgrade() else {
            return;
        };
        match message {
            ToClient::ActionResponse { id, output } => {
                sent.remove(&id);
                if let Some(reply) = lock(&shared.pending).remove(&id) {
                    let _ = reply.send(Ok(output));
                }
            }
            ToClient::Error(wire) => match wire.action_id {
                Some(id) => {
                    sent.remove(&id);
                    if let Some(reply) = lock(&shared.pending).remove(&id) {
                        let _ = reply.send(Err(ClientError::Actor(actor_error(wire))));
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
                    let mut streams = lock(&self.streams);
                    match event.and_then(|name| streams.remove_entry(name.as_str())) {
                        Some((_, list)) => {
                            for tx in list {
                                let _ = tx.send(EventItem::Denied(err.clone()));
                            }
                        }
                        None => {
                            drop(streams);
                            // A connection-level error fails the calls in flight, as RivetKit does.
                            let mut pending = lock(&shared.pending);
                            for id in sent.drain() {
                                if let Some(reply) = pending.remove(&id) {
                                    let _ = reply.send(Err(ClientError::Actor(err.clone())));
                                }
                            }
                        }
                    }
                }
            },
            ToClient::Event { name, args } => {
                let payload = Arc::new(args.into_iter().next().unwrap_or(Value::Null));
                let mut streams = lock(&self.streams);
                if let Some(list) = streams.get_mut(name.as_str()) {
                    list.retain(|tx| tx.send(EventItem::Event(payload.clone())).is_ok());
                }
            }
            ToClient::Init { .. } => {}
        }
    }
}

async fn send(
    socket: &mut Socket,
    encoding: Encoding,
    message: &ToServer,
) -> Result<(), ClientError> {
    let bytes = protocol::encode_to_server(encoding, message);
    let frame = match encoding {
        Encoding::Json => Message::Text(String::from_utf8_lossy(&bytes).into_owned().into()),
        Encoding::Cbor | Encoding::Bare => Message::Binary(bytes.into()),
    };
    socket.send(frame).await.map_err(transport)
}
