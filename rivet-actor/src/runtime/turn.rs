//! The effects of a turn, staged until it commits: events to deliver, queue messages taken
//! and completed (`queue.rs`), schedules added and cancelled (`schedule.rs`). The contexts
//! reach them through [`TurnEffects`]; the instance stages them into the turn's storage
//! write and makes them take hold (or undoes them) when the commit ends.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::actor::{Actor, Target};
use crate::conn::{Conn, ConnId, DisconnectReason, Request};
use crate::context::client::{ActorClient, Chain, Link, Origin};
use crate::context::effects::{Completion, ConnTable, DbEffects, KvEffects, TurnEffects};
use crate::context::lifecycle::{AwakeHold, Background, Exit, Life, Stopping};
use crate::context::{ActionCtx, ActorCtx, ActorMeta, ConnCtx, ConnectCtx, CreateCtx, This};
use crate::error::ActorError;
use crate::queue::Taken;
use crate::runtime::call_ids::CallIds;
use crate::runtime::db::{DbAccess, DbSlot};
use crate::runtime::gate::Gate;
use crate::runtime::host::Host;
use crate::runtime::kv::{KvAccess, TurnKv};
use crate::runtime::lookup::ActorId;
use crate::runtime::queue::TurnQueue;
use crate::runtime::replay::ReplayId;
use crate::runtime::schedule::TurnSchedule;
use crate::runtime::self_call::SelfCaller;
use crate::schedule::{ScheduleId, Scheduled};
use crate::storage::ActorWrite;
use crate::value::Value;

/// An event raised during a turn.
pub(crate) struct Emit<A: Actor> {
    /// `None` broadcasts to subscribers; `Some` sends to one connection.
    pub(crate) to: Option<ConnId>,
    pub(crate) event: A::Event,
    pub(crate) payload: Arc<Value>,
}

/// Events raised during a turn, delivered only once the turn has succeeded (and its state
/// is durable): a failed turn's events are never seen. It also carries the turn's other
/// staged effects, written in the same commit as the state, or undone with it.
pub(crate) struct Outbox<A: Actor> {
    pending: Mutex<Vec<Emit<A>>>,
    pub(crate) host: Arc<Host<A>>,
    /// The actor's id, as the host knows it.
    pub(crate) actor: ActorId,
    pub(crate) queue: TurnQueue<A>,
    pub(crate) schedule: TurnSchedule<A>,
    /// The request this turn applies, if the engine may deliver it again.
    pub(crate) replay: crate::runtime::replay::TurnReplay,
    /// The turn's `c.kv()` writes.
    pub(crate) kv: TurnKv,
    /// The actor's `c.db()` database, if it has one.
    pub(crate) db: DbSlot,
    /// The instance's stopping signal and background work, made on first use.
    life: std::sync::OnceLock<Arc<Life>>,
    /// What the turn asked for beyond its write, and what its calls need to know (one lock:
    /// every idle actor carries it).
    calls: Mutex<TurnCalls>,
}

/// The turn's requests for after its commit, and what the calls it makes (`c.client()`,
/// `c.this()`) need to know to refuse a cycle.
#[derive(Default)]
struct TurnCalls {
    /// Sleep or destroy once the turn has committed.
    exit: Option<Exit>,
    /// Connections to close once the turn has committed, with their reasons.
    kicks: Vec<(ConnId, String)>,
    /// The turns waiting upstream of this one (a call from another actor's turn).
    upstream: Option<Chain>,
    /// Whether this turn still runs (made on first use, lowered when the turn ends).
    running: Option<Arc<AtomicBool>>,
    /// Ids for the calls of a turn answering a request the engine may deliver again.
    call_ids: Option<Arc<CallIds>>,
}

impl<A: Actor> Outbox<A> {
    pub(crate) fn new(host: Arc<Host<A>>, actor: ActorId, gate: Gate) -> Self {
        Self {
            kv: TurnKv::new(gate),
            db: DbSlot::default(),
            life: std::sync::OnceLock::new(),
            calls: Mutex::default(),
            actor,
            pending: Mutex::new(Vec::new()),
            queue: TurnQueue::new(Arc::clone(&host)),
            schedule: TurnSchedule::new(Arc::clone(&host)),
            replay: Default::default(),
            host,
        }
    }

    /// Adds the turn's queue, schedule, kv and database writes to its storage write.
    ///
    /// # Errors
    /// When the database's changes cannot be read back (see `ActorDb::stage`): the turn
    /// fails and the instance reloads.
    pub(crate) fn stage(&self, write: &mut ActorWrite) -> Result<(), ActorError> {
        self.queue.stage(write);
        self.schedule.stage(write);
        self.kv.stage(write);
        self.db.stage(write)?;
        self.replay.stage(write);
        Ok(())
    }

