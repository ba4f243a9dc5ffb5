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

use std::marker::PhantomData;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::watch;

use crate::actor::{Actor, Queue, Target};
use crate::context::effects::{RunLoopEffects, TurnEffects};
use crate::context::{ActorCtx, ActorMeta, SharedData, This};
use crate::error::{ActorError, Error};
use crate::value::{Value, from_value, to_value};

/// A message handed to a consumer, before it is decoded as its queue's type.
pub(crate) struct Taken {
    pub(crate) seq: u64,
    pub(crate) created_at_ms: i64,
    pub(crate) body: Value,
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

/// The context of an actor's `#[run]` loop: a task started after every wake, beside the
/// actor's turns, and stopped before it sleeps or is destroyed. It reaches the state only
/// through turns: [`RunCtx::this`] calls the actor's actions.
///
/// ```
/// # use rivet_actor::prelude::*;
/// # #[derive(Serialize, Deserialize)] struct Question { text: String }
/// # #[derive(Serialize, Deserialize)] struct Answer { text: String }
/// # #[derive(Default, Serialize, Deserialize)] struct Helper { answers: Vec<String> }
/// # #[actor(queues(questions = Question -> Answer))] impl Helper {
/// # #[action] fn record(&mut self, text: String) { self.answers.push(text); }
/// #[run]
/// async fn run(c: RunCtx<Self>) -> Result<(), UserError> {
///     while let Some(question) = c.queue().next::<Question>().await {
///         let answer = Answer { text: question.body.text.to_uppercase() };
///         c.this().record(answer.text.clone()).await.ok();
///         c.queue().complete(&question, answer);
///     }
///     Ok(()) // the actor is stopping
/// }
/// # }
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// # let test = ActorTest::<Helper>::new(); let h = test.get_or_create("h").await.unwrap();
/// # let wait = std::time::Duration::from_secs(5);
/// # let done = h.send_and_wait(Question { text: "hi".into() }, wait).await.unwrap();
/// # assert_eq!(done.response().unwrap().text, "HI");
/// # });
/// ```
pub struct RunCtx<A: Actor> {
    effects: Arc<dyn RunLoopEffects<A>>,
    id: Arc<str>,
    key: Arc<[String]>,
    stop: watch::Receiver<bool>,
    data: Arc<SharedData>,
}

impl<A: Actor> Clone for RunCtx<A> {
    fn clone(&self) -> Self {
        Self {
            effects: self.effects.clone(),
            id: self.id.clone(),
            key: self.key.clone(),
            stop: self.stop.clone(),
            data: self.data.clone(),
        }
    }
}

impl<A: Actor> RunCtx<A> {
    pub(crate) fn new(
        effects: Arc<dyn RunLoopEffects<A>>,
        meta: &ActorMeta,
        stop: watch::Receiver<bool>,
    ) -> Self {
        Self {
            effects,
            id: meta.id.clone(),
            key: meta.key.clone(),
            stop,
            data: meta.data.clone(),
        }
    }

    /// The actor's stable id.
    pub fn actor_id(&self) -> &str {
        &self.id
    }

    /// The actor's key.
    pub fn key(&self) -> &[String] {
        &self.key
    }

    /// Registry-wide data of type `T` (see [`RegistryBuilder::data`](crate::RegistryBuilder::data)).
    pub fn data<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.data.get::<T>()
    }

    /// The actor's typed client to itself: each call is a turn (no connection, no
    /// `can_invoke`).
    pub fn this(&self) -> This<A> {
        self.effects.this()
    }

    /// Runs `work` as a turn with the actor's state: what RivetKit's `run` handler does with
    /// `c.state` and `c.broadcast`. The loop is not a turn itself, so the state is reached
    /// this way; the turn waits in line behind the others, commits like an action and
    /// answers once durable (see [`This::turn`]). An `Err` from `work` rolls it back.
    ///
    /// ```
    /// use rivet_actor::prelude::*;
    ///
    /// #[derive(Serialize, Deserialize)]
    /// pub struct Job { size: u32 }
    ///
    /// #[derive(Default, Serialize, Deserialize)]
    /// pub struct Worker { done: u32, bytes: u64 }
    ///
    /// #[actor(queues(jobs = Job -> bool), events(progress = u32))]
    /// impl Worker {
    ///     #[run]
    ///     async fn run(c: RunCtx<Self>) {
    ///         while let Some(job) = c.queue().next::<Job>().await {
    ///             let size = job.body.size;
    ///             let counted = c.turn(move |state, c| {
    ///                 state.done += 1;
    ///                 state.bytes += u64::from(size);
    ///                 c.broadcast(state.done); // to `progress` subscribers, once durable
    ///                 Ok(state.done)
    ///             });
    ///             let ok = counted.await.is_ok();
    ///             c.queue().complete(&job, ok);
    ///         }
    ///     }
    ///
    ///     #[action]
    ///     fn done(&self) -> u32 {
    ///         self.done
    ///     }
    /// }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let test = ActorTest::<Worker>::new();
    /// # let worker = test.get_or_create("w").await.unwrap();
    /// # let wait = std::time::Duration::from_secs(5);
    /// # let sent = worker.send_and_wait(Job { size: 10 }, wait).await.unwrap();
    /// # assert_eq!(sent.response(), Some(&true));
    /// # assert_eq!(worker.done().await.unwrap(), 1);
    /// # });
    /// ```
    pub async fn turn<R, F>(&self, work: F) -> Result<R, crate::ClientError>
    where
        R: Send + 'static,
        F: FnOnce(&mut A, &mut crate::ActionCtx<'_, A>) -> Result<R, crate::Error> + Send + 'static,
    {
        self.this().turn(work).await
    }

    /// The actor's typed client to the other actors of its registry (see
    /// [`ActorClient`](crate::context::ActorClient)). The loop is not a turn: its calls
    /// wait in line like any outside caller's.
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// # #[derive(Default, Serialize, Deserialize)] pub struct Audit { n: u32 }
    /// # #[actor] impl Audit { #[action] fn record(&mut self) -> u32 { self.n += 1; self.n } }
    /// # #[derive(Default, Serialize, Deserialize)] pub struct Worker;
    /// # #[actor] impl Worker {
    /// #[run]
    /// async fn run(c: RunCtx<Self>) -> Result<(), Error> {
    ///     let audit = c.client().get_or_create::<Audit>(["log"]).await?;
    ///     audit.record().await?;
    ///     Ok(())
    /// }
    /// # }
    /// ```
    pub fn client(&self) -> crate::context::ActorClient {
        self.effects.client()
    }

    /// The actor's queues, from the loop.
    pub fn queue(&self) -> RunQueues<'_, A> {
        RunQueues {
            ctx: self,
            _actor: PhantomData,
        }
    }

