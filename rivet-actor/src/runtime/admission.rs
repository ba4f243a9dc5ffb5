//! A caller admitted to an actor type before its actor is resolved: the registry's guards
//! have run and the client's params have decoded, so a refused caller never creates or wakes
//! an actor.

use std::any::Any;
use std::sync::Arc;

use crate::actor::Actor;
use crate::conn::Request;
use crate::error::ActorError;
use crate::guard::Extension;
use crate::value::Value;

/// What [`ErasedActor::admit`](crate::runtime::ErasedActor::admit) made of a caller: the
/// params decoded for the actor type, what the guards learned, and the request. A
/// connection to the actor starts from it.
///
/// ```
/// # use rivet_actor::prelude::*;
/// # #[derive(Default, Serialize, Deserialize)] pub struct Counter { n: i64 }
/// # #[actor] impl Counter { #[action] fn get(&self) -> i64 { self.n } }
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let registry = Registry::builder().in_memory().register::<Counter>().build();
/// let id = registry.get_or_create::<Counter>("a").await.unwrap().id().clone();
/// let counter = registry.actor_type("counter").unwrap();
/// let admission = counter.admit(&id, None, rivet_actor::Request::new()).await.unwrap();
/// let answer = counter.stateless(&id, admission, "get", vec![]).await.unwrap();
/// assert_eq!(answer, rivet_actor::protocol::Value::Integer(0.into()));
/// # });
/// ```
pub struct Admission {
    /// The params as the client sent them (kept for a second check, see `Named::enter`).
    pub(crate) raw_params: Option<Value>,
    /// `Arc<A::ConnParams>` of the type that admitted the caller.
    pub(crate) params: Arc<dyn Any + Send + Sync>,
    pub(crate) extensions: Vec<Extension>,
    pub(crate) request: Request,
}

impl Admission {
    /// The decoded params, if this admission was made by actor type `A` (it always is: an
    /// admission goes back to the type that made it).
    pub(crate) fn params_for<A: Actor>(&self) -> Result<Arc<A::ConnParams>, ActorError> {
        self.params
            .clone()
            .downcast::<A::ConnParams>()
            .map_err(|_| {
                tracing::error!(actor = A::NAME, "an admission reached another actor type");
                ActorError::internal()
            })
    }
}
