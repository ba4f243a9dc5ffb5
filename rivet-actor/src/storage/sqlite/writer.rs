//! The writer thread: the only user of the write connection, and the place group commit
//! happens.
//!
//! The thread blocks for the first queued operation, then drains everything else already
//! queued, applies the whole batch in ONE transaction and commits it (one fsync of the WAL),
//! then answers every waiter. It never sleeps waiting for more work: under load the queue
//! refills by itself while the previous fsync runs, so the batch size adapts to the load.
//!
//! Each operation runs inside its own savepoint, so one operation that fails (say, a commit
//! for an actor that was destroyed) is rolled back alone and answered with its error while
//! the rest of the batch commits. If the transaction itself fails (BEGIN, COMMIT, or an error
//! that makes SQLite abort the transaction), every operation of the batch is answered with
//! that error and nothing of the batch is applied.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;

use rusqlite::{Connection, OptionalExtension, params};
use tokio::sync::oneshot;

use super::schema::{ACTOR_COLUMNS, RawRecord, encode_key, sql_error};
use crate::storage::{
    ActorRecord, ActorWrite, StorageError, StorageResult, StorageStats, prefix_successor,
};

/// Counters shared by the writer thread and [`super::SqliteStorage::stats`].
#[derive(Debug, Default)]
pub(crate) struct Counters {
    commits: AtomicU64,
    transactions: AtomicU64,
    syncs: AtomicU64,
}

impl Counters {
    pub(crate) fn snapshot(&self) -> StorageStats {
        StorageStats {
            commits: self.commits.load(Ordering::Relaxed),
            transactions: self.transactions.load(Ordering::Relaxed),
            syncs: self.syncs.load(Ordering::Relaxed),
        }
    }
}

type Reply<T> = oneshot::Sender<StorageResult<T>>;

/// One write request, with the channel its answer goes back on.
pub(crate) enum Op {
    Commit {
        id: String,
        write: ActorWrite,
        reply: Reply<()>,
    },
    Insert {
        record: ActorRecord,
        reply: Reply<(ActorRecord, bool)>,
    },
    Destroy {
        id: String,
        reply: Reply<bool>,
    },
}

/// An applied operation waiting for its transaction to commit.
enum Done {
    Commit(Reply<()>, StorageResult<()>),
    Insert(
        Reply<(ActorRecord, bool)>,
        StorageResult<(ActorRecord, bool)>,
    ),
    Destroy(Reply<bool>, StorageResult<bool>),
}

impl Done {
    fn is_successful_commit(&self) -> bool {
        matches!(self, Done::Commit(_, Ok(())))
    }

    /// Sends the result. A waiter that has gone away (its future was dropped) is ignored.
    fn deliver(self) {
        match self {
            Done::Commit(reply, result) => drop(reply.send(result)),
            Done::Insert(reply, result) => drop(reply.send(result)),
            Done::Destroy(reply, result) => drop(reply.send(result)),
        }
    }

    /// Replaces the result with `error` (the transaction did not commit) and sends it.
    fn fail(self, error: StorageError) {
        match self {
            Done::Commit(reply, _) => drop(reply.send(Err(error))),
            Done::Insert(reply, _) => drop(reply.send(Err(error))),
            Done::Destroy(reply, _) => drop(reply.send(Err(error))),
        }
    }
}

impl Op {
    fn fail(self, error: StorageError) {
        match self {
            Op::Commit { reply, .. } => drop(reply.send(Err(error))),
            Op::Insert { reply, .. } => drop(reply.send(Err(error))),
            Op::Destroy { reply, .. } => drop(reply.send(Err(error))),
        }
    }
}

/// Handle to the writer thread. Dropping it lets the thread drain its queue, then joins it.
pub(crate) struct Writer {
    sender: Option<mpsc::Sender<Op>>,
    thread: Option<JoinHandle<()>>,
    /// Fault injection for tests: the thread dies on its next operation, as on a bug.
    crash: Arc<std::sync::atomic::AtomicBool>,
    /// A new size limit in bytes for the thread to apply before its next batch (0: none
    /// pending, `u64::MAX`: no limit).
    size_limit: Arc<AtomicU64>,
    /// Raised by the thread as it dies, before the answers it held are dropped: whoever
    /// hears its write failed and then asks `alive` is told the truth (the thread itself
    /// finishes a moment later).
    dead: Arc<std::sync::atomic::AtomicBool>,
}

