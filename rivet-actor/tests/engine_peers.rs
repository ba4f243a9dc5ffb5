//! Between actors in engine mode: `c.client()`'s `Peer::send` to an actor this host does not
//! run goes through the engine's gateway, and the message is queued there; a turn run again
//! for a request the engine delivered again makes its calls again with the same ids (signed
//! with the pool's call secret across the gateway), so they are answered from the record.

#[path = "support/engine.rs"]
mod engine;
#[path = "support/js.rs"]
mod js;
#[path = "support/engine_tally.rs"]
mod tally;

use std::time::Duration;

use engine::{Engine, retry};
use rivet_actor::engine::{EngineConfig, EngineHost};
use rivet_actor::prelude::*;
use tally::Tally;

/// The pool the tallies are placed in.
const POOL: &str = "default";

/// A fresh engine (the caller holds `engine::serial()`), a host of tallies on it, and a
/// client of its gateway.
async fn tallies() -> (Engine, EngineHost, Client) {
    js::install_node_modules();
    let engine = Engine::start().await;
    engine.upsert_pool(POOL).await;
    let registry = tally::registry();
    // A token (the test engine requires none, and takes one) and the pool's call secret.
    let mut config = EngineConfig::new(engine.endpoint(), "default", POOL);
    config.token = Some("peer-token".into());
    config.call_secret = Some("pool-secret".into());
    let host = registry
        .serve_engine(config)
        .await
        .expect("the engine accepts the host");
    let client = Client::new(engine.endpoint()).engine("default", POOL);
    (engine, host, client)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queue_send_to_an_actor_not_hosted_here_goes_through_the_engine() {
    let _turn = engine::serial().await;
    let (_engine, host, client) = tallies().await;
    let sender = client.get_or_create::<Tally>(["sender"]);
    retry("the first call", Duration::from_secs(60), || sender.add(0)).await;
    // The receiver does not exist yet: the first send creates it through the engine's
    // gateway (the second finds it on this host), so the total fails without that path.
    sender.queue_add("receiver".into(), 5).await.unwrap();
    sender.queue_add("receiver".into(), 2).await.unwrap();
    let receiver = client.get_or_create::<Tally>(["receiver"]);
    assert_eq!(receiver.take_adds().await.unwrap(), 7);
    assert_eq!(receiver.take_adds().await.unwrap(), 7);
    host.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_turn_run_again_for_a_request_delivered_again_applies_its_calls_once() {
    let _turn = engine::serial().await;
    let (_engine, host, client) = tallies().await;
    let caller = client.get_or_create::<Tally>(["caller"]);
    retry("the first call", Duration::from_secs(60), || caller.add(0)).await;
    // One request delivered twice, as the engine does when its host dies before answering:
    // the same ray id.
    let delivered = client
        .clone()
        .header("x-rivet-ray-id", "ray-failover-1")
        .get_or_create::<Tally>(["caller"]);
    // The first time the callee does not exist: the call goes through the gateway (signed
    // id in a header); then the turn is cut off before it commits.
    tally::CUT_OFF_AFTER_POKE.store(true, std::sync::atomic::Ordering::SeqCst);
    let cut_off = delivered.poke("callee".into()).await.unwrap_err();
    assert_eq!(cut_off.code(), Some("user_error"), "{cut_off:?}");
    // Run again, the call is made again, in-process now (the callee is on this host): the
    // callee answers it from its record.
    assert_eq!(delivered.poke("callee".into()).await.unwrap(), 1);
    let callee = client.get_or_create::<Tally>(["callee"]);
    assert_eq!(callee.read().await.unwrap().0, 1);
    // Another request's call applies.
    assert_eq!(caller.poke("callee".into()).await.unwrap(), 2);
    host.shutdown().await;
}
