//! Between actors in engine mode: `c.client()`'s `Peer::send` to an actor this host does not
//! run goes through the engine's gateway, and the message is queued there; a call's own id
//! (`x-actor-call-id`, what a turn run again after a failover sends its calls with) crosses
//! the gateway, so the call made again is answered from the record.

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
use tally::{Scroll, Tally};

/// The pool the tallies are placed in.
const POOL: &str = "default";

/// A fresh engine (the caller holds `engine::serial()`), a host of tallies on it, and a
/// client of its gateway.
async fn tallies() -> (Engine, EngineHost, Client) {
    js::install_node_modules();
    let engine = Engine::start().await;
    engine.upsert_pool(POOL).await;
    let registry = Registry::builder()
        .engine()
        .register::<Tally>()
        .register::<Scroll>()
        .build();
    let host = registry
        .serve_engine(EngineConfig::new(engine.endpoint(), "default", POOL))
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
async fn a_call_made_again_with_its_id_through_the_engine_applies_once() {
    let _turn = engine::serial().await;
    let (_engine, host, client) = tallies().await;
    let tally = client.get_or_create::<Tally>(["counted-once"]);
    retry("the first call", Duration::from_secs(60), || tally.add(0)).await;
    // The same call twice, as a turn run again sends it: each a new request through the
    // gateway (a fresh ray id), the same call id.
    let again = client
        .clone()
        .header("x-actor-call-id", "ray-0_c0")
        .get_or_create::<Tally>(["counted-once"]);
    assert_eq!(again.add(5).await.unwrap(), 5);
    assert_eq!(again.add(5).await.unwrap(), 5);
    // Another id applies.
    let other = client
        .header("x-actor-call-id", "ray-0_c1")
        .get_or_create::<Tally>(["counted-once"]);
    assert_eq!(other.add(5).await.unwrap(), 10);
    assert_eq!(tally.add(0).await.unwrap(), 10);
    host.shutdown().await;
}
