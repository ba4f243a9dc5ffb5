//! Durable storage of actor records, state and per-actor key/value rows.
//!
//! The runtime talks to storage only through the [`Storage`] trait. Two backends ship with the
//! crate:
//!
//! - [`SqliteStorage`], the default: one SQLite file (`actors.sqlite`) in a data directory,
//!   WAL mode with `synchronous=FULL`. Writes go through a single writer thread that performs
//!   **group commit**: every write queued while the previous transaction was being fsynced is
//!   applied in the next transaction, so N concurrent commits cost one fsync, not N.
//! - [`MemoryStorage`], a mutex-protected map for tests and benchmarks. Nothing is durable.
//!
//! # Durability contract
//!
//! [`Storage::commit`] resolves only once the write is durable (for SQLite: the transaction
//! containing it has committed and the WAL has been fsynced). The runtime answers an action only
//! after the commit of its turn has resolved, so an acknowledged change survives a crash.
//! A turn that changed nothing does not call `commit` at all.
//!
//! # Example
//!
//! ```
//! use rivet_actor::storage::{ActorRecord, ActorWrite, MemoryStorage, Storage};
//!
//! # #[tokio::main] async fn main() -> rivet_actor::storage::StorageResult<()> {
//! let storage = MemoryStorage::new();
//! let record = ActorRecord {
//!     id: "a1".into(),
//!     name: "counter".into(),
//!     key: vec!["main".into()],
//!     input: None,
//!     created: false,
//!     created_at_ms: 0,
//! };
//! let (stored, inserted) = storage.insert_actor(record).await?;
//! assert!(inserted);
//! storage
//!     .commit(&stored.id, ActorWrite { state: Some(vec![1, 2, 3]), ..Default::default() })
//!     .await?;
//! assert_eq!(storage.load_state("a1").await?, Some(vec![1, 2, 3]));
//! # Ok(()) }
//! ```

mod memory;
mod sqlite;
mod write;

#[cfg(test)]
mod tests;

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;

pub use memory::MemoryStorage;
pub use sqlite::SqliteStorage;
pub use write::{ActorWrite, KvScan};

/// A boxed, `Send` future: the return type of every asynchronous [`Storage`] method.
///
/// Boxing keeps the trait object-safe, so the runtime can hold an `Arc<dyn Storage>`.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One key/value row: `(key, value)`.
pub type KvPair = (Vec<u8>, Vec<u8>);

/// Why a storage operation failed.
///
/// Every variant carries enough text to act on without a debugger; backend causes are kept
/// as text so that one failed batch can answer each of its waiters with the same error.
///
/// ```
/// use rivet_actor::storage::StorageError;
///
/// let e = StorageError::ActorNotFound { id: "a1".into() };
/// assert_eq!(e.to_string(), "no actor with id \"a1\" in storage");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StorageError {
    /// The backend reported an error (SQLite error text, with what we were doing).
    #[error("storage backend error: {0}")]
    Backend(String),
    /// A filesystem operation on the data directory failed.
    #[error("storage I/O error on {}: {message}", path.display())]
    Io {
        /// The file or directory concerned.
        path: PathBuf,
        /// The operating system's error text.
        message: String,
    },
    /// Another process (or another storage in this one) has the data directory open.
    #[error(
        "the data directory {} is in use by another rivet-actor ({holder}); stop it, or use another directory",
        dir.display()
    )]
    Locked {
        /// The data directory.
        dir: PathBuf,
        /// What the lock file says of its holder (`process <pid>`).
        holder: String,
    },
    /// The disk (or the size limit, [`SqliteStorage::limit_size`]) is full: the write was
    /// not applied. Writes succeed again once there is room.
    #[error("storage is full: {what}")]
    Full {
        /// What was being written.
        what: String,
    },
    /// The storage has shut down (its writer thread is gone); nothing more can be written.
    #[error("storage is closed")]
    Closed,
    /// The file is damaged, is not a SQLite database, belongs to another application, or holds
    /// a row that does not decode.
    #[error("storage is corrupt or foreign: {what}")]
    Corrupt {
        /// What was found, and where.
        what: String,
    },
    /// The file was written by a newer rivet-actor with a schema this build does not know.
    #[error(
        "storage schema version {found} is newer than this build supports ({supported}); \
         upgrade rivet-actor or use another data directory"
    )]
    UnsupportedVersion {
        /// `PRAGMA user_version` found in the file.
        found: i64,
        /// The newest schema version this build understands.
        supported: i64,
    },
    /// The write's outcome is unknown: the connection to a remote backend broke while it
    /// was in flight, so it may or may not have been applied. The runtime answers the turn
    /// as failed and reloads the actor from storage before its next turn.
    #[error("the outcome of a storage write is unknown: {what}")]
    Unknown {
        /// What was being written, and what broke.
        what: String,
    },
    /// A write named an actor id that has no record (never inserted, or destroyed).
    #[error("no actor with id {id:?} in storage")]
    ActorNotFound {
        /// The id that was not found.
        id: String,
    },
    /// [`Storage::insert_actor`] was given an id already used by a different `(name, key)`.
    #[error("actor id {id:?} is already used by another (name, key)")]
    IdInUse {
        /// The conflicting id.
        id: String,
    },
}

