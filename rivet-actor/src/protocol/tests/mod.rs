//! Tests of the protocol codecs, including fixtures produced by the npm client itself
//! (`fixtures/npm_frames.json`) and our frames checked by it (`fixtures/rust_frames.json`,
//! see `fixtures/wire.mjs`).

use super::*;

mod bare;
mod codecs;
mod keys;
mod messages;
mod npm_fixtures;
mod our_frames;

// MARK: helpers

fn int(n: i128) -> Value {
    Value::Integer(ciborium::value::Integer::try_from(n).expect("integer in CBOR range"))
}

fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}

fn arr(items: Vec<Value>) -> Value {
    Value::Array(items)
}

fn map(entries: Vec<(&str, Value)>) -> Value {
    Value::Map(entries.into_iter().map(|(k, v)| (text(k), v)).collect())
}

fn json_in(s: &str) -> Result<Value, ProtocolError> {
    json::to_value(s.as_bytes())
}

fn json_out(v: &Value) -> String {
    json::to_string(v)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

fn both() -> [Encoding; 2] {
    [Encoding::Json, Encoding::Cbor]
}

/// One frame of a fixture file: the npm client's (`npm_frames.json`) or ours
/// (`rust_frames.json`).
#[derive(serde::Deserialize, serde::Serialize)]
struct FixtureFrame {
    name: String,
    kind: String,
    encoding: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hex: Option<String>,
}

impl FixtureFrame {
    fn new(name: &str, kind: &str, encoding: Encoding, bytes: Vec<u8>) -> Self {
        let (text, hex_data) = match encoding {
            Encoding::Json => (Some(String::from_utf8(bytes).unwrap()), None),
            Encoding::Cbor | Encoding::Bare => (None, Some(hex(&bytes))),
        };
        FixtureFrame {
            name: format!("{name}_{encoding}"),
            kind: kind.to_owned(),
            encoding: encoding.name().to_owned(),
            text,
            hex: hex_data,
        }
    }

    fn bytes(&self) -> Vec<u8> {
        match (&self.text, &self.hex) {
            (Some(text), _) => text.as_bytes().to_vec(),
            (None, Some(data)) => unhex(data),
            (None, None) => panic!("{}: no data", self.name),
        }
    }

    fn encoding(&self) -> Encoding {
        Encoding::from_name(&self.encoding).unwrap()
    }
}
