//! Against a real HTTP server on 127.0.0.1 serving a JWKS the test controls and counting
//! its hits.

use std::sync::atomic::{AtomicUsize, Ordering};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::super::test_keys::*;
use super::super::{AuthError, JwtVerifier};
use super::*;

struct Issuer {
    url: String,
    state: Arc<IssuerState>,
}

struct IssuerState {
    hits: AtomicUsize,
    /// What `/jwks` answers: a JWKS body, or `None` for a 500.
    jwks: Mutex<Option<Value>>,
    delay: Duration,
}

impl Issuer {
    async fn start(jwks: Value, delay: Duration) -> Self {
        async fn serve(State(state): State<Arc<IssuerState>>) -> Response {
            state.hits.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(state.delay).await;
            let body = state.jwks.lock().unwrap().clone();
            match body {
                Some(jwks) => axum::Json(jwks).into_response(),
                None => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
            }
        }
        let state = Arc::new(IssuerState {
            hits: AtomicUsize::new(0),
            jwks: Mutex::new(Some(jwks)),
            delay,
        });
        let app = axum::Router::new()
            .route("/jwks", axum::routing::get(serve))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self {
            url: format!("http://{addr}/jwks"),
            state,
        }
    }

    fn hits(&self) -> usize {
        self.state.hits.load(Ordering::SeqCst)
    }

    fn set(&self, jwks: Option<Value>) {
        *self.state.jwks.lock().unwrap() = jwks;
    }

    /// A cache for this issuer that ignores any proxy settings of the machine.
    fn cache(&self) -> JwksCache {
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        JwksCache::new(&self.url).client(client)
    }
}

fn set_of(keys: &[(&str, &str)]) -> Value {
    json!({ "keys": keys.iter().map(|(kid, n)| jwk(kid, n)).collect::<Vec<_>>() })
}

fn claims() -> Value {
    json!({ "sub": "user-123", "exp": now_secs() + 600 })
}

fn token_a(kid: &str) -> String {
    sign_rs256(&claims(), KEY_A_PRIVATE_PKCS1, Some(kid))
}

fn token_b(kid: &str) -> String {
    sign_rs256(&claims(), KEY_B_PRIVATE_PKCS1, Some(kid))
}

/// `token` with its header's `kid` replaced: the signature no longer matches, but a token
/// with an unknown kid is refused before its signature is looked at, and signing is slow in
/// a debug build.
fn with_kid(token: &str, kid: &str) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let (_, rest) = token.split_once('.').unwrap();
    let header = b64.encode(json!({ "alg": "RS256", "typ": "JWT", "kid": kid }).to_string());
    format!("{header}.{rest}")
}

