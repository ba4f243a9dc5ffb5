//! A queue send from outside the actor, as the host makes it: the instance commits the
//! message (`runtime/queue.rs`), then the sender waits, when it asked to, for the message's
//! completion, with its registration among the host's waiters removed however the wait ends.

use std::sync::Arc;

use tokio::sync::oneshot;

use crate::actor::Actor;
use crate::error::ActorError;
use crate::runtime::command::Connect;
use crate::runtime::host::Host;
use crate::runtime::lookup::ActorId;
use crate::runtime::queue::{QueueCommand, check_size};
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
        let (Some(wait), Some(completion)) = (wait, accepted.completion) else {
            return Ok(QueueSendResult::Completed(None));
        };
        let wait = wait.min(self.config.max_queue_wait);
        // However this wait ends (answered, timed out, or the caller went away and dropped
        // this future), its entry in the host's waiters goes with it.
        let _registered = Registered {
            host: self,
            id,
            seq: accepted.seq,
        };
        match tokio::time::timeout(wait, completion).await {
            Ok(Ok(Ok(response))) => Ok(QueueSendResult::Completed(response)),
            Ok(Ok(Err(err))) => Err(err),
            // The waiter was dropped (the host shut down): the completion was not seen.
            Ok(Err(_)) | Err(_) => Ok(QueueSendResult::TimedOut),
        }
    }
}

/// A sender's registration in [`Host`]'s waiters, removed when the sender stops waiting.
struct Registered<'a, A: Actor> {
    host: &'a Host<A>,
    id: &'a ActorId,
    seq: u64,
}

impl<A: Actor> Drop for Registered<'_, A> {
    fn drop(&mut self) {
        self.host.stop_waiting(self.id, self.seq);
    }
}
