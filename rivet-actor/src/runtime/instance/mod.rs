//! One live actor instance: its task, its turns and its recovery.
//!
//! Every command is one turn (a stateless call is three: connect, action, disconnect). A
//! turn that may have changed state (`&mut self` action or hook) ends by encoding the state
//! and comparing it with the encoding after the previous turn: unchanged costs nothing;
//! changed and successful is handed to the output gate (`runtime/gate.rs`), which commits
//! in the background while the next turns run and releases the turn's reply and events once
//! the write is durable; changed and failed is rolled back and its events are dropped. A
//! lost write fails the outputs that waited on it and the instance reloads from storage.
//!
//! - `mod.rs`: the instance and its task loop;
//! - `lifecycle.rs`: wake, migrate, recover, sleep, destroy;
//! - `connections.rs`: connect, call, dispatch, subscribe, disconnect;
//! - `commit.rs`: finishing a turn (commit or roll back, deliver events);
//! - `deadline.rs`: the time limits on hooks and guards.
//!
//! Queue, schedule, raw-handler and run-loop turns live beside it in `runtime/` as further
//! `impl Instance` blocks.

mod commit;
mod connections;
pub(crate) mod deadline;
mod lifecycle;
pub(crate) mod state_change;

use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;

use futures_util::FutureExt;
use tokio::sync::mpsc;
use tokio::time::{Instant, Sleep};
use tracing::Instrument;

use crate::actor::Actor;
use crate::conn::ConnId;
use crate::error::{ActorError, Error};
use crate::runtime::command::{Command, Mail};
use crate::runtime::host::Host;
use crate::runtime::lookup::ActorId;
use crate::runtime::schedule::REARM_AFTER_FAILURE;
use crate::runtime::turn::TurnEnv;

pub(crate) use connections::ConnMap;

/// The task of instance `id`: wake, take turns until idle or unrecoverable, then leave.
pub(crate) async fn run<A: Actor>(host: Arc<Host<A>>, id: ActorId, rx: mpsc::Receiver<Mail<A>>) {
    // Every long await of this loop is boxed: the task's future is allocated at its largest
    // state for as long as the actor is awake, and an idle actor should cost little.
    // Boxed inside the woken future: the task's future holds a pointer, not the instance.
    let wake = async { Instance::wake(host.clone(), &id).await.map(Box::new) };
    let woken = AssertUnwindSafe(Box::pin(wake)).catch_unwind().await;
    let woken = match woken {
        Ok(Ok(inst)) => Ok(inst),
        Ok(Err(err)) => Err(err),
        Err(_) => {
            tracing::error!(actor = A::NAME, %id, "the actor panicked while starting");
            Err(ActorError::internal())
        }
    };
    let inst = match woken {
        Ok(inst) => inst,
        Err(err) => {
            host.start_failed(&id, err.clone());
            host.abandon_life(&id);
            Box::pin(forget_unfinished_creation(&host, &id)).await;
            // The alarm that woke it (if one did) is spent: its schedules are tried again.
            host.rearm_from_storage(&id, REARM_AFTER_FAILURE);
            return Box::pin(refuse_all(&host, &id, rx, err)).await;
        }
    };
    host.start_succeeded(&id);
    if !host.storage.places_actors() {
        host.awake_keys
            .insert(inst.env.meta.key.to_vec(), id.clone());
    }
    // Boxed: the loop is the task's whole future when a parked instance gets one again.
    Box::pin(serve(host, id, inst, rx, Instant::now())).await
}

