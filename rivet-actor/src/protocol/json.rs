//! JSON with RivetKit's value tagging, as the npm client reads and writes it
//! (`jsonStringifyCompat` / `jsonParseCompat`).
//!
//! | value | JSON |
//! |---|---|
//! | integer within ±(2^53 − 1) | a number |
//! | other integer | `["$BigInt","<decimal>"]` |
//! | bytes | `["$Uint8Array","<base64>"]` (`["$ArrayBuffer", …]` is also read) |
//! | `undefined` | read from `["$Undefined",0]` as `Null` |
//! | set | read from `["$Set",[…]]` as an array |
//! | a genuine `["$x", v]` array | `["$$x", v]` (one `$` more; dropped again when read) |
//! | NaN, ±infinity | `null` |
//! | map key that is not text | its text form (see [`key_text`]) |
//! | CBOR tag | its content |

use std::fmt::Write as _;

use super::compat::{self, MAX_SAFE_INTEGER, TAG_BIGINT, TAG_UINT8_ARRAY};
use super::{ProtocolError, Value};

/// Parses tagged JSON into a [`Value`].
///
/// Integer literals become `Value::Integer` (literals beyond the 64-bit range become floats, as
/// JSON cannot say more), other numbers `Value::Float`; objects become maps with text keys, in
/// the order received. Tagged pairs are revived; an unknown `$` tag or a bad payload gives
/// [`ProtocolError::InvalidTaggedValue`], bad JSON [`ProtocolError::MalformedJson`].
pub fn to_value(bytes: &[u8]) -> Result<Value, ProtocolError> {
    let raw: Value = serde_json::from_slice(bytes).map_err(malformed)?;
    compat::check_count(&raw)?;
    compat::revive(raw)
}

/// Parses plain JSON (no `$` tags revived) into a [`Value`], bounded like [`to_value`]: the
/// connection params, which both clients send as plain `JSON.stringify` output.
pub(crate) fn to_plain_value(bytes: &[u8]) -> Result<Value, ProtocolError> {
    let raw: Value = serde_json::from_slice(bytes).map_err(malformed)?;
    compat::check_count(&raw)?;
    Ok(raw)
}

/// [`to_value`] for what a server sent our client: no bound on the number of values (the
/// server bounds nothing it sends that way, and the message's size bounds it).
pub(crate) fn to_value_from_server(bytes: &[u8]) -> Result<Value, ProtocolError> {
    let raw: Value = serde_json::from_slice(bytes).map_err(malformed)?;
    compat::revive(raw)
}

/// Writes `value` as tagged JSON (UTF-8, no whitespace), ready for the npm client's
/// `jsonParseCompat`.
pub fn from_value(value: &Value) -> Vec<u8> {
    let mut out = String::new();
    write_value(&mut out, value);
    out.into_bytes()
}

/// [`from_value`] as a `String` (for WebSocket text frames).
pub fn to_string(value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value);
    out
}

fn malformed(error: serde_json::Error) -> ProtocolError {
    // serde_json's messages name the position and the problem, never the input text.
    ProtocolError::MalformedJson(error.to_string())
}

/// Appends the tagged JSON of `value` to `out`.
pub(crate) fn write_value(out: &mut String, value: &Value) {
    write_any(out, value, false);
}

/// Appends an array, escaping a genuine `["$x", v]` pair as `["$$x", v]`.
pub(crate) fn write_array(out: &mut String, items: &[Value]) {
    write_items(out, items, false);
}

/// [`write_value`], or with `in_key` the text of a map key (see [`key_text`]).
fn write_any(out: &mut String, value: &Value, in_key: bool) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Integer(n) => write_integer(out, i128::from(*n)),
        Value::Float(f) => write_float(out, *f),
        Value::Text(text) => write_str(out, text),
        Value::Bytes(bytes) => {
            out.push('[');
            write_str(out, TAG_UINT8_ARRAY);
            out.push(',');
            write_str(out, &compat::encode_base64(bytes));
            out.push(']');
        }
        Value::Array(items) => write_items(out, items, in_key),
        Value::Map(entries) => {
            out.push('{');
            for (i, (key, item)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                let name = key_text(key);
                // Inside a key, the text of a key that is not text goes in as it is:
                // quoted again at each level of keys within keys, it would double in length
                // per level (a few hundred bytes of CBOR asked for gigabytes).
                if in_key && !matches!(key, Value::Text(_)) {
                    out.push_str(&name);
                } else {
                    write_str(out, &name);
                }
                out.push(':');
                write_any(out, item, in_key);
            }
            out.push('}');
        }
        Value::Tag(_, inner) => write_any(out, inner, in_key),
        // `Value` is non-exhaustive; anything newer is written as null.
        _ => out.push_str("null"),
    }
}

fn write_items(out: &mut String, items: &[Value], in_key: bool) {
    out.push('[');
    if let Some(tag) = compat::needs_escape(items) {
        write_str(out, &format!("${tag}"));
        out.push(',');
        write_any(out, &items[1], in_key);
    } else {
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            write_any(out, item, in_key);
        }
    }
    out.push(']');
}

/// Appends an integer: a plain number when JavaScript holds it exactly, else a `$BigInt` pair.
pub(crate) fn write_integer(out: &mut String, n: i128) {
    if (-MAX_SAFE_INTEGER..=MAX_SAFE_INTEGER).contains(&n) {
        let _ = write!(out, "{n}");
    } else {
        let _ = write!(out, "[\"{TAG_BIGINT}\",\"{n}\"]");
    }
}

fn write_float(out: &mut String, f: f64) {
    match serde_json::Number::from_f64(f) {
        Some(number) => {
            let _ = write!(out, "{number}");
        }
        None => out.push_str("null"),
    }
}

/// Appends `text` as a JSON string literal.
pub(crate) fn write_str(out: &mut String, text: &str) {
    // Serializing a &str cannot fail.
    out.push_str(&serde_json::to_string(text).unwrap_or_default());
}

/// The text used for a map key that is not text, as JavaScript would name it: integers and
/// floats in decimal (`1`, `1.5`, `NaN`, `Infinity`), `true`/`false`/`null`, bytes in base64,
/// and arrays, maps and tags as their tagged JSON text, except that a key within such a key
/// is not quoted (`{{"a":1}:2}`), which keeps the text as long as the value, not
/// exponentially longer.
pub fn key_text(key: &Value) -> String {
    match key {
        Value::Text(text) => text.clone(),
        Value::Integer(n) => i128::from(*n).to_string(),
        Value::Float(f) => float_text(*f),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".to_owned(),
        Value::Bytes(bytes) => compat::encode_base64(bytes),
        Value::Tag(_, inner) => key_text(inner),
        other => {
            let mut out = String::new();
            write_any(&mut out, other, true);
            out
        }
    }
}

fn float_text(f: f64) -> String {
    if f.is_nan() {
        "NaN".to_owned()
    } else if f.is_infinite() {
        if f > 0.0 { "Infinity" } else { "-Infinity" }.to_owned()
    } else if f.fract() == 0.0 && f.abs() < 1e21 {
        format!("{f:.0}")
    } else {
        let mut out = String::new();
        write_float(&mut out, f);
        out
    }
}
