use crate::actor::Actor;
use crate::conn::{Conn, ConnId, Request};
use crate::context::ActorMeta;

/// The context of `#[before_connect]` and `#[conn_state]`: the request, the actor's key and
/// its vars (mutable, e.g. for a rate limiter). The state is the hook's `&self`.
///
/// ```
/// use rivet_actor::prelude::*;
///
/// #[derive(Default, Serialize, Deserialize)]
/// pub struct Vault;
///
/// #[derive(Deserialize)]
/// #[serde(rename_all = "camelCase")]
/// pub struct Params { auth_token: String }
///
/// #[actor]
/// impl Vault {
///     #[before_connect]
///     fn check(&self, c: &ConnectCtx<'_, Self>, params: &Params) -> Result<(), UserError> {
///         if params.auth_token.is_empty() || c.origin() == Some("https://evil.example") {
///             return Err(UserError::new("Forbidden").code("forbidden"));
///         }
///         Ok(())
///     }
/// }
/// ```
pub struct ConnectCtx<'a, A: Actor> {
    pub(crate) meta: &'a ActorMeta,
    pub(crate) vars: &'a mut A::Vars,
    pub(crate) request: Option<&'a Request>,
    pub(crate) conn_id: &'a ConnId,
}

impl<A: Actor> ConnectCtx<'_, A> {
    /// The actor's stable id.
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// # #[derive(Default, Serialize, Deserialize)] pub struct Vault;
    /// # #[actor] impl Vault {
    /// #[conn_state]
    /// fn conn(&self, c: &ConnectCtx<'_, Self>, _params: &NoParams) -> String {
    ///     format!("{} via {}", c.conn_id(), c.actor_id())
    /// }
    /// # }
    /// ```
    pub fn actor_id(&self) -> &str {
        &self.meta.id
    }

    /// The actor's key.
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// # #[derive(Default, Serialize, Deserialize)] pub struct Vault;
    /// # #[actor] impl Vault {
    /// #[before_connect]
    /// fn only_public(&self, c: &ConnectCtx<'_, Self>, _params: &NoParams) -> Result<(), UserError> {
    ///     if c.key().first().map(String::as_str) == Some("private") {
    ///         return Err(UserError::new("Private vault").code("forbidden"));
    ///     }
    ///     Ok(())
    /// }
    /// # }
    /// ```
    pub fn key(&self) -> &[String] {
        &self.meta.key
    }

    /// The id the connection will have if accepted.
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// # #[derive(Default, Serialize, Deserialize)] pub struct Vault;
    /// # #[actor] impl Vault {
    /// #[conn_state]
    /// fn conn(&self, c: &ConnectCtx<'_, Self>, _params: &NoParams) -> String {
    ///     c.conn_id().to_string()
    /// }
    /// # }
    /// ```
    pub fn conn_id(&self) -> &ConnId {
        self.conn_id
    }

    /// The HTTP request behind the connection (the stateless call's request, or the
    /// WebSocket upgrade). `None` for in-process connections made without one.
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// # #[derive(Default, Serialize, Deserialize)] pub struct Vault;
    /// # #[actor] impl Vault {
    /// #[before_connect]
    /// fn agent(&self, c: &ConnectCtx<'_, Self>, _params: &NoParams) -> Result<(), UserError> {
    ///     let agent = c.request().and_then(|r| r.header_str("user-agent")).unwrap_or("");
    ///     if agent.contains("badbot") {
    ///         return Err(UserError::new("Not for bots").code("forbidden"));
    ///     }
    ///     Ok(())
    /// }
    /// # }
    /// ```
    pub fn request(&self) -> Option<&Request> {
        self.request
    }

    /// The request's `Origin` header.
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// # #[derive(Default, Serialize, Deserialize)] pub struct Vault;
    /// # #[actor] impl Vault {
    /// #[conn_state]
    /// fn conn(&self, c: &ConnectCtx<'_, Self>, _params: &NoParams) -> Option<String> {
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
    /// # use rivet_actor::prelude::*;
    /// struct Banned(Vec<String>);
    /// # #[derive(Default, Serialize, Deserialize)] pub struct Vault;
    /// # #[actor] impl Vault {
    /// #[before_connect]
    /// fn check(&self, c: &ConnectCtx<'_, Self>, _params: &NoParams) -> Result<(), UserError> {
    ///     let origin = c.origin().unwrap_or_default();
    ///     match c.data::<Banned>() {
    ///         Some(banned) if banned.0.iter().any(|b| b == origin) => {
    ///             Err(UserError::new("Banned").code("forbidden"))
    ///         }
    ///         _ => Ok(()),
    ///     }
    /// }
    /// # }
    /// ```
    pub fn data<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.meta.data.get::<T>()
    }

    /// The ephemeral vars.
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// # #[derive(Default, Serialize, Deserialize)] pub struct Vault;
    /// pub struct Vars { open: bool }
    /// # #[actor] impl Vault {
    /// # #[create_vars] fn vars(&self, _c: &CreateCtx<'_>) -> Vars { Vars { open: true } }
    /// #[before_connect]
    /// fn check(&self, c: &ConnectCtx<'_, Self>, _params: &NoParams) -> Result<(), UserError> {
    ///     if !c.vars().open {
    ///         return Err(UserError::new("Closed").code("closed"));
    ///     }
    ///     Ok(())
    /// }
    /// # }
    /// ```
    pub fn vars(&self) -> &A::Vars {
        self.vars
    }

    /// The ephemeral vars, mutably (a rate limiter's counters, a token cache).
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// # #[derive(Default, Serialize, Deserialize)] pub struct Vault;
    /// #[derive(Default)]
    /// pub struct Vars { attempts: u32 }
    /// # #[actor] impl Vault {
    /// # #[create_vars] fn vars(&self, _c: &CreateCtx<'_>) -> Vars { Vars::default() }
    /// #[before_connect]
    /// fn check(&self, c: &mut ConnectCtx<'_, Self>, _params: &NoParams) -> Result<(), UserError> {
    ///     c.vars_mut().attempts += 1;
    ///     if c.vars().attempts > 100 {
    ///         return Err(UserError::new("Too many attempts").code("rate_limited"));
    ///     }
    ///     Ok(())
    /// }
    /// # }
    /// ```
    pub fn vars_mut(&mut self) -> &mut A::Vars {
        self.vars
    }
}

