//! Declared events and queues, and the `#[can_subscribe(..)]` / `#[can_publish(..)]` gates
//! that name them.

use std::collections::HashMap;

use quote::ToTokens;
use syn::Type;

use crate::errors::Errors;
use crate::model::kind::Kind;
use crate::model::{ActorModel, Method};

pub(super) fn check_declared(model: &ActorModel, errors: &mut Errors) {
    check_decls(
        "event",
        model.options.events.iter().map(|e| (&e.ident, &e.ty)),
        errors,
    );
    check_decls(
        "queue",
        model.options.queues.iter().map(|q| (&q.ident, &q.ty)),
        errors,
    );
}

/// Declared events/queues: distinct wire names, distinct types.
pub fn check_decls<'a>(
    what: &str,
    decls: impl Iterator<Item = (&'a syn::Ident, &'a Type)>,
    errors: &mut Errors,
) {
    let mut wires: HashMap<String, &syn::Ident> = HashMap::new();
    let mut types: HashMap<String, &syn::Ident> = HashMap::new();
    for (ident, ty) in decls {
        let name = crate::names::plain(ident);
        if crate::names::variant_of(&name).is_none() {
            errors.spanned(
                ident,
                format!(
                    "{what} `{name}` makes no variant name (it needs a letter, and no leading digit once underscores go); rename it"
                ),
            );
            continue;
        }
        let wire = crate::names::lower_camel(&name);
        if let Some(first) = wires.get(&wire) {
            errors.spanned(
                ident,
                format!("two {what}s have the wire name `{wire}`: `{first}` and `{ident}`"),
            );
        } else {
            wires.insert(wire, ident);
        }
        let key = ty.to_token_stream().to_string();
        if let Some(first) = types.get(&key) {
            errors.spanned(
                ty,
                format!(
                    "{what} type `{key}` is declared twice (`{first}` and `{ident}`); each {what} needs a type of its own"
                ),
            );
        } else {
            types.insert(key, ident);
        }
    }
}

/// `#[can_subscribe(x)]` / `#[can_publish(x)]`: one hook per target, and a target that is
/// declared — checked here when the impl block declares its events/queues itself; when the
/// struct declares them, the generated `match` on the target enum reports a misspelt one at
/// the same token.
pub(super) fn check_targets(model: &ActorModel, kind: Kind, errors: &mut Errors) {
    let (what, declared): (&str, Vec<&syn::Ident>) = if kind == Kind::CanSubscribe {
        (
            "event",
            model.options.events.iter().map(|e| &e.ident).collect(),
        )
    } else {
        (
            "queue",
            model.options.queues.iter().map(|q| &q.ident).collect(),
        )
    };
    let plural = if kind == Kind::CanSubscribe {
        "events"
    } else {
        "queues"
    };
    let mut seen: HashMap<String, &Method> = HashMap::new();
    for hook in model.hooks(kind) {
        let Some(target) = &hook.target else { continue };
        let name = target.to_string();
        if let Some(first) = seen.get(&name) {
            errors.spanned(
                target,
                format!(
                    "a second `#[{}({name})]`: `{}` already gates {what} `{name}`; merge the two",
                    kind.name(),
                    first.sig.ident
                ),
            );
            continue;
        }
        seen.insert(name.clone(), hook);
        if model.options.given() && !declared.iter().any(|d| **d == name) {
            let list = declared
                .iter()
                .map(|d| format!("`{d}`"))
                .collect::<Vec<_>>()
                .join(", ");
            errors.spanned(
                target,
                format!(
                    "no {what} `{name}` is declared; declared {plural}: {}",
                    if list.is_empty() {
                        "none".to_string()
                    } else {
                        list
                    }
                ),
            );
        }
    }
}
