//! The error type of every decoder in this module.

/// Why bytes received from a peer could not be understood.
///
/// Every message is written to be shown to the client as is: it names what was
/// expected and never carries internal detail. Text copied from the input (a tag,
/// an encoding name) is clipped to a few dozen characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// The body is not valid JSON (syntax error, bad UTF-8, nesting too deep).
    #[error("malformed JSON: {0}")]
    MalformedJson(String),
    /// The body is not one well-formed CBOR item.
    #[error("malformed CBOR: {0}")]
    MalformedCbor(String),
    /// The body is not a well-formed BARE frame of the expected message.
    #[error("malformed BARE: {0}")]
    MalformedBare(String),
    /// The body decoded, but is not the message that was expected here.
    #[error("invalid message: expected {expected}")]
    WrongShape {
        /// What was expected, e.g. "`args` to be an array".
        expected: String,
    },
    /// An encoding name that RivetKit does not define.
    #[error("unknown encoding `{0}`: expected `json`, `cbor` or `bare`")]
    UnknownEncoding(String),
    /// A `["$Tag", value]` pair whose tag is unknown or whose value does not fit it.
    #[error("invalid tagged value `{tag}`: {reason}")]
    InvalidTaggedValue {
        /// The tag as received, e.g. `$BigInt`.
        tag: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An actor key that cannot be decoded.
    #[error("invalid actor key: {0}")]
    InvalidKey(String),
    /// A `Sec-WebSocket-Protocol` list that cannot be used to connect.
    #[error("invalid WebSocket subprotocols: {0}")]
    InvalidSubprotocol(String),
    /// Base64 text (query input, actor input) that cannot be decoded.
    #[error("invalid base64 in {0}")]
    InvalidBase64(String),
    /// More values (array items and map entries, at any depth) than one message may hold:
    /// each takes tens of bytes once decoded, against one or two on the wire.
    #[error("the message holds more than {0} values")]
    TooManyValues(usize),
}

impl ProtocolError {
    /// A [`ProtocolError::WrongShape`] expecting `expected`.
    pub(crate) fn shape(expected: impl Into<String>) -> Self {
        ProtocolError::WrongShape {
            expected: expected.into(),
        }
    }

    /// A [`ProtocolError::InvalidTaggedValue`] for `tag`.
    pub(crate) fn tagged(tag: &str, reason: impl Into<String>) -> Self {
        ProtocolError::InvalidTaggedValue {
            tag: clip(tag),
            reason: reason.into(),
        }
    }
}

/// `text` cut to at most 64 characters, for echoing client input in an error.
pub(crate) fn clip(text: &str) -> String {
    const MAX: usize = 64;
    match text.char_indices().nth(MAX) {
        None => text.to_owned(),
        Some((end, _)) => format!("{}…", &text[..end]),
    }
}
