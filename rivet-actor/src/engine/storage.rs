//! [`Storage`] over the engine's actor KV: the actors this host runs, as the engine started
//! them, and their state and rows laid out as `layout.rs` says.
//!
//! The engine owns the actors' identities (it creates them, picks their host and wakes
//! them), so this storage knows only the actors it was asked to run and refuses to create
//! any. A write is acknowledged only after the engine acknowledged its put. A put whose
//! answer was lost is [`StorageError::Unknown`]: the runtime reloads the actor rather than
//! guess. While the connection to the engine is down, nothing is written (a host that lost
//! its connection may have lost its actors to another host).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use rivet_envoy_client::handle::EnvoyHandle;

use crate::engine::layout::{self, Meta};
use crate::storage::{
    ActorRecord, ActorWrite, BoxFuture, KvPair, KvScan, Storage, StorageError, StorageResult,
    StorageStats,
};

/// An actor this host runs: what the engine said of it, and its meta row as last committed.
pub(super) struct Hosted {
    pub(super) record: ActorRecord,
    pub(super) generation: u32,
    pub(super) meta: Meta,
    /// The engine asked it to stop: its instance may still finish (and commit), but nothing
    /// wakes it here again.
    stopping: bool,
    /// A write's answer was lost: `meta` may be behind the engine's row (re-read at wake).
    meta_stale: bool,
}

/// The actors this host runs, kept in the engine's KV. Made by
/// [`RegistryBuilder::engine`](crate::RegistryBuilder::engine); connected by
/// [`Registry::serve_engine`](crate::Registry::serve_engine).
///
/// ```
/// # use rivet_actor::prelude::*;
/// # #[derive(Default, Serialize, Deserialize)] pub struct Counter { n: i64 }
/// # #[actor] impl Counter { #[action] fn get(&self) -> i64 { self.n } }
/// let registry = Registry::builder().engine().register::<Counter>().build();
/// // Not connected to an engine yet: writes are refused, and /health says so.
/// assert!(!registry.storage().healthy());
/// ```
#[derive(Default)]
pub struct EngineStorage {
    handle: OnceLock<EnvoyHandle>,
    hosted: Mutex<HashMap<String, Hosted>>,
    /// Alarms handed to the envoy for actors stopping here, acknowledged once queued to
    /// the actor (so the stop does not complete before its alarm is set).
    alarms: Mutex<HashMap<String, tokio::sync::oneshot::Receiver<()>>>,
    connected: AtomicBool,
    /// For tests of recovery: journals are committed but not applied (see
    /// [`Registry::__stall_engine_journals`](crate::Registry::__stall_engine_journals)).
    stall_journals: AtomicBool,
    commits: AtomicU64,
    transactions: AtomicU64,
}

/// A failed KV request whose effect is known: nothing was applied.
pub(super) fn failed(what: &str, err: anyhow::Error) -> StorageError {
    StorageError::Backend(format!("engine KV {what} failed: {err}"))
}

impl EngineStorage {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    pub(crate) fn attach(&self, handle: EnvoyHandle) {
        let _ = self.handle.set(handle);
    }

    pub(crate) fn set_connected(&self, connected: bool) {
        self.connected.store(connected, Ordering::SeqCst);
    }

    pub(super) fn handle(&self) -> StorageResult<&EnvoyHandle> {
        self.handle.get().ok_or(StorageError::Closed)
    }

