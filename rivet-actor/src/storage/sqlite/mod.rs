//! The embedded default backend: one SQLite file with group commit.
//!
//! - [`schema`]: connection setup, identity and version checks, migrations, row encoding.
//! - [`writer`]: the writer thread that owns the write connection and batches commits.
//! - [`reads`]: the point reads (record, state, kv rows) on a read connection.
//! - [`reader`]: a bounded pool of read connections, read in place (`block_in_place`) on a
//!   multi-threaded runtime.

mod lock;
mod reader;
mod reads;
mod schema;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rusqlite::{OptionalExtension, params};

use self::reader::Readers;
use self::reads::read_error;
use self::schema::{ACTOR_COLUMNS, LIST_COLUMNS, RawRecord, encode_key, sql_error};
use self::writer::{Counters, Op, Writer};
use super::{
    ActorRecord, ActorWrite, BoxFuture, KvPair, KvScan, Storage, StorageError, StorageResult,
    StorageStats, WakeRead, prefix_successor,
};

/// The default [`Storage`]: a SQLite file `actors.sqlite` in a data directory.
///
/// The file runs in WAL mode with `synchronous=FULL`, so a [`Storage::commit`] that has
/// resolved is on disk. All writes go through one writer thread that applies every write
/// queued while the previous transaction was syncing in a single transaction: N concurrent
/// commits cost one fsync. Reads use up to eight pooled connections of their own (in place,
/// inside `tokio::task::block_in_place`, on a multi-threaded runtime; on a blocking thread
/// otherwise) and never wait for the writer.
///
/// Dropping the storage lets the writer finish every queued write, then closes the file.
///
/// ```
/// use rivet_actor::storage::{ActorRecord, ActorWrite, SqliteStorage, Storage};
///
/// # #[tokio::main] async fn main() -> rivet_actor::storage::StorageResult<()> {
/// let dir = std::env::temp_dir().join(format!("rivet-actor-doc-{}", std::process::id()));
/// let storage = SqliteStorage::open(&dir)?;
/// let rec = ActorRecord {
///     id: "a1".into(),
///     name: "counter".into(),
///     key: vec!["main".into()],
///     input: None,
///     created: false,
///     created_at_ms: 0,
/// };
/// storage.insert_actor(rec).await?;
/// storage.commit("a1", ActorWrite { state: Some(vec![7]), ..Default::default() }).await?;
/// drop(storage);
///
/// // A restart sees the committed state.
/// let storage = SqliteStorage::open(&dir)?;
/// assert_eq!(storage.load_state("a1").await?, Some(vec![7]));
/// # drop(storage);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok(()) }
/// ```
pub struct SqliteStorage {
    // Field order is drop order: the writer drains and joins before the readers close, and
    // the directory stays locked until both are gone.
    writer: Writer,
    readers: Arc<Readers>,
    counters: Arc<Counters>,
    path: PathBuf,
    _lock: lock::DirLock,
}

impl std::fmt::Debug for SqliteStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStorage")
            .field("path", &self.path)
            .field("stats", &self.counters.snapshot())
            .finish_non_exhaustive()
    }
}

impl SqliteStorage {
    /// Name of the database file inside the data directory.
    pub const FILE_NAME: &'static str = "actors.sqlite";

