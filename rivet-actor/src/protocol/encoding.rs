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
    /// BARE records in vbare frames, the npm client's default (see `protocol/bare.rs`);
    /// WebSocket binary frames.
    Bare,
}

impl Encoding {
    /// The encoding called `name` (`json`, `cbor`, `bare`; ASCII case and surrounding blanks
    /// ignored); any other name gives [`ProtocolError::UnknownEncoding`].
    ///
    /// ```
    /// use rivet_actor::protocol::Encoding;
    /// assert_eq!(Encoding::from_name("bare").unwrap(), Encoding::Bare);
    /// assert!(Encoding::from_name("msgpack").is_err());
    /// ```
    pub fn from_name(name: &str) -> Result<Encoding, ProtocolError> {
        let trimmed = name.trim();
        if trimmed.eq_ignore_ascii_case("json") {
            Ok(Encoding::Json)
        } else if trimmed.eq_ignore_ascii_case("cbor") {
            Ok(Encoding::Cbor)
        } else if trimmed.eq_ignore_ascii_case("bare") {
            Ok(Encoding::Bare)
        } else {
            Err(ProtocolError::UnknownEncoding(super::error::clip(trimmed)))
        }
    }

    /// The name the client uses for this encoding: `json`, `cbor` or `bare`.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Json => "json",
            Encoding::Cbor => "cbor",
            Encoding::Bare => "bare",
        }
    }

    /// The HTTP `content-type` of a body in this encoding, as the npm client sets it:
    /// `application/json` or `application/octet-stream`.
    pub fn content_type(self) -> &'static str {
        match self {
            Encoding::Json => "application/json",
            Encoding::Cbor | Encoding::Bare => "application/octet-stream",
        }
    }

    /// Whether messages in this encoding travel as binary WebSocket frames (`true` for CBOR
    /// and BARE; JSON travels as text frames).
    pub fn is_binary(self) -> bool {
        !matches!(self, Encoding::Json)
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
