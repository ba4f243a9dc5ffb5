//! What a commit writes ([`ActorWrite`]) and what a range read asks for ([`KvScan`]).

use std::collections::HashSet;

use crate::storage::KvPair;

/// One actor's writes from one turn, applied atomically by [`Storage::commit`].
///
/// Within one write the key/value operations are applied in this order: `kv_delete_prefix`,
/// then `kv_delete_range`, then `kv_delete`, then `kv_put`. A turn that deletes and later
/// re-puts a key should therefore list the key only in `kv_put`; a put followed by a delete
/// lists it only in `kv_delete`.
///
/// [`Storage::commit`]: crate::storage::Storage::commit
///
/// ```
/// use rivet_actor::storage::ActorWrite;
///
/// let write = ActorWrite {
///     state: Some(b"new state".to_vec()),
///     kv_put: vec![(b"queue/0001".to_vec(), b"job".to_vec())],
///     kv_delete_prefix: vec![b"cache/".to_vec()],
///     kv_delete_range: vec![(b"log/0000".to_vec(), b"log/0100".to_vec())],
///     ..Default::default()
/// };
/// assert!(!write.is_empty());
/// assert!(ActorWrite::default().is_empty());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ActorWrite {
    /// New encoded state, if it changed.
    pub state: Option<Vec<u8>>,
    /// Set the record's `created` flag.
    pub mark_created: bool,
    /// Key/value rows to insert or overwrite.
    pub kv_put: Vec<(Vec<u8>, Vec<u8>)>,
    /// Keys to delete.
    pub kv_delete: Vec<Vec<u8>>,
    /// Prefixes whose keys are all deleted (an empty prefix deletes every row of the actor).
    pub kv_delete_prefix: Vec<Vec<u8>>,
    /// Ranges `[start, end)` whose keys are all deleted.
    pub kv_delete_range: Vec<(Vec<u8>, Vec<u8>)>,
}

impl ActorWrite {
    /// Folds `next` into this write: committing the result changes storage exactly as
    /// committing this write and then `next` would. Every backend applies a write's prefix
    /// and range deletes, then its deletes, then its puts, so the merged write keeps each key
    /// in at most one of `kv_delete` / `kv_put` (its last operation) and drops puts that a
    /// later prefix or range delete removes.
    ///
    /// ```
    /// use rivet_actor::storage::ActorWrite;
    ///
    /// let mut write = ActorWrite {
    ///     state: Some(b"1".to_vec()),
    ///     kv_put: vec![(b"a".to_vec(), b"x".to_vec())],
    ///     ..Default::default()
    /// };
    /// write.then(ActorWrite {
    ///     state: Some(b"2".to_vec()),
    ///     kv_delete: vec![b"a".to_vec()],
    ///     ..Default::default()
    /// });
    /// assert_eq!(write.state.as_deref(), Some(&b"2"[..]));
    /// assert!(write.kv_put.is_empty());
    /// assert_eq!(write.kv_delete, vec![b"a".to_vec()]);
    /// ```
    pub fn then(&mut self, next: ActorWrite) {
        if next.state.is_some() {
            self.state = next.state;
        }
        self.mark_created |= next.mark_created;
        for prefix in next.kv_delete_prefix {
            self.kv_put.retain(|(key, _)| !key.starts_with(&prefix));
            self.kv_delete.retain(|key| !key.starts_with(&prefix));
            self.kv_delete_prefix.push(prefix);
        }
        for (start, end) in next.kv_delete_range {
            let inside = |key: &[u8]| key >= start.as_slice() && key < end.as_slice();
            self.kv_put.retain(|(key, _)| !inside(key));
            self.kv_delete.retain(|key| !inside(key));
            self.kv_delete_range.push((start, end));
        }
        if !next.kv_delete.is_empty() {
            let deleted: HashSet<&[u8]> = next.kv_delete.iter().map(Vec::as_slice).collect();
            self.kv_put
                .retain(|(key, _)| !deleted.contains(key.as_slice()));
            let known: HashSet<Vec<u8>> = self.kv_delete.iter().cloned().collect();
            self.kv_delete
                .extend(next.kv_delete.into_iter().filter(|k| !known.contains(k)));
        }
        if !next.kv_put.is_empty() {
            let put: HashSet<&[u8]> = next.kv_put.iter().map(|(k, _)| k.as_slice()).collect();
            self.kv_delete.retain(|key| !put.contains(key.as_slice()));
            self.kv_put.retain(|(key, _)| !put.contains(key.as_slice()));
            self.kv_put.extend(next.kv_put);
        }
    }

