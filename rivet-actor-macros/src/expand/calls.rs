//! `ChatRoomCall` (each action's arguments as a tuple) and `ChatRoomReturn` (each action's
//! value), with their wire encodings.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use super::{Names, krate, private, resolve_self};
use crate::model::{ActorModel, Method};

/// The argument types of an action, with `Self` resolved.
pub fn arg_types(model: &ActorModel, action: &Method) -> Vec<syn::Type> {
    action
        .sig
        .params
        .iter()
        .map(|param| resolve_self(&param.ty, &model.self_ty))
        .collect()
}

/// The value type of an action, with `Self` resolved.
pub fn value_type(model: &ActorModel, action: &Method) -> syn::Type {
    resolve_self(&action.value_type(), &model.self_ty)
}

pub fn expand(model: &ActorModel, names: &Names) -> TokenStream {
    let krate = krate();
    let private = private();
    let self_ty = &model.self_ty;
    let (call, ret, action_enum) = (&names.call, &names.ret, &names.action);
    let mut call_variants = Vec::new();
    let mut ret_variants = Vec::new();
    let mut action_arms = Vec::new();
    let mut to_args_arms = Vec::new();
    let mut from_args_arms = Vec::new();
    let mut to_value_arms = Vec::new();
    for action in model.actions() {
        let variant = action.variant();
        let wire = action.wire();
        let types = arg_types(model, action);
        let value = value_type(model, action);
        let vars: Vec<_> = (0..types.len()).map(|i| format_ident!("a{i}")).collect();
        let count = types.len();
        call_variants.push(quote!(#variant((#(#types,)*))));
        ret_variants.push(quote!(#variant(#value)));
        action_arms.push(quote!(Self::#variant(..) => #action_enum::#variant,));
        let encode = types.iter().zip(&vars).map(
            |(ty, var)| quote_spanned!(ty.span()=> <#ty as #private::ActionArg>::encode_arg(#var)?),
        );
        to_args_arms.push(quote! {
            Self::#variant((#(#vars,)*)) => ::core::result::Result::Ok(::std::vec![#(#encode),*]),
        });
        let decode = types.iter().zip(&action.sig.params).map(|(ty, param)| {
            let name = crate::names::plain(&param.name);
            quote_spanned!(ty.span()=> <#ty as #private::ActionArg>::decode_arg(&mut args, #name)?)
        });
        let args_binding = if count == 0 {
            quote!(#private::Args::new(#wire, args, 0)?;)
        } else {
            quote!(let mut args = #private::Args::new(#wire, args, #count)?;)
        };
        from_args_arms.push(quote! {
            #action_enum::#variant => {
                #args_binding
                ::core::result::Result::Ok(Self::#variant((#(#decode,)*)))
            }
        });
        let span = action
            .sig
            .output
            .as_ref()
            .map_or_else(|| action.span(), Spanned::span);
        to_value_arms.push(quote_spanned! {span=>
            Self::#variant(v) => <#value as #private::ActionOutput>::encode_output(v),
        });
    }
    let (action_body, to_args_body, to_value_body) = if call_variants.is_empty() {
        (
            quote!(match *self {}),
            quote!(match *self {}),
            quote!(match *self {}),
        )
    } else {
        (
            quote!(match self { #(#action_arms)* }),
            quote!(match self { #(#to_args_arms)* }),
            quote!(match self { #(#to_value_arms)* }),
        )
    };
    quote! {
        #[doc(hidden)]
        #[allow(private_interfaces, clippy::enum_variant_names)]
        pub enum #call {
            #(#call_variants,)*
        }

        #[doc(hidden)]
        #[allow(private_interfaces, clippy::enum_variant_names, clippy::large_enum_variant)]
        pub enum #ret {
            #(#ret_variants,)*
        }

        #[allow(private_interfaces, private_bounds)]
        impl #krate::actor::ActorCall<#self_ty> for #call {
            fn action(&self) -> #action_enum {
                #action_body
            }
            fn to_args(&self) -> ::core::result::Result<::std::vec::Vec<#krate::value::Value>, #krate::Error> {
                #to_args_body
            }
            #[allow(unused_variables, unused_mut)]
            fn from_args(
                action: #action_enum,
                args: ::std::vec::Vec<#krate::value::Value>,
            ) -> ::core::result::Result<Self, #krate::ActorError> {
                match action {
                    #(#from_args_arms)*
                }
            }
        }

        impl #krate::actor::ActorReturn for #ret {
            fn to_value(&self) -> ::core::result::Result<#krate::value::Value, #krate::Error> {
                #to_value_body
            }
        }
    }
}
