//! Chunked states: what is written round-trips, and what a change writes follows the change.

use std::collections::BTreeMap;

use super::cut::{MAX_CHUNK, MIN_CHUNK, cut_all};
use super::*;
use crate::value::diff::Diff;

/// A stored actor: its state value and chunk rows, and what the runtime keeps in memory.
#[derive(Default)]
struct Stored {
    value: Vec<u8>,
    rows: BTreeMap<Vec<u8>, Vec<u8>>,
    saved: Vec<u8>,
    layout: Option<Box<Layout>>,
}

impl Stored {
    /// Stores `new`; the bytes of chunk rows written.
    fn store(&mut self, new: &[u8]) -> usize {
        let Some(write) = write_for(self.layout.as_deref(), &self.saved, new, true) else {
            assert_eq!(
                new,
                self.saved.as_slice(),
                "only an unchanged state writes nothing"
            );
            return 0;
        };
        for key in &write.delete {
            assert!(
                self.rows.remove(key).is_some(),
                "deletes only stored chunks"
            );
        }
        let mut written = 0;
        for (key, value) in write.put {
            written += value.len();
            assert!(value.len() <= MAX_CHUNK);
            assert!(
                self.rows.insert(key, value).is_none(),
                "chunk ids are never reused"
            );
        }
        self.took(write.value, write.layout, new);
        written
    }

    /// The write of `new` was applied: keep what the runtime keeps, and check that a wake
    /// reads back what was stored, with the same layout and no chunk row left behind.
    fn took(&mut self, value: Vec<u8>, layout: Option<Box<Layout>>, new: &[u8]) {
        self.value = value;
        self.layout = layout;
        self.saved = new.to_vec();
        let rows: Vec<_> = self.rows.clone().into_iter().collect();
        let (state, layout) = assemble(self.value.clone(), &rows).expect("assembles");
        assert_eq!(state, new);
        assert_eq!(layout, self.layout);
        let used = self.layout.as_ref().map_or(0, |l| l.chunks.len());
        assert_eq!(self.rows.len(), used, "no chunk row is left behind");
    }
}

impl Stored {
    /// Stores the encoding `diff` makes of the stored one; the bytes of chunk rows written.
    fn store_diff(&mut self, diff: Diff) -> usize {
        let mut new = self.saved.clone();
        let layout = self.layout.clone().expect("chunked");
        let write = write_for_diff(&layout, &self.saved, &diff, true);
        diff.apply(&mut new);
        let Some(write) = write else {
            assert_eq!(new, self.saved);
            return 0;
        };
        for key in &write.delete {
            assert!(
                self.rows.remove(key).is_some(),
                "deletes only stored chunks"
            );
        }
        let written = write.put.iter().map(|(_, v)| v.len()).sum();
        for (key, value) in write.put {
            assert!(
                self.rows.insert(key, value).is_none(),
                "chunk ids are never reused"
            );
        }
        self.took(write.value, write.layout, &new);
        written
    }
}

/// Bytes that do not repeat (an xorshift stream).
fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2).wrapping_add(1);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

#[test]
fn small_states_are_stored_whole_and_unchanged_ones_write_nothing() {
    let mut stored = Stored::default();
    stored.store(b"small");
    assert_eq!(stored.value, b"small");
    assert!(stored.layout.is_none() && stored.rows.is_empty());
    assert!(write_for(None, b"small", b"small", true).is_none());
}

#[test]
fn a_large_state_is_chunked_and_goes_back_to_whole_when_it_shrinks() {
    let mut stored = Stored::default();
    let big = noise(1, 1 << 20);
    assert_eq!(stored.store(&big), big.len());
    assert!(stored.value.starts_with(&MAGIC));
    let chunks = stored.layout.as_ref().unwrap().chunks.len();
    assert!((40..200).contains(&chunks), "~12 KiB chunks: {chunks}");
    assert_eq!(stored.store(&big), 0, "unchanged");
    stored.store(b"tiny again");
    assert_eq!(stored.value, b"tiny again");
    assert!(stored.rows.is_empty());
}

#[test]
fn without_chunking_every_state_is_whole() {
    let big = noise(2, 1 << 20);
    let write = write_for(None, b"", &big, false).unwrap();
    assert_eq!(write.value, big);
    assert!(write.layout.is_none() && write.put.is_empty());
}

#[test]
fn cuts_depend_on_content_not_position() {
    let data = noise(3, 1 << 20);
    let cuts: Vec<usize> = cut_all(&data).iter().map(|s| s.end).collect();
    let mut shifted = noise(4, 1000);
    shifted.extend_from_slice(&data);
    let moved: Vec<usize> = cut_all(&shifted).iter().map(|s| s.end - 1000).collect();
    // After the first few chunks, the cuts of the moved data fall where they fell.
    let shared = cuts.iter().filter(|c| moved.contains(c)).count();
    assert!(
        shared + 3 >= cuts.len(),
        "{shared} of {} cuts kept",
        cuts.len()
    );
    for span in cut_all(&data) {
        assert!(span.len() >= MIN_CHUNK || span.end == data.len());
        assert!(span.len() <= MAX_CHUNK);
    }
}

