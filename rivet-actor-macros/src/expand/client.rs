//! `ChatRoomMethods<I>`: the typed client methods, one per action, over any transport.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use super::calls::{arg_types, value_type};
use super::{Names, krate, private, private_at};
use crate::model::ActorModel;

pub fn expand(model: &ActorModel, names: &Names) -> TokenStream {
    let krate = krate();
    let private = private();
    let self_ty = &model.self_ty;
    let (methods, call, ret) = (&names.methods, &names.call, &names.ret);
    let fns = model.actions().map(|action| {
        let ident = &action.sig.ident;
        let variant = action.variant();
        let docs = if action.docs.is_empty() {
            let line = format!("Calls the `{}` action.", action.wire());
            vec![syn::parse_quote!(#[doc = #line])]
        } else {
            action.docs.clone()
        };
        let types = arg_types(model, action);
        let params: Vec<_> = action.sig.params.iter().map(|param| &param.name).collect();
        let value = value_type(model, action);
        let span = action
            .sig
            .output
            .as_ref()
            .map_or_else(|| action.span(), Spanned::span);
        let private_here = private_at(span);
        let invoke = quote_spanned! {span=>
            self.invoker.invoke::<#private_here::Output<#value>>(#call::#variant((#(#params,)*)), |ret| match ret {
                #ret::#variant(value) => ::core::option::Option::Some(#private::Output(value)),
                #[allow(unreachable_patterns)]
                _ => ::core::option::Option::None,
            })
        };
        quote! {
            #(#docs)*
            pub async fn #ident(&self, #(#params: #types),*) -> ::core::result::Result<#value, #krate::ClientError> {
                #invoke.await.map(|output| output.0)
            }
        }
    });
    let doc = format!(
        "Typed client methods of [`{}`]'s actions, over any transport (`ActorHandle`, `ActorConn`, `LocalHandle`, ..).",
        model.ident
    );
    quote! {
        #[doc = #doc]
        pub struct #methods<I> {
            #[allow(dead_code)]
            invoker: I,
        }

        impl<I> ::core::convert::From<I> for #methods<I> {
            fn from(invoker: I) -> Self {
                Self { invoker }
            }
        }

        #[allow(private_interfaces, private_bounds, clippy::too_many_arguments)]
        impl<I: #krate::Invoker<#self_ty>> #methods<I> {
            #(#fns)*
        }
    }
}
