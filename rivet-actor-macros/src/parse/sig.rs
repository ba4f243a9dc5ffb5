//! Taking a method's signature apart into the model's [`Sig`].

use syn::spanned::Spanned;
use syn::{FnArg, Ident, Pat, ReceiverKind, ReturnType, Type};

use crate::model::sig::{Ctx, CtxKind, Param, Receiver, Sig};
use crate::model::ty::last_ident;

/// Takes a signature apart.
pub fn read(sig: &syn::Signature) -> Sig {
    let mut receiver = Receiver::None;
    let mut ctx = None;
    let mut params = Vec::new();
    for (index, input) in sig.inputs.iter().enumerate() {
        match input {
            FnArg::Receiver(recv) => {
                receiver = match &recv.kind {
                    ReceiverKind::Reference(_, _, mutability) => Receiver::Ref {
                        mutable: mutability.is_some(),
                        span: recv.span(),
                    },
                    _ => Receiver::Other { span: recv.span() },
                };
            }
            FnArg::Typed(typed) => {
                let first = params.is_empty() && ctx.is_none();
                if first && let Some(found) = ctx_of(&typed.ty) {
                    ctx = Some(found);
                    continue;
                }
                let name = match &*typed.pat {
                    Pat::Ident(pat) if pat.subpat.is_none() && pat.by_ref.is_none() => {
                        pat.ident.clone()
                    }
                    _ => Ident::new(&format!("arg{index}"), typed.pat.span()),
                };
                params.push(Param {
                    name,
                    ty: (*typed.ty).clone(),
                });
            }
        }
    }
    let output = match &sig.output {
        ReturnType::Default => None,
        ReturnType::Type(_, ty) => Some((**ty).clone()),
    };
    let generic = sig
        .generics
        .params
        .iter()
        .find(|param| !matches!(param, syn::GenericParam::Lifetime(_)))
        .map(Spanned::span);
    let unsafe_or_extern = match (&sig.safety, &sig.abi) {
        (syn::Safety::Unsafe(token), _) => Some(token.span),
        (_, Some(abi)) => Some(abi.span()),
        _ => None,
    };
    Sig {
        ident: sig.ident.clone(),
        is_async: sig.asyncness.is_some(),
        receiver,
        ctx,
        params,
        output,
        generic,
        unsafe_or_extern,
    }
}

/// `&[mut] XCtx<..>` where `XCtx` is one of the context types, or one taken by value.
fn ctx_of(ty: &Type) -> Option<Ctx> {
    let Type::Reference(reference) = ty else {
        let kind = CtxKind::from_name(&last_ident(ty)?.to_string())?;
        return Some(Ctx {
            kind,
            mutable: false,
            by_value: true,
            ty: ty.clone(),
        });
    };
    let kind = CtxKind::from_name(&last_ident(&reference.elem)?.to_string())?;
    Some(Ctx {
        kind,
        mutable: reference.mutability.is_some(),
        by_value: false,
        ty: ty.clone(),
    })
}