/// The result type of every storage operation.
pub type StorageResult<T> = Result<T, StorageError>;

/// The stored identity of one actor instance.
///
/// `(name, key)` is unique: `insert_actor` with an existing pair returns the stored record.
/// Keys are compared element by element, so `["a,b"]`, `["a", "b"]` and `[]` are three distinct
/// keys.
///
/// ```
/// use rivet_actor::storage::ActorRecord;
///
/// let room = ActorRecord {
///     id: "0193-chat-general".into(),
///     name: "chatRoom".into(),
///     key: vec!["general".into()],
///     input: None,
///     created: false,
///     created_at_ms: 1_700_000_000_000,
/// };
/// assert_eq!(room.key, ["general"]);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActorRecord {
    /// Stable actor id.
    pub id: String,
    /// The actor type's wire name, e.g. `"chatRoom"`.
    pub name: String,
    /// The actor's key, e.g. `["general"]`.
    pub key: Vec<String>,
    /// CBOR of the create input, if any.
    pub input: Option<Vec<u8>>,
    /// The actor's `on_create` hook has completed (set by a commit with `mark_created`).
    pub created: bool,
    /// Creation time, milliseconds since the Unix epoch.
    pub created_at_ms: i64,
}

/// What [`Storage::load_for_wake`] reads for an actor about to wake.
///
/// ```
/// use rivet_actor::storage::{ActorRecord, ActorWrite, MemoryStorage, Storage};
///
/// # #[tokio::main] async fn main() -> rivet_actor::storage::StorageResult<()> {
/// let storage = MemoryStorage::new();
/// let record = ActorRecord {
///     id: "a1".into(), name: "counter".into(), key: vec!["k".into()],
///     input: None, created: true, created_at_ms: 0,
/// };
/// storage.insert_actor(record).await?;
/// let write = ActorWrite {
///     state: Some(b"state".to_vec()),
///     kv_put: vec![(b"s/one".to_vec(), b"row".to_vec())],
///     ..Default::default()
/// };
/// storage.commit("a1", write).await?;
/// let read = storage.load_for_wake("a1", &[b"s/"]).await?.expect("stored");
/// assert_eq!(read.state.as_deref(), Some(&b"state"[..]));
/// assert_eq!(read.rows, vec![vec![(b"s/one".to_vec(), b"row".to_vec())]]);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WakeRead {
    /// The actor's record.
    pub record: ActorRecord,
    /// Its encoded state, if it has one yet.
    pub state: Option<Vec<u8>>,
    /// Its kv rows under each prefix asked for, in key order.
    pub rows: Vec<Vec<KvPair>>,
}

/// Counters describing the work a storage has done since it was opened.
///
/// `syncs / commits` is the group-commit ratio: how many fsyncs each committed
/// [`ActorWrite`] cost on average.
///
/// ```
/// use rivet_actor::storage::{MemoryStorage, Storage, StorageStats};
///
/// assert_eq!(MemoryStorage::new().stats(), StorageStats::default());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StorageStats {
    /// [`ActorWrite`]s applied successfully.
    pub commits: u64,
    /// Backend transactions committed (a transaction may carry many commits, inserts and
    /// destroys).
    pub transactions: u64,
    /// Transactions that wrote something and therefore fsynced (always 0 for memory).
    pub syncs: u64,
}

