use std::ops::{Deref, DerefMut};

use crate::actor::Actor;
use crate::conn::{Conn, ConnId, ConnRef, DisconnectReason};
use crate::context::ActorCtx;
use crate::context::effects::ConnTable;

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
    pub(crate) conns: &'a mut dyn ConnTable<A>,
    /// The connection the turn runs for, if any.
    pub(crate) caller: Option<ConnId>,
    /// Why the caller's connection ended (in `on_disconnect` only).
    pub(crate) reason: Option<&'a DisconnectReason>,
}

impl<'a, A: Actor> ActionCtx<'a, A> {
    pub(crate) fn new(
        actor: ActorCtx<'a, A>,
        conns: &'a mut dyn ConnTable<A>,
        caller: Option<ConnId>,
        reason: Option<&'a DisconnectReason>,
    ) -> Self {
        Self {
            actor,
            conns,
            caller,
            reason,
        }
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
        let caller = self.caller.as_ref()?;
        self.conns
            .get(caller.as_str())
            .map(|conn| self.conn_ref(conn))
    }

    /// Every open connection of the actor (the caller's included), in no particular order.
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// # #[derive(Default, Serialize, Deserialize)] pub struct Board;
    /// # #[derive(Deserialize)] pub struct Params { user: String }
    /// # #[actor] impl Board {
    /// # #[conn_state] fn member(&self, _c: &ConnectCtx<'_, Self>, params: &Params) -> String { params.user.clone() }
    /// #[action]
    /// fn who_is_here(&self, c: &ActionCtx<'_, Self>) -> Vec<String> {
    ///     c.conns().map(|conn| conn.state().clone()).collect()
    /// }
    /// # }
    /// ```
    pub fn conns(&self) -> impl Iterator<Item = ConnRef<'_, A>> + '_ {
        self.conns.all().map(|conn| self.conn_ref(conn))
    }

    /// The open connection with this id, if there is one.
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// # #[derive(Default, Serialize, Deserialize)] pub struct Board;
    /// # #[actor] impl Board {
    /// #[action]
    /// fn is_here(&self, c: &ActionCtx<'_, Self>, id: String) -> bool {
    ///     c.find_conn(&id).is_some()
    /// }
    /// # }
    /// ```
    pub fn find_conn(&self, id: &str) -> Option<ConnRef<'_, A>> {
        self.conns.get(id).map(|conn| self.conn_ref(conn))
    }

    /// The calling connection's state, to change (`None` if no connection started this
    /// turn). The change is seen by every later hook and action on that connection; like
    /// the vars, it is not rolled back with a failed turn and not persisted.
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// # #[derive(Default, Serialize, Deserialize)] pub struct Board;
    /// # #[actor] impl Board {
    /// # #[conn_state] fn member(&self) -> String { "guest".into() }
    /// #[action]
    /// fn rename(&self, c: &mut ActionCtx<'_, Self>, name: String) {
    ///     if let Some(state) = c.conn_state_mut() {
    ///         *state = name;
    ///     }
    /// }
    /// # }
    /// ```
    pub fn conn_state_mut(&mut self) -> Option<&mut A::ConnState> {
        let caller = self.caller.as_ref()?;
        self.conns
            .get_mut(caller.as_str())
            .map(|conn| &mut conn.state)
    }

    /// In `#[on_disconnect]`: why the connection ended. `None` in every other hook.
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// use rivet_actor::conn::DisconnectReason;
    /// # #[derive(Default, Serialize, Deserialize)] pub struct Board { timeouts: u32 }
    /// # #[actor] impl Board {
    /// #[on_disconnect]
    /// fn gone(&mut self, c: &mut ActionCtx<'_, Self>) {
    ///     if c.disconnect_reason() == Some(&DisconnectReason::TimedOut) {
    ///         self.timeouts += 1;
    ///     }
    /// }
    /// # }
    /// ```
    pub fn disconnect_reason(&self) -> Option<&DisconnectReason> {
        self.reason
    }

    fn conn_ref<'s>(&'s self, conn: &'s Conn<A>) -> ConnRef<'s, A> {
        ConnRef {
            conn,
            effects: self.actor.effects,
        }
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
