//! [`JwtVerifier`]: checks a JSON Web Token's signature and time/audience/issuer claims.

use std::fmt;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use rsa::traits::PublicKeyParts;
use serde::de::DeserializeOwned;

use super::{AuthError, JwksCache, KeyError, pem};

/// Tokens longer than this are refused as malformed before any work is done on them.
const MAX_TOKEN_LEN: usize = 16 * 1024;

/// The default allowance for clock skew when checking `exp` and `nbf`.
const DEFAULT_LEEWAY: Duration = Duration::from_secs(30);

/// Verifies JWTs signed with HS256 (shared secret) or RS256 (an RSA public key, or the keys
/// of a [`JwksCache`]) and decodes their claims.
///
/// A verifier accepts exactly one algorithm, the one its key is for: `alg: none`, any other
/// algorithm, and an HS256 token shown to an RS256 verifier (algorithm confusion) are refused
/// with [`AuthError::UnsupportedAlgorithm`]. `exp` is required; `exp` and `nbf` are checked
/// with a leeway (default 30 s); `aud` and `iss` are required and checked when configured.
///
/// Build one at startup and share it (it is cheap to clone); call
/// [`verify`](JwtVerifier::verify) from a `#[conn_state]` hook and `?` the error, which
/// becomes a `UserError` with code `invalid_token`.
///
/// ```
/// use rivet_actor::auth::JwtVerifier;
/// use rivet_actor::prelude::*;
/// use std::sync::LazyLock;
///
/// // In production: JwtVerifier::from_env_secret("JWT_SECRET").expect("JWT_SECRET")
/// static VERIFIER: LazyLock<JwtVerifier> =
///     LazyLock::new(|| JwtVerifier::hs256("a long random secret").unwrap().audience("my-app"));
///
/// #[derive(Deserialize)]
/// struct Claims { sub: String, role: String, #[serde(default)] permissions: Vec<String> }
///
/// #[derive(Serialize, Deserialize)]
/// pub struct ConnParams { token: String }
///
/// pub struct User { id: String, role: String, permissions: Vec<String> }
///
/// #[derive(Default, Serialize, Deserialize)]
/// pub struct Notes { notes: Vec<String> }
///
/// #[actor]
/// impl Notes {
///     #[conn_state]
///     async fn auth(&self, _c: &mut ConnectCtx<'_, Self>, params: &ConnParams) -> Result<User, UserError> {
///         // An AuthError becomes a UserError with code `invalid_token`.
///         let claims: Claims = VERIFIER.verify(&params.token).await?;
///         Ok(User { id: claims.sub, role: claims.role, permissions: claims.permissions })
///     }
///
///     #[action]
///     fn whoami(&self, c: &mut ActionCtx<'_, Self>) -> String {
///         let user = c.conn().state();
///         format!("{} ({}, {:?})", user.id, user.role, user.permissions)
///     }
/// }
///
/// // What an auth server would issue:
/// let exp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() + 600;
/// let token = jsonwebtoken::encode(
///     &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
///     &serde_json::json!({ "sub": "user-123", "role": "member", "exp": exp, "aud": "my-app" }),
///     &jsonwebtoken::EncodingKey::from_secret(b"a long random secret"),
/// ).unwrap();
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let test = ActorTest::<Notes>::new();
/// let me = test.get_or_create("n").await.unwrap().params(ConnParams { token });
/// assert_eq!(me.whoami().await.unwrap(), "user-123 (member, [])");
///
/// let forged = test.get_or_create("n").await.unwrap().params(ConnParams { token: "eyJhbGciOiJub25lIn0.e30.".into() });
/// let err = forged.whoami().await.unwrap_err();
/// assert_eq!(err.code(), Some("invalid_token"));
/// assert_eq!(err.actor_error().unwrap().message, "Invalid token: token algorithm is not accepted");
/// # });
/// ```
#[derive(Clone)]
pub struct JwtVerifier {
    keys: Keys,
    leeway: Duration,
    audiences: Vec<String>,
    issuers: Vec<String>,
}

#[derive(Clone)]
enum Keys {
    Hmac(DecodingKey),
    Rsa(DecodingKey),
    Jwks(JwksCache),
}

impl Keys {
    /// The one algorithm tokens for these keys may use.
    fn algorithm(&self) -> Algorithm {
        match self {
            Keys::Hmac(_) => Algorithm::HS256,
            Keys::Rsa(_) | Keys::Jwks(_) => Algorithm::RS256,
        }
    }
}

