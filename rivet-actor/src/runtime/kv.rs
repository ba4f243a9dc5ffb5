//! `c.kv()` inside the executor: the actor's rows under [`USER_PREFIX`], a turn's writes
//! staged in an overlay its reads look through, then added to the turn's storage write
//! (`Outbox::stage`) or dropped with a failed turn.
//!
//! Reads that reach storage first wait for the writes the gate still holds that change kv
//! rows (a row may be in one of them); a turn's own staged writes are answered from the
//! overlay.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::{Mutex, MutexGuard};

use crate::context::effects::KvEffects;
use crate::error::ActorError;
use crate::kv::MAX_TURN_WRITES;
use crate::runtime::gate::{Gate, storage_failed};
use crate::storage::{ActorWrite, BoxFuture, KvPair, KvScan, Storage, prefix_successor};

/// Where user rows live among the actor's kv rows (beside `q/`, `s/`, `r/`).
pub(crate) const USER_PREFIX: &[u8] = b"u/";
/// At most this many bytes of keys and values staged by one turn (the gate's bound for the
/// writes it holds).
const MAX_TURN_BYTES: usize = 16 << 20;

/// The current turn's kv writes, keyed by their full (prefixed) keys.
#[derive(Default)]
struct Staged {
    /// `Some`: put; `None`: deleted.
    rows: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    /// Ranges `[start, end)` deleted, applied before `rows`.
    ranges: Vec<(Vec<u8>, Vec<u8>)>,
    bytes: usize,
}

impl Staged {
    fn deleted_by_range(&self, key: &[u8]) -> bool {
        self.ranges
            .iter()
            .any(|(start, end)| key >= start.as_slice() && key < end.as_slice())
    }

    fn writes(&self) -> usize {
        self.rows.len() + self.ranges.len()
    }
}

/// One instance's `c.kv()` staging: shared by every turn of the instance, one turn at a
/// time. Small while unused (an idle actor pays two words): the overlay is allocated on a
/// turn's first write. The storage and the actor's id come from the turn's outbox
/// ([`KvAccess`]).
pub(crate) struct TurnKv {
    staged: Mutex<Option<Box<Staged>>>,
    gate: Gate,
}

/// What a kv read or write needs beside the staging: where the rows are stored.
pub(crate) struct KvAccess<'a> {
    pub(crate) kv: &'a TurnKv,
    pub(crate) storage: &'a dyn Storage,
    pub(crate) actor: &'static str,
    pub(crate) id: &'a str,
}

impl TurnKv {
    pub(crate) fn new(gate: Gate) -> Self {
        TurnKv {
            staged: Mutex::new(None),
            gate,
        }
    }

    /// Moves the turn's writes into its storage write.
    pub(crate) fn stage(&self, write: &mut ActorWrite) {
        let Some(staged) = self.lock().take() else {
            return;
        };
        write.kv_delete_range.extend(staged.ranges);
        for (key, value) in staged.rows {
            match value {
                Some(value) => write.kv_put.push((key, value)),
                None => write.kv_delete.push(key),
            }
        }
    }

    /// The turn failed: its writes are forgotten.
    pub(crate) fn abort(&self) {
        *self.lock() = None;
    }

    fn lock(&self) -> MutexGuard<'_, Option<Box<Staged>>> {
        // Every update below leaves the overlay whole before it can panic.
        self.staged
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }
}

impl KvAccess<'_> {
    fn failed(&self, err: &crate::storage::StorageError) -> ActorError {
        storage_failed(self.actor, self.id, err)
    }

    /// At most this many rows one turn may write: leaves room in one storage write for the
    /// turn's queue, schedule and replay rows.
    fn max_writes(&self) -> usize {
        MAX_TURN_WRITES.min(self.storage.max_rows_per_write().saturating_sub(28))
    }

    /// Waits for the writes the gate holds that change kv rows: storage has every row
    /// committed so far after that. (A pending write of the state alone does not hold a
    /// kv read up.)
    async fn settled(&self) -> Result<(), ActorError> {
        if self.kv.gate.user_rows_pending() {
            self.kv.gate.durable().await?;
        }
        Ok(())
    }

    fn stage_write(&self, key: Vec<u8>, value: Option<Vec<u8>>) -> Result<(), ActorError> {
        let max_writes = self.max_writes();
        let mut guard = self.kv.lock();
        let staged = guard.get_or_insert_with(Box::default);
        let size = key.len() + value.as_ref().map_or(0, Vec::len);
        // A row written again in the turn replaces what it staged before: only the last
        // value goes into the write.
        let replaced = staged
            .rows
            .get(&key)
            .map(|old| key.len() + old.as_ref().map_or(0, Vec::len));
        let bytes = staged.bytes - replaced.unwrap_or(0) + size;
        if (replaced.is_none() && staged.writes() >= max_writes) || bytes > MAX_TURN_BYTES {
            return Err(ActorError::kv_too_many_writes(max_writes, MAX_TURN_BYTES));
        }
        staged.bytes = bytes;
        staged.rows.insert(key, value);
        Ok(())
    }

    /// Whether the overlay decides `key`: `Some(value)` if so (`Some(None)`: deleted).
    fn staged_value(&self, key: &[u8]) -> Option<Option<Vec<u8>>> {
        let guard = self.kv.lock();
        let staged = guard.as_ref()?;
        if let Some(value) = staged.rows.get(key) {
            return Some(value.clone());
        }
        staged.deleted_by_range(key).then_some(None)
    }

    /// Storage rows of `scan` (full keys) that the overlay leaves standing, a page at a
    /// time until `scan.limit` of them are found, they reach `scan.max_bytes`, or the range
    /// is read to its end; with the last key read (`None`: the range was read to its end).
    async fn stored_rows(
        &self,
        scan: &KvScan,
    ) -> Result<(Vec<KvPair>, Option<Vec<u8>>), ActorError> {
        let mut cursor = scan.clone();
        let mut kept = Vec::new();
        let mut kept_bytes = 0usize;
        let mut read_up_to = None;
        loop {
            let overridden = self.kv.lock().as_ref().map_or(0, |staged| {
                staged.rows.keys().filter(|k| cursor.contains(k)).count()
            });
            let want = (scan.limit - kept.len()).saturating_add(overridden).max(1);
            cursor.limit = want;
            cursor.max_bytes = scan.max_bytes.saturating_sub(kept_bytes);
            let page = self
                .storage
                .kv_range(self.id, &cursor)
                .await
                .map_err(|err| self.failed(&err))?;
            // A page cut for its bytes shows nothing of the range's end; it ends the scan
            // once something stands (rows the overlay hides are dropped as they are read).
            let full_in_bytes = cursor.full_in_bytes(&page);
            let exhausted = page.len() < want && !full_in_bytes;
            if let Some((last, _)) = page.last() {
                if scan.reverse {
                    cursor.end = Some(last.clone());
                } else {
                    cursor.start = [last.as_slice(), &[0]].concat();
                }
                read_up_to = Some(last.clone());
            }
            {
                let guard = self.kv.lock();
                let standing = page.into_iter().filter(|(key, _)| {
                    guard.as_ref().is_none_or(|staged| {
                        !staged.rows.contains_key(key) && !staged.deleted_by_range(key)
                    })
                });
                for row in standing {
                    kept_bytes = kept_bytes.saturating_add(row.0.len() + row.1.len());
                    kept.push(row);
                }
            }
            if exhausted {
                return Ok((kept, None));
            }
            if (full_in_bytes && !kept.is_empty()) || kept.len() >= scan.limit {
                return Ok((kept, read_up_to));
            }
        }
    }
}

