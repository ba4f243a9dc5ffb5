//! Raw HTTP (`/gateway/{target}/request/<path>`) and raw WebSockets
//! (`/gateway/{target}/websocket/<path>`): the actor's own protocol, after the origin
//! policy, the connect pipeline and `can_invoke`.
//!
//! The actor sees the URI relative to `/request` (or `/websocket`), with the query minus the
//! gateway's `rvt-*` parameters. Conn params come from `x-rivet-conn-params` (HTTP) or the
//! `rivet_conn_params.` subprotocol (WebSocket), as the npm client sends them.

use std::sync::Arc;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt};

use crate::conn::Request;
use crate::error::ActorError;
use crate::protocol::{self, Encoding, Value};
use crate::raw::{Outgoing, RawMessage, RawWebSocket};
use crate::registry::Registry;
use crate::server::actions::{conn_params, read_body, request_info};
use crate::server::connect::Closing;
use crate::server::gateway::{self, GatewayQuery};
use crate::server::respond::{error_response, request_encoding, wire_error};

const CLOSE_NORMAL: u16 = 1000;
const CLOSE_GOING_AWAY: u16 = 1001;
const CLOSE_INTERNAL: u16 = 1011;

/// `/gateway/{target}/request` with no further path.
pub(crate) async fn request_root(
    State(registry): State<Registry>,
    Path(target): Path<String>,
    Query(query): Query<GatewayQuery>,
    request: axum::extract::Request,
) -> Response {
    request_at(registry, target, String::new(), query, request).await
}

/// `/gateway/{target}/request/{*path}`.
pub(crate) async fn request(
    State(registry): State<Registry>,
    Path((target, path)): Path<(String, String)>,
    Query(query): Query<GatewayQuery>,
    request: axum::extract::Request,
) -> Response {
    request_at(registry, target, path, query, request).await
}

async fn request_at(
    registry: Registry,
    target: String,
    path: String,
    query: GatewayQuery,
    request: axum::extract::Request,
) -> Response {
    let (parts, body) = request.into_parts();
    // Errors are answered in the encoding the client asked for, JSON otherwise.
    let encoding = request_encoding(&parts.headers).unwrap_or(Encoding::Json);
    let result = async {
        let limit = registry.server_config().max_message_size;
        let body = read_body(body, limit).await?;
        let params = conn_params(&parts.headers)?;
        let named = gateway::name(&registry, &target, &query).await?;
        named.check_origin(&registry, gateway::origin(&parts.headers))?;
        if !named.actor.handles_requests() {
            return Err(crate::runtime::raw::no_request_handler(named.actor.name()));
        }
        let target = named.resolve().await?;
        let uri = actor_uri(&path, parts.uri.query());
        let mut raw = http::Request::new(body);
        *raw.method_mut() = parts.method.clone();
        *raw.uri_mut() = uri;
        *raw.headers_mut() = parts.headers.clone();
        let response = target
            .actor
            .raw_request(&target.id, params, request_info(parts), raw)
            .await?;
        Ok::<_, ActorError>(response)
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

/// The URI the actor sees: `/<path>` and the query without `rvt-*` parameters.
fn actor_uri(path: &str, query: Option<&str>) -> http::Uri {
    let kept: Vec<&str> = query
        .unwrap_or("")
        .split('&')
        .filter(|pair| !pair.is_empty() && !pair.starts_with("rvt-"))
        .collect();
    let mut uri = format!("/{path}");
    if !kept.is_empty() {
        uri.push('?');
        uri.push_str(&kept.join("&"));
    }
    uri.parse().unwrap_or_else(|_| http::Uri::from_static("/"))
}

/// `/gateway/{target}/websocket` with no further path.
pub(crate) async fn websocket_root(
    State(registry): State<Registry>,
    Path(target): Path<String>,
    Query(query): Query<GatewayQuery>,
    closing: Option<axum::Extension<Closing>>,
    upgrade: WebSocketUpgrade,
    request: axum::extract::Request,
) -> Response {
    websocket_at(
        registry,
        target,
        String::new(),
        query,
        closing,
        upgrade,
        request,
    )
    .await
}

/// `/gateway/{target}/websocket/{*path}`.
pub(crate) async fn websocket(
    State(registry): State<Registry>,
    Path((target, path)): Path<(String, String)>,
    Query(query): Query<GatewayQuery>,
    closing: Option<axum::Extension<Closing>>,
    upgrade: WebSocketUpgrade,
    request: axum::extract::Request,
) -> Response {
    websocket_at(registry, target, path, query, closing, upgrade, request).await
}

async fn websocket_at(
    registry: Registry,
    target: String,
    path: String,
    query: GatewayQuery,
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
    let uri = actor_uri(&path, parts.uri.query());
    let mut request = request_info(parts);
    request.uri = uri;
    let limit = registry.server_config().max_message_size;
    upgrade
        .protocols(["rivet"])
        .max_message_size(limit)
        .max_frame_size(limit)
        .on_upgrade(move |socket| async move {
            serve(socket, registry, target, query, params, request, closing).await;
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

async fn serve(
    mut socket: WebSocket,
    registry: Registry,
    target: String,
    query: GatewayQuery,
    params: Option<Value>,
    request: Request,
    closing: Option<Closing>,
) {
    let (raw, incoming, mut outgoing) = RawWebSocket::pair(Arc::new(request.clone()));
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
            .raw_websocket(&target.id, params, request, raw)
            .await?;
        Ok::<_, ActorError>((target, conn))
    }
    .await;
    let (target, conn) = match accepted {
        Ok(accepted) => accepted,
        Err(err) => {
            // Refused: close 1011 with `group.code`, never internal text.
            let frame = CloseFrame {
                code: CLOSE_INTERNAL,
                reason: wire_error(&err).close_reason().into(),
            };
            let _ = socket.send(Message::Close(Some(frame))).await;
            return;
        }
    };
    let mut closing = closing.map(|Closing(rx)| rx);
    let (mut to_client, mut from_client) = socket.split();
    loop {
        tokio::select! {
            frame = from_client.next() => match frame {
                Some(Ok(Message::Text(text))) => {
                    // An actor that dropped its receiving half ignores what arrives.
                    let _ = incoming.send(RawMessage::Text(text.to_string())).await;
                }
                Some(Ok(Message::Binary(bytes))) => {
                    let _ = incoming.send(RawMessage::Binary(bytes)).await;
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                Some(Ok(Message::Close(_)) | Err(_)) | None => break,
            },
            out = outgoing.recv() => {
                let (frame, last) = match out {
                    Some(Outgoing::Message(RawMessage::Text(text))) => (Message::Text(text.into()), false),
                    Some(Outgoing::Message(RawMessage::Binary(bytes))) => (Message::Binary(bytes), false),
                    Some(Outgoing::Close(code, reason)) => (close_frame(code, reason), true),
                    // The actor dropped every handle of the socket.
                    None => (close_frame(CLOSE_NORMAL, String::new()), true),
                };
                if to_client.send(frame).await.is_err() || last {
                    break;
                }
            }
            () = shutting_down(&mut closing) => {
                let _ = to_client.send(close_frame(CLOSE_GOING_AWAY, "server shutting down".into())).await;
                break;
            }
        }
    }
    drop(incoming);
    target.actor.disconnect(&target.id, &conn).await;
}

fn close_frame(code: u16, reason: String) -> Message {
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