/// Raises the writer's `dead` flag when the thread's loop ends, however it ends. Made after
/// the loop's batch, so it is dropped (and the flag raised) before the batch's answers are;
/// an operation the loop holds outside the batch as it dies is answered first (a moment of
/// `alive` still saying yes, as before the flag).
struct DeathNotice<'a>(&'a std::sync::atomic::AtomicBool);

impl Drop for DeathNotice<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

impl Writer {
    /// Starts the writer thread, which takes ownership of `conn`.
    pub(crate) fn spawn(conn: Connection, counters: Arc<Counters>) -> StorageResult<Self> {
        let (sender, receiver) = mpsc::channel();
        let crash = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let crashing = crash.clone();
        let size_limit = Arc::new(AtomicU64::new(0));
        let limits = size_limit.clone();
        let dead = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let dying = dead.clone();
        let thread = std::thread::Builder::new()
            .name("rivet-actor-storage-writer".into())
            .spawn(move || run(conn, receiver, &counters, &crashing, &limits, &dying))
            .map_err(|e| {
                StorageError::Backend(format!("starting the storage writer thread: {e}"))
            })?;
        Ok(Self {
            sender: Some(sender),
            thread: Some(thread),
            crash,
            size_limit,
            dead,
        })
    }

    /// Whether the writer thread still runs (it ends only when the storage is dropped, or
    /// by a bug).
    pub(crate) fn alive(&self) -> bool {
        !self.dead.load(Ordering::SeqCst)
            && self
                .thread
                .as_ref()
                .is_some_and(|thread| !thread.is_finished())
    }

    /// Makes the writer thread die on its next operation, as a bug would.
    pub(crate) fn crash_on_next_write(&self) {
        self.crash.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// Limits the database file to `max_bytes` (`None`: no limit) from the next batch on.
    pub(crate) fn limit_size(&self, max_bytes: Option<u64>) {
        let limit = max_bytes.map_or(u64::MAX, |bytes| bytes.max(1));
        self.size_limit.store(limit, Ordering::SeqCst);
    }

    /// Queues an operation now and returns a future of its answer.
    ///
    /// The operation is queued before this returns, so it is applied even if the future is
    /// dropped, and operations are applied in the order of the calls.
    pub(crate) fn call<T: Send + 'static>(
        &self,
        make: impl FnOnce(Reply<T>) -> Op,
    ) -> impl Future<Output = StorageResult<T>> + Send + 'static {
        let (reply, answer) = oneshot::channel();
        let queued = match &self.sender {
            Some(sender) => sender.send(make(reply)).is_ok(),
            None => false,
        };
        async move {
            if !queued {
                return Err(StorageError::Closed);
            }
            answer.await.unwrap_or(Err(StorageError::Closed))
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        // Closing the channel ends the thread's loop once the queue is drained.
        drop(self.sender.take());
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::error!("the storage writer thread panicked");
        }
    }
}

/// The writer thread's loop.
fn run(
    conn: Connection,
    receiver: mpsc::Receiver<Op>,
    counters: &Counters,
    crash: &std::sync::atomic::AtomicBool,
    size_limit: &AtomicU64,
    dead: &std::sync::atomic::AtomicBool,
) {
    let mut batch = Vec::new();
    let _notice = DeathNotice(dead);
    while let Ok(first) = receiver.recv() {
        if crash.load(std::sync::atomic::Ordering::SeqCst) {
            // Dead before `first`'s answer is dropped by the unwinding.
            dead.store(true, Ordering::SeqCst);
            panic!("storage writer: a crash was requested");
        }
        match size_limit.swap(0, Ordering::SeqCst) {
            0 => {}
            max_bytes => apply_size_limit(&conn, max_bytes),
        }
        batch.push(first);
        batch.extend(receiver.try_iter());
        tracing::trace!(ops = batch.len(), "storage writer: applying a batch");
        apply_batch(&conn, &mut batch, counters);
    }
    tracing::debug!("storage writer: channel closed, shutting down");
}

