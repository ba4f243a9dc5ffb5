//! One check per fuzz target, shared by the libFuzzer targets in `fuzz/` and by the corpus
//! replay in the ordinary test suite (`tests/fuzz_corpus.rs`), so both run the same code.
//! Not public API: names and signatures here change without notice.
//!
//! A check feeds arbitrary bytes to every decoder of its area and panics on a finding: a
//! panic inside a decoder, or a decoded message that does not survive being encoded again.
//! Round trips compare encoded bytes, not values: a NaN is not equal to itself, and a
//! decoder may normalize (a v1 frame is written back as v4), so the property is that our
//! own encoding of what was decoded decodes to something that encodes to the same bytes.

mod seeds;
mod web;

use std::fmt::Debug;

use crate::protocol::{
    self, Encoding, ProtocolError, Value, cbor, input, json, json_key, path_key, query_key,
};

pub use seeds::seeds;
#[cfg(feature = "jwt")]
pub use web::jwt_header;
pub use web::{cors_path, origins};

/// A check: takes one input, panics on a finding.
pub type Check = fn(&[u8]);

/// Every target by name (the name of its binary in `fuzz/` and of its corpus folder).
pub const TARGETS: &[(&str, Check)] = &[
    ("bare_frames", bare_frames),
    ("json_frames", json_frames),
    ("cbor_frames", cbor_frames),
    ("keys", keys),
    ("subprotocols", subprotocols),
    ("origins", origins),
    ("cors_path", cors_path),
    #[cfg(feature = "jwt")]
    ("jwt_header", jwt_header),
];

/// The check of the target `name`, if this build has it (`jwt_header` needs feature `jwt`).
pub fn check(name: &str) -> Option<Check> {
    TARGETS
        .iter()
        .find(|(target, _)| *target == name)
        .map(|(_, check)| *check)
}

/// WebSocket frames and HTTP bodies in BARE.
pub fn bare_frames(data: &[u8]) {
    frames(Encoding::Bare, data);
}

/// WebSocket frames and HTTP bodies in JSON, and JSON values on their own.
pub fn json_frames(data: &[u8]) {
    frames(Encoding::Json, data);
    if let Ok(value) = json::to_value(data) {
        value_round_trips(&value);
    }
}

/// WebSocket frames and HTTP bodies in CBOR, and CBOR values on their own.
pub fn cbor_frames(data: &[u8]) {
    frames(Encoding::Cbor, data);
    if let Ok(value) = cbor::to_value(data) {
        value_round_trips(&value);
    }
}

/// Every decoder of a frame or body in `encoding`, each given the whole input.
fn frames(encoding: Encoding, data: &[u8]) {
    if let Ok(message) = protocol::decode_to_server(encoding, data) {
        round_trip(
            "ToServer",
            encoding,
            &message,
            protocol::encode_to_server,
            protocol::decode_to_server,
        );
    }
    if let Ok(message) = protocol::decode_to_client(encoding, data) {
        round_trip(
            "ToClient",
            encoding,
            &message,
            protocol::encode_to_client,
            protocol::decode_to_client,
        );
    }
    if let Ok(args) = protocol::decode_action_request(encoding, data) {
        round_trip(
            "action request",
            encoding,
            &args,
            |encoding, args: &Vec<Value>| protocol::encode_action_request(encoding, args),
            protocol::decode_action_request,
        );
    }
    if let Ok(output) = protocol::decode_action_response(encoding, data) {
        round_trip(
            "action response",
            encoding,
            &output,
            protocol::encode_action_response,
            protocol::decode_action_response,
        );
    }
    if let Ok(error) = protocol::decode_error_body(encoding, data) {
        round_trip(
            "error body",
            encoding,
            &error,
            protocol::encode_error_body,
            protocol::decode_error_body,
        );
    }
    if let Ok(send) = protocol::decode_queue_send_request(encoding, data) {
        round_trip(
            "queue send",
            encoding,
            &send,
            protocol::encode_queue_send_request,
            protocol::decode_queue_send_request,
        );
    }
    if let Ok(reply) = protocol::decode_queue_send_response(encoding, data) {
        round_trip(
            "queue send reply",
            encoding,
            &reply,
            protocol::encode_queue_send_response,
            protocol::decode_queue_send_response,
        );
    }
}

