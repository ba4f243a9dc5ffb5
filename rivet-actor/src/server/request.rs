//! What every protocol endpoint reads from an HTTP request, in one place: the body (up to
//! the server's limit), the gateway query, conn params, the `Origin`, the encoding, and
//! the request as `before_connect` sees it.
//!
//! Endpoints take a whole [`HttpRequest`] (method, URI, headers, body) and give an
//! [`HttpResponse`], so any front end can call them: the axum router here, or a tunnel
//! that hands over requests it received elsewhere.

use std::collections::HashMap;

use axum::body::{Body, Bytes};
use http::HeaderMap;
use http::header::ORIGIN;

use crate::conn::Request;
use crate::error::ActorError;
use crate::protocol::names::{HEADER_CONN_PARAMS, HEADER_ENCODING};
use crate::protocol::{self, Encoding, Value};
use crate::registry::ServerConfig;

/// A request to one of the protocol's HTTP endpoints.
pub type HttpRequest = http::Request<Body>;

/// An endpoint's answer.
pub type HttpResponse = http::Response<Body>;

/// The query of a gateway request (`rvt-*` and whatever else the client sent).
pub(crate) type GatewayQuery = HashMap<String, String>;

/// The query string as a map; a query that does not parse, or names a gateway (`rvt-*`)
/// parameter twice, is `message.malformed`. Refusing the second copy keeps a query a client
/// appended after the gateway's own (a raw request's) from choosing another actor.
pub(crate) fn query(uri: &http::Uri) -> Result<GatewayQuery, ActorError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(uri.query().unwrap_or(""))
        .map_err(|_| ActorError::malformed("the query string does not parse"))?;
    let mut query = GatewayQuery::with_capacity(pairs.len());
    for (name, value) in pairs {
        let gateway = name.starts_with(protocol::names::QUERY_PREFIX);
        if let Some(_first) = query.insert(name, value)
            && gateway
        {
            return Err(ActorError::malformed(
                "the query names a gateway (`rvt-*`) parameter twice",
            ));
        }
    }
    Ok(query)
}

/// Reads a body up to the server's size limit (larger is `message.too_large`, 413) within
/// its body read timeout (slower is `message.timed_out`, 408).
pub(crate) async fn read_body(body: Body, config: &ServerConfig) -> Result<Bytes, ActorError> {
    let limit = config.max_message_size;
    match tokio::time::timeout(config.body_read_timeout, axum::body::to_bytes(body, limit)).await {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(_)) => Err(ActorError::message_too_large(limit)),
        Err(_) => Err(ActorError::body_timed_out(config.body_read_timeout)),
    }
}

/// The encoding a request asked for (`x-rivet-encoding`), JSON when absent.
pub(crate) fn encoding(headers: &HeaderMap) -> Result<Encoding, ActorError> {
    match headers.get(HEADER_ENCODING).map(|v| v.to_str()) {
        None => Ok(Encoding::Json),
        Some(Ok(name)) => Encoding::from_name(name).map_err(ActorError::malformed),
        Some(Err(_)) => Err(ActorError::invalid_encoding()),
    }
}

/// The `x-rivet-conn-params` header: JSON text.
pub(crate) fn conn_params(headers: &HeaderMap) -> Result<Option<Value>, ActorError> {
    let Some(raw) = headers.get(HEADER_CONN_PARAMS) else {
        return Ok(None);
    };
    protocol::json::to_plain_value(raw.as_bytes())
        .map(Some)
        .map_err(|err| {
            ActorError::invalid_params(format!("{HEADER_CONN_PARAMS} is not valid JSON: {err}"))
        })
}

/// The `Origin` header as the origin policy judges it: `None` when absent, and an origin
/// that matches nothing (`""`) when present but not text — so a policy that allows a
/// missing `Origin` does not allow an unreadable one.
pub(crate) fn origin(headers: &HeaderMap) -> Option<&str> {
    headers.get(ORIGIN).map(|v| v.to_str().unwrap_or(""))
}

/// What `before_connect` sees of the HTTP request.
/// The engine's id of a request it may deliver again, put on the request by the engine's
/// front end (our own server never does: a client cannot choose it).
#[derive(Clone, Debug)]
pub(crate) struct ReplayId(pub(crate) crate::runtime::replay::ReplayId);

pub(crate) fn request_info(parts: http::request::Parts) -> Request {
    Request {
        replay_id: parts.extensions.get::<ReplayId>().map(|id| id.0.clone()),
        method: parts.method,
        uri: parts.uri,
        headers: parts.headers,
    }
}