/// `key` under [`USER_PREFIX`].
fn user_key(key: &[u8]) -> Vec<u8> {
    [USER_PREFIX, key].concat()
}

/// The end of the user rows: a scan without an upper bound stops here.
fn user_end() -> Vec<u8> {
    prefix_successor(USER_PREFIX).expect("the prefix is not all 0xff")
}

impl KvEffects for KvAccess<'_> {
    fn get(&self, key: Vec<u8>) -> BoxFuture<'_, Result<Option<Vec<u8>>, ActorError>> {
        Box::pin(async move {
            let key = user_key(&key);
            if let Some(decided) = self.staged_value(&key) {
                return Ok(decided);
            }
            self.settled().await?;
            self.storage
                .kv_get(self.id, &key)
                .await
                .map_err(|err| self.failed(&err))
        })
    }

    fn scan(&self, scan: KvScan) -> BoxFuture<'_, Result<Vec<KvPair>, ActorError>> {
        Box::pin(async move {
            let full = KvScan {
                start: user_key(&scan.start),
                end: Some(scan.end.as_deref().map_or_else(user_end, user_key)),
                limit: scan.limit,
                reverse: scan.reverse,
                max_bytes: scan.max_bytes,
            };
            if full.limit == 0 || full.end.as_deref() <= Some(full.start.as_slice()) {
                return Ok(Vec::new());
            }
            self.settled().await?;
            // The last key storage was read up to (`None`: to the end of the range): staged
            // puts past it wait for a later page.
            let (stored, boundary) = self.stored_rows(&full).await?;
            let mut rows: BTreeMap<Vec<u8>, Vec<u8>> = stored.into_iter().collect();
            if let Some(staged) = self.kv.lock().as_ref() {
                let range = (
                    Bound::Included(full.start.clone()),
                    Bound::Excluded(full.end.clone().unwrap_or_default()),
                );
                for (key, value) in staged.rows.range(range) {
                    let within = match &boundary {
                        Some(last) if full.reverse => key >= last,
                        Some(last) => key <= last,
                        None => true,
                    };
                    if let (Some(value), true) = (value, within) {
                        rows.insert(key.clone(), value.clone());
                    }
                }
            }
            let strip =
                |(key, value): (Vec<u8>, Vec<u8>)| (key[USER_PREFIX.len()..].to_vec(), value);
            Ok(if full.reverse {
                rows.into_iter().rev().take(full.limit).map(strip).collect()
            } else {
                rows.into_iter().take(full.limit).map(strip).collect()
            })
        })
    }

    fn put(&self, key: Vec<u8>, value: Vec<u8>) -> Result<(), ActorError> {
        self.stage_write(user_key(&key), Some(value))
    }

    fn delete(&self, key: Vec<u8>) -> Result<(), ActorError> {
        self.stage_write(user_key(&key), None)
    }

    fn delete_range(&self, start: Vec<u8>, end: Option<Vec<u8>>) -> Result<(), ActorError> {
        let start = user_key(&start);
        let end = end.as_deref().map_or_else(user_end, user_key);
        if end <= start {
            return Ok(());
        }
        let max_writes = self.max_writes();
        let mut guard = self.kv.lock();
        let staged = guard.get_or_insert_with(Box::default);
        if staged.writes() >= max_writes {
            return Err(ActorError::kv_too_many_writes(max_writes, MAX_TURN_BYTES));
        }
        // Earlier staged writes in the range are gone; later ones go in `rows` again.
        let doomed: Vec<Vec<u8>> = staged
            .rows
            .range(start.clone()..end.clone())
            .map(|(k, _)| k.clone())
            .collect();
        for key in doomed {
            if let Some(old) = staged.rows.remove(&key) {
                staged.bytes -= key.len() + old.as_ref().map_or(0, Vec::len);
            }
        }
        staged.bytes += start.len() + end.len();
        staged.ranges.push((start, end));
        Ok(())
    }
}
