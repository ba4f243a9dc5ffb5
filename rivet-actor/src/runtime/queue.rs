//! Queues: durable, bounded, typed message queues of one actor instance.

use std::marker::PhantomData;

use crate::actor::Actor;
use crate::error::ActorError;
use crate::runtime::instance::Instance;
use crate::storage::ActorWrite;

/// Commands of the queue part of an instance's mailbox.
pub(crate) enum QueueCommand<A: Actor> {
    #[doc(hidden)]
    _Never(std::convert::Infallible, PhantomData<fn() -> A>),
}

impl<A: Actor> QueueCommand<A> {
    pub(crate) fn fail(self, err: ActorError) {
        let _ = err;
        match self {
            QueueCommand::_Never(never, _) => match never {},
        }
    }
}

/// The queue part of a turn's effects: what the turn took and completed, staged until the
/// turn commits.
pub(crate) struct TurnQueue<A: Actor> {
    _actor: PhantomData<fn() -> A>,
}

impl<A: Actor> TurnQueue<A> {
    pub(crate) fn new() -> Self {
        Self {
            _actor: PhantomData,
        }
    }

    /// Adds this turn's queue writes to the turn's storage write.
    pub(crate) fn stage(&self, write: &mut ActorWrite) {
        let _ = write;
    }

    /// The turn's write is durable.
    pub(crate) fn committed(&self) {}

    /// The turn failed: undo what it staged.
    pub(crate) fn abort(&self) {}
}

impl<A: Actor> Instance<A> {
    pub(super) async fn handle_queue(&mut self, cmd: QueueCommand<A>) {
        match cmd {
            QueueCommand::_Never(never, _) => match never {},
        }
    }
}
