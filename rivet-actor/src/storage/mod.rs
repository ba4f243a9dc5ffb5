//! Durable storage of actor records and state. (Interim: the SQLite backend lands from the
//! storage branch; this holds the trait and the in-memory backend.)

mod memory;

pub use memory::MemoryStorage;

/// A boxed future, so that [`Storage`] can be a trait object.
pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// A storage failure.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The backend failed.
    #[error("storage backend error: {0}")]
    Backend(String),
    /// The storage was shut down.
    #[error("storage is closed")]
    Closed,
}

/// Result of a storage operation.
pub type StorageResult<T> = Result<T, StorageError>;

/// An actor's identity row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActorRecord {
    /// Stable actor id.
    pub id: String,
    /// The actor type's wire name.
    pub name: String,
    /// The actor's key.
    pub key: Vec<String>,
    /// CBOR of the create input, if any.
    pub input: Option<Vec<u8>>,
    /// Whether `on_create` has completed.
    pub created: bool,
    /// Creation time, ms since the epoch.
    pub created_at_ms: i64,
}

/// One actor's writes from one turn, applied atomically.
#[derive(Clone, Debug, Default)]
pub struct ActorWrite {
    /// New encoded state, if it changed.
    pub state: Option<Vec<u8>>,
    /// Mark the record as created.
    pub mark_created: bool,
    /// Key/value rows to write.
    pub kv_put: Vec<(Vec<u8>, Vec<u8>)>,
    /// Key/value rows to delete.
    pub kv_delete: Vec<Vec<u8>>,
    /// Key prefixes whose rows to delete.
    pub kv_delete_prefix: Vec<Vec<u8>>,
}

/// Counters of what a storage did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StorageStats {
    /// Actor writes applied.
    pub commits: u64,
    /// Transactions run.
    pub transactions: u64,
    /// Transactions that synced to disk.
    pub syncs: u64,
}

/// Where actor records and state live.
pub trait Storage: Send + Sync + 'static {
    /// The actor with this name and key.
    fn find_by_key<'a>(
        &'a self,
        name: &'a str,
        key: &'a [String],
    ) -> BoxFuture<'a, StorageResult<Option<ActorRecord>>>;
    /// The actor with this id.
    fn find_by_id<'a>(&'a self, id: &'a str) -> BoxFuture<'a, StorageResult<Option<ActorRecord>>>;
    /// Inserts unless (name, key) exists; returns the stored record and whether it was inserted.
    fn insert_actor(
        &self,
        record: ActorRecord,
    ) -> BoxFuture<'_, StorageResult<(ActorRecord, bool)>>;
    /// All actors, or those of one type.
    fn list_actors<'a>(
        &'a self,
        name: Option<&'a str>,
    ) -> BoxFuture<'a, StorageResult<Vec<ActorRecord>>>;
    /// The actor's encoded state.
    fn load_state<'a>(&'a self, id: &'a str) -> BoxFuture<'a, StorageResult<Option<Vec<u8>>>>;
    /// Applies a write; resolves once it is durable.
    fn commit<'a>(&'a self, id: &'a str, write: ActorWrite) -> BoxFuture<'a, StorageResult<()>>;
    /// One key/value row.
    fn kv_get<'a>(
        &'a self,
        id: &'a str,
        key: &'a [u8],
    ) -> BoxFuture<'a, StorageResult<Option<Vec<u8>>>>;
    /// Rows under a prefix, ordered by key.
    fn kv_scan_prefix<'a>(
        &'a self,
        id: &'a str,
        prefix: &'a [u8],
    ) -> BoxFuture<'a, StorageResult<Vec<(Vec<u8>, Vec<u8>)>>>;
    /// Removes the actor and all its data; whether it existed.
    fn destroy<'a>(&'a self, id: &'a str) -> BoxFuture<'a, StorageResult<bool>>;
    /// Counters.
    fn stats(&self) -> StorageStats;
}
