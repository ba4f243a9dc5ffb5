//! `POST /gateway/{target}/action/{action}`: a stateless action over HTTP.
//!
//! The body and params are decoded before the actor is named, so malformed input never
//! creates or wakes an actor. Then the connect pipeline runs for a throwaway connection,
//! `can_invoke`, the action, `on_disconnect` — all inside the actor's turn order.

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::request::Parts;
use axum::response::Response;

use crate::conn::Request;
use crate::error::ActorError;
use crate::protocol::{self, Encoding, Value};
use crate::registry::Registry;
use crate::runtime::ActorId;
use crate::server::gateway::{self, GatewayQuery};
use crate::server::respond::{error_response, ok_response, protocol_error, request_encoding};

pub(crate) async fn action(
    State(registry): State<Registry>,
    Path((target, action)): Path<(String, String)>,
    Query(query): Query<GatewayQuery>,
    request: axum::extract::Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let encoding = match request_encoding(&parts.headers) {
        Ok(encoding) => encoding,
        Err(err) => return error_response(Encoding::Json, &err),
    };
    match run(&registry, &target, &action, &query, parts, body, encoding).await {
        Ok((id, output)) => ok_response(
            encoding,
            protocol::encode_action_response(encoding, &output),
            Some(&id),
        ),
        Err(err) => error_response(encoding, &err),
    }
}

async fn run(
    registry: &Registry,
    target: &str,
    action: &str,
    query: &GatewayQuery,
    parts: Parts,
    body: Body,
    encoding: Encoding,
) -> Result<(ActorId, Value), ActorError> {
    let limit = registry.server_config().max_message_size;
    let bytes = read_body(body, limit).await?;
    let args = protocol::decode_action_request(encoding, &bytes).map_err(protocol_error)?;
    let params = conn_params(&parts.headers)?;
    let named = gateway::name(registry, target, query).await?;
    named.check_origin(registry, gateway::origin(&parts.headers))?;
    let target = named.resolve().await?;
    let request = request_info(parts);
    let output = target
        .actor
        .stateless(&target.id, params, request, action, args)
        .await?;
    Ok((target.id, output))
}

/// Reads a body up to `limit` bytes; larger is `message.too_large` (413).
pub(crate) async fn read_body(body: Body, limit: usize) -> Result<axum::body::Bytes, ActorError> {
    axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| too_large(limit))
}

pub(crate) fn too_large(limit: usize) -> ActorError {
    ActorError::new(
        "message",
        "too_large",
        format!("The message is larger than the server's limit of {limit} bytes"),
    )
}

/// The `x-rivet-conn-params` header: JSON text.
pub(crate) fn conn_params(headers: &axum::http::HeaderMap) -> Result<Option<Value>, ActorError> {
    let Some(raw) = headers.get("x-rivet-conn-params") else {
        return Ok(None);
    };
    protocol::json::to_value(raw.as_bytes())
        .map(Some)
        .map_err(|err| {
            ActorError::invalid_params(format!("x-rivet-conn-params is not valid JSON: {err}"))
        })
}

/// What `before_connect` sees of the HTTP request.
pub(crate) fn request_info(parts: Parts) -> Request {
    Request {
        method: parts.method,
        uri: parts.uri,
        headers: parts.headers,
    }
}
