//! Output gates: an actor does not wait for its writes, the outside world does.
//!
//! A turn's write is handed to the gate and the actor goes on with its next turn. The gate
//! commits in the background, one storage write at a time per actor: whatever turns ran
//! while a write was in flight are merged into the next one, so a busy actor pays one
//! commit (one fsync) for many turns instead of one each. What a turn says to the outside —
//! its reply, its events, queue completions — is *held* until its write, and every write
//! before it, is durable, then released in the order the turns ran. A turn that wrote
//! nothing is held only behind writes that are not yet durable (it may have read their
//! state), never behind later ones.
//!
//! A storage with nothing to wait for (memory) commits in the turn itself when nothing is in
//! flight ([`Gate::commit_now`]): no committer task, nothing held.
//!
//! A write that fails fails every output still held (they may have seen its state) and the
//! gate stays failed: the instance reloads from the last durable state, so nothing is ever
//! acknowledged that is not stored.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures_util::task::AtomicWaker;
use tokio::sync::{Notify, oneshot};

use crate::error::ActorError;
use crate::registry::Metrics;
use crate::storage::{ActorWrite, Storage, StorageError};

/// Something a turn says to the outside, run once the writes it depends on are durable
/// (`Ok`), or failed with the error of the write that was lost (`Err`).
pub(crate) type Release = Box<dyn FnOnce(Result<(), &ActorError>) + Send>;

/// At most this many outputs wait behind one write before the actor waits for it too: a
/// bound on what a stalled disk can make an actor hold.
const MAX_HELD: usize = 4096;
/// At most about this many bytes of merged writes wait before the actor waits too.
const MAX_QUEUED_BYTES: usize = 16 << 20;

/// One actor's gate. Shared with its committer task while a write is in flight, and with
/// the instance's `c.kv()` (whose reads wait for it).
#[derive(Clone)]
pub(crate) struct Gate {
    inner: Arc<Inner>,
}

struct Inner {
    shared: Mutex<Shared>,
    /// Woken when the committer takes a batch, finishes or fails.
    changed: Notify,
    /// Raised with `Shared::failed`, so the task loop can look without the lock; the loop's
    /// waker waits in `lost_waker` (woken by a loss only, not by every commit).
    lost: AtomicBool,
    lost_waker: AtomicWaker,
    storage: Arc<dyn Storage>,
    metrics: Arc<Metrics>,
    actor: &'static str,
    id: String,
}

#[derive(Default)]
struct Shared {
    /// The writes of turns since the one in flight left, merged into one.
    queued: Option<ActorWrite>,
    queued_rows: usize,
    queued_bytes: usize,
    /// Outputs released with the queued write.
    queued_held: Vec<Release>,
    /// Outputs released with the write in flight.
    flying: Vec<Release>,
    /// Whether a committer task runs.
    running: bool,
    /// The error of a lost write: every later output fails with it.
    failed: Option<ActorError>,
    /// Whether the queued write, or the one in flight, changes `c.kv()` rows: a kv read
    /// that reaches storage waits only then.
    queued_user_rows: bool,
    flying_user_rows: bool,
}

impl Gate {
    pub(crate) fn new(
        storage: Arc<dyn Storage>,
        metrics: Arc<Metrics>,
        actor: &'static str,
        id: String,
    ) -> Self {
        Gate {
            inner: Arc::new(Inner {
                shared: Mutex::default(),
                changed: Notify::new(),
                lost: AtomicBool::new(false),
                lost_waker: AtomicWaker::new(),
                storage,
                metrics,
                actor,
                id,
            }),
        }
    }

    /// Whether outputs may leave at once: nothing is waiting to become durable.
    pub(crate) fn is_clear(&self) -> bool {
        let shared = self.inner.lock();
        shared.queued.is_none() && !shared.running && shared.failed.is_none()
    }

    /// Whether a write not yet durable changes the actor's `c.kv()` rows (a read of them
    /// from storage must wait for it; reads of other rows need not).
    pub(crate) fn user_rows_pending(&self) -> bool {
        let shared = self.inner.lock();
        shared.queued_user_rows || shared.flying_user_rows
    }

    /// Whether a write was lost (without the lock: the task loop asks after every turn).
    pub(crate) fn is_lost(&self) -> bool {
        self.inner.lost.load(Ordering::Acquire)
    }

    /// The error of a lost write, once one was lost.
    pub(crate) fn failed(&self) -> Option<ActorError> {
        self.inner.lock().failed.clone()
    }

    /// Runs `release` once everything written so far is durable (at once when nothing is
    /// pending), or fails it if a write it waits for is lost.
    pub(crate) fn hold(&self, release: Release) {
        let mut shared = self.inner.lock();
        if let Some(err) = shared.failed.clone() {
            drop(shared);
            return release(Err(&err));
        }
        if shared.queued.is_some() {
            shared.queued_held.push(release);
        } else if shared.running {
            shared.flying.push(release);
        } else {
            drop(shared);
            release(Ok(()));
        }
    }

