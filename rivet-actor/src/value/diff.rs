//! Encoding a large state against its last encoding: bytes that match are compared, not
//! copied, and a [`Frozen`](crate::frozen::Frozen) value found where it was last time is
//! skipped without being looked at.
//!
//! The encoder (ciborium) writes into [`SessionWriter`], which compares what it is given
//! with the last encoding at the same offset and keeps only the differences: same-length
//! replacements (`patches`) and what goes past the old end (`tail`). An insertion or removal
//! shifts everything after it, so once the differences pass a quarter of the old encoding
//! the new encoding is built whole instead ([`Diff::Whole`]).
//!
//! A frozen value in the state calls [`skip_frozen`] instead of encoding itself: when the
//! same value (by identity) stood at this very offset in the last encoding, the session
//! just moves past it (the value remembers its encoded length); otherwise the value hands
//! its encoding to [`frozen`]. Identities stay valid because the
//! session keeps each frozen value it saw alive until the next encoding (no new value can
//! take its address). The value then hands ciborium an empty byte string, one byte `0x40`,
//! which the session swallows; anything else there means the encoder wrote something this
//! module does not expect, and the caller encodes the plain way instead.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use serde::Serialize;

use super::ValueError;

thread_local! {
    static SESSION: RefCell<Option<Session>> = const { RefCell::new(None) };
}

/// Where each frozen value of the last encoding stood: its identity, its offset, and the
/// value itself (kept alive so its address is not reused).
#[derive(Default)]
pub(crate) struct FrozenOffsets(HashMap<usize, (usize, Arc<dyn Any + Send + Sync>)>);

/// How a new encoding differs from the last one.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Diff {
    /// Byte for byte the same.
    Same,
    /// The old encoding with `patches` (same-length replacements, in offset order) applied,
    /// cut to its first `kept` bytes, then `tail` appended.
    Patched {
        patches: Vec<(usize, Vec<u8>)>,
        kept: usize,
        tail: Vec<u8>,
    },
    /// Too different to describe: the new encoding.
    Whole(Vec<u8>),
}

impl Diff {
    /// Turns the old encoding into the new one.
    pub(crate) fn apply(self, old: &mut Vec<u8>) {
        match self {
            Diff::Same => {}
            Diff::Patched {
                patches,
                kept,
                tail,
            } => patch(old, &patches, kept, &tail),
            Diff::Whole(new) => *old = new,
        }
    }
}

/// Applies same-length `patches` to `bytes`, cuts it to `kept` bytes and appends `tail`.
pub(crate) fn patch(bytes: &mut Vec<u8>, patches: &[(usize, Vec<u8>)], kept: usize, tail: &[u8]) {
    for (offset, patch) in patches {
        bytes[*offset..offset + patch.len()].copy_from_slice(patch);
    }
    bytes.truncate(kept);
    bytes.extend_from_slice(tail);
}

/// Encodes `value` against `old` (its last encoding, whose frozen values stood at `last`).
/// Returns how the new encoding differs and where its frozen values stand, or `None` when
/// the encoder wrote something unexpected (encode the plain way then). `old` and `last` are
/// lent to the session and always given back, even if the value's `Serialize` panics.
pub(crate) fn encode<T: Serialize + ?Sized>(
    value: &T,
    old: &mut Vec<u8>,
    last: &mut FrozenOffsets,
) -> Result<Option<(Diff, FrozenOffsets)>, ValueError> {
    /// Hands `old` and `last` back if the encoding unwinds.
    struct GiveBack<'a> {
        old: &'a mut Vec<u8>,
        last: &'a mut FrozenOffsets,
    }
    impl Drop for GiveBack<'_> {
        fn drop(&mut self) {
            if let Some(session) = SESSION.with(|s| s.borrow_mut().take()) {
                *self.old = session.old;
                *self.last = session.last;
            }
        }
    }
    // Learned before the session starts: the probe must not write into it.
    session_serializer();
    let session = Session::new(std::mem::take(old), std::mem::take(last));
    SESSION.with(|s| *s.borrow_mut() = Some(session));
    let give_back = GiveBack { old, last };
    let encoded = ciborium::into_writer(value, SessionWriter);
    let Some(session) = SESSION.with(|s| s.borrow_mut().take()) else {
        return Ok(None);
    };
    let (diff, next, broken, old, last) = session.finish();
    *give_back.old = old;
    *give_back.last = last;
    drop(give_back);
    encoded.map_err(|err| ValueError(err.to_string()))?;
    Ok((!broken).then_some((diff, next)))
}

/// Whether a value is being serialized by the session's encoder (and not, say, by
/// `serde_json` or by the plain encoding of a frozen value).
pub(crate) fn in_session<S>() -> bool {
    SESSION.with(|s| s.borrow().is_some()) && std::any::type_name::<S>() == session_serializer()
}

/// The name of the serializer type ciborium hands values while encoding into
/// [`SessionWriter`] (ciborium does not export it; a probe value reports it).
fn session_serializer() -> &'static str {
    static NAME: OnceLock<&'static str> = OnceLock::new();
    NAME.get_or_init(|| {
        thread_local! {
            static SEEN: Cell<&'static str> = const { Cell::new("") };
        }
        struct Probe;
        impl Serialize for Probe {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                SEEN.with(|seen| seen.set(std::any::type_name::<S>()));
                serializer.serialize_unit()
            }
        }
        // Outside a session the writer drops what it is given.
        let _ = ciborium::into_writer(&Probe, SessionWriter);
        SEEN.with(Cell::get)
    })
}

