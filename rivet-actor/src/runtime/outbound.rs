//! What an instance pushes to a connection besides action replies — events, and the close
//! that ends it — through a channel bounded in bytes: a consumer that falls that far behind
//! is cut off (told `message.slow_consumer`) rather than buffered without end, and neither
//! the actor nor the other subscribers wait for it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use tokio::sync::mpsc;

use crate::error::ActorError;
use crate::value::Value;

/// What an instance pushes to a connection outside of action replies.
#[derive(Clone, Debug)]
pub enum Outbound {
    /// A declared event: its wire name and its single argument.
    Event {
        /// The event's wire name.
        name: &'static str,
        /// The event value (the wire's `args` is `[payload]`).
        payload: Arc<Value>,
        /// Its approximate encoded size, counted against the connection's bound.
        size: usize,
    },
    /// The connection ends: the actor was destroyed or failed to restart, or the consumer
    /// fell too far behind. (Boxed: tokio allocates a channel's first block of 32 slots up
    /// front, so the variant's size is paid 32 times by every idle connection.)
    Close(Box<ActorError>),
    /// The actor closed the connection (`conn.disconnect(reason)`): a normal close with
    /// this reason.
    Disconnect(Box<str>),
}

/// The instance's end of a connection's outgoing channel.
#[derive(Clone, Debug)]
pub struct Sink {
    tx: mpsc::UnboundedSender<Outbound>,
    queued: Arc<AtomicUsize>,
    limit: usize,
    cut: Arc<AtomicBool>,
}

/// The connection's end: what its session (or in-process connection) reads.
#[derive(Debug)]
pub struct Outlet {
    rx: mpsc::UnboundedReceiver<Outbound>,
    queued: Arc<AtomicUsize>,
}

/// A channel holding at most `limit` bytes of events not yet taken by the consumer.
pub fn channel(limit: usize) -> (Sink, Outlet) {
    let (tx, rx) = mpsc::unbounded_channel();
    let queued = Arc::new(AtomicUsize::new(0));
    let sink = Sink {
        tx,
        queued: queued.clone(),
        limit,
        cut: Arc::default(),
    };
    (sink, Outlet { rx, queued })
}

impl Sink {
    /// Queues an event of about `size` bytes; past the bound, the connection is cut off:
    /// it gets `message.slow_consumer` and nothing more.
    pub(crate) fn event(&self, name: &'static str, payload: &Arc<Value>, size: usize) {
        if self.cut.load(Ordering::Relaxed) {
            return;
        }
        let queued = self.queued.fetch_add(size, Ordering::Relaxed) + size;
        if queued > self.limit {
            self.queued.fetch_sub(size, Ordering::Relaxed);
            self.cut.store(true, Ordering::Relaxed);
            let _ = self
                .tx
                .send(Outbound::Close(Box::new(ActorError::slow_consumer(
                    self.limit,
                ))));
            return;
        }
        let out = Outbound::Event {
            name,
            payload: payload.clone(),
            size,
        };
        if self.tx.send(out).is_err() {
            self.queued.fetch_sub(size, Ordering::Relaxed);
        }
    }

    /// Ends the connection with `err`.
    pub(crate) fn close(&self, err: ActorError) {
        self.cut.store(true, Ordering::Relaxed);
        let _ = self.tx.send(Outbound::Close(Box::new(err)));
    }

    /// Ends the connection normally, with `reason` (the actor asked).
    pub(crate) fn disconnect(&self, reason: String) {
        self.cut.store(true, Ordering::Relaxed);
        let _ = self.tx.send(Outbound::Disconnect(reason.into_boxed_str()));
    }
}

impl Outlet {
    /// The next message; `None` once the instance dropped its end.
    pub async fn recv(&mut self) -> Option<Outbound> {
        let out = self.rx.recv().await?;
        if let Outbound::Event { size, .. } = &out {
            self.queued.fetch_sub(*size, Ordering::Relaxed);
        }
        Some(out)
    }
}

/// About how many bytes `value` takes on the wire (no encoding is done: this runs once per
/// event, before fan-out).
pub(crate) fn approx_size(value: &Value) -> usize {
    match value {
        Value::Bytes(bytes) => bytes.len() + 9,
        Value::Text(text) => text.len() + 9,
        Value::Array(items) => 9 + items.iter().map(approx_size).sum::<usize>(),
        Value::Map(entries) => {
            9 + entries
                .iter()
                .map(|(k, v)| approx_size(k) + approx_size(v))
                .sum::<usize>()
        }
        Value::Tag(_, inner) => 9 + approx_size(inner),
        _ => 9,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_consumer_past_the_bound_is_cut_off_and_nothing_more_is_queued() {
        let (sink, mut outlet) = channel(1000);
        let payload = Arc::new(Value::Text("x".repeat(291)));
        let size = approx_size(&payload);
        assert_eq!(size, 300);
        for _ in 0..10 {
            sink.event("e", &payload, size);
        }
        // Three fit; the fourth cut the connection off; the rest were dropped.
        for _ in 0..3 {
            assert!(matches!(outlet.recv().await, Some(Outbound::Event { .. })));
        }
        match outlet.recv().await {
            Some(Outbound::Close(err)) => assert_eq!(err.code, "slow_consumer"),
            other => panic!("expected the cut-off, got {other:?}"),
        }
        drop(sink);
        assert!(outlet.recv().await.is_none());
    }

    #[tokio::test]
    async fn taken_events_make_room_again() {
        let (sink, mut outlet) = channel(600);
        let payload = Arc::new(Value::Text("x".repeat(291)));
        for _ in 0..20 {
            sink.event("e", &payload, 300);
            assert!(matches!(outlet.recv().await, Some(Outbound::Event { .. })));
        }
    }
}
