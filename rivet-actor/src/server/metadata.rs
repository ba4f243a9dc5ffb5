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

/// Liveness.
pub(crate) fn health() -> HttpResponse {
    json_response(
        StatusCode::OK,
        &serde_json::json!({ "status": "ok", "runtime": "rivet-actor", "version": env!("CARGO_PKG_VERSION") }),
    )
}
