//! The npm client's raw-handler and queue suites (`tests/js/raw.test.mjs`,
//! `tests/js/queues.test.mjs`, rivetkit 2.3.19) against the same actors hosted on a real
//! Rivet Engine 2.3.19, through the engine's gateway, in every encoding.

#[path = "../../rivet-actor/tests/support/engine.rs"]
mod engine;
#[path = "../../rivet-actor/tests/support/js.rs"]
mod js;
#[path = "../../tests/tests/support/queue_worker.rs"]
mod queue_worker;
#[path = "../../tests/tests/support/raw_site.rs"]
mod raw_site;

use std::time::Duration;

use engine::{Engine, retry};
use rivet_actor::Registry;
use rivet_actor::engine::{EngineConfig, EngineHost};

/// The pool the npm client places actors in when given only an endpoint.
const POOL: &str = "default";

/// An engine with the suites' actors hosted on it.
async fn hosted() -> (Engine, EngineHost) {
    js::install_node_modules();
    let engine = Engine::start().await;
    engine.upsert_pool(POOL).await;
    let registry = Registry::builder()
        .engine()
        .register::<raw_site::Site>()
        .register::<raw_site::Plain>()
        .register::<queue_worker::Worker>()
        .build();
    let host = registry
        .serve_engine(EngineConfig::new(engine.endpoint(), "default", POOL))
        .await
        .unwrap();
    // The engine's first placement can be slow on two cores.
    let plain = rivet_actor::Client::new(engine.endpoint())
        .engine("default", POOL)
        .get_or_create::<raw_site::Plain>(["warm-up"]);
    retry("the first actor", Duration::from_secs(60), || plain.ping()).await;
    (engine, host)
}

/// Runs `file` in every encoding against the engine's gateway.
async fn run_suite(engine: &Engine, file: &'static str) {
    for &encoding in js::ENGINE_ENCODINGS {
        let endpoint = engine.endpoint();
        let run =
            tokio::task::spawn_blocking(move || js::run_js(file, &endpoint, encoding, &[])).await;
        if let Err(failed) = run {
            eprintln!("engine log:\n{}", engine.log_tail(80));
            std::panic::resume_unwind(failed.into_panic());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn npm_client_raw_fetch_and_websocket_through_the_engine() {
    let _turn = engine::serial().await;
    let (engine, host) = hosted().await;
    run_suite(&engine, "raw.test.mjs").await;
    host.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn npm_client_sends_to_queues_through_the_engine() {
    let _turn = engine::serial().await;
    let (engine, host) = hosted().await;
    run_suite(&engine, "queues.test.mjs").await;
    host.shutdown().await;
}
