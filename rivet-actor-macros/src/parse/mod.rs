//! Reading the macro input into the model: the `#[actor(..)]` options, each method's
//! attribute and the shape of its signature. Nothing here decides whether the shape is
//! allowed; that is `validate`'s job.

pub mod attrs;
pub mod impl_block;
pub mod options;
pub mod sig;
