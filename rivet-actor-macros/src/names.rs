//! Wire names and generated identifiers.

use proc_macro2::Span;
use syn::Ident;
use syn::ext::IdentExt;

/// RivetKit's wire name for a Rust name: `send_message` -> `sendMessage`,
/// `ChatRoom` -> `chatRoom`.
pub fn lower_camel(name: &str) -> String {
    let upper = upper_camel(name);
    let mut chars = upper.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The variant name for a Rust name: `send_message` -> `SendMessage`.
pub fn upper_camel(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for part in name.split('_').filter(|part| !part.is_empty()) {
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            out.extend(first.to_uppercase());
            out.extend(chars);
        }
    }
    out
}

/// An identifier's text without `r#`.
pub fn plain(ident: &Ident) -> String {
    ident.unraw().to_string()
}

/// `text` as an identifier at `span`. Never panics: text that is no identifier (a name made
/// of underscores and digits, `_1`, has no letters to make a variant of) gives a stand-in,
/// and validation reports the name it came from ([`variant_of`]).
pub fn ident(text: &str, span: Span) -> Ident {
    match syn::parse_str::<Ident>(text) {
        Ok(_) => Ident::new(text, span),
        Err(_) => Ident::new("__RivetUnnamed", span),
    }
}

/// The variant name a Rust name makes (`send_message` -> `SendMessage`), if it makes one:
/// `None` for names like `_1` or `__` (nothing, or a leading digit, is left).
pub fn variant_of(name: &str) -> Option<String> {
    let text = upper_camel(name);
    syn::parse_str::<Ident>(&text).ok().map(|_| text)
}

/// Levenshtein distance, for "did you mean" hints.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cases() {
        assert_eq!(lower_camel("send_message"), "sendMessage");
        assert_eq!(lower_camel("ChatRoom"), "chatRoom");
        assert_eq!(lower_camel("explode"), "explode");
        assert_eq!(upper_camel("get_messages"), "GetMessages");
        assert_eq!(upper_camel("new_message"), "NewMessage");
        assert_eq!(edit_distance("before_conect", "before_connect"), 1);
        assert_eq!(edit_distance("action", "actoin"), 2);
    }
}
