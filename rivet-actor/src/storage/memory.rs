//! In-memory storage for tests and benchmarks.

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use std::sync::{Mutex, MutexGuard};

use super::{
    ActorRecord, ActorWrite, BoxFuture, KvPair, KvScan, Storage, StorageError, StorageResult,
    StorageStats, prefix_successor,
};

/// A [`Storage`] that keeps everything in a mutex-protected map. Nothing survives the process.
///
/// Commits apply immediately and are counted in [`StorageStats::commits`] and
/// [`StorageStats::transactions`]; [`StorageStats::syncs`] stays 0.
///
/// ```
/// use rivet_actor::storage::{ActorRecord, ActorWrite, MemoryStorage, Storage};
///
/// # #[tokio::main] async fn main() -> rivet_actor::storage::StorageResult<()> {
/// let storage = MemoryStorage::new();
/// let rec = ActorRecord {
///     id: "a1".into(),
///     name: "counter".into(),
///     key: vec![],
///     input: None,
///     created: false,
///     created_at_ms: 0,
/// };
/// storage.insert_actor(rec).await?;
/// let write = ActorWrite { kv_put: vec![(b"k".to_vec(), b"v".to_vec())], ..Default::default() };
/// storage.commit("a1", write).await?;
/// assert_eq!(storage.kv_get("a1", b"k").await?, Some(b"v".to_vec()));
/// assert_eq!(storage.stats().commits, 1);
/// # Ok(()) }
/// ```
#[derive(Debug, Default)]
pub struct MemoryStorage {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// Records by id.
    actors: BTreeMap<String, ActorRecord>,
    /// `(name, key)` -> id.
    by_key: HashMap<(String, Vec<String>), String>,
    /// By actor id (ids are ours, not a client's: a fast hasher, as a commit looks one up).
    state: HashMap<String, Vec<u8>, foldhash::fast::RandomState>,
    kv: HashMap<String, BTreeMap<Vec<u8>, Vec<u8>>, foldhash::fast::RandomState>,
    stats: StorageStats,
}

impl MemoryStorage {
    /// Creates an empty storage.
    ///
    /// ```
    /// let storage = rivet_actor::storage::MemoryStorage::new();
    /// # let _ = storage;
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave a half-applied write: every mutation
        // validates first and then only performs infallible map operations.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Applies one actor's writes (there is nothing to wait for in memory).
    fn apply(&self, id: &str, write: ActorWrite) -> StorageResult<()> {
        let mut guard = self.lock();
        let inner = &mut *guard;
        let Some(record) = inner.actors.get_mut(id) else {
            return Err(StorageError::ActorNotFound { id: id.to_owned() });
        };
        if write.mark_created {
            record.created = true;
        }
        let touches_kv = write.row_ops() > 0;
        // Overwrite in place where a row exists: no key allocation on the hot path.
        if let Some(state) = write.state {
            match inner.state.get_mut(id) {
                Some(slot) => *slot = state,
                None => {
                    inner.state.insert(id.to_owned(), state);
                }
            }
        }
        if touches_kv {
            let rows = inner.kv.entry(id.to_owned()).or_default();
            for prefix in &write.kv_delete_prefix {
                let doomed: Vec<Vec<u8>> =
                    prefix_range(rows, prefix).map(|(k, _)| k.clone()).collect();
                for key in doomed {
                    rows.remove(&key);
                }
            }
            for (start, end) in &write.kv_delete_range {
                let doomed: Vec<Vec<u8>> = rows
                    .range::<[u8], _>((Bound::Included(&start[..]), Bound::Excluded(&end[..])))
                    .map(|(k, _)| k.clone())
                    .collect();
                for key in doomed {
                    rows.remove(&key);
                }
            }
            for key in &write.kv_delete {
                rows.remove(key);
            }
            rows.extend(write.kv_put);
            if rows.is_empty() {
                inner.kv.remove(id);
            }
        }
        inner.stats.commits += 1;
        inner.stats.transactions += 1;
        Ok(())
    }
}

fn ready<'a, T: Send + 'a>(value: T) -> BoxFuture<'a, T> {
    Box::pin(std::future::ready(value))
}

fn prefix_range<'m>(
    rows: &'m BTreeMap<Vec<u8>, Vec<u8>>,
    prefix: &[u8],
) -> impl Iterator<Item = (&'m Vec<u8>, &'m Vec<u8>)> {
    let end = match prefix_successor(prefix) {
        Some(end) => Bound::Excluded(end),
        None => Bound::Unbounded,
    };
    rows.range((Bound::Included(prefix.to_vec()), end))
}

