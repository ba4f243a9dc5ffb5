use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde_json::{Value, json};

use super::super::test_keys::*;
use super::*;
use crate::UserError;

const SECRET: &[u8] = b"test-secret-of-reasonable-length";

#[derive(Debug, Deserialize, PartialEq)]
struct Claims {
    sub: String,
    role: String,
    #[serde(default)]
    permissions: Vec<String>,
}

fn claims(extra: Value) -> Value {
    let mut claims = json!({ "sub": "user-123", "role": "member", "exp": now_secs() + 600 });
    claims
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    claims
}

fn hs() -> JwtVerifier {
    JwtVerifier::hs256(SECRET).unwrap()
}

fn rs() -> JwtVerifier {
    JwtVerifier::rs256_pem(KEY_A_PUBLIC_SPKI).unwrap()
}

/// Hand-builds `header.payload.signature` from JSON, base64url without padding.
fn craft(header: &Value, payload: &Value, signature: &[u8]) -> String {
    let part = |v: &Value| URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap());
    format!(
        "{}.{}.{}",
        part(header),
        part(payload),
        URL_SAFE_NO_PAD.encode(signature)
    )
}

async fn verify(verifier: &JwtVerifier, token: &str) -> Result<Claims, AuthError> {
    verifier.verify::<Claims>(token).await
}

#[tokio::test]
async fn valid_hs256_token_yields_its_claims() {
    let token = sign_hs256(&claims(json!({ "permissions": ["read", "write"] })), SECRET);
    let got = verify(&hs(), &token).await.unwrap();
    assert_eq!(
        got,
        Claims {
            sub: "user-123".into(),
            role: "member".into(),
            permissions: vec!["read".into(), "write".into()],
        }
    );
}

#[tokio::test]
async fn valid_rs256_token_verifies_with_spki_and_pkcs1_pem() {
    let token = sign_rs256(&claims(json!({})), KEY_A_PRIVATE_PKCS1, None);
    assert_eq!(verify(&rs(), &token).await.unwrap().sub, "user-123");
    let pkcs1 = JwtVerifier::rs256_pem(KEY_A_PUBLIC_PKCS1).unwrap();
    assert_eq!(verify(&pkcs1, &token).await.unwrap().sub, "user-123");
}

#[tokio::test]
async fn expired_token_is_refused_beyond_the_leeway() {
    let long_ago = sign_hs256(&claims(json!({ "exp": now_secs() - 3600 })), SECRET);
    assert_eq!(verify(&hs(), &long_ago).await, Err(AuthError::Expired));

    // Ten seconds late is within the default 30 s leeway, not within a zero leeway.
    let just_now = sign_hs256(&claims(json!({ "exp": now_secs() - 10 })), SECRET);
    assert!(verify(&hs(), &just_now).await.is_ok());
    let strict = hs().leeway(Duration::ZERO);
    assert_eq!(verify(&strict, &just_now).await, Err(AuthError::Expired));

    // A leeway of centuries is taken as a day: a token two days late stays expired (and
    // the verifier's `now - leeway` does not underflow).
    let two_days = sign_hs256(&claims(json!({ "exp": now_secs() - 2 * 86_400 })), SECRET);
    let lax = hs().leeway(Duration::from_secs(u64::MAX / 2));
    assert_eq!(verify(&lax, &two_days).await, Err(AuthError::Expired));
}

#[tokio::test]
async fn token_without_exp_is_refused() {
    let token = sign_hs256(&json!({ "sub": "u", "role": "r" }), SECRET);
    assert_eq!(
        verify(&hs(), &token).await,
        Err(AuthError::MissingClaim("exp"))
    );
}

#[tokio::test]
async fn not_yet_valid_token_is_refused_beyond_the_leeway() {
    let future = sign_hs256(&claims(json!({ "nbf": now_secs() + 3600 })), SECRET);
    assert_eq!(verify(&hs(), &future).await, Err(AuthError::NotYetValid));
    let rs_future = sign_rs256(
        &claims(json!({ "nbf": now_secs() + 3600 })),
        KEY_A_PRIVATE_PKCS1,
        None,
    );
    assert_eq!(verify(&rs(), &rs_future).await, Err(AuthError::NotYetValid));

    let soon = sign_hs256(&claims(json!({ "nbf": now_secs() + 10 })), SECRET);
    assert!(verify(&hs(), &soon).await.is_ok());
    let strict = hs().leeway(Duration::ZERO);
    assert_eq!(verify(&strict, &soon).await, Err(AuthError::NotYetValid));

    let past = sign_hs256(&claims(json!({ "nbf": now_secs() - 10 })), SECRET);
    assert!(verify(&strict, &past).await.is_ok());
}