async fn sub(verifier: &JwtVerifier, token: &str) -> Result<String, AuthError> {
    let claims: Value = verifier.verify(token).await?;
    Ok(claims["sub"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn keys_are_fetched_once_and_cached() {
    let issuer = Issuer::start(set_of(&[("a", KEY_A_N)]), Duration::ZERO).await;
    let verifier = JwtVerifier::jwks(issuer.cache());
    assert_eq!(issuer.hits(), 0, "nothing is fetched before it is needed");
    let token = token_a("a");
    for _ in 0..5 {
        assert_eq!(sub(&verifier, &token).await.unwrap(), "user-123");
    }
    assert_eq!(issuer.hits(), 1);
    // Clones share the cache.
    let clone = verifier.clone();
    assert!(sub(&clone, &token).await.is_ok());
    assert_eq!(issuer.hits(), 1);
}

#[tokio::test]
async fn a_rotated_in_key_triggers_one_refetch() {
    let issuer = Issuer::start(set_of(&[("a", KEY_A_N)]), Duration::ZERO).await;
    let verifier = JwtVerifier::jwks(
        issuer
            .cache()
            .min_refetch_interval(Duration::from_millis(100)),
    );
    assert!(sub(&verifier, &token_a("a")).await.is_ok());
    assert_eq!(issuer.hits(), 1);

    // The issuer rotates: publishes key b next to a and starts signing with it.
    issuer.set(Some(set_of(&[("a", KEY_A_N), ("b", KEY_B_N)])));
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert!(sub(&verifier, &token_b("b")).await.is_ok());
    assert_eq!(issuer.hits(), 2);
    assert!(sub(&verifier, &token_b("b")).await.is_ok());
    assert!(sub(&verifier, &token_a("a")).await.is_ok());
    assert_eq!(issuer.hits(), 2, "both keys now cached");

    // A key signed by the wrong private key under a known kid is still a bad signature.
    assert_eq!(
        sub(&verifier, &token_b("a")).await,
        Err(AuthError::BadSignature)
    );
}

#[tokio::test]
async fn unknown_kids_cannot_make_the_cache_hammer_the_issuer() {
    let interval = Duration::from_secs(1);
    // Sign up front: RSA signing in a debug build is slow enough to eat the interval.
    let (good_a, good_b) = (token_a("a"), token_b("b"));
    let bogus: Vec<String> = (0..50)
        .map(|i| with_kid(&good_a, &format!("bogus-{i}")))
        .collect();
    let issuer = Issuer::start(set_of(&[("a", KEY_A_N)]), Duration::ZERO).await;
    let verifier = JwtVerifier::jwks(issuer.cache().min_refetch_interval(interval));
    assert!(sub(&verifier, &good_a).await.is_ok());
    assert_eq!(issuer.hits(), 1);

    // A flood of made-up kids right after a fetch: no fetch at all.
    for token in &bogus {
        assert_eq!(sub(&verifier, token).await, Err(AuthError::UnknownKeyId));
    }
    assert_eq!(issuer.hits(), 1);

    // Once the interval has passed, the flood buys exactly one fetch...
    tokio::time::sleep(interval + Duration::from_millis(50)).await;
    for token in &bogus {
        assert_eq!(sub(&verifier, token).await, Err(AuthError::UnknownKeyId));
    }
    assert_eq!(issuer.hits(), 2);
    // ... and known keys keep working throughout without fetching.
    assert!(sub(&verifier, &good_a).await.is_ok());
    assert_eq!(issuer.hits(), 2);

    // A genuinely new key published during the throttled period is found after it.
    issuer.set(Some(set_of(&[("a", KEY_A_N), ("b", KEY_B_N)])));
    assert_eq!(
        sub(&verifier, &good_b).await,
        Err(AuthError::UnknownKeyId),
        "still throttled"
    );
    tokio::time::sleep(interval + Duration::from_millis(50)).await;
    assert!(sub(&verifier, &good_b).await.is_ok());
    assert_eq!(issuer.hits(), 3);
}

#[tokio::test]
async fn concurrent_misses_share_one_fetch() {
    // A slow issuer, so all the lookups are waiting at once.
    let issuer = Issuer::start(set_of(&[("a", KEY_A_N)]), Duration::from_millis(300)).await;
    let verifier = JwtVerifier::jwks(issuer.cache().min_refetch_interval(Duration::ZERO));
    let token = token_a("a");
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (verifier, token) = (verifier.clone(), token.clone());
            tokio::spawn(async move { sub(&verifier, &token).await })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap(), "user-123");
    }
    assert_eq!(issuer.hits(), 1);

    // Concurrent lookups of a rotated-in key also share one refetch, even with no
    // throttling at all.
    issuer.set(Some(set_of(&[("a", KEY_A_N), ("b", KEY_B_N)])));
    let token = token_b("b");
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (verifier, token) = (verifier.clone(), token.clone());
            tokio::spawn(async move { sub(&verifier, &token).await })
        })
        .collect();
    for task in tasks {
        assert!(task.await.unwrap().is_ok());
    }
    assert_eq!(issuer.hits(), 2);
}

