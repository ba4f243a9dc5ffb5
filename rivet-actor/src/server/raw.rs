//! Raw HTTP (`/gateway/{target}/request/<path>`) and raw WebSockets
//! (`/gateway/{target}/websocket/<path>`): the actor's own protocol, after the origin
//! policy, the connect pipeline and `can_invoke`.
//!
//! The actor sees the URI relative to `/request` (or `/websocket`), still percent-encoded as
//! it arrived, with the query minus the gateway's `rvt-*` parameters. Conn params come from
//! `x-rivet-conn-params` (HTTP) or the `rivet_conn_params.` subprotocol (WebSocket), as the
//! npm client sends them. `before_connect` sees the whole request, as on every endpoint.

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;

use crate::conn::Request;
use crate::error::ActorError;
use crate::protocol::{self, Encoding, Value};
use crate::raw::{Outgoing, RawMessage, RawWebSocket};
use crate::registry::Registry;
use crate::runtime::Outbound;
use crate::server::actions::{conn_params, read_body, request_info};
use crate::server::connect::{Closing, is_too_large};
use crate::server::gateway::{self, GatewayQuery};
use crate::server::respond::{error_response, request_encoding, wire_error};

const CLOSE_NORMAL: u16 = 1000;
const CLOSE_GOING_AWAY: u16 = 1001;
const CLOSE_TOO_BIG: u16 = 1009;
const CLOSE_INTERNAL: u16 = 1011;

/// `/gateway/{target}/request` with or without a further path (the path is read from the
/// URI as it arrived, not from the decoded route parameter).
pub(crate) async fn request(
    State(registry): State<Registry>,
    Path(target): Path<GatewayTarget>,
    Query(query): Query<GatewayQuery>,
    request: axum::extract::Request,
) -> Response {
    let (parts, body) = request.into_parts();
    // Errors are answered in the encoding the client asked for, JSON otherwise.
    let encoding = request_encoding(&parts.headers).unwrap_or(Encoding::Json);
    let result = async {
        // Cheap refusals first: nothing is read, created or woken for them.
        let named = gateway::name(&registry, &target.target, &query).await?;
        named.check_origin(&registry, gateway::origin(&parts.headers))?;
        if !named.actor.handles_requests() {
            return Err(crate::runtime::raw::no_request_handler(named.actor.name()));
        }
        let params = conn_params(&parts.headers)?;
        let limit = registry.server_config().max_message_size;
        let body = read_body(body, limit).await?;
        let target = named.resolve().await?;
        let mut raw = http::Request::new(body);
        *raw.method_mut() = parts.method.clone();
        *raw.uri_mut() = actor_uri(&parts.uri);
        *raw.headers_mut() = parts.headers.clone();
        target
            .actor
            .raw_request(&target.id, params, request_info(parts), raw)
            .await
    }
    .await;
    match result {
        Ok(response) => {
            let (parts, body) = response.into_parts();
            Response::from_parts(parts, axum::body::Body::from(body))
        }
        Err(err) => error_response(encoding, &err),
    }
}

/// The `{target}` route parameter (the rest of the path, if any, is read from the URI).
#[derive(serde::Deserialize)]
pub(crate) struct GatewayTarget {
    target: String,
}

