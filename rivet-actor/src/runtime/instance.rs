//! One live actor instance: its task, its turns and its recovery.
//!
//! Every command is one turn (a stateless call is three: connect, action, disconnect). A
//! turn that may have changed state (`&mut self` action or hook) ends by encoding the state
//! and comparing it with the last durable encoding: unchanged costs nothing; changed and
//! successful is committed before the reply and the turn's events leave; changed and failed
//! is rolled back to the last durable state and its events are dropped.

use std::collections::{HashMap, HashSet};
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures_util::FutureExt;
use tokio::sync::mpsc;

use crate::actor::{ActionTarget, Actor, ActorCall, ActorReturn, Invoke, Target};
use crate::conn::{Conn, ConnId, ConnSlot};
use crate::context::{ActionCtx, ActorCtx, ActorMeta, ConnCtx, ConnectCtx, CreateCtx, Outbox};
use crate::error::{ActorError, Error};
use crate::runtime::Outbound;
use crate::runtime::command::{Command, Connect, Invocation};
use crate::runtime::host::Host;
use crate::runtime::lookup::ActorId;
use crate::storage::ActorWrite;
use crate::value::{Value, from_cbor, to_cbor};

/// The task of instance `id`: wake, take turns until idle or unrecoverable, then leave.
pub(crate) async fn run<A: Actor>(
    host: Arc<Host<A>>,
    id: ActorId,
    mut rx: mpsc::Receiver<Command<A>>,
) {
    let woken = AssertUnwindSafe(Instance::wake(host.clone(), &id))
        .catch_unwind()
        .await;
    let mut inst = match woken {
        Ok(Ok(inst)) => inst,
        Ok(Err(err)) => return refuse_all(&host, &id, rx, err).await,
        Err(_) => {
            tracing::error!(actor = A::NAME, %id, "the actor panicked while starting");
            return refuse_all(&host, &id, rx, ActorError::internal()).await;
        }
    };
    loop {
        // Wait for a command, the next due schedule, or (without connections) the idle
        // timeout, whichever comes first.
        let due = inst.outbox.schedule.next_due().map(|at| {
            tokio::time::Instant::now()
                + at.duration_since(std::time::SystemTime::now())
                    .unwrap_or_default()
        });
        let idle = host.config.idle_timeout.filter(|_| inst.conns.is_empty());
        let next = tokio::select! {
            next = rx.recv() => next,
            () = tokio::time::sleep_until(due.unwrap_or_else(far_future)), if due.is_some() => {
                let fired = AssertUnwindSafe(inst.fire_due()).catch_unwind().await;
                if fired.is_err() && !inst.recover_from_panic(&id).await {
                    return refuse_all(&host, &id, rx, ActorError::internal()).await;
                }
                continue;
            }
            () = tokio::time::sleep(idle.unwrap_or_default()), if idle.is_some() => {
                inst.sleep(rx).await;
                return;
            }
        };
        let Some(cmd) = next else { return };
        if let Command::Destroy { reply } = cmd {
            return inst.destroy(rx, reply).await;
        }
        let turn = AssertUnwindSafe(inst.handle(cmd)).catch_unwind().await;
        if turn.is_err() && !inst.recover_from_panic(&id).await {
            return refuse_all(&host, &id, rx, ActorError::internal()).await;
        }
    }
}

/// A deadline that never comes (for a disabled `select!` branch).
fn far_future() -> tokio::time::Instant {
    tokio::time::Instant::now() + std::time::Duration::from_secs(86_400 * 365)
}

/// Closes the mailbox and answers everything in it with `err`.
async fn refuse_all<A: Actor>(
    host: &Host<A>,
    id: &ActorId,
    mut rx: mpsc::Receiver<Command<A>>,
    err: ActorError,
) {
    rx.close();
    host.forget(id, |tx| tx.is_closed());
    while let Some(cmd) = rx.recv().await {
        cmd.fail(err.clone());
    }
}