#[tokio::test]
async fn keys_are_refetched_after_the_ttl() {
    let ttl = Duration::from_millis(500);
    let token = token_a("a");
    let issuer = Issuer::start(set_of(&[("a", KEY_A_N)]), Duration::ZERO).await;
    let verifier = JwtVerifier::jwks(issuer.cache().ttl(ttl).min_refetch_interval(Duration::ZERO));
    assert!(sub(&verifier, &token).await.is_ok());
    assert!(sub(&verifier, &token).await.is_ok());
    assert_eq!(issuer.hits(), 1);
    tokio::time::sleep(ttl + Duration::from_millis(100)).await;

    // The issuer retired key a: after the TTL, the stale key answers at once while the
    // keys are fetched in the background; once they are, tokens signed with it stop
    // verifying.
    issuer.set(Some(set_of(&[("b", KEY_B_N)])));
    assert!(sub(&verifier, &token).await.is_ok(), "served stale");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(issuer.hits(), 2);
    assert_eq!(sub(&verifier, &token).await, Err(AuthError::UnknownKeyId));
}

#[tokio::test]
async fn a_stale_key_waits_for_no_slow_issuer() {
    let ttl = Duration::from_millis(300);
    let token = token_a("a");
    // An issuer that takes its time: after the first fetch, verifications do not wait for it.
    let issuer = Issuer::start(set_of(&[("a", KEY_A_N)]), Duration::from_millis(400)).await;
    let verifier = JwtVerifier::jwks(issuer.cache().ttl(ttl).min_refetch_interval(Duration::ZERO));
    assert!(sub(&verifier, &token).await.is_ok());
    tokio::time::sleep(ttl + Duration::from_millis(100)).await;
    let quick = tokio::time::timeout(Duration::from_millis(100), sub(&verifier, &token));
    assert!(quick.await.expect("answered without the fetch").is_ok());
}

#[tokio::test]
async fn a_fetch_given_up_on_still_fills_the_cache_and_counts() {
    // An issuer slower than the callers' patience (a hook timeout, in a server).
    let issuer = Issuer::start(set_of(&[("a", KEY_A_N)]), Duration::from_secs(1)).await;
    let verifier = JwtVerifier::jwks(issuer.cache());
    let token = token_a("a");
    for _ in 0..10 {
        let impatient = tokio::time::timeout(Duration::from_millis(50), sub(&verifier, &token));
        assert!(impatient.await.is_err(), "the issuer answers after 1 s");
    }
    // One fetch, not one per caller: it ran on after its caller gave up...
    assert_eq!(issuer.hits(), 1);
    tokio::time::sleep(Duration::from_millis(1000)).await;
    // ... and its keys answer the next caller without another one.
    let next = tokio::time::timeout(Duration::from_millis(50), sub(&verifier, &token));
    assert_eq!(
        next.await.expect("answered from the cache").unwrap(),
        "user-123"
    );
    assert_eq!(issuer.hits(), 1);
}

#[tokio::test]
async fn an_unreachable_issuer_is_keys_unavailable_and_held_keys_survive_it() {
    let issuer = Issuer::start(set_of(&[("a", KEY_A_N)]), Duration::ZERO).await;
    issuer.set(None);
    let verifier = JwtVerifier::jwks(issuer.cache().min_refetch_interval(Duration::ZERO));
    let err = sub(&verifier, &token_a("a")).await.unwrap_err();
    assert_eq!(err, AuthError::KeysUnavailable);
    assert_eq!(crate::UserError::from(err).code_str(), "auth_unavailable");

    // The issuer recovers; the next lookup fetches.
    issuer.set(Some(set_of(&[("a", KEY_A_N)])));
    assert!(sub(&verifier, &token_a("a")).await.is_ok());
    let hits = issuer.hits();

    // It fails again while a rotated-in kid is looked up: key a still works.
    issuer.set(None);
    assert_eq!(
        sub(&verifier, &token_b("b")).await,
        Err(AuthError::UnknownKeyId)
    );
    assert_eq!(issuer.hits(), hits + 1);
    assert!(sub(&verifier, &token_a("a")).await.is_ok());

    // Nothing listening at all.
    let closed = JwksCache::new("http://127.0.0.1:9/jwks")
        .client(reqwest::Client::builder().no_proxy().build().unwrap());
    assert_eq!(
        sub(&JwtVerifier::jwks(closed), &token_a("a")).await,
        Err(AuthError::KeysUnavailable)
    );
}

