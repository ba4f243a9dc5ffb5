//! Typed event streams of a connection.

use std::marker::PhantomData;
use std::sync::Arc;

use tokio::sync::mpsc;

use crate::error::{ActorError, ClientError};
use crate::value::Value;

/// What a connection's event demultiplexer hands a stream.
pub(crate) enum EventItem {
    Event(Arc<Value>),
    Denied(ActorError),
}

/// The events of one declared type arriving on a connection.
///
/// ```ignore
/// let mut news = conn.events::<NewMessage>();
/// while let Some(event) = news.next().await {
///     let NewMessage { user_id, text } = event?;
/// }
/// ```
pub struct EventStream<E> {
    pub(crate) rx: mpsc::UnboundedReceiver<EventItem>,
    pub(crate) _event: PhantomData<fn() -> E>,
}

impl<E: serde::de::DeserializeOwned> EventStream<E> {
    /// The next event; `None` once the connection is closed. A refused subscription yields
    /// its error once, then `None`.
    pub async fn next(&mut self) -> Option<Result<E, ClientError>> {
        match self.rx.recv().await? {
            EventItem::Event(payload) => Some(
                crate::value::from_value((*payload).clone())
                    .map_err(|err| ClientError::Decode(err.to_string())),
            ),
            EventItem::Denied(err) => {
                self.rx.close();
                Some(Err(ClientError::Actor(err)))
            }
        }
    }
}
