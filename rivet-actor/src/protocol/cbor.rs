//! CBOR as the npm client (cbor-x) writes and reads it, with RivetKit's value tagging on top.
//!
//! Reading (`to_value`) undoes what cbor-x does to JavaScript values:
//! tag 64 (`Uint8Array`) → bytes, tag 258 (`Set`) → array, tag 259 (`Map`) → map,
//! tag 1/0 (`Date`) → ISO-8601 text (what the same date gives in JSON), an integral float with
//! 2^32 ≤ |x| ≤ 2^53 − 1 (cbor-x's form for such numbers) → integer; CBOR `undefined` → null;
//! then tagged pairs (`["$BigInt","1"]`, …) are revived exactly as in JSON, because the client
//! revives them in CBOR too.
//!
//! Writing (`from_value`) produces what cbor-x decodes to the matching JavaScript value:
//! integers within ±2^32 as CBOR integers, other integers within ±(2^53 − 1) as float64 (a
//! JavaScript number), larger ones in the 8-byte integer form (a `bigint`); bytes as a byte
//! string; floats as float64; a genuine `["$x", v]` array escaped as `["$$x", v]`.

use super::compat::{self, MAX_SAFE_INTEGER};
use super::{ProtocolError, Value};

const MAJOR_UNSIGNED: u8 = 0;
const MAJOR_NEGATIVE: u8 = 1;
const MAJOR_BYTES: u8 = 2;
const MAJOR_TEXT: u8 = 3;
const MAJOR_ARRAY: u8 = 4;
const MAJOR_MAP: u8 = 5;
const MAJOR_TAG: u8 = 6;

const TAG_DATE_TEXT: u64 = 0;
const TAG_DATE_EPOCH: u64 = 1;
const TAG_UINT8_ARRAY: u64 = 64;
const TAG_SET: u64 = 258;
const TAG_MAP: u64 = 259;

/// Parses one CBOR item (nothing may follow it) into a [`Value`], normalized and revived as
/// described in the module documentation.
pub fn to_value(bytes: &[u8]) -> Result<Value, ProtocolError> {
    let raw = parse(bytes)?;
    compat::check_count(&raw)?;
    compat::revive(normalize(raw))
}

/// [`to_value`] for what a server sent our client: no bound on the number of values (the
/// message's size bounds it).
pub(crate) fn to_value_from_server(bytes: &[u8]) -> Result<Value, ProtocolError> {
    compat::revive(normalize(parse(bytes)?))
}

/// One CBOR item, nothing after it.
fn parse(bytes: &[u8]) -> Result<Value, ProtocolError> {
    let mut reader = bytes;
    let raw: Value = ciborium::de::from_reader(&mut reader).map_err(malformed)?;
    if !reader.is_empty() {
        return Err(ProtocolError::MalformedCbor(format!(
            "{} unexpected bytes after the first item",
            reader.len()
        )));
    }
    Ok(raw)
}

/// Writes `value` as CBOR for the npm client (see the module documentation).
pub fn from_value(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    write_value(&mut out, value);
    out
}

fn malformed(error: ciborium::de::Error<std::io::Error>) -> ProtocolError {
    use ciborium::de::Error;
    ProtocolError::MalformedCbor(match error {
        Error::Io(_) => "unexpected end of input".to_owned(),
        Error::Syntax(offset) => format!("invalid item at byte {offset}"),
        Error::Semantic(Some(offset), reason) => format!("{reason} (at byte {offset})"),
        Error::Semantic(None, reason) => reason,
        Error::RecursionLimitExceeded => "nesting too deep".to_owned(),
    })
}

fn normalize(value: Value) -> Value {
    match value {
        Value::Array(items) => Value::Array(items.into_iter().map(normalize).collect()),
        Value::Map(entries) => Value::Map(
            entries
                .into_iter()
                .map(|(k, v)| (normalize(k), normalize(v)))
                .collect(),
        ),
        Value::Float(f) if is_cbor_x_integer(f) => Value::Integer((f as i64).into()),
        // The content first, as cbor-x hands a tag its decoded content: a tag whose content
        // is itself a tag (`0(0("…"))`) must see what the inner one became.
        Value::Tag(tag, inner) => match (tag, normalize(*inner)) {
            (TAG_UINT8_ARRAY, Value::Bytes(bytes)) => Value::Bytes(bytes),
            (TAG_SET, items @ Value::Array(_)) => items,
            (TAG_MAP, entries @ Value::Map(_)) => entries,
            (TAG_DATE_TEXT, text @ Value::Text(_)) => text,
            (TAG_DATE_EPOCH, epoch) => match epoch_seconds(&epoch).and_then(iso_date) {
                Some(text) => Value::Text(text),
                None => Value::Tag(TAG_DATE_EPOCH, Box::new(epoch)),
            },
            (tag, inner) => Value::Tag(tag, Box::new(inner)),
        },
        other => other,
    }
}

