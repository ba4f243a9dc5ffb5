//! A queue send from outside the actor, as the host makes it: the instance commits the
//! message (`runtime/queue.rs`), then the sender waits, when it asked to, for the message's
//! completion, with its registration among the host's waiters removed however the wait ends.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::oneshot;

use crate::actor::Actor;
use crate::error::ActorError;
use crate::runtime::command::Connect;
use crate::runtime::host::Host;
use crate::runtime::lookup::ActorId;
use crate::runtime::queue::{Completion, QueueCommand, check_size};
use crate::value::Value;

impl<A: Actor> Host<A> {
    /// Sends `body` to `queue` of actor `id` on behalf of the connection `connect`
    /// describes; with `wait`, waits up to that long (capped by
    /// [`HostConfig::max_queue_wait`](crate::HostConfig::max_queue_wait)) for its completion.
    pub(crate) async fn queue_send(
        self: &Arc<Self>,
        id: &ActorId,
        connect: Connect<A>,
        queue: A::Queue,
        body: Value,
        wait: Option<std::time::Duration>,
    ) -> Result<crate::queue::QueueSendResult<Value>, ActorError> {
        use crate::queue::QueueSendResult;
        check_size(&body, self.config.max_queue_message_size)?;
        let (reply, rx) = oneshot::channel();
        let cmd = crate::runtime::command::Command::Queue(QueueCommand::Send {
            connect,
            queue,
            body,
            wait: wait.is_some(),
            reply,
        });
        self.send(id, cmd).await;
        let accepted = rx.await.unwrap_or_else(|_| Err(ActorError::internal()))?;
        let (Some(wait), Some(mut completion)) = (wait, accepted.completion) else {
            return Ok(QueueSendResult::Completed(None));
        };
        let wait = wait.min(self.config.max_queue_wait);
        // However this wait ends (answered, timed out, or the caller went away and dropped
        // this future), its registration goes with `completion`.
        match tokio::time::timeout(wait, &mut completion.answer).await {
            Ok(Ok(Ok(response))) => Ok(QueueSendResult::Completed(response)),
            Ok(Ok(Err(err))) => Err(err),
            // The waiter was dropped (the host shut down): the completion was not seen.
            Ok(Err(_)) | Err(_) => Ok(QueueSendResult::TimedOut),
        }
    }
}

/// Each waiting sender's token and answer, by actor and message.
type ByMessage = HashMap<(ActorId, u64), Vec<(u64, oneshot::Sender<Completion>)>>;

/// Queue senders waiting for their message's completion, by actor and message. Several
/// may wait on one message (a send the engine delivered twice): each has a token of its
/// own, so one that stops waiting does not take the other's place.
#[derive(Default)]
pub(crate) struct Waiters {
    by_message: Mutex<ByMessage>,
    next_token: AtomicU64,
}

impl Waiters {
    fn lock(&self) -> MutexGuard<'_, ByMessage> {
        // Only inserts and removes run under it: a panic cannot leave it half-written.
        self.by_message.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers a sender waiting for message `seq` of actor `id`.
    pub(crate) fn wait_for(self: &Arc<Self>, id: &ActorId, seq: u64) -> Waiter {
        let (tx, answer) = oneshot::channel();
        let token = self.next_token.fetch_add(1, Ordering::Relaxed);
        let key = (id.clone(), seq);
        self.lock().entry(key).or_default().push((token, tx));
        Waiter {
            answer,
            waiters: self.clone(),
            id: id.clone(),
            seq,
            token,
        }
    }

    /// Tells the senders waiting for message `seq` (if any) how it ended.
    pub(crate) fn complete(&self, id: &ActorId, seq: u64, outcome: Completion) {
        let waiting = self.lock().remove(&(id.clone(), seq));
        for (_, waiter) in waiting.into_iter().flatten() {
            let _ = waiter.send(outcome.clone());
        }
    }

    /// Tells every sender waiting on a message of actor `id` that it will not be completed.
    pub(crate) fn fail_all(&self, id: &ActorId, err: &ActorError) {
        let mut waiters = self.lock();
        let keys: Vec<_> = waiters.keys().filter(|(a, _)| a == id).cloned().collect();
        for key in keys {
            for (_, waiter) in waiters.remove(&key).into_iter().flatten() {
                let _ = waiter.send(Err(err.clone()));
            }
        }
    }

    fn forget(&self, id: &ActorId, seq: u64, token: u64) {
        let mut waiters = self.lock();
        let key = (id.clone(), seq);
        if let Some(list) = waiters.get_mut(&key) {
            list.retain(|(t, _)| *t != token);
            if list.is_empty() {
                waiters.remove(&key);
            }
        }
    }
}

/// One sender's wait for its message's completion. Dropped, it leaves the waiters: after
/// the answer, a timeout, or unreceived (the sender went away before hearing its message
/// was accepted).
pub(crate) struct Waiter {
    answer: oneshot::Receiver<Completion>,
    waiters: Arc<Waiters>,
    id: ActorId,
    seq: u64,
    token: u64,
}

impl Drop for Waiter {
    fn drop(&mut self) {
        self.waiters.forget(&self.id, self.seq, self.token);
    }
}

#[cfg(test)]
impl Waiter {
    /// What the sender hears (for tests of other modules).
    pub(crate) async fn heard(&mut self) -> Option<Completion> {
        (&mut self.answer).await.ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn waiting(waiters: &Waiters) -> usize {
        waiters.lock().values().map(Vec::len).sum()
    }

    #[tokio::test]
    async fn every_waiter_of_a_message_hears_it_and_each_leaves_on_its_own() {
        let waiters = Arc::new(Waiters::default());
        let id = ActorId::new("a".to_owned());
        // Two waits on one message (a send delivered twice): one giving up early does not
        // end the other's.
        let first = waiters.wait_for(&id, 7);
        let mut second = waiters.wait_for(&id, 7);
        drop(first);
        assert_eq!(waiting(&waiters), 1);
        waiters.complete(&id, 7, Ok(None));
        assert!(matches!((&mut second.answer).await, Ok(Ok(None))));
        drop(second);
        assert_eq!(waiting(&waiters), 0);
        // A wait nobody received (its sender went away first) leaves when dropped.
        let unreceived = waiters.wait_for(&id, 8);
        assert_eq!(waiting(&waiters), 1);
        drop(unreceived);
        assert_eq!(waiting(&waiters), 0);
    }
}