/// Fields are `pub(super)`: queue, schedule and raw-handler turns live in their own files
/// of `runtime/` as further `impl Instance` blocks.
pub(crate) struct Instance<A: Actor> {
    pub(super) host: Arc<Host<A>>,
    pub(super) meta: ActorMeta,
    pub(super) state: A,
    pub(super) vars: A::Vars,
    pub(super) outbox: Outbox<A>,
    pub(super) conns: HashMap<ConnId, ConnSlot<A>>,
    /// The state's last durable encoding.
    pub(super) saved: Vec<u8>,
    /// Reused buffer for encoding the state after a turn.
    pub(super) scratch: Vec<u8>,
    /// The `#[run]` loop's task and its stop signal.
    pub(super) run_loop: Option<(
        tokio::sync::watch::Sender<bool>,
        tokio::task::JoinHandle<()>,
    )>,
    /// The schedule being fired, while its turn runs (dropped if the turn panics).
    pub(super) firing: Option<String>,
}

/// Masks an error for the client, logging what the client will not see.
pub(super) fn mask<A: Actor>(err: Error, id: &str, during: &str) -> ActorError {
    if !err.is_public() {
        tracing::error!(actor = A::NAME, id, during, error = %err, "internal error");
    }
    err.to_client()
}

/// Stored state that does not decode: offer it to `#[on_migrate]`, else refuse to start.
/// The stored bytes are never overwritten by a failed start.
async fn migrate<A: Actor>(
    record: &crate::storage::ActorRecord,
    bytes: &[u8],
    err: crate::value::ValueError,
) -> Result<A, ActorError> {
    let refuse = |cause: String| {
        tracing::error!(
            actor = A::NAME, id = %record.id, key = ?record.key, state_type = std::any::type_name::<A>(), %cause,
            "the actor cannot start: its stored state does not decode"
        );
        start_failed()
    };
    let old: Value = from_cbor(bytes)
        .map_err(|raw| refuse(format!("{err}; the bytes are not CBOR either: {raw}")))?;
    match A::on_migrate(old) {
        None => Err(refuse(format!(
            "{err} (add an #[on_migrate] hook to convert old state)"
        ))),
        Some(migration) => migration
            .await
            .map_err(|failed| refuse(format!("{err}; #[on_migrate] failed: {failed}"))),
    }
}

fn timed_out<A: Actor>(id: &str, hook: &str) -> ActorError {
    tracing::warn!(actor = A::NAME, id, hook, "a connect hook timed out");
    ActorError::hook_timed_out(hook)
}

fn start_failed() -> ActorError {
    ActorError::new("actor", "start_failed", "The actor could not be started")
}

impl<A: Actor> Instance<A> {
    async fn wake(host: Arc<Host<A>>, id: &ActorId) -> Result<Self, ActorError> {
        let storage = host.storage.clone();
        let log_storage = |err: crate::storage::StorageError| {
            tracing::error!(actor = A::NAME, %id, %err, "storage failed while starting the actor");
            start_failed()
        };
        let record = match storage.find_by_id(id.as_str()).await.map_err(log_storage)? {
            Some(record) if record.name == A::NAME => record,
            _ => return Err(ActorError::not_found()),
        };
        let meta = ActorMeta {
            id: id.0.clone(),
            name: A::NAME,
            key: record.key.clone().into(),
            data: host.data.clone(),
        };
        let saved = storage.load_state(id.as_str()).await.map_err(log_storage)?;
        let create_ctx = CreateCtx { meta: &meta };
        let (state, saved) = match saved {
            Some(bytes) if record.created => match from_cbor::<A>(&bytes) {
                Ok(state) => (state, Some(bytes)),
                Err(err) => (migrate::<A>(&record, &bytes, err).await?, None),
            },
            _ => {
                let input: A::Input = match &record.input {
                    Some(bytes) => from_cbor(bytes),
                    None => crate::value::from_value(Value::Null),
                }
                .map_err(ActorError::invalid_input)?;
                let state = A::create_state(&create_ctx, input)
                    .await
                    .map_err(|err| mask::<A>(err, id.as_str(), "create_state"))?;
                (state, None)
            }
        };
        let vars = state
            .create_vars(&create_ctx)
            .await
            .map_err(|err| mask::<A>(err, id.as_str(), "create_vars"))?;
        let outbox = Outbox::new(Arc::clone(&host), id.clone());
        let mut inst = Instance {
            host,
            meta,
            state,
            vars,
            outbox,
            conns: HashMap::new(),
            saved: Vec::new(),
            scratch: Vec::new(),
            run_loop: None,
            firing: None,
        };
        inst.load_queue().await?;
        inst.load_schedules().await?;
        match saved {
            Some(bytes) => inst.saved = bytes,
            None if record.created => {
                // Migrated: store the new shape now, so the migration runs once.
                inst.commit_whole_state(false)
                    .await
                    .map_err(|err| mask::<A>(err, id.as_str(), "on_migrate"))?;
            }
            None => {
                let mut ctx = ActorCtx {
                    meta: &inst.meta,
                    vars: &mut inst.vars,
                    outbox: &inst.outbox,
                };
                inst.state
                    .on_create(&mut ctx)
                    .await
                    .map_err(|err| mask::<A>(err, id.as_str(), "on_create"))?;
                inst.commit_whole_state(true)
                    .await
                    .map_err(|err| mask::<A>(err, id.as_str(), "on_create"))?;
            }
        }
        // Nobody is connected yet: events of `on_create` reach no one.
        drop(inst.outbox.take());
        let mut ctx = ActorCtx {
            meta: &inst.meta,
            vars: &mut inst.vars,
            outbox: &inst.outbox,
        };
        let woke = inst.state.on_wake(&mut ctx).await;
        inst.finish_turn(true, woke)
            .await
            .map_err(|err| mask::<A>(err, id.as_str(), "on_wake"))?;
        inst.start_run_loop();
        Ok(inst)
    }