/// The task loop of an awake instance (just woken, or given a task again after it parked),
/// quiet since `quiet_since`: take turns until it parks, sleeps or cannot go on.
pub(crate) async fn serve<A: Actor>(
    host: Arc<Host<A>>,
    id: ActorId,
    mut inst: Box<Instance<A>>,
    mut rx: mpsc::Receiver<Mail<A>>,
    mut quiet_since: Instant,
) {
    // Parking is tried once per quiet spell: a failed try waits for the next command. It is
    // counted from the last command or from this task's start, whichever is later: an
    // instance given a task again does not park before its command is taken.
    let mut may_park = true;
    let mut park_from = Instant::now();
    // One timer for parking and the idle timeout, one for the next due schedule (made when
    // first needed), each moved when its deadline changes rather than made anew per turn:
    // tokio moves a deadline with a store, not a timer-wheel insert and removal.
    //
    // The quiet moment moves with every command, so its timer is moved only when it comes
    // sooner; when the timer fires early the loop moves it on then. It is polled only after
    // a move or once it has fired: a timer polled once wakes this task, whose waker stays
    // the same for the whole loop.
    let mut quiet_timer = Box::pin(tokio::time::sleep_until(far_future()));
    let mut quiet_polled = false;
    let mut due_timer: Option<Pin<Box<Sleep>>> = None;
    loop {
        // Wait for a command, the next due schedule, the moment to park or (without
        // connections: an actor someone is connected to stays awake) the idle timeout,
        // whichever comes first.
        let due = inst.due();
        let may_sleep = inst.conns.is_empty();
        let quiet = quiet_check(&host.config, quiet_since, park_from, may_park, may_sleep);
        if let Some(at) = quiet
            && at < quiet_timer.deadline()
        {
            quiet_timer.as_mut().reset(at);
            quiet_polled = false;
        }
        if let Some(at) = due {
            let timer = due_timer.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(at)));
            if timer.deadline() != at {
                timer.as_mut().reset(at);
            }
        }
        // No new command while the gate holds as many answers as it may.
        if !inst.gate.has_room() {
            Box::pin(inst.gate.room()).await;
        }
        // In this order: a lost write first (a command that arrives after the loss must
        // reach a fresh instance, not fail with the loss), then due schedules (a busy
        // mailbox cannot starve them), then commands, then the quiet timer.
        let next = std::future::poll_fn(|cx| {
            if inst.gate.poll_lost(cx).is_ready() {
                return Poll::Ready(Wakeup::Lost);
            }
            if let (Some(_), Some(timer)) = (due, due_timer.as_mut())
                && timer.as_mut().poll(cx).is_ready()
            {
                return Poll::Ready(Wakeup::Due);
            }
            if let Poll::Ready(mail) = rx.poll_recv(cx) {
                return Poll::Ready(Wakeup::Mail(mail));
            }
            if quiet.is_some() && (!quiet_polled || quiet_timer.is_elapsed()) {
                if quiet_timer.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(Wakeup::Quiet);
                }
                quiet_polled = true;
            }
            Poll::Pending
        })
        .await;
        let next = match next {
            Wakeup::Lost => {
                // A write in the background was lost; its outputs have failed.
                inst.reload = true;
                return Box::pin(inst.restart(rx)).await;
            }
            Wakeup::Due => {
                let fired = AssertUnwindSafe(Box::pin(inst.fire_due()))
                    .catch_unwind()
                    .await;
                if fired.is_err() && !Box::pin(inst.recover_from_panic(&id)).await {
                    inst.abandon_background_work();
                    Box::pin(inst.gate.settle()).await;
                    host.rearm_from_storage(&id, REARM_AFTER_FAILURE);
                    return Box::pin(refuse_all(&host, &id, rx, ActorError::internal())).await;
                }
                if inst.reload || inst.gate.is_lost() {
                    return Box::pin(inst.restart(rx)).await;
                }
                if inst.env.outbox.asks_more() {
                    match Box::pin(do_what_was_asked(inst, rx)).await {
                        Some(back) => (inst, rx) = back,
                        None => return,
                    }
                }
                let now = Instant::now();
                (quiet_since, park_from, may_park) = (now, now, true);
                continue;
            }
            Wakeup::Mail(next) => next,
            Wakeup::Quiet => {
                let now = Instant::now();
                if let Some(at) = quiet.filter(|at| now < *at) {
                    // Set for an earlier quiet moment than this one: not yet.
                    quiet_timer.as_mut().reset(at);
                    quiet_polled = false;
                    continue;
                }
                // `keep_awake` work keeps the actor from idling: its idle time counts
                // from when the last of it ended.
                let life = inst.env.outbox.life_if_made();
                if let Some(ended) = life.and_then(|life| life.awake_ended())
                    && ended > quiet_since
                {
                    quiet_since = ended;
                }
                let idle_at = host
                    .config
                    .idle_timeout
                    .and_then(|idle| quiet_since.checked_add(idle));
                if inst.conns.is_empty() && idle_at.is_some_and(|at| now >= at) {
                    if life.is_some_and(|life| life.keeps_awake()) {
                        quiet_since = now;
                        continue;
                    }
                    Box::pin(inst.sleep(rx)).await;
                    return;
                }
                let deadline = inst.park_deadline(&host.config, quiet_since);
                // Not when it is due within the timer's tick: a schedule the clock says is
                // due may still be a tick away for the timer, and it fires here first.
                let soon = now + std::time::Duration::from_millis(1);
                if !inst.can_park() || deadline.is_some_and(|at| at <= soon) {
                    // A `#[run]` loop keeps the task for good: wait for the next command.
                    // Writes in flight, background work or a schedule about to fire pass:
                    // try again once `park_after` has gone by (a connected actor has no
                    // idle timeout to end its spell otherwise).
                    match inst.run_loop.is_some() {
                        true => may_park = false,
                        false => park_from = now,
                    }
                    continue;
                }
                may_park = false;
                inst.shed();
                match host.park(&id, inst, rx, quiet_since, deadline) {
                    Ok(()) => return,
                    // Commands arrived as it parked: they come first in the new mailbox.
                    Err((back, mailbox)) => (inst, rx) = (back, mailbox),
                }
                continue;
            }
        };
        let now = Instant::now();
        (quiet_since, park_from, may_park) = (now, now, true);
        let Some(cmd) = next else { return };
        // The command stays boxed until a turn takes it: the task's future keeps no
        // command-sized slot across its awaits.
        let leaving = matches!(*cmd, Command::Stop { .. } | Command::Destroy { .. });
        let cmd = if !leaving {
            cmd
        } else {
            match *cmd {
                Command::Stop { reply } => {
                    Box::pin(inst.stop(rx)).await;
                    let _ = reply.send(());
                    return;
                }
                Command::Destroy {
                    only_if_unused,
                    reply,
                } => {
                    if only_if_unused && (inst.used || !inst.conns.is_empty()) {
                        let _ = reply.send(Ok(false));
                        continue;
                    }
                    return Box::pin(inst.destroy(rx, reply)).await;
                }
                _ => unreachable!("matched above"),
            }
        };
        // Every turn's logs carry the actor and the connection it runs for, once a
        // subscriber is set: without one, tracing turns a span's fields into a `log` record
        // at every turn even when no logger wants it.
        let span = match tracing::dispatcher::has_been_set() {
            false => tracing::Span::none(),
            true => tracing::info_span!(
                "turn",
                actor = A::NAME,
                key = ?inst.env.meta.key,
                actor_id = %inst.env.meta.id,
                conn = cmd.conn_id().map(ConnId::as_str),
            ),
        };
        let turn = AssertUnwindSafe(Box::pin(inst.handle(cmd))).catch_unwind();
        // Entering a span that no subscriber wants still costs at every poll.
        let turn = match span.is_disabled() {
            true => turn.await,
            false => turn.instrument(span).await,
        };
        if turn.is_err() && !Box::pin(inst.recover_from_panic(&id)).await {
            // Nothing this instance handed to storage may land after a fresh one woke.
            inst.abandon_background_work();
            Box::pin(inst.gate.settle()).await;
            host.rearm_from_storage(&id, REARM_AFTER_FAILURE);
            return Box::pin(refuse_all(&host, &id, rx, ActorError::internal())).await;
        }
        if inst.reload || inst.gate.is_lost() {
            // A write was lost or its outcome is unknown: what is in memory may not be what
            // is stored.
            return Box::pin(inst.restart(rx)).await;
        }
        if inst.env.outbox.asks_more() {
            match Box::pin(do_what_was_asked(inst, rx)).await {
                Some(back) => (inst, rx) = back,
                None => return,
            }
        }
    }
}