impl Storage for MemoryStorage {
    fn find_by_key<'a>(
        &'a self,
        name: &'a str,
        key: &'a [String],
    ) -> BoxFuture<'a, StorageResult<Option<ActorRecord>>> {
        let inner = self.lock();
        let found = inner
            .by_key
            .get(&(name.to_owned(), key.to_vec()))
            .and_then(|id| inner.actors.get(id))
            .cloned();
        ready(Ok(found))
    }

    fn find_by_id<'a>(&'a self, id: &'a str) -> BoxFuture<'a, StorageResult<Option<ActorRecord>>> {
        ready(Ok(self.lock().actors.get(id).cloned()))
    }

    fn insert_actor(
        &self,
        record: ActorRecord,
    ) -> BoxFuture<'_, StorageResult<(ActorRecord, bool)>> {
        let mut inner = self.lock();
        let pair = (record.name.clone(), record.key.clone());
        let result = if let Some(existing) = inner.by_key.get(&pair) {
            Ok((inner.actors[existing].clone(), false))
        } else if inner.actors.contains_key(&record.id) {
            Err(StorageError::IdInUse { id: record.id })
        } else {
            inner.by_key.insert(pair, record.id.clone());
            inner.actors.insert(record.id.clone(), record.clone());
            inner.stats.transactions += 1;
            Ok((record, true))
        };
        ready(result)
    }

    fn list_actors<'a>(
        &'a self,
        name: Option<&'a str>,
    ) -> BoxFuture<'a, StorageResult<Vec<ActorRecord>>> {
        let inner = self.lock();
        let list = inner
            .actors
            .values()
            .filter(|r| name.is_none_or(|n| r.name == n))
            .cloned()
            .collect();
        ready(Ok(list))
    }

    fn list_actors_page<'a>(
        &'a self,
        name: Option<&'a str>,
        after: Option<&'a str>,
        limit: usize,
    ) -> BoxFuture<'a, StorageResult<Vec<ActorRecord>>> {
        let inner = self.lock();
        let mut page: Vec<&ActorRecord> = inner
            .actors
            .values()
            .filter(|r| name.is_none_or(|n| r.name == n))
            .filter(|r| after.is_none_or(|after| r.id.as_str() > after))
            .collect();
        page.sort_unstable_by(|a, b| a.id.cmp(&b.id));
        let page = page
            .into_iter()
            .take(limit)
            .map(|r| ActorRecord {
                input: None,
                ..r.clone()
            })
            .collect();
        ready(Ok(page))
    }

    fn load_state<'a>(&'a self, id: &'a str) -> BoxFuture<'a, StorageResult<Option<Vec<u8>>>> {
        ready(Ok(self.lock().state.get(id).cloned()))
    }

    fn commit<'a>(&'a self, id: &'a str, write: ActorWrite) -> BoxFuture<'a, StorageResult<()>> {
        ready(self.apply(id, write))
    }

    fn commit_now(&self, id: &str, write: &mut ActorWrite) -> Option<StorageResult<()>> {
        Some(self.apply(id, std::mem::take(write)))
    }

    fn kv_get<'a>(
        &'a self,
        id: &'a str,
        key: &'a [u8],
    ) -> BoxFuture<'a, StorageResult<Option<Vec<u8>>>> {
        let inner = self.lock();
        ready(Ok(inner.kv.get(id).and_then(|rows| rows.get(key)).cloned()))
    }

    fn kv_scan_prefix<'a>(
        &'a self,
        id: &'a str,
        prefix: &'a [u8],
    ) -> BoxFuture<'a, StorageResult<Vec<KvPair>>> {
        let inner = self.lock();
        let rows = inner
            .kv
            .get(id)
            .map(|rows| {
                prefix_range(rows, prefix)
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            })
            .unwrap_or_default();
        ready(Ok(rows))
    }

    fn kv_range<'a>(
        &'a self,
        id: &'a str,
        scan: &'a KvScan,
    ) -> BoxFuture<'a, StorageResult<Vec<KvPair>>> {
        let inner = self.lock();
        let Some(rows) = inner.kv.get(id) else {
            return ready(Ok(Vec::new()));
        };
        let end = match &scan.end {
            Some(end) if end.as_slice() <= scan.start.as_slice() => return ready(Ok(Vec::new())),
            Some(end) => Bound::Excluded(&end[..]),
            None => Bound::Unbounded,
        };
        let range = rows.range::<[u8], _>((Bound::Included(&scan.start[..]), end));
        let pick = |(k, v): (&Vec<u8>, &Vec<u8>)| (k.clone(), v.clone());
        let found = if scan.reverse {
            scan.take(range.rev().map(pick))
        } else {
            scan.take(range.map(pick))
        };
        ready(Ok(found))
    }

    fn actors_with_kv_prefix<'a>(
        &'a self,
        name: &'a str,
        prefix: &'a [u8],
    ) -> BoxFuture<'a, StorageResult<Vec<String>>> {
        let inner = self.lock();
        let ids = inner
            .actors
            .values()
            .filter(|record| record.name == name)
            .filter(|record| {
                inner
                    .kv
                    .get(&record.id)
                    .is_some_and(|rows| prefix_range(rows, prefix).next().is_some())
            })
            .map(|record| record.id.clone())
            .collect();
        ready(Ok(ids))
    }

    fn destroy<'a>(&'a self, id: &'a str) -> BoxFuture<'a, StorageResult<bool>> {
        let mut inner = self.lock();
        let existed = match inner.actors.remove(id) {
            Some(record) => {
                inner.by_key.remove(&(record.name, record.key));
                true
            }
            None => false,
        };
        inner.state.remove(id);
        inner.kv.remove(id);
        if existed {
            inner.stats.transactions += 1;
        }
        ready(Ok(existed))
    }

    fn stats(&self) -> StorageStats {
        self.lock().stats
    }
}
