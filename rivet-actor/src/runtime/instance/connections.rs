//! Connections inside an instance: the connect pipeline, actions on behalf of a
//! connection (or of the actor itself), subscriptions and disconnects.

use std::collections::{HashMap, HashSet};
use std::panic::AssertUnwindSafe;

use futures_util::FutureExt;
use tokio::sync::oneshot;

use crate::actor::{ActionTarget, Actor, ActorCall, ActorReturn, Invoke, Target};
use crate::conn::{Conn, ConnId, DisconnectReason};
use crate::context::effects::{ConnTable, TurnOutput, TurnWork};
use crate::error::ActorError;
use crate::runtime::Sink;
use crate::runtime::command::{CallAndReply, Command, Connect};
use crate::runtime::instance::deadline::{self, within};
use crate::runtime::instance::{Instance, mask};
use crate::value::Value;

/// An instance's connections by id, looked up on every call: hashed with a fast seeded
/// hasher (SipHash was a few hundred instructions of each in-process call).
pub(crate) type ConnMap<A> = HashMap<ConnId, ConnSlot<A>, foldhash::fast::RandomState>;

/// A live connection's slot inside an instance.
pub(crate) struct ConnSlot<A: Actor> {
    pub(crate) conn: Conn<A>,
    pub(crate) subscriptions: HashSet<A::Event>,
    pub(crate) sink: Option<Sink>,
}

/// Where an action's answer goes: typed to an in-process caller, encoded to the wire.
enum Reply<A: Actor> {
    Typed(oneshot::Sender<Result<A::Return, ActorError>>),
    Encoded(oneshot::Sender<Result<Value, ActorError>>),
}

impl<A: Actor> Instance<A> {
    /// The connect pipeline: `before_connect`, `conn_state`, then `on_connect`.
    pub(crate) async fn connect(&mut self, connect: Connect<A>) -> Result<(), ActorError> {
        let Connect {
            conn_id,
            params,
            request,
            sink,
            extensions,
            conn_state,
            chain: _,
            call_id: _,
        } = connect;
        let id = self.env.meta.id.clone();
        let mut ctx = self.env.connect_ctx(request.as_deref(), &conn_id);
        let limit = self.host.config.connect_hook_timeout;
        // Hooks without `self` already ran, outside the turn (`Host::connection`).
        if !A::BEFORE_CONNECT_DETACHED {
            within(limit, self.state.before_connect(&mut ctx, &params))
                .await
                .map_err(|_| deadline::timed_out::<A>(&id, "before_connect"))?
                .map_err(|err| mask::<A>(err, &id, "before_connect"))?;
        }
        let conn_state = match conn_state {
            Some(state) => state,
            None => within(limit, self.state.conn_state(&mut ctx, &params))
                .await
                .map_err(|_| deadline::timed_out::<A>(&id, "conn_state"))?
                .map_err(|err| mask::<A>(err, &id, "conn_state"))?,
        };
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
        self.conns.insert(conn_id.clone(), slot);
        let mut ctx = self.env.action_ctx(&mut self.conns, Some(&conn_id), None);
        let on_connect = self.state.on_connect(&mut ctx);
        let connected = match AssertUnwindSafe(deadline::hook::<A, _, _>(
            limit,
            &id,
            "on_connect",
            on_connect,
        ))
        .catch_unwind()
        .await
        {
            Ok(connected) => connected,
            Err(panic) => {
                // Refused like a failed `on_connect` (the caller's reply is dropped:
                // `internal_error`), so not registered either: a slot left behind would
                // keep the actor awake for ever. The task loop recovers the actor.
                self.conns.remove(&conn_id);
                std::panic::resume_unwind(panic)
            }
        };
        if let Err(err) = self.finish_turn(A::ON_CONNECT_MUTATES, connected).await {
            self.conns.remove(&conn_id);
            return Err(mask::<A>(err, &id, "on_connect"));
        }
        Ok(())
    }

    /// A stateless call: the connect pipeline for a throwaway connection, the action, then
    /// its disconnect.
    pub(crate) async fn stateless(&mut self, mut connect: Connect<A>, invocation: CallAndReply<A>) {
        // A call from another actor's turn (in-process, or from another host with the
        // chain in a header): the calls its turns make extend that chain.
        self.env.outbox.set_upstream(connect.take_chain());
        self.stateless_turns(connect, invocation).await;
        self.env.outbox.set_upstream(None);
    }

