//! Encoding answers and errors in the client's encoding.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::error::ActorError;
use crate::protocol::{self, Encoding, WireError};
use crate::runtime::ActorId;

/// The encoding a request asked for (`x-rivet-encoding`), JSON when absent.
pub(crate) fn request_encoding(headers: &HeaderMap) -> Result<Encoding, ActorError> {
    match headers.get("x-rivet-encoding").map(|v| v.to_str()) {
        None => Ok(Encoding::Json),
        Some(Ok(name)) => Encoding::from_name(name).map_err(protocol_error),
        Some(Err(_)) => Err(ActorError::new(
            "message",
            "invalid_encoding",
            "x-rivet-encoding is not text",
        )),
    }
}

/// A malformed request, in the `message` group; the detail names what was wrong, never
/// anything internal.
pub(crate) fn protocol_error(err: protocol::ProtocolError) -> ActorError {
    ActorError::new("message", "malformed", err.to_string())
}

/// The wire form of an error.
pub(crate) fn wire_error(err: &ActorError) -> WireError {
    let mut wire = WireError::new(&err.group, &err.code, &err.message);
    if let Some(metadata) = &err.metadata {
        wire = wire.with_metadata(protocol::json_value_to_value(metadata.clone()));
    }
    wire
}

/// An error answer: the status for its code and the body in the client's encoding.
pub(crate) fn error_response(encoding: Encoding, err: &ActorError) -> Response {
    let status =
        StatusCode::from_u16(err.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = protocol::encode_error_body(encoding, &wire_error(err));
    (
        status,
        [(header::CONTENT_TYPE, encoding.content_type())],
        body,
    )
        .into_response()
}

/// A successful answer in the client's encoding, with the actor's id in `x-rivet-actor`.
pub(crate) fn ok_response(encoding: Encoding, body: Vec<u8>, actor: Option<&ActorId>) -> Response {
    let mut response = (
        StatusCode::OK,
        [(header::CONTENT_TYPE, encoding.content_type())],
        body,
    )
        .into_response();
    if let Some(id) = actor
        && let Ok(value) = HeaderValue::from_str(id.as_str())
    {
        response.headers_mut().insert("x-rivet-actor", value);
    }
    response
}