#[tokio::test]
async fn wrong_secret_or_key_is_a_bad_signature() {
    let token = sign_hs256(&claims(json!({})), b"some-other-secret");
    assert_eq!(verify(&hs(), &token).await, Err(AuthError::BadSignature));

    let by_b = sign_rs256(&claims(json!({})), KEY_B_PRIVATE_PKCS1, None);
    assert_eq!(verify(&rs(), &by_b).await, Err(AuthError::BadSignature));
}

#[tokio::test]
async fn tampered_payload_is_a_bad_signature() {
    let token = sign_hs256(&claims(json!({ "role": "member" })), SECRET);
    let parts: Vec<&str> = token.split('.').collect();
    let forged =
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims(json!({ "role": "admin" }))).unwrap());
    let tampered = format!("{}.{}.{}", parts[0], forged, parts[2]);
    assert_eq!(verify(&hs(), &tampered).await, Err(AuthError::BadSignature));
}

#[tokio::test]
async fn alg_none_is_refused_in_any_spelling() {
    for alg in ["none", "None", "NONE", "nOnE"] {
        let token = craft(
            &json!({ "alg": alg, "typ": "JWT" }),
            &claims(json!({})),
            b"",
        );
        assert_eq!(
            verify(&hs(), &token).await,
            Err(AuthError::UnsupportedAlgorithm),
            "{alg}"
        );
        assert_eq!(
            verify(&rs(), &token).await,
            Err(AuthError::UnsupportedAlgorithm),
            "{alg}"
        );
        // Even with a stray signature attached.
        let signed = craft(&json!({ "alg": alg }), &claims(json!({})), b"sig");
        assert_eq!(
            verify(&hs(), &signed).await,
            Err(AuthError::UnsupportedAlgorithm)
        );
    }
}

#[tokio::test]
async fn hs256_token_is_refused_by_an_rs256_verifier() {
    // The classic confusion attack: HMAC-sign with the RSA *public* key as the secret.
    for public in [KEY_A_PUBLIC_SPKI, KEY_A_PUBLIC_PKCS1] {
        let token = sign_hs256(&claims(json!({ "role": "admin" })), public.as_bytes());
        assert_eq!(
            verify(&rs(), &token).await,
            Err(AuthError::UnsupportedAlgorithm)
        );
    }
    // And the other way: an RS256 token shown to an HS256 verifier.
    let rs_token = sign_rs256(&claims(json!({})), KEY_A_PRIVATE_PKCS1, None);
    assert_eq!(
        verify(&hs(), &rs_token).await,
        Err(AuthError::UnsupportedAlgorithm)
    );
    // Other algorithms of the right family are refused too.
    let hs512 = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(Algorithm::HS512),
        &claims(json!({})),
        &jsonwebtoken::EncodingKey::from_secret(SECRET),
    )
    .unwrap();
    assert_eq!(
        verify(&hs(), &hs512).await,
        Err(AuthError::UnsupportedAlgorithm)
    );
    let unknown = craft(&json!({ "alg": "XS999" }), &claims(json!({})), b"sig");
    assert_eq!(
        verify(&hs(), &unknown).await,
        Err(AuthError::UnsupportedAlgorithm)
    );
}

#[tokio::test]
async fn audience_is_checked_when_configured() {
    let verifier = hs().audience("web").audience("mobile");
    let web = sign_hs256(&claims(json!({ "aud": "web" })), SECRET);
    let mobile_list = sign_hs256(&claims(json!({ "aud": ["mobile"] })), SECRET);
    let other = sign_hs256(&claims(json!({ "aud": "admin-panel" })), SECRET);
    let missing = sign_hs256(&claims(json!({})), SECRET);
    assert!(verify(&verifier, &web).await.is_ok());
    assert!(verify(&verifier, &mobile_list).await.is_ok());
    assert_eq!(
        verify(&verifier, &other).await,
        Err(AuthError::WrongAudience)
    );
    assert_eq!(
        verify(&verifier, &missing).await,
        Err(AuthError::MissingClaim("aud"))
    );
    // With no audience configured, only tokens without `aud` are accepted.
    assert!(verify(&hs(), &missing).await.is_ok());
    assert_eq!(verify(&hs(), &web).await, Err(AuthError::WrongAudience));
}

#[tokio::test]
async fn issuer_is_checked_when_configured() {
    let verifier = hs().issuer("https://auth.example.com/");
    let good = sign_hs256(
        &claims(json!({ "iss": "https://auth.example.com/" })),
        SECRET,
    );
    let evil = sign_hs256(
        &claims(json!({ "iss": "https://evil.example.com/" })),
        SECRET,
    );
    let missing = sign_hs256(&claims(json!({})), SECRET);
    assert!(verify(&verifier, &good).await.is_ok());
    assert_eq!(verify(&verifier, &evil).await, Err(AuthError::WrongIssuer));
    assert_eq!(
        verify(&verifier, &missing).await,
        Err(AuthError::MissingClaim("iss"))
    );
    assert!(verify(&hs(), &evil).await.is_ok(), "issuer not configured");
}

