//! What a connection's socket task holds until it can send it: calls in the order they were
//! made, subscription changes and a close. It is kept to what is still wanted, so it holds
//! no more than the calls still waited on plus one change per event: a call whose caller
//! stopped waiting is dropped, and a subscription change that undoes one not sent yet
//! removes both.

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

    /// Forgets the subscription changes: a new session subscribes to what is listened to
    /// when it opens.
    pub(super) fn keep_only_calls(&mut self) {
        self.items
            .retain(|kept| matches!(kept, Outgoing::Call { .. } | Outgoing::Close));
    }

    /// Keeps `item` to be sent after what is already kept.
    pub(super) fn push(&mut self, shared: &Weak<ConnShared>, item: Outgoing) {
        self.push_pruning(item, |items| prune(shared, items));
    }

    /// [`Backlog::push`], pruning the calls with `prune` when it is time.
    fn push_pruning(&mut self, item: Outgoing, prune: impl FnOnce(&mut VecDeque<Outgoing>)) {
        match &item {
            Outgoing::Subscribe(name) | Outgoing::Unsubscribe(name) => {
                let subscribe = matches!(item, Outgoing::Subscribe(_));
                let earlier = self.items.iter().position(|kept| match kept {
                    Outgoing::Subscribe(kept) | Outgoing::Unsubscribe(kept) => kept == name,
                    _ => false,
                });
                if let Some(at) = earlier {
                    // Unsent: the opposite change cancels it; the same change is already
                    // on its way.
                    if matches!(self.items[at], Outgoing::Subscribe(_)) != subscribe {
                        self.items.remove(at);
                    }
                    return;
                }
            }
            Outgoing::Call { .. } if self.items.len() >= self.prune_at => {
                prune(&mut self.items);
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
    fn an_unsent_subscription_change_and_its_undoing_cancel_out() {
        let nobody = Weak::new();
        let mut backlog = Backlog::new();
        for _ in 0..1_000 {
            backlog.push(&nobody, Outgoing::Subscribe("tick"));
            backlog.push(&nobody, Outgoing::Unsubscribe("tick"));
        }
        assert_eq!(backlog.len(), 0);
        backlog.push(&nobody, Outgoing::Unsubscribe("tick"));
        backlog.push(&nobody, Outgoing::Unsubscribe("tick"));
        backlog.push(&nobody, Outgoing::Subscribe("tock"));
        assert_eq!(backlog.len(), 2);
        assert!(matches!(
            backlog.pop_front(),
            Some(Outgoing::Unsubscribe("tick"))
        ));
        assert!(matches!(
            backlog.pop_front(),
            Some(Outgoing::Subscribe("tock"))
        ));
    }

    #[test]
    fn calls_no_longer_waited_on_are_pruned_as_it_grows() {
        // Ten callers still wait (ids 0..10); the other calls were given up.
        let waited = |items: &mut VecDeque<Outgoing>| {
            items.retain(|kept| matches!(kept, Outgoing::Call { id, .. } if *id < 10));
        };
        let mut backlog = Backlog::new();
        let mut prunings = 0;
        for id in 0..100_000 {
            backlog.push_pruning(call(id), |items| {
                prunings += 1;
                waited(items)
            });
            assert!(backlog.len() <= FIRST_PRUNE + 1, "{}", backlog.len());
        }
        assert!(prunings > 1_000, "pruned {prunings} times");
        waited(&mut backlog.items);
        let kept: Vec<u64> = std::iter::from_fn(|| backlog.pop_front())
            .map(|item| match item {
                Outgoing::Call { id, .. } => id,
                _ => panic!("only calls were kept"),
            })
            .collect();
        assert_eq!(kept, (0..10).collect::<Vec<_>>());
    }
}