    /// Keeps the actor from going idle until `work` ends (RivetKit's `c.keepAwake`). The
    /// loop alone does not: an actor whose loop waits for messages, or works on one, goes
    /// to sleep after its idle timeout like any other, which stops the loop. Work wrapped
    /// here is not cut off that way; going to sleep for another reason (`c.sleep()`, a
    /// destroy, shutting down) raises [`stopping`](Self::stopping) and waits for it up to
    /// [`HostConfig::wait_until_timeout`](crate::HostConfig::wait_until_timeout).
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// # #[derive(Serialize, Deserialize)] pub struct Upload { file: String }
    /// # #[derive(Default, Serialize, Deserialize)] pub struct Uploader;
    /// # #[actor(queues(uploads = Upload -> bool))]
    /// # impl Uploader {
    /// #[run]
    /// async fn run(c: RunCtx<Self>) {
    ///     while let Some(upload) = c.queue().next::<Upload>().await {
    ///         // The actor does not go to sleep halfway through an upload.
    ///         let done = c.keep_awake(async { !upload.body.file.is_empty() }).await;
    ///         c.queue().complete(&upload, done);
    ///     }
    /// }
    /// # }
    /// ```
    pub fn keep_awake<F: std::future::Future>(
        &self,
        work: F,
    ) -> impl std::future::Future<Output = F::Output> + use<A, F> {
        crate::context::lifecycle::kept_awake(self.effects.keep_awake(), work)
    }

    /// Whether the actor is stopping (going to sleep or being destroyed).
    pub fn is_stopping(&self) -> bool {
        *self.stop.borrow()
    }

    /// Resolves when the actor starts stopping; the loop should return soon after (it is
    /// cancelled at its next `.await` otherwise).
    pub async fn stopping(&self) {
        let mut stop = self.stop.clone();
        let _ = stop.wait_for(|stopping| *stopping).await;
    }
}

/// The actor's queues from its `#[run]` loop: [`RunCtx::queue`].
pub struct RunQueues<'a, A: Actor> {
    ctx: &'a RunCtx<A>,
    _actor: PhantomData<fn() -> A>,
}

impl<A: Actor> RunQueues<'_, A> {
    async fn take<T: Queue<A>>(&self, max: usize, wait: bool) -> Option<Vec<QueueMessage<T>>> {
        loop {
            let taken = self.ctx.effects.take(T::TARGET, max, wait).await?;
            let mut out = Vec::with_capacity(taken.len());
            for message in taken {
                match decode::<A, T>(message) {
                    Ok(message) => out.push(message),
                    Err((seq, err)) => {
                        tracing::warn!(actor = A::NAME, queue = T::TARGET.name(), seq, %err, "a queue message does not decode; skipped");
                        self.ctx.effects.complete(seq, Err(err));
                    }
                }
            }
            if !out.is_empty() || !wait {
                return Some(out);
            }
        }
    }

    /// Waits for the next message of queue `T` and takes it (deleted before it is returned:
    /// at most once). `None` when the actor is stopping.
    ///
    /// Cancel-safe: a message taken for a `next()` dropped before it returned (the losing
    /// branch of a `select!`, a timeout) goes back to its queue, in its place.
    pub async fn next<T: Queue<A>>(&self) -> Option<QueueMessage<T>> {
        self.take::<T>(1, true).await?.pop()
    }

    /// Waits for at least one message of queue `T` and takes up to `max`. Empty when the
    /// actor is stopping.
    pub async fn next_batch<T: Queue<A>>(&self, max: usize) -> Vec<QueueMessage<T>> {
        self.take::<T>(max, true).await.unwrap_or_default()
    }

    /// Takes the next message of queue `T` if one waits, without waiting.
    pub async fn try_next<T: Queue<A>>(&self) -> Option<QueueMessage<T>> {
        self.take::<T>(1, false).await?.pop()
    }

    /// Completes a message the loop took: its waiting sender receives `response`.
    ///
    /// Complete what the loop takes before the loop returns: a message still held when the
    /// loop ends answers its sender `queue.consumer_stopped`.
    pub fn complete<T: Queue<A>>(&self, message: &QueueMessage<T>, response: T::Completion) {
        let outcome = to_value(&response).map(Some).map_err(|err| {
            tracing::error!(actor = A::NAME, %err, "a queue completion cannot be encoded");
            ActorError::internal()
        });
        self.ctx.effects.complete(message.id, outcome);
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
