//! HTTP bodies of client protocol v4: actions (`POST …/action/{name}`), queue sends
//! (`POST …/queue/{name}`) and error responses, in JSON and CBOR (BARE in `bare.rs`).

use super::bare;
use super::message::WireError;
use super::wire::{self, Node, Object};
use super::{Encoding, ProtocolError, Value};

/// Decodes an action request body `{"args": [...]}` into the positional arguments.
pub fn decode_action_request(
    encoding: Encoding,
    bytes: &[u8],
) -> Result<Vec<Value>, ProtocolError> {
    if encoding == Encoding::Bare {
        return bare::decode_action_request(bytes);
    }
    let value = wire::decode(encoding, bytes)?;
    Object::new(value, "the action request")?.array("args")
}

/// Encodes an action request body `{"args": [...]}` (for our Rust client).
pub fn encode_action_request(encoding: Encoding, args: &[Value]) -> Vec<u8> {
    if encoding == Encoding::Bare {
        return bare::encode_action_request(args);
    }
    wire::encode(encoding, &Node::Object(vec![("args", Node::Values(args))]))
}

/// Encodes a successful action response body `{"output": …}`.
pub fn encode_action_response(encoding: Encoding, output: &Value) -> Vec<u8> {
    if encoding == Encoding::Bare {
        return bare::encode_action_response(output);
    }
    wire::encode(
        encoding,
        &Node::Object(vec![("output", Node::Value(output))]),
    )
}

/// Decodes an action response body (for our Rust client); a missing `output` reads as null.
pub fn decode_action_response(encoding: Encoding, bytes: &[u8]) -> Result<Value, ProtocolError> {
    if encoding == Encoding::Bare {
        return bare::decode_action_response(bytes);
    }
    let value = wire::decode_from_server(encoding, bytes)?;
    let mut body = Object::new(value, "the action response")?;
    Ok(body.take("output").unwrap_or(Value::Null))
}

/// Encodes an error response body `{group, code, message, metadata?, actor?}`.
///
/// `error.action_id` is not part of HTTP error bodies and is ignored. Any non-2xx status makes
/// the client parse the body: as JSON when the response `content-type` contains
/// `application/json`, otherwise in the request's encoding.
pub fn encode_error_body(encoding: Encoding, error: &WireError) -> Vec<u8> {
    if encoding == Encoding::Bare {
        return bare::encode_error_body(error);
    }
    wire::encode(encoding, &error.node(false))
}

/// Decodes an error response body (for our Rust client); `action_id` is always `None`.
pub fn decode_error_body(encoding: Encoding, bytes: &[u8]) -> Result<WireError, ProtocolError> {
    if encoding == Encoding::Bare {
        return bare::decode_error_body(bytes);
    }
    let value = wire::decode_from_server(encoding, bytes)?;
    WireError::read(Object::new(value, "the error body")?, false)
}

/// A queue send body: `{"body": …, "wait": bool, "timeout": ms, "name": "…"}`.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueSendRequest {
    /// The queue name repeated in the body (the npm client sends it; the path has it too).
    pub name: Option<String>,
    /// The message.
    pub body: Value,
    /// Whether the sender waits for the message to be completed.
    pub wait: bool,
    /// How long to wait, in milliseconds (only meaningful with `wait`).
    pub timeout_ms: Option<u64>,
}

/// Decodes a queue send body. `wait` absent or null reads as `false`; `timeout` absent or null
/// (the client's CBOR sends `undefined`) as `None`; a fractional timeout is rounded down.
pub fn decode_queue_send_request(
    encoding: Encoding,
    bytes: &[u8],
) -> Result<QueueSendRequest, ProtocolError> {
    if encoding == Encoding::Bare {
        let send = bare::decode_queue_send_request(bytes)?;
        return Ok(QueueSendRequest {
            name: send.name,
            body: send.body,
            wait: send.wait.unwrap_or(false),
            timeout_ms: send.timeout_ms,
        });
    }
    let value = wire::decode(encoding, bytes)?;
    let mut body = Object::new(value, "the queue send body")?;
    let timeout_ms = match body.take_present("timeout") {
        None => None,
        Some(Value::Integer(n)) => Some(u64::try_from(n).map_err(|_| bad_timeout())?),
        Some(Value::Float(f)) if f.is_finite() && f >= 0.0 => Some(f as u64),
        Some(_) => return Err(bad_timeout()),
    };
    Ok(QueueSendRequest {
        name: body.opt_text("name")?,
        body: body.take("body").unwrap_or(Value::Null),
        wait: body.opt_bool("wait")?.unwrap_or(false),
        timeout_ms,
    })
}