impl JwtVerifier {
    /// A verifier for HS256 tokens signed with `secret`. An empty secret is refused.
    ///
    /// ```
    /// use rivet_actor::auth::{JwtVerifier, KeyError};
    /// assert!(JwtVerifier::hs256(b"secret").is_ok());
    /// assert_eq!(JwtVerifier::hs256("").unwrap_err(), KeyError::EmptySecret);
    /// ```
    pub fn hs256(secret: impl AsRef<[u8]>) -> Result<Self, KeyError> {
        let secret = secret.as_ref();
        if secret.is_empty() {
            return Err(KeyError::EmptySecret);
        }
        Ok(Self::with_keys(Keys::Hmac(DecodingKey::from_secret(
            secret,
        ))))
    }

    /// A verifier for HS256 tokens whose secret is in the environment variable `var`
    /// (e.g. `JWT_SECRET`). Unset, non-UTF-8 or empty is an error, never a default secret.
    ///
    /// ```
    /// use rivet_actor::auth::{JwtVerifier, KeyError};
    /// let err = JwtVerifier::from_env_secret("RIVET_DOC_UNSET_SECRET").unwrap_err();
    /// assert_eq!(err, KeyError::MissingEnv("RIVET_DOC_UNSET_SECRET".into()));
    /// ```
    pub fn from_env_secret(var: &str) -> Result<Self, KeyError> {
        let secret = std::env::var(var).map_err(|_| KeyError::MissingEnv(var.to_owned()))?;
        Self::hs256(secret)
    }

    /// A verifier for RS256 tokens signed by the private half of this RSA public key, given
    /// as PEM: `-----BEGIN PUBLIC KEY-----` (SubjectPublicKeyInfo, what `openssl rsa -pubout`
    /// writes) or `-----BEGIN RSA PUBLIC KEY-----` (PKCS#1), its base64 wrapped at 64 columns.
    ///
    /// ```
    /// use rivet_actor::auth::JwtVerifier;
    /// assert!(JwtVerifier::rs256_pem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----").is_err());
    /// ```
    pub fn rs256_pem(pem: &str) -> Result<Self, KeyError> {
        let key = pem::rsa_public_key(pem)?;
        Ok(Self::with_keys(Keys::Rsa(
            DecodingKey::from_rsa_raw_components(&key.n().to_bytes_be(), &key.e().to_bytes_be()),
        )))
    }

    /// A verifier for RS256 tokens whose header `kid` names a key in `cache`'s JWKS.
    ///
    /// ```
    /// use rivet_actor::auth::{JwksCache, JwtVerifier};
    /// let verifier = JwtVerifier::jwks(JwksCache::new("https://auth.example.com/.well-known/jwks.json"))
    ///     .issuer("https://auth.example.com/")
    ///     .audience("my-app");
    /// # drop(verifier);
    /// ```
    pub fn jwks(cache: JwksCache) -> Self {
        Self::with_keys(Keys::Jwks(cache))
    }

    fn with_keys(keys: Keys) -> Self {
        Self {
            keys,
            leeway: DEFAULT_LEEWAY,
            audiences: Vec::new(),
            issuers: Vec::new(),
        }
    }

    /// Accepts tokens whose `aud` is (or contains) `aud`; call again to accept several.
    /// Once any audience is configured, a token without `aud` is refused. Without one, a
    /// token that has an `aud` is refused too: it was meant for someone in particular.
    ///
    /// ```
    /// use rivet_actor::auth::JwtVerifier;
    /// let verifier = JwtVerifier::hs256("secret").unwrap().audience("web").audience("mobile");
    /// # drop(verifier);
    /// ```
    pub fn audience(mut self, aud: impl Into<String>) -> Self {
        self.audiences.push(aud.into());
        self
    }

    /// Accepts tokens whose `iss` is `iss`; call again to accept several. Once any issuer is
    /// configured, a token without `iss` is refused.
    ///
    /// ```
    /// use rivet_actor::auth::JwtVerifier;
    /// let verifier = JwtVerifier::hs256("secret").unwrap().issuer("https://auth.example.com/");
    /// # drop(verifier);
    /// ```
    pub fn issuer(mut self, iss: impl Into<String>) -> Self {
        self.issuers.push(iss.into());
        self
    }

    /// How far `exp` may be in the past and `nbf` in the future (clock skew), whole
    /// seconds; default 30 s, at most one day (a longer one is taken as one day).
    ///
    /// ```
    /// use rivet_actor::auth::JwtVerifier;
    /// use std::time::Duration;
    /// let strict = JwtVerifier::hs256("secret").unwrap().leeway(Duration::ZERO);
    /// # drop(strict);
    /// ```
    pub fn leeway(mut self, leeway: Duration) -> Self {
        /// Clock skew is seconds or minutes; a larger leeway would also underflow the
        /// verifier's `now - leeway`.
        const MAX_LEEWAY: Duration = Duration::from_secs(24 * 60 * 60);
        self.leeway = leeway.min(MAX_LEEWAY);
        self
    }

