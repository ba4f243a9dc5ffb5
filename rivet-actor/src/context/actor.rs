use crate::actor::{Actor, Event};
use crate::context::effects::{self, TurnEffects};
use crate::context::{ActorMeta, This};

/// The context of lifecycle hooks (`on_create`, `on_wake`, `on_sleep`, `on_state_change`):
/// the actor's identity, its vars, its events, queues and schedules. [`ActionCtx`]
/// derefs to it.
///
/// [`ActionCtx`]: crate::ActionCtx
///
/// ```
/// use rivet_actor::prelude::*;
///
/// #[derive(Default, Serialize, Deserialize)]
/// pub struct Lamp { on: bool, wakes: u32 }
///
/// #[actor(events(woke = u32))]
/// impl Lamp {
///     #[on_wake]
///     fn wake(&mut self, c: &mut ActorCtx<'_, Self>) {
///         self.wakes += 1;
///         c.broadcast(self.wakes);
///     }
/// }
/// ```
pub struct ActorCtx<'a, A: Actor> {
    pub(crate) meta: &'a ActorMeta,
    pub(crate) vars: &'a mut A::Vars,
    pub(crate) effects: &'a dyn TurnEffects<A>,
}

impl<'a, A: Actor> ActorCtx<'a, A> {
    pub(crate) fn new(
        meta: &'a ActorMeta,
        vars: &'a mut A::Vars,
        effects: &'a dyn TurnEffects<A>,
    ) -> Self {
        Self {
            meta,
            vars,
            effects,
        }
    }

    /// The actor's stable id.
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// # #[derive(Default, Serialize, Deserialize)] pub struct Lamp;
    /// # #[actor] impl Lamp {
    /// #[action]
    /// fn whoami(&self, c: &ActionCtx<'_, Self>) -> String {
    ///     c.actor_id().to_owned()
    /// }
    /// # }
    /// ```
    pub fn actor_id(&self) -> &str {
        &self.meta.id
    }

