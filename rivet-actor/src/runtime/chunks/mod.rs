//! Commits that follow the change: how a large state is stored as chunks, so a turn that
//! changes a little of it writes about that much.
//!
//! A state whose encoding is at most [`WHOLE_MAX`] bytes is stored whole, as it always was
//! (the storage's state value). A larger one is cut into content-defined chunks (see
//! [`cut`]), each a key/value row `c/<id, 8 bytes big-endian>` of the actor, and the state
//! value becomes a manifest: [`MAGIC`], the next chunk id, then each chunk's id and length in
//! order (LEB128). After a turn the new encoding is chunked against the last one: chunks
//! whose bytes are found again are kept by id, only new chunks are written, and chunks no
//! longer used are deleted — in the same write as the manifest, so the state still commits
//! atomically and merges like any other write (ids are never reused).
//!
//! A manifest cannot be mistaken for a whole state: `0xFF` (CBOR's "break") never starts
//! an encoded value.

pub(crate) mod cut;
mod patch;

use crate::value::diff::Diff;

/// Where the chunk rows live among the actor's key/value rows.
pub(crate) const PREFIX: &[u8] = b"c/";
/// States up to this size are stored whole; a chunked state that shrinks below half of it
/// goes back to whole (so a state near the line does not switch on every turn).
pub(crate) const WHOLE_MAX: usize = 64 * 1024;
/// The first bytes of a manifest.
const MAGIC: [u8; 4] = [0xFF, b'r', b'c', 1];

/// One stored chunk: its id (its row's key) and length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Chunk {
    pub(crate) id: u64,
    pub(crate) len: u32,
}

/// How a chunked state is stored: its chunks in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Layout {
    pub(crate) next_id: u64,
    pub(crate) chunks: Vec<Chunk>,
}

/// What a changed state writes: the state value (whole, or a manifest), chunk rows to put
/// and delete, and how the state is stored afterwards (`None`: whole).
#[derive(Debug)]
pub(crate) struct StateWrite {
    pub(crate) value: Vec<u8>,
    pub(crate) put: Vec<(Vec<u8>, Vec<u8>)>,
    pub(crate) delete: Vec<Vec<u8>>,
    pub(crate) layout: Option<Box<Layout>>,
}

/// The key of chunk `id`.
pub(super) fn chunk_key(id: u64) -> Vec<u8> {
    let mut key = Vec::with_capacity(PREFIX.len() + 8);
    key.extend_from_slice(PREFIX);
    key.extend_from_slice(&id.to_be_bytes());
    key
}

/// What storing `new` writes, given what is stored: `old` stored as `layout` (`None`: whole).
/// `None` when `new` is `old`. `chunking`: whether the storage takes chunk rows (otherwise
/// every state is stored whole).
pub(crate) fn write_for(
    layout: Option<&Layout>,
    old: &[u8],
    new: &[u8],
    chunking: bool,
) -> Option<StateWrite> {
    let whole = |delete: Vec<Vec<u8>>| StateWrite {
        value: new.to_vec(),
        put: Vec::new(),
        delete,
        layout: None,
    };
    match layout {
        None if new == old => None,
        None if !chunking || new.len() <= WHOLE_MAX => Some(whole(Vec::new())),
        None => Some(chunk_whole(new)),
        Some(layout) if !chunking || new.len() <= WHOLE_MAX / 2 => {
            (new != old).then(|| whole(layout.chunks.iter().map(|c| chunk_key(c.id)).collect()))
        }
        Some(layout) => {
            let plan = cut::plan(layout, old, new);
            if plan.fresh.is_empty() && new.len() == old.len() {
                return None;
            }
            let delete = layout
                .chunks
                .iter()
                .zip(&plan.kept)
                .filter(|(_, kept)| !**kept)
                .map(|(chunk, _)| chunk_key(chunk.id))
                .collect();
            let put = plan
                .fresh
                .iter()
                .map(|(i, span)| (chunk_key(plan.chunks[*i].id), new[span.clone()].to_vec()))
                .collect();
            let layout = Layout {
                next_id: plan.next_id,
                chunks: plan.chunks,
            };
            Some(StateWrite {
                value: layout.manifest(),
                put,
                delete,
                layout: Some(Box::new(layout)),
            })
        }
    }
}

