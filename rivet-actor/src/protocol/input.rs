//! Actor creation input as the npm client sends it.
//!
//! Both forms carry the input as tagged CBOR (the client's `encodeCborCompat`: the value is
//! tagged as for JSON, e.g. a bigint becomes `["$BigInt","5"]`, then CBOR-encoded):
//! in the `rvt-input` query parameter as unpadded base64url, and in `/actors` bodies
//! (`input`) as standard padded base64.

use super::compat::{self, decode_base64};
use super::{ProtocolError, Value, cbor};

/// The input sent in `rvt-input` (after URL decoding). Padding and either base64 alphabet are
/// accepted.
pub fn decode_query_input(param: &str) -> Result<Value, ProtocolError> {
    let bytes = decode_base64(param)
        .ok_or_else(|| ProtocolError::InvalidBase64("`rvt-input`".to_owned()))?;
    cbor::to_value(&bytes)
}

/// The `rvt-input` value for `input` (unpadded base64url of its CBOR).
pub fn encode_query_input(input: &Value) -> String {
    compat::encode_base64_url(&cbor::from_value(input))
}

/// The input sent as `input` in an `/actors` body. Padding and either base64 alphabet are
/// accepted.
pub fn decode_actors_input(text: &str) -> Result<Value, ProtocolError> {
    let bytes =
        decode_base64(text).ok_or_else(|| ProtocolError::InvalidBase64("`input`".to_owned()))?;
    cbor::to_value(&bytes)
}

/// The `input` text of an `/actors` body for `input` (standard padded base64 of its CBOR).
pub fn encode_actors_input(input: &Value) -> String {
    compat::encode_base64(&cbor::from_value(input))
}