    /// The actor type's wire name.
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// # #[derive(Default, Serialize, Deserialize)] pub struct Lamp;
    /// # #[actor] impl Lamp {
    /// #[action]
    /// fn kind(&self, c: &ActionCtx<'_, Self>) -> String {
    ///     c.name().to_owned() // "lamp"
    /// }
    /// # }
    /// ```
    pub fn name(&self) -> &'static str {
        self.meta.name
    }

    /// The actor's key.
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// # #[derive(Default, Serialize, Deserialize)] pub struct Lamp;
    /// # #[actor] impl Lamp {
    /// #[action]
    /// fn room(&self, c: &ActionCtx<'_, Self>) -> String {
    ///     c.key().join("/")
    /// }
    /// # }
    /// ```
    pub fn key(&self) -> &[String] {
        &self.meta.key
    }

    /// The ephemeral vars made by `#[create_vars]`.
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// # #[derive(Default, Serialize, Deserialize)] pub struct Lamp;
    /// pub struct Vars { started: std::time::Instant }
    ///
    /// # #[actor] impl Lamp {
    /// #[create_vars]
    /// fn vars(&self, _c: &CreateCtx<'_>) -> Vars {
    ///     Vars { started: std::time::Instant::now() }
    /// }
    ///
    /// #[action]
    /// fn uptime_ms(&self, c: &ActionCtx<'_, Self>) -> u64 {
    ///     c.vars().started.elapsed().as_millis() as u64
    /// }
    /// # }
    /// ```
    pub fn vars(&self) -> &A::Vars {
        self.vars
    }

    /// Registry-wide data of type `T` (see [`RegistryBuilder::data`](crate::RegistryBuilder::data)).
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// struct Greeting(String);
    /// # #[derive(Default, Serialize, Deserialize)] pub struct Lamp;
    /// # #[actor] impl Lamp {
    /// #[action]
    /// fn greet(&self, c: &ActionCtx<'_, Self>) -> String {
    ///     c.data::<Greeting>().map(|g| g.0.clone()).unwrap_or_else(|| "hi".into())
    /// }
    /// # }
    /// ```
    pub fn data<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.meta.data.get::<T>()
    }

    /// The ephemeral vars, mutably (never persisted, never rolled back).
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// # #[derive(Default, Serialize, Deserialize)] pub struct Lamp;
    /// #[derive(Default)]
    /// pub struct Vars { calls: u64 }
    ///
    /// # #[actor] impl Lamp {
    /// #[create_vars]
    /// fn vars(&self, _c: &CreateCtx<'_>) -> Vars { Vars::default() }
    ///
    /// #[action]
    /// fn call(&self, c: &mut ActionCtx<'_, Self>) -> u64 {
    ///     c.vars_mut().calls += 1;
    ///     c.vars().calls
    /// }
    /// # }
    /// ```
    pub fn vars_mut(&mut self) -> &mut A::Vars {
        self.vars
    }

    /// The actor's typed client to itself: each call is a turn of its own, run as the actor
    /// (no connection, no `can_invoke`), queued behind the current turn.
    ///
    /// For tasks the actor spawns (a raw WebSocket's task, a timer) and its `#[run]` loop.
    /// Awaiting such a call *inside* a turn would wait for a turn that cannot start until
    /// this one ends: it fails at once with `actor.call_cycle` instead. Spawn the call.
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// # #[derive(Default, Serialize, Deserialize)] pub struct Lamp { on: bool }
    /// # #[actor] impl Lamp {
    /// #[action]
    /// fn blink(&self, c: &mut ActionCtx<'_, Self>) {
    ///     let this = c.this();
    ///     tokio::spawn(async move { this.toggle().await });
    /// }
    ///
    /// #[action]
    /// fn toggle(&mut self) -> bool {
    ///     self.on = !self.on;
    ///     self.on
    /// }
    /// # }
    /// ```
    pub fn this(&self) -> This<A> {
        self.effects.this()
    }

    /// The actor's typed client to the other actors of its registry: in-process calls that
    /// run their connect hooks and `can_invoke` as any in-process caller's would. A call
    /// back into an actor whose turn waits for it fails with `actor.call_cycle` (see
    /// [`ActorClient`](crate::context::ActorClient)).
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// # #[derive(Default, Serialize, Deserialize)] pub struct Counter { n: u32 }
    /// # #[actor] impl Counter { #[action] fn bump(&mut self) -> u32 { self.n += 1; self.n } }
    /// # #[derive(Default, Serialize, Deserialize)] pub struct Lamp;
    /// # #[actor] impl Lamp {
    /// #[action]
    /// async fn count_visit(&self, c: &ActionCtx<'_, Self>) -> Result<u32, Error> {
    ///     let counter = c.client().get_or_create::<Counter>(["visits"]).await?;
    ///     Ok(counter.bump().await?)
    /// }
    /// # }
    /// ```
    pub fn client(&self) -> crate::context::ActorClient {
        self.effects.client()
    }

    /// The actor's own SQL database, its changes committed with this turn (see
    /// [`db`](crate::db)).
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// # #[derive(Default, Serialize, Deserialize)] pub struct Lamp;
    /// # #[actor] impl Lamp {
    /// #[action]
    /// fn log(&self, c: &ActionCtx<'_, Self>, line: String) -> Result<usize, Error> {
    ///     c.db().execute_batch("CREATE TABLE IF NOT EXISTS log (line TEXT)")?;
    ///     Ok(c.db().execute("INSERT INTO log (line) VALUES (?1)", [line])?)
    /// }
    /// # }
    /// ```
    pub fn db(&self) -> crate::db::Db<'_> {
        crate::db::Db::new(self.effects.db())
    }

    /// The actor's own ordered key/value storage, staged in this turn and committed with
    /// it (see [`kv`](crate::kv)).
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// # #[derive(Default, Serialize, Deserialize)] pub struct Lamp;
    /// # #[actor] impl Lamp {
    /// #[action]
    /// async fn remember(&self, c: &ActionCtx<'_, Self>, note: String) -> Result<Option<String>, Error> {
    ///     let previous = c.kv().get("note").await?;
    ///     c.kv().put("note", &note)?;
    ///     Ok(previous)
    /// }
    /// # }
    /// ```
    pub fn kv(&self) -> crate::kv::Kv<'_> {
        crate::kv::Kv::new(self.effects.kv())
    }

    /// Puts the actor to sleep once this turn has committed (if it fails, nothing
    /// happens): its connections are closed (clients reconnect and wake it again),
    /// background work is awaited, `on_sleep` runs.
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// # #[derive(Default, Serialize, Deserialize)] pub struct Lamp;
    /// # #[actor] impl Lamp {
    /// #[action]
    /// fn rest(&self, c: &ActionCtx<'_, Self>) {
    ///     c.sleep();
    /// }
    /// # }
    /// ```
    pub fn sleep(&self) {
        self.effects.exit(crate::context::lifecycle::Exit::Sleep);
    }

    /// Destroys the actor once this turn has committed (if it fails, nothing happens):
    /// background work is awaited, `#[on_destroy]` runs, connections are closed with
    /// `actor.destroyed`, then its storage is removed and its key is free again.
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// # #[derive(Default, Serialize, Deserialize)] pub struct Lamp;
    /// # #[actor] impl Lamp {
    /// #[action]
    /// fn shut_down(&self, c: &ActionCtx<'_, Self>) {
    ///     c.destroy();
    /// }
    /// # }
    /// ```
    pub fn destroy(&self) {
        self.effects.exit(crate::context::lifecycle::Exit::Destroy);
    }

    /// Runs `work` in the background, as RivetKit's `c.waitUntil`: the turn goes on at once,
    /// and the actor may still go idle meanwhile, but going to sleep or being destroyed
    /// raises the [`stopping`](Self::stopping) signal and then waits for the work, up to
    /// [`HostConfig::wait_until_timeout`](crate::HostConfig::wait_until_timeout), after
    /// which it is cut off. For work the actor must stay awake for, wrap it in
    /// [`keep_awake`](Self::keep_awake).
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// # #[derive(Default, Serialize, Deserialize)] pub struct Lamp;
    /// # #[actor] impl Lamp {
    /// #[action]
    /// fn report(&self, c: &ActionCtx<'_, Self>, line: String) {
    ///     c.wait_until(async move {
    ///         // e.g. ship `line` to a log service; going to sleep waits for this
    ///         let _ = line;
    ///     });
    /// }
    /// # }
    /// ```
    pub fn wait_until(&self, work: impl std::future::Future<Output = ()> + Send + 'static) {
        self.effects.wait_until(Box::pin(work));
    }

    /// Keeps the actor from going idle until `work` ends, as RivetKit's `c.keepAwake`: its
    /// idle time counts from then. The hold is taken here and let go when the returned
    /// future finishes or is dropped; it does not borrow the context, so it can be handed to
    /// [`wait_until`](Self::wait_until) to run in the background. Going to sleep or being
    /// destroyed waits for it like background work (up to the same bound).
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// # #[derive(Default, Serialize, Deserialize)] pub struct Lamp;
    /// # #[actor] impl Lamp {
    /// #[action]
    /// fn upload(&self, c: &ActionCtx<'_, Self>, file: String) {
    ///     // Answers at once; the actor stays awake until the upload is done.
    ///     c.wait_until(c.keep_awake(async move {
    ///         let _ = file; // e.g. send it to object storage
    ///     }));
    /// }
    /// # }
    /// ```
    pub fn keep_awake<F: std::future::Future>(
        &self,
        work: F,
    ) -> impl std::future::Future<Output = F::Output> + use<A, F> {
        crate::context::lifecycle::kept_awake(self.effects.keep_awake(), work)
    }

    /// The actor's stopping signal (see [`Stopping`](crate::context::Stopping)).
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// # #[derive(Default, Serialize, Deserialize)] pub struct Lamp;
    /// # #[actor] impl Lamp {
    /// #[action]
    /// fn winding_down(&self, c: &ActionCtx<'_, Self>) -> bool {
    ///     c.stopping().is_stopping()
    /// }
    /// # }
    /// ```
    pub fn stopping(&self) -> crate::context::Stopping {
        self.effects.stopping()
    }

    /// Sends a declared event to every connection subscribed to it, once this turn has
    /// succeeded. Broadcasting a type not declared in `#[actor(events(..))]` does not compile.
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// #[derive(Default, Serialize, Deserialize)]
    /// pub struct Counter { count: i64 }
    ///
    /// #[actor(events(new_count = i64))]
    /// impl Counter {
    ///     #[action]
    ///     fn increment(&mut self, c: &mut ActionCtx<'_, Self>, by: i64) -> i64 {
    ///         self.count += by;
    ///         c.broadcast(self.count); // reaches subscribers of `newCount` after the commit
    ///         self.count
    ///     }
    /// }
    /// ```
    pub fn broadcast<E: Event<A>>(&self, event: E) {
        effects::emit(self.effects, None, event);
    }
}
