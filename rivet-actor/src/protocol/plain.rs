//! Untagged conversions between [`Value`] and `serde_json::Value`, for code that wants plain
//! JSON (configuration, `x-rivet-conn-params`, logging) rather than the wire form.

use super::json::key_text;
use super::{Value, compat};

/// Converts plain JSON to a [`Value`] without reviving tags (`["$BigInt","1"]` stays an
/// array). Integers become `Value::Integer`, other numbers `Value::Float`.
pub fn json_value_to_value(json: serde_json::Value) -> Value {
    match json {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(b),
        serde_json::Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                Value::Integer(u.into())
            } else if let Some(i) = n.as_i64() {
                Value::Integer(i.into())
            } else {
                Value::Float(n.as_f64().unwrap_or(f64::NAN))
            }
        }
        serde_json::Value::String(s) => Value::Text(s),
        serde_json::Value::Array(items) => {
            Value::Array(items.into_iter().map(json_value_to_value).collect())
        }
        serde_json::Value::Object(entries) => Value::Map(
            entries
                .into_iter()
                .map(|(k, v)| (Value::Text(k), json_value_to_value(v)))
                .collect(),
        ),
    }
}

/// Converts a [`Value`] to plain JSON without tagging. Lossy where JSON has no form:
/// bytes become a standard base64 string, integers outside the 64-bit signed/unsigned range
/// and floats stay numbers only when finite (NaN and infinities become `null`), non-text map
/// keys are named as in [`super::json::key_text`], and CBOR tags are dropped for their content.
pub fn value_to_json_value(value: &Value) -> serde_json::Value {
    match value {
        Value::Null => serde_json::Value::Null,
        Value::Bool(b) => serde_json::Value::Bool(*b),
        Value::Integer(n) => {
            let n = i128::from(*n);
            if let Ok(u) = u64::try_from(n) {
                serde_json::Value::from(u)
            } else if let Ok(i) = i64::try_from(n) {
                serde_json::Value::from(i)
            } else {
                float_json(n as f64)
            }
        }
        Value::Float(f) => float_json(*f),
        Value::Text(s) => serde_json::Value::String(s.clone()),
        Value::Bytes(bytes) => serde_json::Value::String(compat::encode_base64(bytes)),
        Value::Array(items) => {
            serde_json::Value::Array(items.iter().map(value_to_json_value).collect())
        }
        Value::Map(entries) => serde_json::Value::Object(
            entries
                .iter()
                .map(|(k, v)| (key_text(k), value_to_json_value(v)))
                .collect(),
        ),
        Value::Tag(_, inner) => value_to_json_value(inner),
        _ => serde_json::Value::Null,
    }
}

fn float_json(f: f64) -> serde_json::Value {
    serde_json::Number::from_f64(f)
        .map(serde_json::Value::Number)
        .unwrap_or(serde_json::Value::Null)
}
