//! Wire messages and codecs of RivetKit client protocol v4, as spoken by the npm
//! `rivetkit/client` 2.3.19 in its three encodings: `json`, `cbor` and `bare` (its default).
//!
//! The neutral in-memory value is [`Value`] (`ciborium::Value`). Values cross the wire with
//! RivetKit's tagging (`["$BigInt","10"]`, `["$Uint8Array","<base64>"]`, …), which the npm
//! client applies in both encodings; [`json`] and [`cbor`] read and write it.
//!
//! - [`Encoding`]: which codec a client asked for.
//! - [`json`], [`cbor`]: value codecs; [`json_value_to_value`] / [`value_to_json_value`]:
//!   untagged conversions.
//! - [`ToServer`], [`ToClient`], [`WireError`]: WebSocket messages, with [`decode_to_server`],
//!   [`encode_to_client`] and, for our own client, [`encode_to_server`], [`decode_to_client`].
//! - HTTP bodies: [`decode_action_request`], [`encode_action_response`], [`encode_error_body`],
//!   [`QueueSendRequest`] / [`QueueSendResponse`], and their reverses.
//! - Keys: [`query_key`] (`rvt-key`), [`path_key`] (`/actors`), [`json_key`] (`rvt-key-json`).
//! - [`parse_subprotocols`] / [`build_subprotocols`]: the WebSocket subprotocol list.
//! - [`input`]: actor creation input; [`names`]: header, parameter and path names.
//!
//! `docs/PROTOCOL-NOTES.md` records the wire facts, with the npm source each came from.
//!
//! Numbers: JavaScript has one number type, so a whole number arrives as `Value::Integer`
//! even where a Rust `f64` is expected (`2`, not `2.0`), and only other numbers as
//! `Value::Float`. `ciborium`'s own `Value::deserialized` refuses an integer for an `f64`
//! field; typed decoding of arguments must accept integers there.

pub use ciborium::Value;

mod bare;
pub mod cbor;
mod compat;
mod encoding;
mod error;
mod http;
pub mod input;
pub mod json;
pub mod json_key;
mod message;
pub mod names;
pub mod path_key;
mod plain;
pub mod query_key;
pub(crate) mod subprotocol;
mod wire;

#[cfg(test)]
mod tests;

pub use compat::MAX_VALUES;
pub use encoding::Encoding;
pub use error::ProtocolError;
pub use http::{
    QueueSendRequest, QueueSendResponse, QueueSendStatus, decode_action_request,
    decode_action_response, decode_error_body, decode_queue_send_request,
    decode_queue_send_response, encode_action_request, encode_action_response, encode_error_body,
    encode_queue_send_request, encode_queue_send_response,
};
pub use message::{
    ActorSpecifier, Frame, ToClient, ToServer, WireError, decode_to_client, decode_to_server,
    encode_to_client, encode_to_client_frame, encode_to_server, encode_to_server_frame,
};
pub use plain::{json_value_to_value, value_to_json_value};
pub use subprotocol::{ConnectProtocol, build_subprotocols, parse_subprotocols};
