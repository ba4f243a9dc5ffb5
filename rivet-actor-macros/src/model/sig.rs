//! The shape of a method's signature: receiver, context parameter, other parameters and
//! return type, keeping the user's nodes for spans.

use proc_macro2::Span;
use syn::{Ident, Type};

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
    /// A connect hook's context outside the turn (the hook takes no `self`).
    PreConnect,
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
            CtxKind::PreConnect => "PreConnectCtx",
            CtxKind::Conn => "ConnCtx",
            CtxKind::Run => "RunCtx",
        }
    }

    /// The context a type name stands for.
    pub fn from_name(name: &str) -> Option<CtxKind> {
        [
            CtxKind::Create,
            CtxKind::Actor,
            CtxKind::Action,
            CtxKind::Connect,
            CtxKind::PreConnect,
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
