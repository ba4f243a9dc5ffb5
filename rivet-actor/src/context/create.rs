use crate::context::ActorMeta;

/// The context of `#[create_state]` and `#[create_vars]`: who the actor is.
///
/// ```
/// use rivet_actor::prelude::*;
///
/// #[derive(Serialize, Deserialize)]
/// pub struct Room { name: String, topic: String }
///
/// #[derive(Serialize, Deserialize)]
/// pub struct RoomInput { topic: String }
///
/// #[actor]
/// impl Room {
///     #[create_state]
///     fn create(c: &CreateCtx<'_>, input: RoomInput) -> Self {
///         Self { name: c.key().join("/"), topic: input.topic }
///     }
/// }
/// ```
pub struct CreateCtx<'a> {
    pub(crate) meta: &'a ActorMeta,
}

impl<'a> CreateCtx<'a> {
    /// The actor's stable id.
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// # #[derive(Serialize, Deserialize)] pub struct Doc { id: String }
    /// # #[actor] impl Doc {
    /// #[create_state]
    /// fn create(c: &CreateCtx<'_>) -> Self {
    ///     Self { id: c.actor_id().to_owned() }
    /// }
    /// # }
    /// ```
    pub fn actor_id(&self) -> &'a str {
        &self.meta.id
    }

    /// The actor type's wire name (`Doc` is `"doc"`).
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// # #[derive(Serialize, Deserialize)] pub struct Doc { kind: String }
    /// # #[actor] impl Doc {
    /// #[create_state]
    /// fn create(c: &CreateCtx<'_>) -> Self {
    ///     Self { kind: c.name().to_owned() }
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
    /// # #[derive(Serialize, Deserialize)] pub struct Doc { owner: String }
    /// # #[actor] impl Doc {
    /// #[create_state]
    /// fn create(c: &CreateCtx<'_>) -> Self {
    ///     Self { owner: c.key().first().cloned().unwrap_or_default() }
    /// }
    /// # }
    /// ```
    pub fn key(&self) -> &'a [String] {
        &self.meta.key
    }

    /// Registry-wide data of type `T` (see [`RegistryBuilder::data`](crate::RegistryBuilder::data)).
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// struct Defaults { topic: String }
    /// # #[derive(Serialize, Deserialize)] pub struct Doc { topic: String }
    /// # #[actor] impl Doc {
    /// #[create_state]
    /// fn create(c: &CreateCtx<'_>) -> Self {
    ///     Self { topic: c.data::<Defaults>().map(|d| d.topic.clone()).unwrap_or_default() }
    /// }
    /// # }
    /// ```
    pub fn data<T: Send + Sync + 'static>(&self) -> Option<&'a T> {
        self.meta.data.get::<T>()
    }
}
