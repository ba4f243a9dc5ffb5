//! Schedules inside an instance: the durable rows, the in-memory list, firing due calls as
//! turns, and the host's alarms that wake a sleeping actor.
//!
//! A schedule is one per-actor kv row `s/<id>` holding `(action wire name, args, run-at ms)`.
//! Adding or cancelling one in a turn is staged here and written in that turn's commit. A
//! due schedule runs as a turn of the actor itself (no connection, no `can_invoke`) whose
//! commit also deletes its row: it takes effect exactly once. A scheduled call that fails
//! (an error, a panic, arguments that no longer decode) is logged and removed — never
//! retried.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::runtime::on_demand::{Locked, OnDemand, Vacant};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::de::IgnoredAny;
use tokio::sync::oneshot;

use crate::actor::{Actor, Target};
use crate::error::ActorError;
use crate::runtime::alarms::Alarms;
use crate::runtime::command::CallAndReply;
use crate::runtime::host::Host;
use crate::runtime::instance::Instance;
use crate::runtime::lookup::ActorId;
use crate::storage::ActorWrite;
use crate::value::{Value, from_cbor, to_cbor};

/// The kv prefix of schedule rows.
pub(crate) const PREFIX: &[u8] = b"s/";

fn row_key(id: &str) -> Vec<u8> {
    let mut key = PREFIX.to_vec();
    key.extend_from_slice(id.as_bytes());
    key
}

/// One pending scheduled call.
#[derive(Clone, Debug)]
pub(crate) struct Entry {
    pub(crate) id: String,
    pub(crate) action: String,
    pub(crate) args: Vec<Value>,
    pub(crate) run_at_ms: i64,
}

/// A new schedule id that sorts after every id this process made before (and, unless the
/// clock went back between runs, after those of earlier runs): 16 hex digits of wall-clock
/// nanoseconds, kept increasing, then 16 unguessable ones. Schedules due at the same
/// millisecond then fire in the order they were made.
fn ordered_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static LAST: AtomicU64 = AtomicU64::new(0);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| {
            u64::try_from(since.as_nanos()).unwrap_or(u64::MAX)
        });
    let previous = LAST
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |last| {
            Some(now.max(last.saturating_add(1)))
        })
        .unwrap_or_else(|last| last);
    let order = now.max(previous.saturating_add(1));
    let unguessable = crate::ids::new_id();
    format!("{order:016x}{}", &unguessable[..16])
}

impl Entry {
    pub(crate) fn run_at(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(self.run_at_ms.max(0) as u64)
    }

    fn row(&self) -> Option<Vec<u8>> {
        let mut bytes = Vec::new();
        to_cbor(&(&self.action, &self.args, self.run_at_ms), &mut bytes).ok()?;
        Some(bytes)
    }
}

#[derive(Default)]
struct State {
    /// Durable schedules by id.
    pending: BTreeMap<String, Entry>,
    /// Added by the current turn.
    added: Vec<Entry>,
    /// Cancelled (or fired) by the current turn.
    removed: Vec<String>,
}

impl Vacant for State {
    fn is_vacant(&self) -> bool {
        self.pending.is_empty() && self.added.is_empty() && self.removed.is_empty()
    }
}

/// The schedule part of an instance: its pending calls, and what the current turn added or
/// cancelled, staged until the turn commits.
pub(crate) struct TurnSchedule<A: Actor> {
    host: Arc<Host<A>>,
    state: OnDemand<State>,
}

impl<A: Actor> TurnSchedule<A> {
    pub(crate) fn new(host: Arc<Host<A>>) -> Self {
        Self {
            host,
            state: OnDemand::default(),
        }
    }

