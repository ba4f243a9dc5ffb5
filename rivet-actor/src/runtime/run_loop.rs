//! The `#[run]` loop's side of the executor: starting and stopping its task, handing it
//! queue messages, and answering the senders of messages it took but never completed.

use std::collections::HashSet;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use futures_util::FutureExt;
use tokio::sync::{oneshot, watch};

use crate::actor::Actor;
use crate::context::This;
use crate::context::effects::{Completion, RunLoopEffects};
use crate::context::lifecycle::{AwakeHold, Life};
use crate::error::ActorError;
use crate::queue::{Draw, RunCtx, Taken};
use crate::runtime::command::Command;
use crate::runtime::host::Host;
use crate::runtime::instance::{Instance, mask};
use crate::runtime::lookup::ActorId;
use crate::runtime::queue::QueueCommand;
use crate::runtime::queue_handover::Handover;
use crate::runtime::self_call::SelfCaller;
use crate::storage::BoxFuture;

/// How long the loop waits before asking again for messages the instance failed to hand
/// over.
const RETAKE_PAUSE: Duration = Duration::from_millis(100);

/// What a running loop reaches of its actor.
struct RunLoop<A: Actor> {
    host: Arc<Host<A>>,
    id: ActorId,
    stop: watch::Receiver<bool>,
    /// Messages the loop took and has not completed yet.
    held: Mutex<HashSet<u64>>,
    /// The instance's life, which the loop's `keep_awake` work holds awake.
    life: Arc<Life>,
    /// Replies to takes the loop stopped waiting for (see `queue_handover.rs`): sent back
    /// ahead of the next take, so their messages are taken again first.
    returned: Mutex<Vec<Handover<A>>>,
}

/// A take's reply, awaited. Dropped before it is read (the take was cancelled), it keeps
/// the messages already in it for the loop to send back.
struct Reply<'a, A: Actor> {
    rx: oneshot::Receiver<Handover<A>>,
    run_loop: &'a RunLoop<A>,
}

impl<A: Actor> Drop for Reply<'_, A> {
    fn drop(&mut self) {
        if let Ok(handover) = self.rx.try_recv() {
            lock(&self.run_loop.returned).push(handover);
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Only pushes, inserts and removes run under these locks: nothing is half-written.
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

impl<A: Actor> RunLoop<A> {
    fn held(&self) -> MutexGuard<'_, HashSet<u64>> {
        lock(&self.held)
    }

    /// Sends back what takes the loop stopped waiting for were given, in order. Each stays
    /// in `returned` until its place in the mailbox is reserved, then goes in without an
    /// await: a loop cut off meanwhile leaves it for its instance to write back
    /// (`Instance::end_run_loop`).
    async fn send_back_returned(&self) {
        while !lock(&self.returned).is_empty() {
            let Ok(place) = self.host.sender(&self.id).reserve_owned().await else {
                // The host is shut down: what is left goes back with the instance (on
                // sleep it writes it back; otherwise each sends itself back when dropped).
                return;
            };
            let next = {
                let mut returned = lock(&self.returned);
                (!returned.is_empty()).then(|| returned.remove(0))
            };
            if let Some(put_back) = next.and_then(Handover::put_back) {
                place.send(Box::new(Command::Queue(QueueCommand::PutBack(put_back))));
            }
        }
    }

    async fn stopping(&self) {
        let mut stop = self.stop.clone();
        let _ = stop.wait_for(|stopping| *stopping).await;
    }
}

impl<A: Actor> RunLoopEffects<A> for RunLoop<A> {
    fn take<'a>(
        &'a self,
        draw: Draw<A>,
        max: usize,
        wait: bool,
    ) -> BoxFuture<'a, Option<Vec<Taken>>> {
        Box::pin(async move {
            loop {
                if *self.stop.borrow() {
                    return None;
                }
                self.send_back_returned().await;
                let (reply, rx) = oneshot::channel();
                let cmd = Command::Queue(QueueCommand::Take {
                    draw: draw.clone(),
                    max,
                    wait,
                    reply,
                });
                let mut reply = Reply { rx, run_loop: self };
                self.host.send(&self.id, cmd).await;
                let taken = tokio::select! {
                    // Messages already handed over win over the stop signal: they are
                    // deleted, so they must reach the loop (and, if it stops holding them,
                    // be reported).
                    biased;
                    taken = &mut reply.rx => taken,
                    () = self.stopping() => return None,
                };
                let Ok(handover) = taken else {
                    // Dropped unanswered without the actor stopping: the instance could not
                    // delete the messages (a storage failure). Ask again shortly rather than
                    // end the loop.
                    tokio::select! {
                        () = tokio::time::sleep(RETAKE_PAUSE) => continue,
                        () = self.stopping() => return None,
                    }
                };
                // Claimed at once, with no await in between: from here the loop holds them
                // (unclaimed, they go back to the queue).
                let taken = handover.claim();
                self.held().extend(taken.iter().map(|message| message.seq));
                return Some(taken);
            }
        })
    }

    fn complete(&self, seq: u64, outcome: Completion) {
        if !self.held().remove(&seq) {
            // Not taken by this loop (or already completed): nothing waits on it here.
            return;
        }
        self.host.complete(&self.id, seq, outcome);
    }

    fn this(&self) -> This<A> {
        // The loop is not a turn: its calls queue behind the actor's turns.
        This::new(Arc::new(SelfCaller::new(
            self.host.clone(),
            self.id.clone(),
            None,
        )))
    }

    fn client(&self) -> crate::context::ActorClient {
        crate::runtime::peer::client_for(&self.host, None)
    }

    fn keep_awake(&self) -> AwakeHold {
        self.life.hold_awake()
    }
}

