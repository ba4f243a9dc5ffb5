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

    /// A new instance of `id` started: a life a leaving one left behind is not its own.
    pub(crate) fn forget_life(&self, id: &ActorId) {
        let mut lives = self.lives.lock().unwrap_or_else(|p| p.into_inner());
        lives.remove(id);
    }

    /// Raises the stopping signal of instance `id`, if it is awake (a turn that asks for
    /// the signal later still sees it raised).
    pub(crate) fn signal_stopping(&self, id: &ActorId) {
        if self.is_awake(id) {
            self.life(id).stop();
        }
    }
}
