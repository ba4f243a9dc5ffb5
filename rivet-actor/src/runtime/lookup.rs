//! How a caller names an actor, as the runtime imports it: the types live in the base
//! layer (`naming.rs`) so the authoring layer (`c.client()`) can name actors too.

pub use crate::naming::{ActorId, Key};
pub(crate) use crate::naming::{Lookup, Naming};
