//! Queues from the actor's side: taking and completing messages in turns
//! ([`ActorCtx::queue`](crate::ActorCtx::queue)), and the `#[run]` loop that waits for them
//! ([`RunCtx`]).
//!
//! A queue is declared with its message type and, optionally, the type its consumer answers
//! with: `#[actor(queues(jobs = Job, questions = Question -> Answer))]`. Only declared types
//! can be taken or sent, so a misspelt queue does not compile.
//!
//! # Delivery
//!
//! - **In a turn** (`c.queue().try_next::<Job>()` in an action, a hook or a scheduled call)
//!   the message is deleted in the same storage commit as the turn's state change: exactly
//!   once with its effect. A turn that fails puts it back.
//! - **In the `#[run]` loop** (`c.queue().next::<Job>().await`) the message is deleted before
//!   the loop receives it: at most once. For exactly-once processing from the loop, wait for
//!   messages there and take them in a turn (`c.this()` calling an action that uses
//!   `try_next`).
//!
//! A sender waiting for completion (`send_and_wait`, or the HTTP body's `wait: true`) gets
//! the consumer's response when the message is completed — in a turn, when the turn commits
//! (a message taken but not explicitly completed completes without a response); from the
//! loop, when it calls [`RunQueues::complete`]. A message the loop took and had not
//! completed when the loop ended (returned, failed, panicked, or was stopped because the
//! actor sleeps) answers its sender `queue.consumer_stopped`: it is gone, not still queued.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::actor::{Actor, Queue, Target};
use crate::context::ActorCtx;
use crate::context::effects::TurnEffects;
use crate::error::{ActorError, Error};
use crate::value::{Value, from_value, to_value};

mod run;

pub use run::{AnyMessage, RunCtx, RunQueues};

/// A message handed to a consumer, before it is decoded as its queue's type.
pub(crate) struct Taken {
    pub(crate) seq: u64,
    /// The wire name of the queue it was taken from.
    pub(crate) queue: &'static str,
    pub(crate) created_at_ms: i64,
    pub(crate) body: Value,
}

/// Which queues a take draws from, the oldest message among them first.
pub(crate) enum Draw<A: Actor> {
    /// Every queue of the actor.
    Any,
    /// One queue.
    One(A::Queue),
    /// Any of these.
    Among(Box<[A::Queue]>),
}

impl<A: Actor> Clone for Draw<A> {
    fn clone(&self) -> Self {
        match self {
            Draw::Any => Draw::Any,
            Draw::One(one) => Draw::One(*one),
            Draw::Among(list) => Draw::Among(list.clone()),
        }
    }
}

impl<A: Actor> Draw<A> {
    /// Whether a message of `queue` is drawn.
    pub(crate) fn admits(&self, queue: A::Queue) -> bool {
        match self {
            Draw::Any => true,
            Draw::One(one) => *one == queue,
            Draw::Among(list) => list.contains(&queue),
        }
    }
}

/// One message of queue `T`, taken by a consumer.
///
/// ```
/// # use rivet_actor::prelude::*;
/// # #[derive(Serialize, Deserialize)] struct Job { task: String }
/// # #[derive(Serialize, Deserialize)] struct JobDone { ok: bool }
/// # #[derive(Default, Serialize, Deserialize)] struct Worker { done: Vec<String> }
/// # #[actor(queues(jobs = Job -> JobDone))] impl Worker {
/// # #[action] fn work(&mut self, c: &mut ActionCtx<'_, Self>) -> Result<usize, Error> {
/// if let Some(job) = c.queue().try_next::<Job>() {
///     self.done.push(job.body.task.clone());
///     c.queue().complete(&job, JobDone { ok: true })?;
/// }
/// # Ok(self.done.len()) } }
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// # let test = ActorTest::<Worker>::new(); let w = test.get_or_create("w").await.unwrap();
/// # w.send(Job { task: "a".into() }).await.unwrap();
/// # assert_eq!(w.work().await.unwrap(), 1);
/// # });
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct QueueMessage<T> {
    /// The message's id: its position in the actor's arrival order.
    pub id: u64,
    /// The message.
    pub body: T,
    /// When it was sent.
    pub created_at: SystemTime,
}

