//! All instances of one actor type: resolving keys to ids, starting instance tasks on
//! demand, and routing commands to them.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::FutureExt;

use crate::actor::Actor;
use crate::conn::ConnId;
use crate::context::PreConnectCtx;
use crate::error::ActorError;
use crate::guard::{ErasedGuard, Extension, GuardCtx};
use crate::runtime::command::{Command, Connect};
use crate::runtime::instance::mask;
use crate::runtime::lookup::{ActorId, Key, Lookup, Naming};
use crate::runtime::queue::Completion;
use crate::storage::{ActorRecord, Storage};

/// The registry's guards for a connection: still to run (with the client's raw params), or
/// already run before the actor was resolved (what they learned).
pub(crate) enum Guards<'a> {
    Run(Option<&'a crate::value::Value>),
    Ran(Vec<Extension>),
}

/// A storage failure while naming an actor: logged, answered as internal.
fn resolve_failed<A: Actor>(err: crate::storage::StorageError) -> ActorError {
    tracing::error!(actor = A::NAME, %err, "storage failed while resolving an actor");
    ActorError::internal()
}

/// Tunables of the executor.
///
/// ```
/// let config = rivet_actor::HostConfig { mailbox: 256, ..Default::default() };
/// assert_eq!(config.mailbox, 256);
/// ```
#[derive(Clone, Debug)]
pub struct HostConfig {
    /// Commands an instance's mailbox holds before senders wait.
    pub mailbox: usize,
    /// How long an instance without connections or work stays in memory before it goes to
    /// sleep (`on_sleep`; woken again on the next request). `None` keeps instances awake.
    /// Default: 30 s.
    pub idle_timeout: Option<Duration>,
    /// How long each hook of a connection (`before_connect`, `conn_state`, `on_connect`,
    /// `on_disconnect`, `on_websocket`) and each guard (`can_invoke`, `can_subscribe`,
    /// `can_publish`) may run before it is cut off with `actor.hook_timed_out` (the
    /// connection or call is refused; the turn's changes roll back). Default: 5 s.
    pub connect_hook_timeout: Duration,
    /// Messages one actor's queues hold together; a send beyond answers `queue.full`.
    /// Default: 1,000.
    pub max_queue_size: usize,
    /// The largest queue message body, CBOR-encoded; larger answers
    /// `queue.message_too_large`. Default: 64 KiB.
    pub max_queue_message_size: usize,
    /// How long a queue sender may wait for its message's completion (longer requests are
    /// cut to this). Default: 5 minutes.
    pub max_queue_wait: Duration,
    /// Pending schedules one actor may hold; scheduling beyond answers
    /// `schedule.limit_reached`. Default: 1,000.
    pub max_schedules: usize,
    /// How long one action may run before it is cut off with `actor.action_timed_out` (408;
    /// its changes roll back); an `on_request` handler is cut off after as long, with
    /// `actor.hook_timed_out`. Default: 60 s, as RivetKit's.
    pub action_timeout: Duration,
    /// The most parts an actor key may have; more answers `message.key_too_large` (400)
    /// before anything is looked up or created. Default: 16.
    pub max_key_parts: usize,
    /// The most bytes an actor key's parts may hold together. Default: 1 KiB.
    pub max_key_bytes: usize,
    /// How long going to sleep or being destroyed waits for background work
    /// (`c.wait_until`) before cutting it off. Default: 15 s.
    pub wait_until_timeout: Duration,
    /// How long each lifecycle hook (`create_state`, `create_vars`, `on_create`,
    /// `on_migrate`, `on_wake`, `on_sleep`, `on_destroy`, `on_state_change`) may run before
    /// it is cut off with `actor.hook_timed_out`: a start fails (a creation cut off before
    /// `on_create` finished keeps nothing), going to sleep or being destroyed goes on
    /// without the hook's changes, and `on_state_change`'s events are dropped (the turn
    /// stays committed). Default: 15 s.
    pub lifecycle_hook_timeout: Duration,
    /// How long an awake instance without connections stays quiet before it *parks*: gives
    /// up its task and mailbox and keeps only its memory (about a third of what a running
    /// one holds) until its next command, which costs a task spawn and nothing from
    /// storage. `None` keeps every awake instance's task. Default: 100 ms.
    pub park_after: Option<Duration>,
}

