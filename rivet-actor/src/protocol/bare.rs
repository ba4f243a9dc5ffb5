//! BARE, the npm client's default encoding: client protocol v1–v4 as vbare frames.
//!
//! A frame is a 2-byte little-endian schema version followed by one BARE value. We read v1–v4
//! (the layouts we read are the same in all of them, except that queue sends exist from v3
//! on and `Error`/`Init` gained and lost fields, see [`decode_to_client`]) and always write
//! v4, as RivetKit's server does. Primitives: `uint` is ULEB128 (at most 10 bytes, at most
//! 2^64 − 1), `str` and `data` are a `uint` length then that many bytes, `bool` and the
//! `optional` flag are one byte (0 or 1), `u64` is 8 bytes little-endian, union tags are one
//! byte. Every `data` field that holds a user value (args, output, metadata, queue bodies)
//! is CBOR as the client's `encodeCborCompat` writes it: its tagged pairs (`["$BigInt","1"]`)
//! are read exactly like the CBOR encoding's (see [`super::cbor`]), so the CBOR codec reads
//! and writes them.
//!
//! Written by hand rather than with a BARE crate: the schema is a dozen small records, and
//! owning the reader lets every malformed input (truncation, a length past the end, an
//! over-long ULEB128, a bad tag, bad UTF-8, trailing bytes) be a precise, typed error.

use super::error::clip;
use super::message::{ActorSpecifier, ToClient, ToServer, WireError};
use super::{ProtocolError, Value, cbor};

/// The version every frame we write carries.
pub(crate) const CURRENT_VERSION: u16 = 4;

/// The oldest version we read.
const OLDEST_VERSION: u16 = 1;

/// The oldest version with queue sends.
const QUEUE_VERSION: u16 = 3;

/// A BARE reader over one frame's payload.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    /// What a server sent our client: user values are not bounded in number.
    from_server: bool,
}

fn malformed(detail: impl Into<String>) -> ProtocolError {
    ProtocolError::MalformedBare(detail.into())
}

impl<'a> Reader<'a> {
    /// Reads the version prefix; `oldest` is the oldest version that has this message.
    fn framed(bytes: &'a [u8], oldest: u16) -> Result<(Self, u16), ProtocolError> {
        let Some((head, rest)) = bytes.split_first_chunk::<2>() else {
            return Err(malformed("the frame is shorter than its 2-byte version"));
        };
        let version = u16::from_le_bytes(*head);
        if !(oldest..=CURRENT_VERSION).contains(&version) {
            return Err(malformed(format!(
                "unsupported protocol version {version} (expected {oldest} to {CURRENT_VERSION})"
            )));
        }
        Ok((
            Reader {
                bytes: rest,
                pos: 0,
                from_server: false,
            },
            version,
        ))
    }

    /// [`Reader::framed`] for what a server sent our client.
    fn framed_from_server(bytes: &'a [u8], oldest: u16) -> Result<(Self, u16), ProtocolError> {
        let (mut reader, version) = Self::framed(bytes, oldest)?;
        reader.from_server = true;
        Ok((reader, version))
    }

    fn take(&mut self, len: usize, what: &str) -> Result<&'a [u8], ProtocolError> {
        let end = self
            .pos
            .checked_add(len)
            .filter(|end| *end <= self.bytes.len())
            .ok_or_else(|| malformed(format!("{what} runs past the end of the frame")))?;
        let out = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    fn u8(&mut self, what: &str) -> Result<u8, ProtocolError> {
        Ok(self.take(1, what)?[0])
    }

