//! Ids for the calls and queue sends of a turn the engine may run again.
//!
//! A stateless request the engine tunnelled carries its ray id, and the engine delivers it
//! again (same id) when its host dies before answering: the turn then runs again and makes
//! its `c.client()` calls and sends again. Each carries an id, so the actor it reaches
//! answers the second one from its record (`replay.rs`) instead of applying it twice.
//!
//! An id is the request's id (`base`; a digest of it when it is long or not of the ray
//! alphabet) and a SHA-256 digest of who calls and what: the calling actor and its action;
//! the actor called (its type, and the key or id it was looked up by); the call's kind
//! (action or queue), name and arguments (maps in key order); and its slot: how many
//! identical calls of the turn are in flight or done before it. A call that fails without
//! having been applied gives its slot back, so a retry takes the same id (and a retry of a
//! call whose answer was lost is answered from its record). So the same calls
//! get the same ids in any order, and the same ray id reused by another actor, action or
//! arguments gets others. The record key is `<base>.<digest>`: the `.` is outside the
//! alphabet of the ids a request may bring, so no request from outside can claim a call's
//! record; across hosts the id travels signed with the pool's call secret
//! (`engine/call_mac.rs`).

use std::collections::HashMap;
use std::sync::Mutex;

use sha2::{Digest, Sha256};

use crate::runtime::replay::ReplayId;
use crate::value::Value;

/// The longest request id used as it is in a call's id (longer ones are digested).
const BASE_MAX: usize = 64;
/// Hex digits of a digest (128 bits).
const DIGEST_HEX: usize = 32;

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
    /// The calling actor and its action, as every digest starts.
    caller: Vec<u8>,
    /// For each call (target, kind, name, arguments): which of its slots are taken.
    slots: Mutex<HashMap<[u8; 32], Vec<bool>>>,
}

/// One call's id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CallId {
    pub(crate) base: String,
    pub(crate) digest: String,
}

/// A call's id, and its slot among identical calls of the turn.
pub(crate) struct Slot {
    pub(crate) id: CallId,
    call: [u8; 32],
    index: usize,
}

impl CallIds {
    /// The ids of the calls that actor `caller`'s `action` makes answering `request`.
    pub(crate) fn new(request: &str, caller: &str, action: &str) -> Self {
        let base = match is_plain(request) {
            true => request.to_owned(),
            // `~` is outside the ray alphabet: no request id spells a digested base.
            false => format!("~{}", digest(&[request.as_bytes()])),
        };
        Self {
            base,
            caller: framed(&[caller.as_bytes(), action.as_bytes()]),
            slots: Mutex::default(),
        }
    }

    /// The id of a call of `kind` to `name` of actor `target` with `args`: the first slot of
    /// that call not taken.
    pub(crate) fn take(
        &self,
        target: &str,
        kind: CallKind,
        name: &str,
        args: Option<Value>,
    ) -> Slot {
        let mut encoded = Vec::new();
        if let Some(mut args) = args {
            canonical(&mut args);
            // Arguments that do not encode fail the call anyway; their id hashes nothing.
            let _ = crate::value::to_cbor(&args, &mut encoded);
        }
        let parts = [
            self.caller.as_slice(),
            target.as_bytes(),
            kind.tag().as_bytes(),
            name.as_bytes(),
            &encoded,
        ];
        let call: [u8; 32] = Sha256::digest(framed(&parts)).into();
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        let taken = slots.entry(call).or_default();
        let index = taken.iter().position(|taken| !taken).unwrap_or(taken.len());
        match taken.get_mut(index) {
            Some(slot) => *slot = true,
            None => taken.push(true),
        }
        let id = CallId {
            base: self.base.clone(),
            digest: digest(&[&call, &(index as u64).to_be_bytes()]),
        };
        Slot { id, call, index }
    }

    /// The call in `slot` failed without having been applied: a retry may take its id.
    pub(crate) fn give_back(&self, slot: &Slot) {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(taken) = slots
            .get_mut(&slot.call)
            .and_then(|taken| taken.get_mut(slot.index))
        {
            *taken = false;
        }
    }
}

// Its header form is engine mode's (`engine/call_mac.rs`).
#[cfg_attr(not(feature = "engine"), allow(dead_code))]
impl CallId {
    /// The key its receiver records it under.
    pub(crate) fn record_key(&self) -> ReplayId {
        ReplayId::from(format!("{}.{}", self.base, self.digest))
    }

    /// The id as a header carries it, without its signature: `<base>_<digest>`.
    pub(crate) fn unsigned(&self) -> String {
        format!("{}_{}", self.base, self.digest)
    }

    /// Reads `<base>_<digest>` (what [`CallId::unsigned`] writes).
    pub(crate) fn parse(unsigned: &str) -> Option<CallId> {
        let (base, digest) = unsigned.rsplit_once('_')?;
        let digested = base
            .strip_prefix('~')
            .is_some_and(|hex| hex.len() == DIGEST_HEX && is_hex(hex));
        let base_ok = is_plain(base) || digested;
        (base_ok && digest.len() == DIGEST_HEX && is_hex(digest)).then(|| CallId {
            base: base.to_owned(),
            digest: digest.to_owned(),
        })
    }
}

/// Whether a request id is used as it is: short, and of the ray alphabet.
fn is_plain(id: &str) -> bool {
    is_ray_shaped(id, BASE_MAX)
}

