//! The seed documents' TypeScript client snippets (`tests/js/seeds.test.mjs`) with the real
//! npm client (`rivetkit` 2.3.19, pinned in `tests/js/package-lock.json`) against the seed
//! registry, in every encoding (JSON, CBOR, BARE and the client's default). Installs its node modules itself; fails loudly without node
//! and npm.

mod common;
#[path = "../../rivet-actor/tests/support/js.rs"]
mod js;

use common::{JWT_SECRET, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn npm_client_runs_the_seed_snippets() {
    js::install_node_modules();
    let (_registry, server, _client) = start().await;
    let endpoint = server.endpoint();
    for &encoding in js::ENCODINGS {
        let endpoint = endpoint.clone();
        tokio::task::spawn_blocking(move || {
            js::run_js(
                "seeds.test.mjs",
                &endpoint,
                encoding,
                &[("JWT_SECRET", JWT_SECRET)],
            )
        })
        .await
        .unwrap();
    }
    server.shutdown().await.unwrap();
}