/// The URI the actor sees: the path after `/gateway/{target}/request` (or `/websocket`),
/// `/` when there is none, and the query without `rvt-*` parameters.
fn actor_uri(full: &http::Uri) -> http::Uri {
    let mut uri = actor_path(full.path()).to_owned();
    let kept: Vec<&str> = full
        .query()
        .unwrap_or("")
        .split('&')
        .filter(|pair| !pair.is_empty() && !pair.starts_with("rvt-"))
        .collect();
    if !kept.is_empty() {
        uri.push('?');
        uri.push_str(&kept.join("&"));
    }
    // Made of parts of a URI that parsed, so it parses.
    uri.parse().unwrap_or_else(|_| http::Uri::from_static("/"))
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

/// `/gateway/{target}/websocket` with or without a further path.
pub(crate) async fn websocket(
    State(registry): State<Registry>,
    Path(target): Path<GatewayTarget>,
    Query(query): Query<GatewayQuery>,
    closing: Option<axum::Extension<Closing>>,
    upgrade: WebSocketUpgrade,
    request: axum::extract::Request,
) -> Response {
    let closing = closing.map(|axum::Extension(closing)| closing);
    let (parts, _body) = request.into_parts();
    let params = match subprotocol_params(&parts.headers) {
        Ok(params) => params,
        Err(err) => {
            return (StatusCode::BAD_REQUEST, wire_error(&err).close_reason()).into_response();
        }
    };
    let uri = actor_uri(&parts.uri);
    let request = request_info(parts);
    let limit = registry.server_config().max_message_size;
    upgrade
        .protocols(["rivet"])
        .max_message_size(limit)
        .max_frame_size(limit)
        .on_upgrade(move |socket| async move {
            let accept = Accept {
                registry,
                target: target.target,
                query,
                params,
                request,
                uri,
            };
            serve(socket, accept, closing).await;
        })
        .into_response()
}

/// The `rivet_conn_params.` subprotocol, if offered. Other entries (the npm client's
/// `rivet_encoding.bare`, an application's own) are ignored.
fn subprotocol_params(headers: &HeaderMap) -> Result<Option<Value>, ActorError> {
    let offers = headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim);
    for offer in offers {
        if let Some(raw) = offer.strip_prefix(protocol::names::WS_PROTOCOL_CONN_PARAMS) {
            let json = protocol::subprotocol::percent_decode(raw).ok_or_else(|| {
                ActorError::invalid_params("`rivet_conn_params` is not valid percent-encoded UTF-8")
            })?;
            let value = protocol::json::to_value(json.as_bytes()).map_err(|err| {
                ActorError::invalid_params(format!(
                    "the connection params are not valid JSON: {err}"
                ))
            })?;
            return Ok(Some(value));
        }
    }
    Ok(None)
}

/// What an upgraded socket needs to be accepted by its actor.
struct Accept {
    registry: Registry,
    target: String,
    query: GatewayQuery,
    params: Option<Value>,
    request: Request,
    uri: http::Uri,
}