    /// Checks `token` and returns its claims as `C`.
    ///
    /// The header is read first: an `alg` other than the key's, or a `kid` the JWKS does not
    /// have (after at most one throttled refetch), refuses the token before any signature
    /// work. Then the signature, then `exp` / `nbf` / `aud` / `iss`. Claims that verify but
    /// do not deserialize into `C` are [`AuthError::Malformed`].
    ///
    /// ```
    /// use rivet_actor::auth::{AuthError, JwtVerifier};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let verifier = JwtVerifier::hs256("secret").unwrap();
    /// // `{"alg":"none"}` with no signature: never accepted.
    /// let unsigned = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9.";
    /// let err = verifier.verify::<serde_json::Value>(unsigned).await.unwrap_err();
    /// assert_eq!(err, AuthError::UnsupportedAlgorithm);
    /// # });
    /// ```
    pub async fn verify<C: DeserializeOwned>(&self, token: &str) -> Result<C, AuthError> {
        let header = TokenHeader::parse(token)?;
        let alg = self.keys.algorithm();
        if header.alg != alg_name(alg) {
            return Err(AuthError::UnsupportedAlgorithm);
        }
        let fetched;
        let key = match &self.keys {
            Keys::Hmac(key) | Keys::Rsa(key) => key,
            Keys::Jwks(cache) => {
                let kid = header.kid.as_deref().ok_or(AuthError::UnknownKeyId)?;
                fetched = cache.key(kid).await?;
                &fetched
            }
        };
        jsonwebtoken::decode::<C>(token, key, &self.validation(alg))
            .map(|data| data.claims)
            .map_err(from_jwt_error)
    }

    fn validation(&self, alg: Algorithm) -> Validation {
        let mut validation = Validation::new(alg);
        validation.leeway = self.leeway.as_secs();
        validation.validate_exp = true;
        validation.validate_nbf = true;
        let mut required = vec!["exp"];
        // With no audience configured, `validate_aud` stays on with `aud: None`, which
        // refuses any token that names an audience (RFC 7519 §4.1.3).
        if !self.audiences.is_empty() {
            validation.set_audience(&self.audiences);
            required.push("aud");
        }
        if !self.issuers.is_empty() {
            validation.set_issuer(&self.issuers);
            required.push("iss");
        }
        validation.set_required_spec_claims(&required);
        validation
    }
}

impl fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys = match &self.keys {
            Keys::Hmac(_) => "HS256 secret (redacted)".to_owned(),
            Keys::Rsa(_) => "RS256 public key".to_owned(),
            Keys::Jwks(cache) => format!("{cache:?}"),
        };
        f.debug_struct("JwtVerifier")
            .field("keys", &keys)
            .field("leeway", &self.leeway)
            .field("audiences", &self.audiences)
            .field("issuers", &self.issuers)
            .finish()
    }
}

fn alg_name(alg: Algorithm) -> &'static str {
    match alg {
        Algorithm::HS256 => "HS256",
        _ => "RS256",
    }
}

/// The two header fields the verifier looks at before trusting anything.
#[derive(serde::Deserialize)]
struct TokenHeader {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
}

impl TokenHeader {
    fn parse(token: &str) -> Result<Self, AuthError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(AuthError::Malformed);
        }
        let mut parts = token.split('.');
        let (Some(header), Some(_payload), Some(_signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(AuthError::Malformed);
        };
        let json = URL_SAFE_NO_PAD
            .decode(header)
            .map_err(|_| AuthError::Malformed)?;
        serde_json::from_slice(&json).map_err(|_| AuthError::Malformed)
    }
}

fn from_jwt_error(err: jsonwebtoken::errors::Error) -> AuthError {
    match err.kind() {
        ErrorKind::ExpiredSignature => AuthError::Expired,
        ErrorKind::ImmatureSignature => AuthError::NotYetValid,
        ErrorKind::InvalidSignature
        | ErrorKind::InvalidRsaKey(_)
        | ErrorKind::InvalidKeyFormat
        | ErrorKind::InvalidEcdsaKey
        | ErrorKind::InvalidEddsaKey => AuthError::BadSignature,
        ErrorKind::InvalidAudience => AuthError::WrongAudience,
        ErrorKind::InvalidIssuer => AuthError::WrongIssuer,
        ErrorKind::MissingRequiredClaim(claim) => AuthError::MissingClaim(match claim.as_str() {
            "aud" => "aud",
            "iss" => "iss",
            _ => "exp",
        }),
        ErrorKind::InvalidAlgorithm
        | ErrorKind::UnsupportedAlgorithm
        | ErrorKind::InvalidAlgorithmName
        | ErrorKind::MissingAlgorithm => AuthError::UnsupportedAlgorithm,
        _ => AuthError::Malformed,
    }
}

#[cfg(test)]
mod tests;