    /// Encodes and commits the whole state (after creation or migration).
    async fn commit_whole_state(&mut self, mark_created: bool) -> Result<(), Error> {
        to_cbor(&self.state, &mut self.scratch)
            .map_err(|err| Error::internal(format!("the state cannot be encoded: {err}")))?;
        let mut write = ActorWrite {
            state: Some(self.scratch.clone()),
            mark_created,
            ..Default::default()
        };
        self.outbox.stage(&mut write);
        self.host
            .storage
            .commit(&self.meta.id, write)
            .await
            .map_err(|err| Error::internal(format!("committing the state failed: {err}")))?;
        std::mem::swap(&mut self.saved, &mut self.scratch);
        self.outbox.committed();
        Ok(())
    }

    async fn handle(&mut self, cmd: Command<A>) {
        match cmd {
            Command::Connect { connect, reply } => {
                let result = self.connect(connect).await;
                let _ = reply.send(result);
            }
            Command::Call {
                conn_id,
                invocation,
            } => self.call(&conn_id, invocation).await,
            Command::Stateless {
                connect,
                invocation,
            } => {
                let conn_id = connect.conn_id.clone();
                match self.connect(connect).await {
                    Ok(()) => {
                        let turn = AssertUnwindSafe(self.call(&conn_id, invocation))
                            .catch_unwind()
                            .await;
                        if let Err(panic) = turn {
                            // The caller already sees `internal_error` (its reply was
                            // dropped); the throwaway connection must not leak.
                            self.disconnect_after_recovery(conn_id);
                            std::panic::resume_unwind(panic);
                        }
                        self.disconnect(&conn_id).await;
                    }
                    Err(err) => invocation.fail(err),
                }
            }
            Command::Internal { invocation } => self.dispatch(None, invocation).await,
            Command::Subscribe {
                conn_id,
                event,
                subscribe,
                reply,
            } => {
                let result = self.subscribe(&conn_id, event, subscribe).await;
                let _ = reply.send(result);
            }
            Command::Disconnect { conn_id } => self.disconnect(&conn_id).await,
            Command::Queue(cmd) => self.handle_queue(cmd).await,
            Command::Raw(cmd) => self.handle_raw(cmd).await,
            Command::Destroy { reply } => {
                // Handled by the task loop before a turn starts.
                let _ = reply.send(Err(ActorError::internal()));
            }
        }
    }