fn decode<A: Actor, T: Queue<A>>(taken: Taken) -> Result<QueueMessage<T>, (u64, ActorError)> {
    match from_value::<T>(taken.body) {
        Ok(body) => Ok(QueueMessage {
            id: taken.seq,
            body,
            created_at: UNIX_EPOCH + Duration::from_millis(taken.created_at_ms.max(0) as u64),
        }),
        Err(err) => Err((
            taken.seq,
            ActorError::queue_invalid_message(T::TARGET.name(), err),
        )),
    }
}

/// The queues of the actor, inside a turn: [`ActorCtx::queue`](crate::ActorCtx::queue).
pub struct TurnQueues<'a, A: Actor> {
    effects: &'a dyn TurnEffects<A>,
}

impl<A: Actor> TurnQueues<'_, A> {
    /// Takes the oldest waiting message of queue `T`, if any. It is deleted when this turn
    /// commits (with the state), and put back if the turn fails.
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// # #[derive(Serialize, Deserialize)] struct Job { task: String }
    /// # #[derive(Default, Serialize, Deserialize)] struct Worker { log: Vec<String> }
    /// # #[actor(queues(jobs = Job))] impl Worker {
    /// #[action]
    /// fn work(&mut self, c: &mut ActionCtx<'_, Self>) -> usize {
    ///     let mut done = 0;
    ///     while let Some(job) = c.queue().try_next::<Job>() {
    ///         self.log.push(job.body.task);
    ///         done += 1;
    ///     }
    ///     done
    /// }
    /// # }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let test = ActorTest::<Worker>::new(); let w = test.get_or_create("w").await.unwrap();
    /// # for task in ["a", "b"] { w.send(Job { task: task.into() }).await.unwrap(); }
    /// # assert_eq!(w.work().await.unwrap(), 2);
    /// # assert_eq!(w.work().await.unwrap(), 0);
    /// # });
    /// ```
    pub fn try_next<T: Queue<A>>(&self) -> Option<QueueMessage<T>> {
        self.try_next_batch(1).pop()
    }

    /// Takes up to `max` of the oldest waiting messages of queue `T`.
    ///
    /// A message whose body does not decode as `T` (a client sent another shape) is taken
    /// too, skipped, and its sender told `queue.invalid_message`.
    pub fn try_next_batch<T: Queue<A>>(&self, max: usize) -> Vec<QueueMessage<T>> {
        let mut out = Vec::new();
        while out.len() < max {
            let taken = self.effects.take_queued(T::TARGET, max - out.len());
            if taken.is_empty() {
                break;
            }
            for message in taken {
                match decode::<A, T>(message) {
                    Ok(message) => out.push(message),
                    Err((seq, err)) => {
                        tracing::warn!(actor = A::NAME, queue = T::TARGET.name(), seq, %err, "a queue message does not decode; skipped");
                        self.effects.complete_queued(seq, Err(err));
                    }
                }
            }
        }
        out
    }

    /// Completes a message taken in this turn with `response`, which its sender (if it
    /// waits) receives once the turn commits.
    ///
    /// # Errors
    /// The message was not taken in this turn, or the response cannot be encoded.
    pub fn complete<T: Queue<A>>(
        &self,
        message: &QueueMessage<T>,
        response: T::Completion,
    ) -> Result<(), Error> {
        let value = to_value(&response)
            .map_err(|err| Error::internal(format!("the completion cannot be encoded: {err}")))?;
        if self.effects.complete_queued(message.id, Ok(Some(value))) {
            Ok(())
        } else {
            Err(Error::internal(format!(
                "message {} was not taken in this turn",
                message.id
            )))
        }
    }

    /// Sends `body` to this actor's own queue `T`, with this turn: the message is written
    /// when the turn commits (not at all if it fails), then taken as a client's would be,
    /// by a later turn or by the `#[run]` loop. Its id.
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// # #[derive(Serialize, Deserialize)] struct Job { task: String }
    /// # #[derive(Default, Serialize, Deserialize)] struct Worker { log: Vec<String> }
    /// # #[actor(queues(jobs = Job))] impl Worker {
    /// #[action]
    /// fn plan(&mut self, c: &mut ActionCtx<'_, Self>) -> Result<(), Error> {
    ///     for task in ["fetch", "index"] {
    ///         c.queue().send(Job { task: task.into() })?;
    ///     }
    ///     Ok(())
    /// }
    ///
    /// #[action]
    /// fn work(&mut self, c: &mut ActionCtx<'_, Self>) -> Vec<String> {
    ///     while let Some(job) = c.queue().try_next::<Job>() {
    ///         self.log.push(job.body.task);
    ///     }
    ///     self.log.clone()
    /// }
    /// # }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let test = ActorTest::<Worker>::new(); let w = test.get_or_create("w").await.unwrap();
    /// w.plan().await.unwrap();
    /// assert_eq!(w.work().await.unwrap(), ["fetch", "index"]);
    /// # });
    /// ```
    ///
    /// # Errors
    /// `queue.full` when the actor's queues hold
    /// [`HostConfig::max_queue_size`](crate::HostConfig::max_queue_size) messages (this
    /// turn's sends included), `queue.message_too_large` past
    /// [`HostConfig::max_queue_message_size`](crate::HostConfig::max_queue_message_size),
    /// an internal error if the body cannot be encoded.
    pub fn send<T: Queue<A>>(&self, body: T) -> Result<u64, Error> {
        let value = to_value(&body)
            .map_err(|err| Error::internal(format!("the message cannot be encoded: {err}")))?;
        self.effects
            .send_queued(T::TARGET, value)
            .map_err(Error::from)
    }

    /// How many messages wait in queue `T`.
    pub fn waiting<T: Queue<A>>(&self) -> usize {
        self.effects.waiting(Some(T::TARGET))
    }

    /// How many messages wait in all of the actor's queues.
    pub fn waiting_in_all(&self) -> usize {
        self.effects.waiting(None)
    }
}

