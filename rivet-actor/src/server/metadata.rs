//! `GET /metadata` (the client waits for it before any call) and `GET /health`.

use axum::Json;
use axum::extract::State;

use crate::registry::Registry;

/// What the npm client reads before its first call.
pub(crate) async fn metadata(State(registry): State<Registry>) -> Json<serde_json::Value> {
    let names: serde_json::Map<String, serde_json::Value> = registry
        .actor_types()
        .map(|actor| {
            (
                actor.name().to_owned(),
                serde_json::json!({ "metadata": {} }),
            )
        })
        .collect();
    Json(serde_json::json!({
        "runtime": "rivet-actor",
        "version": env!("CARGO_PKG_VERSION"),
        "envoyProtocolVersion": 1,
        "actorNames": names,
    }))
}

/// Liveness.
pub(crate) async fn health() -> Json<serde_json::Value> {
    Json(
        serde_json::json!({ "status": "ok", "runtime": "rivet-actor", "version": env!("CARGO_PKG_VERSION") }),
    )
}
