//! Messages the `#[run]` loop took, on their way to it, and putting back those it never
//! received.
//!
//! The instance deletes what the loop takes before handing it over (at most once). The loop
//! may stop waiting for a take the instance has already answered: its `next()` was the
//! losing branch of a `select!`, or was wrapped in a timeout. Those messages are in no
//! queue and in no hand of the loop, so the [`Handover`] carrying them writes them back
//! when it is dropped unclaimed: they are taken again, in their order.

use std::sync::Arc;

use crate::actor::Actor;
use crate::error::ActorError;
use crate::queue::Taken;
use crate::runtime::command::Command;
use crate::runtime::host::Host;
use crate::runtime::instance::Instance;
use crate::runtime::lookup::ActorId;
use crate::runtime::queue::{QueueCommand, Stored, row_key, row_value};
use crate::storage::ActorWrite;

/// Taken messages in the reply to a `#[run]` loop's take.
pub(crate) struct Handover<A: Actor> {
    messages: Vec<Stored<A>>,
    /// Where to send them back if nobody claims them.
    owner: Option<(Arc<Host<A>>, ActorId)>,
}

impl<A: Actor> Handover<A> {
    /// `messages`, deleted from `id`'s storage, for its loop.
    pub(crate) fn new(messages: Vec<Stored<A>>, host: Arc<Host<A>>, id: ActorId) -> Self {
        Self {
            messages,
            owner: Some((host, id)),
        }
    }

    /// Nothing (a take that does not wait, with nothing to take).
    pub(crate) fn empty() -> Self {
        Self {
            messages: Vec::new(),
            owner: None,
        }
    }

    /// The messages, now the loop's to complete.
    pub(crate) fn claim(mut self) -> Vec<Taken> {
        self.owner = None;
        let messages = std::mem::take(&mut self.messages);
        messages
            .into_iter()
            .map(|m| Taken {
                seq: m.seq,
                created_at_ms: m.created_at_ms,
                body: m.body,
            })
            .collect()
    }
}

impl<A: Actor> Drop for Handover<A> {
    fn drop(&mut self) {
        let Some((host, id)) = self.owner.take() else {
            return;
        };
        if self.messages.is_empty() {
            return;
        }
        let messages = std::mem::take(&mut self.messages);
        let cmd = Command::Queue(QueueCommand::PutBack { messages });
        // Dropped in the loop's task or the instance's: both run in a runtime.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move { host.send(&id, cmd).await });
        }
    }
}

impl<A: Actor> Instance<A> {
    /// Writes back messages handed to the loop that never reached it, then offers them to
    /// the loop's waiting takes. If the write fails they are lost (they were deleted): their
    /// waiting senders hear `queue.consumer_stopped`, as for messages a stopped loop held.
    pub(super) async fn put_back(&mut self, messages: Vec<Stored<A>>) {
        let mut write = ActorWrite::default();
        for message in &messages {
            match row_value(message.queue, message.created_at_ms, &message.body) {
                Ok(row) => write.kv_put.push((row_key(message.seq), row)),
                // It was encoded the same way when it was sent.
                Err(_) => tracing::error!(
                    actor = A::NAME,
                    seq = message.seq,
                    "a queue message cannot be encoded again"
                ),
            }
        }
        if self.write(write).await.is_err() {
            let id = ActorId(self.env.meta.id.clone());
            for message in messages {
                let stopped = Err(ActorError::queue_consumer_stopped());
                self.host.complete(&id, message.seq, stopped);
            }
            return;
        }
        self.env.outbox.queue.restore(messages);
        self.serve_consumers().await;
    }
}