/// A place to keep actors durably. Implemented by [`SqliteStorage`] and [`MemoryStorage`].
///
/// All methods may be called concurrently from many tasks. Writes (`insert_actor`, `commit`,
/// `destroy`) are linearizable: once a write's future has resolved, every later read sees it.
///
/// ```
/// use std::sync::Arc;
/// use rivet_actor::storage::{MemoryStorage, Storage};
///
/// let storage: Arc<dyn Storage> = Arc::new(MemoryStorage::new());
/// # let _ = storage;
/// ```
pub trait Storage: Send + Sync + 'static {
    /// Finds the actor with this `(name, key)`.
    fn find_by_key<'a>(
        &'a self,
        name: &'a str,
        key: &'a [String],
    ) -> BoxFuture<'a, StorageResult<Option<ActorRecord>>>;

    /// Finds the actor with this id.
    fn find_by_id<'a>(&'a self, id: &'a str) -> BoxFuture<'a, StorageResult<Option<ActorRecord>>>;

    /// Inserts unless `(name, key)` exists; returns the stored record and whether it was
    /// inserted. When the pair exists, the stored record is returned unchanged (its id may differ
    /// from `record.id`). Fails with [`StorageError::IdInUse`] if the id belongs to another pair.
    fn insert_actor(
        &self,
        record: ActorRecord,
    ) -> BoxFuture<'_, StorageResult<(ActorRecord, bool)>>;

    /// Lists actors, all or those of one actor type, sorted by id.
    fn list_actors<'a>(
        &'a self,
        name: Option<&'a str>,
    ) -> BoxFuture<'a, StorageResult<Vec<ActorRecord>>>;

    /// One page of [`Storage::list_actors`]: at most `limit` records whose ids sort after
    /// `after`, in id order, without their create input (`input: None`; a listing never
    /// shows it). Backends that can seek override it; the default lists everything first.
    ///
    /// ```
    /// use rivet_actor::storage::{ActorRecord, MemoryStorage, Storage};
    ///
    /// # #[tokio::main] async fn main() -> rivet_actor::storage::StorageResult<()> {
    /// let storage = MemoryStorage::new();
    /// for id in ["a1", "a2", "a3"] {
    ///     storage.insert_actor(ActorRecord {
    ///         id: id.into(), name: "log".into(), key: vec![id.into()],
    ///         input: Some(vec![1]), created: true, created_at_ms: 0,
    ///     }).await?;
    /// }
    /// let page = storage.list_actors_page(Some("log"), Some("a1"), 10).await?;
    /// let ids: Vec<&str> = page.iter().map(|r| r.id.as_str()).collect();
    /// assert_eq!(ids, ["a2", "a3"]);
    /// assert!(page.iter().all(|r| r.input.is_none()));
    /// # Ok(()) }
    /// ```
    fn list_actors_page<'a>(
        &'a self,
        name: Option<&'a str>,
        after: Option<&'a str>,
        limit: usize,
    ) -> BoxFuture<'a, StorageResult<Vec<ActorRecord>>> {
        Box::pin(async move {
            let mut page = self.list_actors(name).await?;
            page.sort_by(|a, b| a.id.cmp(&b.id));
            page.retain(|record| after.is_none_or(|after| record.id.as_str() > after));
            page.truncate(limit);
            for record in &mut page {
                record.input = None;
            }
            Ok(page)
        })
    }

    /// Loads the actor's encoded state, `None` if it never committed one.
    fn load_state<'a>(&'a self, id: &'a str) -> BoxFuture<'a, StorageResult<Option<Vec<u8>>>>;

    /// What waking actor `id` reads: its record (`None` if there is none), its state and
    /// its kv rows under each of `prefixes` (in that order). Backends that can answer in one
    /// trip override it; the default makes the single reads one after another.
    fn load_for_wake<'a>(
        &'a self,
        id: &'a str,
        prefixes: &'a [&'a [u8]],
    ) -> BoxFuture<'a, StorageResult<Option<WakeRead>>> {
        Box::pin(async move {
            let Some(record) = self.find_by_id(id).await? else {
                return Ok(None);
            };
            let state = self.load_state(id).await?;
            let mut rows = Vec::with_capacity(prefixes.len());
            for prefix in prefixes {
                rows.push(self.kv_scan_prefix(id, prefix).await?);
            }
            Ok(Some(WakeRead {
                record,
                state,
                rows,
            }))
        })
    }

    /// Applies one actor's writes atomically. Resolves only once the write is durable.
    /// Concurrent commits share one transaction and one fsync.
    ///
    /// Fails with [`StorageError::ActorNotFound`] (and applies nothing) if the actor has no
    /// record. A write that has been handed to the backend is applied even if the returned
    /// future is dropped.
    fn commit<'a>(&'a self, id: &'a str, write: ActorWrite) -> BoxFuture<'a, StorageResult<()>>;

    /// Applies one actor's writes here and now when the backend has nothing to wait for
    /// (memory): takes `write` and gives the outcome, as [`commit`](Self::commit) would
    /// resolve. `None` leaves `write` untouched when the backend must wait (a disk, the
    /// network); the caller then commits through `commit`. Default: never at once.
    ///
    /// ```
    /// use rivet_actor::storage::{ActorWrite, MemoryStorage, Storage};
    ///
    /// let storage = MemoryStorage::new();
    /// // No such actor: the outcome is the error `commit` would give.
    /// assert!(matches!(storage.commit_now("nobody", &mut ActorWrite::default()), Some(Err(_))));
    /// ```
    fn commit_now(&self, _id: &str, _write: &mut ActorWrite) -> Option<StorageResult<()>> {
        None
    }

    /// Reads one key/value row of the actor.
    fn kv_get<'a>(
        &'a self,
        id: &'a str,
        key: &'a [u8],
    ) -> BoxFuture<'a, StorageResult<Option<Vec<u8>>>>;

    /// Reads every key/value row of the actor whose key starts with `prefix`, ordered by key
    /// (bytewise).
    fn kv_scan_prefix<'a>(
        &'a self,
        id: &'a str,
        prefix: &'a [u8],
    ) -> BoxFuture<'a, StorageResult<Vec<KvPair>>>;

    /// Reads the actor's key/value rows in `scan`'s range, ordered by key (bytewise; largest
    /// first when `reverse`), at most `scan.limit` of them and none past the row that reaches
    /// `scan.max_bytes` ([`KvScan::take`]). The default filters a scan of the range's common
    /// prefix: backends that can seek override it.
    fn kv_range<'a>(
        &'a self,
        id: &'a str,
        scan: &'a KvScan,
    ) -> BoxFuture<'a, StorageResult<Vec<KvPair>>> {
        Box::pin(async move {
            let common = match &scan.end {
                Some(end) => common_prefix(&scan.start, end),
                None => &[][..],
            };
            let mut rows = self.kv_scan_prefix(id, common).await?;
            rows.retain(|(key, _)| scan.contains(key));
            if scan.reverse {
                rows.reverse();
            }
            Ok(scan.take(rows.into_iter()))
        })
    }

    /// The ids of actors of type `name` that hold at least one kv row whose key starts with
    /// `prefix` (the runtime wakes actors with pending schedules this way after a restart).
    fn actors_with_kv_prefix<'a>(
        &'a self,
        name: &'a str,
        prefix: &'a [u8],
    ) -> BoxFuture<'a, StorageResult<Vec<String>>>;

    /// Removes the actor record, its state and its kv rows. Returns whether it existed.
    fn destroy<'a>(&'a self, id: &'a str) -> BoxFuture<'a, StorageResult<bool>>;

    /// Counters since the storage was opened.
    fn stats(&self) -> StorageStats;

    /// The actor's instance left, to wake at `wake_at` for its next schedule if it has one:
    /// on its own (`idle`) or because its placement asked. A backend that places actors (the
    /// engine's) passes it on; the default does nothing.
    fn actor_slept(&self, _id: &str, _wake_at: Option<std::time::SystemTime>, _idle: bool) {}

    /// How many key/value rows one write may change; queue takes are clamped to it (the
    /// rest wait for the next take). Default: no limit.
    fn max_rows_per_write(&self) -> usize {
        usize::MAX
    }

    /// Whether a large state may be stored as chunk rows beside a small manifest, so a turn
    /// that changes part of it writes only the changed chunks. This needs a commit to apply
    /// however many rows it carries atomically; a backend that cannot answers `false` and
    /// every state is written whole. Every backend here can (the engine's, through its
    /// journal when one put cannot hold a write).
    ///
    /// ```
    /// use rivet_actor::storage::{MemoryStorage, Storage};
    ///
    /// assert!(MemoryStorage::new().chunked_state());
    /// ```
    fn chunked_state(&self) -> bool {
        true
    }

    /// Whether the backend's placement wakes sleeping actors for their schedules (the
    /// engine's alarms); when it does, the runtime arms no timers of its own. Default: no.
    fn places_actors(&self) -> bool {
        false
    }

    /// Whether the backend can still write (`/health` says so). Default: always.
    fn healthy(&self) -> bool {
        true
    }
}

