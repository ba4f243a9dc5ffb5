//! A host process for engine mode: serves [`Ledger`] for the engine that
//! `RIVET_ENGINE_ENDPOINT` names (pool `RIVET_ENGINE_POOL`), prints `READY` once the engine
//! accepted it, and leaves gracefully on SIGTERM (the engine moves its actors at once). Run
//! several on one pool to spread actors over them:
//! `RIVET_ENGINE_ENDPOINT=http://127.0.0.1:6420 cargo run -p rivet-actor-examples --features engine --bin engine-host`.

use rivet_actor::Registry;
use rivet_actor::engine::EngineConfig;
use rivet_actor_examples::ledger::Ledger;
use tokio::signal::unix::{SignalKind, signal};

#[tokio::main]
async fn main() {
    let config = EngineConfig::from_env().expect("RIVET_ENGINE_ENDPOINT names the engine");
    let registry = Registry::builder().engine().register::<Ledger>().build();
    let host = registry
        .serve_engine(config)
        .await
        .expect("the engine accepts the host");
    println!("READY");
    let mut terminate = signal(SignalKind::terminate()).expect("SIGTERM can be handled");
    terminate.recv().await;
    host.shutdown().await;
}