/// Whether `id` has the shape of the engine's ray ids: 1 to `max` ASCII letters, digits,
/// `-` or `_` (the alphabet a request may bring an id in).
pub(crate) fn is_ray_shaped(id: &str, max: usize) -> bool {
    (1..=max).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// `bytes` in lowercase hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn is_hex(text: &str) -> bool {
    text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// `parts`, each led by its length, so they cannot run together.
fn framed(parts: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for part in parts {
        out.extend_from_slice(&(part.len() as u64).to_be_bytes());
        out.extend_from_slice(part);
    }
    out
}

/// The first 128 bits of the SHA-256 of `parts`, in hex.
fn digest(parts: &[&[u8]]) -> String {
    hex(&Sha256::digest(framed(parts))[..DIGEST_HEX / 2])
}

/// Puts every map in `value` in the order of its keys' encodings: a map built by a
/// `HashMap` serializes in an order that changes from process to process, and the same
/// arguments must hash the same on the next host.
fn canonical(value: &mut Value) {
    match value {
        Value::Array(items) => items.iter_mut().for_each(canonical),
        Value::Map(entries) => {
            for (key, item) in entries.iter_mut() {
                canonical(key);
                canonical(item);
            }
            entries.sort_by_cached_key(|(key, _)| {
                let mut bytes = Vec::new();
                let _ = crate::value::to_cbor(key, &mut bytes);
                bytes
            });
        }
        Value::Tag(_, inner) => canonical(inner),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(n: i64) -> Option<Value> {
        Some(Value::Array(vec![Value::Integer(n.into())]))
    }

    fn take(ids: &CallIds, target: &str, n: i64) -> CallId {
        ids.take(target, CallKind::Action, "take", args(n)).id
    }

    #[test]
    fn the_same_calls_get_the_same_ids_in_any_order() {
        let first = CallIds::new("ray-1", "player-1", "buy");
        let a = take(&first, "shop", 5);
        let b = take(&first, "shop", 7);
        let a2 = take(&first, "shop", 5);
        let other_shop = take(&first, "shop-2", 5);
        let again = CallIds::new("ray-1", "player-1", "buy");
        // Run again in another order: the same ids.
        assert_eq!(take(&again, "shop-2", 5), other_shop);
        assert_eq!(take(&again, "shop", 7), b);
        assert_eq!(take(&again, "shop", 5), a);
        assert_eq!(take(&again, "shop", 5), a2);
        assert_ne!(a, a2);
        assert_ne!(a, other_shop);
        // A queue of the same name is another call.
        let queued = first.take("shop", CallKind::Queue, "take", args(5)).id;
        assert_ne!(queued, a);
    }

    #[test]
    fn a_failed_call_gives_its_id_to_the_retry() {
        let ids = CallIds::new("ray-1", "player-1", "buy");
        let failed = ids.take("shop", CallKind::Action, "take", args(5));
        ids.give_back(&failed);
        let retry = ids.take("shop", CallKind::Action, "take", args(5));
        assert_eq!(retry.id, failed.id);
        // As the first call of a run where it did not fail.
        let again = CallIds::new("ray-1", "player-1", "buy");
        assert_eq!(take(&again, "shop", 5), retry.id);
    }

    #[test]
    fn a_ray_id_reused_by_another_caller_or_action_gets_other_ids() {
        let call =
            |caller: &str, action: &str| take(&CallIds::new("ray-1", caller, action), "shop", 5);
        let legit = call("player-1", "buy");
        assert_ne!(call("player-2", "buy"), legit);
        assert_ne!(call("player-1", "sell"), legit);
    }

    #[test]
    fn maps_hash_the_same_in_any_order() {
        let send = |pairs: &[(&str, i64)]| {
            let map = pairs
                .iter()
                .map(|(k, v)| (Value::Text((*k).into()), Value::Integer((*v).into())))
                .collect();
            let ids = CallIds::new("ray-1", "a", "b");
            ids.take("c", CallKind::Queue, "q", Some(Value::Map(map)))
                .id
        };
        assert_eq!(send(&[("x", 1), ("y", 2)]), send(&[("y", 2), ("x", 1)]));
    }

    #[test]
    fn long_or_odd_request_ids_are_digested_and_keys_leave_the_ray_alphabet() {
        let bare = |request: &str| {
            let ids = CallIds::new(request, "a", "b");
            ids.take("c", CallKind::Action, "x", None).id
        };
        let nested = bare("ray-1.0123");
        assert!(nested.base.starts_with('~') && nested.base.len() == 1 + DIGEST_HEX);
        assert_eq!(bare(&"r".repeat(65)).base.len(), 1 + DIGEST_HEX);
        let id = bare("ray_1");
        assert!(id.record_key().contains('.'));
        assert_eq!(CallId::parse(&id.unsigned()), Some(id));
        assert_eq!(CallId::parse(&nested.unsigned()), Some(nested));
        assert_eq!(
            CallId::parse(&format!("ray_{}", "g".repeat(DIGEST_HEX))),
            None
        );
        assert_eq!(CallId::parse(&format!("_{}", "0".repeat(DIGEST_HEX))), None);
        assert_eq!(
            CallId::parse(&format!("~abc_{}", "0".repeat(DIGEST_HEX))),
            None
        );
    }
}
