//! Writing the generated items, split by what they are.

mod actor_impl;
mod calls;
mod checks;
mod client;
mod describe;
mod options;
pub mod strukt;
pub mod stub;
mod targets;

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::visit_mut::VisitMut;
use syn::{Ident, Type};

use crate::model::sig::Receiver;
use crate::model::{ActorModel, Method};

/// `::rivet_actor`.
fn krate() -> TokenStream {
    quote!(::rivet_actor)
}

/// `::rivet_actor::__private`.
fn private() -> TokenStream {
    quote!(::rivet_actor::__private)
}

/// `::rivet_actor::__private` spanned at a user's token, so that an error about an
/// expression or type built from it points there.
fn private_at(span: Span) -> TokenStream {
    quote_spanned!(span=> ::rivet_actor::__private)
}

/// The generated items' names for one actor type.
pub struct Names {
    pub action: Ident,
    pub event: Ident,
    pub queue: Ident,
    pub call: Ident,
    pub ret: Ident,
    pub methods: Ident,
    /// Options in effect (`NAME`, `Event`, `Queue`, `ORIGINS`, `Provider`).
    pub decl: Ident,
    /// The impl side's glob-imported defaults.
    pub impl_defaults: Ident,
    /// The struct side's glob-imported defaults.
    pub struct_defaults: Ident,
    /// What the struct side implements `Actor` for.
    pub target: Ident,
}

impl Names {
    pub fn new(ident: &Ident) -> Names {
        let base = crate::names::plain(ident);
        let span = Span::call_site();
        let named = |suffix: &str| Ident::new(&format!("{base}{suffix}"), ident.span());
        let hidden = |prefix: &str| Ident::new(&format!("__rivet_{prefix}_{base}"), span);
        Names {
            action: named("Action"),
            event: named("Event"),
            queue: named("Queue"),
            call: named("Call"),
            ret: named("Return"),
            methods: named("Methods"),
            decl: hidden("decl"),
            impl_defaults: hidden("idefaults"),
            struct_defaults: hidden("sdefaults"),
            target: hidden("target"),
        }
    }
}

/// Every item `#[actor]` on an impl block adds beside it.
pub fn impl_block(model: &ActorModel) -> TokenStream {
    let names = Names::new(&model.ident);
    let checks = checks::expand(model);
    let options = options::impl_side(model, &names);
    let targets = targets::actions(model, &names);
    let calls = calls::expand(model, &names);
    let client = client::expand(model, &names);
    let actor = actor_impl::expand(model, &names);
    quote! {
        #checks
        #options
        #targets
        #calls
        #client
        #actor
    }
}

/// Replaces `Self` in a type copied out of the impl block by the state type.
pub fn resolve_self(ty: &Type, self_ty: &Type) -> Type {
    struct Replace<'a>(&'a Type);
    impl VisitMut for Replace<'_> {
        fn visit_type_mut(&mut self, ty: &mut Type) {
            if let Type::Path(path) = ty
                && path.qself.is_none()
                && path.path.leading_colon.is_none()
                && path
                    .path
                    .segments
                    .first()
                    .is_some_and(|segment| segment.ident == "Self")
            {
                if path.path.segments.len() == 1 {
                    *ty = self.0.clone();
                    return;
                }
                // `Self::Assoc` -> `<State>::Assoc`
                let rest: Vec<_> = path.path.segments.iter().skip(1).cloned().collect();
                let state = self.0;
                *ty = syn::parse_quote!(<#state>::#(#rest)::*);
                return;
            }
            syn::visit_mut::visit_type_mut(self, ty);
        }
    }
    let mut ty = ty.clone();
    Replace(self_ty).visit_type_mut(&mut ty);
    ty
}

/// A call of the user's method from inside `impl Actor`: `Self::name(self, ctx, args)`,
/// awaited (with its `Send`-ness checked at the method's name) when it is `async`.
///
/// `ctx` is the generated method's context variable, which is always `&mut` where the
/// runtime lends it mutably.
fn call_user(method: &Method, ctx: Option<&TokenStream>, args: &[TokenStream]) -> TokenStream {
    let private = private();
    let ident = &method.sig.ident;
    let span = ident.span();
    let mut inputs = Vec::new();
    if matches!(method.sig.receiver, Receiver::Ref { .. }) {
        inputs.push(quote!(self));
    }
    if let (Some(user_ctx), Some(ctx)) = (&method.sig.ctx, ctx) {
        inputs.push(if user_ctx.by_value {
            quote_spanned!(span=> #ctx)
        } else if user_ctx.mutable {
            quote_spanned!(span=> &mut *#ctx)
        } else {
            quote_spanned!(span=> &*#ctx)
        });
    }
    inputs.extend(args.iter().cloned());
    let call = quote_spanned!(span=> Self::#ident(#(#inputs),*));
    if method.sig.is_async {
        let fut = format_ident!("__rivet_future", span = span);
        quote_spanned! {span=>
            {
                let #fut = #call;
                #private::assert_send(&#fut);
                #fut.await
            }
        }
    } else {
        call
    }
}

/// `call` normalized to `Result<T, rivet_actor::Error>`. A `Result` goes through
/// `IntoHookResult`, whose error (an error type the runtime cannot convert) points at the
/// user's `E`.
fn into_result(method: &Method, call: TokenStream) -> TokenStream {
    let private = private();
    if method.returns_result() {
        let span = method
            .sig
            .output
            .as_ref()
            .and_then(crate::model::ty::result_err)
            .map_or_else(|| method.span(), syn::spanned::Spanned::span);
        let result = Ident::new("__rivet_result", span);
        quote! {{
            let #result = #call;
            #private::IntoHookResult::into_hook_result(#result)
        }}
    } else {
        quote!(::core::result::Result::Ok(#call))
    }
}

/// `call` of a hook returning `()` or `Result<(), E>`, normalized to `Result<(), Error>`.
fn into_unit_result(method: &Method, call: TokenStream) -> TokenStream {
    if method.returns_result() {
        into_result(method, call)
    } else {
        quote!({
            #call;
            ::core::result::Result::Ok(())
        })
    }
}
