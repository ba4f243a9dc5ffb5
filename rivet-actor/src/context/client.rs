//! `c.client()`: an actor's typed client to the other actors of its registry.
//!
//! Calls go in-process (the generated `Call` enum into the other actor's mailbox, never
//! serialized) and run as a stateless call of an in-process client would: the connect
//! hooks and `can_invoke` of the called actor run, with the params given by
//! [`Peer::with_params`] (none by default).
//!
//! In engine mode an actor this host does not run is called through the engine's gateway
//! (by name and key, or id; connection params cannot be given there yet), carrying the
//! chain of waiting turns in a header, so a cycle across hosts is refused too.
//!
//! **Cycles.** An actor's turns run one at a time, so a turn that awaits a call which
//! (directly or through other actors) calls back into the same actor would wait for ever.
//! Every call made from inside a turn carries the chain of turns waiting on it; a call that
//! would enter an actor whose turn is waiting upstream fails at once with
//! `actor.call_cycle` instead. So does a call an actor makes to itself from inside its
//! turn (through `c.client()` or [`This`](crate::context::This)). Calls made from a task
//! the turn spawned are not part of the chain: they queue behind the turn, as any
//! outside caller's would.

use std::ops::Deref;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::de::DeserializeOwned;

use crate::actor::{Actor, Invoker};
use crate::context::effects::{PeerAnswer, PeerCalls, PeerDirectory, PeerResolver, PeerTarget};
use crate::error::{ActorError, ClientError};
use crate::naming::{ActorId, Key, Lookup};
use crate::queue::QueueSendResult;
use crate::runtime::call_ids::{CallId, CallIds, CallKind, Slot};

/// A turn waiting on the calls made from it: the actor, and whether the turn still runs.
#[derive(Clone)]
pub(crate) struct Link {
    pub(crate) actor: ActorId,
    pub(crate) running: Arc<AtomicBool>,
}

/// The turns waiting upstream of a call, outermost first.
pub(crate) type Chain = Arc<[Link]>;

/// Where a client was made: the turn's task and its chain (the turn itself last).
#[derive(Clone)]
pub(crate) struct Origin {
    pub(crate) task: Option<tokio::task::Id>,
    pub(crate) chain: Chain,
    /// Ids for the calls of a turn the engine may run again (`runtime/call_ids.rs`).
    pub(crate) call_ids: Option<Arc<CallIds>>,
    /// The actor a peer's calls go to, as it was looked up (its type, key or id): part of
    /// their ids.
    pub(crate) toward: Option<Arc<str>>,
}

impl Origin {
    /// The chain a call made now belongs to: the origin's, when the call is made from the
    /// turn that made the client (its task, while it runs); none from any other task.
    pub(crate) fn current(&self) -> Option<Chain> {
        self.in_turn().then(|| self.chain.clone())
    }

    /// The id of a call or send of `kind` to `name` made now, when it is made by a turn the
    /// engine may run again (`runtime/call_ids.rs`); none from any other task. `args`
    /// gives its arguments (asked only then).
    pub(crate) fn call_id(
        &self,
        kind: CallKind,
        name: &str,
        args: impl FnOnce() -> Option<crate::value::Value>,
    ) -> Option<CallClaim> {
        let ids = self.call_ids.as_ref().filter(|_| self.in_turn())?;
        // Every peer's origin names its target (`ActorClient::peer`).
        debug_assert!(self.toward.is_some(), "a call id without its target");
        let target = self.toward.as_deref().unwrap_or_default();
        Some(CallClaim {
            slot: ids.take(target, kind, name, args()),
            ids: ids.clone(),
        })
    }

    /// The origin of the calls of a peer looked up as `lookup`.
    fn toward<B: Actor>(mut self, lookup: &Lookup<B::Input>) -> Self {
        // Each part led by its length: no key's parts can spell another key's.
        let mut label = String::new();
        let mut part = |text: &str| label.push_str(&format!("{}:{text}", text.len()));
        part(B::NAME);
        match lookup {
            Lookup::Id(id) => {
                part("id");
                part(id.as_str());
            }
            Lookup::Get(key) | Lookup::GetOrCreate(key, _) | Lookup::Create(key, _) => {
                part("key");
                key.parts().iter().for_each(|text| part(text));
            }
        }
        self.toward = Some(label.into());
        self
    }

