//! RivetKit's "JSON compat" value tagging, shared by the JSON and CBOR codecs.
//!
//! RivetKit represents values JSON cannot carry as two-element arrays whose first item is a
//! tag string (`["$BigInt","10"]`). The npm client applies the reviving step to everything it
//! decodes, in JSON *and* in CBOR, so both codecs here revive on input and escape on output.

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

use super::error::clip;
use super::{ProtocolError, Value};

/// Tag of a bigint: `["$BigInt", "<decimal>"]`.
pub(crate) const TAG_BIGINT: &str = "$BigInt";
/// Tag of a `Uint8Array`: `["$Uint8Array", "<base64>"]`.
pub(crate) const TAG_UINT8_ARRAY: &str = "$Uint8Array";
/// Tag of an `ArrayBuffer`: `["$ArrayBuffer", "<base64>"]`.
pub(crate) const TAG_ARRAY_BUFFER: &str = "$ArrayBuffer";
/// Tag of `undefined`: `["$Undefined", 0]`.
pub(crate) const TAG_UNDEFINED: &str = "$Undefined";
/// Tag of a `Set`: `["$Set", [items]]`.
pub(crate) const TAG_SET: &str = "$Set";

/// The largest integer a JavaScript number holds exactly (2^53 − 1).
pub(crate) const MAX_SAFE_INTEGER: i128 = (1 << 53) - 1;

/// Whether `items` is a two-element array that the client would read as a tag, and so must be
/// escaped (first item a string starting with `$`).
pub(crate) fn needs_escape(items: &[Value]) -> Option<&str> {
    match items {
        [Value::Text(first), _] if first.starts_with('$') => Some(first),
        _ => None,
    }
}

/// At most this many values (array items and map entries, at any depth) in one decoded
/// message. A decoded value takes tens of bytes against one or two on the wire, so a 1 MiB
/// message of small numbers would otherwise hold tens of MiB while it waits for its actor.
///
/// ```
/// use rivet_actor::protocol::{json, ProtocolError, MAX_VALUES};
/// let many = format!("[{}0]", "0,".repeat(MAX_VALUES));
/// assert_eq!(json::to_value(many.as_bytes()), Err(ProtocolError::TooManyValues(MAX_VALUES)));
/// ```
pub const MAX_VALUES: usize = 1 << 17;

/// [`ProtocolError::TooManyValues`] when `value` holds more than [`MAX_VALUES`] values.
pub(crate) fn check_count(value: &Value) -> Result<(), ProtocolError> {
    let mut count = 0usize;
    let mut pending = vec![value];
    while let Some(value) = pending.pop() {
        match value {
            Value::Array(items) => {
                count += items.len();
                pending.extend(items);
            }
            Value::Map(entries) => {
                count += entries.len();
                pending.extend(entries.iter().flat_map(|(k, v)| [k, v]));
            }
            Value::Tag(_, inner) => pending.push(inner),
            _ => {}
        }
        if count > MAX_VALUES {
            return Err(ProtocolError::TooManyValues(MAX_VALUES));
        }
    }
    Ok(())
}

/// Replaces every tagged pair in `value` by the value it stands for.
///
/// `$BigInt` → `Integer`, `$Uint8Array`/`$ArrayBuffer` → `Bytes`, `$Undefined` → `Null`,
/// `$Set` → `Array`, `["$$x", v]` → `["$x", v]`; any other `$` tag is an error, as it is for
/// the npm reviver.
pub(crate) fn revive(value: Value) -> Result<Value, ProtocolError> {
    match value {
        Value::Array(items) => revive_array(items),
        Value::Map(entries) => entries
            .into_iter()
            .map(|(k, v)| Ok((revive(k)?, revive(v)?)))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Map),
        Value::Tag(tag, inner) => Ok(Value::Tag(tag, Box::new(revive(*inner)?))),
        other => Ok(other),
    }
}

fn revive_array(items: Vec<Value>) -> Result<Value, ProtocolError> {
    if needs_escape(&items).is_none() {
        return items
            .into_iter()
            .map(revive)
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array);
    }
    let mut pair = items.into_iter();
    let (Some(Value::Text(tag)), Some(payload)) = (pair.next(), pair.next()) else {
        unreachable!("needs_escape matched a two-element array led by text");
    };
    match tag.as_str() {
        TAG_BIGINT => parse_bigint(&payload).map(Value::Integer),
        TAG_UINT8_ARRAY | TAG_ARRAY_BUFFER => match payload {
            Value::Text(text) => decode_base64(&text)
                .map(Value::Bytes)
                .ok_or_else(|| ProtocolError::tagged(&tag, "expected base64 text")),
            _ => Err(ProtocolError::tagged(&tag, "expected base64 text")),
        },
        TAG_UNDEFINED => Ok(Value::Null),
        TAG_SET => match payload {
            Value::Array(members) => revive(Value::Array(members)),
            _ => Err(ProtocolError::tagged(&tag, "expected an array of members")),
        },
        escaped if escaped.starts_with("$$") => Ok(Value::Array(vec![
            Value::Text(escaped[1..].to_owned()),
            revive(payload)?,
        ])),
        _ => Err(ProtocolError::tagged(
            &tag,
            "unknown tag (a literal two-element array starting with a `$` string must be \
             escaped as `$$`)",
        )),
    }
}

/// The integer of a `$BigInt` payload: decimal text with an optional sign (what `bigint.toString()`
/// writes), or an integer, within CBOR's range −2^64 ..= 2^64 − 1.
fn parse_bigint(payload: &Value) -> Result<ciborium::value::Integer, ProtocolError> {
    let parsed: Option<i128> = match payload {
        Value::Integer(n) => Some(i128::from(*n)),
        Value::Text(text) => {
            let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
            if digits.is_empty() || digits.len() > 40 || !digits.bytes().all(|b| b.is_ascii_digit())
            {
                return Err(ProtocolError::tagged(
                    TAG_BIGINT,
                    format!("expected a decimal integer, got `{}`", clip(text)),
                ));
            }
            text.parse::<i128>().ok()
        }
        _ => {
            return Err(ProtocolError::tagged(
                TAG_BIGINT,
                "expected a decimal integer string",
            ));
        }
    };
    parsed
        .and_then(|n| ciborium::value::Integer::try_from(n).ok())
        .ok_or_else(|| ProtocolError::tagged(TAG_BIGINT, "integer outside −2^64 ..= 2^64 − 1"))
}

const LENIENT: GeneralPurposeConfig = GeneralPurposeConfig::new()
    .with_decode_padding_mode(DecodePaddingMode::Indifferent)
    .with_decode_allow_trailing_bits(true);
const STANDARD_LENIENT: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, LENIENT);
const URL_SAFE_LENIENT: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, LENIENT);

/// Decodes base64 in the standard or URL-safe alphabet, padded or not (as Node's
/// `Buffer.from(text, "base64")` accepts both). `None` when it is not base64.
pub(crate) fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let text = text.trim_end_matches('=');
    if text.contains(['-', '_']) {
        URL_SAFE_LENIENT.decode(text).ok()
    } else {
        STANDARD_LENIENT.decode(text).ok()
    }
}

/// Standard padded base64, as `btoa` and `Buffer#toString("base64")` write it.
pub(crate) fn encode_base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Unpadded URL-safe base64, as the client writes `rvt-input`.
pub(crate) fn encode_base64_url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}
