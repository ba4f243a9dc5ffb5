//! Checks of what arrives in HTTP headers and paths: `Origin` against origin policies, the
//! request path that picks a CORS policy, and the header of a JWT.

use std::future::Future;

use axum::body::Body;
use http::{Method, Request, StatusCode, header};

use crate::origin::OriginPolicy;
use crate::protocol::names;
use crate::registry::Registry;

/// Origin patterns and one origin: every line but the last is a pattern, the last is the
/// `Origin` header value.
pub fn origins(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut lines: Vec<&str> = text.split('\n').collect();
    let origin = lines.pop().unwrap_or_default();

    for pattern in &lines {
        // A pattern without a wildcard names one origin, and that origin is itself.
        if let Ok(policy) = OriginPolicy::allow([pattern])
            && !pattern.contains('*')
        {
            assert!(policy.allows(Some(pattern)), "{pattern:?} refuses itself");
        }
    }
    let Ok(policy) = OriginPolicy::allow(&lines) else {
        return;
    };
    let allowed = policy.allows(Some(origin));
    assert_eq!(
        policy.allows(Some(&origin.to_ascii_uppercase())),
        allowed,
        "ASCII case changed whether {origin:?} is allowed by {policy}"
    );
    assert!(
        !policy.allows(None),
        "an allowlist lets a missing origin in"
    );
    assert!(policy.clone().allow_missing(true).allows(None));
    // The policy as shown (in logs and errors) reads back as the same policy.
    if !lines.is_empty() {
        let shown = policy.to_string();
        let again = OriginPolicy::allow(shown.split(", "))
            .unwrap_or_else(|err| panic!("{shown:?}, the display of {lines:?}: {err}"));
        assert_eq!(again, policy, "{shown:?} reads back as another policy");
    }
}

/// The origins the CORS check's registry allows.
const CORS_ORIGINS: [&str; 2] = ["https://app.example.com", "https://*.example.org"];

/// An origin `CORS_ORIGINS` allows, for inputs that give none.
const CORS_DEFAULT_ORIGIN: &str = "https://app.example.com";

/// A CORS preflight through the real router: the first line is the request target (path
/// and query), the second, if any, the `Origin`. The server has no actors, so whatever the
/// path names, the registry's policy decides: 204 with CORS headers for an allowed origin,
/// 403 without them for any other, the methods of a raw request for a path the router
/// serves as one.
pub fn cors_path(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (target, origin) = text
        .split_once('\n')
        .unwrap_or((&text, CORS_DEFAULT_ORIGIN));
    let Ok(request) = Request::builder()
        .method(Method::OPTIONS)
        .uri(target)
        .header(header::ORIGIN, origin)
        .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
        .body(Body::empty())
    else {
        return;
    };
    let path = request.uri().path().to_owned();
    // A header value may hold bytes that are not visible ASCII, and those are no origin a
    // browser sends: only one that reads as text is judged by the policy.
    let origin_text = request.headers()[header::ORIGIN]
        .to_str()
        .ok()
        .map(str::to_owned);
    let response = CORS_ROUTER.with(|router| {
        let call = tower::Service::call(&mut router.clone(), request);
        block_on(call).unwrap_or_else(|never| match never {})
    });
    let allowed = origin_text.is_some_and(|origin| {
        OriginPolicy::allow(CORS_ORIGINS)
            .expect("valid patterns")
            .allows(Some(&origin))
    });
    let status = response.status();
    let headers = response.headers();
    let echoed = headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN);
    if allowed {
        assert_eq!(status, StatusCode::NO_CONTENT, "{target:?} from {origin:?}");
        assert_eq!(echoed.map(|v| v.as_bytes()), Some(origin.as_bytes()));
        let methods = headers
            .get(header::ACCESS_CONTROL_ALLOW_METHODS)
            .expect("a preflight answer names its methods");
        if routed_as_raw(&path) {
            assert!(
                methods
                    .as_bytes()
                    .starts_with(b"GET, HEAD, POST, PUT, PATCH"),
                "{target:?} is a raw request but is answered with {methods:?}"
            );
        }
    } else {
        assert_eq!(status, StatusCode::FORBIDDEN, "{target:?} from {origin:?}");
        assert_eq!(echoed, None, "a refused origin is echoed: {origin:?}");
    }
}

/// Whether the router serves `path` as a raw request (`/gateway/{target}/request[/…]`).
fn routed_as_raw(path: &str) -> bool {
    let mut segments = path.split('/');
    segments.next() == Some("")
        && segments.next() == Some(names::SEGMENT_GATEWAY)
        && segments.next().is_some_and(|target| !target.is_empty())
        && segments.next() == Some(names::SEGMENT_REQUEST)
}

thread_local! {
    /// Built once per thread: a registry and its router are far dearer than one request.
    static CORS_ROUTER: axum::Router = Registry::builder()
        .in_memory()
        .origins(OriginPolicy::allow(CORS_ORIGINS).expect("valid patterns"))
        .build()
        .router();

    /// A runtime without I/O or timers: the checked code awaits nothing that needs them.
    static RUNTIME: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime");
}

fn block_on<F: Future>(future: F) -> F::Output {
    RUNTIME.with(|runtime| runtime.block_on(future))
}

/// The secret of the verifier `jwt_header` checks tokens with (and its seeds are signed with).
#[cfg(feature = "jwt")]
pub(super) const JWT_SECRET: &str = "fuzzing-secret";

/// A token given to an HS256 verifier: its header is read before any signature work, so
/// every input reaches the header parser. Whatever the input, the verifier answers.
#[cfg(feature = "jwt")]
pub fn jwt_header(data: &[u8]) {
    use crate::auth::{AuthError, JwtVerifier};

    let token = String::from_utf8_lossy(data);
    let verifier = JwtVerifier::hs256(JWT_SECRET).expect("a non-empty secret");
    let result = block_on(verifier.verify::<serde_json::Value>(&token));
    if token.split('.').count() != 3 {
        assert_eq!(result, Err(AuthError::Malformed), "{token:?}");
    }
}