    fn in_turn(&self) -> bool {
        let Some(turn) = self.chain.last() else {
            return false;
        };
        let same_task = self.task.is_some() && tokio::task::try_id() == self.task;
        same_task && turn.running.load(Ordering::SeqCst)
    }
}

/// A call's id as the turn holds it: given back if the call fails unapplied, so a retry
/// takes the same id.
pub(crate) struct CallClaim {
    slot: Slot,
    ids: Arc<CallIds>,
}

impl CallClaim {
    pub(crate) fn id(&self) -> &CallId {
        &self.slot.id
    }

    /// The call failed unapplied: its id is free again.
    pub(crate) fn failed(self) {
        self.ids.give_back(&self.slot);
    }
}

/// Whether a call into `target` made within `chain` would wait for a turn that waits for
/// it: `actor.call_cycle` if so.
pub(crate) fn check_cycle(chain: Option<&Chain>, target: &ActorId) -> Result<(), ActorError> {
    let waiting = chain.is_some_and(|chain| {
        chain
            .iter()
            .any(|link| link.actor == *target && link.running.load(Ordering::SeqCst))
    });
    if waiting {
        Err(ActorError::call_cycle(target.as_str()))
    } else {
        Ok(())
    }
}

/// The actor's typed client to the other actors of its registry (`c.client()`).
///
/// ```
/// use rivet_actor::prelude::*;
///
/// #[derive(Default, Serialize, Deserialize)]
/// pub struct Inventory { stock: u32 }
///
/// #[actor]
/// impl Inventory {
///     #[action]
///     fn take(&mut self, n: u32) -> bool {
///         let ok = self.stock >= n;
///         if ok { self.stock -= n; }
///         ok
///     }
/// }
///
/// #[derive(Default, Serialize, Deserialize)]
/// pub struct Checkout { orders: u32 }
///
/// #[actor]
/// impl Checkout {
///     #[action]
///     async fn order(&mut self, c: &mut ActionCtx<'_, Self>, n: u32) -> Result<bool, Error> {
///         let inventory = c.client().get_or_create::<Inventory>(["main"]).await?;
///         let taken = inventory.take(n).await?;
///         if taken { self.orders += 1; }
///         Ok(taken)
///     }
/// }
/// ```
#[derive(Clone)]
pub struct ActorClient {
    directory: Arc<dyn PeerDirectory>,
    origin: Option<Origin>,
}

impl ActorClient {
    pub(crate) fn new(directory: Arc<dyn PeerDirectory>, origin: Option<Origin>) -> Self {
        ActorClient { directory, origin }
    }

    fn resolver<B: Actor>(&self) -> Result<Arc<dyn PeerResolver<B>>, ClientError> {
        self.directory
            .resolver(std::any::TypeId::of::<B>())
            .and_then(|any| any.downcast_ref::<Arc<dyn PeerResolver<B>>>())
            .cloned()
            .ok_or_else(|| ClientError::Actor(ActorError::unknown_actor(B::NAME)))
    }

    async fn peer<B: Actor>(&self, lookup: Lookup<B::Input>) -> Result<Peer<B>, ClientError> {
        let resolver = self.resolver::<B>()?;
        let origin = self
            .origin
            .clone()
            .map(|origin| origin.toward::<B>(&lookup));
        let target = resolver.resolve(lookup).await?;
        Ok(Peer::new(target, resolver, None, origin))
    }

    /// The actor of type `B` with this key; `actor.not_found` if there is none.
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// # #[derive(Default, Serialize, Deserialize)] pub struct Counter { n: u32 }
    /// # #[actor] impl Counter { #[action] fn bump(&mut self) -> u32 { self.n += 1; self.n } }
    /// # #[derive(Default, Serialize, Deserialize)] pub struct Caller;
    /// # #[actor] impl Caller {
    /// #[action]
    /// async fn bump_if_there(&self, c: &ActionCtx<'_, Self>) -> Result<Option<u32>, Error> {
    ///     match c.client().get::<Counter>(["shared"]).await {
    ///         Ok(counter) => Ok(Some(counter.bump().await?)),
    ///         Err(err) if err.is_not_found() => Ok(None),
    ///         Err(err) => Err(err.into()),
    ///     }
    /// }
    /// # }
    /// ```
    pub async fn get<B: Actor>(&self, key: impl Into<Key>) -> Result<Peer<B>, ClientError> {
        self.peer(Lookup::Get(key.into())).await
    }

