//! Ending a turn: persist or roll back, then deliver or drop the turn's events.

use std::panic::AssertUnwindSafe;

use futures_util::FutureExt;

use crate::actor::{Actor, Target};
use crate::error::Error;
use crate::runtime::instance::Instance;
use crate::runtime::outbound::approx_size;
use crate::storage::{ActorWrite, StorageError};
use crate::value::{from_cbor, to_cbor};

impl<A: Actor> Instance<A> {
    /// Ends a turn: persist or roll back, then deliver or drop the turn's events.
    ///
    /// The turn's writes are the state (if it changed) plus whatever the turn staged in the
    /// outbox's queue and schedule parts; they commit together in one storage write, so a
    /// consumed queue message or a new schedule is durable exactly when the state change is.
    pub(crate) async fn finish_turn<T>(
        &mut self,
        may_mutate: bool,
        outcome: Result<T, Error>,
    ) -> Result<T, Error> {
        let changed = may_mutate && self.state_changed()?;
        match outcome {
            Ok(value) => {
                let mut write = ActorWrite {
                    state: changed.then(|| self.scratch.clone()),
                    ..Default::default()
                };
                self.env.outbox.stage(&mut write);
                if !write.is_empty() {
                    let started = std::time::Instant::now();
                    let committed = self.write(write).await;
                    self.host.metrics.commit(started.elapsed());
                    if let Err(err) = committed {
                        if changed {
                            self.rollback();
                        }
                        self.env.outbox.clear();
                        return Err(err.into());
                    }
                    if changed {
                        std::mem::swap(&mut self.saved, &mut self.scratch);
                    }
                    self.used = true;
                }
                self.env.outbox.committed();
                self.deliver();
                if changed {
                    self.notice_state_change().await;
                }
                Ok(value)
            }
            Err(err) => {
                if changed {
                    self.rollback();
                }
                self.env.outbox.clear();
                Err(err)
            }
        }
    }

    /// Commits `write`. A write of unknown outcome (the storage lost its answer) marks the
    /// instance for a reload from storage once the current turn is over: what is in memory
    /// may not be what is stored.
    pub(crate) async fn write(
        &mut self,
        write: ActorWrite,
    ) -> Result<(), crate::error::ActorError> {
        match self.host.storage.commit(&self.env.meta.id, write).await {
            Ok(()) => Ok(()),
            Err(err) => {
                self.reload |= matches!(err, StorageError::Unknown { .. });
                Err(self.storage_failed(err))
            }
        }
    }

    /// Runs `on_state_change` after a commit, then delivers what it broadcast. A panic in
    /// it is caught and logged here: the change is durable and the caller is about to be
    /// told so, and answering a failure instead would have a retrying client apply it twice.
    /// The hook sees the state and vars read-only, so it cannot leave them half-changed and
    /// there is nothing to reload; what it staged (events, schedules) is dropped.
    async fn notice_state_change(&mut self) {
        let ctx = self.env.actor_ctx();
        let noticed = AssertUnwindSafe(self.state.on_state_change(&ctx))
            .catch_unwind()
            .await;
        if noticed.is_err() {
            tracing::error!(actor = A::NAME, id = %self.env.meta.id, "on_state_change panicked after a committed turn; what it staged is dropped");
            self.env.outbox.clear();
        }
        self.deliver();
    }

    /// Encodes and commits the whole state (after creation or migration).
    pub(crate) async fn commit_whole_state(&mut self, mark_created: bool) -> Result<(), Error> {
        to_cbor(&self.state, &mut self.scratch)
            .map_err(|err| Error::internal(format!("the state cannot be encoded: {err}")))?;
        let mut write = ActorWrite {
            state: Some(self.scratch.clone()),
            mark_created,
            ..Default::default()
        };
        self.env.outbox.stage(&mut write);
        self.write(write).await.map_err(Error::from)?;
        std::mem::swap(&mut self.saved, &mut self.scratch);
        self.env.outbox.committed();
        Ok(())
    }

    /// Encodes the state into `scratch`; whether it differs from the last durable state.
    fn state_changed(&mut self) -> Result<bool, Error> {
        match to_cbor(&self.state, &mut self.scratch) {
            Ok(()) => Ok(self.scratch != self.saved),
            Err(err) => {
                self.rollback();
                self.env.outbox.clear();
                Err(Error::internal(format!(
                    "the state cannot be encoded: {err}"
                )))
            }
        }
    }

    /// Puts the state back to its last durable value.
    fn rollback(&mut self) {
        match from_cbor::<A>(&self.saved) {
            Ok(state) => self.state = state,
            // Only reachable if the state type's serde impls do not round-trip.
            Err(err) => panic!("the last saved state of {} does not decode: {err}", A::NAME),
        }
    }

    /// Delivers the turn's events: broadcasts to subscribers, sends to their connection.
    pub(crate) fn deliver(&mut self) {
        for emit in self.env.outbox.take() {
            let name = emit.event.name();
            let size = approx_size(&emit.payload);
            match &emit.to {
                None => {
                    for slot in self.conns.values() {
                        if slot.subscriptions.contains(&emit.event)
                            && let Some(sink) = &slot.sink
                        {
                            sink.event(name, &emit.payload, size);
                        }
                    }
                }
                Some(conn_id) => {
                    if let Some(sink) = self.conns.get(conn_id).and_then(|slot| slot.sink.as_ref())
                    {
                        sink.event(name, &emit.payload, size);
                    }
                }
            }
        }
    }
}
