//! What a chunked state writes when its new encoding is described as a patch of the last
//! one (`value::diff`): no comparison of chunks is needed, the patch says what changed.

use std::collections::HashSet;

use super::cut::next_cut;
use super::{Chunk, Layout, StateWrite, chunk_key};

/// The write of the encoding `old` (stored as `layout`) with `patches` (same-length
/// replacements, in offset order) applied, cut to `kept` bytes and `tail` appended.
///
/// Chunks no patch touches and that end before the cut are kept; a touched chunk is
/// rewritten with the same bounds; from the chunk holding the cut on — the last chunk, when
/// the encoding grows, since its end was the end of the data rather than a cut — the bytes
/// are cut afresh.
pub(crate) fn write_for_patched(
    layout: &Layout,
    old: &[u8],
    patches: &[(usize, Vec<u8>)],
    kept: usize,
    tail: &[u8],
) -> StateWrite {
    let starts = layout.starts();
    let count = layout.chunks.len();
    let recut = if kept == old.len() {
        if tail.is_empty() {
            count
        } else {
            count.saturating_sub(1)
        }
    } else {
        starts
            .partition_point(|&start| start <= kept)
            .saturating_sub(1)
    };
    let new_len = kept + tail.len();
    let mut next_id = layout.next_id;
    let mut chunks = Vec::with_capacity(recut + 8);
    let mut put = Vec::new();
    let mut next_patch = 0;
    for (j, chunk) in layout.chunks[..recut].iter().enumerate() {
        let (start, end) = (starts[j], starts[j] + chunk.len as usize);
        let (content, touched) = patched(old, start, end, patches, &mut next_patch);
        if touched {
            put.push((chunk_key(next_id), content.unwrap_or_default()));
            chunks.push(Chunk {
                id: next_id,
                len: chunk.len,
            });
            next_id += 1;
        } else {
            chunks.push(*chunk);
        }
    }
    let region_start = starts.get(recut).copied().unwrap_or(old.len()).min(kept);
    let (region, _) = patched(old, region_start, kept, patches, &mut next_patch);
    let mut region = region.unwrap_or_else(|| old[region_start..kept].to_vec());
    region.extend_from_slice(tail);
    let mut at = 0;
    while at < region.len() {
        let end = next_cut(&region, at);
        put.push((chunk_key(next_id), region[at..end].to_vec()));
        chunks.push(Chunk {
            id: next_id,
            len: (end - at) as u32,
        });
        next_id += 1;
        at = end;
    }
    debug_assert_eq!(
        chunks.iter().map(|c| c.len as usize).sum::<usize>(),
        new_len
    );
    let used: HashSet<u64> = chunks.iter().map(|c| c.id).collect();
    let delete = layout
        .chunks
        .iter()
        .filter(|c| !used.contains(&c.id))
        .map(|c| chunk_key(c.id))
        .collect();
    let layout = Layout { next_id, chunks };
    StateWrite {
        value: layout.manifest(),
        put,
        delete,
        layout: Some(Box::new(layout)),
    }
}

/// `old[start..end]` with the patches that overlap it applied (`None` and `false` when none
/// does). `next` is the first patch that may overlap; patches wholly before `end` are
/// passed.
fn patched(
    old: &[u8],
    start: usize,
    end: usize,
    patches: &[(usize, Vec<u8>)],
    next: &mut usize,
) -> (Option<Vec<u8>>, bool) {
    while *next < patches.len() && patches[*next].0 + patches[*next].1.len() <= start {
        *next += 1;
    }
    let mut content: Option<Vec<u8>> = None;
    let mut p = *next;
    while p < patches.len() && patches[p].0 < end {
        let (at, bytes) = (&patches[p].0, &patches[p].1);
        let content = content.get_or_insert_with(|| old[start..end].to_vec());
        let from = (*at).max(start);
        let to = (at + bytes.len()).min(end);
        content[from - start..to - start].copy_from_slice(&bytes[from - at..to - at]);
        if at + bytes.len() <= end {
            p += 1;
            *next = p;
        } else {
            break;
        }
    }
    let touched = content.is_some();
    (content, touched)
}
