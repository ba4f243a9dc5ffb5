//! Why a token was refused ([`AuthError`]) and why a key could not be loaded ([`KeyError`]).

use crate::UserError;

/// Why [`JwtVerifier::verify`](super::JwtVerifier::verify) refused a token.
///
/// Messages never contain the token or anything taken from it. Converting into a
/// [`UserError`] gives code `invalid_token` (or `auth_unavailable` for
/// [`AuthError::KeysUnavailable`], which is not the token's fault) with metadata
/// `{"reason": ...}` so a client can tell an expired token (refresh it) from a bad one.
///
/// ```
/// use rivet_actor::{UserError, auth::AuthError};
/// let err: UserError = AuthError::Expired.into();
/// assert_eq!(err.code_str(), "invalid_token");
/// assert_eq!(err.message(), "Invalid token: token has expired");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// `exp` is in the past (beyond the leeway).
    #[error("token has expired")]
    Expired,
    /// `nbf` is in the future (beyond the leeway).
    #[error("token is not valid yet")]
    NotYetValid,
    /// The signature does not match the key.
    #[error("token signature is invalid")]
    BadSignature,
    /// `aud` is not one of the accepted audiences.
    #[error("token audience is not accepted")]
    WrongAudience,
    /// `iss` is not one of the accepted issuers.
    #[error("token issuer is not accepted")]
    WrongIssuer,
    /// A claim the verifier requires (`exp`, and `aud` / `iss` when configured) is absent.
    #[error("token is missing the `{0}` claim")]
    MissingClaim(&'static str),
    /// Not a JWT: wrong shape, bad base64 or JSON, claims not of the expected type.
    #[error("token is malformed")]
    Malformed,
    /// The header's `kid` names no key the verifier knows (or there is no `kid`).
    #[error("token key id is unknown")]
    UnknownKeyId,
    /// The header's `alg` is `none`, unknown, or not the one the key is for.
    #[error("token algorithm is not accepted")]
    UnsupportedAlgorithm,
    /// The signing keys could not be fetched (JWKS endpoint down or returning garbage).
    #[error("signing keys are unavailable")]
    KeysUnavailable,
}

impl AuthError {
    /// A short, stable name for the reason: `expired`, `not_yet_valid`, `bad_signature`,
    /// `wrong_audience`, `wrong_issuer`, `missing_claim`, `malformed`, `unknown_key_id`,
    /// `unsupported_algorithm` or `keys_unavailable`.
    ///
    /// ```
    /// use rivet_actor::auth::AuthError;
    /// assert_eq!(AuthError::NotYetValid.reason(), "not_yet_valid");
    /// ```
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Expired => "expired",
            Self::NotYetValid => "not_yet_valid",
            Self::BadSignature => "bad_signature",
            Self::WrongAudience => "wrong_audience",
            Self::WrongIssuer => "wrong_issuer",
            Self::MissingClaim(_) => "missing_claim",
            Self::Malformed => "malformed",
            Self::UnknownKeyId => "unknown_key_id",
            Self::UnsupportedAlgorithm => "unsupported_algorithm",
            Self::KeysUnavailable => "keys_unavailable",
        }
    }
}

impl From<AuthError> for UserError {
    fn from(err: AuthError) -> Self {
        let meta = serde_json::json!({ "reason": err.reason() });
        match err {
            AuthError::KeysUnavailable => {
                UserError::new("Authentication is temporarily unavailable")
                    .code("auth_unavailable")
                    .metadata(meta)
            }
            other => UserError::new(format!("Invalid token: {other}"))
                .code("invalid_token")
                .metadata(meta),
        }
    }
}

/// Why a verifier could not be built from the key material it was given.
///
/// ```
/// use rivet_actor::auth::{JwtVerifier, KeyError};
/// let err = JwtVerifier::rs256_pem("not a pem").unwrap_err();
/// assert!(matches!(err, KeyError::InvalidPem(_)));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The environment variable is not set or not UTF-8.
    #[error("environment variable `{0}` is not set")]
    MissingEnv(String),
    /// An HMAC secret was empty: anyone could forge tokens.
    #[error("the HMAC secret is empty")]
    EmptySecret,
    /// The PEM text is not an RSA public key (`BEGIN PUBLIC KEY` or `BEGIN RSA PUBLIC KEY`).
    #[error("invalid RSA public key PEM: {0}")]
    InvalidPem(&'static str),
}
