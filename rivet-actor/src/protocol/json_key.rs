//! A collision-free key form for our own Rust client: the key as a JSON array of strings
//! (`["a,b","c"]`), sent URL-encoded in the `rvt-key-json` query parameter next to `rvt-key`.
//! A server that finds `rvt-key-json` uses it instead of `rvt-key`.

use super::ProtocolError;
use super::error::clip;

/// The JSON array text of `key`.
pub fn encode(key: &[String]) -> String {
    serde_json::to_string(key).unwrap_or_else(|_| "[]".to_owned())
}

/// The key written as the JSON array `text`; anything but an array of strings is an error.
pub fn decode(text: &str) -> Result<Vec<String>, ProtocolError> {
    serde_json::from_str::<Vec<String>>(text).map_err(|_| {
        ProtocolError::InvalidKey(format!(
            "`rvt-key-json` must be a JSON array of strings, got `{}`",
            clip(text)
        ))
    })
}
