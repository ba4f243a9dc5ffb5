//! `#[actor(..)]` on the state struct: the options' items, and an `Actor` impl of its own
//! that makes the struct alone an actor without actions or hooks.
//!
//! That impl is for `__rivet_target_<Type>::Type`, a name the struct side provides through
//! a glob import as an alias of the struct. When an `#[actor]` impl block exists too, it
//! declares an explicit `__rivet_target_<Type>` module whose `Type` is a dummy struct: the
//! item shadows the glob, and the struct side's impl lands on the dummy, harmlessly.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

use super::options::{Side, decl_module, declared_describer, declared_impls, target_enums};
use super::{Names, krate, private};
use crate::model::options::Options;

pub fn expand(item: &syn::ItemStruct, options: &Options) -> TokenStream {
    let krate = krate();
    let private = private();
    let ident = &item.ident;
    let names = Names::new(ident);
    let (defaults, target) = (&names.struct_defaults, &names.target);
    let name = super::options::wire_name(ident, options);
    let origins = super::options::origins_tokens(options);
    let allow_no_origin = options
        .allow_no_origin
        .as_ref()
        .is_some_and(syn::LitBool::value);
    let mut out = TokenStream::new();
    let (event_ty, queue_ty) = if options.given() {
        let decl = decl_module(&names, ident, options, Side::Struct);
        let enums = target_enums(&names, ident, options);
        let impls = declared_impls(&names, &quote!(#ident), options);
        let describer = declared_describer(&quote!(#ident), options, Side::Struct);
        out.extend(quote! {
            #decl
            #enums
            #impls
            #describer
        });
        let (event, queue) = (&names.event, &names.queue);
        (quote!(#event), quote!(#queue))
    } else {
        (quote!(#private::Never), quote!(#private::Never))
    };
    let default_state = quote_spanned! {ident.span()=>
        ::core::result::Result::Ok(<Self as #private::DefaultState>::default_state())
    };
    out.extend(quote! {
        #[doc(hidden)]
        #[allow(non_snake_case)]
        mod #defaults {
            pub mod #target {
                pub type Type = super::super::#ident;
            }
        }
        #[allow(unused_imports)]
        use #defaults::*;

        impl #krate::Actor for #target::Type {
            const NAME: &'static str = #name;
            type Input = #krate::NoParams;
            type ConnParams = #krate::NoParams;
            type ConnState = ();
            type Vars = ();
            type Action = #private::Never;
            type Event = #event_ty;
            type Queue = #queue_ty;
            type Call = #private::NoCall;
            type Return = #private::NoReturn;
            type Methods<I: #krate::Invoker<Self>> = #private::NoMethods<I>;

            async fn create_state(
                _ctx: &#krate::CreateCtx<'_>,
                _input: Self::Input,
            ) -> ::core::result::Result<Self, #krate::Error> {
                #default_state
            }

            async fn create_vars(
                &self,
                _ctx: &#krate::CreateCtx<'_>,
            ) -> ::core::result::Result<Self::Vars, #krate::Error> {
                ::core::result::Result::Ok(())
            }

            async fn conn_state(
                &self,
                _ctx: &mut #krate::ConnectCtx<'_, Self>,
                _params: &Self::ConnParams,
            ) -> ::core::result::Result<Self::ConnState, #krate::Error> {
                ::core::result::Result::Ok(())
            }

            async fn dispatch(
                &mut self,
                _ctx: &mut #krate::ActionCtx<'_, Self>,
                call: Self::Call,
            ) -> ::core::result::Result<Self::Return, #krate::Error> {
                match call {}
            }
        }

        impl #private::ActorOptions for #target::Type {
            const ORIGINS: ::core::option::Option<&'static [&'static str]> = #origins;
            const ALLOW_NO_ORIGIN: bool = #allow_no_origin;
        }
    });
    out
}