/// A frozen value of `len` encoded bytes, if the same value (by identity) stood at the
/// current offset last time: the session moves past it without looking, and `true`; the
/// caller then serializes an empty byte string, which the session swallows.
pub(crate) fn skip_frozen(identity: usize, keep: Arc<dyn Any + Send + Sync>, len: usize) -> bool {
    SESSION.with(|s| {
        s.borrow_mut()
            .as_mut()
            .is_some_and(|session| session.skip(identity, keep, len))
    })
}

/// A frozen value not skipped: its encoding, written at the current offset (compared with
/// what stood there). The caller then serializes an empty byte string, which the session
/// swallows.
pub(crate) fn frozen(identity: usize, keep: Arc<dyn Any + Send + Sync>, encoded: &[u8]) {
    SESSION.with(|s| {
        if let Some(session) = s.borrow_mut().as_mut() {
            let offset = session.pos;
            session.put(encoded);
            session.next.0.insert(identity, (offset, keep));
            session.swallow = true;
        }
    });
}

/// What ciborium writes the state into during a session.
pub(crate) struct SessionWriter;

impl std::io::Write for SessionWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        SESSION.with(|s| {
            if let Some(session) = s.borrow_mut().as_mut() {
                session.write(data);
            }
        });
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

struct Session {
    old: Vec<u8>,
    last: FrozenOffsets,
    next: FrozenOffsets,
    /// Bytes of the new encoding so far.
    pos: usize,
    out: Out,
    /// Bytes in patches so far.
    patched: usize,
    /// A frozen value was written: its marker (`0x40`) comes next.
    swallow: bool,
    broken: bool,
}

enum Out {
    Aligned {
        patches: Vec<(usize, Vec<u8>)>,
        tail: Vec<u8>,
    },
    Whole(Vec<u8>),
}

impl Session {
    fn new(old: Vec<u8>, last: FrozenOffsets) -> Self {
        Session {
            old,
            last,
            next: FrozenOffsets::default(),
            pos: 0,
            out: Out::Aligned {
                patches: Vec::new(),
                tail: Vec::new(),
            },
            patched: 0,
            swallow: false,
            broken: false,
        }
    }

    /// How the new encoding differs, where its frozen values stand, whether the encoder
    /// wrote something unexpected, and what was lent.
    fn finish(self) -> (Diff, FrozenOffsets, bool, Vec<u8>, FrozenOffsets) {
        let broken = self.broken || self.swallow;
        let diff = match self.out {
            Out::Whole(new) => Diff::Whole(new),
            Out::Aligned { patches, tail } => {
                let kept = self.pos.min(self.old.len());
                if patches.is_empty() && tail.is_empty() && kept == self.old.len() {
                    Diff::Same
                } else {
                    Diff::Patched {
                        patches,
                        kept,
                        tail,
                    }
                }
            }
        };
        (diff, self.next, broken, self.old, self.last)
    }

    fn write(&mut self, data: &[u8]) {
        if std::mem::take(&mut self.swallow) {
            if data == [0x40] {
                return;
            }
            self.broken = true;
        }
        self.put(data);
    }

    fn skip(&mut self, identity: usize, keep: Arc<dyn Any + Send + Sync>, len: usize) -> bool {
        let offset = self.pos;
        let aligned = matches!(&self.out, Out::Aligned { tail, .. } if tail.is_empty());
        let stood_here = self.last.0.get(&identity).map(|(at, _)| *at) == Some(offset);
        if !(aligned && stood_here && offset + len <= self.old.len()) {
            return false;
        }
        self.pos += len;
        self.next.0.insert(identity, (offset, keep));
        self.swallow = true;
        true
    }

    fn put(&mut self, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        let start = self.pos;
        self.pos += data.len();
        let Out::Aligned { patches, tail } = &mut self.out else {
            let Out::Whole(new) = &mut self.out else {
                unreachable!()
            };
            new.extend_from_slice(data);
            return;
        };
        let overlap = self.old.len().saturating_sub(start).min(data.len());
        let (over_old, beyond) = data.split_at(overlap);
        let old = self.old.get(start..start + overlap).unwrap_or_default();
        if old != over_old {
            let first = old
                .iter()
                .zip(over_old)
                .position(|(a, b)| a != b)
                .unwrap_or(0);
            let last = overlap
                - 1
                - old
                    .iter()
                    .rev()
                    .zip(over_old.iter().rev())
                    .position(|(a, b)| a != b)
                    .unwrap_or(0);
            let (at, bytes) = (start + first, &over_old[first..=last]);
            match patches.last_mut() {
                Some((prev, prev_bytes)) if *prev + prev_bytes.len() == at => {
                    prev_bytes.extend_from_slice(bytes)
                }
                _ => patches.push((at, bytes.to_vec())),
            }
            self.patched += bytes.len();
        }
        tail.extend_from_slice(beyond);
        if self.patched > self.old.len() / 4 {
            self.materialize();
        }
    }

    /// Gives up describing differences: the new encoding so far, whole.
    fn materialize(&mut self) {
        let Out::Aligned { patches, tail } =
            std::mem::replace(&mut self.out, Out::Whole(Vec::new()))
        else {
            return;
        };
        let kept = self.pos.min(self.old.len());
        let mut new = Vec::with_capacity(self.old.len().max(self.pos) + 64);
        new.extend_from_slice(&self.old[..kept]);
        patch(&mut new, &patches, kept, &tail);
        self.out = Out::Whole(new);
    }
}

#[cfg(test)]
mod tests;
