//! The receiver (`self`) and the context parameter of a method.

use syn::Type;

use crate::errors::Errors;
use crate::model::Method;
use crate::model::kind::Kind;
use crate::model::sig::{CtxKind, Receiver};
use crate::model::ty;

use super::rules::Recv;

pub(super) fn check_receiver(method: &Method, recv: Recv, what: &str, errors: &mut Errors) {
    let ident = &method.sig.ident;
    match (&method.sig.receiver, recv) {
        (Receiver::Other { span }, Recv::Absent) => errors.at(
            *span,
            format!("{what} makes the state, so it takes no `self`: remove the receiver"),
        ),
        (Receiver::Other { span }, _) => errors.at(
            *span,
            format!(
                "{what} must take `{}`, not `self` by value: the actor keeps its state",
                expected_receiver(recv)
            ),
        ),
        (Receiver::Ref { span, .. }, Recv::Absent) => errors.at(
            *span,
            format!(
                "{what} takes no `self`: {}; remove the receiver",
                match method.kind {
                    Kind::OnMigrate => "it turns old stored state into the state",
                    Kind::Run =>
                        "it runs beside the turns and reaches the state only through them (`c.this()`, `c.queue()`)",
                    _ => "the state does not exist yet when it runs",
                }
            ),
        ),
        (
            Receiver::Ref {
                mutable: true,
                span,
            },
            Recv::Shared | Recv::SharedOrAbsent,
        ) => errors.at(
            *span,
            format!("{what} sees the state read-only: take `&self`, not `&mut self`"),
        ),
        (Receiver::None, Recv::Either | Recv::Shared | Recv::Mutable) => errors.spanned(
            ident,
            format!("{what} must take `{}`", expected_receiver(recv)),
        ),
        _ => {}
    }
}

pub(super) fn expected_receiver(recv: Recv) -> &'static str {
    match recv {
        Recv::Either => "&self` or `&mut self",
        Recv::Shared | Recv::SharedOrAbsent => "&self",
        Recv::Mutable => "&mut self",
        Recv::Absent => "no receiver",
    }
}

pub(super) fn ctx_text(kind: CtxKind, mutable: bool) -> String {
    let lifetime = match kind {
        CtxKind::Create => "'_".to_string(),
        CtxKind::Run => return "RunCtx<Self>".to_string(),
        _ => "'_, Self".to_string(),
    };
    format!(
        "&{}{}<{lifetime}>",
        if mutable { "mut " } else { "" },
        kind.name()
    )
}

pub(super) fn check_ctx(
    method: &Method,
    allowed: Option<(CtxKind, bool)>,
    what: &str,
    errors: &mut Errors,
) {
    if let Some(ctx) = &method.sig.ctx {
        match allowed {
            None => errors.spanned(
                &ctx.ty,
                format!("{what} takes no context parameter: it runs before the actor exists; remove it"),
            ),
            Some((kind, _)) if kind != ctx.kind => errors.spanned(
                &ctx.ty,
                format!(
                    "{what} gets `{}` as its context, not `{}`{}",
                    ctx_text(kind, allowed.is_some_and(|(_, m)| m)),
                    ctx.kind.name(),
                    match (kind, ctx.kind) {
                        (CtxKind::PreConnect, _) =>
                            ": without `self` it runs outside the actor's turn, concurrently, where the vars are not lent; take `&self` to run in the turn with `ConnectCtx`",
                        (_, CtxKind::PreConnect) =>
                            ": `PreConnectCtx` is for a connect hook without `self` (run outside the turn); with `&self` it runs in the turn",
                        _ => "",
                    }
                ),
            ),
            Some((CtxKind::Run, _)) if !ctx.by_value => errors.spanned(
                &ctx.ty,
                format!(
                    "{what} owns its context: take `c: RunCtx<Self>` by value, not a reference"
                ),
            ),
            Some((kind, mutable)) if ctx.by_value && kind != CtxKind::Run => errors.spanned(
                &ctx.ty,
                format!(
                    "{what} borrows its context: take `{}`",
                    ctx_text(kind, mutable)
                ),
            ),
            Some((kind, false)) if ctx.mutable => errors.spanned(
                &ctx.ty,
                format!(
                    "{what} gets its context shared: take `{}`, not `&mut`",
                    ctx_text(kind, false)
                ),
            ),
            Some(_) => {}
        }
    }
    // A context anywhere else than first is a mistake the type checker would report as a
    // wire-type error; say what it is.
    for param in &method.sig.params {
        if let Type::Reference(reference) = &param.ty
            && let Some(ident) = ty::last_ident(&reference.elem)
            && ident.to_string().ends_with("Ctx")
        {
            errors.spanned(
                &param.ty,
                format!(
                    "the context must be the first parameter of {what}, right after the receiver"
                ),
            );
        }
    }
}
