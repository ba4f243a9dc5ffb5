//! The seed documents' TypeScript client snippets (`tests/js/seeds.test.mjs`, the real npm
//! client 2.3.19) against the seed actors hosted on a real Rivet Engine 2.3.19 (engine
//! mode), through the engine's gateway, in every encoding.

mod common;
#[path = "../../rivet-actor/tests/support/engine.rs"]
mod engine;
#[path = "../../rivet-actor/tests/support/js.rs"]
mod js;

use std::time::Duration;

use common::JWT_SECRET;
use engine::{Engine, retry};
use rivet_actor::Client;
use rivet_actor::engine::EngineConfig;
use rivet_actor_examples::seeds;

/// The pool the npm client places actors in when given only an endpoint.
const POOL: &str = "default";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn npm_client_runs_the_seed_snippets_through_the_engine() {
    let _turn = engine::serial().await;
    js::install_node_modules();
    let engine = Engine::start().await;
    engine.upsert_pool(POOL).await;
    let registry = seeds::engine_registry(common::config());
    let host = registry
        .serve_engine(EngineConfig::new(engine.endpoint(), "default", POOL))
        .await
        .unwrap();
    let endpoint = engine.endpoint();
    // The engine's first placement can be slow on two cores.
    let counter = Client::new(&endpoint)
        .engine("default", POOL)
        .header("origin", "https://myapp.com")
        .get_or_create::<seeds::cors::CorsCounter>(["warm-up"]);
    retry("the first seed actor", Duration::from_secs(60), || {
        counter.increment()
    })
    .await;
    for &encoding in js::ENGINE_ENCODINGS {
        let endpoint = endpoint.clone();
        let run = tokio::task::spawn_blocking(move || {
            js::run_js(
                "seeds.test.mjs",
                &endpoint,
                encoding,
                &[("JWT_SECRET", JWT_SECRET)],
            )
        })
        .await;
        if let Err(failed) = run {
            eprintln!("engine log:\n{}", engine.log_tail(80));
            std::panic::resume_unwind(failed.into_panic());
        }
    }
    host.shutdown().await;
}
