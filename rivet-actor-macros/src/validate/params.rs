//! The parameters after the receiver and the context: wire arguments of actions, and the
//! fixed ones hooks take (input, params, invocation, old state, request, socket).

use quote::ToTokens;
use syn::Type;

use crate::errors::Errors;
use crate::model::Method;
use crate::model::ty;

use super::receiver::ctx_text;
use super::rules::{Extra, rule};

pub(super) fn check_params(method: &Method, extra: Extra, what: &str, errors: &mut Errors) {
    let params = &method.sig.params;
    let ctx = rule(method.kind)
        .ctx
        .map(|(kind, mutable)| format!(" besides `{}`", ctx_text(kind, mutable)))
        .unwrap_or_default();
    match extra {
        Extra::Args => {
            for param in params {
                match &param.ty {
                    Type::Reference(_) => errors.spanned(
                        &param.ty,
                        format!(
                            "argument `{}` of {what} is decoded from the wire, so it must be owned: take `String` for `&str`, `Vec<T>` for `&[T]`",
                            param.name
                        ),
                    ),
                    Type::ImplTrait(_) => errors.spanned(
                        &param.ty,
                        format!("argument `{}` of {what} needs a concrete type, not `impl Trait`", param.name),
                    ),
                    _ => {}
                }
            }
        }
        Extra::None => {
            if let Some(param) = params.first() {
                errors.spanned(&param.ty, format!("{what} takes no parameters{ctx}"));
            }
        }
        Extra::OptionalInput => {
            if let Some(param) = params.first()
                && matches!(param.ty, Type::Reference(_))
            {
                errors.spanned(
                    &param.ty,
                    format!(
                        "the input of {what} is decoded from the wire, so it must be owned: take `String` for `&str`, `Vec<T>` for `&[T]`"
                    ),
                );
            }
            if let Some(param) = params.get(1) {
                errors.spanned(
                    &param.ty,
                    format!("{what} takes at most one parameter{ctx}: the input given to `create`/`get_or_create`"),
                );
            }
        }
        Extra::OptionalParams => {
            if let Some(param) = params.first()
                && !matches!(&param.ty, Type::Reference(r) if r.mutability.is_none())
            {
                errors.spanned(
                    &param.ty,
                    format!(
                        "{what} borrows the connection params: expected `&P` (e.g. `params: &ConnParams`), found `{}`",
                        param.ty.to_token_stream()
                    ),
                );
            }
            if let Some(param) = params.get(1) {
                errors.spanned(
                    &param.ty,
                    format!("{what} takes at most one parameter{ctx}: `params: &P`, the connection params"),
                );
            }
        }
        Extra::Invoke => match params.first() {
            None => errors.spanned(
                &method.sig.ident,
                format!("{what} takes `invoke: Invoke<Self>`, the invocation to allow or deny"),
            ),
            Some(param) => {
                if ty::last_ident(&param.ty).is_none_or(|ident| ident != "Invoke") {
                    errors.spanned(
                        &param.ty,
                        format!(
                            "{what} takes `invoke: Invoke<Self>`, found `{}`",
                            param.ty.to_token_stream()
                        ),
                    );
                }
                if let Some(extra) = params.get(1) {
                    errors.spanned(
                        &extra.ty,
                        format!("{what} takes only `invoke: Invoke<Self>`{ctx}"),
                    );
                }
            }
        },
        Extra::Request | Extra::Socket => {
            let (expected, meaning) = if extra == Extra::Request {
                ("`request: RawRequest`", "the HTTP request")
            } else {
                ("`socket: RawWebSocket`", "the accepted WebSocket")
            };
            match params.first() {
                None => errors.spanned(
                    &method.sig.ident,
                    format!("{what} takes {expected} ({meaning})"),
                ),
                Some(_) => {
                    if let Some(extra) = params.get(1) {
                        errors.spanned(&extra.ty, format!("{what} takes only {expected}{ctx}"));
                    }
                }
            }
        }
        Extra::Old => match params.first() {
            None => errors.spanned(
                &method.sig.ident,
                format!("{what} takes `old: Value`, the stored state that no longer decodes"),
            ),
            Some(_) => {
                if let Some(extra) = params.get(1) {
                    errors.spanned(&extra.ty, format!("{what} takes only `old: Value`"));
                }
            }
        },
    }
}
