//! The actor's typed client to itself ([`ActorCtx::this`](crate::ActorCtx::this),
//! [`RunCtx::this`](crate::queue::RunCtx::this)).

use std::ops::Deref;
use std::sync::Arc;

use serde::de::DeserializeOwned;

use crate::actor::{Actor, Invoker};
use crate::context::ActionCtx;
use crate::context::effects::{SelfCalls, TurnOutput, TurnWork};
use crate::error::{ClientError, Error};

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
    calls: Arc<dyn SelfCalls<A>>,
    methods: A::Methods<ThisInvoker<A>>,
}

impl<A: Actor> This<A> {
    pub(crate) fn new(calls: Arc<dyn SelfCalls<A>>) -> Self {
        Self {
            calls: calls.clone(),
            methods: A::Methods::from(ThisInvoker { calls }),
        }
    }

    /// Runs `work` as a turn of its own, with the actor's state and a turn's context, like
    /// an action no client can call (RivetKit's `c.state` and `c.broadcast` from a `run`
    /// handler). It waits in line behind the turns before it; what `work` changes is
    /// committed like an action's changes, and its output comes back once that commit is
    /// durable. An `Err` from `work` (or a panic) rolls the state and everything the turn
    /// staged back, and comes back as [`ClientError::Actor`] (masked if it is not public).
    ///
    /// `work` cannot await: a turn with awaits is an `#[action]`, called through `This`.
    /// Awaited inside a turn of the same actor it would wait for itself: it fails with
    /// `actor.call_cycle` instead.
    ///
    /// ```
    /// use rivet_actor::prelude::*;
    ///
    /// #[derive(Default, Serialize, Deserialize)]
    /// pub struct Page { url: String, length: Option<usize> }
    ///
    /// #[actor(events(measured = usize))]
    /// impl Page {
    ///     #[action]
    ///     fn measure(&mut self, c: &mut ActionCtx<'_, Self>, url: String) {
    ///         self.url = url.clone();
    ///         let this = c.this();
    ///         // Slow work outside the turn; its result written in a turn of its own.
    ///         c.wait_until(async move {
    ///             let length = url.len(); // a fetch, in a real actor
    ///             let _ = this
    ///                 .turn(move |state, c| {
    ///                     state.length = Some(length);
    ///                     c.broadcast(length);
    ///                     Ok(())
    ///                 })
    ///                 .await;
    ///         });
    ///     }
    ///
    ///     #[action]
    ///     fn length(&self) -> Option<usize> {
    ///         self.length
    ///     }
    /// }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let test = ActorTest::<Page>::new();
    /// # let page = test.get_or_create("p").await.unwrap();
    /// # page.measure("https://example.com".into()).await.unwrap();
    /// # let mut length = None;
    /// # for _ in 0..500 {
    /// #     length = page.length().await.unwrap();
    /// #     if length.is_some() { break; }
    /// #     tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    /// # }
    /// # assert_eq!(length, Some(19));
    /// # });
    /// ```
    pub async fn turn<R, F>(&self, work: F) -> Result<R, ClientError>
    where
        R: Send + 'static,
        F: FnOnce(&mut A, &mut ActionCtx<'_, A>) -> Result<R, Error> + Send + 'static,
    {
        let work: TurnWork<A> =
            Box::new(move |state, c| work(state, c).map(|output| Box::new(output) as TurnOutput));
        match self.calls.turn(work).await {
            Ok(output) => output
                .downcast::<R>()
                .map(|output| *output)
                .map_err(|_| ClientError::Decode("the turn answered another type".into())),
            Err(err) => Err(ClientError::Actor(err)),
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
