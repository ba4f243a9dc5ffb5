//! When the storage's writer thread dies: `/health` says unhealthy, and every write fails at
//! once with a typed (masked) error instead of hanging or being acknowledged.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::chat_room::ChatRoom;
use common::server::params;
use rivet_actor::prelude::*;
use rivet_actor::storage::SqliteStorage;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_writer_makes_health_unhealthy_and_writes_fail_fast() {
    let dir = std::env::temp_dir().join(format!("rivet-actor-faults-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let storage = Arc::new(SqliteStorage::open(&dir).unwrap());
    let registry = Registry::builder()
        .shared_storage(storage.clone())
        .register::<ChatRoom>()
        .build();
    let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let health = || reqwest::get(format!("{}/health", server.endpoint()));
    assert_eq!(health().await.unwrap().status(), 200);
    let room = Client::new(server.endpoint())
        .get_or_create::<ChatRoom>(["faults"])
        .params(params("a"));
    room.send_message("durable".into()).await.unwrap();

    storage.crash_writer_on_next_write();
    let started = Instant::now();
    let err = room.send_message("lost".into()).await.unwrap_err();
    assert!(err.is_internal(), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
    let unhealthy = health().await.unwrap();
    assert_eq!(unhealthy.status(), 503);
    let body: serde_json::Value = unhealthy.json().await.unwrap();
    assert_eq!(body["status"], "unhealthy");
    // Later writes fail at once too; what was acknowledged before is still there to read.
    let started = Instant::now();
    assert!(
        room.send_message("also lost".into())
            .await
            .unwrap_err()
            .is_internal()
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    let texts: Vec<String> = room
        .get_messages()
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.text)
        .collect();
    assert_eq!(texts, ["durable"]);
    server.shutdown().await.unwrap();
    drop(registry);
    let _ = std::fs::remove_dir_all(&dir);
}