#[tokio::test]
async fn a_failed_first_fetch_is_throttled_too() {
    let issuer = Issuer::start(set_of(&[("a", KEY_A_N)]), Duration::ZERO).await;
    issuer.set(None);
    let verifier = JwtVerifier::jwks(issuer.cache().min_refetch_interval(Duration::from_secs(60)));
    for _ in 0..10 {
        assert_eq!(
            sub(&verifier, &token_a("a")).await,
            Err(AuthError::KeysUnavailable)
        );
    }
    assert_eq!(issuer.hits(), 1);
}

#[tokio::test]
async fn only_usable_rs256_keys_are_kept() {
    let mut keys = vec![
        // Unusable: no kid, encryption key, other algorithm, EC key, junk.
        json!({ "kty": "RSA", "n": KEY_A_N, "e": KEY_E }),
        json!({ "kty": "RSA", "kid": "enc", "use": "enc", "n": KEY_A_N, "e": KEY_E }),
        json!({ "kty": "RSA", "kid": "ps", "alg": "PS256", "n": KEY_A_N, "e": KEY_E }),
        json!({ "kty": "EC", "kid": "ec", "crv": "P-256", "x": "AAAA", "y": "AAAA" }),
        json!({ "kty": "RSA", "kid": "junk" }),
        json!("not even an object"),
    ];
    // Usable: alg and use may be absent.
    keys.push(json!({ "kty": "RSA", "kid": "bare", "n": KEY_A_N, "e": KEY_E }));
    keys.push(jwk("b", KEY_B_N));
    let issuer = Issuer::start(json!({ "keys": keys }), Duration::ZERO).await;
    let verifier = JwtVerifier::jwks(issuer.cache().min_refetch_interval(Duration::from_secs(60)));

    assert!(sub(&verifier, &token_a("bare")).await.is_ok());
    assert!(sub(&verifier, &token_b("b")).await.is_ok());
    for kid in ["enc", "ps", "ec", "junk"] {
        assert_eq!(
            sub(&verifier, &token_a(kid)).await,
            Err(AuthError::UnknownKeyId),
            "{kid}"
        );
    }
    assert_eq!(issuer.hits(), 1);
}

#[tokio::test]
async fn tokens_are_refused_before_any_fetch_when_the_header_is_wrong() {
    let issuer = Issuer::start(set_of(&[("a", KEY_A_N)]), Duration::ZERO).await;
    let verifier = JwtVerifier::jwks(issuer.cache());
    // No kid.
    let no_kid = sign_rs256(&claims(), KEY_A_PRIVATE_PKCS1, None);
    assert_eq!(sub(&verifier, &no_kid).await, Err(AuthError::UnknownKeyId));
    // HS256 signed with a public key's modulus as secret, under a known kid.
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.kid = Some("a".into());
    let confused = jsonwebtoken::encode(
        &header,
        &claims(),
        &jsonwebtoken::EncodingKey::from_secret(KEY_A_N.as_bytes()),
    )
    .unwrap();
    assert_eq!(
        sub(&verifier, &confused).await,
        Err(AuthError::UnsupportedAlgorithm)
    );
    assert_eq!(sub(&verifier, "garbage").await, Err(AuthError::Malformed));
    assert_eq!(issuer.hits(), 0);
}

#[test]
fn debug_shows_the_url() {
    let cache = JwksCache::new("https://auth.example.com/jwks");
    assert!(format!("{cache:?}").contains("https://auth.example.com/jwks"));
}