    /// The actor of type `B` with this key, created (without input) if there is none.
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// # #[derive(Default, Serialize, Deserialize)] pub struct Counter { n: u32 }
    /// # #[actor] impl Counter { #[action] fn bump(&mut self) -> u32 { self.n += 1; self.n } }
    /// # #[derive(Default, Serialize, Deserialize)] pub struct Caller;
    /// # #[actor] impl Caller {
    /// #[action]
    /// async fn bump(&self, c: &ActionCtx<'_, Self>) -> Result<u32, Error> {
    ///     Ok(c.client().get_or_create::<Counter>(["shared"]).await?.bump().await?)
    /// }
    /// # }
    /// ```
    pub async fn get_or_create<B: Actor>(
        &self,
        key: impl Into<Key>,
    ) -> Result<Peer<B>, ClientError> {
        self.peer(Lookup::GetOrCreate(key.into(), None)).await
    }

    /// The actor of type `B` with this key, created with `input` if there is none.
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// # #[derive(Default, Serialize, Deserialize)] pub struct Counter { n: u32 }
    /// # #[actor] impl Counter { #[action] fn bump(&mut self) -> u32 { self.n += 1; self.n } }
    /// # #[derive(Default, Serialize, Deserialize)] pub struct Caller;
    /// # #[actor] impl Caller {
    /// #[action]
    /// async fn bump(&self, c: &ActionCtx<'_, Self>) -> Result<u32, Error> {
    ///     let counter = c.client().get_or_create_with::<Counter>(["shared"], NoParams).await?;
    ///     Ok(counter.bump().await?)
    /// }
    /// # }
    /// ```
    pub async fn get_or_create_with<B: Actor>(
        &self,
        key: impl Into<Key>,
        input: B::Input,
    ) -> Result<Peer<B>, ClientError> {
        self.peer(Lookup::GetOrCreate(key.into(), Some(input)))
            .await
    }

    /// A new actor of type `B` with this key and input; `actor.already_exists` if taken.
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// # #[derive(Default, Serialize, Deserialize)] pub struct Counter { n: u32 }
    /// # #[actor] impl Counter { #[action] fn bump(&mut self) -> u32 { self.n += 1; self.n } }
    /// # #[derive(Default, Serialize, Deserialize)] pub struct Caller;
    /// # #[actor] impl Caller {
    /// #[action]
    /// async fn start_fresh(&self, c: &ActionCtx<'_, Self>, key: String) -> Result<u32, Error> {
    ///     Ok(c.client().create::<Counter>([key.as_str()], NoParams).await?.bump().await?)
    /// }
    /// # }
    /// ```
    pub async fn create<B: Actor>(
        &self,
        key: impl Into<Key>,
        input: B::Input,
    ) -> Result<Peer<B>, ClientError> {
        self.peer(Lookup::Create(key.into(), Some(input))).await
    }

    /// The actor of type `B` with this id.
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// # #[derive(Default, Serialize, Deserialize)] pub struct Counter { n: u32 }
    /// # #[actor] impl Counter { #[action] fn bump(&mut self) -> u32 { self.n += 1; self.n } }
    /// # #[derive(Default, Serialize, Deserialize)] pub struct Caller;
    /// # #[actor] impl Caller {
    /// #[action]
    /// async fn bump_by_id(&self, c: &ActionCtx<'_, Self>, id: String) -> Result<u32, Error> {
    ///     let id = rivet_actor::ActorId::new(id);
    ///     Ok(c.client().get_for_id::<Counter>(&id).await?.bump().await?)
    /// }
    /// # }
    /// ```
    pub async fn get_for_id<B: Actor>(&self, id: &ActorId) -> Result<Peer<B>, ClientError> {
        self.peer(Lookup::Id(id.clone())).await
    }
}

/// Another actor as `c.client()` found it: its generated methods through `Deref`.
pub struct Peer<B: Actor> {
    target: PeerTarget,
    resolver: Arc<dyn PeerResolver<B>>,
    origin: Option<Origin>,
    calls: Arc<dyn PeerCalls<B>>,
    methods: B::Methods<PeerInvoker<B>>,
}

