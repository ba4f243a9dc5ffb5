//! Encoding against the last encoding: what is kept is exactly the new encoding, frozen
//! values that stayed put are skipped, and what was lent comes back even after a panic.

use serde::{Serialize, Serializer};

use super::*;
use crate::frozen::Frozen;
use crate::value::to_cbor;

#[derive(Clone, Default, Serialize)]
struct Room {
    title: String,
    messages: Vec<Frozen<String>>,
    plain: Vec<String>,
}

fn plain(value: &impl Serialize) -> Vec<u8> {
    let mut out = Vec::new();
    to_cbor(value, &mut out).unwrap();
    out
}

fn text(seed: u64, len: usize) -> String {
    let mut x = seed.wrapping_mul(2).wrapping_add(1);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            char::from(b'a' + (x % 26) as u8)
        })
        .collect()
}

/// Encodes `value` against `saved` and applies the outcome: `saved` is then its encoding.
fn step(value: &impl Serialize, saved: &mut Vec<u8>, last: &mut FrozenOffsets) -> Diff {
    let (diff, next) = encode(value, saved, last)
        .unwrap()
        .expect("the session held");
    let shown = match &diff {
        Diff::Same => Diff::Same,
        Diff::Patched { kept, tail, .. } => Diff::Patched {
            patches: Vec::new(),
            kept: *kept,
            tail: tail.clone(),
        },
        Diff::Whole(_) => Diff::Whole(Vec::new()),
    };
    diff.apply(saved);
    *last = next;
    assert_eq!(
        *saved,
        plain(value),
        "the applied diff is the plain encoding"
    );
    shown
}

#[test]
fn an_append_is_a_small_patch_and_a_tail() {
    let mut room = Room {
        title: "t".into(),
        messages: (0..50).map(|i| Frozen::new(text(i, 2000))).collect(),
        plain: vec![text(99, 500)],
    };
    let mut saved = plain(&room);
    let mut last = FrozenOffsets::default();
    assert_eq!(step(&room, &mut saved, &mut last), Diff::Same);
    room.plain.push(text(100, 300));
    match step(&room, &mut saved, &mut last) {
        Diff::Patched { kept, tail, .. } => {
            assert_eq!(kept + tail.len(), saved.len());
            assert!(
                tail.len() < 400,
                "the tail is the new entry: {}",
                tail.len()
            );
        }
        other => panic!("{other:?}"),
    }
    // A change in place of the same length is a patch only.
    room.title = "u".into();
    assert!(matches!(
        step(&room, &mut saved, &mut last),
        Diff::Patched { ref tail, .. } if tail.is_empty()
    ));
}

#[test]
fn an_insertion_at_the_front_builds_the_encoding_whole() {
    let mut room = Room {
        plain: (0..100).map(|i| text(i, 100)).collect(),
        ..Default::default()
    };
    let mut saved = plain(&room);
    let mut last = FrozenOffsets::default();
    room.plain.insert(0, text(7, 40));
    assert_eq!(step(&room, &mut saved, &mut last), Diff::Whole(Vec::new()));
}

#[test]
fn frozen_values_that_stayed_put_are_not_looked_at() {
    let mut room = Room {
        messages: (0..20).map(|i| Frozen::new(text(i, 1000))).collect(),
        ..Default::default()
    };
    let mut saved = plain(&room);
    let mut last = FrozenOffsets::default();
    step(&room, &mut saved, &mut last);
    // Damage the stored copy of message 5: a compared value would be patched back, a
    // skipped one is not — so the outcome shows it was skipped.
    let at = saved
        .windows(1000)
        .position(|w| w == room.messages[5].as_bytes())
        .unwrap();
    saved[at] ^= 0x20;
    let (diff, _) = encode(&room, &mut saved, &mut last).unwrap().unwrap();
    assert_eq!(diff, Diff::Same, "message 5 was skipped, not compared");
    // A new value at that offset (same text, another identity) is compared.
    room.messages[5] = Frozen::new(room.messages[5].to_string());
    let (diff, _) = encode(&room, &mut saved, &mut last).unwrap().unwrap();
    assert!(
        matches!(diff, Diff::Patched { ref patches, .. } if patches.len() == 1),
        "{diff:?}"
    );
}

#[test]
fn random_edits_apply_to_the_plain_encoding() {
    let mut room = Room::default();
    let mut saved = plain(&room);
    let mut last = FrozenOffsets::default();
    let mut rng = 0x5EED_u64;
    let mut next = |bound: u64| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng % bound.max(1)
    };
    for round in 0..400 {
        let len = room.messages.len() as u64;
        match next(7) {
            0 | 1 => room
                .messages
                .push(Frozen::new(text(round, next(3000) as usize))),
            2 if len > 0 => {
                room.messages.remove(next(len) as usize);
            }
            3 if len > 0 => {
                let i = next(len) as usize;
                room.messages[i] = Frozen::new(text(round + 7, next(3000) as usize));
            }
            4 => room.plain.push(text(round, next(200) as usize)),
            5 => room.title = text(round, next(8) as usize),
            _ => {
                let copy = room.messages.last().cloned().unwrap_or_default();
                room.messages.push(copy);
            }
        }
        step(&room, &mut saved, &mut last);
    }
}

#[test]
fn what_was_lent_comes_back_when_serialize_panics() {
    struct Bomb;
    impl Serialize for Bomb {
        fn serialize<S: Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
            panic!("boom")
        }
    }
    let mut saved = vec![1, 2, 3];
    let mut last = FrozenOffsets::default();
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = encode(&Bomb, &mut saved, &mut last);
    }));
    assert!(panicked.is_err());
    assert_eq!(saved, [1, 2, 3]);
    assert!(SESSION.with(|s| s.borrow().is_none()), "the session ended");
}

#[test]
fn frozen_values_encode_as_their_value_everywhere_else() {
    let room = Room {
        title: "t".into(),
        messages: vec![Frozen::new("hi".into())],
        plain: vec![],
    };
    let json = serde_json::to_string(&room).unwrap();
    assert_eq!(json, r#"{"title":"t","messages":["hi"],"plain":[]}"#);
    let back: Vec<Frozen<String>> = serde_json::from_str(r#"["a","b"]"#).unwrap();
    assert_eq!(back[1].as_str(), "b");
}