    fn lock(&self) -> Locked<'_, State> {
        self.state.lock()
    }

    /// Lets go of the schedules' part if it holds nothing (the instance parks).
    pub(crate) fn shed(&self) {
        self.state.shed();
    }

    /// Adds this turn's schedule writes to the turn's storage write.
    pub(crate) fn stage(&self, write: &mut ActorWrite) {
        if !self.state.is_made() {
            return;
        }
        let state = self.lock();
        for entry in &state.added {
            if state.removed.contains(&entry.id) {
                continue;
            }
            if let Some(row) = entry.row() {
                write.kv_put.push((row_key(&entry.id), row));
            }
        }
        write
            .kv_delete
            .extend(state.removed.iter().map(|id| row_key(id)));
    }

    /// The turn's write is durable: its additions and cancellations take hold.
    pub(crate) fn committed(&self) {
        if !self.state.is_made() {
            return;
        }
        let mut state = self.lock();
        if state.added.is_empty() && state.removed.is_empty() {
            return;
        }
        let added = std::mem::take(&mut state.added);
        let removed = std::mem::take(&mut state.removed);
        for entry in added {
            state.pending.insert(entry.id.clone(), entry);
        }
        for id in removed {
            state.pending.remove(&id);
        }
    }

    /// The turn failed: nothing it scheduled or cancelled happened.
    pub(crate) fn abort(&self) {
        if !self.state.is_made() {
            return;
        }
        let mut state = self.lock();
        state.added.clear();
        state.removed.clear();
    }

    /// Schedules `action(args)` at `run_at_ms` in the current turn.
    pub(crate) fn add(
        &self,
        action: &str,
        args: Vec<Value>,
        run_at_ms: i64,
    ) -> Result<String, ActorError> {
        let mut state = self.lock();
        let count = state.pending.len() + state.added.len()
            - state
                .removed
                .iter()
                .filter(|id| state.pending.contains_key(*id))
                .count();
        let max = self.host.config.max_schedules;
        if count >= max {
            return Err(ActorError::schedule_limit_reached(max));
        }
        let entry = Entry {
            id: ordered_id(),
            action: action.to_owned(),
            args,
            run_at_ms,
        };
        let size = entry.row().ok_or_else(ActorError::internal)?.len();
        if size > crate::schedule::MAX_CALL_BYTES {
            let max = crate::schedule::MAX_CALL_BYTES;
            return Err(ActorError::schedule_too_large(size, max));
        }
        let id = entry.id.clone();
        state.added.push(entry);
        Ok(id)
    }

    /// Cancels a schedule in the current turn; whether it was pending.
    pub(crate) fn cancel(&self, id: &str) -> bool {
        let mut state = self.lock();
        if state.removed.iter().any(|r| r == id) {
            return false;
        }
        let known = state.pending.contains_key(id) || state.added.iter().any(|e| e.id == id);
        if known {
            state.removed.push(id.to_owned());
        }
        known
    }

    /// The pending schedules as this turn sees them, by run time (then in the order they
    /// were made).
    pub(crate) fn list(&self) -> Vec<Entry> {
        let state = self.lock();
        let mut all: Vec<Entry> = state
            .pending
            .values()
            .chain(state.added.iter())
            .filter(|e| !state.removed.contains(&e.id))
            .cloned()
            .collect();
        all.sort_by(|a, b| (a.run_at_ms, &a.id).cmp(&(b.run_at_ms, &b.id)));
        all
    }

    /// When the earliest durable schedule is due.
    pub(crate) fn next_due(&self) -> Option<SystemTime> {
        // Asked by the task loop before every wait: an actor with no schedules keeps none.
        self.state
            .peek(|state| state.pending.values().map(|e| e.run_at_ms).min())
            .flatten()
            .map(|ms| UNIX_EPOCH + Duration::from_millis(ms.max(0) as u64))
    }

    /// The durable schedules due now, by run time, those due at the same time in the order
    /// they were made.
    fn due(&self) -> Vec<Entry> {
        let now = crate::runtime::host::now_ms();
        let mut due: Vec<Entry> = self
            .lock()
            .pending
            .values()
            .filter(|e| e.run_at_ms <= now)
            .cloned()
            .collect();
        due.sort_by(|a, b| (a.run_at_ms, &a.id).cmp(&(b.run_at_ms, &b.id)));
        due
    }

    /// Whether schedule `id` is still pending (no committed turn cancelled it).
    fn is_pending(&self, id: &str) -> bool {
        self.lock().pending.contains_key(id)
    }

    /// Forgets a schedule whose row was deleted outside a turn.
    fn forget(&self, id: &str) {
        self.lock().pending.remove(id);
    }
}

