//! Reading the annotated impl block into the model's [`ActorModel`].

use syn::Ident;
use syn::spanned::Spanned;

use crate::errors::Errors;
use crate::model::options::Options;
use crate::model::{ActorModel, Method};

use super::{attrs, sig};

/// Reads the impl block, removing our attributes from its methods.
pub fn read(
    item: &mut syn::ItemImpl,
    ident: Ident,
    options: Options,
    errors: &mut Errors,
) -> ActorModel {
    let mut methods = Vec::new();
    for impl_item in &mut item.items {
        let syn::ImplItem::Fn(method) = impl_item else {
            continue;
        };
        let Some(tag) = attrs::take(&mut method.attrs, errors) else {
            continue;
        };
        // The macro sees the method before `cfg` is evaluated, and what it generates for
        // it (enum variants, dispatch, client methods) would name it whether it exists or
        // not.
        for attr in &method.attrs {
            if attr.path().is_ident("cfg") || attr.path().is_ident("cfg_attr") {
                errors.spanned(
                    attr,
                    format!(
                        "`#[{}]` on a method marked `#[{}]` is not supported: the actor's generated code names it whether or not it is compiled in; put the `cfg` on code the method calls instead",
                        attr.path().get_ident().map_or_else(String::new, ToString::to_string),
                        tag.ident
                    ),
                );
            }
        }
        let docs = method
            .attrs
            .iter()
            .filter(|attr| attr.path().is_ident("doc"))
            .cloned()
            .collect();
        methods.push(Method {
            kind: tag.kind,
            attr: tag.ident,
            wire_name: tag.wire_name,
            target: tag.target,
            docs,
            sig: sig::read(&method.sig),
        });
    }
    let generics = item.generics.params.first().map(Spanned::span);
    ActorModel {
        self_ty: (*item.self_ty).clone(),
        ident,
        options,
        methods,
        generics,
    }
}
