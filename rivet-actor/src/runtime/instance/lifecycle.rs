//! An instance's life: wake (create or load, migrate, `on_create`, `on_wake`), recovery
//! after a panicked turn, sleep and destroy.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures_util::FutureExt;
use tokio::sync::{mpsc, oneshot};

use crate::actor::Actor;
use crate::context::lifecycle::Exit;
use crate::context::{ActorMeta, CreateCtx};
use crate::error::{ActorError, Error};
use crate::runtime::chunks;
use crate::runtime::command::{Command, Mail};
use crate::runtime::host::Host;
use crate::runtime::instance::deadline::{hook, within};
use crate::runtime::instance::state_change::Chunked;
use crate::runtime::instance::{ConnMap, Instance, mask, refuse_all};
use crate::runtime::lookup::ActorId;
use crate::runtime::queue::QueueCommand;
use crate::runtime::turn::{Outbox, TurnEnv};
use crate::storage::{ActorRecord, StorageError};
use crate::value::{Value, ValueError, from_cbor};

/// Stored state that does not decode: offer it to `#[on_migrate]`, else refuse to start.
/// The stored bytes are never overwritten by a failed start.
async fn migrate<A: Actor>(
    record: &ActorRecord,
    bytes: &[u8],
    err: ValueError,
    limit: std::time::Duration,
) -> Result<A, ActorError> {
    let refuse = |cause: String| {
        tracing::error!(
            actor = A::NAME, id = %record.id, key = ?record.key, state_type = std::any::type_name::<A>(), %cause,
            "the actor cannot start: its stored state does not decode"
        );
        ActorError::start_failed()
    };
    let old: Value = from_cbor(bytes)
        .map_err(|raw| refuse(format!("{err}; the bytes are not CBOR either: {raw}")))?;
    match A::on_migrate(old) {
        None => Err(refuse(format!(
            "{err} (add an #[on_migrate] hook to convert old state)"
        ))),
        Some(migration) => match within(limit, migration).await {
            Ok(migrated) => {
                migrated.map_err(|failed| refuse(format!("{err}; #[on_migrate] failed: {failed}")))
            }
            Err(_) => Err(refuse(format!(
                "{err}; #[on_migrate] did not finish in time"
            ))),
        },
    }
}

/// How an instance's state came to be.
enum Start {
    /// Decoded from storage.
    Woken,
    /// Stored in an older shape, converted by `#[on_migrate]`.
    Migrated,
    /// New: `create_state` (nothing stored, or a creation that did not finish).
    Created,
}

