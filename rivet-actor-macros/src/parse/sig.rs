//! The shape of a method's signature: receiver, context parameter, other parameters and
//! return type, keeping the user's nodes for spans.

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{FnArg, GenericArgument, Ident, Pat, PathArguments, ReceiverKind, ReturnType, Type};

/// How the method takes `self`.
#[derive(Clone)]
pub enum Receiver {
    /// No receiver (an associated function).
    None,
    /// `&self` / `&mut self`.
    Ref { mutable: bool, span: Span },
    /// `self`, `mut self` or `self: Type`.
    Other { span: Span },
}

/// Which context a parameter is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CtxKind {
    Create,
    Actor,
    Action,
    Connect,
    Conn,
    Run,
}

impl CtxKind {
    pub fn name(self) -> &'static str {
        match self {
            CtxKind::Create => "CreateCtx",
            CtxKind::Actor => "ActorCtx",
            CtxKind::Action => "ActionCtx",
            CtxKind::Connect => "ConnectCtx",
            CtxKind::Conn => "ConnCtx",
            CtxKind::Run => "RunCtx",
        }
    }

    fn from_name(name: &str) -> Option<CtxKind> {
        [
            CtxKind::Create,
            CtxKind::Actor,
            CtxKind::Action,
            CtxKind::Connect,
            CtxKind::Conn,
            CtxKind::Run,
        ]
        .into_iter()
        .find(|kind| kind.name() == name)
    }
}

/// A context parameter: `c: &mut ActionCtx<'_, Self>`.
#[derive(Clone)]
pub struct Ctx {
    pub kind: CtxKind,
    pub mutable: bool,
    /// Taken by value (`c: RunCtx<Self>`), not borrowed.
    pub by_value: bool,
    pub ty: Type,
}

/// Any other parameter.
#[derive(Clone)]
pub struct Param {
    /// The name to show in errors and to give the client method's parameter.
    pub name: Ident,
    pub ty: Type,
}

/// A method's signature, taken apart.
#[derive(Clone)]
pub struct Sig {
    pub ident: Ident,
    pub is_async: bool,
    pub receiver: Receiver,
    pub ctx: Option<Ctx>,
    pub params: Vec<Param>,
    /// The written return type; `None` for `()` left out.
    pub output: Option<Type>,
    /// Type or const parameters of the method, if any (spans the first).
    pub generic: Option<Span>,
    /// `unsafe`/`extern` methods cannot be called by generated code.
    pub unsafe_or_extern: Option<Span>,
}

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

/// The last path segment's identifier of a path type.
pub fn last_ident(ty: &Type) -> Option<&Ident> {
    match ty {
        Type::Path(path) => path.path.segments.last().map(|segment| &segment.ident),
        Type::Group(group) => last_ident(&group.elem),
        Type::Paren(paren) => last_ident(&paren.elem),
        _ => None,
    }
}

/// `Result<T, ..>` (by the last segment's name): `Some(T)`, or `Some(None)` for a `Result`
/// whose `T` cannot be read.
pub fn result_ok(ty: &Type) -> Option<Option<&Type>> {
    let Type::Path(path) = strip(ty) else {
        return None;
    };
    let last = path.path.segments.last()?;
    if last.ident != "Result" {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return Some(None);
    };
    Some(args.args.iter().find_map(|arg| match arg {
        GenericArgument::Type(ty) => Some(ty),
        _ => None,
    }))
}

/// The `E` of `Result<T, E>`, when written.
pub fn result_err(ty: &Type) -> Option<&Type> {
    let Type::Path(path) = strip(ty) else {
        return None;
    };
    let last = path.path.segments.last()?;
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    args.args
        .iter()
        .filter_map(|arg| match arg {
            GenericArgument::Type(ty) => Some(ty),
            _ => None,
        })
        .nth(1)
}

/// Whether the type is `()`.
pub fn is_unit(ty: &Type) -> bool {
    matches!(strip(ty), Type::Tuple(tuple) if tuple.elems.is_empty())
}

/// Whether the type is `bool`.
pub fn is_bool(ty: &Type) -> bool {
    matches!(strip(ty), Type::Path(path) if path.qself.is_none() && path.path.is_ident("bool"))
}

fn strip(ty: &Type) -> &Type {
    match ty {
        Type::Group(group) => strip(&group.elem),
        Type::Paren(paren) => strip(&paren.elem),
        _ => ty,
    }
}