#[test]
fn an_append_writes_about_what_was_appended() {
    let mut stored = Stored::default();
    // A CBOR-like array: a count at the front that changes with every append.
    let mut items: Vec<Vec<u8>> = (0..200).map(|i| noise(10 + i, 60_000)).collect();
    let encode = |items: &[Vec<u8>]| {
        let mut out = (items.len() as u32).to_be_bytes().to_vec();
        items.iter().for_each(|item| out.extend_from_slice(item));
        out
    };
    stored.store(&encode(&items));
    for i in 0..20 {
        items.push(noise(1000 + i, 60_000));
        let written = stored.store(&encode(&items));
        assert!(
            written < 60_000 + 3 * MAX_CHUNK,
            "appending 60 KB to 12 MB wrote {written} bytes"
        );
    }
}

#[test]
fn a_removal_or_insertion_in_the_middle_writes_about_what_changed() {
    let mut stored = Stored::default();
    let mut state = noise(5, 4 << 20);
    stored.store(&state);
    // Drop the first 1,000 bytes (a bounded history dropping its oldest entry).
    state.drain(..1000);
    let written = stored.store(&state);
    assert!(
        written < 3 * MAX_CHUNK,
        "removal at the front wrote {written}"
    );
    // Insert in the middle, then change one byte near the end.
    let middle = state.len() / 2;
    state.splice(middle..middle, noise(6, 5000));
    let written = stored.store(&state);
    assert!(written < 5000 + 3 * MAX_CHUNK, "insertion wrote {written}");
    let near_end = state.len() - 100;
    state[near_end] ^= 0xFF;
    let written = stored.store(&state);
    assert!(written < 2 * MAX_CHUNK, "one byte wrote {written}");
}

#[test]
fn random_edits_round_trip() {
    let mut stored = Stored::default();
    let mut state = noise(7, 300_000);
    let mut rng = 0x1234_5678_u64;
    let mut next = |bound: usize| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        (rng % bound.max(1) as u64) as usize
    };
    for round in 0..300 {
        match next(6) {
            0 => state.extend(noise(round, next(70_000))),
            1 => {
                let at = next(state.len());
                state.splice(at..at, noise(round + 99, next(20_000)));
            }
            2 => {
                let at = next(state.len());
                let end = (at + next(30_000)).min(state.len());
                state.drain(at..end);
            }
            3 => {
                let at = next(state.len());
                state[at] = state[at].wrapping_add(1);
            }
            // Repeated content: cuts (and contexts) that occur more than once.
            4 => {
                let copy = state[..state.len().min(20_000)].to_vec();
                state.extend(copy);
            }
            _ => state.truncate(next(state.len() + 1).max(state.len() * 3 / 4)),
        }
        stored.store(&state);
    }
}

#[test]
fn malformed_manifests_and_missing_chunks_are_refused() {
    let mut stored = Stored::default();
    stored.store(&noise(8, 200_000));
    let rows: Vec<_> = stored.rows.clone().into_iter().collect();
    assert!(assemble(stored.value.clone(), &rows[1..]).is_err());
    let mut truncated = stored.value.clone();
    truncated.pop();
    assert!(assemble(truncated, &rows).is_err());
    let mut bogus = MAGIC.to_vec();
    bogus.extend_from_slice(&[0xFF; 12]);
    assert!(assemble(bogus, &rows).is_err());
}

#[test]
fn a_patch_writes_the_chunks_it_touches_and_the_new_end() {
    let mut stored = Stored::default();
    stored.store(&noise(20, 1 << 20));
    // One byte in the middle: one chunk, same bounds.
    let written = stored.store_diff(Diff::Patched {
        patches: vec![(500_000, vec![1])],
        kept: 1 << 20,
        tail: Vec::new(),
    });
    assert!(written <= MAX_CHUNK, "{written}");
    // An append: the last chunk and the tail.
    let written = stored.store_diff(Diff::Patched {
        patches: vec![(3, vec![9, 9])],
        kept: 1 << 20,
        tail: noise(21, 60_000),
    });
    assert!(written < 60_000 + 3 * MAX_CHUNK, "{written}");
    // A truncation.
    let len = stored.saved.len();
    stored.store_diff(Diff::Patched {
        patches: Vec::new(),
        kept: len - 100_000,
        tail: Vec::new(),
    });
    assert_eq!(stored.store_diff(Diff::Same), 0);
}

#[test]
fn random_patches_round_trip() {
    let mut stored = Stored::default();
    stored.store(&noise(30, 400_000));
    let mut rng = 0xABCD_u64;
    let mut next = |bound: usize| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        (rng % bound.max(1) as u64) as usize
    };
    for round in 0..300 {
        let len = stored.saved.len();
        let mut patches: Vec<(usize, Vec<u8>)> = Vec::new();
        let mut at = 0;
        for _ in 0..next(5) {
            at += next(len / 4);
            let size = next(70_000).min(len.saturating_sub(at));
            if size == 0 {
                break;
            }
            patches.push((at, noise(round * 7 + at as u64, size)));
            at += size + 1;
        }
        let kept = match next(3) {
            0 => len - next(len / 3).min(len),
            _ => len,
        };
        patches.retain(|(at, bytes)| at + bytes.len() <= kept);
        let tail = if kept == len && next(2) == 0 {
            noise(round, next(90_000))
        } else {
            Vec::new()
        };
        stored.store_diff(Diff::Patched {
            patches,
            kept,
            tail,
        });
    }
}