impl Default for HostConfig {
    fn default() -> Self {
        Self {
            mailbox: 1024,
            idle_timeout: Some(Duration::from_secs(30)),
            connect_hook_timeout: Duration::from_secs(5),
            max_queue_size: 1000,
            max_queue_message_size: 64 * 1024,
            max_queue_wait: Duration::from_secs(300),
            max_schedules: 1000,
            action_timeout: Duration::from_secs(60),
            max_key_parts: 16,
            max_key_bytes: 1024,
            wait_until_timeout: Duration::from_secs(15),
            lifecycle_hook_timeout: Duration::from_secs(15),
            park_after: Some(Duration::from_millis(100)),
        }
    }
}

/// The instances of actor type `A`.
pub(crate) struct Host<A: Actor> {
    pub(crate) storage: Arc<dyn Storage>,
    pub(crate) config: HostConfig,
    guards: Vec<Arc<dyn ErasedGuard>>,
    pub(crate) data: Arc<crate::context::SharedData>,
    /// The registry's counters.
    pub(crate) metrics: Arc<crate::registry::Metrics>,
    /// This actor type's action counters (in `metrics`).
    pub(crate) actions: Arc<crate::registry::ActionCounts>,
    /// The awake instances: running (their mailbox) or parked (`park.rs`).
    pub(super) live: Mutex<HashMap<ActorId, crate::runtime::mailbox::Slot<A>>>,
    /// When parked instances are due to sleep or fire a schedule.
    pub(super) deadlines: Arc<crate::runtime::park::Deadlines>,
    /// The keys of the awake instances (not kept when the storage places actors).
    pub(crate) awake_keys: crate::runtime::awake_keys::AwakeKeys,
    /// Queue senders waiting for their message's completion, by actor and message. They
    /// live here, not in the instance, so a wait survives the actor sleeping and waking.
    pub(crate) waiters: Arc<crate::runtime::queue_send::Waiters>,
    /// The lives of awake instances: their stopping signal is raised from here when a
    /// destroy or a stop is sent, so a turn still running hears it.
    pub(super) lives: Mutex<HashMap<ActorId, Arc<crate::context::lifecycle::Life>>>,
    /// Timers that wake sleeping actors for their next schedule.
    pub(crate) alarms: crate::runtime::alarms::Alarms,
    /// Why an actor's last start failed, and when: a command that reaches the failed
    /// instance's mailbox just after it closed is answered with this, rather than started
    /// again and again into the same failure.
    failed_starts: Mutex<HashMap<ActorId, (ActorError, std::time::Instant)>>,
    /// Raised by [`Host::shutdown`]: no new instance starts.
    pub(super) closed: std::sync::atomic::AtomicBool,
}

/// How long a start failure answers racing commands (the time a command can be in flight
/// between finding a mailbox and sending into it).
const FAILED_START_MEMORY: std::time::Duration = std::time::Duration::from_secs(1);

/// Above this many remembered failures, stale ones are dropped.
const FAILED_STARTS_KEPT: usize = 64;

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

/// The input of a create: typed in-process, or decoded from the wire.
pub(crate) enum InputSource<A: Actor> {
    Typed(A::Input),
    Value(crate::value::Value),
}

/// Checks the input against the actor's input type and encodes it for storage. Done before
/// the record exists, so an actor is never created with an input it cannot start from.
fn encode_input<A: Actor>(input: Option<InputSource<A>>) -> Result<Vec<u8>, ActorError> {
    let typed = match input {
        Some(InputSource::Typed(input)) => input,
        Some(InputSource::Value(value)) => {
            crate::value::from_value(value).map_err(ActorError::invalid_input)?
        }
        None => crate::value::from_value(crate::value::Value::Null).map_err(|_| {
            ActorError::invalid_input(format!(
                "the actor `{}` needs an input to be created",
                A::NAME
            ))
        })?,
    };
    let mut bytes = Vec::new();
    crate::value::to_cbor(&typed, &mut bytes).map_err(|err| {
        tracing::error!(actor = A::NAME, %err, "the input cannot be encoded");
        ActorError::internal()
    })?;
    Ok(bytes)
}

