//! Every rule `#[actor]` checks syntactically, each error at the offending token. All
//! errors are collected; expansion only runs when there are none.
//!
//! `rules` says what each kind of method may take and return; `receiver`, `params` and
//! `returns` check one method against it; `actions` and `declared` check what must hold
//! across methods and options.

mod actions;
mod declared;
mod params;
mod receiver;
mod returns;
mod rules;

use std::collections::HashMap;

use crate::errors::Errors;
use crate::model::kind::Kind;
use crate::model::{ActorModel, Method};

pub use declared::check_decls;

/// Checks the whole impl block.
pub fn check(model: &ActorModel, errors: &mut Errors) {
    if let Some(span) = model.generics {
        errors.at(
            span,
            "`#[actor]` does not support generic impl blocks: an actor type has one wire name and one set of generated enums; \
             write the impl for a concrete type (`impl Store<Item>`) or wrap it in a struct of its own",
        );
    }
    let mut first_of: HashMap<&'static str, &Method> = HashMap::new();
    for method in &model.methods {
        if method.kind != Kind::Action && method.kind.target_kind().is_none() {
            if let Some(first) = first_of.get(method.kind.name()) {
                errors.spanned(
                    &method.attr,
                    format!(
                        "a second `#[{}]` hook: `{}` already is this actor's `#[{}]`; an actor has at most one",
                        method.kind.name(),
                        first.sig.ident,
                        method.kind.name()
                    ),
                );
            } else {
                first_of.insert(method.kind.name(), method);
            }
        }
        check_method(method, errors);
    }
    actions::check_actions(model, errors);
    declared::check_declared(model, errors);
    declared::check_targets(model, Kind::CanSubscribe, errors);
    declared::check_targets(model, Kind::CanPublish, errors);
}

fn what(method: &Method) -> String {
    match method.kind {
        Kind::Action => format!("action `{}`", method.sig.ident),
        kind => format!("`#[{}]`", kind.name()),
    }
}

fn check_method(method: &Method, errors: &mut Errors) {
    let rule = rules::rule(method.kind);
    let sig = &method.sig;
    let what = what(method);
    if let Some(span) = sig.generic {
        errors.at(
            span,
            format!("{what} cannot be generic: the generated code calls it with concrete types; remove the type and const parameters"),
        );
    }
    if let Some(span) = sig.unsafe_or_extern {
        errors.at(
            span,
            format!("{what} cannot be `unsafe` or `extern`: the generated code calls it as a plain Rust method"),
        );
    }
    receiver::check_receiver(method, rule.recv, &what, errors);
    receiver::check_ctx(method, rules::ctx_for(method, &rule), &what, errors);
    params::check_params(method, rule.extra, &what, errors);
    returns::check_return(method, rule.ret, &what, errors);
}