    /// The turn's write is committed (handed to the output gate): its staged effects take
    /// hold. Returns the queue completions it gave, for their senders to hear once the write
    /// is durable.
    #[must_use]
    pub(crate) fn committed(&self) -> Vec<(u64, crate::runtime::queue::Completion)> {
        self.turn_ended();
        self.schedule.committed();
        self.replay.committed();
        self.queue.committed()
    }

    /// The events of the turn, to deliver.
    pub(crate) fn take(&self) -> Vec<Emit<A>> {
        std::mem::take(&mut *self.lock())
    }

    /// The turn failed: its events are dropped and its staged effects undone.
    pub(crate) fn clear(&self) {
        self.turn_ended();
        self.lock().clear();
        self.queue.abort();
        self.schedule.abort();
        self.replay.abort();
        self.kv.abort();
        self.db.abort();
        let mut calls = self.calls_lock();
        calls.exit = None;
        calls.kicks.clear();
    }

    /// Whether the committed turn asked to close connections.
    pub(crate) fn has_kicks(&self) -> bool {
        !self.calls_lock().kicks.is_empty()
    }

    /// Whether the committed turn asked to close connections, sleep or be destroyed, or sent
    /// messages to its own queues (offered to the `#[run]` loop once durable).
    pub(crate) fn asks_more(&self) -> bool {
        let calls = self.calls_lock();
        !calls.kicks.is_empty() || calls.exit.is_some() || self.queue.has_fresh()
    }

    /// The connections the committed turn closes (asked once).
    pub(crate) fn take_kicks(&self) -> Vec<(ConnId, String)> {
        std::mem::take(&mut self.calls_lock().kicks)
    }

    /// Calls made by the turns to come answer to these waiting turns (a call from another
    /// actor's turn), or to none.
    pub(crate) fn set_upstream(&self, chain: Option<Chain>) {
        self.calls_lock().upstream = chain;
    }

    /// The calls of the turns to come carry ids derived from `request` (the id of the
    /// request they answer, which the engine may deliver again) and the `action` answering
    /// it, or none.
    pub(crate) fn set_replaying(&self, request: Option<(ReplayId, &str)>) {
        let ids = request.map(|(id, action)| CallIds::new(&id, self.actor.as_str(), action));
        self.calls_lock().call_ids = ids.map(Arc::new);
    }

    /// The turn is over: calls it made no longer wait in its name.
    fn turn_ended(&self) {
        if let Some(running) = self.calls_lock().running.take() {
            running.store(false, Ordering::SeqCst);
        }
    }

    /// Where calls made now come from: this task, the current turn and the turns upstream.
    fn origin(&self) -> Origin {
        let mut calls = self.calls_lock();
        let running = calls
            .running
            .get_or_insert_with(|| Arc::new(AtomicBool::new(true)))
            .clone();
        let mut chain: Vec<Link> = calls.upstream.as_deref().unwrap_or_default().to_vec();
        chain.push(Link {
            actor: self.actor.clone(),
            running,
        });
        Origin {
            task: tokio::task::try_id(),
            chain: chain.into(),
            call_ids: calls.call_ids.clone(),
            toward: None,
        }
    }

    fn calls_lock(&self) -> MutexGuard<'_, TurnCalls> {
        self.calls.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The instance's life, made (and handed to the host, which raises its stopping
    /// signal from outside a running turn) on first use.
    pub(crate) fn life(&self) -> &Arc<Life> {
        self.life.get_or_init(|| self.host.life(&self.actor))
    }

    /// The instance's life, if a turn has asked for it.
    pub(crate) fn life_if_made(&self) -> Option<&Arc<Life>> {
        self.life.get()
    }

    /// What the committed turn asked to happen next, if anything (asked once).
    pub(crate) fn take_exit(&self) -> Option<Exit> {
        self.calls_lock().exit.take()
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Emit<A>>> {
        // A panic while holding this lock cannot leave the Vec half-written.
        self.pending
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }
}

impl<A: Actor> TurnEffects<A> for Outbox<A> {
    fn emit(&self, to: Option<ConnId>, event: A::Event, payload: Value) {
        self.lock().push(Emit {
            to,
            event,
            payload: Arc::new(payload),
        });
    }

    fn take_queued(&self, queue: A::Queue, max: usize) -> Vec<Taken> {
        self.queue
            .take_in_turn(&crate::queue::Draw::One(queue), max)
    }

