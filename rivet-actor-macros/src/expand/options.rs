//! What the options (`name`, `events`, `queues`, `origins`, timeouts) turn into, and how the impl
//! block and the struct agree on them without seeing each other.
//!
//! The options in effect live in a module `__rivet_decl_<Type>` that the impl side reads.
//! The impl side provides one with its own options (or the defaults) through a glob
//! import; `#[actor(..)]` with options on the struct declares one explicitly, which
//! shadows the glob. Names from globs are shadowed by items, so whichever side carries the
//! options wins, and an impl block with options checks (`OptionsInOnePlace`) that the
//! struct did not also give some.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Ident, Type};

use super::targets::{declared, target_enum};
use super::{Names, krate, private, private_at};
use crate::model::ActorModel;
use crate::model::options::Options;
use crate::names;

/// Which side declares the options module.
pub enum Side {
    Impl,
    Struct,
}

/// The actor's wire name: `name = ".."`, else the type's name in lowerCamelCase.
pub fn wire_name(ident: &Ident, options: &Options) -> String {
    options.name.as_ref().map_or_else(
        || names::lower_camel(&names::plain(ident)),
        syn::LitStr::value,
    )
}

/// `ORIGINS`' value: `Some(&[..])` for `origins = [..]`, else `None`.
pub fn origins_tokens(options: &Options) -> TokenStream {
    match &options.origins {
        Some(list) => quote!(::core::option::Option::Some(&[#(#list),*])),
        None => quote!(::core::option::Option::None),
    }
}

/// The `__rivet_decl_<Type>` module: options in effect, read by the impl side.
pub fn decl_module(names: &Names, ident: &Ident, options: &Options, side: Side) -> TokenStream {
    let private = private();
    let decl = &names.decl;
    let (event, queue) = (&names.event, &names.queue);
    let (name, origins) = (wire_name(ident, options), origins_tokens(options));
    let allow_no_origin = options
        .allow_no_origin
        .as_ref()
        .is_some_and(syn::LitBool::value);
    let optional = |ms: Option<u64>| match ms {
        Some(ms) => quote!(::core::option::Option::Some(#ms)),
        None => quote!(::core::option::Option::None),
    };
    let sleep_timeout_ms = optional(options.sleep_timeout_ms);
    let action_timeout_ms = optional(options.action_timeout_ms);
    let no_sleep = options.no_sleep;
    let limits = &options.limits;
    let max_queue_size = optional(limits.max_queue_size);
    let max_queue_message_size = optional(limits.max_queue_message_size);
    let wait_until_timeout_ms = optional(limits.wait_until_timeout_ms);
    let connect_hook_timeout_ms = optional(limits.connect_hook_timeout_ms);
    let lifecycle_hook_timeout_ms = optional(limits.lifecycle_hook_timeout_ms);
    let (provider, vis) = match side {
        Side::Impl => (quote!(OptionsOnImpl), quote!(pub)),
        Side::Struct => (quote!(OptionsOnStruct), quote!(pub)),
    };
    quote! {
        #[doc(hidden)]
        #[allow(non_snake_case, dead_code)]
        #vis mod #decl {
            pub const NAME: &str = #name;
            pub type Event = super::#event;
            pub type Queue = super::#queue;
            pub const ORIGINS: ::core::option::Option<&'static [&'static str]> = #origins;
            pub const ALLOW_NO_ORIGIN: bool = #allow_no_origin;
            pub const SLEEP_TIMEOUT_MS: ::core::option::Option<u64> = #sleep_timeout_ms;
            pub const ACTION_TIMEOUT_MS: ::core::option::Option<u64> = #action_timeout_ms;
            pub const NO_SLEEP: bool = #no_sleep;
            pub const LIMITS: #private::Limits = #private::Limits {
                max_queue_size: #max_queue_size,
                max_queue_message_size: #max_queue_message_size,
                wait_until_timeout_ms: #wait_until_timeout_ms,
                connect_hook_timeout_ms: #connect_hook_timeout_ms,
                lifecycle_hook_timeout_ms: #lifecycle_hook_timeout_ms,
            };
            pub type Provider = #private::#provider;
        }
    }
}

/// `DeclaredTypes<Provider>` for the actor (beside the user's items, where their types
/// resolve): its declared events and queues for TypeScript, as `side` declares them. The
/// actor's `describe` picks the side through the options module's `Provider`.
pub fn declared_describer(actor: &TokenStream, options: &Options, side: Side) -> TokenStream {
    let krate = krate();
    let private = private();
    let probe = |ty: &Type| quote!((&#private::TsProbe::<#ty>::new()).ts(&mut d.types));
    let events = options
        .events
        .iter()
        .zip(declared(options.events.iter().map(|e| &e.ident)));
    let events = events.map(|(decl, variant)| {
        let (wire, payload) = (&variant.wire, probe(&decl.ty));
        quote!(let payload = #payload; d.event(#wire, payload);)
    });
    let queues = options
        .queues
        .iter()
        .zip(declared(options.queues.iter().map(|q| &q.ident)));
    let queues = queues.map(|(decl, variant)| {
        let completion: Type = decl
            .completion
            .clone()
            .unwrap_or_else(|| syn::parse_quote!(()));
        let (wire, message, completion) = (&variant.wire, probe(&decl.ty), probe(&completion));
        quote!(let message = #message; let completion = #completion; d.queue(#wire, message, completion);)
    });
    let provider = match side {
        Side::Impl => quote!(#private::OptionsOnImpl),
        Side::Struct => quote!(#private::OptionsOnStruct),
    };
    quote! {
        impl #private::DeclaredTypes<#provider> for #actor {
            #[allow(unused_variables)]
            fn describe(d: &mut #krate::typescript::Describe) {
                #[allow(unused_imports)]
                use #private::{TsKnown as _, TsUnknown as _};
                #(#events)*
                #(#queues)*
            }
        }
    }
}

/// `ChatRoomEvent` and `ChatRoomQueue` from the declared events and queues.
pub fn target_enums(names: &Names, ident: &Ident, options: &Options) -> TokenStream {
    let events = declared(options.events.iter().map(|e| &e.ident));
    let queues = declared(options.queues.iter().map(|q| &q.ident));
    let event_doc = format!(
        "The declared events of [`{ident}`], for matching `Invoke::Subscribe` in `#[can_invoke]`."
    );
    let queue_doc = format!(
        "The declared queues of [`{ident}`], for matching `Invoke::Queue` in `#[can_invoke]`."
    );
    let event = target_enum(&names.event, &events, &event_doc);
    let queue = target_enum(&names.queue, &queues, &queue_doc);
    quote! {
        #event
        #queue
    }
}

/// `impl Event<ChatRoom> for NewMessage`, `impl Queue<ChatRoom> for JobMessage`, and the
/// payload checks at the declared types.
pub fn declared_impls(names: &Names, actor: &TokenStream, options: &Options) -> TokenStream {
    let krate = krate();
    let (event_enum, queue_enum) = (&names.event, &names.queue);
    let events = declared(options.events.iter().map(|e| &e.ident));
    let queues = declared(options.queues.iter().map(|q| &q.ident));
    let event_impls = options.events.iter().zip(&events).map(|(decl, variant)| {
        let ty = &decl.ty;
        let variant = &variant.ident;
        // The type of an item is checked with the items, before the impl below, so this
        // message comes first.
        let private_here = private_at(ty.span());
        let check = quote_spanned!(ty.span()=> #private_here::EventCheck<#ty>);
        let value =
            quote_spanned!(ty.span()=> #private_here::EventCheck(::core::marker::PhantomData));
        quote! {
            const _: #check = #value;
            #[allow(private_interfaces, private_bounds)]
            impl #krate::Event<#actor> for #ty {
                const TARGET: #event_enum = #event_enum::#variant;
            }
        }
    });
    let queue_impls = options.queues.iter().zip(&queues).map(|(decl, variant)| {
        let ty = &decl.ty;
        let variant = &variant.ident;
        let completion: Type = decl
            .completion
            .clone()
            .unwrap_or_else(|| syn::parse_quote!(()));
        quote! {
            #[allow(private_interfaces, private_bounds)]
            impl #krate::Queue<#actor> for #ty {
                type Completion = #completion;
                const TARGET: #queue_enum = #queue_enum::#variant;
            }
        }
    });
    quote! {
        #(#event_impls)*
        #(#queue_impls)*
    }
}

/// What the impl side emits about options: its defaults module (glob-imported), the
/// dummy that turns off the struct side's own `Actor` impl, `ActorOptions`, and — when it
/// carries options — the declared impls and the one-place check.
pub fn impl_side(model: &ActorModel, names: &Names) -> TokenStream {
    let private = private();
    let self_ty = &model.self_ty;
    let actor = quote!(#self_ty);
    let options = &model.options;
    let (defaults, decl, target) = (&names.impl_defaults, &names.decl, &names.target);
    let decl_module = decl_module(names, &model.ident, options, Side::Impl);
    let enums = target_enums(names, &model.ident, options);
    let describer = declared_describer(&actor, options, Side::Impl);
    let serde = quote!(#private::serde);
    let serde_path = format!("{}::serde", private.to_string().replace(' ', ""));
    let mut out = quote! {
        #[doc(hidden)]
        #[allow(non_snake_case)]
        mod #defaults {
            #decl_module
            #enums
        }
        #[allow(unused_imports)]
        pub use #defaults::*;
        #describer

        #[doc(hidden)]
        #[allow(non_snake_case, dead_code)]
        mod #target {
            #[derive(#serde::Serialize, #serde::Deserialize, ::core::default::Default)]
            #[serde(crate = #serde_path)]
            pub struct Type;
        }

        impl #private::ActorOptions for #self_ty {
            const ORIGINS: ::core::option::Option<&'static [&'static str]> = #decl::ORIGINS;
            const ALLOW_NO_ORIGIN: bool = #decl::ALLOW_NO_ORIGIN;
            const SLEEP_TIMEOUT_MS: ::core::option::Option<u64> = #decl::SLEEP_TIMEOUT_MS;
            const ACTION_TIMEOUT_MS: ::core::option::Option<u64> = #decl::ACTION_TIMEOUT_MS;
            const NO_SLEEP: bool = #decl::NO_SLEEP;
            const LIMITS: #private::Limits = #decl::LIMITS;
        }
    };
    if let Some(span) = options.span {
        let impls = declared_impls(names, &actor, options);
        let check = quote_spanned! {span=>
            #private::assert_options_in_one_place::<#decl::Provider>();
        };
        out.extend(quote! {
            const _: () = {
                #[allow(dead_code)]
                fn __rivet_checks() {
                    #check
                }
            };
            #impls
        });
    }
    out
}
