//! `GET /metadata` (the client waits for it before any call) and `GET /health`.

use http::StatusCode;

use crate::registry::Registry;
use crate::server::request::HttpResponse;
use crate::server::respond::json_response;

/// What the npm client reads before its first call.
pub(crate) fn metadata(registry: &Registry) -> HttpResponse {
    let names: serde_json::Map<String, serde_json::Value> = registry
        .actor_types()
        .map(|actor| {
            (
                actor.name().to_owned(),
                serde_json::json!({ "metadata": {} }),
            )
        })
        .collect();
    json_response(
        StatusCode::OK,
        &serde_json::json!({
            "runtime": "rivet-actor",
            "version": env!("CARGO_PKG_VERSION"),
            "envoyProtocolVersion": 1,
            "actorNames": names,
        }),
    )
}

/// `GET /metrics` (admin token): Prometheus' text format.
pub(crate) fn metrics(registry: &Registry, headers: &http::HeaderMap) -> HttpResponse {
    if let Err(err) = crate::server::actors_api::require_admin(registry, headers) {
        return crate::server::respond::error_response(crate::protocol::Encoding::Json, &err);
    }
    let awake: Vec<_> = registry
        .actor_types()
        .map(|actor| (actor.name(), actor.awake(), actor.parked()))
        .collect();
    let text = registry
        .metrics()
        .render(&awake, registry.storage().stats());
    let mut response = http::Response::new(axum::body::Body::from(text));
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    response
}

/// Liveness.
pub(crate) fn health(registry: &Registry) -> HttpResponse {
    if !registry.storage().healthy() {
        return json_response(
            StatusCode::SERVICE_UNAVAILABLE,
            &serde_json::json!({ "status": "unhealthy", "reason": "storage cannot write" }),
        );
    }
    json_response(
        StatusCode::OK,
        &serde_json::json!({ "status": "ok", "runtime": "rivet-actor", "version": env!("CARGO_PKG_VERSION") }),
    )
}