    /// Whether this write changes nothing (the runtime does not commit such writes).
    pub fn is_empty(&self) -> bool {
        self.state.is_none()
            && !self.mark_created
            && self.kv_put.is_empty()
            && self.kv_delete.is_empty()
            && self.kv_delete_prefix.is_empty()
            && self.kv_delete_range.is_empty()
    }

    /// How many row operations this write carries (a prefix or range delete counts once).
    pub fn row_ops(&self) -> usize {
        self.kv_put.len()
            + self.kv_delete.len()
            + self.kv_delete_prefix.len()
            + self.kv_delete_range.len()
    }
}

/// A range read of one actor's key/value rows: keys in `[start, end)` (no `end`: to the
/// last key), in key order or reversed, at most `limit` rows and none past the one that
/// brings them to `max_bytes`.
///
/// ```
/// use rivet_actor::storage::{ActorRecord, ActorWrite, KvScan, MemoryStorage, Storage};
///
/// # #[tokio::main] async fn main() -> rivet_actor::storage::StorageResult<()> {
/// let storage = MemoryStorage::new();
/// storage.insert_actor(ActorRecord {
///     id: "a1".into(), name: "log".into(), key: vec![],
///     input: None, created: true, created_at_ms: 0,
/// }).await?;
/// let rows = (b'a'..=b'e').map(|k| (vec![k], vec![k])).collect();
/// storage.commit("a1", ActorWrite { kv_put: rows, ..Default::default() }).await?;
///
/// let scan = KvScan {
///     start: b"b".to_vec(), end: Some(b"e".to_vec()), limit: 2, reverse: true,
///     max_bytes: usize::MAX,
/// };
/// let keys: Vec<Vec<u8>> = storage.kv_range("a1", &scan).await?.into_iter().map(|r| r.0).collect();
/// assert_eq!(keys, [b"d".to_vec(), b"c".to_vec()]);
/// // Each row is two bytes: a bound of three stops after the second.
/// let small = KvScan { start: vec![], end: None, limit: 10, reverse: false, max_bytes: 3 };
/// assert_eq!(storage.kv_range("a1", &small).await?.len(), 2);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KvScan {
    /// The first key that may be returned.
    pub start: Vec<u8>,
    /// Keys from here on are not returned; `None`: no upper bound.
    pub end: Option<Vec<u8>>,
    /// At most this many rows.
    pub limit: usize,
    /// Largest key first.
    pub reverse: bool,
    /// Stop after the row that brings the keys and values returned to this many bytes (a
    /// scan that finds any row returns at least one).
    pub max_bytes: usize,
}

impl KvScan {
    /// The first rows of `rows` (in scan order) this scan returns: at most `limit`, and none
    /// past the row that reaches `max_bytes`. Lazy: rows past the cut are never produced.
    ///
    /// ```
    /// use rivet_actor::storage::KvScan;
    ///
    /// let scan = KvScan { start: vec![], end: None, limit: 10, reverse: false, max_bytes: 5 };
    /// let rows = (0..4u8).map(|k| (vec![k], vec![k, k])); // three bytes each
    /// let taken = scan.take(rows);
    /// assert_eq!(taken.len(), 2); // the second row reaches 5 bytes
    /// assert!(scan.full_in_bytes(&taken));
    /// ```
    pub fn take(&self, rows: impl Iterator<Item = KvPair>) -> Vec<KvPair> {
        let mut bytes = 0usize;
        let mut taken = Vec::new();
        for row in rows.take(self.limit) {
            if !taken.is_empty() && bytes >= self.max_bytes {
                break;
            }
            bytes = bytes.saturating_add(row.0.len() + row.1.len());
            taken.push(row);
        }
        taken
    }

    /// Whether `rows`, a page this scan returned, may have been cut for its bytes: if so, it
    /// does not show that the range ended (see [`KvScan::take`] for an example).
    pub fn full_in_bytes(&self, rows: &[KvPair]) -> bool {
        let bytes = rows
            .iter()
            .fold(0usize, |sum, (k, v)| sum.saturating_add(k.len() + v.len()));
        bytes >= self.max_bytes
    }

    /// Whether `key` lies in the scanned range.
    pub fn contains(&self, key: &[u8]) -> bool {
        key >= self.start.as_slice() && self.end.as_deref().is_none_or(|end| key < end)
    }
}
