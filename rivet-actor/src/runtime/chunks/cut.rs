//! Content-defined cut points, and the chunking of a new encoding against the last one.
//!
//! A cut falls where a rolling hash of the 64 bytes before it has its top [`MASK_BITS`] bits
//! clear, at least [`MIN_CHUNK`] after the previous cut (at most [`MAX_CHUNK`]). Because the
//! hash depends only on those 64 bytes, the same content is cut at the same places wherever
//! it moves to: after an insertion or removal the cuts behind it fall where they fell before,
//! so the old chunks there are found again and kept.

use super::{Chunk, Layout};

/// No chunk is shorter than this (except the last).
pub(crate) const MIN_CHUNK: usize = 4 * 1024;
/// No chunk is longer than this: well under any backend's value limit (engine KV: 128 KiB).
pub(crate) const MAX_CHUNK: usize = 64 * 1024;
/// Chunks average `MIN_CHUNK + 2^MASK_BITS` bytes (~12 KiB).
const MASK_BITS: u32 = 13;
const MASK: u64 = !(u64::MAX >> MASK_BITS);
/// Bytes the rolling hash covers (a `u64` shifted once per byte forgets older ones).
const WINDOW: usize = 64;

/// One pseudo-random word per byte value (splitmix64), fixed: stored cuts depend on it.
const GEAR: [u64; 256] = {
    let mut table = [0u64; 256];
    let mut seed: u64 = 0x5276_4163_6875_6e6b;
    let mut i = 0;
    while i < 256 {
        seed = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = seed;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        table[i] = z ^ (z >> 31);
        i += 1;
    }
    table
};

/// The rolling hash of the [`WINDOW`] bytes before `end`.
fn hash_before(data: &[u8], end: usize) -> u64 {
    data[end.saturating_sub(WINDOW)..end]
        .iter()
        .fold(0u64, |hash, &byte| {
            (hash << 1).wrapping_add(GEAR[byte as usize])
        })
}

/// Where the chunk that starts at `start` ends.
pub(crate) fn next_cut(data: &[u8], start: usize) -> usize {
    let end = data.len().min(start + MAX_CHUNK);
    if end - start <= MIN_CHUNK {
        return end;
    }
    // Warm the hash on the window before the first allowed cut, so every cut depends on
    // content only, not on where this chunk started.
    let first = start + MIN_CHUNK;
    let mut hash = hash_before(data, first);
    if hash & MASK == 0 {
        return first;
    }
    for (i, &byte) in data[first..end].iter().enumerate() {
        hash = (hash << 1).wrapping_add(GEAR[byte as usize]);
        if hash & MASK == 0 {
            return first + i + 1;
        }
    }
    end
}

/// Cuts all of `data` into chunks.
pub(crate) fn cut_all(data: &[u8]) -> Vec<std::ops::Range<usize>> {
    let mut spans = Vec::with_capacity(data.len() / (MIN_CHUNK + (1 << MASK_BITS)) + 1);
    let mut start = 0;
    while start < data.len() {
        let end = next_cut(data, start);
        spans.push(start..end);
        start = end;
    }
    spans
}

/// The chunks of `new`, reusing the old layout's chunks (of `old`) wherever their bytes are
/// found again in order, and where the new ones fall (`fresh`: index into the returned
/// chunks and the span of `new` they hold).
pub(crate) struct Plan {
    pub(crate) chunks: Vec<Chunk>,
    pub(crate) fresh: Vec<(usize, std::ops::Range<usize>)>,
    /// Old chunks kept, by index into the old layout.
    pub(crate) kept: Vec<bool>,
    /// The id the next new chunk gets.
    pub(crate) next_id: u64,
}

/// Chunks `new` against `layout` (the chunks of `old`). Walks both encodings in step while
/// they agree (whole old chunks kept: a memory comparison); where they differ, cuts new
/// chunks from the last shared cut on, and after each new cut looks for an old chunk that
/// starts with the same 64 bytes before it and holds the same bytes after it — the cut
/// points are content-defined, so after a change the cuts resynchronise with the old ones.
/// Old chunks are only reused in order, each once.
pub(crate) fn plan(layout: &Layout, old: &[u8], new: &[u8]) -> Plan {
    let starts = layout.starts();
    let count = layout.chunks.len();
    let mut plan = Plan {
        chunks: Vec::with_capacity(count + 4),
        fresh: Vec::new(),
        kept: vec![false; count],
        next_id: layout.next_id,
    };
    // Where each old chunk (but the first) starts, by the hash of the bytes before it.
    let mut by_context: Option<Vec<(u64, usize)>> = None;
    // The old chunk expected at `pos` while the two agree.
    let mut aligned = Some(0usize);
    // Old chunks before this one are behind us (kept or dropped).
    let mut next_old = 0usize;
    let mut pos = 0usize;
    // Whether old chunk `j` can stand at `pos` of `new`: same bytes, and it is not the old
    // last chunk continued (its end was the end of the data, not a cut: reusing it would
    // leave a short chunk behind every append).
    let fits = |j: usize, pos: usize| {
        let (start, len) = (starts[j], layout.chunks[j].len as usize);
        pos + len <= new.len()
            && new[pos..pos + len] == old[start..start + len]
            && (j + 1 < count || pos + len == new.len())
    };
    while pos < new.len() {
        if let Some(j) = aligned.filter(|&j| j < count && fits(j, pos)) {
            plan.chunks.push(layout.chunks[j]);
            plan.kept[j] = true;
            pos += layout.chunks[j].len as usize;
            next_old = j + 1;
            aligned = Some(j + 1);
            continue;
        }
        aligned = None;
        let end = next_cut(new, pos);
        plan.fresh.push((plan.chunks.len(), pos..end));
        plan.chunks.push(Chunk {
            id: plan.next_id,
            len: (end - pos) as u32,
        });
        plan.next_id += 1;
        pos = end;
        if pos == new.len() || next_old >= count {
            continue;
        }
        let index = by_context.get_or_insert_with(|| {
            let mut index: Vec<(u64, usize)> = (1..count)
                .map(|j| (hash_before(old, starts[j]), j))
                .collect();
            index.sort_unstable();
            index
        });
        let context = hash_before(new, pos);
        let first = index.partition_point(|&(hash, _)| hash < context);
        aligned = index[first..]
            .iter()
            .take_while(|&&(hash, _)| hash == context)
            .map(|&(_, j)| j)
            .find(|&j| j >= next_old && fits(j, pos));
    }
    plan.chunks.shrink_to_fit();
    plan
}
