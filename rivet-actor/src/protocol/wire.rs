//! The envelope writer and reader shared by the message and HTTP body codecs.
//!
//! Envelopes are written from a small tree ([`Node`]) rather than a [`Value`] because two
//! things in them have a form of their own: action ids, which the client requires to be
//! `bigint`s (`["$BigInt","N"]` in JSON, the 8-byte integer form in CBOR), and fields that must
//! be left out rather than written as null.

use super::error::clip;
use super::{Encoding, ProtocolError, Value, cbor, json};

/// A piece of an envelope to write.
pub(crate) enum Node<'a> {
    /// An object with fixed keys, in order.
    Object(Vec<(&'static str, Node<'a>)>),
    /// A string.
    Text(&'a str),
    /// A boolean.
    Bool(bool),
    /// `null`.
    Null,
    /// An action id (always a bigint on the wire).
    Id(u64),
    /// A plain number.
    Int(u64),
    /// A user value.
    Value(&'a Value),
    /// An array of user values.
    Values(&'a [Value]),
}

/// Encodes `node` in `encoding`.
pub(crate) fn encode(encoding: Encoding, node: &Node<'_>) -> Vec<u8> {
    match encoding {
        Encoding::Json => {
            let mut out = String::new();
            write_json(&mut out, node);
            out.into_bytes()
        }
        Encoding::Cbor => {
            let mut out = Vec::new();
            write_cbor(&mut out, node);
            out
        }
    }
}

fn write_json(out: &mut String, node: &Node<'_>) {
    match node {
        Node::Object(fields) => {
            out.push('{');
            for (i, (key, field)) in fields.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json::write_str(out, key);
                out.push(':');
                write_json(out, field);
            }
            out.push('}');
        }
        Node::Text(text) => json::write_str(out, text),
        Node::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Node::Null => out.push_str("null"),
        Node::Id(id) => {
            out.push_str("[\"$BigInt\",\"");
            out.push_str(&id.to_string());
            out.push_str("\"]");
        }
        Node::Int(n) => json::write_integer(out, i128::from(*n)),
        Node::Value(value) => json::write_value(out, value),
        // Written like any array: a two-element argument list led by a `$` string is escaped,
        // as the client's encoder does it.
        Node::Values(values) => json::write_array(out, values),
    }
}

fn write_cbor(out: &mut Vec<u8>, node: &Node<'_>) {
    match node {
        Node::Object(fields) => {
            cbor::map_head(out, fields.len());
            for (key, field) in fields {
                cbor::write_text(out, key);
                write_cbor(out, field);
            }
        }
        Node::Text(text) => cbor::write_text(out, text),
        Node::Bool(b) => out.push(if *b { 0xf5 } else { 0xf4 }),
        Node::Null => out.push(0xf6),
        Node::Id(id) => cbor::write_id(out, *id),
        Node::Int(n) => cbor::write_integer(out, i128::from(*n)),
        Node::Value(value) => cbor::write_value(out, value),
        Node::Values(values) => cbor::write_array(out, values),
    }
}

/// Decodes `bytes` in `encoding` into a revived [`Value`].
pub(crate) fn decode(encoding: Encoding, bytes: &[u8]) -> Result<Value, ProtocolError> {
    match encoding {
        Encoding::Json => json::to_value(bytes),
        Encoding::Cbor => cbor::to_value(bytes),
    }
}

/// A decoded object being read field by field; `what` names it in errors.
pub(crate) struct Object<'a> {
    what: &'static str,
    entries: &'a [(Value, Value)],
}

impl<'a> Object<'a> {
    /// `value` as an object, or an error saying `what` should have been one.
    pub(crate) fn new(value: &'a Value, what: &'static str) -> Result<Self, ProtocolError> {
        match value {
            Value::Map(entries) => Ok(Object { what, entries }),
            _ => Err(ProtocolError::shape(format!("{what} to be an object"))),
        }
    }