/// After a turn that asked for more than its answer (connections closed, `c.sleep()`,
/// `c.destroy()`): that happens once the turn's write is durable — a turn whose write was
/// lost asked nothing, and the instance restarts instead. The instance and its mailbox
/// come back when it goes on serving.
async fn do_what_was_asked<A: Actor>(
    mut inst: Box<Instance<A>>,
    rx: mpsc::Receiver<Mail<A>>,
) -> Option<(Box<Instance<A>>, mpsc::Receiver<Mail<A>>)> {
    Box::pin(inst.gate.settle()).await;
    if inst.reload || inst.gate.is_lost() {
        Box::pin(inst.restart(rx)).await;
        return None;
    }
    if inst.env.outbox.has_kicks() {
        Box::pin(inst.kick_asked()).await;
    }
    if inst.env.outbox.queue.take_fresh() {
        // Messages a turn sent to its own queues: the `#[run]` loop may be waiting.
        Box::pin(inst.serve_consumers()).await;
    }
    if let Some(exit) = inst.env.outbox.take_exit() {
        Box::pin(inst.exit(exit, rx)).await;
        return None;
    }
    Some((inst, rx))
}

/// What woke the task loop.
enum Wakeup<A: Actor> {
    /// A write in the background was lost.
    Lost,
    /// A schedule is due.
    Due,
    /// A command, or `None` when every sender is gone.
    Mail(Option<Mail<A>>),
    /// Time to park or to sleep.
    Quiet,
}

