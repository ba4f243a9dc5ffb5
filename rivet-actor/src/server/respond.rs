//! Encoding answers and errors in the client's encoding.

use axum::body::Body;
use http::{HeaderValue, StatusCode, header};

use crate::error::ActorError;
use crate::protocol::names::HEADER_ACTOR;
use crate::protocol::{self, Encoding, WireError};
use crate::runtime::ActorId;
use crate::server::request::HttpResponse;

/// The wire form of an error.
pub(crate) fn wire_error(err: &ActorError) -> WireError {
    let mut wire = WireError::new(&err.group, &err.code, &err.message);
    if let Some(metadata) = &err.metadata {
        wire = wire.with_metadata(protocol::json_value_to_value(metadata.clone()));
    }
    wire
}

/// An error answer: the status for its code and the body in the client's encoding.
pub(crate) fn error_response(encoding: Encoding, err: &ActorError) -> HttpResponse {
    let status =
        StatusCode::from_u16(err.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = protocol::encode_error_body(encoding, &wire_error(err));
    response(status, encoding.content_type(), body)
}

/// A successful answer in the client's encoding, with the actor's id in `x-rivet-actor`.
pub(crate) fn ok_response(
    encoding: Encoding,
    body: Vec<u8>,
    actor: Option<&ActorId>,
) -> HttpResponse {
    let mut response = response(StatusCode::OK, encoding.content_type(), body);
    if let Some(id) = actor
        && let Ok(value) = HeaderValue::from_str(id.as_str())
    {
        response.headers_mut().insert(HEADER_ACTOR, value);
    }
    response
}

/// A JSON answer (the actors API and metadata speak JSON only).
pub(crate) fn json_response(status: StatusCode, value: &serde_json::Value) -> HttpResponse {
    let body = serde_json::to_vec(value).unwrap_or_default();
    response(status, "application/json", body)
}

fn response(status: StatusCode, content_type: &'static str, body: Vec<u8>) -> HttpResponse {
    let mut response = http::Response::new(Body::from(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}
