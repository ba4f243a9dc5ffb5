//! Ids for the calls and queue sends of a turn the engine may run again.
//!
//! A stateless request the engine tunnelled carries its ray id, and the engine delivers it
//! again (same id) when its host dies before answering: the turn then runs again and makes
//! its `c.client()` calls and sends again. Each carries an id, so the actor it reaches
//! answers the second one from its record (`replay.rs`) instead of applying it twice.
//!
//! An id is the request's id (`base`, or a hash of it when it is long or not of the
//! header's alphabet) and a digest of what the call is: action or queue, its name, its
//! encoded arguments, and how many identical ones the turn made before it. So the same
//! calls map to the same ids however the turn orders them; only identical calls to two
//! actors in an order that changes between runs can swap. The record key is
//! `<base>.<digest>`: the `.` is outside the alphabet the engine's headers may carry, so
//! no request from outside can claim a call's record; across hosts the id travels in a
//! header signed with the engine's token (`engine/call_mac.rs`).

use std::collections::HashMap;
use std::sync::Mutex;

use crate::runtime::replay::{ID_MAX, ReplayId};

/// The longest request id used as it is in a call's id (longer ones are hashed).
const BASE_MAX: usize = 64;

/// What a call does: an action, or a queue send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CallKind {
    Action,
    Queue,
}

impl CallKind {
    /// How the kind is written into digests and signatures.
    pub(crate) fn tag(self) -> &'static str {
        match self {
            CallKind::Action => "action",
            CallKind::Queue => "queue",
        }
    }
}

/// The ids of the calls of one turn answering a request the engine may deliver again.
pub(crate) struct CallIds {
    base: String,
    /// How many calls of each kind, name and arguments the turn made so far.
    made: Mutex<HashMap<u64, u32>>,
}

/// One call's id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CallId {
    pub(crate) base: String,
    pub(crate) digest: u64,
}

impl CallIds {
    /// The ids of the calls of the turn answering request `request`.
    pub(crate) fn new(request: &str) -> Self {
        let usable = request.len() <= BASE_MAX
            && request
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        let base = match usable {
            true => request.to_owned(),
            false => format!("h{:016x}", fnv64(&[request.as_bytes()])),
        };
        Self {
            base,
            made: Mutex::default(),
        }
    }

    /// The id of the next call of `kind` to `name` with `args` (encoded).
    pub(crate) fn next(&self, kind: CallKind, name: &str, args: &[u8]) -> CallId {
        let call = fnv64(&[kind.tag().as_bytes(), name.as_bytes(), args]);
        let mut made = self.made.lock().unwrap_or_else(|p| p.into_inner());
        let before = made.entry(call).or_insert(0);
        let digest = fnv64(&[&call.to_be_bytes(), &before.to_be_bytes()]);
        *before += 1;
        CallId {
            base: self.base.clone(),
            digest,
        }
    }
}

// Its header form is engine mode's (`engine/call_mac.rs`).
#[cfg_attr(not(feature = "engine"), allow(dead_code))]
impl CallId {
    /// The key its receiver records it under.
    pub(crate) fn record_key(&self) -> ReplayId {
        ReplayId::from(format!("{}.{:016x}", self.base, self.digest))
    }

    /// The id as a header carries it, without its signature: `<base>_<digest>`.
    pub(crate) fn unsigned(&self) -> String {
        format!("{}_{:016x}", self.base, self.digest)
    }

    /// Reads `<base>_<digest>` (what [`CallId::unsigned`] writes).
    pub(crate) fn parse(unsigned: &str) -> Option<CallId> {
        let (base, digest) = unsigned.rsplit_once('_')?;
        let well_formed = !base.is_empty() && base.len() <= BASE_MAX && digest.len() == 16;
        let digest = u64::from_str_radix(digest, 16)
            .ok()
            .filter(|_| well_formed)?;
        Some(CallId {
            base: base.to_owned(),
            digest,
        })
    }
}

/// FNV-1a over `parts`, each followed by its length (so the parts cannot run together):
/// stable across hosts and builds, which a seeded hasher is not. Not a defence against a
/// chosen input: ids are signed where a caller could choose them.
fn fnv64(parts: &[&[u8]]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in part
            .iter()
            .copied()
            .chain((part.len() as u64).to_be_bytes())
        {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    hash
}

// The record key stays within the bound the record's rows are made for.
const _: () = assert!(BASE_MAX + 1 + 16 <= ID_MAX);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_calls_get_the_same_ids_in_any_order() {
        let first = CallIds::new("ray-1");
        let a = first.next(CallKind::Action, "charge", b"[5]");
        let b = first.next(CallKind::Action, "charge", b"[7]");
        let a2 = first.next(CallKind::Action, "charge", b"[5]");
        let again = CallIds::new("ray-1");
        // Run again in another order: the same three ids.
        assert_eq!(again.next(CallKind::Action, "charge", b"[7]"), b);
        assert_eq!(again.next(CallKind::Action, "charge", b"[5]"), a);
        assert_eq!(again.next(CallKind::Action, "charge", b"[5]"), a2);
        assert_ne!(a, a2);
        // A queue of the same name is another call.
        assert_ne!(
            CallIds::new("ray-1").next(CallKind::Queue, "charge", b"[5]"),
            a
        );
    }

    #[test]
    fn long_or_odd_request_ids_are_hashed_and_keys_leave_the_header_alphabet() {
        let nested = CallIds::new("ray-1.0123456789abcdef").next(CallKind::Action, "x", b"");
        assert!(nested.base.starts_with('h') && nested.base.len() == 17);
        let long = CallIds::new(&"r".repeat(65)).next(CallKind::Action, "x", b"");
        assert_eq!(long.base.len(), 17);
        let id = CallIds::new("ray-1").next(CallKind::Action, "x", b"");
        assert!(id.record_key().contains('.'));
        assert_eq!(CallId::parse(&id.unsigned()), Some(id));
        assert_eq!(CallId::parse("ray_nothex0000000000"), None);
        assert_eq!(CallId::parse("_0123456789abcdef"), None);
    }
}
