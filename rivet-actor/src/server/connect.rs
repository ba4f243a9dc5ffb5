//! `GET /gateway/{target}/connect`: a persistent connection over WebSocket.
//!
//! The upgrade is always accepted (with subprotocol `rivet`) once the request is well
//! formed, because a browser or the npm client cannot read why an upgrade was refused. A
//! connection that is then rejected (unknown actor, bad params, a connect hook failing)
//! gets an `Error` frame without action id and a close 1011 with reason `group.code`.
//! Otherwise `Init` is the first frame, before any event.

use std::sync::Arc;

use futures_util::stream::FuturesUnordered;
use futures_util::{FutureExt, StreamExt};
use http::HeaderMap;
use http::header::SEC_WEBSOCKET_PROTOCOL;

use crate::conn::{ConnId, DisconnectReason, Request};
use crate::error::ActorError;
use crate::protocol::{self, ConnectProtocol, Encoding, ToClient, ToServer, Value};
use crate::registry::Registry;
use crate::runtime::outbound;
use crate::runtime::{ActorId, ErasedActor, Outbound, Outlet};
use crate::server::gateway;
use crate::server::request::GatewayQuery;
use crate::server::respond::wire_error;
use crate::server::ws::{self, Closing, Frame, FrameSocket, RecvError, close};
use axum::body::Bytes;

/// An answer being awaited, with the size of the message it answers: `None` when there is
/// nothing to tell the client.
type Answer = futures_util::future::BoxFuture<'static, (usize, Option<ToClient>)>;