    fn complete_queued(&self, seq: u64, outcome: Completion) -> bool {
        self.queue.complete_in_turn(seq, outcome)
    }

    fn waiting(&self, queue: Option<A::Queue>) -> usize {
        self.queue.waiting(queue)
    }

    fn send_queued(&self, queue: A::Queue, body: Value) -> Result<u64, ActorError> {
        self.queue.send_in_turn(queue, body)
    }

    fn schedule(
        &self,
        action: A::Action,
        args: Vec<Value>,
        run_at: SystemTime,
    ) -> Result<String, ActorError> {
        let run_at_ms = run_at
            .duration_since(UNIX_EPOCH)
            // Saturated: a moment past what milliseconds hold is never, not long ago.
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        self.schedule.add(action.name(), args, run_at_ms)
    }

    fn cancel_schedule(&self, id: &str) -> bool {
        self.schedule.cancel(id)
    }

    fn schedules(&self) -> Vec<Scheduled<A>> {
        self.schedule
            .list()
            .into_iter()
            .filter_map(|entry| {
                Some(Scheduled {
                    run_at: entry.run_at(),
                    action: A::Action::from_name(&entry.action)?,
                    id: ScheduleId::from(entry.id),
                    args: entry.args,
                })
            })
            .collect()
    }

    fn this(&self) -> This<A> {
        This::new(Arc::new(SelfCaller::new(
            self.host.clone(),
            self.actor.clone(),
            Some(self.origin()),
        )))
    }

    fn db(&self) -> Box<dyn DbEffects + '_> {
        Box::new(DbAccess { slot: &self.db })
    }

    fn client(&self) -> ActorClient {
        crate::runtime::peer::client_for(&self.host, Some(self.origin()))
    }

    fn kv(&self) -> Box<dyn KvEffects + '_> {
        Box::new(KvAccess {
            kv: &self.kv,
            storage: &*self.host.storage,
            actor: A::NAME,
            id: self.actor.as_str(),
        })
    }

    fn exit(&self, exit: Exit) {
        let mut calls = self.calls_lock();
        // Destroy outranks sleep, whichever was asked first.
        if calls.exit != Some(Exit::Destroy) {
            calls.exit = Some(exit);
        }
    }

    fn wait_until(&self, work: Background) {
        self.life().spawn(work);
    }

    fn keep_awake(&self) -> AwakeHold {
        self.life().hold_awake()
    }

    fn stopping(&self) -> Stopping {
        self.life().signal()
    }

    fn kick(&self, conn: ConnId, reason: String) {
        self.calls_lock().kicks.push((conn, reason));
    }
}

/// What a turn sees beside the state: who the actor is, its vars and the turn's effects.
/// Kept apart from the state so a hook can borrow the state and a context at once; every
/// context a hook receives is built here.
pub(crate) struct TurnEnv<A: Actor> {
    pub(crate) meta: ActorMeta,
    pub(crate) vars: A::Vars,
    pub(crate) outbox: Outbox<A>,
}

impl<A: Actor> TurnEnv<A> {
    /// For `create_vars` (and `create_state`, before an instance exists).
    pub(crate) fn create_ctx(&self) -> CreateCtx<'_> {
        CreateCtx { meta: &self.meta }
    }

    /// For lifecycle hooks.
    pub(crate) fn actor_ctx(&mut self) -> ActorCtx<'_, A> {
        ActorCtx::new(&self.meta, &mut self.vars, &self.outbox)
    }

    /// For actions, `on_connect`/`on_disconnect` and raw handlers, on behalf of `caller`
    /// (`None`: the actor itself), seeing every connection in `conns`.
    pub(crate) fn action_ctx<'a>(
        &'a mut self,
        conns: &'a mut dyn ConnTable<A>,
        caller: Option<&ConnId>,
        reason: Option<&'a DisconnectReason>,
    ) -> ActionCtx<'a, A> {
        ActionCtx::new(self.actor_ctx(), conns, caller.cloned(), reason)
    }

    /// For `before_connect` and `conn_state`.
    pub(crate) fn connect_ctx<'a>(
        &'a mut self,
        request: Option<&'a Request>,
        conn_id: &'a ConnId,
    ) -> ConnectCtx<'a, A> {
        ConnectCtx {
            meta: &self.meta,
            vars: &mut self.vars,
            request,
            conn_id,
        }
    }

    /// For `can_invoke`, `can_subscribe` and `can_publish`.
    pub(crate) fn conn_ctx<'a>(&'a self, conn: &'a Conn<A>) -> ConnCtx<'a, A> {
        ConnCtx {
            meta: &self.meta,
            vars: &self.vars,
            conn,
        }
    }
}