impl<A: Actor> Instance<A> {
    pub(crate) async fn wake(host: Arc<Host<A>>, id: &ActorId) -> Result<Self, ActorError> {
        let storage = host.storage.clone();
        let log_storage = |err: StorageError| {
            tracing::error!(actor = A::NAME, %id, %err, "storage failed while starting the actor");
            ActorError::start_failed()
        };
        // Record, state (and its chunks), database and schedule rows in one read (one trip
        // to a SQLite reader). Chunk rows only where the storage chunks states; schedule rows
        // only for an actor with actions to schedule.
        let chunked = storage.chunked_state();
        let all: [&[u8]; 3] = [
            chunks::PREFIX,
            crate::runtime::db::PREFIX,
            crate::runtime::schedule::PREFIX,
        ];
        let schedules = !<A::Action as crate::actor::Target>::ALL.is_empty();
        let prefixes = &all[usize::from(!chunked)..if schedules { 3 } else { 2 }];
        let read = storage
            .load_for_wake(id.as_str(), prefixes)
            .await
            .map_err(log_storage)?;
        let (record, saved, chunk_rows, db_rows, schedule_rows) = match read {
            Some(read) if read.record.name == A::NAME => {
                let mut rows = read.rows.into_iter();
                let chunk_rows = match chunked {
                    true => rows.next().unwrap_or_default(),
                    false => Vec::new(),
                };
                (
                    read.record,
                    read.state,
                    chunk_rows,
                    rows.next(),
                    rows.next(),
                )
            }
            _ => return Err(ActorError::not_found()),
        };
        let (saved, layout) = match saved {
            Some(value) => match chunks::assemble(value, &chunk_rows) {
                Ok((bytes, layout)) => (Some(bytes), layout),
                Err(cause) => {
                    tracing::error!(actor = A::NAME, %id, %cause, "the actor's stored state is damaged");
                    return Err(ActorError::start_failed());
                }
            },
            None => (None, None),
        };
        drop(chunk_rows);
        let meta = ActorMeta {
            id: id.0.clone(),
            name: A::NAME,
            key: record.key.clone().into(),
            data: host.data.clone(),
        };
        let create_ctx = CreateCtx { meta: &meta };
        let limit = host.config.lifecycle_hook_timeout;
        // What is stored becomes `saved` (with its layout) even when it is not this state's
        // shape (`Start::Migrated`) or not yet created: the first commit below is written
        // against it, so chunks it leaves behind are deleted.
        let (state, start) = match &saved {
            Some(bytes) if record.created => match from_cbor::<A>(bytes) {
                Ok(state) => (state, Start::Woken),
                Err(err) => (
                    migrate::<A>(&record, bytes, err, limit).await?,
                    Start::Migrated,
                ),
            },
            _ => {
                let input: A::Input = match &record.input {
                    Some(bytes) => from_cbor(bytes),
                    None => crate::value::from_value(Value::Null),
                }
                .map_err(ActorError::invalid_input)?;
                let create = A::create_state(&create_ctx, input);
                let state = hook::<A, _, _>(limit, id.as_str(), "create_state", create)
                    .await
                    .map_err(|err| mask::<A>(err, id.as_str(), "create_state"))?;
                (state, Start::Created)
            }
        };
        let vars = hook::<A, _, _>(
            limit,
            id.as_str(),
            "create_vars",
            state.create_vars(&create_ctx),
        )
        .await
        .map_err(|err| mask::<A>(err, id.as_str(), "create_vars"))?;
        let gate = crate::runtime::gate::Gate::new(
            host.storage.clone(),
            host.metrics.clone(),
            A::NAME,
            id.as_str().to_owned(),
        );
        let outbox = Outbox::new(Arc::clone(&host), id.clone(), gate.clone());
        outbox.db.load(&db_rows.unwrap_or_default()).map_err(|err| {
            tracing::error!(actor = A::NAME, %id, %err, "the actor's database could not be loaded");
            ActorError::start_failed()
        })?;
        let mut inst = Instance {
            gate,
            host,
            state,
            env: TurnEnv { meta, vars, outbox },
            conns: ConnMap::default(),
            saved: Vec::new(),
            chunks: None,
            scratch: Vec::new(),
            run_loop: None,
            firing: None,
            used: false,
            reload: false,
            replaying: None,
        };
        inst.load_queue().await?;
        inst.load_schedules(schedule_rows.unwrap_or_default());
        inst.saved = saved.unwrap_or_default();
        inst.chunks = layout.map(|layout| {
            Box::new(Chunked {
                layout: *layout,
                frozen: Default::default(),
            })
        });
        match start {
            Start::Woken => {}
            Start::Migrated => {
                // Store the new shape now, so the migration runs once.
                inst.commit_whole_state(false)
                    .await
                    .map_err(|err| mask::<A>(err, id.as_str(), "on_migrate"))?;
            }
            Start::Created => {
                let mut ctx = inst.env.actor_ctx();
                hook::<A, _, _>(
                    limit,
                    id.as_str(),
                    "on_create",
                    inst.state.on_create(&mut ctx),
                )
                .await
                .map_err(|err| mask::<A>(err, id.as_str(), "on_create"))?;
                inst.commit_whole_state(true)
                    .await
                    .map_err(|err| mask::<A>(err, id.as_str(), "on_create"))?;
            }
        }
        // Nobody is connected yet: events of `on_create` reach no one.
        drop(inst.env.outbox.take());
        let mut ctx = inst.env.actor_ctx();
        let woke =
            hook::<A, _, _>(limit, id.as_str(), "on_wake", inst.state.on_wake(&mut ctx)).await;
        inst.finish_turn(true, woke)
            .await
            .map_err(|err| mask::<A>(err, id.as_str(), "on_wake"))?;
        // Creation and waking are not use.
        inst.used = false;
        inst.start_run_loop();
        Ok(inst)
    }

