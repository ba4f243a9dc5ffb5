//! CORS for browser clients, from the same origin policies the gateway enforces.
//!
//! A preflight is answered here and never reaches an actor (nothing is created or woken):
//! an allowed origin gets its own origin echoed (never `*` with credentials), the explicit
//! list of headers the client sends, and `Vary: Origin`; a refused one gets 403 and no CORS
//! headers. Actual responses to an allowed origin carry `Access-Control-Allow-Origin` and
//! expose the `x-rivet-*` response headers.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use percent_encoding::percent_decode_str;

use crate::origin::OriginPolicy;
use crate::protocol::names;
use crate::registry::Registry;

/// Request headers the npm client (and ours) may send.
const CLIENT_HEADERS: &[&str] = &[
    "content-type",
    "user-agent",
    names::HEADER_QUERY,
    names::HEADER_ENCODING,
    names::HEADER_CONN_PARAMS,
    names::HEADER_ACTOR,
    names::HEADER_ACTOR_GENERATION,
    names::HEADER_ACTOR_KEY,
    names::HEADER_TARGET,
    names::HEADER_NAMESPACE,
    names::HEADER_TOKEN,
    names::HEADER_SKIP_READY_WAIT,
];

/// Methods of the protocol's endpoints.
const METHODS: &str = "GET, POST, PUT, DELETE, OPTIONS";

/// Methods a raw request (`/gateway/{target}/request/…`) may use.
const RAW_METHODS: &str = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS";

/// Response headers a browser script may read.
const EXPOSED_HEADERS: &[&str] = &[
    names::HEADER_ACTOR,
    names::HEADER_ACTOR_KEY,
    names::HEADER_RAY_ID,
];

pub(crate) async fn cors(
    State(registry): State<Registry>,
    request: Request,
    next: Next,
) -> Response {
    let Some(origin) = request.headers().get(header::ORIGIN).cloned() else {
        // The answer differs by `Origin`: a cache must not give this one to a browser.
        let mut response = next.run(request).await;
        response
            .headers_mut()
            .append(header::VARY, HeaderValue::from_static("Origin"));
        return response;
    };
    let policy = policy_for(&registry, request.uri()).await;
    let allowed = origin
        .to_str()
        .is_ok_and(|origin| policy.allows(Some(origin)));
    let preflight = request.method() == Method::OPTIONS
        && request
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    if preflight {
        let mut response = if allowed {
            let mut response = StatusCode::NO_CONTENT.into_response();
            let headers = response.headers_mut();
            let (methods, allowed_headers) = if is_raw_request(request.uri()) {
                // The actor's own HTTP API: its methods and headers are its business
                // (the origin was checked above).
                (RAW_METHODS, raw_allow_headers(&registry, request.headers()))
            } else {
                (METHODS, allow_headers(&registry))
            };
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static(methods),
            );
            headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, allowed_headers);
            headers.insert(
                header::ACCESS_CONTROL_MAX_AGE,
                HeaderValue::from_static("600"),
            );
            allow(headers, origin, &policy);
            response
        } else {
            StatusCode::FORBIDDEN.into_response()
        };
        response
            .headers_mut()
            .append(header::VARY, HeaderValue::from_static("Origin"));
        return response;
    }
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.append(header::VARY, HeaderValue::from_static("Origin"));
    if allowed {
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_str(&EXPOSED_HEADERS.join(", "))
                .expect("header names are valid header text"),
        );
        allow(headers, origin, &policy);
    }
    response
}

/// The allowed origin, echoed; credentials only for an explicit allowlist.
fn allow(headers: &mut HeaderMap, origin: HeaderValue, policy: &OriginPolicy) {
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    if !policy.is_any() {
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
            HeaderValue::from_static("true"),
        );
    }
}

fn allow_headers(registry: &Registry) -> HeaderValue {
    let mut list: Vec<&str> = CLIENT_HEADERS.to_vec();
    list.extend(
        registry
            .server_config()
            .cors_headers
            .iter()
            .map(String::as_str),
    );
    HeaderValue::from_str(&list.join(", "))
        .unwrap_or_else(|_| HeaderValue::from_static("content-type"))
}

/// Whether the path is a raw request to an actor's `#[on_request]`.
fn is_raw_request(uri: &axum::http::Uri) -> bool {
    let mut segments = uri.path().trim_start_matches('/').split('/');
    segments.next() == Some(names::SEGMENT_GATEWAY)
        && segments.nth(1) == Some(names::SEGMENT_REQUEST)
}

/// The protocol's headers plus whatever the preflight asks for.
fn raw_allow_headers(registry: &Registry, request: &HeaderMap) -> HeaderValue {
    let protocol = allow_headers(registry);
    let Some(asked) = request
        .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
        .and_then(|asked| asked.to_str().ok())
        .filter(|asked| !asked.trim().is_empty())
    else {
        return protocol;
    };
    let joined = format!("{}, {asked}", protocol.to_str().unwrap_or("content-type"));
    HeaderValue::from_str(&joined).unwrap_or(protocol)
}

/// The policy of the actor a path names (by type name with `rvt-method`, or by id through
/// a storage lookup); the registry's for anything else.
async fn policy_for(registry: &Registry, uri: &axum::http::Uri) -> OriginPolicy {
    let mut segments = uri.path().trim_start_matches('/').split('/');
    if segments.next() != Some(names::SEGMENT_GATEWAY) {
        return registry.default_origin_policy().clone();
    }
    let Some(target) = segments.next().map(percent_decode) else {
        return registry.default_origin_policy().clone();
    };
    // Read as the gateway reads it, so both pick the same actor (`rvt%2Dmethod` included);
    // a query the gateway refuses gets the registry's policy.
    let by_name = match crate::server::request::query(uri) {
        Ok(query) => query.contains_key(names::QUERY_METHOD),
        Err(_) => return registry.default_origin_policy().clone(),
    };
    if by_name {
        return registry.origin_policy(&target).clone();
    }
    let id = target.split_once('@').map_or(target.as_str(), |(id, _)| id);
    match registry.storage().find_by_id(id).await {
        Ok(Some(record)) => registry.origin_policy(&record.name).clone(),
        _ => registry.default_origin_policy().clone(),
    }
}

/// `%XX` escapes of a path segment. Malformed escapes stay as written and bytes that are
/// not UTF-8 become U+FFFD: the result only picks a policy, and a name no actor has gets
/// the registry's.
fn percent_decode(segment: &str) -> String {
    percent_decode_str(segment).decode_utf8_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::percent_decode;

    #[test]
    fn decoding_a_path_segment_never_fails() {
        assert_eq!(percent_decode("chat%20room"), "chat room");
        assert_eq!(percent_decode("%C3%A9"), "é");
        // Malformed escapes stay as written, even before a multi-byte character.
        assert_eq!(percent_decode("%a\u{e9}"), "%a\u{e9}");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
        // Bytes that are not UTF-8 become U+FFFD.
        assert_eq!(percent_decode("a%FFb"), "a\u{fffd}b");
    }
}
