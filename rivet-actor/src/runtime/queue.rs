//! Queues inside an instance: the durable rows, the in-memory index, sends, takes and
//! completions.
//!
//! A message is one per-actor kv row `q/<seq>` (big-endian, so rows scan in arrival order
//! across all queues) holding `(queue name, created-at ms, body)`. The next sequence is kept
//! in the row `q-next`, written with every message, so ids only grow, even once the queue
//! has drained and the actor restarted (a waiting sender is keyed by its message's id). The
//! instance loads them into [`TurnQueue`] at wake. A send is committed before the sender is
//! answered. A message taken inside a turn is deleted in that turn's commit, together with
//! the state; a message the `#[run]` loop takes is deleted (durably) before the loop
//! receives it.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crate::runtime::on_demand::{Locked, OnDemand, Vacant};

use tokio::sync::oneshot;

use crate::actor::{Actor, Invoke, Target};
use crate::error::ActorError;
use crate::queue::{Draw, Taken};
use crate::runtime::command::Connect;
use crate::runtime::host::Host;
use crate::runtime::instance::Instance;
use crate::runtime::instance::deadline::guard;
use crate::runtime::queue_handover::{Handover, PutBack};
use crate::runtime::queue_send::Waiter;
use crate::storage::ActorWrite;
use crate::value::{Value, from_cbor, to_cbor};

/// The kv prefix of queue rows.
pub(crate) const PREFIX: &[u8] = b"q/";

/// The row holding the next sequence (not under [`PREFIX`], so scans of messages skip it).
const NEXT_KEY: &[u8] = b"q-next";

pub(crate) fn row_key(seq: u64) -> Vec<u8> {
    let mut key = PREFIX.to_vec();
    key.extend_from_slice(&seq.to_be_bytes());
    key
}

/// A message's row: `(queue name, created-at ms, body)`.
pub(crate) fn row_value<Q: Target>(
    queue: Q,
    created_at_ms: i64,
    body: &Value,
) -> Result<Vec<u8>, ActorError> {
    let mut row = Vec::new();
    to_cbor(&(queue.name(), created_at_ms, body), &mut row).map_err(|_| ActorError::internal())?;
    Ok(row)
}

/// How a message ended, for a sender waiting on it: the consumer's response (if any), or
/// why it could not be consumed.
pub(crate) use crate::context::effects::Completion;

/// A message as stored: its queue, when it arrived, its encoded body.
pub(crate) struct Stored<A: Actor> {
    pub(crate) seq: u64,
    pub(crate) queue: A::Queue,
    pub(crate) created_at_ms: i64,
    pub(crate) body: Value,
}

/// Commands of the queue part of an instance's mailbox.
pub(crate) enum QueueCommand<A: Actor> {
    /// A message from a client: connect pipeline, `can_invoke`, `can_publish`, bounded
    /// durable enqueue. Answers once the message is durable.
    Send {
        connect: Connect<A>,
        queue: A::Queue,
        body: Value,
        /// Register a waiter for the message's completion (before anyone can take it).
        wait: bool,
        reply: oneshot::Sender<Result<Accepted, ActorError>>,
    },
    /// The `#[run]` loop takes up to `max` messages of the queues `draw` admits; with
    /// `wait`, it is answered when some arrive.
    Take {
        draw: Draw<A>,
        max: usize,
        wait: bool,
        reply: oneshot::Sender<Handover<A>>,
    },
    /// Messages handed to the loop that it never received (see `queue_handover.rs`).
    PutBack(PutBack<A>),
}

impl<A: Actor> QueueCommand<A> {
    pub(crate) fn fail(self, err: ActorError) {
        match self {
            QueueCommand::Send { reply, .. } => {
                let _ = reply.send(Err(err));
            }
            // A dropped reply tells the run loop the actor is stopping.
            QueueCommand::Take { .. } => {}
            // The actor is gone, and the messages with it.
            QueueCommand::PutBack(put_back) => put_back.lost(),
        }
    }
}

/// A message accepted into a queue: if the sender waits, where its completion will arrive.
pub(crate) struct Accepted {
    /// Unreceived (its sender went away), it leaves the waiters when dropped.
    pub(crate) completion: Option<Waiter>,
}

/// A `#[run]` loop waiting for messages.
pub(super) struct Consumer<A: Actor> {
    pub(super) draw: Draw<A>,
    pub(super) max: usize,
    pub(super) reply: oneshot::Sender<Handover<A>>,
}

