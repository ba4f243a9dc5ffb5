//! Serving the `#[run]` loop's takes: messages it took, on their way to it, and putting
//! back those it never received.
//!
//! The instance deletes what the loop takes before handing it over (at most once). The loop
//! may stop waiting for a take the instance has already answered: its `next()` was the
//! losing branch of a `select!`, or was wrapped in a timeout. Those messages are in no
//! queue and in no hand of the loop, so they are written back (`QueueCommand::PutBack`):
//! - a reply the loop stopped waiting for is taken out of its channel and kept by the loop,
//!   which sends it back ahead of its next take, so the messages are taken again first, in
//!   their order (`run_loop.rs`);
//! - a reply the instance could not deliver is written back by the instance at once;
//! - a [`Handover`] dropped unclaimed anywhere else (the loop ended) sends itself back.

use std::sync::Arc;

use crate::actor::Actor;
use crate::error::ActorError;
use crate::queue::Taken;
use crate::runtime::command::Command;
use crate::runtime::host::Host;
use crate::runtime::instance::Instance;
use crate::runtime::lookup::ActorId;
use crate::runtime::queue::{Consumer, QueueCommand, Stored, matching, row_key, row_value};
use crate::runtime::queue_send::Waiters;
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
                queue: crate::actor::Target::name(m.queue),
                created_at_ms: m.created_at_ms,
                body: m.body,
            })
            .collect()
    }
}

impl<A: Actor> Handover<A> {
    /// The messages, to send back; `None` when there are none (an empty handover has no
    /// owner).
    pub(crate) fn put_back(mut self) -> Option<PutBack<A>> {
        let (host, actor) = self.owner.take()?;
        Some(PutBack {
            messages: std::mem::take(&mut self.messages),
            waiters: host.waiters.clone(),
            actor,
        })
        .filter(|put_back| !put_back.messages.is_empty())
    }

    /// The messages, for the instance that made the handover to write back itself.
    pub(crate) fn into_messages(mut self) -> Vec<Stored<A>> {
        self.owner = None;
        std::mem::take(&mut self.messages)
    }
}

impl<A: Actor> Drop for Handover<A> {
    fn drop(&mut self) {
        if self.messages.is_empty() {
            return;
        }
        let Some((host, id)) = self.owner.take() else {
            return;
        };
        let put_back = PutBack {
            messages: std::mem::take(&mut self.messages),
            waiters: host.waiters.clone(),
            actor: id.clone(),
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                let cmd = Command::Queue(QueueCommand::PutBack(put_back));
                runtime.spawn(async move { host.send(&id, cmd).await });
            }
            // No runtime: the actor is gone with it.
            Err(_) => put_back.lost(),
        }
    }
}

/// Messages on their way back to their queue.
pub(crate) struct PutBack<A: Actor> {
    messages: Vec<Stored<A>>,
    waiters: Arc<Waiters>,
    actor: ActorId,
}

impl<A: Actor> PutBack<A> {
    /// They cannot be written back (the actor is gone, or the write failed): their waiting
    /// senders hear `queue.consumer_stopped`, as for messages a stopped loop held.
    pub(crate) fn lost(self) {
        drop(self);
    }

    /// The messages, to write back (the put-back is then empty).
    pub(crate) fn take_messages(&mut self) -> Vec<Stored<A>> {
        std::mem::take(&mut self.messages)
    }
}

impl<A: Actor> Drop for PutBack<A> {
    /// Dropped with its messages still in it (written back by no one: the take sending it
    /// back was cancelled while the mailbox was full, or the actor is gone): they were
    /// deleted, so their waiting senders hear `queue.consumer_stopped` rather than wait on.
    fn drop(&mut self) {
        for message in std::mem::take(&mut self.messages) {
            let stopped = Err(ActorError::queue_consumer_stopped());
            self.waiters.complete(&self.actor, message.seq, stopped);
        }
    }
}

impl<A: Actor> Instance<A> {
    /// Writes back messages handed to the loop that never reached it, then offers them to
    /// the loop's waiting takes.
    pub(super) async fn put_back(&mut self, mut put_back: PutBack<A>) {
        self.write_back(put_back.take_messages()).await;
        self.serve_consumers().await;
    }

