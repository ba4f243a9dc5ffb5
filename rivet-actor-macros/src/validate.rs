//! Every rule `#[actor]` checks syntactically, each error at the offending token. All
//! errors are collected; expansion only runs when there are none.

use std::collections::HashMap;

use quote::ToTokens;
use syn::Type;

use crate::errors::Errors;
use crate::model::kind::Kind;
use crate::model::sig::{CtxKind, Receiver};
use crate::model::ty;
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

/// The receivers a kind accepts.
#[derive(Clone, Copy, PartialEq)]
enum Recv {
    /// `&self` or `&mut self`.
    Either,
    /// `&self` only.
    Shared,
    /// `&mut self` (`&self` also works: the runtime lends it mutably).
    Mutable,
    /// None.
    Absent,
    /// `&self` or none.
    SharedOrAbsent,
}

/// The extra parameters a kind takes (besides the receiver and the context).
#[derive(Clone, Copy, PartialEq)]
enum Extra {
    Args,
    None,
    OptionalInput,
    OptionalParams,
    Invoke,
    Old,
    /// `request: RawRequest`.
    Request,
    /// `socket: RawWebSocket`.
    Socket,
}

/// What a kind may return.
#[derive(Clone, Copy, PartialEq)]
enum Ret {
    Any,
    UnitOrResult,
    Unit,
    ResultUnit,
    Bool,
    /// `RawResponse` or `Result<RawResponse, E>`.
    Response,
}

struct Rule {
    recv: Recv,
    /// The context the hook may take, and whether the runtime lends it mutably.
    ctx: Option<(CtxKind, bool)>,
    extra: Extra,
    ret: Ret,
}

fn rule(kind: Kind) -> Rule {
    use CtxKind as C;
    let (recv, ctx, extra, ret) = match kind {
        Kind::Action => (Recv::Either, Some((C::Action, true)), Extra::Args, Ret::Any),
        Kind::CreateState => (
            Recv::Absent,
            Some((C::Create, false)),
            Extra::OptionalInput,
            Ret::Any,
        ),
        Kind::CreateVars => (
            Recv::SharedOrAbsent,
            Some((C::Create, false)),
            Extra::None,
            Ret::Any,
        ),
        Kind::OnMigrate => (Recv::Absent, None, Extra::Old, Ret::Any),
        Kind::OnCreate | Kind::OnWake | Kind::OnSleep => (
            Recv::Mutable,
            Some((C::Actor, true)),
            Extra::None,
            Ret::UnitOrResult,
        ),
        Kind::OnStateChange => (
            Recv::Shared,
            Some((C::Actor, false)),
            Extra::None,
            Ret::Unit,
        ),
        Kind::BeforeConnect => (
            Recv::Shared,
            Some((C::Connect, true)),
            Extra::OptionalParams,
            Ret::ResultUnit,
        ),
        Kind::ConnState => (
            Recv::Shared,
            Some((C::Connect, true)),
            Extra::OptionalParams,
            Ret::Any,
        ),
        Kind::OnConnect | Kind::OnDisconnect => (
            Recv::Mutable,
            Some((C::Action, true)),
            Extra::None,
            Ret::UnitOrResult,
        ),
        Kind::CanInvoke => (
            Recv::Shared,
            Some((C::Conn, false)),
            Extra::Invoke,
            Ret::Bool,
        ),
        Kind::CanSubscribe | Kind::CanPublish => {
            (Recv::Shared, Some((C::Conn, false)), Extra::None, Ret::Bool)
        }
        Kind::OnRequest => (
            Recv::Mutable,
            Some((C::Action, true)),
            Extra::Request,
            Ret::Response,
        ),
        Kind::OnWebSocket => (
            Recv::Mutable,
            Some((C::Action, true)),
            Extra::Socket,
            Ret::UnitOrResult,
        ),
        Kind::Run => (
            Recv::Absent,
            Some((C::Run, false)),
            Extra::None,
            Ret::UnitOrResult,
        ),
    };
    Rule {
        recv,
        ctx,
        extra,
        ret,
    }
}

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
    check_actions(model, errors);
    check_declared(model, errors);
    check_targets(model, Kind::CanSubscribe, errors);
    check_targets(model, Kind::CanPublish, errors);
}

