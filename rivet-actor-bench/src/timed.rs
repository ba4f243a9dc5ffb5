//! [`Timed`]: a [`Storage`] that forwards every call to another and, while recording is on,
//! counts each method's calls and keeps their latencies: how many storage reads a wake does
//! and what each costs, seen from the runtime (the thread hop to SQLite's blocking pool
//! included).

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use rivet_actor::storage::{
    ActorRecord, ActorWrite, BoxFuture, KvPair, Storage, StorageResult, StorageStats, WakeRead,
};

/// The storage methods [`Timed`] tells apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    FindByKey,
    FindById,
    InsertActor,
    ListActors,
    LoadState,
    LoadForWake,
    Commit,
    KvGet,
    KvScanPrefix,
    ActorsWithKvPrefix,
    Destroy,
}

impl Method {
    /// Every method, in the order reports list them.
    pub const ALL: [Method; 11] = [
        Method::FindByKey,
        Method::LoadForWake,
        Method::FindById,
        Method::LoadState,
        Method::KvScanPrefix,
        Method::KvGet,
        Method::Commit,
        Method::InsertActor,
        Method::ListActors,
        Method::ActorsWithKvPrefix,
        Method::Destroy,
    ];

    /// The `Storage` method's name.
    pub fn name(self) -> &'static str {
        match self {
            Method::FindByKey => "find_by_key",
            Method::FindById => "find_by_id",
            Method::InsertActor => "insert_actor",
            Method::ListActors => "list_actors",
            Method::LoadState => "load_state",
            Method::LoadForWake => "load_for_wake",
            Method::Commit => "commit",
            Method::KvGet => "kv_get",
            Method::KvScanPrefix => "kv_scan_prefix",
            Method::ActorsWithKvPrefix => "actors_with_kv_prefix",
            Method::Destroy => "destroy",
        }
    }

    fn index(self) -> usize {
        Method::ALL.iter().position(|m| *m == self).unwrap_or(0)
    }
}

/// A [`Storage`] that times the calls it forwards while [`Timed::record`] is on.
pub struct Timed<S> {
    inner: S,
    recording: AtomicBool,
    samples: Mutex<[Vec<Duration>; Method::ALL.len()]>,
    /// Bytes of state and row values handed to `commit` (recorded or not).
    written: AtomicU64,
    /// Answer `chunked_state() == false`: every state written whole, as before chunking.
    whole_state: bool,
}

impl<S: Storage> Timed<S> {
    /// Wraps `inner`; nothing is recorded until [`Timed::record`].
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            recording: AtomicBool::new(false),
            samples: Mutex::new(Default::default()),
            written: AtomicU64::new(0),
            whole_state: false,
        }
    }

    /// Has the runtime write every state whole (no chunk rows): the baseline that chunked
    /// states are compared with.
    pub fn whole_state(mut self) -> Self {
        self.whole_state = true;
        self
    }

    /// Bytes of state and key/value rows committed so far.
    pub fn bytes_written(&self) -> u64 {
        self.written.load(Ordering::Relaxed)
    }

    /// Starts or stops recording.
    pub fn record(&self, on: bool) {
        self.recording.store(on, Ordering::SeqCst);
    }

    /// The latencies recorded per method since the last take, and forgets them.
    pub fn take(&self) -> Vec<(Method, Vec<Duration>)> {
        let mut samples = self.samples.lock().unwrap_or_else(|p| p.into_inner());
        Method::ALL
            .iter()
            .map(|m| (*m, std::mem::take(&mut samples[m.index()])))
            .collect()
    }

    fn timed<'a, T: Send + 'a>(
        &'a self,
        method: Method,
        call: BoxFuture<'a, T>,
    ) -> BoxFuture<'a, T> {
        if !self.recording.load(Ordering::Relaxed) {
            return call;
        }
        Box::pin(async move {
            let started = Instant::now();
            let out = call.await;
            let took = started.elapsed();
            let mut samples = self.samples.lock().unwrap_or_else(|p| p.into_inner());
            samples[method.index()].push(took);
            out
        })
    }
}

