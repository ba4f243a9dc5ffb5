//! Unguessable ids for actors and connections, without a random-number crate: the
//! standard library's randomly keyed SipHash over a process-wide counter.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

static KEYS: OnceLock<(RandomState, RandomState)> = OnceLock::new();
static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A fresh 32-hex-digit id.
pub(crate) fn new_id() -> String {
    let (a, b) = KEYS.get_or_init(|| (RandomState::new(), RandomState::new()));
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut h1 = a.build_hasher();
    h1.write_u64(n);
    let mut h2 = b.build_hasher();
    h2.write_u64(n);
    format!("{:016x}{:016x}", h1.finish(), h2.finish())
}

/// A 32-hex-digit digest of `bytes`, unguessable outside this process (the same keys as
/// ids): stands in for a long value in a bounded table.
pub(crate) fn digest(bytes: &[u8]) -> String {
    let (a, b) = KEYS.get_or_init(|| (RandomState::new(), RandomState::new()));
    let mut h1 = a.build_hasher();
    h1.write(bytes);
    let mut h2 = b.build_hasher();
    h2.write(bytes);
    format!("{:016x}{:016x}", h1.finish(), h2.finish())
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_distinct_and_fixed_width() {
        let a = super::new_id();
        let b = super::new_id();
        assert_ne!(a, b);
        assert_eq!(a.len(), 32);
    }
}