    /// Opens the store in `dir`, creating the directory and the database on first run and
    /// migrating an older schema.
    ///
    /// Fails with [`StorageError::Corrupt`] if `actors.sqlite` is damaged, not a SQLite
    /// database, or another application's database; with [`StorageError::UnsupportedVersion`]
    /// if a newer rivet-actor wrote it; with [`StorageError::Io`] if the directory cannot be
    /// created.
    ///
    /// ```
    /// # fn main() -> rivet_actor::storage::StorageResult<()> {
    /// let dir = std::env::temp_dir().join(format!("rivet-actor-doc-open-{}", std::process::id()));
    /// let storage = rivet_actor::storage::SqliteStorage::open(&dir)?;
    /// assert!(storage.path().ends_with("actors.sqlite"));
    /// # drop(storage);
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok(()) }
    /// ```
    pub fn open(dir: impl AsRef<Path>) -> StorageResult<Self> {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir).map_err(|e| StorageError::Io {
            path: dir.to_path_buf(),
            message: format!("creating the data directory: {e}"),
        })?;
        let lock = lock::DirLock::acquire(dir)?;
        let path = dir.join(Self::FILE_NAME);
        let conn = schema::open_writer(&path)?;
        let readers = Readers::open(path.clone())?;
        let counters = Arc::new(Counters::default());
        let writer = Writer::spawn(conn, Arc::clone(&counters))?;
        tracing::debug!(path = %path.display(), "opened actor storage");
        Ok(Self {
            writer,
            readers,
            counters,
            path,
            _lock: lock,
        })
    }

    /// Fault injection for tests: the writer thread dies on its next write, as it would on a
    /// bug; `/health` then says unhealthy and every commit fails at once.
    #[doc(hidden)]
    pub fn crash_writer_on_next_write(&self) {
        self.writer.crash_on_next_write();
    }

    /// Caps the database file at `max_bytes` (`None` lifts the cap), from the next write on.
    ///
    /// A write that would grow the file past it fails with [`StorageError::Full`], as one on a
    /// full disk does: nothing of it is applied, the actor keeps its last durable state, and
    /// the client is answered `actor.storage_full`. Raising the cap (or freeing disk space)
    /// lets writes succeed again without a restart. A cap below the current size keeps the
    /// file at its current size.
    ///
    /// ```
    /// # fn main() -> rivet_actor::storage::StorageResult<()> {
    /// let dir = std::env::temp_dir().join(format!("rivet-actor-doc-limit-{}", std::process::id()));
    /// let storage = rivet_actor::storage::SqliteStorage::open(&dir)?;
    /// storage.limit_size(Some(64 * 1024 * 1024));
    /// # drop(storage);
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok(()) }
    /// ```
    pub fn limit_size(&self, max_bytes: Option<u64>) {
        self.writer.limit_size(max_bytes);
    }

    /// The database file (`<dir>/actors.sqlite`).
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Storage for SqliteStorage {
    fn healthy(&self) -> bool {
        self.writer.alive()
    }

    fn find_by_key<'a>(
        &'a self,
        name: &'a str,
        key: &'a [String],
    ) -> BoxFuture<'a, StorageResult<Option<ActorRecord>>> {
        let name = name.to_owned();
        let key = encode_key(key);
        self.readers.run(move |conn| {
            conn.prepare_cached(&format!(
                "SELECT {ACTOR_COLUMNS} FROM actors WHERE name = ?1 AND key = ?2"
            ))
            .and_then(|mut s| {
                s.query_row(params![name, key], RawRecord::from_row)
                    .optional()
            })
            .map_err(|e| sql_error(&format!("finding actor {name:?} {key}"), e))?
            .map(RawRecord::decode)
            .transpose()
        })
    }

    fn find_by_id<'a>(&'a self, id: &'a str) -> BoxFuture<'a, StorageResult<Option<ActorRecord>>> {
        let id = id.to_owned();
        self.readers.run(move |conn| reads::record(conn, &id))
    }

    fn load_for_wake<'a>(
        &'a self,
        id: &'a str,
        prefixes: &'a [&'a [u8]],
    ) -> BoxFuture<'a, StorageResult<Option<WakeRead>>> {
        let id = id.to_owned();
        let prefixes: Vec<Vec<u8>> = prefixes.iter().map(|p| p.to_vec()).collect();
        // One trip to a reader for what would be 2 + prefixes reads.
        self.readers.run(move |conn| {
            let Some(record) = reads::record(conn, &id)? else {
                return Ok(None);
            };
            let state = reads::state(conn, &id)?;
            let rows = prefixes
                .iter()
                .map(|prefix| reads::rows(conn, &id, prefix))
                .collect::<StorageResult<_>>()?;
            Ok(Some(WakeRead {
                record,
                state,
                rows,
            }))
        })
    }

    fn insert_actor(
        &self,
        record: ActorRecord,
    ) -> BoxFuture<'_, StorageResult<(ActorRecord, bool)>> {
        Box::pin(self.writer.call(|reply| Op::Insert { record, reply }))
    }

    fn list_actors<'a>(
        &'a self,
        name: Option<&'a str>,
    ) -> BoxFuture<'a, StorageResult<Vec<ActorRecord>>> {
        let name = name.map(str::to_owned);
        self.readers.run(move |conn| {
            let raw: Vec<RawRecord> = match &name {
                Some(name) => conn
                    .prepare_cached(&format!(
                        "SELECT {ACTOR_COLUMNS} FROM actors WHERE name = ?1 ORDER BY id"
                    ))
                    .and_then(|mut s| s.query_map([name], RawRecord::from_row)?.collect()),
                None => conn
                    .prepare_cached(&format!("SELECT {ACTOR_COLUMNS} FROM actors ORDER BY id"))
                    .and_then(|mut s| s.query_map([], RawRecord::from_row)?.collect()),
            }
            .map_err(|e| sql_error("listing actors", e))?;
            raw.into_iter().map(RawRecord::decode).collect()
        })
    }

    fn list_actors_page<'a>(
        &'a self,
        name: Option<&'a str>,
        after: Option<&'a str>,
        limit: usize,
    ) -> BoxFuture<'a, StorageResult<Vec<ActorRecord>>> {
        let (name, after) = (name.map(str::to_owned), after.unwrap_or("").to_owned());
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.readers.run(move |conn| {
            // A seek on the primary key; the inputs (up to a message each) are not read.
            let sql = format!(
                "SELECT {LIST_COLUMNS} FROM actors WHERE (?1 IS NULL OR name = ?1) AND id > ?2
                 ORDER BY id LIMIT ?3"
            );
            let raw: Vec<RawRecord> = conn
                .prepare_cached(&sql)
                .and_then(|mut s| {
                    s.query_map(params![name, after, limit], RawRecord::from_row)?
                        .collect()
                })
                .map_err(|e| sql_error("listing actors", e))?;
            raw.into_iter().map(RawRecord::decode).collect()
        })
    }

    fn load_state<'a>(&'a self, id: &'a str) -> BoxFuture<'a, StorageResult<Option<Vec<u8>>>> {
        let id = id.to_owned();
        self.readers.run(move |conn| reads::state(conn, &id))
    }

    fn commit<'a>(&'a self, id: &'a str, write: ActorWrite) -> BoxFuture<'a, StorageResult<()>> {
        let id = id.to_owned();
        Box::pin(self.writer.call(|reply| Op::Commit { id, write, reply }))
    }

    fn kv_get<'a>(
        &'a self,
        id: &'a str,
        key: &'a [u8],
    ) -> BoxFuture<'a, StorageResult<Option<Vec<u8>>>> {
        let id = id.to_owned();
        let key = key.to_vec();
        self.readers.run(move |conn| {
            conn.prepare_cached("SELECT value FROM kv WHERE id = ?1 AND key = ?2")
                .and_then(|mut s| s.query_row(params![id, key], |r| r.get(0)).optional())
                .map_err(read_error("a kv row", &id))
        })
    }

    fn actors_with_kv_prefix<'a>(
        &'a self,
        name: &'a str,
        prefix: &'a [u8],
    ) -> BoxFuture<'a, StorageResult<Vec<String>>> {
        let name = name.to_owned();
        let prefix = prefix.to_vec();
        self.readers.run(move |conn| {
            // Without an upper bound (a prefix of 0xff bytes) the scan runs to the end.
            let end = prefix_successor(&prefix);
            conn.prepare_cached(
                "SELECT DISTINCT a.id FROM actors a JOIN kv ON kv.id = a.id
                 WHERE a.name = ?1 AND kv.key >= ?2 AND (?3 IS NULL OR kv.key < ?3)
                 ORDER BY a.id",
            )
            .and_then(|mut s| {
                s.query_map(params![name, prefix, end], |r| r.get(0))?
                    .collect()
            })
            .map_err(read_error("kv rows", &name))
        })
    }

    fn kv_scan_prefix<'a>(
        &'a self,
        id: &'a str,
        prefix: &'a [u8],
    ) -> BoxFuture<'a, StorageResult<Vec<KvPair>>> {
        let id = id.to_owned();
        let prefix = prefix.to_vec();
        self.readers
            .run(move |conn| reads::rows(conn, &id, &prefix))
    }

    fn kv_range<'a>(
        &'a self,
        id: &'a str,
        scan: &'a KvScan,
    ) -> BoxFuture<'a, StorageResult<Vec<KvPair>>> {
        let id = id.to_owned();
        let scan = scan.clone();
        self.readers.run(move |conn| reads::range(conn, &id, &scan))
    }

    fn destroy<'a>(&'a self, id: &'a str) -> BoxFuture<'a, StorageResult<bool>> {
        let id = id.to_owned();
        Box::pin(self.writer.call(|reply| Op::Destroy { id, reply }))
    }

    fn stats(&self) -> StorageStats {
        self.counters.snapshot()
    }
}