/// Sets SQLite's `max_page_count` so the file stays under `max_bytes`: a write past it fails
/// with SQLITE_FULL, exactly as on a full disk. (SQLite keeps the current size if the file is
/// already larger.)
fn apply_size_limit(conn: &Connection, max_bytes: u64) {
    let applied = conn
        .query_row("PRAGMA page_size", [], |row| row.get::<_, i64>(0))
        .and_then(|page_size| {
            let pages = (max_bytes / page_size.max(1) as u64).clamp(1, i64::MAX as u64);
            conn.query_row(&format!("PRAGMA max_page_count = {pages}"), [], |row| {
                row.get::<_, i64>(0)
            })
        });
    match applied {
        Ok(pages) => tracing::info!(max_bytes, pages, "storage size limit applied"),
        Err(error) => tracing::error!(%error, max_bytes, "setting the storage size limit failed"),
    }
}

fn exec(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(drop)
}

/// Applies `batch` (leaving it empty) in one transaction and answers every operation.
fn apply_batch(conn: &Connection, batch: &mut Vec<Op>, counters: &Counters) {
    if commits_without_savepoints(conn, batch, counters) {
        return;
    }
    apply_batch_isolated(conn, batch, counters);
}

/// The common case, fast: a batch of state commits applied without a savepoint per write
/// (a savepoint and its release cost two statements per write). If any write fails, the
/// whole attempt is rolled back and `false` sends the batch down the isolating path, where
/// each write succeeds or fails on its own. Answers every operation when it returns `true`.
fn commits_without_savepoints(conn: &Connection, batch: &mut Vec<Op>, counters: &Counters) -> bool {
    if !batch.iter().all(|op| matches!(op, Op::Commit { .. })) {
        return false;
    }
    if exec(conn, "BEGIN IMMEDIATE").is_err() {
        return false;
    }
    let before = conn.total_changes();
    let mut applied = true;
    for op in batch.iter() {
        if let Op::Commit { id, write, .. } = op
            && (apply_commit(conn, id, write).is_err() || conn.is_autocommit())
        {
            applied = false;
            break;
        }
    }
    let wrote = conn.total_changes() != before;
    let committed = match applied {
        true => exec(conn, "COMMIT").map_err(commit_failed),
        false => Err(StorageError::Backend("a write of the batch failed".into())),
    };
    if let Err(err) = committed {
        if !conn.is_autocommit() {
            let _ = exec(conn, "ROLLBACK");
        }
        if matches!(err, StorageError::Unknown { .. }) {
            // Perhaps applied: not tried again one by one, which could apply it twice.
            tracing::error!(%err, ops = batch.len(), "storage write batch of unknown outcome");
            for op in batch.drain(..) {
                op.fail(err.clone());
            }
            return true;
        }
        return false;
    }
    counters
        .commits
        .fetch_add(batch.len() as u64, Ordering::Relaxed);
    counters.transactions.fetch_add(1, Ordering::Relaxed);
    if wrote {
        counters.syncs.fetch_add(1, Ordering::Relaxed);
    }
    for op in batch.drain(..) {
        if let Op::Commit { reply, .. } = op {
            let _ = reply.send(Ok(()));
        }
    }
    true
}

