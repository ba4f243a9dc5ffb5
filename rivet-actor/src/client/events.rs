//! Typed event streams of a connection, and the table that routes a connection's events to
//! them (shared by the network and the in-process client).
//!
//! Every stream holds at most [`EVENT_STREAM_CAPACITY`] events its reader has not taken. A
//! stream that falls further behind loses the newest events, not the connection: the
//! connection goes on (its calls are answered, its other streams fed), and the reader gets
//! [`ClientError::Lagged`] with the number lost, where they were lost, then the events that
//! came after.

use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::mpsc;

use crate::error::{ActorError, ClientError};
use crate::value::Value;

/// How many events one [`EventStream`] holds before it drops new ones (and reports how many
/// with [`ClientError::Lagged`]).
pub const EVENT_STREAM_CAPACITY: usize = 1024;

/// What a connection's event demultiplexer hands a stream.
pub(crate) enum EventItem {
    Event(Arc<Value>),
    Denied(ActorError),
    /// This many events were dropped here: the reader fell too far behind.
    Lagged(u64),
    /// Events were dropped, then the subscription was refused.
    LaggedThenDenied(u64, ActorError),
}

/// The feeding end of one stream.
pub(crate) struct StreamTx {
    tx: mpsc::Sender<EventItem>,
    /// Events dropped and not yet reported, shared with the reader. Drops happen only while
    /// the stream is full, so the gap sits after everything it holds: whoever takes the
    /// count reports it there, the feeder before its next event or the reader once it has
    /// taken everything.
    dropped: Arc<AtomicU64>,
}

impl StreamTx {
    /// Hands `payload` to the stream; `false` once its reader is gone.
    fn deliver(&self, payload: &Arc<Value>) -> bool {
        let dropped = self.dropped.swap(0, Ordering::AcqRel);
        if dropped > 0 {
            match self.tx.try_send(EventItem::Lagged(dropped)) {
                Ok(()) => {}
                Err(mpsc::error::TrySendError::Full(_)) => {
                    self.dropped.fetch_add(dropped + 1, Ordering::AcqRel);
                    return true;
                }
                Err(mpsc::error::TrySendError::Closed(_)) => return false,
            }
        }
        match self.tx.try_send(EventItem::Event(payload.clone())) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.dropped.fetch_add(1, Ordering::AcqRel);
                true
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    }
}

/// Tells the actor a connection no longer listens to an event (its last stream was dropped).
pub(crate) type Unsubscribe = Box<dyn Fn(&'static str) + Send + Sync>;

/// A connection's streams by event name.
#[derive(Clone)]
pub(crate) struct Streams(Arc<Table>);

struct Table {
    streams: Mutex<HashMap<&'static str, Vec<StreamTx>>>,
    /// Called, under the table's lock, when the last stream of an event is dropped: a
    /// subscription opened after it is then sent after the unsubscription, never before.
    unsubscribe: Unsubscribe,
}

impl Streams {
    /// An empty table whose connection unsubscribes with `unsubscribe`.
    pub(crate) fn new(unsubscribe: Unsubscribe) -> Self {
        Streams(Arc::new(Table {
            streams: Mutex::default(),
            unsubscribe,
        }))
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<&'static str, Vec<StreamTx>>> {
        self.0.lock()
    }

    /// A new stream of `name`'s events; `true` when it is the first one (the connection
    /// must subscribe).
    pub(crate) fn open<E>(&self, name: &'static str) -> (EventStream<E>, bool) {
        let (tx, rx) = mpsc::channel(EVENT_STREAM_CAPACITY);
        let dropped = Arc::new(AtomicU64::new(0));
        let mut streams = self.lock();
        let list = streams.entry(name).or_default();
        list.push(StreamTx {
            tx,
            dropped: dropped.clone(),
        });
        let first = list.len() == 1;
        let stream = EventStream {
            rx,
            dropped,
            denied: None,
            listening: Some(Listening {
                table: Arc::downgrade(&self.0),
                name,
            }),
            _event: PhantomData,
        };
        (stream, first)
    }

    /// Hands an event of `name` to every stream of it, forgetting the streams dropped.
    pub(crate) fn deliver(&self, name: &str, payload: &Arc<Value>) {
        if let Some(list) = self.lock().get_mut(name) {
            list.retain(|stream| stream.deliver(payload));
        }
    }

    /// Ends every stream of `name` with the refusal `err`; `false` if it has none.
    pub(crate) fn deny(&self, name: &str, err: &ActorError) -> bool {
        let Some(list) = self.lock().remove(name) else {
            return false;
        };
        for stream in list {
            // Events dropped before the refusal are reported before it (the stream ends with
            // the refusal).
            let dropped = stream.dropped.swap(0, Ordering::AcqRel);
            let item = match dropped {
                0 => EventItem::Denied(err.clone()),
                _ => EventItem::LaggedThenDenied(dropped, err.clone()),
            };
            // Behind a full stream, the refusal waits its turn: sent from a task.
            if let Err(mpsc::error::TrySendError::Full(item)) = stream.tx.try_send(item) {
                let tx = stream.tx.clone();
                if let Ok(rt) = tokio::runtime::Handle::try_current() {
                    rt.spawn(async move { tx.send(item).await });
                }
            }
        }
        true
    }

    /// The names listened to (re-subscribed after a reconnect).
    pub(crate) fn names(&self) -> Vec<&'static str> {
        let streams = self.lock();
        let listened = streams.iter().filter(|(_, list)| !list.is_empty());
        listened.map(|(name, _)| *name).collect()
    }

    /// Ends every stream (the connection is closed).
    pub(crate) fn clear(&self) {
        self.lock().clear();
    }
}

