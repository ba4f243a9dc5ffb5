//! What each kind of method may take and return: the table the per-method checks read.

use crate::model::kind::Kind;
use crate::model::sig::CtxKind;

/// The receivers a kind accepts.
#[derive(Clone, Copy, PartialEq)]
pub(super) enum Recv {
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
pub(super) enum Extra {
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
pub(super) enum Ret {
    Any,
    UnitOrResult,
    Unit,
    ResultUnit,
    Bool,
    /// `RawResponse` or `Result<RawResponse, E>`.
    Response,
}

pub(super) struct Rule {
    pub(super) recv: Recv,
    /// The context the hook may take, and whether the runtime lends it mutably.
    pub(super) ctx: Option<(CtxKind, bool)>,
    pub(super) extra: Extra,
    pub(super) ret: Ret,
}

/// The context `method` may take: a connect hook without `self` runs outside the actor's
/// turn, where there are no vars to lend: it gets `&PreConnectCtx<'_, Self>`.
pub(super) fn ctx_for(method: &crate::model::Method, rule: &Rule) -> Option<(CtxKind, bool)> {
    let detached = matches!(method.kind, Kind::BeforeConnect | Kind::ConnState)
        && matches!(method.sig.receiver, crate::model::sig::Receiver::None);
    if detached {
        Some((CtxKind::PreConnect, false))
    } else {
        rule.ctx
    }
}

pub(super) fn rule(kind: Kind) -> Rule {
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
        Kind::OnCreate | Kind::OnWake | Kind::OnSleep | Kind::OnDestroy => (
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
        // Without `self` a connect hook runs outside the turn: see `ctx_for`.
        Kind::BeforeConnect => (
            Recv::SharedOrAbsent,
            Some((C::Connect, true)),
            Extra::OptionalParams,
            Ret::ResultUnit,
        ),
        Kind::ConnState => (
            Recv::SharedOrAbsent,
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