impl<A: Actor> Host<A> {
    pub(crate) fn new(
        storage: Arc<dyn Storage>,
        config: HostConfig,
        guards: Vec<Arc<dyn ErasedGuard>>,
        data: Arc<crate::context::SharedData>,
        metrics: Arc<crate::registry::Metrics>,
    ) -> Arc<Self> {
        Arc::new(Self {
            storage,
            config,
            guards,
            data,
            actions: metrics.actions_of(A::NAME),
            metrics,
            live: Mutex::new(HashMap::new()),
            deadlines: Arc::default(),
            waiters: Default::default(),
            lives: Mutex::new(HashMap::new()),
            alarms: Default::default(),
            failed_starts: Mutex::new(HashMap::new()),
            awake_keys: Default::default(),
            closed: Default::default(),
        })
    }

    /// The id `lookup` names, changing nothing: the existing actor's (with `true`), or a fresh
    /// one reserved for the actor [`Host::resolve`] would create (with `false`), so a caller can
    /// be checked against it before anything is stored.
    pub(crate) async fn plan(&self, naming: Naming<'_>) -> Result<(ActorId, bool), ActorError> {
        let (key, must_create) = match naming {
            Naming::Id(id) => {
                let record = self
                    .storage
                    .find_by_id(id.as_str())
                    .await
                    .map_err(resolve_failed::<A>)?;
                return match record {
                    Some(record) if record.name == A::NAME => Ok((id.clone(), true)),
                    _ => Err(ActorError::not_found()),
                };
            }
            Naming::Get(key) | Naming::GetOrCreate(key) => (key, false),
            Naming::Create(key) => (key, true),
        };
        self.check_key(key)?;
        if let Some(id) = self.awake_keys.get(key.parts()) {
            return if must_create {
                Err(ActorError::already_exists())
            } else {
                Ok((id, true))
            };
        }
        let found = self
            .storage
            .find_by_key(A::NAME, key.parts())
            .await
            .map_err(resolve_failed::<A>)?;
        match (found, naming) {
            (Some(_), _) if must_create => Err(ActorError::already_exists()),
            (Some(record), _) => Ok((ActorId(record.id.into()), true)),
            (None, Naming::Get(_)) => Err(ActorError::not_found()),
            (None, _) => Ok((ActorId(crate::ids::new_id().into()), false)),
        }
    }

    /// Finds or makes the actor named by `lookup`; returns its id and whether it was created.
    /// A created actor takes the `reserved` id when [`Host::plan`] gave one (the key was just
    /// looked up, so it goes straight to the insert, which still yields to a concurrent
    /// creator of the same key).
    pub(crate) async fn resolve(
        self: &Arc<Self>,
        lookup: Lookup<InputSource<A>>,
        reserved: Option<ActorId>,
    ) -> Result<(ActorId, bool), ActorError> {
        let reserved = match reserved {
            Some(reserved) => reserved,
            None => match self.plan(lookup.naming()).await? {
                (id, true) => return Ok((id, false)),
                (reserved, false) => reserved,
            },
        };
        let (key, input, must_create) = match lookup {
            // `plan` finds these or refuses them.
            Lookup::Id(_) | Lookup::Get(_) => return Err(ActorError::not_found()),
            Lookup::GetOrCreate(key, input) => (key, input, false),
            Lookup::Create(key, input) => (key, input, true),
        };
        let record = ActorRecord {
            id: reserved.as_str().to_owned(),
            name: A::NAME.to_owned(),
            key: key.0,
            input: Some(encode_input::<A>(input)?),
            created: false,
            created_at_ms: now_ms(),
        };
        let (stored, inserted) = self
            .storage
            .insert_actor(record)
            .await
            .map_err(resolve_failed::<A>)?;
        if must_create && !inserted {
            return Err(ActorError::already_exists());
        }
        let id = ActorId(stored.id.into());
        if inserted {
            // Start it now so `create_state` and `on_create` run even if nobody calls it.
            self.sender(&id);
        }
        Ok((id, inserted))
    }