pub(super) struct State<A: Actor> {
    next_seq: u64,
    /// Messages not taken, by sequence (arrival order).
    pub(super) ready: BTreeMap<u64, Stored<A>>,
    /// Taken by the current turn: deleted when it commits, put back when it fails.
    taken: Vec<Stored<A>>,
    /// Completions given by the current turn.
    replies: HashMap<u64, Completion>,
    /// Sent by the current turn, each with its encoded row: written with its commit, ready
    /// once it commits.
    sent: Vec<(Stored<A>, Vec<u8>)>,
    /// Sent by a committed turn and not yet offered to the `#[run]` loop's takes.
    fresh: bool,
    pub(super) consumers: Vec<Consumer<A>>,
}

impl<A: Actor> Default for State<A> {
    fn default() -> Self {
        Self {
            next_seq: 0,
            ready: BTreeMap::new(),
            taken: Vec::new(),
            replies: HashMap::new(),
            sent: Vec::new(),
            fresh: false,
            consumers: Vec::new(),
        }
    }
}

impl<A: Actor> Vacant for State<A> {
    fn is_vacant(&self) -> bool {
        // `next_seq` is kept once a message was ever sent: it must never go back.
        self.next_seq == 0
            && self.ready.is_empty()
            && self.taken.is_empty()
            && self.replies.is_empty()
            && self.sent.is_empty()
            && self.consumers.is_empty()
    }
}

/// The queue part of an instance: the index of waiting messages, and what the current turn
/// took and completed, staged until the turn commits.
pub(crate) struct TurnQueue<A: Actor> {
    host: Arc<Host<A>>,
    state: OnDemand<State<A>>,
}

impl<A: Actor> TurnQueue<A> {
    pub(crate) fn new(host: Arc<Host<A>>) -> Self {
        Self {
            host,
            state: OnDemand::default(),
        }
    }

    pub(super) fn lock(&self) -> Locked<'_, State<A>> {
        self.state.lock()
    }

    /// Makes messages written back to storage ready to take again.
    pub(super) fn restore(&self, messages: Vec<Stored<A>>) {
        let mut state = self.lock();
        for message in messages {
            state.ready.insert(message.seq, message);
        }
    }

    /// Lets go of the index if it holds nothing (the instance parks).
    pub(crate) fn shed(&self) {
        self.state.shed();
    }

    /// Adds this turn's queue writes to the turn's storage write.
    pub(crate) fn stage(&self, write: &mut ActorWrite) {
        if !self.state.is_made() {
            return;
        }
        let state = self.lock();
        write
            .kv_delete
            .extend(state.taken.iter().map(|m| row_key(m.seq)));
        for (message, row) in &state.sent {
            write.kv_put.push((row_key(message.seq), row.clone()));
        }
        if !state.sent.is_empty() {
            let next = state.next_seq.to_be_bytes().to_vec();
            write.kv_put.push((NEXT_KEY.to_vec(), next));
        }
    }

    /// The turn's write is committed: taken messages are gone. Returns how each ended, for
    /// their senders to hear once the write is durable.
    pub(crate) fn committed(&self) -> Vec<(u64, Completion)> {
        if !self.state.is_made() {
            return Vec::new();
        }
        let mut state = self.lock();
        let taken = std::mem::take(&mut state.taken);
        let mut replies = std::mem::take(&mut state.replies);
        let sent = std::mem::take(&mut state.sent);
        state.fresh |= !sent.is_empty();
        for (message, _) in sent {
            state.ready.insert(message.seq, message);
        }
        drop(state);
        taken
            .into_iter()
            .map(|message| {
                let outcome = replies.remove(&message.seq).unwrap_or(Ok(None));
                (message.seq, outcome)
            })
            .collect()
    }

    /// The turn failed: what it took is back in the queue, its completions are forgotten.
    pub(crate) fn abort(&self) {
        if !self.state.is_made() {
            return;
        }
        let mut state = self.lock();
        for message in std::mem::take(&mut state.taken) {
            state.ready.insert(message.seq, message);
        }
        state.replies.clear();
        // Their sequences are skipped: ids only grow.
        state.sent.clear();
    }

    /// Sends `body` to `queue` in the current turn: written with the turn's commit, then
    /// taken like any message (by a later turn, or the `#[run]` loop). Its id.
    pub(crate) fn send_in_turn(&self, queue: A::Queue, body: Value) -> Result<u64, ActorError> {
        let config = &self.host.config;
        check_size(&body, config.max_queue_message_size)?;
        let created_at_ms = crate::runtime::host::now_ms();
        let row = row_value(queue, created_at_ms, &body)?;
        let mut state = self.lock();
        let max = config.max_queue_size;
        if state.ready.len() + state.taken.len() + state.sent.len() >= max {
            return Err(ActorError::queue_full(max));
        }
        let seq = state.next_seq;
        state.next_seq += 1;
        let message = Stored {
            seq,
            queue,
            created_at_ms,
            body,
        };
        state.sent.push((message, row));
        Ok(seq)
    }

    /// Whether a committed turn sent messages the `#[run]` loop's takes were not offered.
    pub(crate) fn has_fresh(&self) -> bool {
        // Without a waiting take there is nothing to offer them to (a take that comes later
        // finds them ready): the turn's write need not be waited for.
        let offer = |state: &State<A>| state.fresh && !state.consumers.is_empty();
        self.state.peek(offer).unwrap_or(false)
    }

    /// [`has_fresh`](Self::has_fresh), cleared by asking.
    pub(crate) fn take_fresh(&self) -> bool {
        if !self.state.is_made() {
            return false;
        }
        std::mem::take(&mut self.lock().fresh)
    }

    /// Takes up to `max` waiting messages that `draw` admits for the current turn.
    pub(crate) fn take_in_turn(&self, draw: &Draw<A>, max: usize) -> Vec<Taken> {
        let mut state = self.lock();
        // A turn's writes commit in one storage write, which may hold only so many rows.
        let seqs = matching(
            &state.ready,
            draw,
            max.min(self.host.storage.max_rows_per_write()),
        );
        let mut out = Vec::with_capacity(seqs.len());
        for seq in seqs {
            let message = state.ready.remove(&seq).expect("listed above");
            out.push(Taken {
                seq,
                queue: message.queue.name(),
                created_at_ms: message.created_at_ms,
                body: message.body.clone(),
            });
            state.taken.push(message);
        }
        out
    }

    /// Records how a message taken in the current turn ends.
    pub(crate) fn complete_in_turn(&self, seq: u64, outcome: Completion) -> bool {
        let mut state = self.lock();
        if state.taken.iter().any(|m| m.seq == seq) {
            state.replies.insert(seq, outcome);
            true
        } else {
            false
        }
    }

    /// How many messages wait (of `queue`, or in all).
    pub(crate) fn waiting(&self, queue: Option<A::Queue>) -> usize {
        let state = self.lock();
        match queue {
            None => state.ready.len(),
            Some(q) => state.ready.values().filter(|m| m.queue == q).count(),
        }
    }
}

