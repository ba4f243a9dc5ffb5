//! The actor key as a single string, the form of `key` in `/actors` bodies, queries
//! (`GET /actors?name=…&key=…`) and answers (the npm client's `serializeActorKey`).
//!
//! Parts are joined by `/`; inside a part `\` is written `\\` and `/` is written `\/`; an empty
//! part is written `\0`; the empty key is `/` alone.

use super::ProtocolError;

/// The string form of `key`.
pub fn encode(key: &[String]) -> String {
    if key.is_empty() {
        return "/".to_owned();
    }
    let parts: Vec<String> = key
        .iter()
        .map(|part| {
            if part.is_empty() {
                "\\0".to_owned()
            } else {
                part.replace('\\', "\\\\").replace('/', "\\/")
            }
        })
        .collect();
    parts.join("/")
}

/// The key written as `text`.
///
/// Reads what the npm client's `deserializeActorKey` reads (`/` and the empty string are the
/// empty key; `\x` is `x` for any other `x`; an unmarked empty part is empty), except two
/// inputs the client never writes and that reader resolves arbitrarily, which are errors here:
/// `\0` sharing its part with other characters, and a trailing lone `\`.
pub fn decode(text: &str) -> Result<Vec<String>, ProtocolError> {
    if text.is_empty() || text == "/" {
        return Ok(Vec::new());
    }
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut empty_marker = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                None => {
                    return Err(ProtocolError::InvalidKey(
                        "the key ends in an unfinished `\\` escape".to_owned(),
                    ));
                }
                Some('0') => {
                    if !current.is_empty() || empty_marker {
                        return Err(stray_marker());
                    }
                    empty_marker = true;
                }
                Some(escaped) => {
                    if empty_marker {
                        return Err(stray_marker());
                    }
                    current.push(escaped);
                }
            },
            '/' => {
                parts.push(std::mem::take(&mut current));
                empty_marker = false;
            }
            other => {
                if empty_marker {
                    return Err(stray_marker());
                }
                current.push(other);
            }
        }
    }
    parts.push(current);
    Ok(parts)
}

fn stray_marker() -> ProtocolError {
    ProtocolError::InvalidKey("`\\0` (an empty part) must be the whole part".to_owned())
}
