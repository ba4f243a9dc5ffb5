//! The actor's typed client to itself ([`ActorCtx::this`](crate::ActorCtx::this),
//! [`RunCtx::this`](crate::queue::RunCtx::this)).

use std::ops::Deref;
use std::sync::Arc;

use serde::de::DeserializeOwned;

use crate::actor::{Actor, Invoker};
use crate::context::effects::SelfCalls;
use crate::error::ClientError;

/// The actor's typed client to itself: the generated methods (through `Deref`), each call
/// a turn of its own run as the actor (no connection, no `can_invoke`), queued behind the
/// turn in progress.
///
/// ```
/// use rivet_actor::prelude::*;
///
/// #[derive(Default, Serialize, Deserialize)]
/// pub struct Ticker { ticks: u32 }
///
/// #[actor]
/// impl Ticker {
///     #[action]
///     fn start(&self, c: &mut ActionCtx<'_, Self>) {
///         let this = c.this();
///         // Awaiting `this` inside the turn would wait for a turn that cannot start
///         // before this one ends: spawn it.
///         tokio::spawn(async move { this.tick().await });
///     }
///
///     #[action]
///     fn tick(&mut self) -> u32 {
///         self.ticks += 1;
///         self.ticks
///     }
/// }
/// ```
pub struct This<A: Actor> {
    methods: A::Methods<ThisInvoker<A>>,
}

impl<A: Actor> This<A> {
    pub(crate) fn new(calls: Arc<dyn SelfCalls<A>>) -> Self {
        Self {
            methods: A::Methods::from(ThisInvoker { calls }),
        }
    }
}

impl<A: Actor> Deref for This<A> {
    type Target = A::Methods<ThisInvoker<A>>;
    fn deref(&self) -> &Self::Target {
        &self.methods
    }
}

/// The [`Invoker`] behind [`This`]: typed calls straight into the actor's mailbox, never
/// serialized.
pub struct ThisInvoker<A: Actor> {
    calls: Arc<dyn SelfCalls<A>>,
}

impl<A: Actor> Invoker<A> for ThisInvoker<A> {
    async fn invoke<R: DeserializeOwned + Send + 'static>(
        &self,
        call: A::Call,
        unwrap: fn(A::Return) -> Option<R>,
    ) -> Result<R, ClientError> {
        match self.calls.call(call).await {
            Ok(ret) => unwrap(ret)
                .ok_or_else(|| ClientError::Decode("the actor answered another action".into())),
            Err(err) => Err(ClientError::Actor(err)),
        }
    }
}
