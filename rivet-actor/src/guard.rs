//! Connection checks attached to an actor type from outside its impl block — the agentOS
//! pattern: a library defines the actor, the application decides who may connect to it.
//!
//! A guard runs for every connection and stateless call of its actor type, before the
//! actor's own `before_connect`, outside the actor's task (a slow guard does not hold up
//! other turns), bounded by the connect-hook timeout. It reads the client's params in a
//! shape of its own; what it returns is attached to the connection, where actions read it
//! with [`Conn::extension`](crate::Conn::extension). In-process typed connections carry no
//! wire params: a guard sees them as `null`.

use std::any::Any;
use std::future::Future;
use std::sync::Arc;

use serde::de::DeserializeOwned;

use crate::actor::Actor;
use crate::conn::Request;
use crate::error::{ActorError, Error};
use crate::storage::BoxFuture;
use crate::value::Value;

/// What a guard knows about the connection it checks.
pub struct GuardCtx<'a> {
    pub(crate) actor_name: &'static str,
    pub(crate) actor_id: &'a str,
    pub(crate) request: Option<&'a Request>,
    pub(crate) data: &'a crate::context::SharedData,
}

impl GuardCtx<'_> {
    /// The actor type's wire name.
    pub fn actor_name(&self) -> &'static str {
        self.actor_name
    }

    /// The actor's id.
    pub fn actor_id(&self) -> &str {
        self.actor_id
    }

    /// The HTTP request behind the connection.
    pub fn request(&self) -> Option<&Request> {
        self.request
    }

    /// Registry-wide data of type `T` (see [`RegistryBuilder::data`](crate::RegistryBuilder::data)).
    pub fn data<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.data.get::<T>()
    }
}

/// A check on every connection to actor type `A`, registered with
/// [`RegistryBuilder::guard`](crate::RegistryBuilder::guard).
///
/// ```
/// use rivet_actor::prelude::*;
/// use rivet_actor::guard::{ConnectGuard, GuardCtx};
///
/// # #[derive(Default, Serialize, Deserialize)] pub struct Vm { runs: u32 }
/// # #[actor] impl Vm { #[action] fn run(&mut self) -> u32 { self.runs += 1; self.runs } }
/// #[derive(Deserialize)]
/// #[serde(rename_all = "camelCase")]
/// struct AuthParams { auth_token: String }
///
/// struct User { id: String }
///
/// struct TokenGuard;
///
/// impl ConnectGuard<Vm> for TokenGuard {
///     type Params = AuthParams;
///     type Identity = User;
///     async fn check(&self, _c: &GuardCtx<'_>, params: AuthParams) -> Result<User, rivet_actor::Error> {
///         if params.auth_token.is_empty() {
///             return Err(UserError::new("Forbidden").code("forbidden").into());
///         }
///         Ok(User { id: "user-123".into() })
///     }
/// }
///
/// let registry = Registry::builder().in_memory().register::<Vm>().guard::<Vm, _>(TokenGuard).build();
/// ```
pub trait ConnectGuard<A: Actor>: Send + Sync + 'static {
    /// The params this guard reads, decoded from the client's params.
    type Params: DeserializeOwned + Send;
    /// What the guard learns about the caller, attached to the connection.
    type Identity: Send + Sync + 'static;

    /// Accepts the connection (with what it learned) or rejects it with an error.
    fn check(
        &self,
        ctx: &GuardCtx<'_>,
        params: Self::Params,
    ) -> impl Future<Output = Result<Self::Identity, Error>> + Send;
}

/// What a guard attached to a connection.
pub(crate) type Extension = Arc<dyn Any + Send + Sync>;

/// A guard with its types erased, as the host keeps it.
pub(crate) trait ErasedGuard: Send + Sync {
    fn check<'a>(
        &'a self,
        ctx: GuardCtx<'a>,
        params: Option<&'a Value>,
    ) -> BoxFuture<'a, Result<Extension, ActorError>>;
}

pub(crate) struct TypedGuard<A, G>(pub(crate) G, pub(crate) std::marker::PhantomData<fn() -> A>);

impl<A: Actor, G: ConnectGuard<A>> ErasedGuard for TypedGuard<A, G> {
    fn check<'a>(
        &'a self,
        ctx: GuardCtx<'a>,
        params: Option<&'a Value>,
    ) -> BoxFuture<'a, Result<Extension, ActorError>> {
        Box::pin(async move {
            let params: G::Params =
                crate::value::from_value(params.cloned().unwrap_or(Value::Null))
                    .map_err(ActorError::invalid_params)?;
            match self.0.check(&ctx, params).await {
                Ok(identity) => Ok(Arc::new(identity) as Extension),
                Err(err) => {
                    if !err.is_public() {
                        tracing::error!(actor = ctx.actor_name, id = ctx.actor_id, error = %err, "a connect guard failed");
                    }
                    Err(err.to_client())
                }
            }
        })
    }
}
