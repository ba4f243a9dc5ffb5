//! How one actor's data sits in the engine's actor KV, within its limits (128 keys and
//! 976 KiB per put, 128 KiB values, 2 KiB keys; one put is one transaction).
//!
//! - `[0x01]`: the meta row — format, `created`, and which version of the state is current
//!   (its number of chunks and length).
//! - `[0x02] ++ version (u64 BE) ++ index (u32 BE)`: the state, CBOR, in chunks of at most
//!   [`STATE_CHUNK`] bytes. A new state is written under the next version; the meta row
//!   switching to it is the commit point, so a state of any size commits atomically.
//! - `[0x03] ++ index (u32 BE)`: the journal of a write too large for one put
//!   (`journal.rs`), in pages of at most [`STATE_CHUNK`] bytes: read only while the meta
//!   row names it.
//! - `[0x04] ++ key`: the runtime's key/value rows (queue messages, schedules). Values carry
//!   a leading byte: `1` live, `0` deleted. A delete is written as a `0` row in the commit's
//!   put (deletes are separate requests in the engine, so they would not be atomic with it)
//!   and removed for real once that put has committed.
//!
//! Prefix `0x08` is left alone: the engine probes it for SQLite data.

/// At most this many keys in one put or get.
pub(crate) const MAX_KEYS: usize = 128;
/// A put's keys and values together stay under this (the engine allows 976 KiB).
pub(crate) const MAX_PUT_BYTES: usize = 900 * 1024;
/// The engine's largest value.
pub(crate) const MAX_VALUE: usize = 128 * 1024;
/// The engine's largest key.
pub(crate) const MAX_KEY: usize = 2048;
/// State chunks are this large (the last one smaller).
pub(crate) const STATE_CHUNK: usize = 120 * 1024;

const META: u8 = 0x01;
const STATE: u8 = 0x02;
const JOURNAL: u8 = 0x03;
const ROW: u8 = 0x04;
const META_FORMAT: u8 = 1;
const LIVE: u8 = 1;
const DELETED: u8 = 0;

/// The meta row's key.
pub(crate) fn meta_key() -> Vec<u8> {
    vec![META]
}

/// What the meta row says.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Meta {
    /// `on_create` has completed (it runs once per actor, whichever host wakes it).
    pub(crate) created: bool,
    /// The current state's version; 0 means no state was ever committed.
    pub(crate) version: u64,
    /// How many chunks it has.
    pub(crate) chunks: u32,
    /// How many pages the journal of a committed write not yet applied has (0: none).
    pub(crate) journal: u32,
}

impl Meta {
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = vec![META_FORMAT, u8::from(self.created)];
        out.extend_from_slice(&self.version.to_be_bytes());
        out.extend_from_slice(&self.chunks.to_be_bytes());
        // Only when there is one: a row without a journal reads as before it existed.
        if self.journal > 0 {
            out.extend_from_slice(&self.journal.to_be_bytes());
        }
        out
    }

    /// `None` for a row this build did not write.
    pub(crate) fn decode(bytes: &[u8]) -> Option<Meta> {
        let [META_FORMAT, created, rest @ ..] = bytes else {
            return None;
        };
        let version = u64::from_be_bytes(rest.get(..8)?.try_into().ok()?);
        let chunks = u32::from_be_bytes(rest.get(8..12)?.try_into().ok()?);
        let journal = match rest.get(12..16) {
            Some(pages) => u32::from_be_bytes(pages.try_into().ok()?),
            None => 0,
        };
        Some(Meta {
            created: *created == 1,
            version,
            chunks,
            journal,
        })
    }
}

/// The key of chunk `index` of state `version`.
pub(crate) fn state_key(version: u64, index: u32) -> Vec<u8> {
    let mut key = vec![STATE];
    key.extend_from_slice(&version.to_be_bytes());
    key.extend_from_slice(&index.to_be_bytes());
    key
}

