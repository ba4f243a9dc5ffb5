//! WebSocket messages of client protocol v4 (`/connect`), in JSON and CBOR (BARE in
//! `bare.rs`).
//!
//! Every message is `{"body": {"tag": <kind>, "val": {…}}}`. Action ids are `bigint`s on the
//! wire: `["$BigInt","N"]` in JSON, the 8-byte unsigned integer form in CBOR.

use std::fmt;

use super::bare;
use super::wire::{self, Node, Object};
use super::{Encoding, ProtocolError, Value};

/// A message from the client to the server.
#[derive(Debug, Clone, PartialEq)]
pub enum ToServer {
    /// Call the action `name`; the answer carries the same `id`.
    ActionRequest {
        /// Chosen by the client, unique among its pending actions (counts up from 0).
        id: u64,
        /// The action's name.
        name: String,
        /// Positional arguments.
        args: Vec<Value>,
    },
    /// Start (`subscribe: true`) or stop receiving the event `event_name`.
    SubscriptionRequest {
        /// The event's name.
        event_name: String,
        /// Whether to subscribe or unsubscribe.
        subscribe: bool,
    },
}

/// A message from the server to the client.
#[derive(Debug, Clone, PartialEq)]
pub enum ToClient {
    /// First message on every connection; the client sends nothing before it arrives.
    Init {
        /// The actor this connection reached.
        actor_id: String,
        /// This connection's id.
        connection_id: String,
    },
    /// An action failed (`action_id` set) or the connection failed (`action_id: None`).
    Error(WireError),
    /// The result of the action `id`.
    ActionResponse {
        /// The id of the request.
        id: u64,
        /// What the action returned.
        output: Value,
    },
    /// An event the client subscribed to; `args` are spread into its listeners.
    Event {
        /// The event's name.
        name: String,
        /// The event's arguments.
        args: Vec<Value>,
    },
}

/// Which actor an error came from (`actor` in error frames and bodies; optional).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActorSpecifier {
    /// The actor's id.
    pub actor_id: String,
    /// The actor's generation (the client turns it into a number).
    pub generation: u64,
    /// The actor's key in the `/actors` form (see [`super::path_key`]), if any.
    pub key: Option<String>,
}

/// An error as the client receives it: in `Error` frames and in HTTP error bodies.
#[derive(Debug, Clone, PartialEq)]
pub struct WireError {
    /// Error group, e.g. `user`, `actor`, `rivetkit`.
    pub group: String,
    /// Error code within the group, e.g. `not_found`.
    pub code: String,
    /// Human-readable message.
    pub message: String,
    /// Structured detail; left out of the encoding when `None`.
    pub metadata: Option<Value>,
    /// The failed action's id; `None` for a connection-level error. HTTP error bodies have no
    /// such field: it is not written there and always reads back as `None`.
    pub action_id: Option<u64>,
    /// The actor that raised the error; left out when `None`.
    pub actor: Option<ActorSpecifier>,
}

impl WireError {
    /// An error with no metadata, action id or actor.
    pub fn new(
        group: impl Into<String>,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        WireError {
            group: group.into(),
            code: code.into(),
            message: message.into(),
            metadata: None,
            action_id: None,
            actor: None,
        }
    }

    /// This error with `metadata`.
    pub fn with_metadata(mut self, metadata: Value) -> Self {
        self.metadata = Some(metadata);
        self
    }

    /// This error for the action `id`.
    pub fn with_action_id(mut self, id: u64) -> Self {
        self.action_id = Some(id);
        self
    }

    /// The WebSocket close reason the client parses for this error: `group.code`, cut to the
    /// 123 bytes a close frame allows. The client splits it at `#` (a ray id may follow) and at
    /// `.`, so neither should occur in the group or code.
    pub fn close_reason(&self) -> String {
        let mut reason = format!("{}.{}", self.group, self.code);
        if reason.len() > 123 {
            let mut end = 123;
            while !reason.is_char_boundary(end) {
                end -= 1;
            }
            reason.truncate(end);
        }
        reason
    }

    pub(crate) fn node(&self, with_action_id: bool) -> Node<'_> {
        let mut fields = vec![
            ("group", Node::Text(&self.group)),
            ("code", Node::Text(&self.code)),
            ("message", Node::Text(&self.message)),
        ];
        if let Some(metadata) = &self.metadata {
            fields.push(("metadata", Node::Value(metadata)));
        }
        if with_action_id {
            // Required by the client's schema even when null.
            fields.push(("actionId", self.action_id.map_or(Node::Null, Node::Id)));
        }
        if let Some(actor) = &self.actor {
            let mut actor_fields = vec![
                ("actorId", Node::Text(&actor.actor_id)),
                ("generation", Node::Int(actor.generation)),
            ];
            if let Some(key) = &actor.key {
                actor_fields.push(("key", Node::Text(key)));
            }
            fields.push(("actor", Node::Object(actor_fields)));
        }
        Node::Object(fields)
    }

    pub(crate) fn read(mut val: Object, with_action_id: bool) -> Result<Self, ProtocolError> {
        let actor = match val.take_present("actor") {
            None => None,
            Some(actor) => {
                let mut actor = Object::new(actor, "`actor`")?;
                let generation = match actor.take("generation") {
                    Some(Value::Integer(n)) => u64::try_from(n).ok(),
                    Some(Value::Float(f)) if f.fract() == 0.0 && f >= 0.0 => Some(f as u64),
                    _ => None,
                }
                .ok_or_else(|| {
                    ProtocolError::shape("`generation` in `actor` to be a non-negative integer")
                })?;
                Some(ActorSpecifier {
                    actor_id: actor.text("actorId")?,
                    generation,
                    key: actor.opt_text("key")?,
                })
            }
        };
        Ok(WireError {
            group: val.text("group")?,
            code: val.text("code")?,
            message: val.text("message")?,
            metadata: val.take("metadata"),
            action_id: if with_action_id {
                val.opt_id("actionId")?
            } else {
                None
            },
            actor,
        })
    }
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}: {}", self.group, self.code, self.message)
    }
}

