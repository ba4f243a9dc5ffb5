//! The real npm client (`rivetkit` 2.3.19, pinned in `tests/js/package-lock.json`) against
//! a rivet-actor server, in every encoding (JSON, CBOR, BARE and the client's default). Installs its node modules itself; fails loudly
//! without node and npm.

mod common;
#[path = "support/js.rs"]
mod js;

use common::chat_room::ChatRoom;
use rivet_actor::Registry;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn npm_client_against_the_chat_room() {
    js::install_node_modules();
    let registry = Registry::builder()
        .in_memory()
        .register::<ChatRoom>()
        .build();
    let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let endpoint = server.endpoint();
    for &encoding in js::ENCODINGS {
        let endpoint = endpoint.clone();
        tokio::task::spawn_blocking(move || {
            js::run_js("chat_room.test.mjs", &endpoint, encoding, &[])
        })
        .await
        .unwrap();
    }
    server.shutdown().await.unwrap();
}