    /// The connect pipeline: `before_connect`, `conn_state`, then `on_connect`.
    pub(super) async fn connect(&mut self, connect: Connect<A>) -> Result<(), ActorError> {
        let Connect {
            conn_id,
            params,
            request,
            sink,
            extensions,
        } = connect;
        let id = self.meta.id.clone();
        let mut ctx = ConnectCtx {
            meta: &self.meta,
            vars: &mut self.vars,
            request: request.as_deref(),
            conn_id: &conn_id,
        };
        let limit = self.host.config.connect_hook_timeout;
        tokio::time::timeout(limit, self.state.before_connect(&mut ctx, &params))
            .await
            .map_err(|_| timed_out::<A>(&id, "before_connect"))?
            .map_err(|err| mask::<A>(err, &id, "before_connect"))?;
        let conn_state = tokio::time::timeout(limit, self.state.conn_state(&mut ctx, &params))
            .await
            .map_err(|_| timed_out::<A>(&id, "conn_state"))?
            .map_err(|err| mask::<A>(err, &id, "conn_state"))?;
        let slot = ConnSlot {
            conn: Conn {
                id: conn_id.clone(),
                params,
                state: conn_state,
                extensions,
            },
            subscriptions: HashSet::new(),
            sink,
        };
        let slot = self
            .conns
            .entry(conn_id.clone())
            .insert_entry(slot)
            .into_mut();
        let mut ctx = ActionCtx {
            actor: ActorCtx {
                meta: &self.meta,
                vars: &mut self.vars,
                outbox: &self.outbox,
            },
            conn: Some(&slot.conn),
        };
        let connected = self.state.on_connect(&mut ctx).await;
        if let Err(err) = self.finish_turn(true, connected).await {
            self.conns.remove(&conn_id);
            return Err(mask::<A>(err, &id, "on_connect"));
        }
        Ok(())
    }

    /// One action: `can_invoke`, argument decoding, dispatch, persistence, reply.
    async fn call(&mut self, conn_id: &ConnId, invocation: Invocation<A>) {
        let Some(slot) = self.conns.get(conn_id) else {
            invocation.fail(ActorError::new(
                "actor",
                "connection_not_found",
                "The connection is not open",
            ));
            return;
        };
        let action = invocation.action();
        let allowed = {
            let ctx = ConnCtx {
                meta: &self.meta,
                vars: &self.vars,
                conn: &slot.conn,
            };
            self.state.can_invoke(&ctx, Invoke::Action(action)).await
        };
        if !allowed {
            invocation.fail(ActorError::forbidden());
            return;
        }
        self.dispatch(Some(conn_id), invocation).await;
    }

    /// Decodes, runs, persists and answers one action on behalf of `conn_id` (`None`: the
    /// actor itself), once it has been allowed.
    pub(super) async fn dispatch(&mut self, conn_id: Option<&ConnId>, invocation: Invocation<A>) {
        let action = invocation.action();
        let conn = match conn_id {
            Some(conn_id) => match self.conns.get(conn_id) {
                Some(slot) => Some(&slot.conn),
                None => {
                    invocation.fail(ActorError::new(
                        "actor",
                        "connection_not_found",
                        "The connection is not open",
                    ));
                    return;
                }
            },
            None => None,
        };
        let (call, reply) = match invocation {
            Invocation::Typed { call, reply } => (call, Reply::<A>::Typed(reply)),
            Invocation::Encoded {
                action,
                args,
                reply,
            } => match A::Call::from_args(action, args) {
                Ok(call) => (call, Reply::Encoded(reply)),
                Err(err) => {
                    let _ = reply.send(Err(err));
                    return;
                }
            },
        };
        let mut ctx = ActionCtx {
            actor: ActorCtx {
                meta: &self.meta,
                vars: &mut self.vars,
                outbox: &self.outbox,
            },
            conn,
        };
        let result = self.state.dispatch(&mut ctx, call).await;
        let id = self.meta.id.clone();
        let during = action.name();
        match reply {
            Reply::Typed(reply) => {
                let result = self.finish_turn(!action.is_read_only(), result).await;
                let _ = reply.send(result.map_err(|err| mask::<A>(err, &id, during)));
            }
            Reply::Encoded(reply) => {
                // Encode before committing: an output that cannot be encoded fails the turn.
                let result = result.and_then(|ret| ret.to_value());
                let result = self.finish_turn(!action.is_read_only(), result).await;
                let _ = reply.send(result.map_err(|err| mask::<A>(err, &id, during)));
            }
        }
    }