    async fn stateless_turns(&mut self, connect: Connect<A>, invocation: CallAndReply<A>) {
        let conn_id = connect.conn_id.clone();
        // A request the engine delivers again after a failover is answered from its record.
        let replay = connect.replay_id();
        if let Some(id) = &replay
            && let Some(answer) = self.replayed(id).await
        {
            return invocation.answer(answer);
        }
        if let Err(err) = self.connect(connect).await {
            return invocation.fail(err);
        }
        // After the connect hooks: the record belongs to the action's turn, and the calls
        // it makes carry ids derived from the request's (run again, it makes them again).
        let action = crate::actor::Target::name(invocation.action());
        self.env
            .outbox
            .set_replaying(replay.clone().map(|id| (id, action)));
        self.replaying = replay;
        self.guarded(&conn_id, async |inst| inst.call(&conn_id, invocation).await)
            .await;
        self.replaying = None;
        self.env.outbox.set_replaying(None);
        self.disconnect(&conn_id, DisconnectReason::ClientClosed)
            .await;
    }

    /// Accepts a connection for one turn alone (a raw request or socket), then runs `turn`
    /// on it, [`guarded`](Self::guarded); `Err` when the connection was refused.
    pub(crate) async fn throwaway<T>(
        &mut self,
        connect: Connect<A>,
        turn: impl AsyncFnOnce(&mut Self, &ConnId) -> T,
    ) -> Result<(ConnId, T), ActorError> {
        let conn_id = connect.conn_id.clone();
        self.connect(connect).await?;
        let out = self
            .guarded(&conn_id, async |inst| turn(inst, &conn_id).await)
            .await;
        Ok((conn_id, out))
    }

    /// Runs a turn on behalf of a connection accepted for it alone (a stateless call, a raw
    /// request or socket). If the turn panics, the caller already sees `internal_error` (its
    /// reply is dropped) and the panic goes on to the task loop, which recovers the actor;
    /// the connection must not leak meanwhile, so its `on_disconnect` is queued to run
    /// after the recovery.
    pub(crate) async fn guarded<T>(
        &mut self,
        conn_id: &ConnId,
        turn: impl AsyncFnOnce(&mut Self) -> T,
    ) -> T {
        match AssertUnwindSafe(turn(self)).catch_unwind().await {
            Ok(out) => out,
            Err(panic) => {
                self.disconnect_after_recovery(conn_id.clone());
                // What the turn's request set for its calls goes with it: later turns are
                // not replays, nor called from the turns that waited on this one.
                self.replaying = None;
                self.env.outbox.set_replaying(None);
                self.env.outbox.set_upstream(None);
                std::panic::resume_unwind(panic)
            }
        }
    }

    /// A panicked turn's throwaway connection: once the task loop has recovered the actor
    /// (last saved state, fresh vars, `on_wake`), the connection's `on_disconnect` runs as a
    /// command of its own, so the connection neither leaks (the actor could never sleep)
    /// nor skips its hook.
    fn disconnect_after_recovery(&mut self, conn_id: ConnId) {
        let disconnect = Command::Disconnect {
            conn_id: conn_id.clone(),
            reason: DisconnectReason::Failed,
        };
        if self
            .host
            .sender(&self.id())
            .try_send(Box::new(disconnect))
            .is_err()
        {
            // A full mailbox: drop the connection without its hook rather than wait on
            // our own mailbox.
            self.conns.remove(&conn_id);
        }
    }

    /// One action: `can_invoke`, argument decoding, dispatch, persistence, reply.
    pub(crate) async fn call(&mut self, conn_id: &ConnId, invocation: CallAndReply<A>) {
        let Some(slot) = self.conns.get(conn_id) else {
            invocation.fail(ActorError::connection_not_found());
            return;
        };
        let action = invocation.action();
        let ctx = self.env.conn_ctx(&slot.conn);
        let limit = self.host.config.connect_hook_timeout;
        let can_invoke = self.state.can_invoke(&ctx, Invoke::Action(action));
        let id = &self.env.meta.id;
        if let Err(err) = deadline::guard::<A>(limit, id, "can_invoke", can_invoke).await {
            invocation.fail(err);
            return;
        }
        // Looked up above, and `can_invoke` cannot close it: no second lookup.
        self.run_action(Some(conn_id), invocation).await;
    }