/// The range `[start, end)` holding every chunk of state `version`.
pub(crate) fn state_range(version: u64) -> (Vec<u8>, Vec<u8>) {
    (state_key(version, 0), state_key(version + 1, 0))
}

/// The chunks of an encoded state, keyed for `version`.
pub(crate) fn state_chunks(version: u64, state: &[u8]) -> Vec<Entry> {
    state
        .chunks(STATE_CHUNK)
        .enumerate()
        .map(|(index, chunk)| (state_key(version, index as u32), chunk.to_vec()))
        .collect()
}

/// The key of journal page `index`.
pub(crate) fn journal_key(index: u32) -> Vec<u8> {
    let mut key = vec![JOURNAL];
    key.extend_from_slice(&index.to_be_bytes());
    key
}

/// The range `[start, end)` holding every journal page.
pub(crate) fn journal_range() -> (Vec<u8>, Vec<u8>) {
    (vec![JOURNAL], vec![JOURNAL + 1])
}

/// The engine range `[start, end)` of the runtime rows whose keys start with `prefix`.
pub(crate) fn prefix_range(prefix: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let start = row_key(prefix);
    // The first key after every key with this prefix: its last byte below 0xff raised,
    // the 0xff bytes after it dropped (a prefix of only 0xff ends where the rows end).
    let mut end = start.clone();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return (start, end);
        }
    }
    (start, rows_end())
}

/// The engine key of a runtime row.
pub(crate) fn row_key(key: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(key.len() + 1);
    out.push(ROW);
    out.extend_from_slice(key);
    out
}

/// The engine key after every runtime row (the end of a scan without an upper bound).
pub(crate) fn rows_end() -> Vec<u8> {
    vec![ROW + 1]
}

/// The runtime key of an engine row key (`None` if it is not a row).
pub(crate) fn row_key_of(engine_key: &[u8]) -> Option<&[u8]> {
    engine_key.strip_prefix(&[ROW])
}

/// A live row's stored value.
pub(crate) fn live(value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len() + 1);
    out.push(LIVE);
    out.extend_from_slice(value);
    out
}

/// A deleted row's stored value.
pub(crate) fn deleted() -> Vec<u8> {
    vec![DELETED]
}

/// The value of a stored row, `None` if it was deleted.
pub(crate) fn row_value(stored: &[u8]) -> Option<&[u8]> {
    match stored.split_first() {
        Some((&LIVE, value)) => Some(value),
        _ => None,
    }
}

/// One key/value entry of a put.
pub(crate) type Entry = (Vec<u8>, Vec<u8>);

/// Whether `entries` go in one put: each within the value and key limits, together within
/// the key count and size of a put.
pub(crate) fn fits_one_put<'a>(entries: impl IntoIterator<Item = &'a Entry>) -> bool {
    let (mut keys, mut bytes) = (0, 0);
    for (key, value) in entries {
        if key.len() > MAX_KEY || value.len() > MAX_VALUE {
            return false;
        }
        keys += 1;
        bytes += key.len() + value.len();
    }
    keys <= MAX_KEYS && bytes <= MAX_PUT_BYTES
}

