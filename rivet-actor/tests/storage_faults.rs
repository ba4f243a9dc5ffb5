//! When the storage's writer thread dies: `/health` says unhealthy, and every write fails at
//! once with a typed (masked) error instead of hanging or being acknowledged. When the disk
//! is full (a size-limited database file, which fails writes with the same SQLITE_FULL a
//! full filesystem does): writes fail with `actor.storage_full`, nothing unacknowledged is
//! kept, and writes succeed again once there is room.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::chat_room::ChatRoom;
use common::server::params;
use rivet_actor::prelude::*;
use rivet_actor::server::Server;
use rivet_actor::storage::SqliteStorage;

/// A chat-room server on a fresh SQLite storage in `dir`, with the storage to inject faults.
async fn serve_fresh(dir: &std::path::Path) -> (Arc<SqliteStorage>, Registry, Server) {
    let _ = std::fs::remove_dir_all(dir);
    let storage = Arc::new(SqliteStorage::open(dir).unwrap());
    let registry = Registry::builder()
        .shared_storage(storage.clone())
        .register::<ChatRoom>()
        .build();
    let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    (storage, registry, server)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_writer_makes_health_unhealthy_and_writes_fail_fast() {
    let dir = std::env::temp_dir().join(format!("rivet-actor-faults-{}", std::process::id()));
    let (storage, registry, server) = serve_fresh(&dir).await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_fails_writes_with_a_typed_error_and_service_resumes_with_room() {
    let dir = std::env::temp_dir().join(format!("rivet-actor-full-{}", std::process::id()));
    let (storage, registry, server) = serve_fresh(&dir).await;
    let room = Client::new(server.endpoint())
        .get_or_create::<ChatRoom>(["full"])
        .params(params("a"));
    room.send_message("before the limit".into()).await.unwrap();

    storage.limit_size(Some(256 * 1024));
    let mut acknowledged = vec!["before the limit".to_owned()];
    let mut refusal = None;
    for n in 0..300 {
        let text = format!("{n:04}{}", "x".repeat(4096));
        match room.send_message(text.clone()).await {
            Ok(()) => acknowledged.push(text),
            Err(err) => {
                refusal = Some(err);
                break;
            }
        }
    }
    let refusal = refusal.expect("a 256 KiB store took 1.2 MB of messages");
    assert_eq!(refusal.code(), Some("storage_full"), "{refusal:?}");
    assert!(acknowledged.len() > 2, "the limit bit too early");
    // A full disk is not a broken storage: health stays up and reads answer.
    let health = reqwest::get(format!("{}/health", server.endpoint()))
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let texts = |messages: Vec<common::chat_room::Message>| -> Vec<String> {
        messages.into_iter().map(|m| m.text).collect()
    };
    assert_eq!(texts(room.get_messages().await.unwrap()), acknowledged);
    // Still full: refused again, still typed.
    let again = room.send_message("y".repeat(4096)).await.unwrap_err();
    assert_eq!(again.code(), Some("storage_full"));

    // Room returns: the same running server takes writes again.
    storage.limit_size(None);
    room.send_message("after the room returned".into())
        .await
        .unwrap();
    acknowledged.push("after the room returned".into());
    assert_eq!(texts(room.get_messages().await.unwrap()), acknowledged);

    // And exactly what was acknowledged is on disk.
    server.shutdown().await.unwrap();
    drop(registry);
    drop(storage);
    let registry = Registry::builder()
        .data_dir(&dir)
        .register::<ChatRoom>()
        .build();
    let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let room = Client::new(server.endpoint())
        .get::<ChatRoom>(["full"])
        .params(params("a"));
    assert_eq!(texts(room.get_messages().await.unwrap()), acknowledged);
    server.shutdown().await.unwrap();
    drop(registry);
    let _ = std::fs::remove_dir_all(&dir);
}