/// What the client offered in `Sec-WebSocket-Protocol` (possibly in several headers),
/// checked before the upgrade is accepted.
pub(crate) fn offered_protocol(headers: &HeaderMap) -> Result<ConnectProtocol, ActorError> {
    let offers: Vec<&str> = headers
        .get_all(SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .collect();
    if offers.is_empty() {
        return Err(ActorError::missing_subprotocol());
    }
    protocol::parse_subprotocols(&offers.join(",")).map_err(ActorError::malformed)
}

/// What an upgraded connection needs to find its actor.
pub(crate) struct Accept {
    pub(crate) registry: Registry,
    pub(crate) target: String,
    pub(crate) query: GatewayQuery,
    pub(crate) protocol: ConnectProtocol,
    pub(crate) request: Request,
    pub(crate) closing: Option<Closing>,
}

/// Serves one protocol connection over `socket` until either side closes it.
pub(crate) async fn session<S: FrameSocket>(socket: S, accept: Accept) {
    let config = accept.registry.server_config();
    Session {
        socket,
        encoding: accept.protocol.encoding,
        ping_interval: config.ping_interval,
        max_incoming_bytes: config.max_incoming_bytes,
        max_calls_in_flight: config.max_calls_in_flight,
    }
    .open(accept)
    .await;
}

struct Session<S> {
    socket: S,
    encoding: Encoding,
    /// How often the peer is pinged.
    ping_interval: std::time::Duration,
    /// Bytes of messages that may wait for their answers before reading pauses.
    max_incoming_bytes: usize,
    /// Calls that may wait for their answers before reading pauses.
    max_calls_in_flight: usize,
}

impl<S: FrameSocket> Session<S> {
    async fn open(mut self, accept: Accept) {
        let Accept {
            registry,
            target,
            query,
            protocol,
            request,
            closing,
        } = accept;
        let config = registry.server_config();
        let (sink, events) = outbound::channel(config.max_outgoing_bytes);
        let accepted = async {
            let params = match &protocol.conn_params {
                Some(raw) => Some(protocol::json::to_plain_value(raw.as_bytes()).map_err(
                    |err| {
                        ActorError::invalid_params(format!(
                            "the connection params are not valid JSON: {err}"
                        ))
                    },
                )?),
                None => None,
            };
            let named = gateway::name(&registry, &target, &query).await?;
            named.check_origin(&registry, crate::server::request::origin(&request.headers))?;
            let (target, admission) = named.enter(params, request).await?;
            let conn = target.actor.connect(&target.id, admission, sink).await;
            let conn = target.unless_refused(conn).await?;
            Ok::<_, ActorError>((target, conn))
        }
        .await;
        match accepted {
            Ok((target, conn)) => {
                let _counted = registry.metrics().connection();
                let init = ToClient::Init {
                    actor_id: target.id.as_str().to_owned(),
                    connection_id: conn.as_str().to_owned(),
                };
                let why = if self.send(&init).await {
                    self.serve(&target.actor, &target.id, &conn, events, closing)
                        .await
                } else {
                    DisconnectReason::ClientClosed
                };
                target.actor.disconnect(&target.id, &conn, why).await;
            }
            Err(err) => self.reject(&err).await,
        }
    }

    /// Sends a message; `false` when the socket is gone.
    async fn send(&mut self, message: &ToClient) -> bool {
        let bytes = protocol::encode_to_client(self.encoding, message);
        let frame = match self.encoding {
            Encoding::Json => match String::from_utf8(bytes) {
                Ok(text) => Frame::Text(text),
                Err(err) => Frame::Binary(err.into_bytes().into()),
            },
            Encoding::Cbor | Encoding::Bare => Frame::Binary(bytes.into()),
        };
        // A peer that stopped reading is let go past the write timeout (the socket's own).
        self.socket.send(frame).await
    }

    /// Refuses the connection: an `Error` frame, then close 1011 with `group.code`.
    async fn reject(mut self, err: &ActorError) {
        let wire = wire_error(err);
        let reason = wire.close_reason();
        let _ = self.send(&ToClient::Error(wire)).await;
        self.close(close::INTERNAL, reason).await;
    }

    async fn close(mut self, code: u16, reason: String) {
        let (code, reason) = ws::close_reason(code, reason);
        self.socket.close(code, reason).await;
    }

    /// Serves an accepted connection until either side closes it.
    async fn serve(
        mut self,
        actor: &Arc<dyn ErasedActor>,
        id: &ActorId,
        conn: &ConnId,
        mut events: Outlet,
        closing: Option<Closing>,
    ) -> DisconnectReason {
        let mut closing = closing;
        let budget = self.max_incoming_bytes;
        let max_calls = self.max_calls_in_flight.max(1);
        let mut liveness = ws::Liveness::new(self.ping_interval);
        // Answers of calls in flight, polled here in completion order: no task or channel
        // hop per call.
        let mut in_flight: FuturesUnordered<Answer> = FuturesUnordered::new();
        // Bytes of the messages in flight. At `budget` (or at `max_calls` in flight) the
        // socket is not read until answers go out: the client is slowed down, and what it
        // sent waits in its own socket rather than in the actor's mailbox, and what it is
        // answered is bounded too (a small call may have a large answer).
        let mut in_flight_bytes = 0usize;
        loop {
            // One message is always taken, however large (and whatever the budget).
            let has_room = |in_flight: &FuturesUnordered<Answer>, bytes: usize| {
                in_flight.is_empty() || (bytes < budget && in_flight.len() < max_calls)
            };
            let reading = has_room(&in_flight, in_flight_bytes);
            tokio::select! {
                incoming = self.socket.recv(), if reading => {
                    let bytes = match incoming {
                        Some(Ok(Frame::Text(text))) => Bytes::from(text),
                        Some(Ok(Frame::Binary(bytes))) => bytes,
                        None => {
                            // The client closed first: its close is answered (it waits for
                            // that to call the close clean).
                            self.socket.finish().await;
                            return DisconnectReason::ClientClosed;
                        }
                        Some(Err(RecvError::Broken)) => return DisconnectReason::Failed,
                        Some(Err(RecvError::TooLarge)) => {
                            // A bare `group.code`: the npm client splits the reason at its dot.
                            let reason = "message.too_large".to_owned();
                            self.close(close::TOO_BIG, reason).await;
                            return DisconnectReason::Failed;
                        }
                    };
                    match protocol::decode_to_server(self.encoding, &bytes) {
                        Ok(message) => {
                            let size = bytes.len();
                            in_flight_bytes += size;
                            let answer = Self::handle(actor, id, conn, message, size).await;
                            in_flight.push(answer);
                        }
                        Err(err) => {
                            // No action id can be read from a malformed frame: a connection-level
                            // error, and the connection stays open.
                            let err = ActorError::malformed(err);
                            if !self.send(&ToClient::Error(wire_error(&err))).await {
                                return DisconnectReason::Failed;
                            }
                        }
                    }
                }
                Some((size, answer)) = in_flight.next(), if !in_flight.is_empty() => {
                    if let Some(answer) = answer
                        && !self.send(&answer).await
                    {
                        return DisconnectReason::Failed;
                    }
                    in_flight_bytes -= size;
                    if !reading && has_room(&in_flight, in_flight_bytes) {
                        liveness.resumed();
                    }
                }
                () = ws::shutting_down(&mut closing) => {
                    self.close(close::GOING_AWAY, "server shutting down".to_owned()).await;
                    return DisconnectReason::ActorStopping;
                }
                () = liveness.tick() => {
                    if !liveness.check(&mut self.socket, reading).await {
                        self.close(close::GOING_AWAY, "no answer to pings".to_owned()).await;
                        return DisconnectReason::TimedOut;
                    }
                }
                event = events.recv() => match event {
                    Some(Outbound::Event { name, payload, .. }) => {
                        let event = ToClient::Event { name: name.to_owned(), args: vec![(*payload).clone()] };
                        if !self.send(&event).await {
                            return DisconnectReason::Failed;
                        }
                    }
                    Some(Outbound::Close(err)) => {
                        // What the actor answered before it closed the connection goes first.
                        // (The rare ways out are boxed: the session's future, kept per open
                        // connection, stays its steady-state size.)
                        Box::pin(self.flush_answers(&mut in_flight)).await;
                        let why = if err.code == "slow_consumer" {
                            DisconnectReason::SlowConsumer
                        } else {
                            DisconnectReason::ActorStopping
                        };
                        Box::pin(self.reject(&err)).await;
                        return why;
                    }
                    Some(Outbound::Disconnect(reason)) => {
                        Box::pin(self.flush_answers(&mut in_flight)).await;
                        let why = DisconnectReason::Kicked(reason.to_string());
                        Box::pin(self.close(close::NORMAL, reason.into())).await;
                        return why;
                    }
                    None => {
                        self.close(close::NORMAL, String::new()).await;
                        return DisconnectReason::ActorStopping;
                    }
                },
            }
        }
    }

    /// Sends the answers that are ready (the actor answered them before it closed the
    /// connection).
    async fn flush_answers(&mut self, in_flight: &mut FuturesUnordered<Answer>) {
        while let Some(Some((_, answer))) = in_flight.next().now_or_never() {
            if let Some(answer) = answer
                && !self.send(&answer).await
            {
                return;
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
        size: usize,
    ) -> Answer {
        match message {
            ToServer::ActionRequest {
                id: action_id,
                name,
                args,
            } => {
                let pending = actor.call(id, conn, &name, args).await;
                Box::pin(async move {
                    let answer = match pending.await {
                        Ok(output) => ToClient::ActionResponse {
                            id: action_id,
                            output,
                        },
                        Err(err) => ToClient::Error(wire_error(&err).with_action_id(action_id)),
                    };
                    (size, Some(answer))
                })
            }
            ToServer::SubscriptionRequest {
                event_name,
                subscribe,
            } => {
                let pending = actor.subscribe(id, conn, &event_name, subscribe).await;
                Box::pin(async move {
                    let Err(err) = pending.await else {
                        return (size, None);
                    };
                    // Name the event so a client can tell which subscription was refused:
                    // beside the error's own metadata when that is a map, around it when not.
                    let mut wire = wire_error(&err);
                    wire.metadata = Some(name_event(wire.metadata.take(), event_name));
                    (size, Some(ToClient::Error(wire)))
                })
            }
        }
    }
}

/// A refused subscription's error metadata, naming its event (`eventName`).
fn name_event(metadata: Option<Value>, event_name: String) -> Value {
    let named = (Value::Text("eventName".into()), Value::Text(event_name));
    match metadata {
        None => Value::Map(vec![named]),
        Some(Value::Map(mut entries)) => {
            entries.retain(|(key, _)| key.as_text() != Some("eventName"));
            entries.push(named);
            Value::Map(entries)
        }
        Some(other) => Value::Map(vec![named, (Value::Text("metadata".into()), other)]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Value {
        Value::Text(s.into())
    }

    #[test]
    fn a_refused_subscription_names_its_event_beside_or_around_its_metadata() {
        let named = |metadata| name_event(metadata, "secret".into());
        assert_eq!(
            named(None),
            Value::Map(vec![(text("eventName"), text("secret"))])
        );
        let map = Value::Map(vec![(text("needed"), text("member"))]);
        assert_eq!(
            named(Some(map)),
            Value::Map(vec![
                (text("needed"), text("member")),
                (text("eventName"), text("secret"))
            ])
        );
        assert_eq!(
            named(Some(text("why"))),
            Value::Map(vec![
                (text("eventName"), text("secret")),
                (text("metadata"), text("why"))
            ])
        );
    }
}
