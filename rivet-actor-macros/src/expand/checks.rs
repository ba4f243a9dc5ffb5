//! Type-level checks that rustc reports at the user's tokens, with the messages of the
//! `#[diagnostic::on_unimplemented]` traits in `rivet_actor::__private` (the technique of
//! axum-macros' `debug_handler`): connection params. The two connect hooks' params are checked to agree where
//! `#[conn_state]` is called (`SameParams`).
//! Action arguments and return values are checked where the generated code encodes them
//! (through `ActionArg`/`ActionOutput`), futures' `Send` where they are awaited, event
//! payloads beside the event declarations.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use super::{private_at, resolve_self};
use crate::model::ActorModel;
use crate::model::kind::Kind;

pub fn expand(model: &ActorModel) -> TokenStream {
    let mut checks = Vec::new();
    let before = model.params_of(Kind::BeforeConnect);
    let state = model.params_of(Kind::ConnState);
    // The type of an item is checked with the items, before `impl Actor` (whose
    // `type ConnParams` would otherwise report serde's bound first).
    for ty in before.iter().chain(state.iter()) {
        let ty = resolve_self(ty, &model.self_ty);
        let private = private_at(ty.span());
        checks.push(quote_spanned! {ty.span()=>
            const _: #private::ConnParamsCheck<#ty> = #private::ConnParamsCheck(::core::marker::PhantomData);
        });
    }
    quote!(#(#checks)*)
}