/// Applies `batch` with each operation in its own savepoint, so one failing operation is
/// undone alone while the rest commit.
fn apply_batch_isolated(conn: &Connection, batch: &mut Vec<Op>, counters: &Counters) {
    if let Err(e) = exec(conn, "BEGIN IMMEDIATE") {
        let error = sql_error("starting a write transaction", e);
        tracing::error!(%error, ops = batch.len(), "storage write batch failed");
        for op in batch.drain(..) {
            op.fail(error.clone());
        }
        return;
    }

    let mut done = Vec::with_capacity(batch.len());
    let mut wrote = false;
    let mut ops = batch.drain(..);
    let mut aborted = None;
    for op in ops.by_ref() {
        let before = conn.total_changes();
        let finished = match op {
            Op::Commit { id, write, reply } => {
                Done::Commit(reply, in_savepoint(conn, |c| apply_commit(c, &id, &write)))
            }
            Op::Insert { record, reply } => {
                Done::Insert(reply, in_savepoint(conn, |c| apply_insert(c, record)))
            }
            Op::Destroy { id, reply } => {
                Done::Destroy(reply, in_savepoint(conn, |c| apply_destroy(c, &id)))
            }
        };
        let ok = match &finished {
            Done::Commit(_, r) => r.is_ok(),
            Done::Insert(_, r) => r.is_ok(),
            Done::Destroy(_, r) => r.is_ok(),
        };
        if ok && conn.total_changes() != before {
            wrote = true;
        }
        if conn.is_autocommit() {
            // SQLite rolled the whole transaction back (e.g. disk full, I/O error).
            let error = match &finished {
                Done::Commit(_, Err(e)) => e.clone(),
                Done::Insert(_, Err(e)) => e.clone(),
                Done::Destroy(_, Err(e)) => e.clone(),
                _ => StorageError::Backend("the write transaction was rolled back".into()),
            };
            done.push(finished);
            aborted = Some(error);
            break;
        }
        done.push(finished);
    }

    let outcome = match aborted {
        Some(error) => Err(error),
        None => exec(conn, "COMMIT").map_err(commit_failed),
    };
    match outcome {
        Ok(()) => {
            let commits = done.iter().filter(|d| d.is_successful_commit()).count() as u64;
            counters.commits.fetch_add(commits, Ordering::Relaxed);
            counters.transactions.fetch_add(1, Ordering::Relaxed);
            if wrote {
                counters.syncs.fetch_add(1, Ordering::Relaxed);
            }
            for d in done {
                d.deliver();
            }
        }
        Err(error) => {
            if !conn.is_autocommit() {
                let _ = exec(conn, "ROLLBACK");
            }
            tracing::error!(%error, ops = done.len(), "storage write batch failed");
            for d in done {
                d.fail(error.clone());
            }
            for op in ops {
                op.fail(error.clone());
            }
        }
    }
}

/// Runs `f` inside a savepoint: on error, only `f`'s changes are undone.
fn in_savepoint<T>(
    conn: &Connection,
    f: impl FnOnce(&Connection) -> StorageResult<T>,
) -> StorageResult<T> {
    exec(conn, "SAVEPOINT op").map_err(|e| sql_error("starting a savepoint", e))?;
    let result = f(conn);
    if result.is_err() && !conn.is_autocommit() {
        let undo = exec(conn, "ROLLBACK TO op");
        if let Err(e) = undo {
            // Should not happen; make the whole batch fail rather than commit half an op.
            let _ = exec(conn, "ROLLBACK");
            return Err(sql_error("rolling back a failed write", e));
        }
    }
    if !conn.is_autocommit() {
        exec(conn, "RELEASE op").map_err(|e| sql_error("releasing a savepoint", e))?;
    }
    result
}