    async fn subscribe(
        &mut self,
        conn_id: &ConnId,
        event: A::Event,
        subscribe: bool,
    ) -> Result<(), ActorError> {
        let slot = self.conns.get(conn_id).ok_or_else(|| {
            ActorError::new(
                "actor",
                "connection_not_found",
                "The connection is not open",
            )
        })?;
        if subscribe {
            let ctx = ConnCtx {
                meta: &self.meta,
                vars: &self.vars,
                conn: &slot.conn,
            };
            if !self.state.can_invoke(&ctx, Invoke::Subscribe(event)).await
                || !self.state.can_subscribe(&ctx, event).await
            {
                return Err(ActorError::forbidden());
            }
        }
        let slot = self.conns.get_mut(conn_id).expect("looked up above");
        if subscribe {
            slot.subscriptions.insert(event);
        } else {
            slot.subscriptions.remove(&event);
        }
        Ok(())
    }

    pub(super) async fn disconnect(&mut self, conn_id: &ConnId) {
        let Some(slot) = self.conns.get(conn_id) else {
            return;
        };
        let mut ctx = ActionCtx {
            actor: ActorCtx {
                meta: &self.meta,
                vars: &mut self.vars,
                outbox: &self.outbox,
            },
            conn: Some(&slot.conn),
        };
        let result = self.state.on_disconnect(&mut ctx).await;
        let result = self.finish_turn(true, result).await;
        self.conns.remove(conn_id);
        if let Err(err) = result {
            mask::<A>(err, &self.meta.id, "on_disconnect");
        }
    }

