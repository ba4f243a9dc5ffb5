//! The field-less target enums (`ChatRoomAction`, `ChatRoomEvent`, `ChatRoomQueue`) that
//! `can_invoke` matches on.

use proc_macro2::TokenStream;
use quote::quote;
use syn::Ident;

use super::{Names, krate};
use crate::model::ActorModel;
use crate::model::sig::Receiver;
use crate::names;

/// One variant: its identifier, wire name and doc line.
pub struct Variant {
    pub ident: Ident,
    pub wire: String,
}

/// `ChatRoomAction` with `Target` and `ActionTarget`.
pub fn actions(model: &ActorModel, names: &Names) -> TokenStream {
    let krate = krate();
    // Variants are unique in a valid model; the stand-in written beside errors keeps the
    // first of any duplicates so that it adds no errors of its own.
    let mut seen = std::collections::HashSet::new();
    let actions: Vec<_> = model
        .actions()
        .filter(|action| seen.insert(action.variant().to_string()))
        .collect();
    let variants: Vec<Variant> = actions
        .iter()
        .map(|action| Variant {
            ident: action.variant(),
            wire: action.wire(),
        })
        .collect();
    let doc = format!(
        "The actions of [`{}`], for matching in `#[can_invoke]`.",
        model.ident
    );
    let target = target_enum(&names.action, &variants, &doc);
    let name = &names.action;
    let arms = actions.iter().map(|action| {
        let variant = action.variant();
        let read_only = matches!(action.sig.receiver, Receiver::Ref { mutable: false, .. });
        quote!(Self::#variant => #read_only,)
    });
    quote! {
        #target
        impl #krate::actor::ActionTarget for #name {
            fn is_read_only(self) -> bool {
                match self {
                    #(#arms)*
                }
            }
        }
    }
}

/// Declared events or queues as variants.
pub fn declared<'a>(idents: impl Iterator<Item = &'a Ident>) -> Vec<Variant> {
    idents
        .map(|ident| {
            let plain = names::plain(ident);
            Variant {
                ident: names::ident(&names::upper_camel(&plain), ident.span()),
                wire: names::lower_camel(&plain),
            }
        })
        .collect()
}

/// A field-less enum implementing `Target`.
pub fn target_enum(name: &Ident, variants: &[Variant], doc: &str) -> TokenStream {
    let krate = krate();
    let idents: Vec<&Ident> = variants.iter().map(|v| &v.ident).collect();
    let wires: Vec<&String> = variants.iter().map(|v| &v.wire).collect();
    let docs = wires.iter().map(|wire| format!("`{wire}` on the wire."));
    let (name_body, index_body) = if variants.is_empty() {
        (quote!(match self {}), quote!(match self {}))
    } else {
        (
            quote!(match self { #(Self::#idents => #wires,)* }),
            quote!(self as usize),
        )
    };
    quote! {
        #[doc = #doc]
        #[derive(
            ::core::clone::Clone,
            ::core::marker::Copy,
            ::core::fmt::Debug,
            ::core::cmp::PartialEq,
            ::core::cmp::Eq,
            ::core::hash::Hash,
        )]
        pub enum #name {
            #(
                #[doc = #docs]
                #idents,
            )*
        }

        impl #krate::actor::Target for #name {
            const ALL: &'static [Self] = &[#(Self::#idents),*];
            fn name(self) -> &'static str {
                #name_body
            }
            fn from_name(name: &str) -> ::core::option::Option<Self> {
                match name {
                    #(#wires => ::core::option::Option::Some(Self::#idents),)*
                    _ => ::core::option::Option::None,
                }
            }
            fn index(self) -> usize {
                #index_body
            }
        }
    }
}