/// An actor whose creation never completed (`create_state`, `create_vars` or `on_create`
/// failed, or it panicked first) is removed, so a failed create leaves no record behind and
/// the key can be created again. An actor that was created before is left as it is.
async fn forget_unfinished_creation<A: Actor>(host: &Host<A>, id: &ActorId) {
    match host.storage.find_by_id(id.as_str()).await {
        Ok(Some(record)) if !record.created => {
            if let Err(err) = host.storage.destroy(id.as_str()).await {
                tracing::error!(actor = A::NAME, %id, %err, "could not remove an actor whose creation failed");
            }
        }
        Ok(_) => {}
        Err(err) => {
            tracing::error!(actor = A::NAME, %id, %err, "storage failed after a failed start")
        }
    }
}

/// When a quiet instance should next look at itself: to park (counted from `park_from`),
/// or, if it `may_sleep` (no connections), to go to sleep (from `quiet_since`), whichever
/// comes first; never when it does neither.
fn quiet_check(
    config: &crate::runtime::host::HostConfig,
    quiet_since: Instant,
    park_from: Instant,
    may_park: bool,
    may_sleep: bool,
) -> Option<Instant> {
    // A duration too long for the clock (`Duration::MAX`) is a moment that never comes.
    let idle = config
        .idle_timeout
        .filter(|_| may_sleep)
        .and_then(|idle| quiet_since.checked_add(idle));
    let park = config
        .park_after
        .filter(|_| may_park)
        .and_then(|park| park_from.checked_add(park));
    match (idle, park) {
        (Some(idle), Some(park)) => Some(idle.min(park)),
        (idle, park) => idle.or(park),
    }
}

/// A deadline that never comes (for a timer not yet needed).
fn far_future() -> tokio::time::Instant {
    tokio::time::Instant::now() + std::time::Duration::from_secs(86_400 * 365)
}

/// Closes the mailbox and answers everything in it with `err`.
async fn refuse_all<A: Actor>(
    host: &Host<A>,
    id: &ActorId,
    mut rx: mpsc::Receiver<Mail<A>>,
    err: ActorError,
) {
    rx.close();
    host.forget(id, |tx| tx.is_closed());
    while let Some(cmd) = rx.recv().await {
        cmd.fail(err.clone());
    }
}

