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
