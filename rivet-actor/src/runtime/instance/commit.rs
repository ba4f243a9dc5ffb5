//! Ending a turn: hand the write to the output gate or roll back, then release (or hold)
//! what the turn says to the outside.

use std::panic::AssertUnwindSafe;

use futures_util::FutureExt;
use tokio::sync::oneshot;

use crate::actor::{Actor, Target};
use crate::error::{ActorError, Error};
use crate::runtime::Sink;
use crate::runtime::instance::Instance;
use crate::runtime::instance::deadline::within;
use crate::runtime::instance::state_change::{Adopt, split};
use crate::runtime::outbound::approx_size;
use crate::runtime::queue::Completion;
use crate::storage::ActorWrite;
use crate::value::{Value, from_cbor};

impl<A: Actor> Instance<A> {
    /// Ends a turn: hand its write to the output gate or roll back, then deliver or drop the
    /// turn's events.
    ///
    /// The turn's writes are the state (if it changed) plus whatever the turn staged in the
    /// outbox's queue and schedule parts; they commit together in one storage write, so a
    /// consumed queue message or a new schedule is durable exactly when the state change is.
    /// The actor does not wait for that write: the next turn sees this one's state at once,
    /// and what the turn says to the outside (its events here, its reply through
    /// [`answer`](Self::answer)) is held until the write is durable.
    pub(crate) async fn finish_turn<T>(
        &mut self,
        may_mutate: bool,
        outcome: Result<T, Error>,
    ) -> Result<T, Error> {
        // The work is done by plain functions and the rare waits are boxed: this future is
        // part of every call's turn, made and moved into its box per call, and a turn's
        // future under a kilobyte is one the allocator hands out from its fast path.
        let value = match outcome {
            Ok(value) => value,
            Err(err) => {
                self.turn_failed(may_mutate)?;
                return Err(err);
            }
        };
        let (changed, queued) = self.commit_turn(may_mutate)?;
        if let Some(queued) = queued {
            Box::pin(self.commit_queued(*queued, changed)).await?;
        }
        if changed && A::HAS_ON_STATE_CHANGE {
            Box::pin(self.notice_state_change()).await;
        }
        Ok(value)
    }

    /// A turn that failed: its state change is rolled back and what it staged is dropped.
    fn turn_failed(&mut self, may_mutate: bool) -> Result<(), Error> {
        let changed = may_mutate && self.state_change()?.is_some();
        if changed {
            self.rollback();
        }
        self.env.outbox.clear();
        Ok(())
    }

    /// A turn that ended well: its write (state change and staged rows) committed here when
    /// it can be (memory, nothing in flight), or given back to be queued for the committer.
    /// Whether the state changed, and the write if it waits for the committer.
    fn commit_turn(&mut self, may_mutate: bool) -> Result<(bool, Option<Box<Queued>>), Error> {
        let change = match may_mutate {
            true => self.state_change()?,
            false => None,
        };
        let changed = change.is_some();
        let (mut write, adopt) = split(change);
        if let Err(err) = self.env.outbox.stage(&mut write) {
            // The database holds changes no write carries: reload what storage holds.
            return self
                .submitted(Err(err), None, changed)
                .map(|()| (changed, None));
        }
        if !write.is_empty() {
            match self.gate.commit_now(&mut write) {
                None => return Ok((changed, Some(Box::new(Queued { write, adopt })))),
                Some(committed) => self.submitted(committed, adopt, changed)?,
            }
        }
        self.turn_committed();
        Ok((changed, None))
    }

    /// [`Instance::commit_turn`]'s write, queued for the committer.
    async fn commit_queued(&mut self, queued: Queued, changed: bool) -> Result<(), Error> {
        let Queued { write, adopt } = queued;
        let submitted = self.gate.submit_queued(write).await;
        self.submitted(submitted, adopt, changed)?;
        self.turn_committed();
        Ok(())
    }

    /// The gate took the turn's write (`Ok`), or an earlier write was lost or this one
    /// could not be made (`Err`: the instance reloads after this turn, and this turn fails).
    fn submitted(
        &mut self,
        submitted: Result<(), ActorError>,
        adopt: Option<Adopt>,
        changed: bool,
    ) -> Result<(), Error> {
        if let Err(err) = submitted {
            self.reload = true;
            if changed {
                self.rollback();
            }
            self.env.outbox.clear();
            return Err(err.into());
        }
        if let Some(adopt) = adopt {
            self.adopt(adopt);
        }
        self.used = true;
        Ok(())
    }

    /// What the turn staged takes hold, and what it says leaves once its write is durable.
    fn turn_committed(&mut self) {
        let completions = self.env.outbox.committed();
        self.complete_when_durable(completions);
        self.deliver();
    }

    /// Commits `write` and waits until it (and every write before it) is durable: for work
    /// that must not go on before then (queue sends and takes, creation, migration). A lost
    /// write marks the instance for a reload once the current turn is over: what is in
    /// memory may not be what is stored.
    pub(crate) async fn write(&mut self, write: ActorWrite) -> Result<(), ActorError> {
        let durable = match self.gate.submit(write).await {
            Ok(()) => self.gate.durable().await,
            Err(err) => Err(err),
        };
        self.reload |= durable.is_err();
        durable
    }