impl<B: Actor> Peer<B> {
    fn new(
        target: PeerTarget,
        resolver: Arc<dyn PeerResolver<B>>,
        params: Option<Arc<B::ConnParams>>,
        origin: Option<Origin>,
    ) -> Self {
        let calls = resolver.calls(&target, params, origin.clone());
        Peer {
            target,
            resolver,
            origin,
            calls: calls.clone(),
            methods: B::Methods::from(PeerInvoker { calls }),
        }
    }

    /// The actor's id; `None` for an actor on another host of the engine (its id is the
    /// engine's, and the call goes by name and key).
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// # #[derive(Default, Serialize, Deserialize)] pub struct Counter { n: u32 }
    /// # #[actor] impl Counter { #[action] fn bump(&mut self) -> u32 { self.n += 1; self.n } }
    /// # #[derive(Default, Serialize, Deserialize)] pub struct Caller;
    /// # #[actor] impl Caller {
    /// #[action]
    /// async fn counter_id(&self, c: &ActionCtx<'_, Self>) -> Result<String, Error> {
    ///     let counter = c.client().get_or_create::<Counter>(["shared"]).await?;
    ///     Ok(counter.id().map(ToString::to_string).unwrap_or_default())
    /// }
    /// # }
    /// ```
    pub fn id(&self) -> Option<&ActorId> {
        match &self.target {
            PeerTarget::Local(id) => Some(id),
            PeerTarget::Remote(_) => None,
        }
    }

    /// Sends `message` to the actor's queue (declared with `#[actor(queues(..))]`; only
    /// declared message types compile), as a client's send would: its connect hooks,
    /// `can_invoke` and `can_publish` run with this peer's params. Resolves once the message
    /// is durably queued. Awaited inside a turn, a send to an actor whose turn waits
    /// upstream (this actor included) fails with `actor.call_cycle`.
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// #[derive(Serialize, Deserialize)]
    /// pub struct Resize { image: String }
    ///
    /// #[derive(Default, Serialize, Deserialize)]
    /// pub struct Resizer;
    ///
    /// #[actor(queues(resizes = Resize))]
    /// impl Resizer {
    ///     #[action]
    ///     fn waiting(&self, c: &ActionCtx<'_, Self>) -> usize {
    ///         c.queue().waiting::<Resize>()
    ///     }
    /// }
    ///
    /// #[derive(Default, Serialize, Deserialize)]
    /// pub struct Gallery { images: Vec<String> }
    ///
    /// #[actor]
    /// impl Gallery {
    ///     #[action]
    ///     async fn upload(&mut self, c: &ActionCtx<'_, Self>, image: String) -> Result<(), Error> {
    ///         self.images.push(image.clone());
    ///         let resizer = c.client().get_or_create::<Resizer>(["shared"]).await?;
    ///         resizer.send(Resize { image }).await?;
    ///         Ok(())
    ///     }
    /// }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let registry = Registry::builder().in_memory().register::<Gallery>().register::<Resizer>().build();
    /// # let gallery = registry.get_or_create::<Gallery>("g").await.unwrap();
    /// # gallery.upload("cat.png".into()).await.unwrap();
    /// # let resizer = registry.get_or_create::<Resizer>("shared").await.unwrap();
    /// # assert_eq!(resizer.waiting().await.unwrap(), 1);
    /// # });
    /// ```
    pub async fn send<T: crate::actor::Queue<B>>(&self, message: T) -> Result<(), ClientError> {
        self.queue_send(message, None).await.map(drop)
    }