/// Splits entries into puts within the engine's limits, in order. `None` if one entry
/// alone is over a limit.
pub(crate) fn batches(entries: Vec<Entry>) -> Option<Vec<Vec<Entry>>> {
    let mut out = Vec::new();
    let mut batch = Vec::new();
    let mut bytes = 0;
    for (key, value) in entries {
        if key.len() > MAX_KEY || value.len() > MAX_VALUE {
            return None;
        }
        let size = key.len() + value.len();
        if !batch.is_empty() && (batch.len() == MAX_KEYS || bytes + size > MAX_PUT_BYTES) {
            out.push(std::mem::take(&mut batch));
            bytes = 0;
        }
        bytes += size;
        batch.push((key, value));
    }
    if !batch.is_empty() {
        out.push(batch);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_round_trips_and_refuses_foreign_rows() {
        let meta = Meta {
            created: true,
            version: 7,
            chunks: 3,
            journal: 0,
        };
        assert_eq!(Meta::decode(&meta.encode()), Some(meta));
        // A row without a journal is as long as before journals existed.
        assert_eq!(meta.encode().len(), 14);
        let journaled = Meta { journal: 5, ..meta };
        assert_eq!(Meta::decode(&journaled.encode()), Some(journaled));
        assert_eq!(Meta::decode(b""), None);
        assert_eq!(Meta::decode(&[9, 1, 0]), None);
    }

    #[test]
    fn state_chunks_stay_under_the_value_limit_and_sort_in_order() {
        let state = vec![7u8; STATE_CHUNK * 2 + 5];
        let chunks = state_chunks(3, &state);
        assert_eq!(chunks.len(), 3);
        assert!(chunks.iter().all(|(_, v)| v.len() <= MAX_VALUE));
        assert!(chunks.windows(2).all(|w| w[0].0 < w[1].0));
        let (start, end) = state_range(3);
        assert!(chunks.iter().all(|(k, _)| *k >= start && *k < end));
        let joined: Vec<u8> = chunks.into_iter().flat_map(|(_, v)| v).collect();
        assert_eq!(joined, state);
    }

    #[test]
    fn a_prefix_range_holds_exactly_the_rows_under_the_prefix() {
        let (start, end) = prefix_range(b"u/");
        for inside in [&b"u/"[..], b"u/a", b"u/\xff\xff"] {
            let key = row_key(inside);
            assert!(key >= start && key < end, "{inside:?}");
        }
        for outside in [&b"u"[..], b"u0", b"v", b"t/zz"] {
            let key = row_key(outside);
            assert!(key < start || key >= end, "{outside:?}");
        }
        assert_eq!(prefix_range(b""), (row_key(b""), rows_end()));
        assert_eq!(prefix_range(b"a\xff").1, row_key(b"b"));
        assert!(journal_key(0) >= journal_range().0 && journal_key(u32::MAX) < journal_range().1);
    }

    #[test]
    fn rows_carry_liveness() {
        assert_eq!(row_value(&live(b"x")), Some(&b"x"[..]));
        assert_eq!(row_value(&live(b"")), Some(&b""[..]));
        assert_eq!(row_value(&deleted()), None);
        assert_eq!(row_key_of(&row_key(b"q/1")), Some(&b"q/1"[..]));
        assert_eq!(row_key_of(&meta_key()), None);
    }

    #[test]
    fn batches_respect_key_count_and_bytes() {
        let many: Vec<_> = (0..300u32)
            .map(|i| (i.to_be_bytes().to_vec(), vec![0u8; 10]))
            .collect();
        let split = batches(many).unwrap();
        assert_eq!(
            split.iter().map(Vec::len).collect::<Vec<_>>(),
            [128, 128, 44]
        );
        let big: Vec<_> = (0..10u32)
            .map(|i| (i.to_be_bytes().to_vec(), vec![0u8; STATE_CHUNK]))
            .collect();
        let split = batches(big).unwrap();
        assert!(
            split
                .iter()
                .all(|b| b.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>() <= MAX_PUT_BYTES)
        );
        assert_eq!(split.iter().map(Vec::len).sum::<usize>(), 10);
        assert!(batches(vec![(vec![0; MAX_KEY + 1], vec![])]).is_none());
        let few = vec![(vec![1], vec![0u8; 10]); MAX_KEYS];
        assert!(fits_one_put(&few));
        assert!(!fits_one_put(few.iter().chain(&few[..1])));
        assert!(!fits_one_put(&vec![(vec![1], vec![0u8; STATE_CHUNK]); 8]));
        assert!(!fits_one_put(&[(vec![1], vec![0u8; MAX_VALUE + 1])]));
        assert!(batches(vec![(vec![0], vec![0; MAX_VALUE + 1])]).is_none());
    }
}
