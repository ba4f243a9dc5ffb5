//! What `#[actor]` sits on decides what it does: an inherent impl block is wired into an
//! actor; a struct carries options (and alone is an actor without actions or hooks).

use proc_macro2::TokenStream;
use quote::quote;
use syn::spanned::Spanned;

use crate::errors::Errors;
use crate::parse::{impl_block, options};
use crate::{expand, fallback, validate};

pub fn actor(args: TokenStream, input: TokenStream) -> TokenStream {
    let item: syn::Item = match syn::parse2(input.clone()) {
        Ok(item) => item,
        Err(error) => {
            let error = error.to_compile_error();
            return quote!(#error #input);
        }
    };
    match item {
        syn::Item::Impl(item) => on_impl(args, item),
        syn::Item::Struct(item) => on_struct(args, item),
        other => {
            let error = syn::Error::new(
                item_keyword_span(&other),
                "`#[actor]` goes on the actor's state struct or on its inherent `impl` block",
            );
            fallback::item(error, quote!(#other))
        }
    }
}

fn item_keyword_span(item: &syn::Item) -> proc_macro2::Span {
    match item {
        syn::Item::Enum(item) => item.enum_token.span,
        syn::Item::Fn(item) => item.sig.fn_token.span,
        syn::Item::Trait(item) => item.trait_token.span,
        syn::Item::Mod(item) => item.mod_token.span,
        other => other.span(),
    }
}

fn on_impl(args: TokenStream, mut item: syn::ItemImpl) -> TokenStream {
    let mut errors = Errors::default();
    let options = options::parse(args, &mut errors);
    if let Some((path, _)) = &item.trait_ {
        errors.spanned(
            path,
            "`#[actor]` goes on the state type's inherent impl block (`impl ChatRoom { .. }`), not on a trait impl",
        );
        return fallback::impl_block(errors, item, None);
    }
    let Some(ident) = crate::model::ty::last_ident(&item.self_ty).cloned() else {
        errors.spanned(
            &item.self_ty,
            "`#[actor]` needs the state type by name (`impl ChatRoom { .. }`)",
        );
        return fallback::impl_block(errors, item, None);
    };
    let model = impl_block::read(&mut item, ident, options, &mut errors);
    validate::check(&model, &mut errors);
    if !errors.is_empty() {
        // A generic impl block gets no stand-in: its parameters are not in scope outside it.
        let stub = model.generics.is_none().then_some(&model);
        return fallback::impl_block(errors, item, stub);
    }
    let generated = expand::impl_block(&model);
    quote! {
        #item
        #generated
    }
}

fn on_struct(args: TokenStream, item: syn::ItemStruct) -> TokenStream {
    let mut errors = Errors::default();
    let options = options::parse(args, &mut errors);
    if let Some(param) = item.generics.params.first() {
        errors.spanned(
            param,
            "`#[actor]` does not support generic structs: an actor type has one wire name and one set of generated enums; \
             put `#[actor]` on the impl block of a concrete type (`impl Store<Item>`) instead",
        );
    }
    validate::check_decls(
        "event",
        options.events.iter().map(|e| (&e.ident, &e.ty)),
        &mut errors,
    );
    validate::check_decls(
        "queue",
        options.queues.iter().map(|q| (&q.ident, &q.ty)),
        &mut errors,
    );
    if let Err(error) = errors.finish() {
        return fallback::item(error, quote!(#item));
    }
    let generated = expand::strukt::expand(&item, &options);
    quote! {
        #item
        #generated
    }
}