/// The first `max` sequences of `ready` that `draw` admits.
pub(super) fn matching<A: Actor>(
    ready: &BTreeMap<u64, Stored<A>>,
    draw: &Draw<A>,
    max: usize,
) -> Vec<u64> {
    ready
        .values()
        .filter(|m| draw.admits(m.queue))
        .take(max)
        .map(|m| m.seq)
        .collect()
}

/// Checks a body's encoded size against the limit before anything runs.
pub(crate) fn check_size(body: &Value, max: usize) -> Result<(), ActorError> {
    let mut bytes = Vec::new();
    to_cbor(body, &mut bytes).map_err(|_| ActorError::internal())?;
    if bytes.len() > max {
        return Err(ActorError::queue_message_too_large(bytes.len(), max));
    }
    Ok(())
}

impl<A: Actor> Instance<A> {
    /// Reads the actor's stored messages into the index (at wake).
    pub(super) async fn load_queue(&mut self) -> Result<(), ActorError> {
        if A::Queue::ALL.is_empty() {
            return Ok(());
        }
        let rows = self.kv_rows(PREFIX).await?;
        let next = self
            .host
            .storage
            .kv_get(&self.env.meta.id, NEXT_KEY)
            .await
            .map_err(|err| self.storage_failed(err))?;
        let mut state = self.env.outbox.queue.lock();
        if let Some(next) = next.and_then(|bytes| <[u8; 8]>::try_from(bytes.as_slice()).ok()) {
            state.next_seq = u64::from_be_bytes(next);
        }
        for (key, value) in rows {
            let seq = key
                .get(PREFIX.len()..)
                .and_then(|s| <[u8; 8]>::try_from(s).ok())
                .map(u64::from_be_bytes);
            let row: Option<(String, i64, Value)> = from_cbor(&value).ok();
            let (Some(seq), Some((name, created_at_ms, body))) = (seq, row) else {
                tracing::error!(actor = A::NAME, id = %self.env.meta.id, "an undecodable queue row was skipped");
                continue;
            };
            state.next_seq = state.next_seq.max(seq + 1);
            let Some(queue) = A::Queue::from_name(&name) else {
                // The queue was removed from the actor since: the message stays stored.
                tracing::warn!(actor = A::NAME, id = %self.env.meta.id, queue = name, "a stored message names a queue the actor no longer declares");
                continue;
            };
            state.ready.insert(
                seq,
                Stored {
                    seq,
                    queue,
                    created_at_ms,
                    body,
                },
            );
        }
        Ok(())
    }

