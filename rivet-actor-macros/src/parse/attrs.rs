//! Method attributes: which hook (or action) a method is, and unknown ones that look ours.

use syn::{Attribute, Ident, LitStr, Meta};

use crate::errors::Errors;
use crate::model::kind::Kind;
use crate::names::edit_distance;

/// A method's attribute of ours.
pub struct Tag {
    pub kind: Kind,
    /// The attribute's name token, for errors about it.
    pub ident: Ident,
    /// `#[action(name = "..")]`.
    pub wire_name: Option<LitStr>,
    /// `#[can_subscribe(event)]` / `#[can_publish(queue)]`: the declared item it gates.
    pub target: Option<Ident>,
}

/// Attributes rustc or common tools define, never taken for misspelt hooks.
const FOREIGN: &[&str] = &[
    "doc",
    "allow",
    "warn",
    "deny",
    "forbid",
    "expect",
    "cfg",
    "cfg_attr",
    "inline",
    "cold",
    "must_use",
    "deprecated",
    "track_caller",
    "instrument",
    "test",
];

/// Removes our attributes from `attrs` and returns the first one (a second is an error).
pub fn take(attrs: &mut Vec<Attribute>, errors: &mut Errors) -> Option<Tag> {
    let mut found: Option<Tag> = None;
    let mut kept = Vec::with_capacity(attrs.len());
    for attr in attrs.drain(..) {
        let Some(ident) = attr.path().get_ident().cloned() else {
            kept.push(attr);
            continue;
        };
        let name = ident.to_string();
        let Some(kind) = Kind::from_name(&name) else {
            // A misspelt hook is reported here and dropped, so rustc does not report it
            // again as an unknown attribute.
            if !is_misspelt(&ident, &name, errors) {
                kept.push(attr);
            }
            continue;
        };
        let (wire_name, target) = match kind.target_kind() {
            Some(what) => (None, read_target(&attr, &ident, kind, what, errors)),
            None => (read_args(&attr, kind, errors), None),
        };
        match &found {
            Some(first) => errors.spanned(
                &ident,
                format!(
                    "a method can carry only one of the actor's attributes; this one already has `#[{}]`",
                    first.kind.name()
                ),
            ),
            None => {
                found = Some(Tag {
                    kind,
                    ident,
                    wire_name,
                    target,
                })
            }
        }
    }
    *attrs = kept;
    found
}

fn is_misspelt(ident: &Ident, name: &str, errors: &mut Errors) -> bool {
    if FOREIGN.contains(&name) || name == "actor" {
        return false;
    }
    let best = Kind::ALL
        .into_iter()
        .map(|kind| (edit_distance(name, kind.name()), kind))
        .min_by_key(|(distance, _)| *distance);
    if let Some((distance, kind)) = best
        && distance <= 2
    {
        errors.spanned(
            ident,
            format!(
                "unknown hook `#[{name}]`; did you mean `#[{}]`?",
                kind.name()
            ),
        );
        return true;
    }
    false
}

/// Reads `#[action(name = "..")]`; other attributes take no arguments.
fn read_args(attr: &Attribute, kind: Kind, errors: &mut Errors) -> Option<LitStr> {
    match &attr.meta {
        Meta::Path(_) => None,
        Meta::NameValue(value) => {
            errors.spanned(
                value,
                format!(
                    "`#[{0}]` takes no value{1}",
                    kind.name(),
                    if kind == Kind::Action {
                        "; to rename the action on the wire, write `#[action(name = \"..\")]`"
                            .to_owned()
                    } else {
                        format!(": write `#[{}]` alone", kind.name())
                    }
                ),
            );
            None
        }
        Meta::List(list) if kind == Kind::Action => {
            let mut name = None;
            let result = list.parse_nested_meta(|meta| {
                if meta.path.is_ident("name") {
                    let lit: LitStr = meta.value()?.parse()?;
                    if lit.value().is_empty() {
                        return Err(syn::Error::new(
                            lit.span(),
                            "the action name cannot be empty",
                        ));
                    }
                    name = Some(lit);
                    Ok(())
                } else {
                    Err(meta.error(
                        "unknown action option; expected `name = \"..\"` (the action's wire name)",
                    ))
                }
            });
            if let Err(error) = result {
                errors.push(error);
            }
            name
        }
        Meta::List(list) => {
            errors.spanned(
                list,
                format!(
                    "`#[{0}]` takes no arguments: write `#[{0}]` alone",
                    kind.name()
                ),
            );
            None
        }
    }
}

/// Reads `#[can_subscribe(event)]` / `#[can_publish(queue)]`: exactly one identifier, the
/// item as declared in `#[actor(events(..))]` / `#[actor(queues(..))]`.
fn read_target(
    attr: &Attribute,
    ident: &Ident,
    kind: Kind,
    what: &str,
    errors: &mut Errors,
) -> Option<Ident> {
    let plural = if what == "event" { "events" } else { "queues" };
    let usage = format!(
        "`#[{}({what}_name)]` names the {what} it gates, as declared in `#[actor({plural}(..))]`",
        kind.name()
    );
    match &attr.meta {
        Meta::List(list) => match list.parse_args::<Ident>() {
            Ok(target) => Some(target),
            Err(_) => {
                errors.spanned(&list.tokens, format!("expected one {what} name: {usage}"));
                None
            }
        },
        Meta::Path(_) => {
            errors.spanned(ident, format!("missing the {what}: {usage}"));
            None
        }
        Meta::NameValue(value) => {
            errors.spanned(value, format!("expected a list, not a value: {usage}"));
            None
        }
    }
}
