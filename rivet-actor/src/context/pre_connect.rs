use std::marker::PhantomData;

use crate::actor::Actor;
use crate::conn::{ConnId, Request};
use crate::context::SharedData;

/// The context of a `#[before_connect]` or `#[conn_state]` hook written without `self`:
/// such a hook runs outside the actor's turn, concurrently with its turns and with other
/// connects, so a slow check (an external auth service) never holds the actor up. It sees
/// the request, the actor's id and key and the registry's data — not the state or the vars.
///
/// ```
/// use rivet_actor::context::PreConnectCtx;
/// use rivet_actor::prelude::*;
///
/// #[derive(Default, Serialize, Deserialize)]
/// pub struct Api;
///
/// #[derive(Deserialize)]
/// pub struct Params { api_key: String }
///
/// #[actor]
/// impl Api {
///     #[conn_state]
///     async fn validate(c: &PreConnectCtx<'_, Self>, params: &Params) -> Result<String, UserError> {
///         // e.g. an HTTP call to an auth service: other connects and turns go on meanwhile
///         if params.api_key.is_empty() || c.key().is_empty() {
///             return Err(UserError::new("Invalid API key").code("forbidden"));
///         }
///         Ok(format!("user of {}", c.key().join("/")))
///     }
/// }
/// ```
pub struct PreConnectCtx<'a, A: Actor> {
    pub(crate) actor_id: &'a str,
    pub(crate) key: &'a [String],
    pub(crate) conn_id: &'a ConnId,
    pub(crate) request: Option<&'a Request>,
    pub(crate) data: &'a SharedData,
    pub(crate) actor: PhantomData<fn() -> A>,
}

impl<A: Actor> PreConnectCtx<'_, A> {
    /// The actor's stable id.
    ///
    /// ```
    /// # use rivet_actor::{context::PreConnectCtx, prelude::*};
    /// # #[derive(Default, Serialize, Deserialize)] pub struct Api;
    /// # #[actor] impl Api {
    /// #[conn_state]
    /// fn who(c: &PreConnectCtx<'_, Self>, _params: &NoParams) -> String {
    ///     c.actor_id().to_owned()
    /// }
    /// # }
    /// ```
    pub fn actor_id(&self) -> &str {
        self.actor_id
    }

    /// The actor's key.
    ///
    /// ```
    /// # use rivet_actor::{context::PreConnectCtx, prelude::*};
    /// # #[derive(Default, Serialize, Deserialize)] pub struct Api;
    /// # #[actor] impl Api {
    /// #[before_connect]
    /// fn public_only(c: &PreConnectCtx<'_, Self>, _params: &NoParams) -> Result<(), UserError> {
    ///     if c.key().first().map(String::as_str) == Some("private") {
    ///         return Err(UserError::new("Private").code("forbidden"));
    ///     }
    ///     Ok(())
    /// }
    /// # }
    /// ```
    pub fn key(&self) -> &[String] {
        self.key
    }

    /// The id the connection will have if accepted.
    ///
    /// ```
    /// # use rivet_actor::{context::PreConnectCtx, prelude::*};
    /// # #[derive(Default, Serialize, Deserialize)] pub struct Api;
    /// # #[actor] impl Api {
    /// #[conn_state]
    /// fn state(c: &PreConnectCtx<'_, Self>, _params: &NoParams) -> String {
    ///     c.conn_id().to_string()
    /// }
    /// # }
    /// ```
    pub fn conn_id(&self) -> &ConnId {
        self.conn_id
    }

    /// The HTTP request behind the connection, if any.
    ///
    /// ```
    /// # use rivet_actor::{context::PreConnectCtx, prelude::*};
    /// # #[derive(Default, Serialize, Deserialize)] pub struct Api;
    /// # #[actor] impl Api {
    /// #[conn_state]
    /// fn agent(c: &PreConnectCtx<'_, Self>, _params: &NoParams) -> Option<String> {
    ///     c.request().and_then(|r| r.header_str("user-agent")).map(str::to_owned)
    /// }
    /// # }
    /// ```
    pub fn request(&self) -> Option<&Request> {
        self.request
    }

    /// The request's `Origin` header.
    ///
    /// ```
    /// # use rivet_actor::{context::PreConnectCtx, prelude::*};
    /// # #[derive(Default, Serialize, Deserialize)] pub struct Api;
    /// # #[actor] impl Api {
    /// #[conn_state]
    /// fn origin(c: &PreConnectCtx<'_, Self>, _params: &NoParams) -> Option<String> {
    ///     c.origin().map(str::to_owned)
    /// }
    /// # }
    /// ```
    pub fn origin(&self) -> Option<&str> {
        self.request.and_then(Request::origin)
    }

    /// Registry-wide data of type `T` (see [`RegistryBuilder::data`](crate::RegistryBuilder::data)).
    ///
    /// ```
    /// # use rivet_actor::{context::PreConnectCtx, prelude::*};
    /// struct AuthUrl(String);
    /// # #[derive(Default, Serialize, Deserialize)] pub struct Api;
    /// # #[actor] impl Api {
    /// #[conn_state]
    /// fn url(c: &PreConnectCtx<'_, Self>, _params: &NoParams) -> String {
    ///     c.data::<AuthUrl>().map(|u| u.0.clone()).unwrap_or_default()
    /// }
    /// # }
    /// ```
    pub fn data<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.data.get::<T>()
    }
}
