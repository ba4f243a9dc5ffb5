//! The keys of the actors awake in this process: naming a busy actor by key (every stateless
//! HTTP call does) then costs a map lookup instead of a storage read.
//!
//! An entry exists exactly while the actor's instance runs: added once it started, removed
//! when the host forgets the instance (sleep, failure) and before a destroy removes its
//! rows, so it never names an actor storage no longer holds. Not used when the storage
//! places actors (engine mode: the engine decides where an actor lives).

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use crate::runtime::lookup::ActorId;

#[derive(Default)]
pub(crate) struct AwakeKeys {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    by_key: HashMap<Vec<String>, ActorId>,
    by_id: HashMap<ActorId, Vec<String>>,
}

impl AwakeKeys {
    /// The id of the awake actor with this key.
    pub(crate) fn get(&self, key: &[String]) -> Option<ActorId> {
        self.lock().by_key.get(key).cloned()
    }

    /// Actor `id`, whose key is `key`, is awake.
    pub(crate) fn insert(&self, key: Vec<String>, id: ActorId) {
        let mut inner = self.lock();
        inner.by_key.insert(key.clone(), id.clone());
        inner.by_id.insert(id, key);
    }

    /// Actor `id` is no longer awake (or is being destroyed).
    pub(crate) fn remove(&self, id: &ActorId) {
        let mut inner = self.lock();
        if let Some(key) = inner.by_id.remove(id)
            && inner.by_key.get(&key) == Some(id)
        {
            inner.by_key.remove(&key);
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // The maps are updated together under the lock; a panic cannot split them.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_lives_from_insert_to_remove() {
        let keys = AwakeKeys::default();
        let id = ActorId("a1".into());
        assert_eq!(keys.get(&["k".into()]), None);
        keys.insert(vec!["k".into()], id.clone());
        assert_eq!(keys.get(&["k".into()]), Some(id.clone()));
        keys.remove(&id);
        assert_eq!(keys.get(&["k".into()]), None);
        // Removing an id whose key now names another actor leaves that one alone.
        let (old, new) = (ActorId("old".into()), ActorId("new".into()));
        keys.insert(vec!["k".into()], old.clone());
        keys.insert(vec!["k".into()], new.clone());
        keys.remove(&old);
        assert_eq!(keys.get(&["k".into()]), Some(new));
    }
}
