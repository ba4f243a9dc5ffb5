//! The encodings a RivetKit client can ask for.

use std::fmt;
use std::str::FromStr;

use super::ProtocolError;

/// How messages and bodies are serialized, chosen by the client (`x-rivet-encoding` header on
/// HTTP, `rivet_encoding.<name>` subprotocol on WebSocket).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// Tagged JSON (see [`super::json`]); WebSocket text frames.
    Json,
    /// CBOR with the same structure (see [`super::cbor`]); WebSocket binary frames.
    Cbor,
}

impl Encoding {
    /// The encoding called `name` (`json`, `cbor`; ASCII case and surrounding blanks ignored).
    ///
    /// `bare`, RivetKit's default, is recognised but not supported and gives
    /// [`ProtocolError::UnsupportedEncoding`]; any other name gives
    /// [`ProtocolError::UnknownEncoding`].
    pub fn from_name(name: &str) -> Result<Encoding, ProtocolError> {
        let trimmed = name.trim();
        if trimmed.eq_ignore_ascii_case("json") {
            Ok(Encoding::Json)
        } else if trimmed.eq_ignore_ascii_case("cbor") {
            Ok(Encoding::Cbor)
        } else if trimmed.eq_ignore_ascii_case("bare") {
            Err(ProtocolError::UnsupportedEncoding("bare".to_owned()))
        } else {
            Err(ProtocolError::UnknownEncoding(super::error::clip(trimmed)))
        }
    }

    /// The name the client uses for this encoding: `json` or `cbor`.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Json => "json",
            Encoding::Cbor => "cbor",
        }
    }

    /// The HTTP `content-type` of a body in this encoding, as the npm client sets it:
    /// `application/json` or `application/octet-stream`.
    pub fn content_type(self) -> &'static str {
        match self {
            Encoding::Json => "application/json",
            Encoding::Cbor => "application/octet-stream",
        }
    }

    /// Whether messages in this encoding travel as binary WebSocket frames (`true` for CBOR;
    /// JSON travels as text frames).
    pub fn is_binary(self) -> bool {
        matches!(self, Encoding::Cbor)
    }
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Encoding {
    type Err = ProtocolError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Encoding::from_name(name)
    }
}