/// Whether `f` is how cbor-x writes a JavaScript integer too large for a 32-bit CBOR head.
fn is_cbor_x_integer(f: f64) -> bool {
    f.fract() == 0.0 && f.abs() >= 4_294_967_296.0 && f.abs() <= MAX_SAFE_INTEGER as f64
}

fn epoch_seconds(value: &Value) -> Option<f64> {
    match value {
        Value::Integer(n) => Some(i128::from(*n) as f64),
        Value::Float(f) if f.is_finite() => Some(*f),
        _ => None,
    }
}

/// `seconds` since 1970 as JavaScript's `Date#toISOString` writes it (years 0–9999 only).
fn iso_date(seconds: f64) -> Option<String> {
    let millis = (seconds * 1000.0).round();
    if !(-62_167_219_200_000.0..=253_402_300_799_999.0).contains(&millis) {
        return None;
    }
    let millis = millis as i64;
    let days = millis.div_euclid(86_400_000);
    let in_day = millis.rem_euclid(86_400_000);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    Some(format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        in_day / 3_600_000,
        in_day / 60_000 % 60,
        in_day / 1000 % 60,
        in_day % 1000
    ))
}

/// Appends the CBOR of `value` to `out`.
pub(crate) fn write_value(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Null => out.push(0xf6),
        Value::Bool(b) => out.push(if *b { 0xf5 } else { 0xf4 }),
        Value::Integer(n) => write_integer(out, i128::from(*n)),
        Value::Float(f) => write_float(out, *f),
        Value::Text(text) => write_text(out, text),
        Value::Bytes(bytes) => {
            head(out, MAJOR_BYTES, bytes.len() as u64);
            out.extend_from_slice(bytes);
        }
        Value::Array(items) => write_array(out, items),
        Value::Map(entries) => {
            head(out, MAJOR_MAP, entries.len() as u64);
            for (key, item) in entries {
                write_value(out, key);
                write_value(out, item);
            }
        }
        Value::Tag(tag, inner) => {
            head(out, MAJOR_TAG, *tag);
            write_value(out, inner);
        }
        _ => out.push(0xf6),
    }
}

/// Appends an array, escaping a genuine `["$x", v]` pair as `["$$x", v]`.
pub(crate) fn write_array(out: &mut Vec<u8>, items: &[Value]) {
    if let Some(tag) = compat::needs_escape(items) {
        head(out, MAJOR_ARRAY, 2);
        write_text(out, &format!("${tag}"));
        write_value(out, &items[1]);
    } else {
        head(out, MAJOR_ARRAY, items.len() as u64);
        for item in items {
            write_value(out, item);
        }
    }
}

/// Appends an integer in the form cbor-x decodes to the matching JavaScript value.
pub(crate) fn write_integer(out: &mut Vec<u8>, n: i128) {
    const U32_MAX: i128 = u32::MAX as i128;
    if (0..=U32_MAX).contains(&n) {
        head(out, MAJOR_UNSIGNED, n as u64);
    } else if (-U32_MAX - 1..0).contains(&n) {
        head(out, MAJOR_NEGATIVE, (-1 - n) as u64);
    } else if (-MAX_SAFE_INTEGER..=MAX_SAFE_INTEGER).contains(&n) {
        write_float(out, n as f64);
    } else if n >= 0 {
        write_u64_wide(out, MAJOR_UNSIGNED, n as u64);
    } else {
        write_u64_wide(out, MAJOR_NEGATIVE, (-1 - n) as u64);
    }
}

/// Appends an action id: always the 8-byte unsigned form, which cbor-x decodes to a `bigint`
/// (the client's schema requires a bigint id; a short integer decodes to a number and is
/// rejected).
pub(crate) fn write_id(out: &mut Vec<u8>, id: u64) {
    write_u64_wide(out, MAJOR_UNSIGNED, id);
}

fn write_u64_wide(out: &mut Vec<u8>, major: u8, n: u64) {
    out.push(major << 5 | 27);
    out.extend_from_slice(&n.to_be_bytes());
}

fn write_float(out: &mut Vec<u8>, f: f64) {
    out.push(0xfb);
    out.extend_from_slice(&f.to_be_bytes());
}

/// Appends a text string.
pub(crate) fn write_text(out: &mut Vec<u8>, text: &str) {
    head(out, MAJOR_TEXT, text.len() as u64);
    out.extend_from_slice(text.as_bytes());
}

/// Appends an item head in its shortest form.
fn head(out: &mut Vec<u8>, major: u8, n: u64) {
    let major = major << 5;
    if n < 24 {
        out.push(major | n as u8);
    } else if n <= u64::from(u8::MAX) {
        out.extend_from_slice(&[major | 24, n as u8]);
    } else if n <= u64::from(u16::MAX) {
        out.push(major | 25);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else if n <= u64::from(u32::MAX) {
        out.push(major | 26);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    } else {
        out.push(major | 27);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

/// Appends a map head for `len` entries.
pub(crate) fn map_head(out: &mut Vec<u8>, len: usize) {
    head(out, MAJOR_MAP, len as u64);
}