/// The context of `#[can_invoke]`, `#[can_subscribe]` and `#[can_publish]`: the calling
/// connection and a read-only view of the actor.
///
/// ```
/// use rivet_actor::prelude::*;
///
/// #[derive(Default, Serialize, Deserialize)]
/// pub struct Doc { text: String }
///
/// #[derive(Deserialize)]
/// pub struct Params { role: String }
///
/// #[actor]
/// impl Doc {
///     #[conn_state]
///     fn role(&self, _c: &ConnectCtx<'_, Self>, params: &Params) -> String {
///         params.role.clone()
///     }
///
///     #[can_invoke]
///     fn allow(&self, c: &ConnCtx<'_, Self>, invoke: Invoke<Self>) -> bool {
///         match invoke {
///             Invoke::Action(DocAction::Edit) => c.conn().state() == "editor",
///             Invoke::Action(DocAction::Read) => true,
///             _ => false,
///         }
///     }
///
///     #[action]
///     fn edit(&mut self, text: String) { self.text = text; }
///
///     #[action]
///     fn read(&self) -> String { self.text.clone() }
/// }
/// ```
pub struct ConnCtx<'a, A: Actor> {
    pub(crate) meta: &'a ActorMeta,
    pub(crate) vars: &'a A::Vars,
    pub(crate) conn: &'a Conn<A>,
}

impl<'a, A: Actor> ConnCtx<'a, A> {
    /// The actor's stable id.
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// # #[derive(Default, Serialize, Deserialize)] pub struct Doc;
    /// # #[actor] impl Doc {
    /// #[can_invoke]
    /// fn allow(&self, c: &ConnCtx<'_, Self>, _invoke: Invoke<Self>) -> bool {
    ///     !c.actor_id().is_empty()
    /// }
    /// # }
    /// ```
    pub fn actor_id(&self) -> &str {
        &self.meta.id
    }

    /// The actor's key.
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// # #[derive(Default, Serialize, Deserialize)] pub struct Doc;
    /// # #[actor] impl Doc {
    /// #[can_invoke]
    /// fn allow(&self, c: &ConnCtx<'_, Self>, _invoke: Invoke<Self>) -> bool {
    ///     c.key().first().map(String::as_str) != Some("archived")
    /// }
    /// # }
    /// ```
    pub fn key(&self) -> &[String] {
        &self.meta.key
    }

    /// The calling connection.
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// # #[derive(Default, Serialize, Deserialize)] pub struct Doc;
    /// # #[derive(Deserialize)] pub struct Params { admin: bool }
    /// # #[actor] impl Doc {
    /// # #[conn_state] fn s(&self, _c: &ConnectCtx<'_, Self>, _p: &Params) {}
    /// #[can_invoke]
    /// fn allow(&self, c: &ConnCtx<'_, Self>, _invoke: Invoke<Self>) -> bool {
    ///     c.conn().params().admin
    /// }
    /// # }
    /// ```
    pub fn conn(&self) -> &'a Conn<A> {
        self.conn
    }

    /// Registry-wide data of type `T` (see [`RegistryBuilder::data`](crate::RegistryBuilder::data)).
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// struct ReadOnly(bool);
    /// # #[derive(Default, Serialize, Deserialize)] pub struct Doc;
    /// # #[actor] impl Doc {
    /// #[can_invoke]
    /// fn allow(&self, c: &ConnCtx<'_, Self>, _invoke: Invoke<Self>) -> bool {
    ///     !c.data::<ReadOnly>().is_some_and(|r| r.0)
    /// }
    /// # }
    /// ```
    pub fn data<T: Send + Sync + 'static>(&self) -> Option<&'a T> {
        self.meta.data.get::<T>()
    }

    /// The ephemeral vars.
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// # #[derive(Default, Serialize, Deserialize)] pub struct Doc;
    /// pub struct Vars { locked: bool }
    /// # #[actor] impl Doc {
    /// # #[create_vars] fn vars(&self, _c: &CreateCtx<'_>) -> Vars { Vars { locked: false } }
    /// #[can_invoke]
    /// fn allow(&self, c: &ConnCtx<'_, Self>, _invoke: Invoke<Self>) -> bool {
    ///     !c.vars().locked
    /// }
    /// # }
    /// ```
    pub fn vars(&self) -> &A::Vars {
        self.vars
    }
}
