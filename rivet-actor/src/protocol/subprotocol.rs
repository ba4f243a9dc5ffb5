//! The `Sec-WebSocket-Protocol` list of a `/connect` request.
//!
//! The npm client offers, in order: `rivet`; `rivet_encoding.<json|cbor|bare>`; for a direct
//! actor target with `skipReadyWait`, `rivet_target.actor` and `rivet_actor.<id>` (and then
//! `rivet_token.<token>`, unencoded, when a token is configured); `rivet_skip_ready_wait`;
//! `rivet_conn_params.<encodeURIComponent(JSON.stringify(params))>` when the params are
//! truthy. The server must answer with a subprotocol it was offered, and `rivet` is the one
//! always offered: the Node client (`ws`) aborts the handshake when the answer has none.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

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
/// Requires `rivet`. The encoding must be `json`, `cbor` or `bare` (unknown names are
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

/// Bytes [`percent_encode`] escapes: all but ASCII letters, digits, `-`, `_`, `.` and `~`.
const ESCAPED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Percent-encodes every byte except ASCII letters, digits, `-`, `_`, `.` and `~`.
///
/// Stricter than JavaScript's `encodeURIComponent`, which leaves `!'()*` alone: `(` and `)` are
/// not allowed in a subprotocol, and the `ws` package rejects them.
pub(crate) fn percent_encode(text: &str) -> String {
    utf8_percent_encode(text, ESCAPED).to_string()
}

/// Undoes percent-encoding as `decodeURIComponent` does; `None` for a bad `%` escape or bytes
/// that are not UTF-8.
pub(crate) fn percent_decode(text: &str) -> Option<String> {
    // The decoder passes a malformed escape through as written; `decodeURIComponent`
    // throws, and so do we.
    let well_formed = text.split('%').skip(1).all(|after| {
        after
            .as_bytes()
            .get(..2)
            .is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit))
    });
    if !well_formed {
        return None;
    }
    percent_decode_str(text)
        .decode_utf8()
        .ok()
        .map(|text| text.into_owned())
}

#[cfg(test)]
mod tests {
    use super::{percent_decode, percent_encode};

    #[test]
    fn decoding_is_strict_about_escapes_and_utf8() {
        assert_eq!(percent_decode("a%20b%C3%A9").as_deref(), Some("a bé"));
        assert_eq!(percent_decode("plain").as_deref(), Some("plain"));
        // Malformed escapes, including one before a multi-byte character.
        for bad in [
            "%", "%4", "%zz", "%+1", "%%41", "%4%41", "%a\u{e9}", "x%\u{e9}",
        ] {
            assert_eq!(percent_decode(bad), None, "{bad:?}");
        }
        // Well-formed escapes of bytes that are not UTF-8.
        assert_eq!(percent_decode("%C3"), None);
        assert_eq!(percent_decode("%FF%FE"), None);
    }

    #[test]
    fn encoding_leaves_only_unreserved_ascii() {
        assert_eq!(percent_encode("aZ9-_.~"), "aZ9-_.~");
        assert_eq!(percent_encode("(x) !*'é"), "%28x%29%20%21%2A%27%C3%A9");
        let text = r#"{"s":"(x) é,/%"}"#;
        assert_eq!(percent_decode(&percent_encode(text)).as_deref(), Some(text));
    }
}