    /// Refuses a key over the configured bounds (parts, total bytes).
    fn check_key(&self, key: &Key) -> Result<(), ActorError> {
        let parts = key.parts();
        let bytes: usize = parts.iter().map(String::len).sum();
        if parts.len() > self.config.max_key_parts || bytes > self.config.max_key_bytes {
            return Err(ActorError::key_too_large(
                self.config.max_key_parts,
                self.config.max_key_bytes,
            ));
        }
        Ok(())
    }

    /// Records that instance `id` failed to start with `err`.
    pub(crate) fn start_failed(&self, id: &ActorId, err: ActorError) {
        let mut failed = self.failed_starts.lock().unwrap_or_else(|p| p.into_inner());
        if failed.len() >= FAILED_STARTS_KEPT {
            failed.retain(|_, (_, at)| at.elapsed() < FAILED_START_MEMORY);
        }
        failed.insert(id.clone(), (err, std::time::Instant::now()));
    }

    /// Instance `id` started: its earlier failure no longer answers anyone.
    pub(crate) fn start_succeeded(&self, id: &ActorId) {
        let mut failed = self.failed_starts.lock().unwrap_or_else(|p| p.into_inner());
        if !failed.is_empty() {
            failed.remove(id);
        }
    }

    /// Forgets that instance `id` failed to start (its placement starts it anew).
    pub(crate) fn clear_start_failure(&self, id: &ActorId) {
        self.start_succeeded(id);
    }

    pub(super) fn recent_start_failure(&self, id: &ActorId) -> Option<ActorError> {
        let failed = self.failed_starts.lock().unwrap_or_else(|p| p.into_inner());
        failed
            .get(id)
            .filter(|(_, at)| at.elapsed() < FAILED_START_MEMORY)
            .map(|(err, _)| err.clone())
    }

    /// Destroys actor `id`: its connections are closed, its instance stops and its data is
    /// removed. Whether it existed.
    pub(crate) async fn destroy(self: &Arc<Self>, id: &ActorId) -> Result<bool, ActorError> {
        self.send_destroy(id, false).await
    }

    /// Removes actor `id` if nothing has used it since it woke (see
    /// [`Command::Destroy`]); whether it was removed.
    pub(crate) async fn discard_unused(self: &Arc<Self>, id: &ActorId) -> bool {
        matches!(self.send_destroy(id, true).await, Ok(true))
    }

    async fn send_destroy(
        self: &Arc<Self>,
        id: &ActorId,
        only_if_unused: bool,
    ) -> Result<bool, ActorError> {
        if !only_if_unused {
            self.signal_stopping(id);
        }
        let (reply, rx) = tokio::sync::oneshot::channel();
        let destroy = Command::Destroy {
            only_if_unused,
            reply,
        };
        if only_if_unused {
            // An actor no longer awake slept after it was made, so it was made whole: a
            // fresh instance would not know what the one that made it did, and it stays.
            if self.send_if_live(id, destroy).await.is_some() {
                return Ok(false);
            }
        } else {
            self.send(id, destroy).await;
        }
        rx.await.unwrap_or_else(|_| Err(ActorError::internal()))
    }

    /// The connection a request (or an in-process client) asks for, ready for the
    /// instance's connect pipeline: the registry's guards and the connect hooks written
    /// without `self` have run, here, outside the actor's turn.
    pub(crate) async fn connection(
        &self,
        id: &ActorId,
        guards: Guards<'_>,
        params: Arc<A::ConnParams>,
        request: Option<Arc<crate::conn::Request>>,
        sink: Option<crate::runtime::Sink>,
    ) -> Result<Connect<A>, ActorError> {
        // A request from another host's turn names the actors whose turns wait on it: one
        // of them being this actor, it would wait in the mailbox behind its own caller.
        let chain = request
            .as_deref()
            .and_then(crate::runtime::peer::chain_from);
        crate::context::client::check_cycle(chain.as_ref(), id)?;
        let extensions = match guards {
            Guards::Run(raw_params) => self.guard(id, raw_params, request.as_deref()).await?,
            Guards::Ran(extensions) => extensions,
        };
        let conn_id = ConnId::new();
        let conn_state = if A::BEFORE_CONNECT_DETACHED || A::CONN_STATE_DETACHED {
            let hooks = self.detached_hooks(id, &conn_id, &params, request.as_deref());
            // A panic in user code must not take the caller's task down with it.
            AssertUnwindSafe(hooks)
                .catch_unwind()
                .await
                .unwrap_or_else(|_| {
                    tracing::error!(actor = A::NAME, %id, "a connect hook panicked");
                    Err(ActorError::internal())
                })?
        } else {
            None
        };
        Ok(Connect {
            conn_id,
            params,
            request,
            sink,
            extensions,
            conn_state,
            // Read once here; a call from an in-process turn sets its own.
            chain,
            call_id: None,
        })
    }

