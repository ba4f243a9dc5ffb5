//! The actor key as the npm client puts it in the `rvt-key` query parameter.
//!
//! The client joins the key's parts with `,` **without escaping** and leaves the parameter out
//! for the empty key. So `["a,b"]` and `["a", "b"]` are sent identically and cannot be told
//! apart: a flaw of the npm client that this form inherits. A part containing `,` therefore
//! never round-trips. Our own client sends [`super::json_key`] in `rvt-key-json` as well, which
//! the server prefers.
//!
//! The value handled here is the parameter after URL decoding (the client writes it with
//! `URLSearchParams`, so a space arrives as `+`).

/// The `rvt-key` value for `key`, or `None` for the empty key (the parameter is left out).
pub fn encode(key: &[String]) -> Option<String> {
    if key.is_empty() {
        None
    } else {
        Some(key.join(","))
    }
}

/// The key sent as `rvt-key=<param>`: the parameter split at every `,`.
///
/// A present but empty parameter is the key `[""]` (what the client sends for it).
pub fn decode(param: &str) -> Vec<String> {
    param.split(',').map(str::to_owned).collect()
}

/// The key of a request whose `rvt-key` parameter is `param`: absent means the empty key.
pub fn decode_param(param: Option<&str>) -> Vec<String> {
    param.map(decode).unwrap_or_default()
}
