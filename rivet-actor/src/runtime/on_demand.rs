//! Parts of an instance most actors never use (their queue index, schedules, replay
//! records): allocated on first use, and let go again when they hold nothing as the
//! instance parks, so a parked instance carries a pointer for each instead of the part.

use std::ops::{Deref, DerefMut};
use std::sync::{Mutex, MutexGuard};

/// A part that can tell it holds nothing worth keeping (dropping it and starting again from
/// `Default` loses nothing).
pub(crate) trait Vacant {
    fn is_vacant(&self) -> bool;
}

/// A lock around a part made on first use.
pub(crate) struct OnDemand<T>(Mutex<Option<Box<T>>>);

impl<T> Default for OnDemand<T> {
    fn default() -> Self {
        Self(Mutex::new(None))
    }
}

impl<T: Default + Vacant> OnDemand<T> {
    /// The part, locked (made now if it was not there).
    pub(crate) fn lock(&self) -> Locked<'_, T> {
        // Only the part's own methods run under the lock, never user code: a panic cannot
        // leave it half-written.
        let mut guard = self.0.lock().unwrap_or_else(|p| p.into_inner());
        guard.get_or_insert_with(Box::default);
        Locked(guard)
    }

    /// What `read` says of the part, without making it (`None` when there is none).
    pub(crate) fn peek<R>(&self, read: impl FnOnce(&T) -> R) -> Option<R> {
        let guard = self.0.lock().unwrap_or_else(|p| p.into_inner());
        guard.as_deref().map(read)
    }

    /// Lets the part go if it holds nothing.
    pub(crate) fn shed(&self) {
        let mut guard = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if guard.as_deref().is_some_and(T::is_vacant) {
            *guard = None;
        }
    }
}

/// The locked part.
pub(crate) struct Locked<'a, T>(MutexGuard<'a, Option<Box<T>>>);

impl<T> Deref for Locked<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        self.0.as_deref().expect("OnDemand::lock made the part")
    }
}

impl<T> DerefMut for Locked<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        self.0.as_deref_mut().expect("OnDemand::lock made the part")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Part {
        bytes: Vec<u8>,
    }

    impl Vacant for Part {
        fn is_vacant(&self) -> bool {
            self.bytes.is_empty()
        }
    }

    #[test]
    fn a_part_is_made_on_use_and_let_go_only_when_vacant() {
        let part = OnDemand::<Part>::default();
        part.shed();
        part.lock().bytes.push(7);
        part.shed();
        assert_eq!(part.lock().bytes, [7], "a part holding something is kept");
        part.lock().bytes.clear();
        part.shed();
        assert!(part.0.lock().unwrap().is_none(), "a vacant part is let go");
        assert!(part.lock().bytes.is_empty(), "and made again on use");
    }
}