impl<S: Storage> Storage for Timed<S> {
    fn find_by_key<'a>(
        &'a self,
        name: &'a str,
        key: &'a [String],
    ) -> BoxFuture<'a, StorageResult<Option<ActorRecord>>> {
        self.timed(Method::FindByKey, self.inner.find_by_key(name, key))
    }

    fn find_by_id<'a>(&'a self, id: &'a str) -> BoxFuture<'a, StorageResult<Option<ActorRecord>>> {
        self.timed(Method::FindById, self.inner.find_by_id(id))
    }

    fn insert_actor(
        &self,
        record: ActorRecord,
    ) -> BoxFuture<'_, StorageResult<(ActorRecord, bool)>> {
        self.timed(Method::InsertActor, self.inner.insert_actor(record))
    }

    fn list_actors<'a>(
        &'a self,
        name: Option<&'a str>,
    ) -> BoxFuture<'a, StorageResult<Vec<ActorRecord>>> {
        self.timed(Method::ListActors, self.inner.list_actors(name))
    }

    fn load_state<'a>(&'a self, id: &'a str) -> BoxFuture<'a, StorageResult<Option<Vec<u8>>>> {
        self.timed(Method::LoadState, self.inner.load_state(id))
    }

    fn load_for_wake<'a>(
        &'a self,
        id: &'a str,
        prefixes: &'a [&'a [u8]],
    ) -> BoxFuture<'a, StorageResult<Option<WakeRead>>> {
        self.timed(Method::LoadForWake, self.inner.load_for_wake(id, prefixes))
    }

    fn commit<'a>(&'a self, id: &'a str, write: ActorWrite) -> BoxFuture<'a, StorageResult<()>> {
        let bytes = write.state.as_ref().map_or(0, Vec::len)
            + write
                .kv_put
                .iter()
                .map(|(k, v)| k.len() + v.len())
                .sum::<usize>();
        self.written.fetch_add(bytes as u64, Ordering::Relaxed);
        self.timed(Method::Commit, self.inner.commit(id, write))
    }

    fn kv_get<'a>(
        &'a self,
        id: &'a str,
        key: &'a [u8],
    ) -> BoxFuture<'a, StorageResult<Option<Vec<u8>>>> {
        self.timed(Method::KvGet, self.inner.kv_get(id, key))
    }

    fn kv_scan_prefix<'a>(
        &'a self,
        id: &'a str,
        prefix: &'a [u8],
    ) -> BoxFuture<'a, StorageResult<Vec<KvPair>>> {
        self.timed(Method::KvScanPrefix, self.inner.kv_scan_prefix(id, prefix))
    }

    fn actors_with_kv_prefix<'a>(
        &'a self,
        name: &'a str,
        prefix: &'a [u8],
    ) -> BoxFuture<'a, StorageResult<Vec<String>>> {
        self.timed(
            Method::ActorsWithKvPrefix,
            self.inner.actors_with_kv_prefix(name, prefix),
        )
    }

    fn destroy<'a>(&'a self, id: &'a str) -> BoxFuture<'a, StorageResult<bool>> {
        self.timed(Method::Destroy, self.inner.destroy(id))
    }

    fn stats(&self) -> StorageStats {
        self.inner.stats()
    }

    fn actor_slept(&self, id: &str, wake_at: Option<SystemTime>, idle: bool) {
        self.inner.actor_slept(id, wake_at, idle);
    }

    fn max_rows_per_write(&self) -> usize {
        self.inner.max_rows_per_write()
    }

    fn places_actors(&self) -> bool {
        self.inner.places_actors()
    }

    fn chunked_state(&self) -> bool {
        !self.whole_state && self.inner.chunked_state()
    }

    fn healthy(&self) -> bool {
        self.inner.healthy()
    }
}