    /// After a panicked turn: reload, and drop the schedule whose call panicked (it is not
    /// retried). `false` when the actor cannot continue (its connections are closed).
    pub(crate) async fn recover_from_panic(&mut self, id: &ActorId) -> bool {
        tracing::error!(actor = A::NAME, %id, "a turn panicked; reloading the last saved state");
        if let Some(schedule) = self.firing.take() {
            self.env.outbox.clear();
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
        self.env.outbox.clear();
        self.state = from_cbor(&self.saved).map_err(|err| Error::internal(err.to_string()))?;
        let (limit, id) = (
            self.host.config.lifecycle_hook_timeout,
            self.env.meta.id.clone(),
        );
        let create_ctx = self.env.create_ctx();
        let create_vars = self.state.create_vars(&create_ctx);
        let vars = hook::<A, _, _>(limit, &id, "create_vars", create_vars).await?;
        self.env.vars = vars;
        let mut ctx = self.env.actor_ctx();
        let woke = hook::<A, _, _>(limit, &id, "on_wake", self.state.on_wake(&mut ctx)).await;
        self.finish_turn(true, woke).await
    }

    /// Goes to sleep on its own (idle): `on_sleep`, then hands anything that arrived
    /// meanwhile to a fresh instance. The storage hears of it (the engine's sleeps the actor
    /// there and sets its alarm).
    pub(crate) async fn sleep(self, rx: mpsc::Receiver<Mail<A>>) {
        self.go_to_sleep(rx, true).await;
    }

    /// Goes to sleep because its placement asked (the engine moves or sleeps it): open
    /// connections are closed first (their clients reconnect and find it again), then as
    /// [`Instance::sleep`]; the storage learns when it wants to wake.
    pub(crate) async fn stop(mut self, rx: mpsc::Receiver<Mail<A>>) {
        // What earlier turns said reaches their connections before they are closed.
        self.gate.settle().await;
        self.disconnect_all(ActorError::stopped()).await;
        self.go_to_sleep(rx, false).await;
    }

    /// What a committed turn asked for: `c.sleep()` closes the connections (their clients
    /// reconnect and wake the actor again) and sleeps as if idle; `c.destroy()` destroys.
    pub(crate) async fn exit(mut self, exit: Exit, rx: mpsc::Receiver<Mail<A>>) {
        match exit {
            Exit::Sleep => {
                self.gate.settle().await;
                self.disconnect_all(ActorError::stopped()).await;
                self.go_to_sleep(rx, true).await;
            }
            Exit::Destroy => {
                // Nobody waits for the answer: the turn that asked has had its own.
                let (reply, _) = oneshot::channel();
                self.destroy(rx, reply).await;
            }
        }
    }

    /// The stopping signals raised (the instance's and the `#[run]` loop's), then the work
    /// that keeps the actor (`wait_until`, `keep_awake`) awaited, up to its bound. Meanwhile
    /// the actor's own calls (`c.this()` and `c.this().turn(..)`, which that work makes to
    /// change the state) are served as turns — the work could not end otherwise — and
    /// every other command is kept in `held`, in order, for whatever comes next.
    async fn wind_down(&mut self, rx: &mut mpsc::Receiver<Mail<A>>, held: &mut Vec<Mail<A>>) {
        if let Some(running) = &self.run_loop {
            running.signal_stop();
        }
        let Some(life) = self.env.outbox.life_if_made().cloned() else {
            return;
        };
        life.stop();
        let finished = life.finish(self.host.config.wait_until_timeout);
        tokio::pin!(finished);
        let mut open = true;
        loop {
            tokio::select! {
                biased;
                () = &mut finished => return,
                mail = rx.recv(), if open => match mail {
                    Some(mail) if matches!(*mail, Command::Queue(QueueCommand::PutBack(_))) => {
                        self.take_back(mail).await;
                    }
                    Some(mail) if matches!(*mail, Command::Internal { .. } | Command::Turn { .. }) => {
                        let turn = AssertUnwindSafe(Box::pin(self.handle(mail))).catch_unwind();
                        if turn.await.is_err() {
                            let id = self.id();
                            Box::pin(self.recover_from_panic(&id)).await;
                        }
                        // Leaving already: what the turn asked of the actor's life is moot.
                        self.env.outbox.take_exit();
                    }
                    Some(mail) => held.push(mail),
                    None => open = false,
                },
            }
        }
    }

    /// Writes back the messages of a put-back the `#[run]` loop sent (`mail` is one) while
    /// the actor leaves: handed on to the next instance, they would wake one here, and
    /// reach no one in engine mode, where the actor may already run elsewhere.
    async fn take_back(&mut self, mail: Mail<A>) {
        if let Command::Queue(QueueCommand::PutBack(mut put_back)) = *mail {
            self.write_back(put_back.take_messages()).await;
        }
    }

    /// The put-backs waiting in the mailbox, written back (the loop has ended: no more
    /// come); everything else kept in `held`, in order.
    async fn take_back_waiting(
        &mut self,
        rx: &mut mpsc::Receiver<Mail<A>>,
        held: &mut Vec<Mail<A>>,
    ) {
        while let Ok(mail) = rx.try_recv() {
            match *mail {
                Command::Queue(QueueCommand::PutBack(_)) => self.take_back(mail).await,
                _ => held.push(mail),
            }
        }
    }

    /// `on_sleep`, the storage told (`idle`: the actor chose to), then [`Instance::leave`].
    async fn go_to_sleep(mut self, mut rx: mpsc::Receiver<Mail<A>>, idle: bool) {
        let mut held = Vec::new();
        self.wind_down(&mut rx, &mut held).await;
        self.run_on_sleep().await;
        // Work `on_sleep` started is awaited too.
        self.wind_down(&mut rx, &mut held).await;
        self.take_back_waiting(&mut rx, &mut held).await;
        // Durable before the storage hears the actor sleeps (the engine may start it
        // elsewhere at once).
        self.gate.settle().await;
        let wake_at = self.env.outbox.schedule.next_due();
        self.host
            .storage
            .actor_slept(&self.env.meta.id, wake_at, idle);
        self.leave(held, rx).await;
    }

    /// Leaves without `on_sleep` after a write was lost or its outcome is unknown:
    /// connections are closed (they saw state that may not be stored; with the lost write's
    /// error, e.g. `actor.storage_full`) and the next command wakes a fresh instance from
    /// what storage holds.
    pub(crate) async fn restart(mut self, rx: mpsc::Receiver<Mail<A>>) {
        tracing::warn!(actor = A::NAME, id = %self.env.meta.id, "reloading the actor after a lost write or one of unknown outcome");
        self.gate.settle().await;
        let err = self.gate.failed().unwrap_or_else(ActorError::internal);
        self.close_all(err);
        self.stop_run_loop();
        self.abandon_background_work();
        self.env.outbox.clear();
        self.leave(Vec::new(), rx).await;
    }

    /// Leaving without waiting for it (a restart, a failure): the stopping signal is raised
    /// and background work still running is cut off, so none of it outlives the instance
    /// beside the next one.
    pub(crate) fn abandon_background_work(&self) {
        if let Some(life) = self.env.outbox.life_if_made() {
            life.stop();
            life.abort_all();
        }
    }

    /// `on_sleep` and its commit; a failure or panic is logged, and going to sleep goes on.
    async fn run_on_sleep(&mut self) {
        self.end_run_loop().await;
        self.run_leaving_hook(Leaving::Sleep).await;
    }

    /// `on_sleep` or `on_destroy` as a turn. A failure or panic is logged and leaving goes
    /// on: what the hook changed is not committed and what it staged is undone, so the
    /// alarm is still armed (or the data still removed) and whatever arrived meanwhile
    /// reaches a fresh instance.
    async fn run_leaving_hook(&mut self, hook: Leaving) {
        let (limit, id) = (
            self.host.config.lifecycle_hook_timeout,
            self.env.meta.id.clone(),
        );
        let ran = AssertUnwindSafe(async {
            let mut ctx = self.env.actor_ctx();
            let ran = match hook {
                Leaving::Sleep => {
                    let on_sleep = self.state.on_sleep(&mut ctx);
                    self::hook::<A, _, _>(limit, &id, "on_sleep", on_sleep).await
                }
                Leaving::Destroy => {
                    let on_destroy = self.state.on_destroy(&mut ctx);
                    self::hook::<A, _, _>(limit, &id, "on_destroy", on_destroy).await
                }
            };
            self.finish_turn(true, ran).await
        })
        .catch_unwind()
        .await;
        // A leaving actor does not sleep or destroy itself twice.
        self.env.outbox.take_exit();
        match ran {
            Ok(Ok(())) => {}
            Ok(Err(err)) => {
                mask::<A>(err, &self.env.meta.id, hook.name());
            }
            Err(_) => {
                tracing::error!(actor = A::NAME, id = %self.env.meta.id, hook = hook.name(), "the hook panicked; the actor leaves without its changes");
                self.env.outbox.clear();
            }
        }
    }

    /// Arms the alarm, leaves the host's map and hands what was `held` while winding down,
    /// then anything that arrived meanwhile, to a fresh instance.
    async fn leave(self, held: Vec<Mail<A>>, mut rx: mpsc::Receiver<Mail<A>>) {
        self.gate.settle().await;
        rx.close();
        match self.reload || self.gate.is_lost() {
            // Leaving after a lost write: what it holds of its schedules may not be stored.
            true => self
                .host
                .rearm_from_storage(&self.id(), crate::runtime::schedule::REARM_AFTER_LOSS),
            false => self.arm_alarm(),
        }
        let id = self.id();
        self.host.forget(&id, |tx| tx.is_closed());
        let host = self.host.clone();
        drop(self);
        for cmd in held {
            hand_on(&host, &id, cmd).await;
        }
        while let Some(cmd) = rx.recv().await {
            hand_on(&host, &id, cmd).await;
        }
    }

    /// Destroys the actor: connections closed, mailbox refused, data removed.
    pub(crate) async fn destroy(
        mut self,
        mut rx: mpsc::Receiver<Mail<A>>,
        reply: oneshot::Sender<Result<bool, ActorError>>,
    ) {
        let mut held = Vec::new();
        self.wind_down(&mut rx, &mut held).await;
        self.stop_run_loop();
        self.run_leaving_hook(Leaving::Destroy).await;
        // Work `on_destroy` started is awaited too, before the data goes.
        self.wind_down(&mut rx, &mut held).await;
        let gone = ActorError::destroyed();
        self.disconnect_all(gone.clone()).await;
        let id = self.id();
        self.host.alarms.clear(&id);
        // Nothing in flight may land after the rows are removed, and the key no longer
        // names this actor.
        self.gate.settle().await;
        self.host.awake_keys.remove(&id);
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
        for cmd in held {
            cmd.fail(ActorError::not_found());
        }
        refuse_all(&host, &id, rx, ActorError::not_found()).await;
    }
}

/// Hands a command that reached an instance as it left to the next one — except those that
/// were about this one: a disconnect (its connections went with it), a stop (it has
/// stopped), a discard of an unused actor (a fresh instance could not tell it was used), a
/// take of its `#[run]` loop that nobody waits for (the loop has ended).
async fn hand_on<A: Actor>(host: &Arc<Host<A>>, id: &ActorId, cmd: Mail<A>) {
    match *cmd {
        Command::Disconnect { .. } => {}
        Command::Queue(QueueCommand::Take { reply, .. }) if reply.is_closed() => {}
        Command::Stop { reply } => {
            let _ = reply.send(());
        }
        Command::Destroy {
            only_if_unused: true,
            reply,
        } => {
            let _ = reply.send(Ok(false));
        }
        cmd => host.send(id, cmd).await,
    }
}

/// A hook an instance runs as it leaves.
#[derive(Clone, Copy)]
enum Leaving {
    Sleep,
    Destroy,
}

impl Leaving {
    fn name(self) -> &'static str {
        match self {
            Leaving::Sleep => "on_sleep",
            Leaving::Destroy => "on_destroy",
        }
    }
}
