//! Raw HTTP requests (`#[on_request]`) and raw WebSockets (`#[on_websocket]`).

use std::marker::PhantomData;

use crate::actor::Actor;
use crate::error::ActorError;
use crate::runtime::instance::Instance;

/// Commands of the raw-handler part of an instance's mailbox.
pub(crate) enum RawCommand<A: Actor> {
    #[doc(hidden)]
    _Never(std::convert::Infallible, PhantomData<fn() -> A>),
}

impl<A: Actor> RawCommand<A> {
    pub(crate) fn fail(self, err: ActorError) {
        let _ = err;
        match self {
            RawCommand::_Never(never, _) => match never {},
        }
    }
}

impl<A: Actor> Instance<A> {
    pub(super) async fn handle_raw(&mut self, cmd: RawCommand<A>) {
        match cmd {
            RawCommand::_Never(never, _) => match never {},
        }
    }
}