/// Encodes `decoded`, decodes that, and requires the second encoding to equal the first.
fn round_trip<T: Debug>(
    what: &str,
    encoding: Encoding,
    decoded: &T,
    encode: impl Fn(Encoding, &T) -> Vec<u8>,
    decode: impl Fn(Encoding, &[u8]) -> Result<T, ProtocolError>,
) {
    let first = encode(encoding, decoded);
    let again = decode(encoding, &first).unwrap_or_else(|err| {
        panic!("{what} in {encoding}: our own encoding does not decode: {err}\n{decoded:?}")
    });
    assert_eq!(
        encode(encoding, &again),
        first,
        "{what} in {encoding}: encoding is not stable after one round trip\n{decoded:?}"
    );
}

/// A decoded value survives both value codecs. Every decoded value can reach a client of
/// either encoding (an event broadcast to JSON and CBOR connections alike), so the CBOR
/// form of a JSON value and the JSON form of a CBOR value must be readable too; JSON only
/// for values nested less deeply than its parser allows (it stops at 128 levels, CBOR at
/// 256, and JSON writes bytes and large integers one level deeper, as tagged pairs).
fn value_round_trips(value: &Value) {
    let bytes = cbor::from_value(value);
    let again = cbor::to_value(&bytes).unwrap_or_else(|err| {
        panic!("value in CBOR: our own encoding does not decode: {err}\n{value:?}")
    });
    assert_eq!(
        cbor::from_value(&again),
        bytes,
        "value in CBOR: encoding is not stable after one round trip\n{value:?}"
    );
    if depth(value) < 100 {
        let text = json::from_value(value);
        let again = json::to_value(&text).unwrap_or_else(|err| {
            panic!("value in JSON: our own encoding does not decode: {err}\n{value:?}")
        });
        assert_eq!(
            json::from_value(&again),
            text,
            "value in JSON: encoding is not stable after one round trip\n{value:?}"
        );
    }
}

/// How many arrays, maps and tags `value` nests.
fn depth(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Value::Map(entries) => {
            1 + entries
                .iter()
                .map(|(k, v)| depth(k).max(depth(v)))
                .max()
                .unwrap_or(0)
        }
        Value::Tag(_, inner) => 1 + depth(inner),
        _ => 0,
    }
}

/// The three key forms and the two input forms, each given the whole input as text.
pub fn keys(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let text = text.as_ref();

    // `rvt-key` splits at every `,` and joins with `,`: always exactly the text again.
    let key = query_key::decode(text);
    assert_eq!(query_key::encode(&key).as_deref(), Some(text), "rvt-key");

    if let Ok(key) = path_key::decode(text) {
        let written = path_key::encode(&key);
        assert_eq!(path_key::decode(&written), Ok(key), "path key {written:?}");
    }
    if let Ok(key) = json_key::decode(text) {
        let written = json_key::encode(&key);
        assert_eq!(json_key::decode(&written), Ok(key), "JSON key {written:?}");
    }
    if let Ok(value) = input::decode_query_input(text) {
        let written = input::encode_query_input(&value);
        let again = input::decode_query_input(&written).expect("our own `rvt-input` decodes");
        assert_eq!(input::encode_query_input(&again), written, "rvt-input");
    }
    if let Ok(value) = input::decode_actors_input(text) {
        let written = input::encode_actors_input(&value);
        let again = input::decode_actors_input(&written).expect("our own `input` decodes");
        assert_eq!(input::encode_actors_input(&again), written, "actors input");
    }
}

/// The `Sec-WebSocket-Protocol` list and the encoding names in it.
pub fn subprotocols(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = Encoding::from_name(&text);
    let Ok(asked) = protocol::parse_subprotocols(&text) else {
        return;
    };
    // What our client would offer for the same choices reads back as those choices.
    let offered = protocol::build_subprotocols(
        asked.encoding,
        asked.conn_params.as_deref(),
        asked.token.as_deref(),
    );
    let again = protocol::parse_subprotocols(&offered)
        .unwrap_or_else(|err| panic!("our own list {offered:?} does not parse: {err}"));
    assert_eq!(
        (again.encoding, &again.conn_params, &again.token),
        (asked.encoding, &asked.conn_params, &asked.token),
        "subprotocols {offered:?}"
    );
}
