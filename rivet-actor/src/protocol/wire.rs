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
        // BARE frames are written by `bare.rs`, never from a tree; CBOR is the tree's binary
        // form should one ever get here.
        Encoding::Cbor | Encoding::Bare => {
            debug_assert!(
                encoding != Encoding::Bare,
                "BARE is written by protocol::bare"
            );
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
/// [`decode`] for what a server sent our client (no bound on the number of values).
pub(crate) fn decode_from_server(encoding: Encoding, bytes: &[u8]) -> Result<Value, ProtocolError> {
    match encoding {
        Encoding::Json => json::to_value_from_server(bytes),
        Encoding::Cbor => cbor::to_value_from_server(bytes),
        Encoding::Bare => decode(encoding, bytes),
    }
}

pub(crate) fn decode(encoding: Encoding, bytes: &[u8]) -> Result<Value, ProtocolError> {
    match encoding {
        Encoding::Json => json::to_value(bytes),
        Encoding::Cbor => cbor::to_value(bytes),
        Encoding::Bare => Err(ProtocolError::MalformedBare(
            "a BARE frame is not a tree of values".to_owned(),
        )),
    }
}

/// A decoded object being read field by field (each field is moved out, not copied); `what`
/// names it in errors.
pub(crate) struct Object {
    what: String,
    entries: Vec<(Value, Value)>,
}

fn is_key(key: &Value, name: &str) -> bool {
    matches!(key, Value::Text(text) if text == name)
}

impl Object {
    /// `value` as an object, or an error saying `what` should have been one.
    pub(crate) fn new(value: Value, what: impl Into<String>) -> Result<Self, ProtocolError> {
        let what = what.into();
        match value {
            Value::Map(entries) => Ok(Object { what, entries }),
            _ => Err(ProtocolError::shape(format!("{what} to be an object"))),
        }
    }

    /// Moves out the field `key`, if present (the last one if repeated, as `JSON.parse` keeps).
    pub(crate) fn take(&mut self, key: &str) -> Option<Value> {
        let position = self.entries.iter().rposition(|(k, _)| is_key(k, key))?;
        let (_, value) = self.entries.remove(position);
        self.entries.retain(|(k, _)| !is_key(k, key));
        Some(value)
    }

    /// Moves out the field `key`, treating `null` as absent (zod's `.optional()`/`.nullable()`
    /// fields).
    pub(crate) fn take_present(&mut self, key: &str) -> Option<Value> {
        self.take(key).filter(|v| !matches!(v, Value::Null))
    }

    fn missing(&self, key: &str, kind: &str) -> ProtocolError {
        ProtocolError::shape(format!("`{key}` in {} to be {kind}", self.what))
    }

    /// The required string field `key`.
    pub(crate) fn text(&mut self, key: &str) -> Result<String, ProtocolError> {
        match self.take(key) {
            Some(Value::Text(text)) => Ok(text),
            _ => Err(self.missing(key, "a string")),
        }
    }

    /// The optional string field `key` (absent or null → `None`).
    pub(crate) fn opt_text(&mut self, key: &str) -> Result<Option<String>, ProtocolError> {
        match self.take_present(key) {
            None => Ok(None),
            Some(Value::Text(text)) => Ok(Some(text)),
            Some(_) => Err(self.missing(key, "a string when present")),
        }
    }

    /// The required boolean field `key`.
    pub(crate) fn bool(&mut self, key: &str) -> Result<bool, ProtocolError> {
        match self.take(key) {
            Some(Value::Bool(b)) => Ok(b),
            _ => Err(self.missing(key, "a boolean")),
        }
    }

    /// The optional boolean field `key` (absent or null → `None`).
    pub(crate) fn opt_bool(&mut self, key: &str) -> Result<Option<bool>, ProtocolError> {
        match self.take_present(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(b)),
            Some(_) => Err(self.missing(key, "a boolean when present")),
        }
    }

    /// The required id field `key`: a non-negative integer below 2^64.
    pub(crate) fn id(&mut self, key: &str) -> Result<u64, ProtocolError> {
        self.opt_id(key)?
            .ok_or_else(|| self.missing(key, "a non-negative integer id"))
    }

    /// The optional id field `key` (absent or null → `None`).
    pub(crate) fn opt_id(&mut self, key: &str) -> Result<Option<u64>, ProtocolError> {
        match self.take_present(key) {
            None => Ok(None),
            Some(Value::Integer(n)) => u64::try_from(n)
                .map(Some)
                .map_err(|_| self.missing(key, "a non-negative integer id")),
            Some(_) => Err(self.missing(key, "a non-negative integer id")),
        }
    }

    /// The required array field `key`.
    pub(crate) fn array(&mut self, key: &str) -> Result<Vec<Value>, ProtocolError> {
        match self.take(key) {
            Some(Value::Array(items)) => Ok(items),
            _ => Err(self.missing(key, "an array")),
        }
    }

    /// The required field `key` read as a nested object.
    pub(crate) fn object(
        &mut self,
        key: &str,
        what: impl Into<String>,
    ) -> Result<Object, ProtocolError> {
        match self.take(key) {
            Some(value) => Object::new(value, what),
            None => Err(self.missing(key, "present")),
        }
    }
}

/// Reads a `{"body": {"tag", "val"}}` message: the tag and the `val` object.
pub(crate) fn tagged_body(
    envelope: Value,
    what: &'static str,
    tags: &[&str],
) -> Result<(String, Object), ProtocolError> {
    let mut top = Object::new(envelope, what)?;
    let mut body = top.object("body", "`body`")?;
    let tag = body.text("tag")?;
    if !tags.contains(&tag.as_str()) {
        return Err(ProtocolError::shape(format!(
            "`tag` to be one of {}, got `{}`",
            tags.join(", "),
            clip(&tag)
        )));
    }
    let val = body.object("val", format!("`val` of the {tag} message"))?;
    Ok((tag, val))
}