impl<'a, A: Actor> ActorCtx<'a, A> {
    /// The actor's queues: take and complete messages inside this turn.
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// # #[derive(Serialize, Deserialize)] struct Job { task: String }
    /// # #[derive(Default, Serialize, Deserialize)] struct Worker { log: Vec<String> }
    /// # #[actor(queues(jobs = Job))] impl Worker {
    /// #[action]
    /// fn backlog(&self, c: &ActionCtx<'_, Self>) -> usize {
    ///     c.queue().waiting::<Job>()
    /// }
    /// # }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let test = ActorTest::<Worker>::new(); let w = test.get_or_create("w").await.unwrap();
    /// # w.send(Job { task: "a".into() }).await.unwrap();
    /// # assert_eq!(w.backlog().await.unwrap(), 1);
    /// # });
    /// ```
    pub fn queue(&self) -> TurnQueues<'_, A> {
        TurnQueues {
            effects: self.effects,
        }
    }
}

/// How a send that waited for its message ended.
///
/// ```
/// use rivet_actor::queue::QueueSendResult;
///
/// let done: QueueSendResult<u32> = QueueSendResult::Completed(Some(7));
/// assert_eq!(done.response(), Some(&7));
/// assert!(!QueueSendResult::<u32>::TimedOut.is_completed());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum QueueSendResult<C> {
    /// A consumer completed the message, with its response if it gave one.
    Completed(Option<C>),
    /// The wait ended first; the message stays queued (or is being processed).
    TimedOut,
}

impl<C> QueueSendResult<C> {
    /// Whether the message was completed in time.
    pub fn is_completed(&self) -> bool {
        matches!(self, QueueSendResult::Completed(_))
    }

    /// The consumer's response, if completed with one.
    pub fn response(&self) -> Option<&C> {
        match self {
            QueueSendResult::Completed(response) => response.as_ref(),
            QueueSendResult::TimedOut => None,
        }
    }
}
