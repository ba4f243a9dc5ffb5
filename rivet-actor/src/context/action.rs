use std::ops::{Deref, DerefMut};

use crate::actor::Actor;
use crate::conn::{Conn, ConnRef};
use crate::context::ActorCtx;

/// The context of an action, `on_connect`, `on_disconnect` and the raw handlers: everything
/// of [`ActorCtx`] (through `Deref`) plus the connection on whose behalf the turn runs.
///
/// ```
/// use rivet_actor::prelude::*;
///
/// #[derive(Default, Serialize, Deserialize)]
/// pub struct Board { posts: Vec<(String, String)> }
///
/// #[derive(Deserialize)]
/// pub struct Params { user: String }
///
/// #[actor]
/// impl Board {
///     #[conn_state]
///     fn member(&self, _c: &ConnectCtx<'_, Self>, params: &Params) -> String {
///         params.user.clone()
///     }
///
///     #[action]
///     fn post(&mut self, c: &mut ActionCtx<'_, Self>, text: String) -> usize {
///         let author = c.conn().state().clone();
///         self.posts.push((author, text));
///         self.posts.len()
///     }
/// }
/// ```
pub struct ActionCtx<'a, A: Actor> {
    pub(crate) actor: ActorCtx<'a, A>,
    pub(crate) conn: Option<&'a Conn<A>>,
}

impl<'a, A: Actor> ActionCtx<'a, A> {
    pub(crate) fn new(actor: ActorCtx<'a, A>, conn: Option<&'a Conn<A>>) -> Self {
        Self { actor, conn }
    }

    /// The calling connection.
    ///
    /// # Panics
    /// When the turn was not started by a connection (a scheduled action, a call through
    /// [`ActorCtx::this`]); use [`ActionCtx::try_conn`] where that can happen. A panic in a
    /// turn reaches the client as an internal error and reloads the actor from its last
    /// saved state.
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// # #[derive(Default, Serialize, Deserialize)] pub struct Board;
    /// # #[actor] impl Board {
    /// #[action]
    /// fn my_id(&self, c: &ActionCtx<'_, Self>) -> String {
    ///     c.conn().id().to_string()
    /// }
    /// # }
    /// ```
    pub fn conn(&self) -> ConnRef<'_, A> {
        self.try_conn()
            .expect("ActionCtx::conn called in a turn that no connection started; use try_conn")
    }

    /// The calling connection, if a connection started this turn.
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// # #[derive(Default, Serialize, Deserialize)] pub struct Board;
    /// # #[actor] impl Board {
    /// #[action]
    /// fn caller(&self, c: &ActionCtx<'_, Self>) -> String {
    ///     match c.try_conn() {
    ///         Some(conn) => conn.id().to_string(),
    ///         None => "the actor itself".into(), // a schedule or c.this()
    ///     }
    /// }
    /// # }
    /// ```
    pub fn try_conn(&self) -> Option<ConnRef<'_, A>> {
        self.conn.map(|conn| ConnRef {
            conn,
            effects: self.actor.effects,
        })
    }
}

impl<'a, A: Actor> Deref for ActionCtx<'a, A> {
    type Target = ActorCtx<'a, A>;
    fn deref(&self) -> &Self::Target {
        &self.actor
    }
}

impl<A: Actor> DerefMut for ActionCtx<'_, A> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.actor
    }
}
