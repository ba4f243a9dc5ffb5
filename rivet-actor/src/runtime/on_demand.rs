//! Parts of an instance most actors never use (their queue index, schedules, replay
//! records): allocated on first use, and let go again when they hold nothing as the
//! instance parks, so a parked instance carries a pointer for each instead of the part.

use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};

/// A part that can tell it holds nothing worth keeping (dropping it and starting again from
/// `Default` loses nothing).
pub(crate) trait Vacant {
    fn is_vacant(&self) -> bool;
}

/// A lock around a part made on first use.
pub(crate) struct OnDemand<T> {
    part: Mutex<Option<Box<T>>>,
    /// Whether the part is there (changed under the lock): the end of every turn asks each
    /// part for its writes, and a part never made answers without a lock.
    made: AtomicBool,
}

impl<T> Default for OnDemand<T> {
    fn default() -> Self {
        Self {
            part: Mutex::new(None),
            made: AtomicBool::new(false),
        }
    }
}

impl<T: Default + Vacant> OnDemand<T> {
    /// The part, locked (made now if it was not there).
    pub(crate) fn lock(&self) -> Locked<'_, T> {
        // Only the part's own methods run under the lock, never user code: a panic cannot
        // leave it half-written.
        let mut guard = self.part.lock().unwrap_or_else(|p| p.into_inner());
        if guard.is_none() {
            *guard = Some(Box::default());
            self.made.store(true, Ordering::Release);
        }
        Locked(guard)
    }

    /// What `read` says of the part, without making it (`None` when there is none).
    pub(crate) fn peek<R>(&self, read: impl FnOnce(&T) -> R) -> Option<R> {
        if !self.made.load(Ordering::Acquire) {
            return None;
        }
        let guard = self.part.lock().unwrap_or_else(|p| p.into_inner());
        guard.as_deref().map(read)
    }

    /// Whether the part is there: a part never made has nothing staged or to commit, and
    /// the end of a turn need not lock it to learn so.
    pub(crate) fn is_made(&self) -> bool {
        self.made.load(Ordering::Acquire)
    }

    /// Lets the part go if it holds nothing.
    pub(crate) fn shed(&self) {
        let mut guard = self.part.lock().unwrap_or_else(|p| p.into_inner());
        if guard.as_deref().is_some_and(T::is_vacant) {
            *guard = None;
            self.made.store(false, Ordering::Release);
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
        assert!(
            part.part.lock().unwrap().is_none(),
            "a vacant part is let go"
        );
        assert!(!part.is_made());
        assert_eq!(
            part.peek(|part| part.bytes.len()),
            None,
            "and not made by a look"
        );
        assert!(part.lock().bytes.is_empty(), "and made again on use");
    }
}
