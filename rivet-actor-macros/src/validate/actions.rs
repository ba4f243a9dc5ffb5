//! Actions together: distinct enum variants and wire names, none hidden by a client method.

use std::collections::HashMap;

use crate::errors::Errors;
use crate::model::{ActorModel, Method};

/// Methods of the generated clients' wrapper types (`ActorHandle`, `ActorConn`, ..) that an
/// action of the same Rust name would be hidden behind.
const RESERVED: &[&str] = &[
    "connect",
    "params",
    "request",
    "headers",
    "id",
    "actor_id",
    "events",
    "close",
    "key",
    "status",
    "subscribe",
    "unsubscribe",
    "from",
    "into",
    "clone",
    "deref",
];

pub(super) fn check_actions(model: &ActorModel, errors: &mut Errors) {
    let mut wires: HashMap<String, &Method> = HashMap::new();
    let mut variants: HashMap<String, &Method> = HashMap::new();
    for action in model.actions() {
        let variant = action.variant().to_string();
        if let Some(first) = variants.get(&variant) {
            errors.spanned(
                &action.sig.ident,
                format!(
                    "actions `{}` and `{}` would both be `{}Action::{variant}`; rename one of them",
                    first.sig.ident, action.sig.ident, model.ident
                ),
            );
        } else {
            variants.insert(variant, action);
        }
        let name = crate::names::plain(&action.sig.ident);
        if RESERVED.contains(&name.as_str()) {
            errors.spanned(
                &action.sig.ident,
                format!(
                    "action `{name}` would be hidden by the client's own `{name}` method; rename the method and keep the wire name with `#[action(name = \"{}\")]`",
                    action.wire()
                ),
            );
        }
        let wire = action.wire();
        if let Some(first) = wires.get(&wire) {
            let at = action
                .wire_name
                .as_ref()
                .map_or_else(|| action.sig.ident.span(), syn::LitStr::span);
            errors.at(
                at,
                format!(
                    "two actions have the wire name `{wire}`: `{}` and `{}`; give one another name with `#[action(name = \"..\")]`",
                    first.sig.ident, action.sig.ident
                ),
            );
        } else {
            wires.insert(wire, action);
        }
    }
}
