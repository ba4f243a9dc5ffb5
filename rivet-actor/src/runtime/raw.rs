//! Raw HTTP requests (`#[on_request]`) and raw WebSockets (`#[on_websocket]`) inside an
//! instance: the connect pipeline, `can_invoke`, then the handler as a turn.

use tokio::sync::oneshot;

use crate::actor::{Actor, Invoke};
use crate::conn::{ConnId, DisconnectReason};
use crate::error::ActorError;
use crate::raw::{RawRequest, RawResponse, RawWebSocket};
use crate::runtime::command::Connect;
use crate::runtime::instance::{Instance, deadline, mask};

/// Commands of the raw-handler part of an instance's mailbox.
pub(crate) enum RawCommand<A: Actor> {
    /// A raw HTTP request on a throwaway connection.
    Request {
        connect: Connect<A>,
        // Boxed: a request is much larger than the mailbox's other commands.
        request: Box<RawRequest>,
        reply: oneshot::Sender<Result<RawResponse, ActorError>>,
    },
    /// A raw WebSocket: its connection stays open until the socket closes (the server then
    /// sends `Disconnect`).
    WebSocket {
        connect: Connect<A>,
        // Boxed, like a request: the socket's halves are larger than the other commands.
        socket: Box<RawWebSocket>,
        reply: oneshot::Sender<Result<ConnId, ActorError>>,
    },
}

impl<A: Actor> RawCommand<A> {
    /// The connection the request or socket comes on.
    pub(crate) fn conn_id(&self) -> &ConnId {
        match self {
            RawCommand::Request { connect, .. } | RawCommand::WebSocket { connect, .. } => {
                &connect.conn_id
            }
        }
    }
}

impl<A: Actor> RawCommand<A> {
    pub(crate) fn fail(self, err: ActorError) {
        match self {
            RawCommand::Request { reply, .. } => {
                let _ = reply.send(Err(err));
            }
            RawCommand::WebSocket { reply, .. } => {
                let _ = reply.send(Err(err));
            }
        }
    }
}

impl<A: Actor> Instance<A> {
    pub(super) async fn handle_raw(&mut self, cmd: RawCommand<A>) {
        match cmd {
            RawCommand::Request {
                connect,
                request,
                reply,
            } => {
                let turn =
                    async |inst: &mut Self, id: &ConnId| inst.raw_request(id, *request).await;
                match self.throwaway(connect, turn).await {
                    Ok((conn_id, answer)) => {
                        // Answered before the disconnect: the handler's turn has ended
                        // (committed or rolled back), and nothing `on_disconnect` does, a
                        // panic included, can change what it answered.
                        self.answer(reply, answer);
                        self.disconnect(&conn_id, DisconnectReason::ClientClosed)
                            .await;
                    }
                    Err(refused) => {
                        let _ = reply.send(Err(refused));
                    }
                }
            }
            RawCommand::WebSocket {
                connect,
                socket,
                reply,
            } => {
                let turn =
                    async |inst: &mut Self, id: &ConnId| inst.raw_websocket(id, *socket).await;
                match self.throwaway(connect, turn).await {
                    // The socket's connection stays until it closes.
                    Ok((conn_id, Ok(()))) => {
                        self.answer(reply, Ok(conn_id));
                    }
                    Ok((conn_id, Err(err))) => {
                        // Answered first, as a request is.
                        self.answer(reply, Err(err));
                        self.disconnect(&conn_id, DisconnectReason::ClientClosed)
                            .await;
                    }
                    Err(refused) => {
                        let _ = reply.send(Err(refused));
                    }
                }
            }
        }
    }

    /// Whether the connection may make this raw invocation.
    async fn allowed(&self, conn_id: &ConnId, invoke: Invoke<A>) -> Result<(), ActorError> {
        let slot = self.conns.get(conn_id).ok_or_else(ActorError::internal)?;
        let ctx = self.env.conn_ctx(&slot.conn);
        let (limit, id) = (self.host.config.connect_hook_timeout, &self.env.meta.id);
        deadline::guard::<A>(limit, id, "can_invoke", self.state.can_invoke(&ctx, invoke)).await
    }

    async fn raw_request(
        &mut self,
        conn_id: &ConnId,
        request: RawRequest,
    ) -> Result<RawResponse, ActorError> {
        self.allowed(conn_id, Invoke::Request).await?;
        if !self.conns.contains_key(conn_id) {
            return Err(ActorError::internal());
        }
        let id = self.env.meta.id.clone();
        // A request handler is limited like an action.
        let limit = self.host.config.action_timeout;
        let mut ctx = self.env.action_ctx(&mut self.conns, Some(conn_id), None);
        let on_request = self.state.on_request(&mut ctx, request);
        let result = deadline::hook::<A, _, _>(limit, &id, "on_request", on_request).await;
        self.finish_turn(A::ON_REQUEST_MUTATES, result)
            .await
            .map_err(|err| mask::<A>(err, &id, "on_request"))
    }

    async fn raw_websocket(
        &mut self,
        conn_id: &ConnId,
        socket: RawWebSocket,
    ) -> Result<(), ActorError> {
        self.allowed(conn_id, Invoke::WebSocket).await?;
        if !self.conns.contains_key(conn_id) {
            return Err(ActorError::internal());
        }
        let id = self.env.meta.id.clone();
        // Opening a socket is limited like a connect hook (the socket then lives on).
        let limit = self.host.config.connect_hook_timeout;
        let mut ctx = self.env.action_ctx(&mut self.conns, Some(conn_id), None);
        let on_websocket = self.state.on_websocket(&mut ctx, socket);
        let result = deadline::hook::<A, _, _>(limit, &id, "on_websocket", on_websocket).await;
        self.finish_turn(A::ON_WEBSOCKET_MUTATES, result)
            .await
            .map_err(|err| mask::<A>(err, &id, "on_websocket"))
    }
}
