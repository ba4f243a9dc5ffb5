//! `GET /gateway/{target}/connect`: a persistent connection over WebSocket.
//!
//! The upgrade is always accepted (with subprotocol `rivet`) once the request is well
//! formed, because a browser or the npm client cannot read why an upgrade was refused. A
//! connection that is then rejected (unknown actor, bad params, a connect hook failing)
//! gets an `Error` frame without action id and a close 1011 with reason `group.code`.
//! Otherwise `Init` is the first frame, before any event.

use std::sync::Arc;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use tokio::sync::mpsc;

use crate::conn::{ConnId, Request};
use crate::error::ActorError;
use crate::protocol::{self, ConnectProtocol, Encoding, ToClient, ToServer, Value};
use crate::registry::Registry;
use crate::runtime::{ActorId, ErasedActor, Outbound};
use crate::server::actions::request_info;
use crate::server::gateway::{self, GatewayQuery};
use crate::server::respond::{error_response, protocol_error, wire_error};

/// WebSocket close codes.
const CLOSE_INTERNAL: u16 = 1011;
const CLOSE_TOO_BIG: u16 = 1009;
const CLOSE_NORMAL: u16 = 1000;
const CLOSE_GOING_AWAY: u16 = 1001;

/// The WebSocket read buffer of a connection.
const READ_BUFFER: usize = 8 * 1024;

/// An answer being awaited: `None` when there is nothing to tell the client.
type Answer = futures_util::future::BoxFuture<'static, Option<ToClient>>;

/// Set when the server shuts down: open connections close with 1001.
#[derive(Clone)]
pub(crate) struct Closing(pub(crate) tokio::sync::watch::Receiver<bool>);

pub(crate) async fn connect(
    State(registry): State<Registry>,
    Path(target): Path<String>,
    Query(query): Query<GatewayQuery>,
    closing: Option<axum::Extension<Closing>>,
    upgrade: WebSocketUpgrade,
    request: axum::extract::Request,
) -> Response {
    let closing = closing.map(|axum::Extension(closing)| closing);
    let (parts, _body) = request.into_parts();
    let protocol = match subprotocols(&parts.headers) {
        Ok(protocol) => protocol,
        Err(err) => return error_response(Encoding::Json, &err),
    };
    let limit = registry.server_config().max_message_size;
    let request = request_info(parts);
    upgrade
        .protocols(["rivet"])
        .max_message_size(limit)
        .max_frame_size(limit)
        // tungstenite's default 128 KiB read buffer is most of an idle connection's memory
        // and is zeroed on reads; protocol frames are small and larger ones still arrive whole.
        .read_buffer_size(READ_BUFFER)
        .on_upgrade(move |socket| async move {
            Session::open(socket, registry, target, query, protocol, request, closing).await;
        })
        .into_response()
}

/// The `Sec-WebSocket-Protocol` offers (possibly in several headers).
fn subprotocols(headers: &HeaderMap) -> Result<ConnectProtocol, ActorError> {
    let offers: Vec<&str> = headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .collect();
    if offers.is_empty() {
        return Err(ActorError::new(
            "message",
            "missing_subprotocol",
            "A connection must offer the `rivet` WebSocket subprotocol",
        ));
    }
    protocol::parse_subprotocols(&offers.join(",")).map_err(protocol_error)
}

struct Session {
    socket: WebSocket,
    encoding: Encoding,
}

impl Session {
    async fn open(
        socket: WebSocket,
        registry: Registry,
        target: String,
        query: GatewayQuery,
        protocol: ConnectProtocol,
        request: Request,
        closing: Option<Closing>,
    ) {
        let mut session = Session {
            socket,
            encoding: protocol.encoding,
        };
        let (sink, events) = mpsc::unbounded_channel();
        let accepted = async {
            let params = match &protocol.conn_params {
                Some(raw) => Some(protocol::json::to_value(raw.as_bytes()).map_err(|err| {
                    ActorError::invalid_params(format!(
                        "the connection params are not valid JSON: {err}"
                    ))
                })?),
                None => None,
            };
            let named = gateway::name(&registry, &target, &query).await?;
            named.check_origin(&registry, request.origin())?;
            let target = named.resolve().await?;
            let conn = target
                .actor
                .connect(&target.id, params, request, sink)
                .await?;
            Ok::<_, ActorError>((target, conn))
        }
        .await;
        match accepted {
            Ok((target, conn)) => {
                let init = ToClient::Init {
                    actor_id: target.id.as_str().to_owned(),
                    connection_id: conn.as_str().to_owned(),
                };
                if session.send(&init).await {
                    let limit = registry.server_config().max_message_size;
                    session
                        .serve(&target.actor, &target.id, &conn, events, limit, closing)
                        .await;
                }
                target.actor.disconnect(&target.id, &conn).await;
            }
            Err(err) => session.reject(&err).await,
        }
    }