/// A running `#[run]` loop, as its instance holds it.
pub(crate) struct RunLoopTask<A: Actor> {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
    run_loop: Arc<RunLoop<A>>,
}

impl<A: Actor> RunLoopTask<A> {
    /// Raises the loop's stopping signal (it ends at its next take, or when cut off).
    pub(crate) fn signal_stop(&self) {
        let _ = self.stop.send(true);
    }
}

/// Held by the loop's task: when the task ends (or is cancelled), the senders of messages
/// the loop still holds hear `queue.consumer_stopped`.
struct HeldGuard<A: Actor>(Arc<RunLoop<A>>);

impl<A: Actor> Drop for HeldGuard<A> {
    fn drop(&mut self) {
        let held = std::mem::take(&mut *self.0.held());
        for seq in held {
            self.0
                .host
                .complete(&self.0.id, seq, Err(ActorError::queue_consumer_stopped()));
        }
    }
}

impl<A: Actor> Instance<A> {
    /// Starts the `#[run]` loop, if the actor has one.
    pub(super) fn start_run_loop(&mut self) {
        if !A::HAS_RUN {
            return;
        }
        let (stop, stopped) = watch::channel(false);
        let run_loop = Arc::new(RunLoop {
            host: self.host.clone(),
            id: ActorId(self.env.meta.id.clone()),
            stop: stopped.clone(),
            held: Mutex::default(),
            life: self.env.outbox.life().clone(),
            returned: Mutex::default(),
        });
        let held = HeldGuard(run_loop.clone());
        let ctx = RunCtx::new(run_loop.clone(), &self.env.meta, stopped);
        let id = self.env.meta.id.clone();
        let task = tokio::spawn(async move {
            let _held = held;
            match AssertUnwindSafe(A::run(ctx)).catch_unwind().await {
                Ok(Ok(())) => {}
                Ok(Err(err)) => {
                    mask::<A>(err, &id, "run");
                }
                Err(_) => tracing::error!(actor = A::NAME, %id, "the #[run] loop panicked"),
            }
        });
        // Boxed: the instance holds a pointer, not three.
        self.run_loop = Some(Box::new(RunLoopTask {
            stop,
            task,
            run_loop,
        }));
    }

    /// Stops the `#[run]` loop: tells it, then cancels it at its next `.await` (it reaches
    /// the state only through turns, so cancelling it loses nothing of the state). What
    /// it was handed but never received goes back to its queue on its own (a spawned
    /// send): for leaving without writing ([`Instance::end_run_loop`] writes it back).
    pub(super) fn stop_run_loop(&mut self) {
        if let Some(running) = self.run_loop.take() {
            running.signal_stop();
            running.task.abort();
        }
    }

    /// Stops the `#[run]` loop, waits until its task is gone, then writes back what takes
    /// it stopped waiting for were handed: before the actor sleeps, so the messages are
    /// stored by this instance. (Sent back after it, they would wake a fresh instance
    /// here, and reach no one in engine mode, where the actor may already run elsewhere.)
    pub(super) async fn end_run_loop(&mut self) {
        let Some(mut running) = self.run_loop.take() else {
            return;
        };
        running.signal_stop();
        running.task.abort();
        // Cancelled at its next `.await`: its replies dropped unread are in `returned`
        // once the task is gone. A loop blocking its thread is not waited for past the
        // lifecycle hooks' bound.
        let limit = self.host.config.lifecycle_hook_timeout;
        if tokio::time::timeout(limit, &mut running.task)
            .await
            .is_err()
        {
            // What it kept so far is written back all the same; anything it keeps later
            // goes back on its own (a spawned send).
            tracing::warn!(actor = A::NAME, id = %self.env.meta.id, "the #[run] loop did not stop in time");
        }
        let returned = std::mem::take(&mut *lock(&running.run_loop.returned));
        let messages: Vec<_> = returned
            .into_iter()
            .flat_map(Handover::into_messages)
            .collect();
        if !messages.is_empty() {
            self.write_back(messages).await;
        }
    }
}