#[tokio::test]
async fn malformed_tokens_are_refused() {
    let valid = sign_hs256(&claims(json!({})), SECRET);
    let oversized = format!("{valid}{}", "A".repeat(MAX_TOKEN_LEN));
    let bad_payload = {
        let parts: Vec<&str> = valid.split('.').collect();
        format!("{}.{}.{}", parts[0], "!!!", parts[2])
    };
    let bad_signature_b64 = {
        let parts: Vec<&str> = valid.split('.').collect();
        format!("{}.{}.{}", parts[0], parts[1], "***")
    };
    for token in [
        "",
        "garbage",
        "a.b",
        "a.b.c.d",
        "...",
        "eyJhbGciOiJIUzI1NiJ9",
        "%%%.eyJzdWIiOiIxIn0.sig",
        "bm90IGpzb24.eyJzdWIiOiIxIn0.sig",
        &format!("{valid}.extra"),
        &oversized,
        &bad_signature_b64,
    ] {
        assert_eq!(
            verify(&hs(), token).await,
            Err(AuthError::Malformed),
            "{token:.40}"
        );
    }
    // A payload that is not base64 was never signed: the signature check fails first.
    assert_eq!(
        verify(&hs(), &bad_payload).await,
        Err(AuthError::BadSignature)
    );
    // A header without `alg` is malformed.
    let no_alg = craft(&json!({ "typ": "JWT" }), &claims(json!({})), b"sig");
    assert_eq!(verify(&hs(), &no_alg).await, Err(AuthError::Malformed));
}

#[tokio::test]
async fn verified_claims_of_the_wrong_shape_are_malformed() {
    let token = sign_hs256(&json!({ "sub": 42, "exp": now_secs() + 600 }), SECRET);
    assert_eq!(verify(&hs(), &token).await, Err(AuthError::Malformed));
    // The same token decodes into a looser type.
    let value: Value = hs().verify(&token).await.unwrap();
    assert_eq!(value["sub"], 42);
}

#[tokio::test]
async fn errors_become_invalid_token_user_errors_without_the_token() {
    let secret_looking = sign_hs256(&claims(json!({ "exp": now_secs() - 3600 })), SECRET);
    let err: UserError = verify(&hs(), &secret_looking).await.unwrap_err().into();
    assert_eq!(err.code_str(), "invalid_token");
    assert_eq!(err.message(), "Invalid token: token has expired");
    let client: crate::ActorError = err.into();
    assert_eq!(client.metadata, Some(json!({ "reason": "expired" })));

    for error in [
        AuthError::Expired,
        AuthError::NotYetValid,
        AuthError::BadSignature,
        AuthError::WrongAudience,
        AuthError::WrongIssuer,
        AuthError::MissingClaim("exp"),
        AuthError::Malformed,
        AuthError::UnknownKeyId,
        AuthError::UnsupportedAlgorithm,
    ] {
        let user: UserError = error.clone().into();
        assert_eq!(user.code_str(), "invalid_token", "{error:?}");
        assert!(user.message().starts_with("Invalid token: "));
        assert!(!user.message().contains(&secret_looking));
        assert!(!user.message().contains("eyJ"));
    }
    let unavailable: UserError = AuthError::KeysUnavailable.into();
    assert_eq!(unavailable.code_str(), "auth_unavailable");
}

#[test]
fn constructors_refuse_unusable_keys() {
    assert_eq!(JwtVerifier::hs256("").unwrap_err(), KeyError::EmptySecret);
    assert!(JwtVerifier::rs256_pem(KEY_A_PRIVATE_PKCS1).is_err());
    assert!(JwtVerifier::rs256_pem("").is_err());
}

#[tokio::test]
async fn from_env_secret_reads_the_variable() {
    // Unique names: tests run in parallel threads of one process.
    const VAR: &str = "RIVET_ACTOR_AUTH_TEST_JWT_SECRET";
    const EMPTY: &str = "RIVET_ACTOR_AUTH_TEST_EMPTY_SECRET";
    // SAFETY: no other code in this process reads or writes these variables.
    unsafe {
        std::env::set_var(VAR, std::str::from_utf8(SECRET).unwrap());
        std::env::set_var(EMPTY, "");
    }
    let verifier = JwtVerifier::from_env_secret(VAR).unwrap();
    let token = sign_hs256(&claims(json!({})), SECRET);
    assert!(verify(&verifier, &token).await.is_ok());
    assert_eq!(
        JwtVerifier::from_env_secret(EMPTY).unwrap_err(),
        KeyError::EmptySecret
    );
    assert_eq!(
        JwtVerifier::from_env_secret("RIVET_ACTOR_AUTH_TEST_UNSET").unwrap_err(),
        KeyError::MissingEnv("RIVET_ACTOR_AUTH_TEST_UNSET".into())
    );
}

#[test]
fn debug_does_not_show_the_secret() {
    let shown = format!("{:?}", hs());
    assert!(!shown.contains("test-secret"), "{shown}");
}