    /// Decodes, runs, persists and answers one action on behalf of `conn_id` (`None`: the
    /// actor itself), once it has been allowed.
    pub(crate) async fn dispatch(&mut self, conn_id: Option<&ConnId>, invocation: CallAndReply<A>) {
        if conn_id.is_some_and(|conn_id| !self.conns.contains_key(conn_id)) {
            invocation.fail(ActorError::connection_not_found());
            return;
        }
        self.run_action(conn_id, invocation).await;
    }

    /// [`Instance::dispatch`] for a connection known to be open (or none).
    async fn run_action(&mut self, conn_id: Option<&ConnId>, invocation: CallAndReply<A>) {
        let action = invocation.action();
        let (call, reply) = match invocation {
            CallAndReply::Typed { call, reply } => (call, Reply::<A>::Typed(reply)),
            CallAndReply::Encoded {
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
        let mut ctx = self.env.action_ctx(&mut self.conns, conn_id, None);
        // An action that runs past the limit is cut off at its next `.await`; the turn then
        // fails like any other, so whatever it changed rolls back.
        let limit = self.host.config.action_timeout;
        let result = match within(limit, self.state.dispatch(&mut ctx, call)).await {
            Ok(result) => result,
            Err(_) => {
                tracing::warn!(actor = A::NAME, id = %self.env.meta.id, action = action.name(), "an action timed out");
                Err(ActorError::action_timed_out(action.name(), limit).into())
            }
        };
        let during = action.name();
        match reply {
            Reply::Typed(reply) => {
                let result = self.finish_turn(!action.is_read_only(), result).await;
                let result = result.map_err(|err| mask::<A>(err, &self.env.meta.id, during));
                self.host.actions.count(result.as_ref().map(drop));
                self.answer(reply, result);
            }
            Reply::Encoded(reply) => {
                // Encode before committing: an output that cannot be encoded fails the turn.
                let result = result.and_then(|ret| ret.to_value());
                // Recorded with the turn's writes, so a replay finds it exactly when the
                // action's changes are durable (a read-only action that wrote nothing may
                // simply run again; one that sent or took a queue message may not).
                if let (Some(request), Ok(answer)) = (self.replaying.take(), &result) {
                    if action.is_read_only() {
                        self.env.outbox.replay.record_if_writes(&request, answer);
                    } else {
                        self.env.outbox.replay.record(&request, answer);
                    }
                }
                let result = self.finish_turn(!action.is_read_only(), result).await;
                let result = result.map_err(|err| mask::<A>(err, &self.env.meta.id, during));
                self.host.actions.count(result.as_ref().map(drop));
                self.answer(reply, result);
            }
        }
    }

    pub(crate) async fn subscribe(
        &mut self,
        conn_id: &ConnId,
        event: A::Event,
        subscribe: bool,
    ) -> Result<(), ActorError> {
        let slot = self
            .conns
            .get(conn_id)
            .ok_or_else(ActorError::connection_not_found)?;
        if subscribe {
            let ctx = self.env.conn_ctx(&slot.conn);
            let (limit, id) = (self.host.config.connect_hook_timeout, &self.env.meta.id);
            let can_invoke = self.state.can_invoke(&ctx, Invoke::Subscribe(event));
            deadline::guard::<A>(limit, id, "can_invoke", can_invoke).await?;
            let can_subscribe = self.state.can_subscribe(&ctx, event);
            deadline::guard::<A>(limit, id, "can_subscribe", can_subscribe).await?;
        }
        let slot = self.conns.get_mut(conn_id).expect("looked up above");
        if subscribe {
            slot.subscriptions.insert(event);
        } else {
            slot.subscriptions.remove(&event);
        }
        Ok(())
    }

    pub(crate) async fn disconnect(&mut self, conn_id: &ConnId, reason: DisconnectReason) {
        if !self.conns.contains_key(conn_id) {
            return;
        }
        let id = self.env.meta.id.clone();
        let mut ctx = self
            .env
            .action_ctx(&mut self.conns, Some(conn_id), Some(&reason));
        let limit = self.host.config.connect_hook_timeout;
        let on_disconnect = self.state.on_disconnect(&mut ctx);
        let result = match AssertUnwindSafe(deadline::hook::<A, _, _>(
            limit,
            &id,
            "on_disconnect",
            on_disconnect,
        ))
        .catch_unwind()
        .await
        {
            Ok(result) => result,
            Err(panic) => {
                // The connection is gone whatever its hook did: kept, it would keep the
                // actor awake for ever. The task loop recovers the actor.
                self.conns.remove(conn_id);
                std::panic::resume_unwind(panic)
            }
        };
        let result = self.finish_turn(A::ON_DISCONNECT_MUTATES, result).await;
        self.conns.remove(conn_id);
        if let Err(err) = result {
            mask::<A>(err, &self.env.meta.id, "on_disconnect");
        }
    }

    /// Tells every connection the actor is gone.
    /// Closes what the committed turn asked to close (`conn.disconnect(reason)`): once what
    /// it answered has left, each socket closes with its reason and `on_disconnect` runs.
    pub(crate) async fn kick_asked(&mut self) {
        let kicks = self.env.outbox.take_kicks();
        if kicks.is_empty() {
            return;
        }
        // The turn's answer is held until durable: it leaves before the close.
        self.gate.settle().await;
        for (conn_id, reason) in kicks {
            let Some(slot) = self.conns.get(&conn_id) else {
                continue;
            };
            if let Some(sink) = &slot.sink {
                sink.disconnect(reason.clone());
            }
            self.disconnect(&conn_id, DisconnectReason::Kicked(reason))
                .await;
        }
    }

    /// Runs `on_disconnect` for every connection (the actor is going to sleep or being
    /// destroyed), then closes them with `err`. A hook that fails is logged; one that panics
    /// is rolled back and the remaining hooks are skipped (the actor is leaving: it is not
    /// recovered to run them).
    pub(crate) async fn disconnect_all(&mut self, err: ActorError) {
        let ids: Vec<ConnId> = self.conns.keys().cloned().collect();
        for conn_id in ids {
            let sink = self.conns.get(&conn_id).and_then(|slot| slot.sink.clone());
            let ran = AssertUnwindSafe(self.disconnect(&conn_id, DisconnectReason::ActorStopping))
                .catch_unwind()
                .await;
            if let Some(sink) = sink {
                sink.close(err.clone());
            }
            if ran.is_err() {
                tracing::error!(actor = A::NAME, id = %self.env.meta.id, "on_disconnect panicked while the actor was leaving");
                self.env.outbox.clear();
                self.rollback();
                break;
            }
        }
        self.close_all(err);
    }

    pub(crate) fn close_all(&mut self, err: ActorError) {
        for slot in self.conns.values() {
            if let Some(sink) = &slot.sink {
                sink.close(err.clone());
            }
        }
        self.conns.clear();
    }
}

impl<A: Actor> ConnTable<A> for ConnMap<A> {
    fn get(&self, id: &str) -> Option<&Conn<A>> {
        HashMap::get(self, id).map(|slot| &slot.conn)
    }

    fn get_mut(&mut self, id: &str) -> Option<&mut Conn<A>> {
        HashMap::get_mut(self, id).map(|slot| &mut slot.conn)
    }

    fn all(&self) -> Box<dyn Iterator<Item = &Conn<A>> + '_> {
        Box::new(self.values().map(|slot| &slot.conn))
    }
}

impl<A: Actor> Instance<A> {
    /// A closure's turn: run with the state and a context for no connection, committed
    /// like a writing action, answered once durable.
    pub(crate) async fn closure_turn(
        &mut self,
        work: TurnWork<A>,
        reply: oneshot::Sender<Result<TurnOutput, ActorError>>,
    ) {
        let mut ctx = self.env.action_ctx(&mut self.conns, None, None);
        let outcome = work(&mut self.state, &mut ctx);
        let result = self.finish_turn(true, outcome).await;
        let result = result.map_err(|err| mask::<A>(err, &self.env.meta.id, "a turn"));
        self.answer(reply, result);
    }
}