    /// Ends a turn: persist or roll back, then deliver or drop the turn's events.
    ///
    /// The turn's writes are the state (if it changed) plus whatever the turn staged in the
    /// outbox's queue and schedule parts; they commit together in one storage write, so a
    /// consumed queue message or a new schedule is durable exactly when the state change is.
    pub(super) async fn finish_turn<T>(
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
                self.outbox.stage(&mut write);
                if !write.is_empty() {
                    if let Err(err) = self.host.storage.commit(&self.meta.id, write).await {
                        if changed {
                            self.rollback();
                        }
                        self.outbox.clear();
                        return Err(Error::internal(format!(
                            "committing the state failed: {err}"
                        )));
                    }
                    if changed {
                        std::mem::swap(&mut self.saved, &mut self.scratch);
                    }
                }
                self.outbox.committed();
                self.deliver();
                if changed {
                    let ctx = ActorCtx {
                        meta: &self.meta,
                        vars: &mut self.vars,
                        outbox: &self.outbox,
                    };
                    self.state.on_state_change(&ctx).await;
                    // on_state_change may broadcast.
                    self.deliver();
                }
                Ok(value)
            }
            Err(err) => {
                if changed {
                    self.rollback();
                }
                self.outbox.clear();
                Err(err)
            }
        }
    }

    /// Encodes the state into `scratch`; whether it differs from the last durable state.
    fn state_changed(&mut self) -> Result<bool, Error> {
        match to_cbor(&self.state, &mut self.scratch) {
            Ok(()) => Ok(self.scratch != self.saved),
            Err(err) => {
                self.rollback();
                self.outbox.clear();
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
    fn deliver(&mut self) {
        for emit in self.outbox.take() {
            let out = Outbound::Event {
                name: emit.event.name(),
                payload: emit.payload,
            };
            match &emit.to {
                None => {
                    for slot in self.conns.values() {
                        if slot.subscriptions.contains(&emit.event)
                            && let Some(sink) = &slot.sink
                        {
                            let _ = sink.send(out.clone());
                        }
                    }
                }
                Some(conn_id) => {
                    if let Some(sink) = self.conns.get(conn_id).and_then(|slot| slot.sink.as_ref())
                    {
                        let _ = sink.send(out);
                    }
                }
            }
        }
    }

    /// After a panicked turn: reload, and drop the schedule whose call panicked (it is not
    /// retried). `false` when the actor cannot continue (its connections are closed).
    async fn recover_from_panic(&mut self, id: &ActorId) -> bool {
        tracing::error!(actor = A::NAME, %id, "a turn panicked; reloading the last saved state");
        if let Some(schedule) = self.firing.take() {
            self.outbox.clear();
            self.drop_schedule(&schedule).await;
        }
        let recovered = AssertUnwindSafe(self.recover()).catch_unwind().await;
        if matches!(recovered, Ok(Ok(()))) {
            return true;
        }
        tracing::error!(actor = A::NAME, %id, "the actor could not be reloaded; stopping it");
        self.stop_run_loop();
        self.close_all(ActorError::internal());
        false
    }

    /// After a panicked turn: the last durable state, fresh vars, `on_wake` again.
    async fn recover(&mut self) -> Result<(), Error> {
        self.outbox.clear();
        self.state = from_cbor(&self.saved).map_err(|err| Error::internal(err.to_string()))?;
        let ctx = CreateCtx { meta: &self.meta };
        self.vars = self.state.create_vars(&ctx).await?;
        let mut ctx = ActorCtx {
            meta: &self.meta,
            vars: &mut self.vars,
            outbox: &self.outbox,
        };
        let woke = self.state.on_wake(&mut ctx).await;
        self.finish_turn(true, woke).await
    }

    /// Starts the `#[run]` loop, if the actor has one.
    fn start_run_loop(&mut self) {
        if !A::HAS_RUN {
            return;
        }
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let ctx = crate::queue::RunCtx::new(self.host.clone(), &self.meta, stopped);
        let id = self.meta.id.clone();
        // Dropped when the loop ends or is cancelled: what it took and did not complete is
        // reported to the waiting senders.
        let held = ctx.held();
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
        self.run_loop = Some((stop, task));
    }

    /// Stops the `#[run]` loop: tells it, then cancels it at its next `.await` (it reaches
    /// the state only through turns, so cancelling it loses nothing of the state).
    fn stop_run_loop(&mut self) {
        if let Some((stop, task)) = self.run_loop.take() {
            let _ = stop.send(true);
            task.abort();
        }
    }

    /// Goes to sleep: `on_sleep`, then hands anything that arrived meanwhile to a fresh
    /// instance.
    async fn sleep(mut self, mut rx: mpsc::Receiver<Command<A>>) {
        self.stop_run_loop();
        let mut ctx = ActorCtx {
            meta: &self.meta,
            vars: &mut self.vars,
            outbox: &self.outbox,
        };
        let slept = self.state.on_sleep(&mut ctx).await;
        if let Err(err) = self.finish_turn(true, slept).await {
            mask::<A>(err, &self.meta.id, "on_sleep");
        }
        rx.close();
        self.arm_alarm();
        let id = ActorId(self.meta.id.clone());
        self.host.forget(&id, |tx| tx.is_closed());
        let host = self.host.clone();
        drop(self);
        while let Some(cmd) = rx.recv().await {
            host.send(&id, cmd).await;
        }
    }

    /// Destroys the actor: connections closed, mailbox refused, data removed.
    async fn destroy(
        mut self,
        rx: mpsc::Receiver<Command<A>>,
        reply: tokio::sync::oneshot::Sender<Result<bool, ActorError>>,
    ) {
        self.stop_run_loop();
        if let Some(alarm) = self.host.alarms().remove(&ActorId(self.meta.id.clone())) {
            alarm.abort();
        }
        let gone = ActorError::new("actor", "destroyed", "The actor was destroyed");
        self.close_all(gone.clone());
        let id = ActorId(self.meta.id.clone());
        let result = self.host.storage.destroy(id.as_str()).await.map_err(|err| {
            tracing::error!(actor = A::NAME, %id, %err, "storage failed while destroying the actor");
            ActorError::internal()
        });
        if result.is_ok() {
            // Its queued messages are gone: senders waiting on them hear it now.
            self.host.fail_waiters(&id, &gone);
        }
        let _ = reply.send(result);
        let host = self.host.clone();
        drop(self);
        refuse_all(&host, &id, rx, ActorError::not_found()).await;
    }

    /// Tells every connection the actor is gone.
    fn close_all(&mut self, err: ActorError) {
        for slot in self.conns.values() {
            if let Some(sink) = &slot.sink {
                let _ = sink.send(Outbound::Close(err.clone()));
            }
        }
        self.conns.clear();
    }
}

enum Reply<A: Actor> {
    Typed(tokio::sync::oneshot::Sender<Result<A::Return, ActorError>>),
    Encoded(tokio::sync::oneshot::Sender<Result<Value, ActorError>>),
}