    pub(super) fn hosted<T>(&self, f: impl FnOnce(&mut HashMap<String, Hosted>) -> T) -> T {
        f(&mut self.hosted.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Starts hosting actor `id` (the engine started it here): reads its meta row.
    pub(crate) async fn host(
        &self,
        id: &str,
        generation: u32,
        name: String,
        key: Vec<String>,
        input: Option<Vec<u8>>,
        created_at_ms: i64,
    ) -> StorageResult<()> {
        if self
            .generation(id)
            .is_some_and(|hosted| hosted > generation)
        {
            // A late start of an older generation must not replace the live one.
            return Err(StorageError::Backend(format!(
                "actor {id} runs here with a newer generation than {generation}"
            )));
        }
        let meta = self.read_meta(id).await?;
        let record = ActorRecord {
            id: id.to_owned(),
            name,
            key,
            input,
            created: meta.created,
            created_at_ms,
        };
        self.hosted(|hosted| {
            hosted.insert(
                id.to_owned(),
                Hosted {
                    record,
                    generation,
                    meta,
                    stopping: false,
                    meta_stale: false,
                },
            )
        });
        // A write committed through its journal by a host that stopped before applying it
        // is applied before anything reads the rows.
        if meta.journal > 0 {
            let settled = match self.settle_journal(id, generation, meta).await {
                Ok(settled) => settled,
                Err(err) => {
                    self.forget(id, Some(generation));
                    return Err(err);
                }
            };
            self.hosted(|hosted| {
                if let Some(h) = hosted.get_mut(id) {
                    h.meta = settled;
                }
            });
        }
        Ok(())
    }

    /// The actor's meta row as the engine holds it.
    async fn read_meta(&self, id: &str) -> StorageResult<Meta> {
        let rows = self
            .handle()?
            .kv_get(id.to_owned(), vec![layout::meta_key()])
            .await
            .map_err(|err| failed("read", err))?;
        match rows.into_iter().next().flatten() {
            Some(bytes) => Meta::decode(&bytes).ok_or_else(|| StorageError::Corrupt {
                what: format!("the meta row of actor {id} was not written by rivet-actor"),
            }),
            None => Ok(Meta::default()),
        }
    }

    /// Actor `id` (of `generation`) is stopping: nothing wakes it here any more.
    pub(crate) fn mark_stopping(&self, id: &str, generation: u32) {
        self.hosted(|hosted| {
            if let Some(h) = hosted.get_mut(id).filter(|h| h.generation == generation) {
                h.stopping = true;
            }
        });
    }

    /// Whether actor `id` still runs here with `generation` (a write checks it before each
    /// put: an actor that stopped or was fenced here writes nothing more).
    pub(super) fn still_hosted(&self, id: &str, generation: u32) -> bool {
        self.connected.load(Ordering::SeqCst)
            && self.hosted(|hosted| hosted.get(id).is_some_and(|h| h.generation == generation))
    }

    /// Stops hosting every actor at once (the connection to the engine broke: it may give
    /// them to other hosts); the ids and generations, to stop locally and to hand back.
    pub(crate) fn fence_all(&self) -> Vec<(String, String, u32)> {
        self.hosted(|hosted| {
            hosted
                .drain()
                .map(|(id, h)| (id, h.record.name, h.generation))
                .collect()
        })
    }

    /// Waits (briefly) until the alarm set for stopping actor `id` is queued to it.
    pub(crate) async fn alarm_settled(&self, id: &str) {
        let ack = self
            .alarms
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(id);
        if let Some(ack) = ack {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(5), ack).await;
        }
    }

    /// The generation actor `id` runs here with, if it does.
    pub(crate) fn generation(&self, id: &str) -> Option<u32> {
        self.hosted(|hosted| hosted.get(id).map(|h| h.generation))
    }

    /// Stops hosting actor `id` (of `generation`, or any).
    pub(crate) fn forget(&self, id: &str, generation: Option<u32>) {
        self.hosted(|hosted| {
            if hosted
                .get(id)
                .is_some_and(|h| generation.is_none_or(|g| g == h.generation))
            {
                hosted.remove(id);
            }
        });
    }

    /// Whether the connection to the engine is up (nothing is written while it is not).
    pub(super) fn is_connected(&self) -> bool {
        self.connected.load(Ordering::SeqCst)
    }

    pub(crate) fn stall_journals(&self, stall: bool) {
        self.stall_journals.store(stall, Ordering::SeqCst);
    }

    pub(super) fn journals_stalled(&self) -> bool {
        self.stall_journals.load(Ordering::SeqCst)
    }

    pub(super) fn count_commit(&self) {
        self.commits.fetch_add(1, Ordering::Relaxed);
    }

    /// A write's answer was lost: the meta row is read again before the actor's next wake.
    pub(super) fn mark_meta_stale(&self, id: &str) {
        self.hosted(|hosted| {
            if let Some(h) = hosted.get_mut(id) {
                h.meta_stale = true;
            }
        });
    }

    /// The actor type's name of actor `id`, if it is hosted here.
    pub(crate) fn name_of(&self, id: &str) -> Option<String> {
        self.hosted(|hosted| hosted.get(id).map(|h| h.record.name.clone()))
    }

    pub(super) async fn put(
        &self,
        id: &str,
        generation: u32,
        entries: Vec<(Vec<u8>, Vec<u8>)>,
    ) -> anyhow::Result<()> {
        anyhow::ensure!(
            self.still_hosted(id, generation),
            "actor {id} no longer runs here"
        );
        self.transactions.fetch_add(1, Ordering::Relaxed);
        self.handle()?.kv_put(id.to_owned(), entries).await
    }

    /// The runtime's rows whose keys start with `prefix`, deleted ones included.
    /// The live rows (runtime keys) in `scan`, a page of the engine's list at a time:
    /// rows marked deleted but not yet removed are skipped, so a page may hold fewer.
    pub(super) async fn live_rows(&self, id: &str, scan: &KvScan) -> StorageResult<Vec<KvPair>> {
        const PAGE: usize = 512;
        let mut start = layout::row_key(&scan.start);
        let mut end = match &scan.end {
            Some(end) => layout::row_key(end),
            None => layout::rows_end(),
        };
        let mut found = Vec::new();
        while found.len() < scan.limit && start < end {
            let page = (scan.limit - found.len()).min(PAGE);
            let listed = self
                .handle()?
                .kv_list_range(
                    id.to_owned(),
                    start.clone(),
                    end.clone(),
                    true,
                    Some(scan.reverse),
                    Some(page as u64),
                )
                .await
                .map_err(|err| failed("list", err))?;
            let exhausted = listed.len() < page;
            if let Some((last, _)) = listed.last() {
                if scan.reverse {
                    end = last.clone();
                } else {
                    start = [last.as_slice(), &[0]].concat();
                }
            }
            found.extend(listed.into_iter().filter_map(|(key, stored)| {
                let key = layout::row_key_of(&key)?.to_vec();
                Some((key, layout::row_value(&stored)?.to_vec()))
            }));
            if exhausted || scan.full_in_bytes(&found) {
                break;
            }
        }
        Ok(scan.take(found.into_iter()))
    }

    pub(super) async fn stored_rows(&self, id: &str, prefix: &[u8]) -> StorageResult<Vec<KvPair>> {
        self.handle()?
            .kv_list_prefix(id.to_owned(), layout::row_key(prefix), None, None)
            .await
            .map_err(|err| failed("list", err))
    }
}

impl Storage for EngineStorage {
    fn find_by_key<'a>(
        &'a self,
        name: &'a str,
        key: &'a [String],
    ) -> BoxFuture<'a, StorageResult<Option<ActorRecord>>> {
        let found = self.hosted(|hosted| {
            hosted
                .values()
                .find(|h| !h.stopping && h.record.name == name && h.record.key == key)
                .map(|h| h.record.clone())
        });
        Box::pin(async move { Ok(found) })
    }

    fn find_by_id<'a>(&'a self, id: &'a str) -> BoxFuture<'a, StorageResult<Option<ActorRecord>>> {
        let found = self.hosted(|hosted| {
            hosted
                .get(id)
                .filter(|h| !h.stopping)
                .map(|h| h.record.clone())
        });
        Box::pin(async move { Ok(found) })
    }

    fn insert_actor(
        &self,
        _record: ActorRecord,
    ) -> BoxFuture<'_, StorageResult<(ActorRecord, bool)>> {
        Box::pin(async {
            Err(StorageError::Backend(
                "in engine mode actors are created through the engine's gateway or API".into(),
            ))
        })
    }

    fn list_actors<'a>(
        &'a self,
        name: Option<&'a str>,
    ) -> BoxFuture<'a, StorageResult<Vec<ActorRecord>>> {
        let mut found: Vec<ActorRecord> = self.hosted(|hosted| {
            hosted
                .values()
                .filter(|h| !h.stopping && name.is_none_or(|n| h.record.name == n))
                .map(|h| h.record.clone())
                .collect()
        });
        found.sort_by(|a, b| a.id.cmp(&b.id));
        Box::pin(async move { Ok(found) })
    }

    fn load_state<'a>(&'a self, id: &'a str) -> BoxFuture<'a, StorageResult<Option<Vec<u8>>>> {
        Box::pin(async move {
            // The cached row is what this host last committed, unless a write's answer was
            // lost: then the engine's row is the truth.
            let cached =
                self.hosted(|hosted| hosted.get(id).map(|h| (h.meta, h.meta_stale, h.generation)));
            let meta = match cached {
                Some((meta, false, _)) => meta,
                _ => {
                    let meta = self.read_meta(id).await?;
                    let meta = match cached {
                        Some((_, _, generation)) => {
                            self.settle_journal(id, generation, meta).await?
                        }
                        None => meta,
                    };
                    self.hosted(|hosted| {
                        if let Some(h) = hosted.get_mut(id) {
                            h.meta = meta;
                            h.meta_stale = false;
                            h.record.created = meta.created;
                        }
                    });
                    meta
                }
            };
            if meta.version == 0 {
                return Ok(None);
            }
            let keys: Vec<Vec<u8>> = (0..meta.chunks)
                .map(|index| layout::state_key(meta.version, index))
                .collect();
            let mut state = Vec::new();
            for batch in keys.chunks(layout::MAX_KEYS) {
                let values = self
                    .handle()?
                    .kv_get(id.to_owned(), batch.to_vec())
                    .await
                    .map_err(|err| failed("read", err))?;
                for value in values {
                    state.extend(value.ok_or_else(|| StorageError::Corrupt {
                        what: format!("a chunk of actor {id}'s state is missing"),
                    })?);
                }
            }
            Ok(Some(state))
        })
    }

    fn commit<'a>(&'a self, id: &'a str, write: ActorWrite) -> BoxFuture<'a, StorageResult<()>> {
        Box::pin(self.commit_write(id, write))
    }

    fn kv_get<'a>(
        &'a self,
        id: &'a str,
        key: &'a [u8],
    ) -> BoxFuture<'a, StorageResult<Option<Vec<u8>>>> {
        Box::pin(async move {
            let values = self
                .handle()?
                .kv_get(id.to_owned(), vec![layout::row_key(key)])
                .await
                .map_err(|err| failed("read", err))?;
            Ok(values
                .into_iter()
                .next()
                .flatten()
                .and_then(|stored| layout::row_value(&stored).map(<[u8]>::to_vec)))
        })
    }

    fn kv_scan_prefix<'a>(
        &'a self,
        id: &'a str,
        prefix: &'a [u8],
    ) -> BoxFuture<'a, StorageResult<Vec<KvPair>>> {
        Box::pin(async move {
            let mut rows: Vec<KvPair> = self
                .stored_rows(id, prefix)
                .await?
                .into_iter()
                .filter_map(|(key, stored)| {
                    let key = layout::row_key_of(&key)?.to_vec();
                    let value = layout::row_value(&stored)?.to_vec();
                    Some((key, value))
                })
                .collect();
            rows.sort_by(|a, b| a.0.cmp(&b.0));
            Ok(rows)
        })
    }

    fn kv_range<'a>(
        &'a self,
        id: &'a str,
        scan: &'a KvScan,
    ) -> BoxFuture<'a, StorageResult<Vec<KvPair>>> {
        Box::pin(self.live_rows(id, scan))
    }

    fn actors_with_kv_prefix<'a>(
        &'a self,
        _name: &'a str,
        _prefix: &'a [u8],
    ) -> BoxFuture<'a, StorageResult<Vec<String>>> {
        // The engine's alarms wake actors with schedules; a host starting up has none.
        Box::pin(async { Ok(Vec::new()) })
    }

    fn destroy<'a>(&'a self, id: &'a str) -> BoxFuture<'a, StorageResult<bool>> {
        // The engine removes a destroyed actor's KV itself. A destroy it asked for finds the
        // actor stopping already; one that starts here (`c.destroy()`, a failed creation)
        // tells it, and until its stop arrives nothing wakes the actor here.
        let told = self.hosted(|hosted| {
            let hosted = hosted.get_mut(id)?;
            let tell = (!hosted.stopping).then_some(hosted.generation);
            hosted.stopping = true;
            Some(tell)
        });
        if let (Some(Some(generation)), Ok(handle)) = (told, self.handle()) {
            handle.stop_actor(id.to_owned(), Some(generation));
        }
        Box::pin(async move { Ok(told.is_some()) })
    }

    fn stats(&self) -> StorageStats {
        StorageStats {
            commits: self.commits.load(Ordering::Relaxed),
            transactions: self.transactions.load(Ordering::Relaxed),
            syncs: 0,
        }
    }

    fn actor_slept(&self, id: &str, wake_at: Option<SystemTime>, idle: bool) {
        let (Ok(handle), Some(generation)) = (self.handle(), self.generation(id)) else {
            return;
        };
        let at_ms = wake_at.map(|at| {
            at.duration_since(UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        });
        // The alarm wakes it on whichever host the engine picks. A stop completes only once
        // the alarm is queued to the actor (see `alarm_settled`).
        let (ack, acked) = tokio::sync::oneshot::channel();
        handle.set_alarm_with_ack(id.to_owned(), at_ms, Some(generation), Some(ack));
        self.alarms
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id.to_owned(), acked);
        if idle {
            handle.sleep_actor(id.to_owned(), Some(generation), None);
        }
    }

    fn places_actors(&self) -> bool {
        true
    }

    fn healthy(&self) -> bool {
        self.connected.load(Ordering::SeqCst)
    }
}