async fn serve(mut socket: WebSocket, accept: Accept, closing: Option<Closing>) {
    let Accept {
        registry,
        target,
        query,
        params,
        request,
        uri,
    } = accept;
    let (raw, incoming, mut outgoing) = RawWebSocket::pair(uri, request.headers.clone());
    // The connection's channel from the instance: `Close` when the actor is destroyed.
    let (sink, mut events) = mpsc::unbounded_channel();
    let accepted = async {
        let named = gateway::name(&registry, &target, &query).await?;
        named.check_origin(&registry, request.origin())?;
        if !named.actor.handles_websockets() {
            return Err(crate::runtime::raw::no_websocket_handler(
                named.actor.name(),
            ));
        }
        let target = named.resolve().await?;
        let conn = target
            .actor
            .raw_websocket(&target.id, params, request, raw, sink)
            .await?;
        Ok::<_, ActorError>((target, conn))
    }
    .await;
    let (target, conn) = match accepted {
        Ok(accepted) => accepted,
        Err(err) => {
            // Refused: close 1011 with `group.code`, never internal text.
            let reason = wire_error(&err).close_reason();
            let _ = socket.send(close_frame(CLOSE_INTERNAL, reason)).await;
            return;
        }
    };
    let limit = registry.server_config().max_message_size;
    let mut closing = closing.map(|Closing(rx)| rx);
    let (mut to_client, mut from_client) = socket.split();
    // A client message the actor has not taken yet. While one waits, the socket is not read
    // (the client is slowed down, nothing piles up), but the actor's messages, its close
    // and the server's shutdown still go through.
    let mut waiting: Option<RawMessage> = None;
    // Whether the actor still holds a sending half: a socket whose actor only listens stays
    // open until the actor drops its receiving half too.
    let mut actor_sends = true;
    let close = loop {
        tokio::select! {
            permit = incoming.reserve(), if waiting.is_some() => {
                // An actor that dropped its receiving half ignores what arrives.
                if let (Ok(permit), Some(message)) = (permit, waiting.take()) {
                    permit.send(message);
                }
            }
            frame = from_client.next(), if waiting.is_none() => match frame {
                Some(Ok(Message::Text(text))) => waiting = Some(RawMessage::Text(text.to_string())),
                Some(Ok(Message::Binary(bytes))) => waiting = Some(RawMessage::Binary(bytes)),
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                Some(Ok(Message::Close(_))) | None => break None,
                Some(Err(err)) => {
                    break is_too_large(&err).then(|| {
                        (CLOSE_TOO_BIG, format!("message.too_large: limit is {limit} bytes"))
                    });
                }
            },
            out = outgoing.recv(), if actor_sends => match out {
                Some(Outgoing::Message(message)) => {
                    let frame = match message {
                        RawMessage::Text(text) => Message::Text(text.into()),
                        RawMessage::Binary(bytes) => Message::Binary(bytes),
                    };
                    if to_client.send(frame).await.is_err() {
                        break None;
                    }
                }
                Some(Outgoing::Close(code, reason)) => break Some((code, reason)),
                None => actor_sends = false,
            },
            () = incoming.closed(), if !actor_sends => break Some((CLOSE_NORMAL, String::new())),
            event = events.recv() => match event {
                // A raw socket has no framing for events: `conn.send` to it is dropped.
                Some(Outbound::Event { .. }) => {}
                Some(Outbound::Close(err)) => {
                    break Some((CLOSE_INTERNAL, wire_error(&err).close_reason()));
                }
                // The instance is gone without a word (it could not recover from a panic).
                None => break Some((CLOSE_INTERNAL, wire_error(&ActorError::internal()).close_reason())),
            },
            () = shutting_down(&mut closing) => {
                break Some((CLOSE_GOING_AWAY, "server shutting down".into()));
            }
        }
    };
    match close {
        Some((code, reason)) => {
            let _ = to_client.send(close_frame(code, reason)).await;
        }
        // Flushes the answer to a client's close frame.
        None => {
            let _ = to_client.close().await;
        }
    }
    // The actor's receiving half ends (`recv` answers `None`), then `on_disconnect` runs.
    drop(incoming);
    target.actor.disconnect(&target.id, &conn).await;
}

/// A close frame the client can accept whatever the actor asked for: a code a peer may send
/// (1000–1003, 1007–1014, 3000–4999; others become 1000) and a reason of at most 123 bytes
/// (a control frame holds 125).
fn close_frame(code: u16, mut reason: String) -> Message {
    let code = match code {
        1000..=1003 | 1007..=1014 | 3000..=4999 => code,
        _ => CLOSE_NORMAL,
    };
    if reason.len() > 123 {
        let mut end = 123;
        while !reason.is_char_boundary(end) {
            end -= 1;
        }
        reason.truncate(end);
    }
    Message::Close(Some(CloseFrame {
        code,
        reason: reason.into(),
    }))
}

/// Resolves when the server starts shutting down (never without a signal).
async fn shutting_down(closing: &mut Option<tokio::sync::watch::Receiver<bool>>) {
    match closing {
        Some(rx) => {
            let _ = rx.wait_for(|closing| *closing).await;
        }
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_frames_are_always_valid() {
        let frame = |code, reason: &str| match close_frame(code, reason.into()) {
            Message::Close(Some(frame)) => (frame.code, frame.reason.len()),
            other => panic!("{other:?}"),
        };
        assert_eq!(frame(4004, "gone"), (4004, 4));
        assert_eq!(frame(1005, ""), (1000, 0));
        assert_eq!(frame(1006, ""), (1000, 0));
        assert_eq!(frame(5000, ""), (1000, 0));
        assert_eq!(frame(1000, &"é".repeat(100)), (1000, 122));
    }

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
    }
}