    fn uint(&mut self, what: &str) -> Result<u64, ProtocolError> {
        let mut value: u64 = 0;
        for index in 0..10 {
            let byte = self.u8(what)?;
            // The tenth byte may only carry the 64th bit, and must be the last.
            if index == 9 && byte > 1 {
                return Err(malformed(format!(
                    "{what} is longer than 10 bytes or over 64 bits"
                )));
            }
            value |= u64::from(byte & 0x7f) << (7 * index);
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        unreachable!("the tenth byte ends the loop")
    }

    fn u64(&mut self, what: &str) -> Result<u64, ProtocolError> {
        let bytes = self.take(8, what)?;
        Ok(u64::from_le_bytes(bytes.try_into().expect("8 bytes")))
    }

    fn bool(&mut self, what: &str) -> Result<bool, ProtocolError> {
        match self.u8(what)? {
            0 => Ok(false),
            1 => Ok(true),
            other => Err(malformed(format!("{what} is {other}, not a bool (0 or 1)"))),
        }
    }

    fn data(&mut self, what: &str) -> Result<&'a [u8], ProtocolError> {
        let len = self.uint(what)?;
        let len = usize::try_from(len)
            .map_err(|_| malformed(format!("{what} runs past the end of the frame")))?;
        self.take(len, what)
    }

    fn str(&mut self, what: &str) -> Result<String, ProtocolError> {
        let bytes = self.data(what)?;
        std::str::from_utf8(bytes)
            .map(str::to_owned)
            .map_err(|_| malformed(format!("{what} is not valid UTF-8")))
    }

    fn optional<T>(
        &mut self,
        what: &str,
        read: impl FnOnce(&mut Self) -> Result<T, ProtocolError>,
    ) -> Result<Option<T>, ProtocolError> {
        if self.bool(what)? {
            read(self).map(Some)
        } else {
            Ok(None)
        }
    }

    /// A user value: CBOR in the client's compat form.
    fn value(&mut self, what: &str) -> Result<Value, ProtocolError> {
        let bytes = self.data(what)?;
        let value = match self.from_server {
            true => cbor::to_value_from_server(bytes),
            false => cbor::to_value(bytes),
        };
        value.map_err(|err| malformed(format!("{what}: {err}")))
    }

    /// A user value that must be an array (positional args, event args).
    fn values(&mut self, what: &str) -> Result<Vec<Value>, ProtocolError> {
        match self.value(what)? {
            Value::Array(items) => Ok(items),
            _ => Err(ProtocolError::shape(format!("{what} to be an array"))),
        }
    }

    fn end(self) -> Result<(), ProtocolError> {
        match self.bytes.len() - self.pos {
            0 => Ok(()),
            extra => Err(malformed(format!(
                "{extra} unexpected bytes after the message"
            ))),
        }
    }

    fn actor(&mut self) -> Result<ActorSpecifier, ProtocolError> {
        Ok(ActorSpecifier {
            actor_id: self.str("`actor.actorId`")?,
            generation: self.uint("`actor.generation`")?,
            key: self.optional("`actor.key`", |r| r.str("`actor.key`"))?,
        })
    }
}

/// A BARE writer of one v4 frame.
struct Writer(Vec<u8>);

impl Writer {
    fn new() -> Self {
        Writer(CURRENT_VERSION.to_le_bytes().to_vec())
    }

    fn uint(&mut self, mut value: u64) {
        loop {
            let byte = (value & 0x7f) as u8;
            value >>= 7;
            if value == 0 {
                self.0.push(byte);
                return;
            }
            self.0.push(byte | 0x80);
        }
    }

    fn data(&mut self, bytes: &[u8]) {
        self.uint(bytes.len() as u64);
        self.0.extend_from_slice(bytes);
    }

    fn str(&mut self, text: &str) {
        self.data(text.as_bytes());
    }

    fn bool(&mut self, value: bool) {
        self.0.push(u8::from(value));
    }

    fn u64(&mut self, value: u64) {
        self.0.extend_from_slice(&value.to_le_bytes());
    }

    fn optional<T>(&mut self, value: Option<T>, write: impl FnOnce(&mut Self, T)) {
        self.bool(value.is_some());
        if let Some(value) = value {
            write(self, value);
        }
    }

    fn value(&mut self, value: &Value) {
        self.data(&cbor::from_value(value));
    }

    fn values(&mut self, values: &[Value]) {
        self.value(&Value::Array(values.to_vec()));
    }

    fn actor(&mut self, actor: &ActorSpecifier) {
        self.str(&actor.actor_id);
        self.uint(actor.generation);
        self.optional(actor.key.as_deref(), Writer::str);
    }

