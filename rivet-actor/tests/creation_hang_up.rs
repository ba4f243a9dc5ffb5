//! A client that hangs up while its request creates the actor leaves no actor behind: the
//! creation finishes on its own, and the actor nobody was admitted to is removed.

#[path = "support/hooked_storage.rs"]
mod hooked;

use std::time::Duration;

use hooked::{Hooked, PassThrough};
use rivet_actor::prelude::*;

#[derive(Default, Serialize, Deserialize)]
pub struct Counter {
    n: u64,
}

#[actor]
impl Counter {
    #[action]
    fn get(&self) -> u64 {
        self.n
    }
}

#[tokio::test]
async fn a_client_gone_during_the_creation_leaves_no_actor() {
    let mut storage = Hooked::new(PassThrough);
    storage.insert_delay = Duration::from_millis(300);
    let registry = Registry::builder()
        .storage(storage)
        .register::<Counter>()
        .build();
    let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let url = format!(
        "{}/gateway/counter/action/get?rvt-method=getOrCreate&rvt-key=k",
        server.endpoint()
    );
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let gave_up = http
        .post(&url)
        .header("content-type", "application/json")
        .body(r#"{"args":[]}"#)
        .timeout(Duration::from_millis(100))
        .send()
        .await;
    assert!(gave_up.is_err(), "the creation takes 300 ms");
    tokio::time::sleep(Duration::from_millis(700)).await;
    let actors = registry.storage().list_actors(None).await.unwrap();
    assert!(actors.is_empty(), "left behind: {actors:?}");
    // A client that waits gets its actor.
    let answer = http
        .post(&url)
        .header("content-type", "application/json")
        .body(r#"{"args":[]}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(registry.storage().list_actors(None).await.unwrap().len(), 1);
    server.shutdown().await.unwrap();
}