/// Environment variable naming the data directory used by [`open_default`].
pub const DATA_DIR_ENV: &str = "RIVET_ACTOR_DATA_DIR";

/// The data directory used when [`DATA_DIR_ENV`] is unset or empty.
pub const DEFAULT_DATA_DIR: &str = "./.rivet-actor/";

/// The data directory [`open_default`] uses: `$RIVET_ACTOR_DATA_DIR` if set and non-empty,
/// else `./.rivet-actor/`.
///
/// ```
/// let dir = rivet_actor::storage::default_data_dir();
/// assert!(!dir.as_os_str().is_empty());
/// ```
pub fn default_data_dir() -> PathBuf {
    match std::env::var_os(DATA_DIR_ENV) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from(DEFAULT_DATA_DIR),
    }
}

/// Environment variable choosing the storage of a registry built without one (read by
/// [`default_storage_kind`]):
/// `sqlite` (the default) or `memory` (nothing survives the process: for measuring and
/// trying things out).
pub const STORAGE_ENV: &str = "RIVET_ACTOR_STORAGE";

/// Which storage a registry built without an explicit choice uses, from [`STORAGE_ENV`].
///
/// ```
/// use rivet_actor::storage::{DefaultStorage, default_storage_kind};
///
/// // Unset (as in this test) means SQLite.
/// # unsafe { std::env::remove_var(rivet_actor::storage::STORAGE_ENV) };
/// assert_eq!(default_storage_kind(), Ok(DefaultStorage::Sqlite));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DefaultStorage {
    /// [`SqliteStorage`] in [`default_data_dir`].
    Sqlite,
    /// [`MemoryStorage`]: gone at exit.
    Memory,
}