    /// `group`, `code`, `message`, `metadata` (shared by `Error` and `HttpResponseError`).
    fn error_head(&mut self, error: &WireError) {
        self.str(&error.group);
        self.str(&error.code);
        self.str(&error.message);
        self.optional(error.metadata.as_ref(), Writer::value);
    }
}

fn bad_tag(union: &str, tag: u8) -> ProtocolError {
    malformed(format!("unknown {} tag {tag}", clip(union)))
}

/// Reads a `ToServer` frame.
pub(crate) fn decode_to_server(bytes: &[u8]) -> Result<ToServer, ProtocolError> {
    let (mut r, _) = Reader::framed(bytes, OLDEST_VERSION)?;
    let message = match r.u8("the message tag")? {
        0 => ToServer::ActionRequest {
            id: r.uint("`id`")?,
            name: r.str("`name`")?,
            args: r.values("`args`")?,
        },
        1 => ToServer::SubscriptionRequest {
            event_name: r.str("`eventName`")?,
            subscribe: r.bool("`subscribe`")?,
        },
        tag => return Err(bad_tag("ToServer", tag)),
    };
    r.end()?;
    Ok(message)
}

/// Writes a `ToServer` frame (our client).
pub(crate) fn encode_to_server(message: &ToServer) -> Vec<u8> {
    let mut w = Writer::new();
    match message {
        ToServer::ActionRequest { id, name, args } => {
            w.0.push(0);
            w.uint(*id);
            w.str(name);
            w.values(args);
        }
        ToServer::SubscriptionRequest {
            event_name,
            subscribe,
        } => {
            w.0.push(1);
            w.str(event_name);
            w.bool(*subscribe);
        }
    }
    w.0
}

/// Writes a `ToClient` frame.
pub(crate) fn encode_to_client(message: &ToClient) -> Vec<u8> {
    let mut w = Writer::new();
    match message {
        ToClient::Init {
            actor_id,
            connection_id,
        } => {
            w.0.push(0);
            w.str(actor_id);
            w.str(connection_id);
        }
        ToClient::Error(error) => {
            w.0.push(1);
            w.error_head(error);
            w.optional(error.action_id, Writer::uint);
            w.optional(error.actor.as_ref(), Writer::actor);
        }
        ToClient::ActionResponse { id, output } => {
            w.0.push(2);
            w.uint(*id);
            w.value(output);
        }
        ToClient::Event { name, args } => {
            w.0.push(3);
            w.str(name);
            w.values(args);
        }
    }
    w.0
}

/// Reads a `ToClient` frame (our client): v1's `Init` carries a connection token we skip;
/// `Error` has no `actor` before v4.
pub(crate) fn decode_to_client(bytes: &[u8]) -> Result<ToClient, ProtocolError> {
    let (mut r, version) = Reader::framed_from_server(bytes, OLDEST_VERSION)?;
    let message = match r.u8("the message tag")? {
        0 => {
            let init = ToClient::Init {
                actor_id: r.str("`actorId`")?,
                connection_id: r.str("`connectionId`")?,
            };
            if version == 1 {
                r.str("`connectionToken`")?;
            }
            init
        }
        1 => ToClient::Error(WireError {
            group: r.str("`group`")?,
            code: r.str("`code`")?,
            message: r.str("`message`")?,
            metadata: r.optional("`metadata`", |r| r.value("`metadata`"))?,
            action_id: r.optional("`actionId`", |r| r.uint("`actionId`"))?,
            actor: if version >= 4 {
                r.optional("`actor`", Reader::actor)?
            } else {
                None
            },
        }),
        2 => ToClient::ActionResponse {
            id: r.uint("`id`")?,
            output: r.value("`output`")?,
        },
        3 => ToClient::Event {
            name: r.str("`name`")?,
            args: r.values("`args`")?,
        },
        tag => return Err(bad_tag("ToClient", tag)),
    };
    r.end()?;
    Ok(message)
}