    /// Sends `answer` once everything the turn saw is durable (at once when nothing is
    /// pending); the lost write's error instead if one it depends on is lost.
    pub(crate) fn answer<T: Send + 'static>(
        &self,
        reply: oneshot::Sender<Result<T, ActorError>>,
        answer: Result<T, ActorError>,
    ) {
        if self.gate.is_clear() {
            let _ = reply.send(answer);
            return;
        }
        self.gate.hold(Box::new(move |durable| {
            let _ = reply.send(match durable {
                Ok(()) => answer,
                // A failed turn keeps its own error; a successful one was not stored.
                Err(lost) => Err(answer.err().unwrap_or_else(|| lost.clone())),
            });
        }));
    }

    /// Queue senders waiting on messages this turn completed hear it once it is durable.
    pub(super) fn complete_when_durable(&self, completions: Vec<(u64, Completion)>) {
        if completions.is_empty() {
            return;
        }
        let (host, actor) = (self.host.clone(), self.id());
        self.gate.hold(Box::new(move |durable| {
            // Lost: the messages are still stored, and a fresh instance hands them out again.
            if durable.is_ok() {
                for (seq, outcome) in completions {
                    host.complete(&actor, seq, outcome);
                }
            }
        }));
    }

    /// Runs `on_state_change` after a turn changed the state, then commits what it staged
    /// (schedules, `c.kv()` rows, queue takes) as a write of its own — it changes no state —
    /// and delivers what it broadcast once that is durable. A panic in it is caught and
    /// logged here: the change is committed and the caller is about to be told so, and
    /// answering a failure instead would have a retrying client apply it twice.
    /// The hook sees the state and vars read-only, so it cannot leave them half-changed and
    /// there is nothing to reload; what a hook that panicked staged is dropped.
    /// Like the lifecycle hooks it is cut off at `lifecycle_hook_timeout`, with the same
    /// outcome as a panic.
    async fn notice_state_change(&mut self) {
        let limit = self.host.config.lifecycle_hook_timeout;
        let ctx = self.env.actor_ctx();
        let noticed = AssertUnwindSafe(within(limit, self.state.on_state_change(&ctx)))
            .catch_unwind()
            .await;
        let failed = match noticed {
            Ok(Ok(())) => None,
            Ok(Err(_)) => Some("did not finish in time"),
            Err(_) => Some("panicked"),
        };
        if let Some(failed) = failed {
            tracing::error!(actor = A::NAME, id = %self.env.meta.id, "on_state_change {failed} after a committed turn; what it staged is dropped");
            self.env.outbox.clear();
            return;
        }
        // Left staged, it would wait for the next turn's commit, or go with its failure.
        if let Err(err) = self.commit_staged().await {
            crate::runtime::instance::mask::<A>(err, &self.env.meta.id, "on_state_change");
        }
    }

    /// Commits what a turn that changed no state staged, and delivers its events.
    async fn commit_staged(&mut self) -> Result<(), Error> {
        let (_, queued) = self.commit_turn(false)?;
        if let Some(queued) = queued {
            Box::pin(self.commit_queued(*queued, false)).await?;
        }
        Ok(())
    }

    /// Puts the state back to what it was after the last turn that ended well. (If that
    /// turn's write is lost, the gate fails and the instance reloads what is durable.)
    pub(super) fn rollback(&mut self) {
        if let Some(chunked) = self.chunks.as_mut() {
            // Frozen values of the state being dropped need not be kept alive any longer.
            chunked.frozen = Default::default();
        }
        match from_cbor::<A>(&self.saved) {
            Ok(state) => self.state = state,
            // Only reachable if the state type's serde impls do not round-trip.
            Err(err) => panic!("the last saved state of {} does not decode: {err}", A::NAME),
        }
    }

    /// Delivers the turn's events: broadcasts to subscribers, sends to their connection.
    /// While writes are pending the receivers are chosen now (who was subscribed when the
    /// turn ran) and the events leave once the writes are durable; a lost write drops them.
    pub(crate) fn deliver(&mut self) {
        let emits = self.env.outbox.take();
        if emits.is_empty() {
            return;
        }
        let now = self.gate.is_clear();
        let mut held: Vec<(Sink, &'static str, std::sync::Arc<Value>, usize)> = Vec::new();
        for emit in emits {
            let name = emit.event.name();
            let size = approx_size(&emit.payload);
            let mut send = |sink: &Sink| {
                if now {
                    sink.event(name, &emit.payload, size);
                } else {
                    held.push((sink.clone(), name, emit.payload.clone(), size));
                }
            };
            match &emit.to {
                None => {
                    for slot in self.conns.values() {
                        if slot.subscriptions.contains(&emit.event)
                            && let Some(sink) = &slot.sink
                        {
                            send(sink);
                        }
                    }
                }
                Some(conn_id) => {
                    if let Some(sink) = self.conns.get(conn_id).and_then(|slot| slot.sink.as_ref())
                    {
                        send(sink);
                    }
                }
            }
        }
        if !held.is_empty() {
            self.gate.hold(Box::new(move |durable| {
                if durable.is_ok() {
                    for (sink, name, payload, size) in held {
                        sink.event(name, &payload, size);
                    }
                }
            }));
        }
    }
}

/// A turn's write that waits for the committer, and what to take on once it is accepted.
struct Queued {
    write: ActorWrite,
    adopt: Option<Adopt>,
}