    /// Sends a message; `false` when the socket is gone.
    async fn send(&mut self, message: &ToClient) -> bool {
        let bytes = protocol::encode_to_client(self.encoding, message);
        let frame = match self.encoding {
            Encoding::Json => match String::from_utf8(bytes) {
                Ok(text) => Message::Text(text.into()),
                Err(err) => Message::Binary(err.into_bytes().into()),
            },
            Encoding::Cbor => Message::Binary(bytes.into()),
        };
        self.socket.send(frame).await.is_ok()
    }

    /// Refuses the connection: an `Error` frame, then close 1011 with `group.code`.
    async fn reject(mut self, err: &ActorError) {
        let wire = wire_error(err);
        let reason = wire.close_reason();
        let _ = self.send(&ToClient::Error(wire)).await;
        self.close(CLOSE_INTERNAL, reason).await;
    }

    async fn close(mut self, code: u16, reason: String) {
        let frame = CloseFrame {
            code,
            reason: reason.into(),
        };
        let _ = self.socket.send(Message::Close(Some(frame))).await;
    }

    /// Serves an accepted connection until either side closes it.
    async fn serve(
        mut self,
        actor: &Arc<dyn ErasedActor>,
        id: &ActorId,
        conn: &ConnId,
        mut events: mpsc::UnboundedReceiver<Outbound>,
        limit: usize,
        closing: Option<Closing>,
    ) {
        let mut closing = closing.map(|Closing(rx)| rx);
        // Answers of calls in flight, polled here in completion order: no task or channel
        // hop per call.
        let mut in_flight: FuturesUnordered<Answer> = FuturesUnordered::new();
        loop {
            tokio::select! {
                incoming = self.socket.recv() => {
                    let bytes = match incoming {
                        Some(Ok(Message::Text(text))) => text.as_str().as_bytes().to_vec(),
                        Some(Ok(Message::Binary(bytes))) => bytes.to_vec(),
                        Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                        Some(Ok(Message::Close(_))) | None => return,
                        Some(Err(err)) => {
                            if is_too_large(&err) {
                                let reason = format!("message.too_large: limit is {limit} bytes");
                                self.close(CLOSE_TOO_BIG, reason).await;
                            }
                            return;
                        }
                    };
                    match protocol::decode_to_server(self.encoding, &bytes) {
                        Ok(message) => {
                            let answer = Self::handle(actor, id, conn, message).await;
                            in_flight.push(answer);
                        }
                        Err(err) => {
                            // No action id can be read from a malformed frame: a connection-level
                            // error, and the connection stays open.
                            let err = protocol_error(err);
                            if !self.send(&ToClient::Error(wire_error(&err))).await {
                                return;
                            }
                        }
                    }
                }
                Some(answer) = in_flight.next(), if !in_flight.is_empty() => {
                    if let Some(answer) = answer
                        && !self.send(&answer).await
                    {
                        return;
                    }
                }
                Ok(()) = async {
                    match closing.as_mut() {
                        Some(rx) => rx.wait_for(|closing| *closing).await.map(|_| ()),
                        None => std::future::pending().await,
                    }
                } => {
                    return self.close(CLOSE_GOING_AWAY, "server shutting down".to_owned()).await;
                }
                event = events.recv() => match event {
                    Some(Outbound::Event { name, payload }) => {
                        let event = ToClient::Event { name: name.to_owned(), args: vec![(*payload).clone()] };
                        if !self.send(&event).await {
                            return;
                        }
                    }
                    Some(Outbound::Close(err)) => return self.reject(&err).await,
                    None => return self.close(CLOSE_NORMAL, String::new()).await,
                },
            }
        }
    }

    /// Queues a client message with the actor in arrival order; returns its answer to await
    /// beside later messages, so they are not held up.
    async fn handle(
        actor: &Arc<dyn ErasedActor>,
        id: &ActorId,
        conn: &ConnId,
        message: ToServer,
    ) -> Answer {
        match message {
            ToServer::ActionRequest {
                id: action_id,
                name,
                args,
            } => {
                let pending = actor.call(id, conn, &name, args).await;
                Box::pin(async move {
                    Some(match pending.await {
                        Ok(output) => ToClient::ActionResponse {
                            id: action_id,
                            output,
                        },
                        Err(err) => ToClient::Error(wire_error(&err).with_action_id(action_id)),
                    })
                })
            }
            ToServer::SubscriptionRequest {
                event_name,
                subscribe,
            } => {
                let pending = actor.subscribe(id, conn, &event_name, subscribe).await;
                Box::pin(async move {
                    let err = pending.await.err()?;
                    // Name the event so a client can tell which subscription was refused.
                    let mut wire = wire_error(&err);
                    if wire.metadata.is_none() {
                        wire.metadata = Some(Value::Map(vec![(
                            Value::Text("eventName".into()),
                            Value::Text(event_name),
                        )]));
                    }
                    Some(ToClient::Error(wire))
                })
            }
        }
    }
}

/// Whether a receive error is the message size limit.
pub(super) fn is_too_large(err: &axum::Error) -> bool {
    let text = err.to_string();
    text.contains("too long") || text.contains("too big") || text.contains("Space limit")
}
