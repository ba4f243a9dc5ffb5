//! The `#[actor]` attribute of rivet-actor.
//!
//! Layout (after thiserror's `impl/src` and serde_derive's `internals/`):
//! `parse/` reads the attribute arguments and classifies the impl block's methods,
//! `model` keeps the user's syn nodes (for spans), `validate` collects every error,
//! `expand/` writes the generated items by kind, and `fallback` re-emits the user's code
//! beside the errors when there are any.

extern crate proc_macro;

mod entry;
mod errors;
mod expand;
mod fallback;
mod model;
mod names;
mod parse;
mod validate;

use proc_macro::TokenStream;

/// Turns an impl block (and optionally its state struct) into an actor.
///
/// See the `rivet_actor` crate documentation for the options and method attributes.
#[proc_macro_attribute]
pub fn actor(args: TokenStream, input: TokenStream) -> TokenStream {
    entry::actor(args.into(), input.into()).into()
}