    /// Sends `message` and waits up to `timeout` for a consumer to complete it; the
    /// response is typed by the queue's declared completion type. As [`Peer::send`]
    /// otherwise. A turn that waits here holds its actor for as long: prefer it from a
    /// `#[run]` loop or background work.
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// # use rivet_actor::queue::QueueSendResult;
    /// # use std::time::Duration;
    /// #[derive(Serialize, Deserialize)]
    /// pub struct Quote { item: String }
    ///
    /// #[derive(Default, Serialize, Deserialize)]
    /// pub struct Pricer;
    ///
    /// #[actor(queues(quotes = Quote -> u32))]
    /// impl Pricer {
    ///     #[run]
    ///     async fn run(c: RunCtx<Self>) {
    ///         while let Some(quote) = c.queue().next::<Quote>().await {
    ///             let price = quote.body.item.len() as u32;
    ///             c.queue().complete(&quote, price);
    ///         }
    ///     }
    /// }
    ///
    /// #[derive(Default, Serialize, Deserialize)]
    /// pub struct Shop;
    ///
    /// #[actor]
    /// impl Shop {
    ///     #[run]
    ///     async fn run(c: RunCtx<Self>) {
    ///         let Ok(pricer) = c.client().get_or_create::<Pricer>(["main"]).await else { return };
    ///         let quote = Quote { item: "tea".into() };
    ///         if let Ok(QueueSendResult::Completed(Some(price))) =
    ///             pricer.send_and_wait(quote, Duration::from_secs(5)).await
    ///         {
    ///             assert_eq!(price, 3);
    ///         }
    ///     }
    /// }
    /// ```
    pub async fn send_and_wait<T: crate::actor::Queue<B>>(
        &self,
        message: T,
        timeout: std::time::Duration,
    ) -> Result<QueueSendResult<T::Completion>, ClientError> {
        self.queue_send(message, Some(timeout)).await
    }

    async fn queue_send<T: crate::actor::Queue<B>>(
        &self,
        message: T,
        wait: Option<std::time::Duration>,
    ) -> Result<QueueSendResult<T::Completion>, ClientError> {
        let body =
            crate::value::to_value(&message).map_err(|err| ClientError::Decode(err.to_string()))?;
        let sent = self.calls.queue_send(T::TARGET, body, wait).await;
        match sent.map_err(ClientError::Actor)? {
            QueueSendResult::TimedOut => Ok(QueueSendResult::TimedOut),
            QueueSendResult::Completed(response) => Ok(QueueSendResult::Completed(
                response
                    .map(crate::value::from_value)
                    .transpose()
                    .map_err(|err| ClientError::Decode(err.to_string()))?,
            )),
        }
    }

    /// Calls with these connection params (what the called actor's connect hooks see).
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// # #[derive(Deserialize)] pub struct Pass { token: String }
    /// # #[derive(Default, Serialize, Deserialize)] pub struct Vault;
    /// # #[actor] impl Vault {
    /// # #[before_connect] fn check(&self, params: &Pass) -> Result<(), UserError> {
    /// #     if params.token == "open" { Ok(()) } else { Err(UserError::new("no")) } }
    /// # #[action] fn peek(&self) -> u32 { 7 } }
    /// # #[derive(Default, Serialize, Deserialize)] pub struct Thief;
    /// # #[actor] impl Thief {
    /// #[action]
    /// async fn steal(&self, c: &ActionCtx<'_, Self>) -> Result<u32, Error> {
    ///     let vault = c.client().get_or_create::<Vault>(["v"]).await?;
    ///     Ok(vault.with_params(Pass { token: "open".into() }).peek().await?)
    /// }
    /// # }
    /// ```
    pub fn with_params(self, params: B::ConnParams) -> Self {
        Peer::new(
            self.target,
            self.resolver,
            Some(Arc::new(params)),
            self.origin,
        )
    }
}

impl<B: Actor> Deref for Peer<B> {
    type Target = B::Methods<PeerInvoker<B>>;
    fn deref(&self) -> &Self::Target {
        &self.methods
    }
}

/// The [`Invoker`] behind [`Peer`]: typed calls into the other actor's mailbox.
pub struct PeerInvoker<B: Actor> {
    calls: Arc<dyn PeerCalls<B>>,
}

impl<B: Actor> Invoker<B> for PeerInvoker<B> {
    async fn invoke<R: DeserializeOwned + Send + 'static>(
        &self,
        call: B::Call,
        unwrap: fn(B::Return) -> Option<R>,
    ) -> Result<R, ClientError> {
        match self.calls.call(call).await {
            Ok(PeerAnswer::Typed(ret)) => unwrap(ret)
                .ok_or_else(|| ClientError::Decode("the actor answered another action".into())),
            Ok(PeerAnswer::Encoded(value)) => {
                crate::value::from_value(value).map_err(|err| ClientError::Decode(err.to_string()))
            }
            Err(err) => Err(ClientError::Actor(err)),
        }
    }
}