/// `#[can_subscribe(x)]` / `#[can_publish(x)]`: one hook per target, and a target that is
/// declared — checked here when the impl block declares its events/queues itself; when the
/// struct declares them, the generated `match` on the target enum reports a misspelt one at
/// the same token.
fn check_targets(model: &ActorModel, kind: Kind, errors: &mut Errors) {
    let (what, declared): (&str, Vec<&syn::Ident>) = if kind == Kind::CanSubscribe {
        (
            "event",
            model.options.events.iter().map(|e| &e.ident).collect(),
        )
    } else {
        (
            "queue",
            model.options.queues.iter().map(|q| &q.ident).collect(),
        )
    };
    let plural = if kind == Kind::CanSubscribe {
        "events"
    } else {
        "queues"
    };
    let mut seen: HashMap<String, &Method> = HashMap::new();
    for hook in model.hooks(kind) {
        let Some(target) = &hook.target else { continue };
        let name = target.to_string();
        if let Some(first) = seen.get(&name) {
            errors.spanned(
                target,
                format!(
                    "a second `#[{}({name})]`: `{}` already gates {what} `{name}`; merge the two",
                    kind.name(),
                    first.sig.ident
                ),
            );
            continue;
        }
        seen.insert(name.clone(), hook);
        if model.options.given() && !declared.iter().any(|d| **d == name) {
            let list = declared
                .iter()
                .map(|d| format!("`{d}`"))
                .collect::<Vec<_>>()
                .join(", ");
            errors.spanned(
                target,
                format!(
                    "no {what} `{name}` is declared; declared {plural}: {}",
                    if list.is_empty() {
                        "none".to_string()
                    } else {
                        list
                    }
                ),
            );
        }
    }
}

fn what(method: &Method) -> String {
    match method.kind {
        Kind::Action => format!("action `{}`", method.sig.ident),
        kind => format!("`#[{}]`", kind.name()),
    }
}

fn check_method(method: &Method, errors: &mut Errors) {
    let rule = rule(method.kind);
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
    check_receiver(method, rule.recv, &what, errors);
    check_ctx(method, rule.ctx, &what, errors);
    check_params(method, rule.extra, &what, errors);
    check_return(method, rule.ret, &what, errors);
}

fn check_receiver(method: &Method, recv: Recv, what: &str, errors: &mut Errors) {
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

fn expected_receiver(recv: Recv) -> &'static str {
    match recv {
        Recv::Either => "&self` or `&mut self",
        Recv::Shared | Recv::SharedOrAbsent => "&self",
        Recv::Mutable => "&mut self",
        Recv::Absent => "no receiver",
    }
}

fn ctx_text(kind: CtxKind, mutable: bool) -> String {
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

fn check_ctx(method: &Method, allowed: Option<(CtxKind, bool)>, what: &str, errors: &mut Errors) {
    if let Some(ctx) = &method.sig.ctx {
        match allowed {
            None => errors.spanned(&ctx.ty, format!("{what} takes no context parameter")),
            Some((kind, _)) if kind != ctx.kind => errors.spanned(
                &ctx.ty,
                format!(
                    "{what} gets `{}` as its context, not `{}`",
                    ctx_text(kind, allowed.is_some_and(|(_, m)| m)),
                    ctx.kind.name()
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

fn check_params(method: &Method, extra: Extra, what: &str, errors: &mut Errors) {
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

fn check_return(method: &Method, ret: Ret, what: &str, errors: &mut Errors) {
    let output = method.sig.output.as_ref();
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

fn check_actions(model: &ActorModel, errors: &mut Errors) {
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

fn check_declared(model: &ActorModel, errors: &mut Errors) {
    check_decls(
        "event",
        model.options.events.iter().map(|e| (&e.ident, &e.ty)),
        errors,
    );
    check_decls(
        "queue",
        model.options.queues.iter().map(|q| (&q.ident, &q.ty)),
        errors,
    );
}

/// Declared events/queues: distinct wire names, distinct types.
pub fn check_decls<'a>(
    what: &str,
    decls: impl Iterator<Item = (&'a syn::Ident, &'a Type)>,
    errors: &mut Errors,
) {
    let mut wires: HashMap<String, &syn::Ident> = HashMap::new();
    let mut types: HashMap<String, &syn::Ident> = HashMap::new();
    for (ident, ty) in decls {
        let wire = crate::names::lower_camel(&crate::names::plain(ident));
        if let Some(first) = wires.get(&wire) {
            errors.spanned(
                ident,
                format!("two {what}s have the wire name `{wire}`: `{first}` and `{ident}`"),
            );
        } else {
            wires.insert(wire, ident);
        }
        let key = ty.to_token_stream().to_string();
        if let Some(first) = types.get(&key) {
            errors.spanned(
                ty,
                format!(
                    "{what} type `{key}` is declared twice (`{first}` and `{ident}`); each {what} needs a type of its own"
                ),
            );
        } else {
            types.insert(key, ident);
        }
    }
}
