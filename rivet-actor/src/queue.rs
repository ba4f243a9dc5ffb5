//! Queues from the actor's side: taking and completing messages in turns, and the `#[run]`
//! loop that waits for them.

use std::marker::PhantomData;

use crate::actor::Actor;

/// The context of an actor's `#[run]` loop.
pub struct RunCtx<A: Actor> {
    _actor: PhantomData<fn() -> A>,
}
