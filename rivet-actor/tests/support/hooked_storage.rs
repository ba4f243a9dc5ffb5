//! Memory storage whose commits go through a hook of the test's: to lose answers, stop
//! writes at a door, fail them; and whose actor inserts may be slowed down (each made in a
//! task of its own, finished whether or not its caller waits). Every other
//! call goes straight to the memory storage.

use rivet_actor::storage::{
    ActorRecord, ActorWrite, BoxFuture, KvPair, MemoryStorage, Storage, StorageResult, StorageStats,
};

/// What a test does to each commit: `inner.commit(id, write)` is the real one.
pub trait CommitHook: Send + Sync + 'static {
    fn commit<'a>(
        &'a self,
        inner: &'a MemoryStorage,
        id: &'a str,
        write: ActorWrite,
    ) -> BoxFuture<'a, StorageResult<()>>;
}

/// Commits as they come (for a test that only slows inserts down).
#[allow(dead_code)] // not every test that includes this file uses it
pub struct PassThrough;

impl CommitHook for PassThrough {
    fn commit<'a>(
        &'a self,
        inner: &'a MemoryStorage,
        id: &'a str,
        write: ActorWrite,
    ) -> BoxFuture<'a, StorageResult<()>> {
        inner.commit(id, write)
    }
}

/// [`MemoryStorage`] with its commits passed through `hook`.
pub struct Hooked<H> {
    pub inner: std::sync::Arc<MemoryStorage>,
    pub hook: H,
    /// How long each actor insert takes.
    pub insert_delay: std::time::Duration,
}

impl<H> Hooked<H> {
    pub fn new(hook: H) -> Self {
        Hooked {
            inner: std::sync::Arc::new(MemoryStorage::new()),
            hook,
            insert_delay: std::time::Duration::ZERO,
        }
    }
}

impl<H: CommitHook> Storage for Hooked<H> {
    fn find_by_key<'a>(
        &'a self,
        name: &'a str,
        key: &'a [String],
    ) -> BoxFuture<'a, StorageResult<Option<ActorRecord>>> {
        self.inner.find_by_key(name, key)
    }
    fn find_by_id<'a>(&'a self, id: &'a str) -> BoxFuture<'a, StorageResult<Option<ActorRecord>>> {
        self.inner.find_by_id(id)
    }
    fn insert_actor(
        &self,
        record: ActorRecord,
    ) -> BoxFuture<'_, StorageResult<(ActorRecord, bool)>> {
        // Made in a task of its own, as a storage's writer thread does: it finishes
        // whether or not its caller still waits.
        let (inner, delay) = (self.inner.clone(), self.insert_delay);
        let insert = tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            inner.insert_actor(record).await
        });
        Box::pin(async move { insert.await.expect("the insert task panicked") })
    }
    fn list_actors<'a>(
        &'a self,
        name: Option<&'a str>,
    ) -> BoxFuture<'a, StorageResult<Vec<ActorRecord>>> {
        self.inner.list_actors(name)
    }
    fn load_state<'a>(&'a self, id: &'a str) -> BoxFuture<'a, StorageResult<Option<Vec<u8>>>> {
        self.inner.load_state(id)
    }
    fn commit<'a>(&'a self, id: &'a str, write: ActorWrite) -> BoxFuture<'a, StorageResult<()>> {
        self.hook.commit(&self.inner, id, write)
    }
    fn kv_get<'a>(
        &'a self,
        id: &'a str,
        key: &'a [u8],
    ) -> BoxFuture<'a, StorageResult<Option<Vec<u8>>>> {
        self.inner.kv_get(id, key)
    }
    fn kv_scan_prefix<'a>(
        &'a self,
        id: &'a str,
        prefix: &'a [u8],
    ) -> BoxFuture<'a, StorageResult<Vec<KvPair>>> {
        self.inner.kv_scan_prefix(id, prefix)
    }
    fn actors_with_kv_prefix<'a>(
        &'a self,
        name: &'a str,
        prefix: &'a [u8],
    ) -> BoxFuture<'a, StorageResult<Vec<String>>> {
        self.inner.actors_with_kv_prefix(name, prefix)
    }
    fn destroy<'a>(&'a self, id: &'a str) -> BoxFuture<'a, StorageResult<bool>> {
        self.inner.destroy(id)
    }
    fn stats(&self) -> StorageStats {
        self.inner.stats()
    }
}
