//! Raw HTTP (`/gateway/{target}/request/<path>`) and raw WebSockets
//! (`/gateway/{target}/websocket/<path>`): the actor's own protocol, after the origin
//! policy, the connect pipeline and `can_invoke`.
//!
//! The actor sees the URI relative to `/request` (or `/websocket`), still percent-encoded as
//! it arrived, with the query minus the gateway's `rvt-*` parameters. Conn params come from
//! `x-rivet-conn-params` (HTTP) or the `rivet_conn_params.` subprotocol (WebSocket), as the
//! npm client sends them. `before_connect` sees the whole request, as on every endpoint.

use http::HeaderMap;
use http::header::SEC_WEBSOCKET_PROTOCOL;

use crate::conn::{DisconnectReason, Request};
use crate::error::ActorError;
use crate::protocol::names::{QUERY_PREFIX, WS_PROTOCOL_CONN_PARAMS};
use crate::protocol::{self, Encoding, Value};
use crate::raw::{Outgoing, RawMessage, RawWebSocket};
use crate::registry::Registry;
use crate::runtime::{Outbound, outbound};
use crate::server::gateway;
use crate::server::request::{self, GatewayQuery, HttpRequest, HttpResponse};
use crate::server::respond::{error_response, wire_error};
use crate::server::ws::{self, Closing, Frame, FrameSocket, RecvError, close};

/// A raw request to `target` (`/gateway/{target}/request` with or without a further path;
/// the path is read from the URI as it arrived, not from a decoded route parameter).
pub(crate) async fn request(
    registry: &Registry,
    target: &str,
    request: HttpRequest,
) -> HttpResponse {
    let (parts, body) = request.into_parts();
    // Errors are answered in the encoding the client asked for, JSON otherwise.
    let encoding = request::encoding(&parts.headers).unwrap_or(Encoding::Json);
    let result = async {
        // Cheap refusals first: nothing is read, created or woken for them.
        let query = request::query(&parts.uri)?;
        let named = gateway::name(registry, target, &query).await?;
        named.check_origin(registry, request::origin(&parts.headers))?;
        if !named.actor.handles_requests() {
            return Err(ActorError::request_handler_not_found(named.actor.name()));
        }
        let params = request::conn_params(&parts.headers)?;
        let body = request::read_body(body, registry.server_config()).await?;
        let mut raw = http::Request::new(body);
        *raw.method_mut() = parts.method.clone();
        *raw.uri_mut() = actor_uri(&parts.uri);
        *raw.headers_mut() = parts.headers.clone();
        let (target, admission) = named.enter(params, request::request_info(parts)).await?;
        let (actor, id) = (target.actor.clone(), target.id.clone());
        let settled = target.settle(async move { actor.raw_request(&id, admission, raw).await });
        settled.await.map(|(_, answer)| answer)
    }
    .await;
    match result {
        Ok(response) => response.map(axum::body::Body::from),
        Err(err) => error_response(encoding, &err),
    }
}

/// The URI the actor sees: the path after `/gateway/{target}/request` (or `/websocket`),
/// `/` when there is none, and the query without `rvt-*` parameters.
fn actor_uri(full: &http::Uri) -> http::Uri {
    let mut uri = actor_path(full.path()).to_owned();
    let kept: Vec<&str> = full
        .query()
        .unwrap_or("")
        .split('&')
        .filter(|pair| !pair.is_empty() && !is_gateway_parameter(pair))
        .collect();
    if !kept.is_empty() {
        uri.push('?');
        uri.push_str(&kept.join("&"));
    }
    // Made of parts of a URI that parsed, so it parses.
    uri.parse().unwrap_or_else(|_| http::Uri::from_static("/"))
}

/// Whether a query pair is one of the gateway's, however its name is escaped
/// (`rvt%2Dkey` is the gateway's `rvt-key`).
fn is_gateway_parameter(pair: &str) -> bool {
    let name = pair.split_once('=').map_or(pair, |(name, _)| name);
    let name = name.replace('+', " ");
    percent_encoding::percent_decode_str(&name)
        .decode_utf8_lossy()
        .starts_with(QUERY_PREFIX)
}