impl<A: Actor> Instance<A> {
    /// Takes in the actor's pending schedules, from the rows under `s/` read at wake.
    pub(super) fn load_schedules(&mut self, rows: Vec<crate::storage::KvPair>) {
        if rows.is_empty() {
            // The schedules' part is made on first use, not for an actor that has none.
            return;
        }
        let mut state = self.env.outbox.schedule.lock();
        for (key, value) in rows {
            let id = String::from_utf8_lossy(&key[PREFIX.len()..]).into_owned();
            match from_cbor::<(String, Vec<Value>, i64)>(&value) {
                Ok((action, args, run_at_ms)) => {
                    state.pending.insert(
                        id.clone(),
                        Entry {
                            id,
                            action,
                            args,
                            run_at_ms,
                        },
                    );
                }
                Err(err) => {
                    tracing::error!(actor = A::NAME, id = %self.env.meta.id, schedule = id, %err, "an undecodable schedule row was skipped");
                }
            }
        }
    }

    /// Fires every due schedule, each as its own turn, in order of their due times. One
    /// that an earlier one cancelled does not fire; after a lost write none does (the
    /// instance reloads, and what storage holds fires then).
    pub(super) async fn fire_due(&mut self) {
        for entry in self.env.outbox.schedule.due() {
            if self.reload || self.gate.is_lost() {
                return;
            }
            if !self.env.outbox.schedule.is_pending(&entry.id) {
                continue;
            }
            self.fire(entry).await;
        }
    }

    async fn fire(&mut self, entry: Entry) {
        let id = self.env.meta.id.clone();
        let call = A::Action::from_name(&entry.action);
        let Some(action) = call else {
            tracing::error!(actor = A::NAME, %id, schedule = entry.id, action = entry.action, "a scheduled action no longer exists; dropped");
            return self.drop_schedule(&entry.id).await;
        };
        // The row's deletion is part of the turn: it commits with the action's effect.
        self.env
            .outbox
            .schedule
            .lock()
            .removed
            .push(entry.id.clone());
        let (reply, rx) = oneshot::channel();
        self.firing = Some(entry.id.clone());
        self.dispatch(
            None,
            CallAndReply::Encoded {
                action,
                args: entry.args.clone(),
                reply,
            },
        )
        .await;
        self.firing = None;
        match rx.await {
            Ok(Ok(_)) => {}
            Ok(Err(err)) => {
                tracing::warn!(actor = A::NAME, %id, schedule = entry.id, action = entry.action, error = %err, "a scheduled action failed; it is not retried");
                self.drop_schedule(&entry.id).await;
            }
            Err(_) => self.drop_schedule(&entry.id).await,
        }
    }

    /// Deletes a schedule outside a turn (it failed, or its action is gone).
    pub(super) async fn drop_schedule(&mut self, schedule: &str) {
        let write = ActorWrite {
            kv_delete: vec![row_key(schedule)],
            ..Default::default()
        };
        // Logged by `write`; the schedule is gone from memory either way.
        let _ = self.write(write).await;
        self.env.outbox.schedule.forget(schedule);
    }

    /// Leaves an alarm with the host so that a sleeping actor wakes for its next schedule.
    pub(super) fn arm_alarm(&self) {
        if self.host.storage.places_actors() {
            // Its placement's alarm wakes it, wherever it then runs.
            return;
        }
        if let Some(due) = self.env.outbox.schedule.next_due() {
            self.host
                .arm_alarm(ActorId(self.env.meta.id.clone()), due, false);
        }
    }
}

/// How soon an instance that left after a lost write is woken again for its schedules, at
/// the earliest.
pub(crate) const REARM_AFTER_LOSS: Duration = Duration::from_secs(1);
/// How soon an actor that could not start (or go on) is tried again for its schedules, at
/// the earliest.
pub(crate) const REARM_AFTER_FAILURE: Duration = Duration::from_secs(5);