fn bad_timeout() -> ProtocolError {
    ProtocolError::shape(
        "`timeout` in the queue send body to be a non-negative number of milliseconds",
    )
}

/// Encodes a queue send body (for our Rust client); `name` and `timeout` are left out when
/// `None`.
pub fn encode_queue_send_request(encoding: Encoding, request: &QueueSendRequest) -> Vec<u8> {
    if encoding == Encoding::Bare {
        return bare::encode_queue_send_request(&bare::QueueSend {
            body: request.body.clone(),
            name: request.name.clone(),
            wait: Some(request.wait),
            timeout_ms: request.timeout_ms,
        });
    }
    let mut fields = vec![
        ("body", Node::Value(&request.body)),
        ("wait", Node::Bool(request.wait)),
    ];
    if let Some(timeout) = request.timeout_ms {
        fields.push(("timeout", Node::Int(timeout)));
    }
    if let Some(name) = &request.name {
        fields.push(("name", Node::Text(name)));
    }
    wire::encode(encoding, &Node::Object(fields))
}

/// The outcome of a queue send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueSendStatus {
    /// `"completed"`: the message was taken (and, when waited for, completed).
    Completed,
    /// `"timedOut"`: the wait ended before the message was completed.
    TimedOut,
}

impl QueueSendStatus {
    /// The wire name: `completed` or `timedOut`.
    pub fn name(self) -> &'static str {
        match self {
            QueueSendStatus::Completed => "completed",
            QueueSendStatus::TimedOut => "timedOut",
        }
    }

    fn from_name(name: &str) -> Result<Self, ProtocolError> {
        match name {
            "completed" => Ok(QueueSendStatus::Completed),
            "timedOut" => Ok(QueueSendStatus::TimedOut),
            _ => Err(ProtocolError::shape(
                "`status` in the queue send reply to be `completed` or `timedOut`",
            )),
        }
    }
}

/// A queue send reply: `{"status": "completed"|"timedOut", "response"?: …}`.
///
/// The client parses this body even when it did not wait, so a send without `wait` must still
/// be answered with a valid reply (`{"status":"completed"}`).
#[derive(Debug, Clone, PartialEq)]
pub struct QueueSendResponse {
    /// The outcome.
    pub status: QueueSendStatus,
    /// The completion's response; left out when `None`.
    pub response: Option<Value>,
}

/// Encodes a queue send reply.
pub fn encode_queue_send_response(encoding: Encoding, response: &QueueSendResponse) -> Vec<u8> {
    if encoding == Encoding::Bare {
        return bare::encode_queue_send_response(
            response.status.name(),
            response.response.as_ref(),
        );
    }
    let mut fields = vec![("status", Node::Text(response.status.name()))];
    if let Some(value) = &response.response {
        fields.push(("response", Node::Value(value)));
    }
    wire::encode(encoding, &Node::Object(fields))
}

/// Decodes a queue send reply (for our Rust client).
pub fn decode_queue_send_response(
    encoding: Encoding,
    bytes: &[u8],
) -> Result<QueueSendResponse, ProtocolError> {
    if encoding == Encoding::Bare {
        let (status, response) = bare::decode_queue_send_response(bytes)?;
        return Ok(QueueSendResponse {
            status: QueueSendStatus::from_name(&status)?,
            response,
        });
    }
    let value = wire::decode_from_server(encoding, bytes)?;
    let mut body = Object::new(value, "the queue send reply")?;
    Ok(QueueSendResponse {
        status: QueueSendStatus::from_name(&body.text("status")?)?,
        response: body.take("response"),
    })
}