    /// The field `key`, if present (the last one if repeated).
    pub(crate) fn get(&self, key: &str) -> Option<&'a Value> {
        self.entries
            .iter()
            .rev()
            .find(|(k, _)| matches!(k, Value::Text(t) if t == key))
            .map(|(_, v)| v)
    }

    /// The field `key`, treating `null` as absent (zod's `.optional()`/`.nullable()` fields).
    pub(crate) fn get_present(&self, key: &str) -> Option<&'a Value> {
        self.get(key).filter(|v| !matches!(v, Value::Null))
    }

    fn missing(&self, key: &str, kind: &str) -> ProtocolError {
        ProtocolError::shape(format!("`{key}` in {} to be {kind}", self.what))
    }

    /// The required field `key`, of any type.
    pub(crate) fn value(&self, key: &str) -> Result<&'a Value, ProtocolError> {
        self.get(key).ok_or_else(|| self.missing(key, "present"))
    }

    /// The required string field `key`.
    pub(crate) fn text(&self, key: &str) -> Result<&'a str, ProtocolError> {
        match self.get(key) {
            Some(Value::Text(text)) => Ok(text),
            _ => Err(self.missing(key, "a string")),
        }
    }

    /// The optional string field `key` (absent or null → `None`).
    pub(crate) fn opt_text(&self, key: &str) -> Result<Option<&'a str>, ProtocolError> {
        match self.get_present(key) {
            None => Ok(None),
            Some(Value::Text(text)) => Ok(Some(text)),
            Some(_) => Err(self.missing(key, "a string when present")),
        }
    }

    /// The required boolean field `key`.
    pub(crate) fn bool(&self, key: &str) -> Result<bool, ProtocolError> {
        match self.get(key) {
            Some(Value::Bool(b)) => Ok(*b),
            _ => Err(self.missing(key, "a boolean")),
        }
    }

    /// The optional boolean field `key` (absent or null → `None`).
    pub(crate) fn opt_bool(&self, key: &str) -> Result<Option<bool>, ProtocolError> {
        match self.get_present(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(self.missing(key, "a boolean when present")),
        }
    }

    /// The required id field `key`: a non-negative integer below 2^64.
    pub(crate) fn id(&self, key: &str) -> Result<u64, ProtocolError> {
        self.opt_id(key)?
            .ok_or_else(|| self.missing(key, "a non-negative integer id"))
    }

    /// The optional id field `key` (absent or null → `None`).
    pub(crate) fn opt_id(&self, key: &str) -> Result<Option<u64>, ProtocolError> {
        match self.get_present(key) {
            None => Ok(None),
            Some(Value::Integer(n)) => u64::try_from(*n)
                .map(Some)
                .map_err(|_| self.missing(key, "a non-negative integer id")),
            Some(_) => Err(self.missing(key, "a non-negative integer id")),
        }
    }

    /// The required array field `key`, cloned.
    pub(crate) fn array(&self, key: &str) -> Result<Vec<Value>, ProtocolError> {
        match self.get(key) {
            Some(Value::Array(items)) => Ok(items.clone()),
            _ => Err(self.missing(key, "an array")),
        }
    }

    /// The required field `key` read as a nested object.
    pub(crate) fn object(
        &self,
        key: &str,
        what: &'static str,
    ) -> Result<Object<'a>, ProtocolError> {
        Object::new(self.value(key)?, what)
    }
}

/// Reads a `{tag, val}` union: the tag and the `val` object.
pub(crate) fn tagged_body<'a>(
    envelope: &'a Value,
    what: &'static str,
    tags: &[&str],
) -> Result<(&'a str, Object<'a>), ProtocolError> {
    let top = Object::new(envelope, what)?;
    let body = top.object("body", "the message body")?;
    let tag = body.text("tag")?;
    if !tags.contains(&tag) {
        return Err(ProtocolError::shape(format!(
            "`tag` to be one of {}, got `{}`",
            tags.join(", "),
            clip(tag)
        )));
    }
    let val = body.object("val", "the message `val`")?;
    Ok((tag, val))
}