impl<A: Actor> Host<A> {
    /// Wakes actor `id` at `due`, replacing an alarm it had (`only_earlier`: unless that one
    /// is earlier).
    pub(crate) fn arm_alarm(self: &Arc<Self>, id: ActorId, due: SystemTime, only_earlier: bool) {
        if self.alarms.set(id, due, only_earlier) {
            tokio::spawn(Alarms::tick(
                Arc::downgrade(self),
                |host: &Host<A>| &host.alarms,
                |host, id| drop(host.sender(id)),
            ));
        }
    }

    /// After a restart: arms an alarm for every actor of this type with pending schedules,
    /// at its earliest one, read from its rows without waking it. Those already due wake
    /// now; the rest stay asleep until theirs. An actor with a `#[run]` loop and messages
    /// waiting in its queues wakes now too: nothing else would make its loop take them
    /// (their senders were answered before the restart).
    pub(crate) async fn wake_pending(self: &Arc<Self>) {
        self.wake_scheduled().await;
        if !A::HAS_RUN {
            return;
        }
        let queued = crate::runtime::queue::PREFIX;
        match self.storage.actors_with_kv_prefix(A::NAME, queued).await {
            Ok(ids) => {
                for id in ids {
                    self.arm_alarm(ActorId(id.into()), UNIX_EPOCH, true);
                }
            }
            Err(err) => {
                tracing::error!(actor = A::NAME, %err, "storage failed while looking for queued messages");
            }
        }
    }

    async fn wake_scheduled(self: &Arc<Self>) {
        let ids = match self.storage.actors_with_kv_prefix(A::NAME, PREFIX).await {
            Ok(ids) => ids,
            Err(err) => {
                tracing::error!(actor = A::NAME, %err, "storage failed while looking for pending schedules");
                return;
            }
        };
        for id in ids {
            let id = ActorId(id.into());
            if let Err(err) = self.arm_stored(&id, UNIX_EPOCH).await {
                // It wakes and reads them itself.
                tracing::warn!(actor = A::NAME, %id, %err, "storage failed while reading schedules; waking the actor");
                drop(self.sender(&id));
            }
        }
    }

    /// Arms an alarm for actor `id`'s earliest stored schedule, not before `not_before`.
    /// Only earlier than an alarm it has: the actor may have woken meanwhile and set a newer
    /// one as it slept again (an early wake costs nothing).
    async fn arm_stored(
        self: &Arc<Self>,
        id: &ActorId,
        not_before: SystemTime,
    ) -> Result<(), crate::storage::StorageError> {
        let rows = self.storage.kv_scan_prefix(id.as_str(), PREFIX).await?;
        // Undecodable rows are the waking actor's to report.
        let earliest = rows
            .iter()
            .filter_map(|(_, row)| from_cbor::<(IgnoredAny, IgnoredAny, i64)>(row).ok())
            .map(|(_, _, run_at_ms)| run_at_ms)
            .min();
        if let Some(run_at_ms) = earliest {
            let at_ms = u64::try_from(run_at_ms).unwrap_or(0);
            let at = (UNIX_EPOCH + Duration::from_millis(at_ms)).max(not_before);
            self.arm_alarm(id.clone(), at, true);
        }
        Ok(())
    }

    /// An instance of `id` left without knowing what storage holds of its schedules (a
    /// write was lost, or it could not start, or not go on): its alarm is armed from the
    /// stored rows, no sooner than `after` from now (so a storage that still fails is not
    /// woken against in a loop), or, when they cannot be read, at that moment.
    pub(crate) fn rearm_from_storage(self: &Arc<Self>, id: &ActorId, after: Duration) {
        if self.storage.places_actors() || self.is_closed() {
            // Its placement's alarm wakes it; or the host is shutting down.
            return;
        }
        let host = self.clone();
        let id = id.clone();
        tokio::spawn(async move {
            let not_before = SystemTime::now() + after;
            if let Err(err) = host.arm_stored(&id, not_before).await {
                tracing::warn!(actor = A::NAME, %id, %err, "storage failed while reading schedules; trying again later");
                host.arm_alarm(id, not_before, true);
            }
        });
    }
}
