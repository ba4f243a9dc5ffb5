//! The neutral value every wire encoding decodes into, and typed conversions to and from it.

use serde::Serialize;
use serde::de::DeserializeOwned;

/// A decoded wire value (JSON and CBOR both map onto it without loss).
pub use ciborium::Value;

/// Encodes a typed value.
///
/// ```
/// let v = rivet_actor::value::to_value(&(1u32, "a")).unwrap();
/// assert!(v.is_array());
/// ```
pub fn to_value<T: Serialize + ?Sized>(value: &T) -> Result<Value, ValueError> {
    Value::serialized(value).map_err(|err| ValueError(err.to_string()))
}

/// Decodes a typed value.
///
/// ```
/// use rivet_actor::value::{Value, from_value};
/// let n: u64 = from_value(Value::Integer(7.into())).unwrap();
/// assert_eq!(n, 7);
/// ```
pub fn from_value<T: DeserializeOwned>(value: Value) -> Result<T, ValueError> {
    value
        .deserialized()
        .map_err(|err| ValueError(err.to_string()))
}

/// A value did not have the shape of the type asked for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ValueError(pub String);

/// Encodes a value as CBOR bytes (the storage format of state and input).
pub(crate) fn to_cbor<T: Serialize + ?Sized>(
    value: &T,
    out: &mut Vec<u8>,
) -> Result<(), ValueError> {
    out.clear();
    ciborium::into_writer(value, out).map_err(|err| ValueError(err.to_string()))
}

/// Decodes CBOR bytes into a typed value.
pub(crate) fn from_cbor<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ValueError> {
    ciborium::from_reader(bytes).map_err(|err| ValueError(err.to_string()))
}

pub(crate) mod diff;
