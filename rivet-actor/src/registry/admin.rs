//! The management API's admin token: listing every actor, destroying one (and, later,
//! metrics) need it. Without one configured those endpoints are refused outright, so a
//! fresh registry exposes nothing an anonymous caller could use to enumerate or wipe actors.

use subtle::ConstantTimeEq;

/// The environment variable the token is read from when the builder sets none.
pub const ADMIN_TOKEN_ENV: &str = "RIVET_ACTOR_ADMIN_TOKEN";

/// A configured admin token.
#[derive(Clone)]
pub(crate) struct AdminToken(String);

impl AdminToken {
    /// The builder's token, else [`ADMIN_TOKEN_ENV`]'s; none when neither is set (or empty).
    pub(crate) fn configured(explicit: Option<String>) -> Option<Self> {
        explicit
            .or_else(|| std::env::var(ADMIN_TOKEN_ENV).ok())
            .filter(|token| !token.is_empty())
            .map(AdminToken)
    }

    /// Whether `presented` is this token, compared in constant time (no timing hints about
    /// how much of a guess was right).
    pub(crate) fn matches(&self, presented: &str) -> bool {
        self.0.as_bytes().ct_eq(presented.as_bytes()).into()
    }
}

impl std::fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AdminToken(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_match_exactly() {
        let token = AdminToken::configured(Some("s3cret".into())).unwrap();
        assert!(token.matches("s3cret"));
        assert!(!token.matches("s3cre"));
        assert!(!token.matches("s3cret!"));
        assert!(!token.matches(""));
    }
}
