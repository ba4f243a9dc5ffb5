//! The lives of a host's awake instances: the stopping signal the host raises from outside
//! a running turn (a destroy or a stop on its way), and the instance's `wait_until` work
//! (`context/lifecycle.rs`). Made on first use and kept here, so an idle actor that never
//! asks costs nothing.

use std::sync::Arc;

use crate::actor::Actor;
use crate::context::lifecycle::Life;
use crate::runtime::host::Host;
use crate::runtime::lookup::ActorId;

impl<A: Actor> Host<A> {
    /// The life of awake instance `id` (made on first use: by its first turn that asks, or
    /// by a stop signalled before that).
    pub(crate) fn life(&self, id: &ActorId) -> Arc<Life> {
        let mut lives = self.lives.lock().unwrap_or_else(|p| p.into_inner());
        lives.entry(id.clone()).or_insert_with(Life::new).clone()
    }

    /// A new instance of `id` is about to start: a life a leaving one left behind is not its
    /// own. Called under the map's lock as the instance's slot is made, so a stop signalled
    /// from then on reaches the life the new instance takes.
    pub(crate) fn forget_life(&self, id: &ActorId) {
        let mut lives = self.lives.lock().unwrap_or_else(|p| p.into_inner());
        lives.remove(id);
    }

    /// An instance of `id` failed to start: the background work it began (in `on_wake`) is
    /// cut off and its life forgotten.
    pub(crate) fn abandon_life(&self, id: &ActorId) {
        let life = self
            .lives
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(id);
        if let Some(life) = life {
            life.stop();
            life.abort_all();
        }
    }

    /// Raises the stopping signal of instance `id`, if it is awake (a turn that asks for
    /// the signal later still sees it raised).
    pub(crate) fn signal_stopping(&self, id: &ActorId) {
        if self.is_awake(id) {
            self.life(id).stop();
        }
    }
}