    /// Hands a turn's write to the committer (merged with the writes of other turns not yet
    /// in flight). Waits only when the backlog is at its bound. `Err` when an earlier write
    /// was lost: the instance must reload.
    pub(crate) async fn submit(&self, mut write: ActorWrite) -> Result<(), ActorError> {
        if let Some(committed) = self.commit_now(&mut write) {
            return committed;
        }
        self.submit_queued(write).await
    }

    /// [`Gate::submit`] for a write that [`Gate::commit_now`] just declined: queued for the
    /// committer without asking again.
    pub(crate) async fn submit_queued(&self, write: ActorWrite) -> Result<(), ActorError> {
        let rows = write.row_ops();
        let bytes = write_bytes(&write);
        let user_rows = touches_user_rows(&write);
        let max_rows = self.inner.storage.max_rows_per_write();
        let mut write = Some(write);
        loop {
            let notified = self.inner.changed.notified();
            // `Some(start)` once merged: whether the committer must be started.
            let merged = {
                let mut shared = self.inner.lock();
                if let Some(err) = &shared.failed {
                    return Err(err.clone());
                }
                let full = shared.queued.is_some()
                    && (shared.queued_rows + rows > max_rows
                        || shared.queued_bytes + bytes > MAX_QUEUED_BYTES
                        || shared.held() >= MAX_HELD);
                if full {
                    None
                } else {
                    let write = write.take().expect("merged once: the loop returns");
                    match shared.queued.as_mut() {
                        Some(queued) => queued.then(write),
                        None => shared.queued = Some(write),
                    }
                    shared.queued_rows += rows;
                    shared.queued_bytes += bytes;
                    shared.queued_user_rows |= user_rows;
                    let start = !shared.running;
                    shared.running = true;
                    Some(start)
                }
            };
            match merged {
                Some(start) => {
                    if start {
                        self.start_committer().await;
                    }
                    return Ok(());
                }
                // Full: wait for the committer to take the queued write.
                None => notified.await,
            }
        }
    }

    /// Commits `write` here and now if nothing is in flight and the storage has nothing to
    /// wait for (memory): no committer to start and nothing to hold. `None` leaves `write`
    /// as it was.
    pub(crate) fn commit_now(&self, write: &mut ActorWrite) -> Option<Result<(), ActorError>> {
        let mut shared = self.inner.lock();
        if let Some(err) = &shared.failed {
            return Some(Err(err.clone()));
        }
        if shared.queued.is_some() || shared.running {
            return None;
        }
        // Under the lock: no output can be held meanwhile.
        match self.inner.storage.commit_now(&self.inner.id, write)? {
            Ok(()) => {
                // Counted untimed: a commit in place takes well under the histogram's
                // resolution (its sum is in whole microseconds), and the clock would not.
                self.inner.metrics.commit(Duration::ZERO);
                Some(Ok(()))
            }
            Err(err) => {
                let err = storage_failed(self.inner.actor, &self.inner.id, &err);
                shared.failed = Some(err.clone());
                drop(shared);
                self.inner.signal_lost();
                Some(Err(err))
            }
        }
    }

    /// Runs the committer until its first wait, here in the actor's task: a storage that
    /// answers at once (memory) then costs no task and no hand-over at all; one that waits
    /// (the disk) gets a task of its own and the actor goes on.
    async fn start_committer(&self) {
        let mut committer = Box::pin(commit_loop(self.inner.clone()));
        let waiting =
            std::future::poll_fn(|cx| Poll::Ready(committer.as_mut().poll(cx).is_pending())).await;
        if waiting {
            tokio::spawn(committer);
        }
    }

    /// Waits while [`MAX_HELD`] outputs are held (a disk that stalls must not make an actor
    /// hold answers without end: its mailbox fills instead, and senders wait).
    pub(crate) async fn room(&self) {
        loop {
            let notified = self.inner.changed.notified();
            if self.has_room() {
                return;
            }
            notified.await;
        }
    }

    /// Waits until everything written so far is durable; the error of a lost write if not.
    pub(crate) async fn durable(&self) -> Result<(), ActorError> {
        let (tx, rx) = oneshot::channel();
        self.hold(Box::new(move |outcome| {
            let _ = tx.send(outcome.map_err(Clone::clone));
        }));
        rx.await.unwrap_or_else(|_| Err(ActorError::internal()))
    }

    /// Waits until no write is in flight or queued (done or lost): before the actor leaves,
    /// so that a fresh instance never reads storage a write of this one is still changing.
    pub(crate) async fn settle(&self) {
        loop {
            let notified = self.inner.changed.notified();
            if !self.inner.lock().running {
                return;
            }
            notified.await;
        }
    }

