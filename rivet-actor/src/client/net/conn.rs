//! A persistent connection: one WebSocket, actions multiplexed by id, typed event streams,
//! status changes, and reconnection that re-subscribes every event being listened to.
//!
//! One task owns the socket (`socket.rs`). Calls and subscriptions reach it through a channel
//! that it only drains while connected, so nothing is sent before `Init` and calls made
//! during a reconnect go out once it succeeds. Every wait is bounded: a call that is not sent
//! within the client's reconnect wait fails unsent (`ClientError::Unavailable`, and it never
//! goes out later); one sent and not answered within the client's timeout fails with a
//! transport error, as does one already sent when the socket drops (it may or may not have
//! run).

use std::collections::{HashMap, HashSet};
use std::marker::PhantomData;
use std::ops::Deref;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::de::DeserializeOwned;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;

use crate::actor::{Actor, ActorCall, Event, Target as _};
use crate::client::Invoker;
use crate::client::events::{EventStream, Streams};
use crate::client::net::backlog::Backlog;
use crate::client::net::handle::HandleShared;
use crate::client::net::socket::SocketTask;
use crate::error::ClientError;
use crate::protocol::Value;

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

/// A call waiting for its answer.
pub(super) struct Waiting {
    pub(super) reply: oneshot::Sender<Result<Value, ClientError>>,
    /// When it went out on a socket; `None` while it waits for one.
    pub(super) sent_at: Option<Instant>,
}

pub(super) enum Outgoing {
    Call {
        id: u64,
        name: &'static str,
        args: Vec<Value>,
    },
    /// The events listened to changed (a first stream of one opened, the last of one
    /// dropped): the socket task tells the server the difference.
    ListeningChanged,
    Close,
}

pub(super) struct ConnShared {
    outgoing: mpsc::UnboundedSender<Outgoing>,
    pub(super) pending: Mutex<HashMap<u64, Waiting>>,
    pub(super) streams: Streams,
    next_id: AtomicU64,
    status: watch::Receiver<ConnStatus>,
    pub(super) ids: Mutex<Option<(String, String)>>,
    /// Why the last try to reconnect failed (for the error of a call that waited on it).
    pub(super) last_failure: Mutex<Option<String>>,
    /// The client's timeout for an answer, counted from when the call went out.
    timeout: Duration,
    /// The client's wait for a connection to come back, counted from when the call was made.
    reconnect_wait: Duration,
}

impl ConnShared {
    /// The answer to call `id`, made at `made`: its own, or an error once a bound passes
    /// (unsent after the reconnect wait; unanswered after the timeout since it went out).
    async fn answer(
        &self,
        id: u64,
        mut answer: oneshot::Receiver<Result<Value, ClientError>>,
        made: Instant,
    ) -> Result<Value, ClientError> {
        // The earliest moment either bound can pass; each wake-up moves it to the bound
        // that applies then.
        let mut deadline = later(made, self.reconnect_wait.min(self.timeout));
        loop {
            tokio::select! {
                biased;
                answer = &mut answer => return answer.map_err(|_| ClientError::Closed)?,
                () = tokio::time::sleep_until(deadline) => {}
            }
            let decided = {
                let mut pending = lock(&self.pending);
                match pending.get(&id).map(|waiting| waiting.sent_at) {
                    // Answered (or failed) just now: the reply is on its way.
                    None => None,
                    Some(sent_at) => {
                        let limit = match sent_at {
                            None => later(made, self.reconnect_wait),
                            Some(at) => later(at, self.timeout),
                        };
                        if Instant::now() < limit {
                            deadline = limit;
                            continue;
                        }
                        // Removed under the lock the socket task marks a call sent under:
                        // an unsent call removed here is never sent.
                        pending.remove(&id);
                        Some(sent_at)
                    }
                }
            };
            let Some(sent_at) = decided else {
                return answer.await.map_err(|_| ClientError::Closed)?;
            };
            return Err(match sent_at {
                None => {
                    let why = match lock(&self.last_failure).as_deref() {
                        Some(failure) => format!(" (last try: {failure})"),
                        None => String::new(),
                    };
                    ClientError::Unavailable(format!(
                        "no connection to the actor within {:?}{why}; the call was not sent",
                        self.reconnect_wait
                    ))
                }
                Some(_) => ClientError::Transport(format!(
                    "no answer within {:?} (the call may have run)",
                    self.timeout
                )),
            });
        }
    }
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
        let made = Instant::now();
        let waiting = Waiting {
            reply,
            sent_at: None,
        };
        lock(&self.shared.pending).insert(id, waiting);
        // A caller that stops waiting (its future dropped) takes its call back: one not
        // sent yet never goes out.
        let _forget = Forget {
            shared: &self.shared,
            id,
        };
        let outgoing = Outgoing::Call {
            id,
            name: call.action().name(),
            args,
        };
        if self.shared.outgoing.send(outgoing).is_err() {
            lock(&self.shared.pending).remove(&id);
            return Err(ClientError::Closed);
        }
        let output = self.shared.answer(id, answer, made).await?;
        crate::value::from_value(output).map_err(|err| ClientError::Decode(err.to_string()))
    }
}

/// Removes call `id` from the calls waited for, however `invoke` ends (answered, failed,
/// or dropped by its caller).
struct Forget<'a> {
    shared: &'a ConnShared,
    id: u64,
}

impl Drop for Forget<'_> {
    fn drop(&mut self) {
        lock(&self.shared.pending).remove(&self.id);
    }
}

/// `at + wait`, or a moment that never comes when that is past what the clock can hold
/// (`Duration::MAX` means no bound).
pub(super) fn later(at: Instant, wait: Duration) -> Instant {
    at.checked_add(wait)
        .unwrap_or_else(|| at + Duration::from_secs(86_400 * 365 * 30))
}

pub(super) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
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
        // Weak: the socket task holds the streams, and its queue must still close when the
        // last handle to the connection is dropped.
        let unsubscribes = outgoing.downgrade();
        let streams = Streams::new(Box::new(move |_| {
            if let Some(outgoing) = unsubscribes.upgrade() {
                let _ = outgoing.send(Outgoing::ListeningChanged);
            }
        }));
        let shared = Arc::new(ConnShared {
            outgoing,
            pending: Mutex::new(HashMap::new()),
            streams,
            next_id: AtomicU64::new(0),
            status,
            ids: Mutex::new(None),
            last_failure: Mutex::new(None),
            timeout: handle.client.inner.timeout,
            reconnect_wait: handle.client.inner.reconnect_wait,
        });
        let (first, opened) = oneshot::channel();
        let task = SocketTask {
            handle: handle.clone(),
            shared: Arc::downgrade(&shared),
            streams: shared.streams.clone(),
            status: status_tx,
            queue,
            first: Some(first),
            backlog: Backlog::new(),
            subscribed: HashSet::new(),
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
    /// the actor refuses yields its error (`auth.forbidden`) on the stream. Dropping the
    /// last stream of an event unsubscribes from it.
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
        let name = E::TARGET.name();
        let (stream, first) = self.shared.streams.open(name);
        if first {
            let _ = self.shared.outgoing.send(Outgoing::ListeningChanged);
        }
        stream
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