    /// Writes `messages` back to storage and makes them ready to take again. If the write
    /// fails they are lost (they were deleted): their waiting senders hear
    /// `queue.consumer_stopped`; unless the write was lost, not refused (it may have landed:
    /// the reload finds them, or not, and the senders' waits end either way).
    pub(super) async fn write_back(&mut self, messages: Vec<Stored<A>>) {
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
            if !self.gate.is_lost() {
                let put_back = PutBack {
                    messages,
                    waiters: self.host.waiters.clone(),
                    actor: ActorId(self.env.meta.id.clone()),
                };
                put_back.lost();
            }
            return;
        }
        self.env.outbox.queue.restore(messages);
    }

    /// Hands waiting messages to the `#[run]` loop's waiting takes, deleting them durably
    /// first.
    pub(super) async fn serve_consumers(&mut self) {
        loop {
            let consumer = {
                let mut state = self.env.outbox.queue.lock();
                state.consumers.retain(|c| !c.reply.is_closed());
                let Some(index) = state
                    .consumers
                    .iter()
                    .position(|c| !matching(&state.ready, &c.draw, 1).is_empty())
                else {
                    return;
                };
                state.consumers.remove(index)
            };
            if self.serve(consumer).await.is_err() {
                // A storage failure: the messages are back; the take is dropped (its loop
                // asks again).
                return;
            }
        }
    }

    /// Takes the messages `consumer` asks for, deletes them durably and hands them over;
    /// gives the consumer back when there is nothing for it or the delete failed.
    pub(super) async fn serve(&mut self, consumer: Consumer<A>) -> Result<(), Consumer<A>> {
        if consumer.reply.is_closed() {
            // Its loop stopped waiting: nothing is taken for it.
            return Ok(());
        }
        let taken: Vec<Stored<A>> = {
            let mut state = self.env.outbox.queue.lock();
            let max = consumer.max.min(self.host.storage.max_rows_per_write());
            let seqs = matching(&state.ready, &consumer.draw, max);
            seqs.into_iter()
                .filter_map(|seq| state.ready.remove(&seq))
                .collect()
        };
        if taken.is_empty() {
            return Err(consumer);
        }
        let write = ActorWrite {
            kv_delete: taken.iter().map(|m| row_key(m.seq)).collect(),
            ..Default::default()
        };
        if self.write(write).await.is_err() {
            let mut state = self.env.outbox.queue.lock();
            for message in taken {
                state.ready.insert(message.seq, message);
            }
            return Err(consumer);
        }
        let id = ActorId(self.env.meta.id.clone());
        if let Err(handover) = consumer
            .reply
            .send(Handover::new(taken, self.host.clone(), id))
        {
            // The loop went away meanwhile: the messages go back at once.
            self.write_back(handover.into_messages()).await;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate as rivet_actor;
    use rivet_actor::prelude::*;

    #[derive(Serialize, Deserialize)]
    pub struct Job;

    #[derive(Default, Serialize, Deserialize)]
    pub struct Probe;

    #[rivet_actor::actor(queues(jobs = Job))]
    impl Probe {}

    #[tokio::test]
    async fn a_put_back_dropped_undelivered_answers_its_senders() {
        let waiters = Arc::new(Waiters::default());
        let actor = ActorId::new("a".to_owned());
        let mut sender = waiters.wait_for(&actor, 3);
        let message = Stored {
            seq: 3,
            queue: ProbeQueue::Jobs,
            created_at_ms: 0,
            body: crate::value::Value::Null,
        };
        // As when the take sending it back is cancelled while the mailbox is full.
        drop(PutBack::<Probe> {
            messages: vec![message],
            waiters: waiters.clone(),
            actor,
        });
        let heard = tokio::time::timeout(std::time::Duration::from_secs(5), sender.heard());
        let heard = heard.await.expect("the sender heard").expect("an answer");
        assert_eq!(heard.unwrap_err().code, "consumer_stopped");
    }
}
