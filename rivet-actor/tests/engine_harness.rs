//! The engine test harness (`support/engine.rs`) against the real Rivet Engine 2.3.19, and
//! the reference JS host (`tests/js/engine_actor.mjs`, RivetKit 2.3.19) serving through it.
//! Installs the node modules (which carry the engine binary) itself; needs node and npm.

#[path = "support/engine.rs"]
mod engine;
#[path = "support/js.rs"]
mod js;

use std::time::Duration;

use engine::{ENGINE_VERSION, Engine, JsHost, retry};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_starts_keeps_pools_across_a_restart_and_runs_beside_another() {
    let _turn = engine::serial().await;
    js::install_node_modules();
    let mut first = Engine::start().await;
    let health = first.health().await;
    assert_eq!(health["status"], "ok", "{health}");
    assert_eq!(health["runtime"], "engine", "{health}");
    assert_eq!(health["version"], ENGINE_VERSION, "{health}");

    first.upsert_pool("harness-pool").await;
    assert!(first.pools().await.contains(&"harness-pool".to_owned()));

    // A second engine at the same time: its own ports and data, the first one's pool
    // unknown to it.
    let second = Engine::start().await;
    assert_ne!(first.endpoint(), second.endpoint());
    assert_eq!(second.health().await["version"], ENGINE_VERSION);
    assert!(second.pools().await.is_empty());
    drop(second);

    // Graceful stop, then a new process on the same data finds the pool again. `first`
    // stays alive (owning the directory) until `restarted` has dropped.
    first.stop().await;
    let restarted = Engine::start_in(first.data_dir().to_path_buf()).await;
    assert_eq!(
        restarted.pools().await,
        vec!["harness-pool".to_owned()],
        "pool lost across the restart; log:\n{}",
        restarted.log_tail(20)
    );
}

/// `POST /gateway/jsCounter/action/increment` by name (get-or-create on `pool`, key `k`),
/// as the npm client sends it: `{"output": …}` on success.
async fn increment(engine: &Engine, pool: &str, amount: i64) -> Result<Value, String> {
    let url = format!(
        "{}/gateway/jsCounter/action/increment?rvt-namespace=default&rvt-method=getOrCreate\
         &rvt-runner={pool}&rvt-key=k&rvt-crash-policy=sleep",
        engine.endpoint()
    );
    let response = reqwest::Client::new()
        .post(url)
        .header("x-rivet-encoding", "json")
        .json(&json!({ "args": [amount] }))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status();
    let body = response.text().await.map_err(|e| e.to_string())?;
    if !status.is_success() {
        return Err(format!("{status}: {body}"));
    }
    serde_json::from_str(&body).map_err(|e| format!("{e}: {body}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn js_host_serves_actions_through_the_engine_gateway() {
    let _turn = engine::serial().await;
    js::install_node_modules();
    let engine = Engine::start().await;
    engine.upsert_pool("js-pool").await;
    let host = JsHost::start(&engine, "js-pool").await;

    // The first call creates the actor and waits for it to start: retried, as every first
    // request to the engine.
    let first = retry("first increment", Duration::from_secs(30), || {
        increment(&engine, "js-pool", 5)
    })
    .await;
    assert_eq!(
        first,
        json!({"output": 5}),
        "host output:\n{}",
        host.output()
    );
    let second = increment(&engine, "js-pool", 2).await.unwrap();
    assert_eq!(second, json!({"output": 7}));

    let ids = engine.actor_ids("jsCounter").await;
    assert_eq!(ids.len(), 1, "{ids:?}");
}
