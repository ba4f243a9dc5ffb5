//! The `#[run]` loop's side of queues: [`RunCtx`] and [`RunQueues`] (waiting takes, one
//! queue or several, and completions).

use std::marker::PhantomData;
use std::sync::Arc;

use tokio::sync::watch;

use super::{Draw, QueueMessage, Taken, decode};
use crate::actor::{Actor, Queue, Target};
use crate::context::effects::RunLoopEffects;
use crate::context::{ActorMeta, SharedData, This};
use crate::error::ActorError;
use crate::value::to_value;

/// The context of an actor's `#[run]` loop: a task started after every wake, beside the
/// actor's turns, and stopped before it sleeps or is destroyed. It reaches the state only
/// through turns: [`RunCtx::turn`] runs a closure on it, [`RunCtx::this`] calls the actor's
/// actions.
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
            let taken = self
                .ctx
                .effects
                .take(Draw::One(T::TARGET), max, wait)
                .await?;
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

    /// Waits for the next message of any of the actor's queues, in the order they arrived
    /// (RivetKit's `c.queue.iter()`); see which queue it came from, then
    /// [`open`](Self::open) it as that queue's type. `None` when the actor is stopping.
    /// Cancel-safe, as [`next`](Self::next).
    ///
    /// ```
    /// use rivet_actor::prelude::*;
    ///
    /// #[derive(Serialize, Deserialize)]
    /// pub struct Deposit { amount: u64 }
    ///
    /// #[derive(Serialize, Deserialize)]
    /// pub struct Withdrawal { amount: u64 }
    ///
    /// #[derive(Default, Serialize, Deserialize)]
    /// pub struct Account { balance: u64 }
    ///
    /// #[actor(queues(deposits = Deposit -> u64, withdrawals = Withdrawal -> bool))]
    /// impl Account {
    ///     #[run]
    ///     async fn run(c: RunCtx<Self>) {
    ///         let queues = c.queue();
    ///         // One after the other, in the order they were sent, whichever queue.
    ///         while let Some(message) = queues.next_any().await {
    ///             match message.queue() {
    ///                 AccountQueue::Deposits => {
    ///                     let Some(deposit) = queues.open::<Deposit>(message) else { continue };
    ///                     let amount = deposit.body.amount;
    ///                     let balance = c.turn(move |state, _| {
    ///                         state.balance += amount;
    ///                         Ok(state.balance)
    ///                     });
    ///                     let balance = balance.await.unwrap_or_default();
    ///                     queues.complete(&deposit, balance);
    ///                 }
    ///                 AccountQueue::Withdrawals => {
    ///                     let Some(withdrawal) = queues.open::<Withdrawal>(message) else { continue };
    ///                     let amount = withdrawal.body.amount;
    ///                     let paid = c.turn(move |state, _| {
    ///                         let paid = state.balance >= amount;
    ///                         if paid {
    ///                             state.balance -= amount;
    ///                         }
    ///                         Ok(paid)
    ///                     });
    ///                     let paid = paid.await.unwrap_or(false);
    ///                     queues.complete(&withdrawal, paid);
    ///                 }
    ///             }
    ///         }
    ///     }
    /// }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # use rivet_actor::queue::QueueSendResult;
    /// # let test = ActorTest::<Account>::new();
    /// # let account = test.get_or_create("a").await.unwrap();
    /// # let wait = std::time::Duration::from_secs(5);
    /// # let paid = account.send_and_wait(Withdrawal { amount: 5 }, wait).await.unwrap();
    /// # assert_eq!(paid, QueueSendResult::Completed(Some(false)));
    /// # let balance = account.send_and_wait(Deposit { amount: 7 }, wait).await.unwrap();
    /// # assert_eq!(balance, QueueSendResult::Completed(Some(7)));
    /// # let paid = account.send_and_wait(Withdrawal { amount: 5 }, wait).await.unwrap();
    /// # assert_eq!(paid, QueueSendResult::Completed(Some(true)));
    /// # });
    /// ```
    pub async fn next_any(&self) -> Option<AnyMessage<A>> {
        self.take_any(Draw::Any).await
    }

    /// Waits for the next message of any of `queues`, in the order they arrived (RivetKit's
    /// `c.queue.next(names)`); messages of other queues stay queued. As
    /// [`next_any`](Self::next_any) otherwise; with no queue named it waits for none and
    /// returns `None`.
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// # #[derive(Serialize, Deserialize)] pub struct Urgent { n: u32 }
    /// # #[derive(Serialize, Deserialize)] pub struct Routine { n: u32 }
    /// # #[derive(Default, Serialize, Deserialize)] pub struct Desk;
    /// # #[actor(queues(urgent = Urgent, routine = Routine))]
    /// # impl Desk {
    /// #[run]
    /// async fn run(c: RunCtx<Self>) {
    ///     // Routine messages wait; urgent ones are taken as they come.
    ///     while let Some(message) = c.queue().next_of(&[DeskQueue::Urgent]).await {
    ///         if let Some(urgent) = c.queue().open::<Urgent>(message) {
    ///             c.queue().complete(&urgent, ());
    ///         }
    ///     }
    /// }
    /// # }
    /// ```
    pub async fn next_of(&self, queues: &[A::Queue]) -> Option<AnyMessage<A>> {
        if queues.is_empty() {
            return None;
        }
        self.take_any(Draw::Among(queues.into())).await
    }

    async fn take_any(&self, draw: Draw<A>) -> Option<AnyMessage<A>> {
        loop {
            let taken = self.ctx.effects.take(draw.clone(), 1, true).await?.pop()?;
            // Stored under a declared queue's name, so always one of the actor's queues;
            // were it not, its sender is answered and the loop waits on.
            match A::Queue::from_name(taken.queue) {
                Some(queue) => {
                    return Some(AnyMessage {
                        queue,
                        taken: Some(taken),
                        effects: self.ctx.effects.clone(),
                    });
                }
                None => self
                    .ctx
                    .effects
                    .complete(taken.seq, Err(ActorError::internal())),
            }
        }
    }

    /// The message as its queue's type `T`. `None` when it is not a message of `T`'s queue
    /// (look at [`AnyMessage::queue`] first) or its body does not decode as `T` (a client
    /// sent another shape); either way its sender is answered `queue.invalid_message`, as
    /// for a message [`next`](Self::next) skips. Example: [`next_any`](Self::next_any).
    pub fn open<T: Queue<A>>(&self, mut message: AnyMessage<A>) -> Option<QueueMessage<T>> {
        // Opened: from here this answers its sender, not the message's drop.
        let taken = message.taken.take()?;
        let seq = taken.seq;
        if message.queue != T::TARGET {
            tracing::warn!(
                actor = A::NAME,
                queue = message.queue.name(),
                opened_as = T::TARGET.name(),
                seq,
                "a queue message was opened as another queue's type"
            );
            let err = ActorError::queue_invalid_message(
                message.queue.name(),
                format!("opened as a message of queue {}", T::TARGET.name()),
            );
            self.ctx.effects.complete(seq, Err(err));
            return None;
        }
        match decode::<A, T>(taken) {
            Ok(message) => Some(message),
            Err((seq, err)) => {
                tracing::warn!(actor = A::NAME, queue = T::TARGET.name(), seq, %err, "a queue message does not decode; skipped");
                self.ctx.effects.complete(seq, Err(err));
                None
            }
        }
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

/// A message the `#[run]` loop took from one of several queues
/// ([`RunQueues::next_any`], [`RunQueues::next_of`]), not yet decoded: match on
/// [`queue`](Self::queue), then [`RunQueues::open`] it as that queue's type. One dropped
/// unopened answers its sender `queue.consumer_stopped` at once (it was taken: it is not
/// queued any more).
#[must_use = "open the message as its queue's type and complete it; its sender waits"]
pub struct AnyMessage<A: Actor> {
    queue: A::Queue,
    /// `None` once opened.
    taken: Option<Taken>,
    effects: Arc<dyn RunLoopEffects<A>>,
}

impl<A: Actor> Drop for AnyMessage<A> {
    fn drop(&mut self) {
        if let Some(taken) = self.taken.take() {
            let stopped = Err(ActorError::queue_consumer_stopped());
            self.effects.complete(taken.seq, stopped);
        }
    }
}

impl<A: Actor> AnyMessage<A> {
    /// The queue it came from.
    pub fn queue(&self) -> A::Queue {
        self.queue
    }

    /// The message's id: its position in the actor's arrival order.
    pub fn id(&self) -> u64 {
        self.taken.as_ref().map_or(0, |taken| taken.seq)
    }
}

impl<A: Actor> std::fmt::Debug for AnyMessage<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnyMessage")
            .field("queue", &self.queue)
            .field("id", &self.id())
            .finish_non_exhaustive()
    }
}