/// What storing a chunked state writes when its new encoding is `diff` against `old` (stored
/// as `layout`); `None` when it is the same. A [`Diff::Whole`] is chunked against `old`
/// like any new encoding.
pub(crate) fn write_for_diff(
    layout: &Layout,
    old: &[u8],
    diff: &Diff,
    chunking: bool,
) -> Option<StateWrite> {
    match diff {
        Diff::Same => None,
        Diff::Whole(new) => write_for(Some(layout), old, new, chunking),
        Diff::Patched {
            patches,
            kept,
            tail,
        } => {
            if chunking && kept + tail.len() > WHOLE_MAX / 2 {
                return Some(patch::write_for_patched(layout, old, patches, *kept, tail));
            }
            // Small again, or a storage without chunks: the new encoding whole.
            let mut new = old.to_vec();
            crate::value::diff::patch(&mut new, patches, *kept, tail);
            write_for(Some(layout), old, &new, chunking)
        }
    }
}

/// A state stored whole until now, chunked from scratch.
fn chunk_whole(new: &[u8]) -> StateWrite {
    let spans = cut::cut_all(new);
    let layout = Layout {
        next_id: spans.len() as u64,
        chunks: spans
            .iter()
            .enumerate()
            .map(|(id, span)| Chunk {
                id: id as u64,
                len: span.len() as u32,
            })
            .collect(),
    };
    StateWrite {
        value: layout.manifest(),
        put: spans
            .into_iter()
            .enumerate()
            .map(|(id, span)| (chunk_key(id as u64), new[span].to_vec()))
            .collect(),
        delete: Vec::new(),
        layout: Some(Box::new(layout)),
    }
}

/// The stored state value and the actor's chunk rows (key order) as the encoded state and
/// how it is stored. Fails (naming what is wrong) if a manifest does not parse or a chunk
/// it names is missing or of another length.
pub(crate) fn assemble(
    value: Vec<u8>,
    rows: &[(Vec<u8>, Vec<u8>)],
) -> Result<(Vec<u8>, Option<Box<Layout>>), String> {
    if !value.starts_with(&MAGIC) {
        return Ok((value, None));
    }
    let layout = Layout::parse(&value[MAGIC.len()..]).ok_or("the state's manifest is malformed")?;
    let total: usize = layout.chunks.iter().map(|c| c.len as usize).sum();
    let mut state = Vec::with_capacity(total);
    for chunk in &layout.chunks {
        let key = chunk_key(chunk.id);
        let row = rows
            .binary_search_by(|(k, _)| k.as_slice().cmp(&key))
            .map_err(|_| format!("chunk {} of the state is missing", chunk.id))?;
        let bytes = &rows[row].1;
        if bytes.len() != chunk.len as usize {
            return Err(format!(
                "chunk {} of the state has the wrong length",
                chunk.id
            ));
        }
        state.extend_from_slice(bytes);
    }
    Ok((state, Some(Box::new(layout))))
}

impl Layout {
    /// Where each chunk starts in the encoding.
    pub(super) fn starts(&self) -> Vec<usize> {
        self.chunks
            .iter()
            .scan(0usize, |at, chunk| {
                let start = *at;
                *at += chunk.len as usize;
                Some(start)
            })
            .collect()
    }

    /// The state value that stands for this layout.
    pub(super) fn manifest(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(MAGIC.len() + 10 + self.chunks.len() * 5);
        out.extend_from_slice(&MAGIC);
        put_varint(&mut out, self.next_id);
        put_varint(&mut out, self.chunks.len() as u64);
        for chunk in &self.chunks {
            put_varint(&mut out, chunk.id);
            put_varint(&mut out, u64::from(chunk.len));
        }
        out
    }

    fn parse(mut bytes: &[u8]) -> Option<Layout> {
        let next_id = take_varint(&mut bytes)?;
        let count = usize::try_from(take_varint(&mut bytes)?).ok()?;
        // Each entry takes at least two bytes: a bogus count cannot allocate much.
        let mut chunks = Vec::with_capacity(count.min(bytes.len() / 2));
        for _ in 0..count {
            let id = take_varint(&mut bytes)?;
            let len = u32::try_from(take_varint(&mut bytes)?).ok()?;
            if id >= next_id {
                return None;
            }
            chunks.push(Chunk { id, len });
        }
        bytes.is_empty().then_some(Layout { next_id, chunks })
    }
}

fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push(value as u8 | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn take_varint(bytes: &mut &[u8]) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let (&byte, rest) = bytes.split_first()?;
        *bytes = rest;
        value |= u64::from(byte & 0x7F).checked_shl(shift)?;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

#[cfg(test)]
mod tests;