    pub(super) async fn handle_queue(&mut self, cmd: QueueCommand<A>) {
        match cmd {
            QueueCommand::Send {
                mut connect,
                queue,
                body,
                wait,
                reply,
            } => {
                let conn_id = connect.conn_id.clone();
                let replay = connect.replay_id();
                let replayed = match &replay {
                    Some(id) => self.replayed(id).await,
                    None => None,
                };
                if let Some(answer) = replayed {
                    // Accepted before: the same message, not a second one.
                    let result = answer.and_then(|seq| {
                        let seq = crate::value::from_value::<u64>(seq)
                            .map_err(|_| ActorError::internal())?;
                        let completion =
                            wait.then(|| self.host.waiters.wait_for(&self.env.outbox.actor, seq));
                        Ok(Accepted { completion })
                    });
                    self.answer_send(reply, result);
                    return;
                }
                // A send from another actor's turn: what its hooks call extends the chain
                // of turns waiting on it, so a call back into one of them is refused.
                self.env.outbox.set_upstream(connect.take_chain());
                let result = match self.connect(connect).await {
                    Ok(()) => {
                        self.replaying = replay;
                        // `can_invoke`/`can_publish` are user code: a panic there must not
                        // leak the throwaway connection.
                        let enqueued = self
                            .guarded(&conn_id, async |inst| {
                                inst.enqueue(&conn_id, queue, body).await
                            })
                            .await;
                        let result = enqueued.map(|seq| {
                            let completion = wait
                                .then(|| self.host.waiters.wait_for(&self.env.outbox.actor, seq));
                            Accepted { completion }
                        });
                        self.disconnect(&conn_id, crate::conn::DisconnectReason::ClientClosed)
                            .await;
                        result
                    }
                    Err(err) => Err(err),
                };
                self.env.outbox.set_upstream(None);
                self.replaying = None;
                self.answer_send(reply, result);
                self.serve_consumers().await;
            }
            QueueCommand::Take {
                draw,
                max,
                wait,
                reply,
            } => {
                let consumer = Consumer {
                    draw,
                    max: max.max(1),
                    reply,
                };
                if wait {
                    self.env.outbox.queue.lock().consumers.push(consumer);
                    self.serve_consumers().await;
                } else if let Err(consumer) = self.serve(consumer).await {
                    // Nothing waits for it: answer empty rather than wait.
                    let _ = consumer.reply.send(Handover::empty());
                }
            }
            QueueCommand::PutBack(put_back) => self.put_back(put_back).await,
        }
    }

    /// Answers a send. A sender that went away before hearing its message was accepted
    /// waits for nothing: its entry in the host's waiters goes too.
    fn answer_send(
        &self,
        reply: oneshot::Sender<Result<Accepted, ActorError>>,
        result: Result<Accepted, ActorError>,
    ) {
        // Unsent, the answer's waiter leaves the waiters as it is dropped.
        let _ = reply.send(result);
    }

    /// `can_invoke`, `can_publish`, the count limit, then the durable write.
    async fn enqueue(
        &mut self,
        conn_id: &crate::conn::ConnId,
        queue: A::Queue,
        body: Value,
    ) -> Result<u64, ActorError> {
        let slot = self.conns.get(conn_id).ok_or_else(ActorError::internal)?;
        let ctx = self.env.conn_ctx(&slot.conn);
        let (limit, id) = (self.host.config.connect_hook_timeout, &self.env.meta.id);
        let can_invoke = self.state.can_invoke(&ctx, Invoke::Queue(queue));
        guard::<A>(limit, id, "can_invoke", can_invoke).await?;
        guard::<A>(
            limit,
            id,
            "can_publish",
            self.state.can_publish(&ctx, queue),
        )
        .await?;
        let max = self.host.config.max_queue_size;
        let seq = {
            let mut state = self.env.outbox.queue.lock();
            if state.ready.len() + state.taken.len() >= max {
                return Err(ActorError::queue_full(max));
            }
            let seq = state.next_seq;
            state.next_seq += 1;
            seq
        };
        let created_at_ms = crate::runtime::host::now_ms();
        let row = row_value(queue, created_at_ms, &body)?;
        let mut write = ActorWrite {
            kv_put: vec![
                (row_key(seq), row),
                (NEXT_KEY.to_vec(), (seq + 1).to_be_bytes().to_vec()),
            ],
            ..Default::default()
        };
        // A send the engine may deliver again is recorded with the message (see replay.rs).
        if let Some(request) = self.replaying.take() {
            let answer = Value::Integer(seq.into());
            self.env.outbox.replay.record(&request, &answer);
            self.env.outbox.replay.stage(&mut write);
        }
        if let Err(err) = self.write(write).await {
            self.env.outbox.replay.abort();
            return Err(err);
        }
        self.env.outbox.replay.committed();
        self.used = true;
        self.env.outbox.queue.lock().ready.insert(
            seq,
            Stored {
                seq,
                queue,
                created_at_ms,
                body,
            },
        );
        Ok(seq)
    }
}
