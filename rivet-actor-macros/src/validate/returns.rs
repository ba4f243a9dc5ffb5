//! What a method returns.

use quote::ToTokens;
use syn::Type;

use crate::errors::Errors;
use crate::model::Method;
use crate::model::ty;

use super::rules::Ret;

pub(super) fn check_return(method: &Method, ret: Ret, what: &str, errors: &mut Errors) {
    let output = method.sig.output.as_ref();
    if let Some(ty) = output
        && matches!(ty::result_ok(ty), Some(None))
    {
        // Types are read by name: a `Result` without arguments may be an alias hiding its
        // value type or a type of the user's own, and either would be misread.
        errors.spanned(
            ty,
            format!(
                "{what} returns `{}` without its type arguments: `#[actor]` reads the answer's type from `Result<T, E>`; \
                 write them out (`std::result::Result<T, E>`), or rename a type of your own called `Result`",
                ty.to_token_stream()
            ),
        );
        return;
    }
    let ok_is_unit = |ty: &Type| match ty::result_ok(ty) {
        Some(Some(ok)) => ty::is_unit(ok),
        Some(None) => true,
        None => false,
    };
    match ret {
        Ret::Any => {}
        Ret::Unit => {
            if let Some(ty) = output
                && !ty::is_unit(ty)
            {
                errors.spanned(ty, format!("{what} returns nothing (`()`): it cannot fail or answer"));
            }
        }
        Ret::UnitOrResult => {
            if let Some(ty) = output
                && !ty::is_unit(ty)
                && !ok_is_unit(ty)
            {
                errors.spanned(
                    ty,
                    format!("{what} must return `()` or `Result<(), E>`, found `{}`", ty.to_token_stream()),
                );
            }
        }
        Ret::ResultUnit => match output {
            Some(ty) if ok_is_unit(ty) => {}
            Some(ty) => errors.spanned(
                ty,
                format!(
                    "{what} must return `Result<(), E>`: `Ok(())` accepts the connection, `Err(..)` rejects it; found `{}`",
                    ty.to_token_stream()
                ),
            ),
            None => errors.spanned(
                &method.sig.ident,
                format!("{what} must return `Result<(), E>`: `Ok(())` accepts the connection, `Err(..)` rejects it"),
            ),
        },
        Ret::Response => {
            let named_response = |ty: &Type| {
                ty::last_ident(ty).is_some_and(|ident| ident == "RawResponse" || ident == "Response")
            };
            let ok = output.map(|ty| match ty::result_ok(ty) {
                Some(Some(ok)) => named_response(ok),
                Some(None) => false,
                None => named_response(ty),
            });
            let expected = "`RawResponse` or `Result<RawResponse, E>` (the HTTP response)";
            match (output, ok) {
                (Some(_), Some(true)) => {}
                (Some(ty), _) => errors.spanned(
                    ty,
                    format!("{what} must return {expected}, found `{}`", ty.to_token_stream()),
                ),
                (None, _) => errors.spanned(
                    &method.sig.ident,
                    format!("{what} must return {expected}"),
                ),
            }
        }
        Ret::Bool => match output {
            Some(ty) if ty::is_bool(ty) => {}
            Some(ty) => errors.spanned(
                ty,
                format!(
                    "{what} must return `bool` (`true` allows the invocation, `false` answers `auth.forbidden`), found `{}`",
                    ty.to_token_stream()
                ),
            ),
            None => errors.spanned(
                &method.sig.ident,
                format!("{what} must return `bool` (`true` allows the invocation, `false` answers `auth.forbidden`)"),
            ),
        },
    }
}
