//! The `Sec-WebSocket-Protocol` list of a `/connect` request.
//!
//! The npm client offers, in order: `rivet`; `rivet_encoding.<json|cbor|bare>`; for a direct
//! actor target with `skipReadyWait`, `rivet_target.actor` and `rivet_actor.<id>` (and then
//! `rivet_token.<token>`, unencoded, when a token is configured); `rivet_skip_ready_wait`;
//! `rivet_conn_params.<encodeURIComponent(JSON.stringify(params))>` when the params are
//! truthy. The server must answer with a subprotocol it was offered, and `rivet` is the one
//! always offered: the Node client (`ws`) aborts the handshake when the answer has none.

use super::error::clip;
use super::names::{
    WS_PROTOCOL_ACTOR, WS_PROTOCOL_CONN_PARAMS, WS_PROTOCOL_ENCODING, WS_PROTOCOL_SKIP_READY_WAIT,
    WS_PROTOCOL_STANDARD, WS_PROTOCOL_TARGET, WS_PROTOCOL_TOKEN,
};
use super::{Encoding, ProtocolError};

/// What a connecting client asked for in its subprotocol list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectProtocol {
    /// The message encoding (`json` when the list names none).
    pub encoding: Encoding,
    /// The connection parameters as raw JSON text (already percent-decoded), if sent.
    pub conn_params: Option<String>,
    /// The token from `rivet_token.<token>`, if sent.
    pub token: Option<String>,
    /// `rivet_target.<kind>` (the client sends `actor`), if sent.
    pub target: Option<String>,
    /// The actor id from `rivet_actor.<id>`, if sent.
    pub actor_id: Option<String>,
    /// Whether `rivet_skip_ready_wait` was sent.
    pub skip_ready_wait: bool,
}

/// Reads a `Sec-WebSocket-Protocol` value (comma-separated; join repeated headers with `,`).
///
/// Requires `rivet`. The encoding must be `json` or `cbor` (`bare` and unknown names are
/// errors, as is a repeated entry); conn params must be valid percent-encoding of UTF-8.
/// Unknown entries are ignored.
pub fn parse_subprotocols(header: &str) -> Result<ConnectProtocol, ProtocolError> {
    let mut has_standard = false;
    let mut encoding = None;
    let mut protocol = ConnectProtocol {
        encoding: Encoding::Json,
        conn_params: None,
        token: None,
        target: None,
        actor_id: None,
        skip_ready_wait: false,
    };
    for entry in header.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        if entry == WS_PROTOCOL_STANDARD {
            has_standard = true;
        } else if entry == WS_PROTOCOL_SKIP_READY_WAIT {
            protocol.skip_ready_wait = true;
        } else if let Some(name) = entry.strip_prefix(WS_PROTOCOL_ENCODING) {
            set_once(&mut encoding, Encoding::from_name(name)?, "rivet_encoding")?;
        } else if let Some(raw) = entry.strip_prefix(WS_PROTOCOL_CONN_PARAMS) {
            let params = percent_decode(raw).ok_or_else(|| {
                ProtocolError::InvalidSubprotocol(
                    "`rivet_conn_params` is not valid percent-encoded UTF-8".to_owned(),
                )
            })?;
            set_once(&mut protocol.conn_params, params, "rivet_conn_params")?;
        } else if let Some(token) = entry.strip_prefix(WS_PROTOCOL_TOKEN) {
            set_once(&mut protocol.token, token.to_owned(), "rivet_token")?;
        } else if let Some(target) = entry.strip_prefix(WS_PROTOCOL_TARGET) {
            set_once(&mut protocol.target, target.to_owned(), "rivet_target")?;
        } else if let Some(actor_id) = entry.strip_prefix(WS_PROTOCOL_ACTOR) {
            set_once(&mut protocol.actor_id, actor_id.to_owned(), "rivet_actor")?;
        }
    }
    if !has_standard {
        return Err(ProtocolError::InvalidSubprotocol(format!(
            "the `{WS_PROTOCOL_STANDARD}` subprotocol is required"
        )));
    }
    protocol.encoding = encoding.unwrap_or(Encoding::Json);
    Ok(protocol)
}

fn set_once<T>(slot: &mut Option<T>, value: T, what: &str) -> Result<(), ProtocolError> {
    if slot.is_some() {
        return Err(ProtocolError::InvalidSubprotocol(format!(
            "`{}` is given more than once",
            clip(what)
        )));
    }
    *slot = Some(value);
    Ok(())
}

/// The subprotocol list our client offers, as one header value: `rivet`, the encoding, the
/// token (unencoded, as the npm client sends it) and the conn params (raw JSON text, percent-
/// encoded so that only RFC 6455 token characters remain).
pub fn build_subprotocols(
    encoding: Encoding,
    conn_params: Option<&str>,
    token: Option<&str>,
) -> String {
    let mut entries = vec![
        WS_PROTOCOL_STANDARD.to_owned(),
        format!("{WS_PROTOCOL_ENCODING}{}", encoding.name()),
    ];
    if let Some(token) = token {
        entries.push(format!("{WS_PROTOCOL_TOKEN}{token}"));
    }
    if let Some(params) = conn_params {
        entries.push(format!(
            "{WS_PROTOCOL_CONN_PARAMS}{}",
            percent_encode(params)
        ));
    }
    entries.join(", ")
}

/// Percent-encodes every byte except ASCII letters, digits, `-`, `_`, `.` and `~`.
///
/// Stricter than JavaScript's `encodeURIComponent`, which leaves `!'()*` alone: `(` and `)` are
/// not allowed in a subprotocol, and the `ws` package rejects them.
pub(crate) fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Undoes percent-encoding as `decodeURIComponent` does; `None` for a bad `%` escape or bytes
/// that are not UTF-8.
pub(crate) fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            if !hex.iter().all(u8::is_ascii_hexdigit) {
                return None;
            }
            out.push(u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}