/// Reads an `HttpActionRequest` body: the positional args.
pub(crate) fn decode_action_request(bytes: &[u8]) -> Result<Vec<Value>, ProtocolError> {
    let (mut r, _) = Reader::framed(bytes, OLDEST_VERSION)?;
    let args = r.values("`args`")?;
    r.end()?;
    Ok(args)
}

/// Writes an `HttpActionRequest` body (our client).
pub(crate) fn encode_action_request(args: &[Value]) -> Vec<u8> {
    let mut w = Writer::new();
    w.values(args);
    w.0
}

/// Writes an `HttpActionResponse` body.
pub(crate) fn encode_action_response(output: &Value) -> Vec<u8> {
    let mut w = Writer::new();
    w.value(output);
    w.0
}

/// Reads an `HttpActionResponse` body (our client).
pub(crate) fn decode_action_response(bytes: &[u8]) -> Result<Value, ProtocolError> {
    let (mut r, _) = Reader::framed_from_server(bytes, OLDEST_VERSION)?;
    let output = r.value("`output`")?;
    r.end()?;
    Ok(output)
}

/// Writes an `HttpResponseError` body.
pub(crate) fn encode_error_body(error: &WireError) -> Vec<u8> {
    let mut w = Writer::new();
    w.error_head(error);
    w.optional(error.actor.as_ref(), Writer::actor);
    w.0
}

/// Reads an `HttpResponseError` body (our client); no `actor` before v4.
pub(crate) fn decode_error_body(bytes: &[u8]) -> Result<WireError, ProtocolError> {
    let (mut r, version) = Reader::framed_from_server(bytes, OLDEST_VERSION)?;
    let error = WireError {
        group: r.str("`group`")?,
        code: r.str("`code`")?,
        message: r.str("`message`")?,
        metadata: r.optional("`metadata`", |r| r.value("`metadata`"))?,
        action_id: None,
        actor: if version >= 4 {
            r.optional("`actor`", Reader::actor)?
        } else {
            None
        },
    };
    r.end()?;
    Ok(error)
}

/// An `HttpQueueSendRequest`: the body, the queue name it may repeat, whether to wait and
/// for how long (ms).
pub(crate) struct QueueSend {
    pub(crate) body: Value,
    pub(crate) name: Option<String>,
    pub(crate) wait: Option<bool>,
    pub(crate) timeout_ms: Option<u64>,
}

/// Reads an `HttpQueueSendRequest` body (v3 on).
pub(crate) fn decode_queue_send_request(bytes: &[u8]) -> Result<QueueSend, ProtocolError> {
    let (mut r, _) = Reader::framed(bytes, QUEUE_VERSION)?;
    let send = QueueSend {
        body: r.value("`body`")?,
        name: r.optional("`name`", |r| r.str("`name`"))?,
        wait: r.optional("`wait`", |r| r.bool("`wait`"))?,
        timeout_ms: r.optional("`timeout`", |r| r.u64("`timeout`"))?,
    };
    r.end()?;
    Ok(send)
}

/// Writes an `HttpQueueSendRequest` body (our client).
pub(crate) fn encode_queue_send_request(send: &QueueSend) -> Vec<u8> {
    let mut w = Writer::new();
    w.value(&send.body);
    w.optional(send.name.as_deref(), Writer::str);
    w.optional(send.wait, Writer::bool);
    w.optional(send.timeout_ms, Writer::u64);
    w.0
}

/// Writes an `HttpQueueSendResponse` body.
pub(crate) fn encode_queue_send_response(status: &str, response: Option<&Value>) -> Vec<u8> {
    let mut w = Writer::new();
    w.str(status);
    w.optional(response, Writer::value);
    w.0
}

/// Reads an `HttpQueueSendResponse` body (our client).
pub(crate) fn decode_queue_send_response(
    bytes: &[u8],
) -> Result<(String, Option<Value>), ProtocolError> {
    let (mut r, _) = Reader::framed_from_server(bytes, QUEUE_VERSION)?;
    let status = r.str("`status`")?;
    let response = r.optional("`response`", |r| r.value("`response`"))?;
    r.end()?;
    Ok((status, response))
}