impl Table {
    fn lock(&self) -> MutexGuard<'_, HashMap<&'static str, Vec<StreamTx>>> {
        // Only pushes, removals and channel sends run under it: nothing half-written.
        self.streams.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Forgets `name`'s dropped streams; unsubscribes when none is left.
    fn forget_dropped(&self, name: &'static str) {
        let mut streams = self.lock();
        let Some(list) = streams.get_mut(name) else {
            // Refused (or the connection closed): nothing is subscribed.
            return;
        };
        list.retain(|stream| !stream.tx.is_closed());
        if list.is_empty() {
            streams.remove(name);
            (self.unsubscribe)(name);
        }
    }
}

/// Which table a stream is listed in, to leave it when dropped.
struct Listening {
    table: std::sync::Weak<Table>,
    name: &'static str,
}

/// The events of one declared type arriving on a connection.
///
/// ```
/// # use rivet_actor::prelude::*;
/// # #[derive(Serialize, Deserialize)] struct NewMessage { user_id: String, text: String }
/// # #[derive(Default, Serialize, Deserialize)] struct Room;
/// # #[actor(events(new_message = NewMessage))] impl Room {
/// #     #[action] fn say(&mut self, c: &mut ActionCtx<'_, Self>, text: String) {
/// #         c.broadcast(NewMessage { user_id: "ann".into(), text });
/// #     }
/// # }
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// # let registry = Registry::builder().in_memory().register::<Room>().build();
/// let conn = registry.get_or_create::<Room>("r").await.unwrap().connect().await.unwrap();
/// let mut news = conn.events::<NewMessage>();
/// conn.say("hi".into()).await.unwrap();
/// conn.close().await; // the stream ends once the connection is closed
/// while let Some(event) = news.next().await {
///     let NewMessage { user_id, text } = event.unwrap();
///     assert_eq!((user_id.as_str(), text.as_str()), ("ann", "hi"));
/// }
/// # });
/// ```
pub struct EventStream<E> {
    rx: mpsc::Receiver<EventItem>,
    /// Events dropped and not yet reported (see `StreamTx`).
    dropped: Arc<AtomicU64>,
    /// A refusal to yield after the lag reported just before it.
    denied: Option<ActorError>,
    listening: Option<Listening>,
    _event: PhantomData<fn() -> E>,
}

/// Dropping the last stream of an event unsubscribes the connection from it (the actor
/// stops sending it; a later [`events`](crate::client::ActorConn::events) subscribes again).
impl<E> Drop for EventStream<E> {
    fn drop(&mut self) {
        self.rx.close();
        let Some(Listening { table, name }) = self.listening.take() else {
            return;
        };
        if let Some(table) = table.upgrade() {
            table.forget_dropped(name);
        }
    }
}

impl<E: serde::de::DeserializeOwned> EventStream<E> {
    /// The next event; `None` once the connection is closed. A refused subscription yields
    /// its error once, then `None`. A reader more than [`EVENT_STREAM_CAPACITY`] events
    /// behind gets [`ClientError::Lagged`] where events were dropped, then the next ones.
    pub async fn next(&mut self) -> Option<Result<E, ClientError>> {
        if let Some(err) = self.denied.take() {
            self.rx.close();
            return Some(Err(ClientError::Actor(err)));
        }
        let item = match self.rx.try_recv() {
            Ok(item) => item,
            Err(empty_or_closed) => {
                // Everything held is taken: a gap, if there is one, is here.
                let dropped = self.dropped.swap(0, Ordering::AcqRel);
                if dropped > 0 {
                    return Some(Err(ClientError::Lagged(dropped)));
                }
                match empty_or_closed {
                    mpsc::error::TryRecvError::Empty => match self.rx.recv().await {
                        Some(item) => item,
                        // Closed while waiting: a drop counted just before is still told.
                        None => {
                            let dropped = self.dropped.swap(0, Ordering::AcqRel);
                            return (dropped > 0).then_some(Err(ClientError::Lagged(dropped)));
                        }
                    },
                    mpsc::error::TryRecvError::Disconnected => return None,
                }
            }
        };
        match item {
            EventItem::Event(payload) => Some(
                crate::value::from_value((*payload).clone())
                    .map_err(|err| ClientError::Decode(err.to_string())),
            ),
            EventItem::Denied(err) => {
                self.rx.close();
                Some(Err(ClientError::Actor(err)))
            }
            EventItem::Lagged(dropped) => Some(Err(ClientError::Lagged(dropped))),
            EventItem::LaggedThenDenied(dropped, err) => {
                // The refusal comes next, then the end.
                self.denied = Some(err);
                Some(Err(ClientError::Lagged(dropped)))
            }
        }
    }
}
