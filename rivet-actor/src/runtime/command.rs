//! Messages into an instance's mailbox.

use std::sync::Arc;

use tokio::sync::oneshot;

use crate::actor::Actor;
use crate::conn::{ConnId, Request};
use crate::error::ActorError;
use crate::runtime::Sink;
use crate::value::Value;

/// What an instance's mailbox carries. Boxed: tokio allocates a mailbox's first block of 32
/// slots when it is created, so an idle actor's mailbox costs 32 pointers rather than 32
/// commands (a command is ~150 bytes).
pub(crate) type Mail<A> = Box<Command<A>>;

/// A connection asking to be accepted.
pub(crate) struct Connect<A: Actor> {
    pub(crate) conn_id: ConnId,
    pub(crate) params: Arc<A::ConnParams>,
    pub(crate) request: Option<Arc<Request>>,
    pub(crate) sink: Option<Sink>,
    /// What the registry's guards learned about the caller.
    pub(crate) extensions: Vec<crate::guard::Extension>,
    /// The state a `#[conn_state]` without `self` made outside the turn.
    pub(crate) conn_state: Option<A::ConnState>,
    /// For a call from another actor's turn (`c.client()`): the turns waiting on it.
    pub(crate) chain: Option<crate::context::client::Chain>,
    /// For a call from another actor's turn that may run again: the call's id
    /// (`context::client::CallIds`), recorded as a request's replay id is.
    pub(crate) call_id: Option<crate::runtime::replay::ReplayId>,
}

impl<A: Actor> Connect<A> {
    /// The chain of turns waiting on this connection's work: set by a call or send from
    /// another actor's turn in-process, or read from a request's header from another host
    /// (`Host::connection`).
    pub(crate) fn take_chain(&mut self) -> Option<crate::context::client::Chain> {
        self.chain.take()
    }

    /// The id the work may be delivered again with: an in-process call's own, or the
    /// request's (the engine's ray id, or a call id from another host).
    pub(crate) fn replay_id(&self) -> Option<crate::runtime::replay::ReplayId> {
        self.call_id
            .clone()
            .or_else(|| self.request.as_ref()?.replay_id.clone())
    }
}

/// One action invocation, typed (in-process) or encoded (from the wire), with the matching
/// reply channel so neither side converts what it does not need to.
pub(crate) enum CallAndReply<A: Actor> {
    Typed {
        call: A::Call,
        reply: oneshot::Sender<Result<A::Return, ActorError>>,
    },
    Encoded {
        action: A::Action,
        args: Vec<Value>,
        reply: oneshot::Sender<Result<Value, ActorError>>,
    },
}

impl<A: Actor> CallAndReply<A> {
    pub(crate) fn action(&self) -> A::Action {
        match self {
            CallAndReply::Typed { call, .. } => crate::actor::ActorCall::action(call),
            CallAndReply::Encoded { action, .. } => *action,
        }
    }

    /// Answers with an error, whichever side asked.
    /// Answers an encoded call with `answer` (a typed call, made in-process, is never
    /// replayed: it fails).
    pub(crate) fn answer(self, answer: Result<crate::value::Value, ActorError>) {
        match self {
            CallAndReply::Encoded { reply, .. } => {
                let _ = reply.send(answer);
            }
            typed => typed.fail(ActorError::internal()),
        }
    }

    pub(crate) fn fail(self, err: ActorError) {
        match self {
            CallAndReply::Typed { reply, .. } => {
                let _ = reply.send(Err(err));
            }
            CallAndReply::Encoded { reply, .. } => {
                let _ = reply.send(Err(err));
            }
        }
    }
}