impl std::error::Error for WireError {}

/// An encoded WebSocket message: text for JSON, binary for CBOR.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A text frame (JSON).
    Text(String),
    /// A binary frame (CBOR).
    Binary(Vec<u8>),
}

impl Frame {
    fn new(encoding: Encoding, bytes: Vec<u8>) -> Frame {
        match encoding {
            // The JSON writer only produces UTF-8.
            Encoding::Json => Frame::Text(String::from_utf8(bytes).unwrap_or_default()),
            Encoding::Cbor | Encoding::Bare => Frame::Binary(bytes),
        }
    }
}

const TO_SERVER_TAGS: &[&str] = &["ActionRequest", "SubscriptionRequest"];
const TO_CLIENT_TAGS: &[&str] = &["Init", "Error", "ActionResponse", "Event"];

fn envelope<'a>(tag: &'static str, val: Node<'a>) -> Node<'a> {
    Node::Object(vec![(
        "body",
        Node::Object(vec![("tag", Node::Text(tag)), ("val", val)]),
    )])
}

/// Decodes a message the client sent (the payload of a text or binary frame).
pub fn decode_to_server(encoding: Encoding, bytes: &[u8]) -> Result<ToServer, ProtocolError> {
    if encoding == Encoding::Bare {
        return bare::decode_to_server(bytes);
    }
    let value = wire::decode(encoding, bytes)?;
    let (tag, mut val) = wire::tagged_body(value, "the message", TO_SERVER_TAGS)?;
    match tag.as_str() {
        "ActionRequest" => Ok(ToServer::ActionRequest {
            id: val.id("id")?,
            name: val.text("name")?,
            args: val.array("args")?,
        }),
        _ => Ok(ToServer::SubscriptionRequest {
            event_name: val.text("eventName")?,
            subscribe: val.bool("subscribe")?,
        }),
    }
}

/// Encodes a message for the client.
pub fn encode_to_client(encoding: Encoding, message: &ToClient) -> Vec<u8> {
    if encoding == Encoding::Bare {
        return bare::encode_to_client(message);
    }
    let node = match message {
        ToClient::Init {
            actor_id,
            connection_id,
        } => envelope(
            "Init",
            Node::Object(vec![
                ("actorId", Node::Text(actor_id)),
                ("connectionId", Node::Text(connection_id)),
            ]),
        ),
        ToClient::Error(error) => envelope("Error", error.node(true)),
        ToClient::ActionResponse { id, output } => envelope(
            "ActionResponse",
            Node::Object(vec![("id", Node::Id(*id)), ("output", Node::Value(output))]),
        ),
        ToClient::Event { name, args } => envelope(
            "Event",
            Node::Object(vec![
                ("name", Node::Text(name)),
                ("args", Node::Values(args)),
            ]),
        ),
    };
    wire::encode(encoding, &node)
}

/// [`encode_to_client`] as the WebSocket frame to send.
pub fn encode_to_client_frame(encoding: Encoding, message: &ToClient) -> Frame {
    Frame::new(encoding, encode_to_client(encoding, message))
}

/// Encodes a message for the server (what the npm client sends; for our Rust client).
pub fn encode_to_server(encoding: Encoding, message: &ToServer) -> Vec<u8> {
    if encoding == Encoding::Bare {
        return bare::encode_to_server(message);
    }
    let node = match message {
        ToServer::ActionRequest { id, name, args } => envelope(
            "ActionRequest",
            Node::Object(vec![
                ("id", Node::Id(*id)),
                ("name", Node::Text(name)),
                ("args", Node::Values(args)),
            ]),
        ),
        ToServer::SubscriptionRequest {
            event_name,
            subscribe,
        } => envelope(
            "SubscriptionRequest",
            Node::Object(vec![
                ("eventName", Node::Text(event_name)),
                ("subscribe", Node::Bool(*subscribe)),
            ]),
        ),
    };
    wire::encode(encoding, &node)
}

/// [`encode_to_server`] as the WebSocket frame to send.
pub fn encode_to_server_frame(encoding: Encoding, message: &ToServer) -> Frame {
    Frame::new(encoding, encode_to_server(encoding, message))
}

/// Decodes a message the server sent (for our Rust client).
///
/// `Event` args that are not an array are an error (the npm client would fail to spread them).
pub fn decode_to_client(encoding: Encoding, bytes: &[u8]) -> Result<ToClient, ProtocolError> {
    if encoding == Encoding::Bare {
        return bare::decode_to_client(bytes);
    }
    let value = wire::decode_from_server(encoding, bytes)?;
    let (tag, mut val) = wire::tagged_body(value, "the message", TO_CLIENT_TAGS)?;
    match tag.as_str() {
        "Init" => Ok(ToClient::Init {
            actor_id: val.text("actorId")?,
            connection_id: val.text("connectionId")?,
        }),
        "Error" => Ok(ToClient::Error(WireError::read(val, true)?)),
        "ActionResponse" => Ok(ToClient::ActionResponse {
            id: val.id("id")?,
            output: val.take("output").unwrap_or(Value::Null),
        }),
        _ => Ok(ToClient::Event {
            name: val.text("name")?,
            args: val.array("args")?,
        }),
    }
}
