//! Schedules: durable delayed action calls of one actor instance.

use std::marker::PhantomData;

use crate::actor::Actor;
use crate::storage::ActorWrite;

/// The schedule part of a turn's effects: calls scheduled or cancelled by the turn, staged
/// until the turn commits.
pub(crate) struct TurnSchedule<A: Actor> {
    _actor: PhantomData<fn() -> A>,
}

impl<A: Actor> TurnSchedule<A> {
    pub(crate) fn new() -> Self {
        Self {
            _actor: PhantomData,
        }
    }

    /// Adds this turn's schedule writes to the turn's storage write.
    pub(crate) fn stage(&self, write: &mut ActorWrite) {
        let _ = write;
    }

    /// The turn's write is durable.
    pub(crate) fn committed(&self) {}

    /// The turn failed: undo what it staged.
    pub(crate) fn abort(&self) {}
}