pub(crate) enum Command<A: Actor> {
    /// Accept a persistent connection.
    Connect {
        connect: Connect<A>,
        reply: oneshot::Sender<Result<(), ActorError>>,
    },
    /// An action on an accepted connection.
    Call {
        conn_id: ConnId,
        invocation: CallAndReply<A>,
    },
    /// A stateless call: connect pipeline, action, disconnect, for a throwaway connection.
    Stateless {
        connect: Connect<A>,
        invocation: CallAndReply<A>,
    },
    /// An action the actor calls on itself (its `#[run]` loop, a task it spawned, a
    /// schedule firing): no connection, no `can_invoke`.
    Internal { invocation: CallAndReply<A> },
    /// A closure the actor runs as a turn on itself (`This::turn`): no connection.
    Turn {
        work: crate::context::effects::TurnWork<A>,
        reply: oneshot::Sender<Result<crate::context::effects::TurnOutput, ActorError>>,
    },
    /// Subscribe or unsubscribe a connection to an event.
    Subscribe {
        conn_id: ConnId,
        event: A::Event,
        subscribe: bool,
        reply: oneshot::Sender<Result<(), ActorError>>,
    },
    /// A connection went away.
    Disconnect {
        conn_id: ConnId,
        reason: crate::conn::DisconnectReason,
    },
    /// Queue sends, takes and completions (`runtime/queue.rs`).
    Queue(crate::runtime::queue::QueueCommand<A>),
    /// Raw HTTP requests and raw WebSockets (`runtime/raw.rs`).
    Raw(crate::runtime::raw::RawCommand<A>),
    /// Go to sleep now (`on_sleep`, connections closed): the placement that hosts the actor
    /// (the engine) moves or sleeps it. Answers once the instance has left.
    Stop { reply: oneshot::Sender<()> },
    /// Answers once the instance has woken (created, if new): nothing else.
    Ready {
        reply: oneshot::Sender<Result<(), ActorError>>,
    },
    /// Remove the actor and its data; answers whether it existed (was removed).
    Destroy {
        /// Only if nothing has used it since it woke: no write committed, no connection
        /// open. What a request that created the actor and was refused asks, so a refused
        /// request leaves nothing behind.
        only_if_unused: bool,
        reply: oneshot::Sender<Result<bool, ActorError>>,
    },
}

impl<A: Actor> Command<A> {
    /// The connection the command is for, if any (for the turn's tracing span).
    pub(crate) fn conn_id(&self) -> Option<&ConnId> {
        match self {
            Command::Connect { connect, .. } | Command::Stateless { connect, .. } => {
                Some(&connect.conn_id)
            }
            Command::Call { conn_id, .. }
            | Command::Subscribe { conn_id, .. }
            | Command::Disconnect { conn_id, .. } => Some(conn_id),
            Command::Queue(crate::runtime::queue::QueueCommand::Send { connect, .. }) => {
                Some(&connect.conn_id)
            }
            Command::Raw(cmd) => Some(cmd.conn_id()),
            Command::Queue(_)
            | Command::Internal { .. }
            | Command::Turn { .. }
            | Command::Destroy { .. }
            | Command::Stop { .. }
            | Command::Ready { .. } => None,
        }
    }

    /// Answers the command's caller with an error (the instance could not take it).
    pub(crate) fn fail(self, err: ActorError) {
        match self {
            Command::Connect { reply, .. }
            | Command::Subscribe { reply, .. }
            | Command::Ready { reply } => {
                let _ = reply.send(Err(err));
            }
            Command::Turn { reply, .. } => {
                let _ = reply.send(Err(err));
            }
            Command::Stop { reply } => {
                let _ = reply.send(());
            }
            Command::Destroy { reply, .. } => {
                let _ = reply.send(if err.is_not_found() {
                    Ok(false)
                } else {
                    Err(err)
                });
            }
            Command::Call { invocation, .. }
            | Command::Stateless { invocation, .. }
            | Command::Internal { invocation } => invocation.fail(err),
            Command::Disconnect { .. } => {}
            Command::Queue(cmd) => cmd.fail(err),
            Command::Raw(cmd) => cmd.fail(err),
        }
    }
}
