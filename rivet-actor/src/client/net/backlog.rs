//! What a connection's socket task holds until it can send it: calls in the order they were
//! made, and marks where what is listened to changed (the socket task sends the difference
//! then: `SocketTask::next_subscription_change`). It is kept to what is still wanted: calls
//! whose callers stopped waiting are dropped whenever it has doubled since it was last
//! pruned, and marks with no call between them are one, so it stays within about twice the
//! calls still waited on.

use std::collections::VecDeque;
use std::sync::Weak;

use crate::client::net::conn::{ConnShared, Outgoing, lock};

/// The fewest calls kept before the backlog is pruned of calls no longer waited on.
const FIRST_PRUNE: usize = 64;

pub(super) struct Backlog {
    items: VecDeque<Outgoing>,
    /// Pruned when it grows to this many: twice what was left after the last pruning, so
    /// pruning costs a constant per call however many callers wait.
    prune_at: usize,
}

impl Backlog {
    pub(super) fn new() -> Self {
        Self {
            items: VecDeque::new(),
            prune_at: FIRST_PRUNE,
        }
    }

    pub(super) fn pop_front(&mut self) -> Option<Outgoing> {
        self.items.pop_front()
    }

    /// Puts `item` first (what the socket task must look at again before anything else).
    pub(super) fn push_front(&mut self, item: Outgoing) {
        self.items.push_front(item);
    }

    /// Forgets the marks of subscription changes: a new session subscribes to what is
    /// listened to when it opens.
    pub(super) fn keep_only_calls(&mut self) {
        self.items
            .retain(|kept| matches!(kept, Outgoing::Call { .. }));
    }

    /// Keeps `item` to be sent after what is already kept.
    pub(super) fn push(&mut self, shared: &Weak<ConnShared>, item: Outgoing) {
        self.push_pruning(item, |items| prune(shared, items));
    }

    /// [`Backlog::push`], pruning the calls with `prune` when it is time.
    fn push_pruning(&mut self, item: Outgoing, prune: impl FnOnce(&mut VecDeque<Outgoing>)) {
        match &item {
            // One mark stands for any number of changes made together.
            Outgoing::ListeningChanged if self.items.back().is_some_and(is_mark) => return,
            Outgoing::Call { .. } if self.items.len() >= self.prune_at => {
                prune(&mut self.items);
                merge_marks(&mut self.items);
                self.prune_at = FIRST_PRUNE.max(2 * self.items.len());
            }
            _ => {}
        }
        self.items.push_back(item);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.items.len()
    }
}

fn is_mark(item: &Outgoing) -> bool {
    matches!(item, Outgoing::ListeningChanged)
}

/// Makes marks left side by side (the calls between them pruned) one.
fn merge_marks(items: &mut VecDeque<Outgoing>) {
    let mut previous_was_mark = false;
    items.retain(|item| {
        let mark = is_mark(item);
        let keep = !(mark && previous_was_mark);
        previous_was_mark = mark;
        keep
    });
}

/// Drops the calls whose callers stopped waiting (they are no longer pending).
fn prune(shared: &Weak<ConnShared>, items: &mut VecDeque<Outgoing>) {
    let Some(shared) = shared.upgrade() else {
        return;
    };
    let pending = lock(&shared.pending);
    items.retain(|kept| match kept {
        Outgoing::Call { id, .. } => pending.contains_key(id),
        _ => true,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(id: u64) -> Outgoing {
        Outgoing::Call {
            id,
            name: "add",
            args: Vec::new(),
        }
    }

    #[test]
    fn subscription_changes_between_two_calls_are_one_mark() {
        let nobody = Weak::new();
        let mut backlog = Backlog::new();
        backlog.push(&nobody, call(1));
        for _ in 0..1_000 {
            backlog.push(&nobody, Outgoing::ListeningChanged);
            backlog.push(&nobody, Outgoing::ListeningChanged);
        }
        backlog.push(&nobody, call(2));
        backlog.push(&nobody, Outgoing::ListeningChanged);
        assert_eq!(backlog.len(), 4);
        assert!(matches!(
            backlog.pop_front(),
            Some(Outgoing::Call { id: 1, .. })
        ));
        assert!(backlog.pop_front().as_ref().is_some_and(is_mark));
        assert!(matches!(
            backlog.pop_front(),
            Some(Outgoing::Call { id: 2, .. })
        ));
        assert!(backlog.pop_front().as_ref().is_some_and(is_mark));
    }

    #[test]
    fn calls_no_longer_waited_on_are_pruned_as_it_grows() {
        // Ten callers still wait (ids 0..10); the other calls were given up. A mark after
        // every call: the marks between pruned calls become one.
        let waited = |items: &mut VecDeque<Outgoing>| {
            items.retain(|kept| !matches!(kept, Outgoing::Call { id, .. } if *id >= 10));
        };
        let mut backlog = Backlog::new();
        let mut prunings = 0;
        for id in 0..100_000 {
            backlog.push_pruning(call(id), |items| {
                prunings += 1;
                waited(items)
            });
            backlog.push_pruning(Outgoing::ListeningChanged, |_| {});
            assert!(backlog.len() <= 2 * FIRST_PRUNE + 2, "{}", backlog.len());
        }
        assert!(prunings > 1_000, "pruned {prunings} times");
        waited(&mut backlog.items);
        let kept: Vec<u64> = std::iter::from_fn(|| backlog.pop_front())
            .filter_map(|item| match item {
                Outgoing::Call { id, .. } => Some(id),
                _ => None,
            })
            .collect();
        assert_eq!(kept, (0..10).collect::<Vec<_>>());
    }
}
