//! In-memory storage for tests and benchmarks.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use super::*;

/// Storage that keeps everything in memory: fast, gone at exit.
#[derive(Default)]
pub struct MemoryStorage {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    records: HashMap<String, ActorRecord>,
    by_key: HashMap<(String, Vec<String>), String>,
    state: HashMap<String, Vec<u8>>,
    kv: HashMap<String, BTreeMap<Vec<u8>, Vec<u8>>>,
    stats: StorageStats,
}

impl MemoryStorage {
    /// An empty storage.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
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
            .and_then(|id| inner.records.get(id))
            .cloned();
        Box::pin(async move { Ok(found) })
    }

    fn find_by_id<'a>(&'a self, id: &'a str) -> BoxFuture<'a, StorageResult<Option<ActorRecord>>> {
        let found = self.lock().records.get(id).cloned();
        Box::pin(async move { Ok(found) })
    }

    fn insert_actor(
        &self,
        record: ActorRecord,
    ) -> BoxFuture<'_, StorageResult<(ActorRecord, bool)>> {
        let mut inner = self.lock();
        let k = (record.name.clone(), record.key.clone());
        let out = if let Some(id) = inner.by_key.get(&k) {
            (inner.records[id].clone(), false)
        } else {
            inner.by_key.insert(k, record.id.clone());
            inner.records.insert(record.id.clone(), record.clone());
            (record, true)
        };
        Box::pin(async move { Ok(out) })
    }

    fn list_actors<'a>(
        &'a self,
        name: Option<&'a str>,
    ) -> BoxFuture<'a, StorageResult<Vec<ActorRecord>>> {
        let list = self
            .lock()
            .records
            .values()
            .filter(|r| name.is_none_or(|n| r.name == n))
            .cloned()
            .collect();
        Box::pin(async move { Ok(list) })
    }

    fn load_state<'a>(&'a self, id: &'a str) -> BoxFuture<'a, StorageResult<Option<Vec<u8>>>> {
        let state = self.lock().state.get(id).cloned();
        Box::pin(async move { Ok(state) })
    }

    fn commit<'a>(&'a self, id: &'a str, write: ActorWrite) -> BoxFuture<'a, StorageResult<()>> {
        let mut inner = self.lock();
        inner.stats.commits += 1;
        inner.stats.transactions += 1;
        if let Some(state) = write.state {
            inner.state.insert(id.to_owned(), state);
        }
        if write.mark_created
            && let Some(r) = inner.records.get_mut(id)
        {
            r.created = true;
        }
        let kv = inner.kv.entry(id.to_owned()).or_default();
        for prefix in &write.kv_delete_prefix {
            kv.retain(|k, _| !k.starts_with(prefix));
        }
        for k in &write.kv_delete {
            kv.remove(k);
        }
        for (k, v) in write.kv_put {
            kv.insert(k, v);
        }
        Box::pin(async { Ok(()) })
    }

    fn kv_get<'a>(
        &'a self,
        id: &'a str,
        key: &'a [u8],
    ) -> BoxFuture<'a, StorageResult<Option<Vec<u8>>>> {
        let v = self.lock().kv.get(id).and_then(|kv| kv.get(key)).cloned();
        Box::pin(async move { Ok(v) })
    }

    fn kv_scan_prefix<'a>(
        &'a self,
        id: &'a str,
        prefix: &'a [u8],
    ) -> BoxFuture<'a, StorageResult<Vec<(Vec<u8>, Vec<u8>)>>> {
        let rows = self
            .lock()
            .kv
            .get(id)
            .map(|kv| {
                kv.range(prefix.to_vec()..)
                    .take_while(|(k, _)| k.starts_with(prefix))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            })
            .unwrap_or_default();
        Box::pin(async move { Ok(rows) })
    }

    fn destroy<'a>(&'a self, id: &'a str) -> BoxFuture<'a, StorageResult<bool>> {
        let mut inner = self.lock();
        let existed = match inner.records.remove(id) {
            Some(r) => {
                inner.by_key.remove(&(r.name, r.key));
                true
            }
            None => false,
        };
        inner.state.remove(id);
        inner.kv.remove(id);
        Box::pin(async move { Ok(existed) })
    }

    fn stats(&self) -> StorageStats {
        self.lock().stats
    }
}