/// Reads [`STORAGE_ENV`]: unset or empty is SQLite; anything but `sqlite` or `memory` is an
/// error naming the variable (a typo must not quietly lose durability or keep it).
pub fn default_storage_kind() -> StorageResult<DefaultStorage> {
    match std::env::var(STORAGE_ENV).as_deref() {
        Err(_) | Ok("") | Ok("sqlite") => Ok(DefaultStorage::Sqlite),
        Ok("memory") => Ok(DefaultStorage::Memory),
        Ok(other) => Err(StorageError::Backend(format!(
            "{STORAGE_ENV}={other:?} is not a storage: use `sqlite` (the default) or `memory`"
        ))),
    }
}

/// Opens the default embedded storage: a [`SqliteStorage`] in [`default_data_dir`], created on
/// first run.
///
/// ```no_run
/// let storage = rivet_actor::storage::open_default()?;
/// # Ok::<(), rivet_actor::storage::StorageError>(())
/// ```
pub fn open_default() -> StorageResult<SqliteStorage> {
    SqliteStorage::open(default_data_dir())
}

/// The smallest byte string greater than every string starting with `prefix`, or `None` if
/// there is none (the prefix is empty or all `0xFF`). Used for prefix range scans.
pub(crate) fn prefix_successor(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last != u8::MAX {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

/// The longest common prefix of `a` and `b`.
fn common_prefix<'a>(a: &'a [u8], b: &[u8]) -> &'a [u8] {
    let len = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    &a[..len]
}