    /// `#[before_connect]` and `#[conn_state]` without `self`, each within the connect-hook
    /// timeout; the state `#[conn_state]` made, if it ran.
    async fn detached_hooks(
        &self,
        id: &ActorId,
        conn_id: &ConnId,
        params: &A::ConnParams,
        request: Option<&crate::conn::Request>,
    ) -> Result<Option<A::ConnState>, ActorError> {
        let record = self.storage.find_by_id(id.as_str()).await.map_err(|err| {
            tracing::error!(actor = A::NAME, %id, %err, "storage failed before a connect hook");
            ActorError::internal()
        })?;
        let key = record.ok_or_else(ActorError::not_found)?.key;
        let ctx = PreConnectCtx {
            actor_id: id.as_str(),
            key: &key,
            conn_id,
            request,
            data: &self.data,
            actor: std::marker::PhantomData,
        };
        let limit = self.config.connect_hook_timeout;
        let timed_out = |hook: &str| {
            tracing::warn!(actor = A::NAME, %id, hook, "a connect hook timed out");
            ActorError::hook_timed_out(hook)
        };
        if A::BEFORE_CONNECT_DETACHED {
            tokio::time::timeout(limit, A::before_connect_detached(&ctx, params))
                .await
                .map_err(|_| timed_out("before_connect"))?
                .map_err(|err| mask::<A>(err, id.as_str(), "before_connect"))?;
        }
        if !A::CONN_STATE_DETACHED {
            return Ok(None);
        }
        tokio::time::timeout(limit, A::conn_state_detached(&ctx, params))
            .await
            .map_err(|_| timed_out("conn_state"))?
            .map_err(|err| mask::<A>(err, id.as_str(), "conn_state"))
    }

    /// Runs the registry's guards of this actor type for a connection; what they learned,
    /// to attach to it.
    pub(crate) async fn guard(
        &self,
        id: &ActorId,
        params: Option<&crate::value::Value>,
        request: Option<&crate::conn::Request>,
    ) -> Result<Vec<Extension>, ActorError> {
        let mut extensions = Vec::with_capacity(self.guards.len());
        for guard in &self.guards {
            let ctx = GuardCtx {
                actor_name: A::NAME,
                actor_id: id.as_str(),
                request,
                data: &self.data,
            };
            // Caught here: a guard runs on its caller's task (a server request, an
            // in-process call), where a panic would drop the request without an answer or
            // unwind into the caller. It refuses the connection as an internal error.
            let check = AssertUnwindSafe(guard.check(ctx, params)).catch_unwind();
            let checked = tokio::time::timeout(self.config.connect_hook_timeout, check)
                .await
                .map_err(|_| ActorError::hook_timed_out("connect guard"))?
                .map_err(|_| {
                    tracing::error!(actor = A::NAME, %id, "a connect guard panicked");
                    ActorError::internal()
                })??;
            extensions.push(checked);
        }
        Ok(extensions)
    }

    /// Tells the senders waiting for message `seq` (if any) how it ended.
    pub(crate) fn complete(&self, id: &ActorId, seq: u64, outcome: Completion) {
        self.waiters.complete(id, seq, outcome);
    }

    /// Tells every sender waiting on a message of actor `id` that it will not be completed
    /// (the actor was destroyed with its messages).
    pub(crate) fn fail_waiters(&self, id: &ActorId, err: &ActorError) {
        self.waiters.fail_all(id, err);
    }
}