    /// Ready once a write is lost (for the instance's task loop, which then reloads).
    pub(crate) fn poll_lost(&self, cx: &mut Context<'_>) -> Poll<()> {
        self.inner.lost_waker.register(cx.waker());
        match self.inner.lost.load(Ordering::Acquire) {
            true => Poll::Ready(()),
            false => Poll::Pending,
        }
    }

    /// Whether the actor may take a new command: fewer than [`MAX_HELD`] outputs are held.
    pub(crate) fn has_room(&self) -> bool {
        self.inner.lock().held() < MAX_HELD
    }
}

impl Shared {
    /// Outputs waiting, for the write in flight and the queued one.
    fn held(&self) -> usize {
        self.flying.len() + self.queued_held.len()
    }
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, Shared> {
        // Releases run under the lock but cannot panic halfway through our bookkeeping.
        self.shared.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A write was lost (`Shared::failed` is set): wake whoever waits on the gate.
    fn signal_lost(&self) {
        self.lost.store(true, Ordering::Release);
        self.lost_waker.wake();
        self.changed.notify_waiters();
    }
}

/// The committer: takes the queued write, commits it, releases what waited for it; again
/// until nothing is queued. Releases run under the lock, so a turn that finds the gate clear
/// and answers at once can never overtake an earlier turn's held output.
async fn commit_loop(inner: Arc<Inner>) {
    loop {
        let write = {
            let mut shared = inner.lock();
            let Some(write) = shared.queued.take() else {
                // Outputs held since the last release wait for nothing any more.
                for release in std::mem::take(&mut shared.flying) {
                    release(Ok(()));
                }
                shared.running = false;
                drop(shared);
                inner.changed.notify_waiters();
                return;
            };
            shared.queued_rows = 0;
            shared.queued_bytes = 0;
            shared.flying_user_rows = std::mem::take(&mut shared.queued_user_rows);
            let held = std::mem::take(&mut shared.queued_held);
            shared.flying.extend(held);
            write
        };
        inner.changed.notify_waiters();
        let started = Instant::now();
        let committed = inner.storage.commit(&inner.id, write).await;
        inner.metrics.commit(started.elapsed());
        let mut shared = inner.lock();
        match committed {
            Ok(()) => {
                shared.flying_user_rows = false;
                for release in std::mem::take(&mut shared.flying) {
                    release(Ok(()));
                }
                drop(shared);
                inner.changed.notify_waiters();
            }
            Err(err) => {
                let err = storage_failed(inner.actor, &inner.id, &err);
                shared.failed = Some(err.clone());
                shared.queued = None;
                let held = std::mem::take(&mut shared.queued_held);
                for release in std::mem::take(&mut shared.flying).into_iter().chain(held) {
                    release(Err(&err));
                }
                shared.running = false;
                drop(shared);
                inner.signal_lost();
                return;
            }
        }
    }
}

/// A storage failure as the client sees it, logged with the actor it hit:
/// `actor.storage_full` when the disk is full (it can retry once there is room),
/// `actor.write_outcome_unknown` when the write may have landed (it reads before retrying),
/// an internal error otherwise.
pub(crate) fn storage_failed(actor: &str, id: &str, err: &StorageError) -> ActorError {
    tracing::error!(actor, id, %err, "storage failed");
    match err {
        StorageError::Full { .. } => ActorError::storage_full(),
        StorageError::Unknown { .. } => ActorError::write_outcome_unknown(),
        _ => ActorError::internal(),
    }
}

/// Whether `write` changes any `c.kv()` row (a prefix delete of all rows counts).
fn touches_user_rows(write: &ActorWrite) -> bool {
    use crate::runtime::kv::USER_PREFIX;
    /// The first key after every user row (`u/` → `u0`).
    const USER_END: &[u8] = b"u0";
    let user = |key: &[u8]| key.starts_with(USER_PREFIX);
    write.kv_put.iter().any(|(key, _)| user(key))
        || write.kv_delete.iter().any(|key| user(key))
        || write.kv_delete_range.iter().any(|(start, end)| {
            // [start, end) overlaps [USER_PREFIX, its successor).
            start.as_slice() < USER_END && end.as_slice() > USER_PREFIX
        })
        || write
            .kv_delete_prefix
            .iter()
            .any(|prefix| USER_PREFIX.starts_with(prefix) || user(prefix))
}

/// About how many bytes a write carries.
fn write_bytes(write: &ActorWrite) -> usize {
    write.state.as_ref().map_or(0, Vec::len)
        + write
            .kv_put
            .iter()
            .map(|(k, v)| k.len() + v.len())
            .sum::<usize>()
        + write.kv_delete.iter().map(Vec::len).sum::<usize>()
}