fn apply_commit(conn: &Connection, id: &str, write: &ActorWrite) -> StorageResult<()> {
    let ctx = |what: &str| format!("{what} of actor {id:?}");
    let exists = conn
        .prepare_cached("SELECT 1 FROM actors WHERE id = ?1")
        .and_then(|mut s| s.exists([id]))
        .map_err(|e| sql_error(&ctx("checking the record"), e))?;
    if !exists {
        return Err(StorageError::ActorNotFound { id: id.to_owned() });
    }
    if write.mark_created {
        conn.prepare_cached("UPDATE actors SET created = 1 WHERE id = ?1")
            .and_then(|mut s| s.execute([id]))
            .map_err(|e| sql_error(&ctx("marking created"), e))?;
    }
    if let Some(state) = &write.state {
        conn.prepare_cached(
            "INSERT INTO state (id, value) VALUES (?1, ?2)
             ON CONFLICT (id) DO UPDATE SET value = excluded.value",
        )
        .and_then(|mut s| s.execute(params![id, state]))
        .map_err(|e| sql_error(&ctx("writing the state"), e))?;
    }
    for prefix in &write.kv_delete_prefix {
        match prefix_successor(prefix) {
            Some(end) => conn
                .prepare_cached("DELETE FROM kv WHERE id = ?1 AND key >= ?2 AND key < ?3")
                .and_then(|mut s| s.execute(params![id, prefix, end])),
            None => conn
                .prepare_cached("DELETE FROM kv WHERE id = ?1 AND key >= ?2")
                .and_then(|mut s| s.execute(params![id, prefix])),
        }
        .map_err(|e| sql_error(&ctx("deleting kv rows by prefix"), e))?;
    }
    for (start, end) in &write.kv_delete_range {
        conn.prepare_cached("DELETE FROM kv WHERE id = ?1 AND key >= ?2 AND key < ?3")
            .and_then(|mut s| s.execute(params![id, start, end]))
            .map_err(|e| sql_error(&ctx("deleting a range of kv rows"), e))?;
    }
    if !write.kv_delete.is_empty() {
        let mut delete = conn
            .prepare_cached("DELETE FROM kv WHERE id = ?1 AND key = ?2")
            .map_err(|e| sql_error(&ctx("deleting kv rows"), e))?;
        for key in &write.kv_delete {
            delete
                .execute(params![id, key])
                .map_err(|e| sql_error(&ctx("deleting kv rows"), e))?;
        }
    }
    if !write.kv_put.is_empty() {
        let mut put = conn
            .prepare_cached(
                "INSERT INTO kv (id, key, value) VALUES (?1, ?2, ?3)
                 ON CONFLICT (id, key) DO UPDATE SET value = excluded.value",
            )
            .map_err(|e| sql_error(&ctx("writing kv rows"), e))?;
        for (key, value) in &write.kv_put {
            put.execute(params![id, key, value])
                .map_err(|e| sql_error(&ctx("writing kv rows"), e))?;
        }
    }
    Ok(())
}

fn apply_insert(conn: &Connection, record: ActorRecord) -> StorageResult<(ActorRecord, bool)> {
    let key = encode_key(&record.key);
    let ctx = || format!("inserting actor {:?} {key}", record.name);
    let existing = conn
        .prepare_cached(&format!(
            "SELECT {ACTOR_COLUMNS} FROM actors WHERE name = ?1 AND key = ?2"
        ))
        .and_then(|mut s| {
            s.query_row(params![record.name, key], RawRecord::from_row)
                .optional()
        })
        .map_err(|e| sql_error(&ctx(), e))?;
    if let Some(existing) = existing {
        return Ok((existing.decode()?, false));
    }
    let id_taken = conn
        .prepare_cached("SELECT 1 FROM actors WHERE id = ?1")
        .and_then(|mut s| s.exists([&record.id]))
        .map_err(|e| sql_error(&ctx(), e))?;
    if id_taken {
        return Err(StorageError::IdInUse { id: record.id });
    }
    conn.prepare_cached(
        "INSERT INTO actors (id, name, key, input, created, created_at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .and_then(|mut s| {
        s.execute(params![
            record.id,
            record.name,
            key,
            record.input,
            record.created,
            record.created_at_ms
        ])
    })
    .map_err(|e| sql_error(&ctx(), e))?;
    Ok((record, true))
}

fn apply_destroy(conn: &Connection, id: &str) -> StorageResult<bool> {
    let ctx = || format!("destroying actor {id:?}");
    let mut existed = false;
    for sql in [
        "DELETE FROM kv WHERE id = ?1",
        "DELETE FROM state WHERE id = ?1",
        "DELETE FROM actors WHERE id = ?1",
    ] {
        existed = conn
            .prepare_cached(sql)
            .and_then(|mut s| s.execute([id]))
            .map_err(|e| sql_error(&ctx(), e))?
            > 0;
    }
    Ok(existed)
}

/// A failed `COMMIT`. An I/O error there may come after the commit's frames were written
/// (a failed fsync): a crash could still bring the transaction back from the WAL, so its
/// outcome is unknown — never reported as "not applied", which would invite a retry that
/// applies it twice. Other errors (a full disk while writing the frames) applied nothing.
fn commit_failed(e: rusqlite::Error) -> StorageError {
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::SystemIoFailure) => StorageError::Unknown {
            what: format!("committing a write transaction: {e}"),
        },
        _ => sql_error("committing a write transaction", e),
    }
}