/// Fields are `pub(crate)`: queue, schedule, raw-handler and run-loop turns live in their
/// own files of `runtime/` as further `impl Instance` blocks.
pub(crate) struct Instance<A: Actor> {
    pub(crate) host: Arc<Host<A>>,
    pub(crate) state: A,
    /// Who the actor is, its vars and the turn's staged effects.
    pub(crate) env: TurnEnv<A>,
    pub(crate) conns: ConnMap<A>,
    /// The state's encoding after the last turn that ended well (committed to the gate;
    /// durable once the gate has written it).
    pub(crate) saved: Vec<u8>,
    /// How `saved` is stored: in chunks (a large state), or whole (`None`).
    pub(crate) chunks: Option<Box<state_change::Chunked>>,
    /// Commits in the background and holds what turns say until their writes are durable.
    pub(crate) gate: crate::runtime::gate::Gate,
    /// Reused buffer for encoding the state after a turn.
    pub(crate) scratch: Vec<u8>,
    /// The `#[run]` loop: its task, its stop signal and what it kept for the instance.
    pub(crate) run_loop: Option<Box<crate::runtime::run_loop::RunLoopTask<A>>>,
    /// The schedule being fired, while its turn runs (dropped if the turn panics).
    pub(crate) firing: Option<String>,
    /// Whether anything committed a write since the instance woke (a refused request's
    /// actor is discarded only if not).
    pub(crate) used: bool,
    /// A write was lost or its outcome is unknown (`StorageError::Unknown`): the instance
    /// leaves after this turn and the next command wakes a fresh one from storage.
    pub(crate) reload: bool,
    /// The engine's id of the stateless request whose turn runs, if it may come again.
    pub(crate) replaying: Option<crate::runtime::replay::ReplayId>,
}

impl<A: Actor> Instance<A> {
    /// The actor's id, as the host knows it.
    pub(crate) fn id(&self) -> ActorId {
        ActorId(self.env.meta.id.clone())
    }

    /// One turn. Only a call's future is kept inline; every other kind of turn is boxed,
    /// so the future made (and moved into its box) for each call stays the size of a call.
    ///
    /// The command comes boxed, as it was mailed: the future holds a pointer, not a copy.
    async fn handle(&mut self, cmd: Mail<A>) {
        match *cmd {
            Command::Call {
                conn_id,
                invocation,
            } => self.call(&conn_id, invocation).await,
            Command::Connect { connect, reply } => {
                let result = Box::pin(self.connect(connect)).await;
                self.answer(reply, result);
            }
            Command::Stateless {
                connect,
                invocation,
            } => Box::pin(self.stateless(connect, invocation)).await,
            Command::Internal { invocation } => Box::pin(self.dispatch(None, invocation)).await,
            Command::Turn { work, reply } => Box::pin(self.closure_turn(work, reply)).await,
            Command::Subscribe {
                conn_id,
                event,
                subscribe,
                reply,
            } => {
                let result = Box::pin(self.subscribe(&conn_id, event, subscribe)).await;
                self.answer(reply, result);
            }
            Command::Disconnect { conn_id, reason } => {
                Box::pin(self.disconnect(&conn_id, reason)).await
            }
            Command::Queue(cmd) => Box::pin(self.handle_queue(cmd)).await,
            Command::Raw(cmd) => Box::pin(self.handle_raw(cmd)).await,
            Command::Destroy { reply, .. } => {
                // Handled by the task loop before a turn starts.
                let _ = reply.send(Err(ActorError::internal()));
            }
            Command::Stop { reply } => {
                // Handled by the task loop before a turn starts.
                let _ = reply.send(());
            }
            Command::Ready { reply } => {
                // Only asks that the instance is up.
                let _ = reply.send(Ok(()));
            }
        }
    }
}

impl<A: Actor> Instance<A> {
    /// The actor's kv rows under `prefix` (queue messages, schedules, replay records), once
    /// every write of this instance is durable.
    pub(crate) async fn kv_rows(
        &self,
        prefix: &[u8],
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>, ActorError> {
        self.gate.durable().await?;
        let id = &self.env.meta.id;
        self.host
            .storage
            .kv_scan_prefix(id, prefix)
            .await
            .map_err(|err| self.storage_failed(err))
    }

    /// A storage failure, logged with the actor it hit; the client sees what
    /// [`crate::runtime::gate::storage_failed`] says.
    pub(crate) fn storage_failed(&self, err: crate::storage::StorageError) -> ActorError {
        crate::runtime::gate::storage_failed(A::NAME, &self.env.meta.id, &err)
    }
}

/// Masks an error for the client, logging what the client will not see.
pub(crate) fn mask<A: Actor>(err: Error, id: &str, during: &str) -> ActorError {
    if !err.is_public() {
        tracing::error!(actor = A::NAME, id, during, error = %err, "internal error");
    }
    err.to_client()
}

#[cfg(test)]
mod idle_size;
