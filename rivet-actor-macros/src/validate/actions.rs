//! Actions together: distinct enum variants and wire names, none hidden by a client method.

use std::collections::HashMap;

use crate::errors::Errors;
use crate::model::{ActorModel, Method};

/// Methods of the generated clients' wrapper types (`ActorHandle`, `ActorConn`,
/// `LocalHandle`, `LocalConn`, `Peer`, and `This`: `c.this().turn(..)`) that an action of the same Rust name would be hidden
/// behind (the wrapper's own method is found before the generated one it derefs to).
const RESERVED: &[&str] = &[
    "actor_id",
    "clone",
    "close",
    "connect",
    "deref",
    "events",
    "fetch",
    "from",
    "header",
    "id",
    "ids",
    "into",
    "key",
    "params",
    "params_with",
    "request",
    "send",
    "send_and_wait",
    "status",
    "status_changes",
    "subscribe",
    "turn",
    "unsubscribe",
    "websocket",
    "with_params",
];

/// Members of the npm client's handles and connections (`ActorHandleRaw`, `ActorConnRaw`,
/// and what every JavaScript object has): its proxy finds them before an action of that
/// wire name, which could then never be called through it (`then` would even make the
/// handle look like a promise).
const NPM_RESERVED: &[&str] = &[
    "action",
    "connStatus",
    "connect",
    "constructor",
    "dispose",
    "fetch",
    "getGatewayUrl",
    "hasOwnProperty",
    "isConnected",
    "isPrototypeOf",
    "on",
    "onClose",
    "onError",
    "onOpen",
    "onStatusChange",
    "once",
    "propertyIsEnumerable",
    "ready",
    "reload",
    "resolve",
    "send",
    "then",
    "toLocaleString",
    "toString",
    "valueOf",
    "webSocket",
];

pub(super) fn check_actions(model: &ActorModel, errors: &mut Errors) {
    let mut wires: HashMap<String, &Method> = HashMap::new();
    let mut variants: HashMap<String, &Method> = HashMap::new();
    for action in model.actions() {
        let name = crate::names::plain(&action.sig.ident);
        if crate::names::variant_of(&name).is_none() {
            errors.spanned(
                &action.sig.ident,
                format!(
                    "action `{name}` makes no variant name (it needs a letter, and no leading digit once underscores go); rename it"
                ),
            );
            continue;
        }
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
        let wire = action.wire();
        // Where the wire name was written, or the method's name it comes from.
        let wire_at = action
            .wire_name
            .as_ref()
            .map_or_else(|| action.sig.ident.span(), syn::LitStr::span);
        // A wire name written out is the author's choice (the npm client reaches any name
        // through `handle.action({ name, args })`), except `then`, which no handle survives.
        let npm_hidden = match &action.wire_name {
            Some(_) => wire == "then",
            None => NPM_RESERVED.contains(&wire.as_str()),
        };
        if npm_hidden {
            errors.at(
                wire_at,
                format!(
                    "the npm client's handles and connections have their own `{wire}`, which `handle.{wire}(..)` would reach instead of this action; rename the method, or name it on the wire with `#[action(name = \"..\")]`"
                ),
            );
        } else if RESERVED.contains(&name.as_str()) {
            errors.spanned(
                &action.sig.ident,
                format!(
                    "action `{name}` would be hidden by the client's own `{name}` method; rename the method and keep the wire name with `#[action(name = \"{wire}\")]`"
                ),
            );
        }
        if let Some(first) = wires.get(&wire) {
            errors.at(
                wire_at,
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