/// `/gateway/{target}/{kind}/rest` → `/rest`. Taken from the raw path so percent-escapes
/// (`%2F`, `%20`, `%3F`) reach the actor as the client sent them; the target segment holds
/// no raw `/`.
fn actor_path(full: &str) -> &str {
    let after_target = full.splitn(4, '/').nth(3).unwrap_or("");
    match after_target.find('/') {
        Some(start) => &after_target[start..],
        None => "/",
    }
}

/// The `rivet_conn_params.` subprotocol, if offered (twice is `message.invalid_params`, as
/// on `/connect`). Other entries (the npm client's `rivet_encoding.bare`, an application's
/// own) are ignored.
pub(crate) fn offered_params(headers: &HeaderMap) -> Result<Option<Value>, ActorError> {
    let offers = headers
        .get_all(SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim);
    let mut found = None;
    for offer in offers {
        if let Some(raw) = offer.strip_prefix(WS_PROTOCOL_CONN_PARAMS) {
            if found.is_some() {
                return Err(ActorError::invalid_params(
                    "`rivet_conn_params` is offered twice",
                ));
            }
            let json = protocol::subprotocol::percent_decode(raw).ok_or_else(|| {
                ActorError::invalid_params("`rivet_conn_params` is not valid percent-encoded UTF-8")
            })?;
            let value = protocol::json::to_plain_value(json.as_bytes()).map_err(|err| {
                ActorError::invalid_params(format!(
                    "the connection params are not valid JSON: {err}"
                ))
            })?;
            found = Some(value);
        }
    }
    Ok(found)
}

/// What an upgraded raw socket needs to be accepted by its actor.
pub(crate) struct Accept {
    pub(crate) registry: Registry,
    pub(crate) target: String,
    pub(crate) query: GatewayQuery,
    pub(crate) params: Option<Value>,
    pub(crate) request: Request,
    pub(crate) closing: Option<Closing>,
}

