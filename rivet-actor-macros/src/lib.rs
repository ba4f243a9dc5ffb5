//! The `#[actor]` attribute of rivet-actor.

extern crate proc_macro;

use proc_macro::TokenStream;

/// Turns an impl block into an actor (placeholder: passes its input through).
#[proc_macro_attribute]
pub fn actor(_args: TokenStream, input: TokenStream) -> TokenStream {
    input
}