/// Hands `socket` to its actor's `#[on_websocket]` and pumps frames both ways until either
/// side closes it.
pub(crate) async fn serve<S: FrameSocket>(mut socket: S, accept: Accept) {
    let Accept {
        registry,
        target,
        query,
        params,
        request,
        mut closing,
    } = accept;
    let uri = actor_uri(&request.uri);
    let limit = registry.server_config().max_outgoing_bytes;
    let incoming_limit = registry.server_config().max_incoming_bytes;
    let (raw, incoming, mut outgoing) =
        RawWebSocket::pair(uri, request.headers.clone(), limit, incoming_limit);
    // The connection's channel from the instance: `Close` when the actor is destroyed.
    let config = registry.server_config();
    let (sink, mut events) = outbound::channel(config.max_outgoing_bytes);
    let mut liveness = ws::Liveness::new(config.ping_interval);
    let accepted = async {
        let named = gateway::name(&registry, &target, &query).await?;
        named.check_origin(&registry, request::origin(&request.headers))?;
        if !named.actor.handles_websockets() {
            return Err(ActorError::websocket_handler_not_found(named.actor.name()));
        }
        let (target, admission) = named.enter(params, request).await?;
        let conn = target
            .actor
            .raw_websocket(&target.id, admission, raw, sink)
            .await;
        let conn = target.unless_refused(conn).await?;
        Ok::<_, ActorError>((target, conn))
    }
    .await;
    let _counted = registry.metrics().connection();
    let (target, conn) = match accepted {
        Ok(accepted) => accepted,
        Err(err) => {
            // Refused: close 1011 with `group.code`, never internal text.
            let (code, reason) = ws::close_reason(close::INTERNAL, wire_error(&err).close_reason());
            socket.close(code, reason).await;
            return;
        }
    };
    // A client message the actor has not taken yet. While one waits, the socket is not read
    // (the client is slowed down, nothing piles up), but the actor's messages, its close
    // and the server's shutdown still go through.
    let mut waiting: Option<RawMessage> = None;
    // Whether the actor still holds a sending half: a socket whose actor only listens stays
    // open until the actor drops its receiving half too.
    let mut actor_sends = true;
    // Why the connection ended, for `on_disconnect`; set beside each `break`.
    let mut why = DisconnectReason::ClientClosed;
    let close = loop {
        tokio::select! {
            permit = incoming.reserve(waiting.as_ref().map_or(0, RawMessage::len)), if waiting.is_some() => {
                // An actor that dropped its receiving half ignores what arrives.
                if let (Ok(permit), Some(message)) = (permit, waiting.take()) {
                    permit.send(message);
                }
                liveness.resumed();
            }
            frame = socket.recv(), if waiting.is_none() => match frame {
                Some(Ok(Frame::Text(text))) => waiting = Some(RawMessage::Text(text)),
                Some(Ok(Frame::Binary(bytes))) => waiting = Some(RawMessage::Binary(bytes)),
                None => break None,
                Some(Err(RecvError::Broken)) => {
                    why = DisconnectReason::Failed;
                    break Some(None);
                }
                Some(Err(RecvError::TooLarge)) => {
                    why = DisconnectReason::Failed;
                    // A bare `group.code`: the npm client splits the reason at its dot.
                    break Some(Some((close::TOO_BIG, "message.too_large".to_owned())));
                }
            },
            out = outgoing.recv(), if actor_sends => match out {
                Some(Outgoing::Message(message)) => {
                    let frame = match message {
                        RawMessage::Text(text) => Frame::Text(text),
                        RawMessage::Binary(bytes) => Frame::Binary(bytes),
                    };
                    // A peer that stopped reading is let go past the write timeout (the
                    // socket's own).
                    if !socket.send(frame).await {
                        why = DisconnectReason::Failed;
                        break Some(None);
                    }
                }
                Some(Outgoing::Close(code, reason)) => {
                    why = DisconnectReason::Kicked(reason.clone());
                    break Some(Some((code, reason)));
                }
                None => actor_sends = false,
            },
            () = incoming.closed(), if !actor_sends => {
                why = DisconnectReason::Kicked(String::new());
                break Some(Some((close::NORMAL, String::new())));
            }
            event = events.recv() => match event {
                // A raw socket has no framing for events: `conn.send` to it is dropped.
                Some(Outbound::Event { .. }) => {}
                Some(Outbound::Close(err)) => {
                    why = DisconnectReason::ActorStopping;
                    break Some(Some((close::INTERNAL, wire_error(&err).close_reason())));
                }
                Some(Outbound::Disconnect(reason)) => {
                    why = DisconnectReason::Kicked(reason.to_string());
                    break Some(Some((close::NORMAL, reason.into())));
                }
                // The instance is gone without a word (it could not recover from a panic).
                None => {
                    why = DisconnectReason::Failed;
                    break Some(Some((close::INTERNAL, wire_error(&ActorError::internal()).close_reason())));
                }
            },
            () = ws::shutting_down(&mut closing) => {
                why = DisconnectReason::ActorStopping;
                break Some(Some((close::GOING_AWAY, "server shutting down".into())));
            }
            () = liveness.tick() => {
                if !liveness.check(&mut socket, waiting.is_none()).await {
                    why = DisconnectReason::TimedOut;
                    break Some(Some((close::GOING_AWAY, "no answer to pings".into())));
                }
            }
        }
    };
    // `None`: the client closed first; `Some(None)`: the socket broke; `Some(Some(..))`:
    // this side closes with a code and reason.
    match close {
        None => socket.finish().await,
        Some(None) => {}
        Some(Some((code, reason))) => {
            let (code, reason) = ws::close_reason(code, reason);
            socket.close(code, reason).await;
        }
    }
    // The actor's receiving half ends (`recv` answers `None`), then `on_disconnect` runs.
    drop(incoming);
    target.actor.disconnect(&target.id, &conn, why).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_actor_sees_the_raw_path_and_its_own_query() {
        let uri = |s: &str| actor_uri(&s.parse().unwrap()).to_string();
        assert_eq!(uri("/gateway/site/request"), "/");
        assert_eq!(uri("/gateway/site/request/"), "/");
        assert_eq!(uri("/gateway/site/request/a/b/"), "/a/b/");
        assert_eq!(
            uri("/gateway/site/request/a%20b/c%2Fd%3F"),
            "/a%20b/c%2Fd%3F"
        );
        assert_eq!(
            uri("/gateway/site/websocket/x?a=1&rvt-method=get&rvt-key=k&b=2"),
            "/x?a=1&b=2"
        );
        assert_eq!(uri("/gateway/id%40tok/request?rvt-namespace=default"), "/");
        // However escaped, the gateway's parameters are its own.
        assert_eq!(
            uri("/gateway/site/request/x?rvt%2Dkey=k&rvt%2dmethod=get&rvt-%6Bey=2&q=rvt-1"),
            "/x?q=rvt-1"
        );
    }
}
