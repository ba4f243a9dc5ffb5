//! Durability on the embedded SQLite storage: restarts, undecodable state, and a real server
//! process killed with SIGKILL while clients stream acknowledged writes.

mod common;
#[path = "support/process.rs"]
mod process;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use common::chat_room::*;
use rivet_actor::prelude::*;
use rivet_actor::storage::{ActorWrite, SqliteStorage, Storage};

fn params(token: &str) -> ConnParams {
    ConnParams {
        auth_token: token.into(),
    }
}

#[test]
fn ids_keys_and_state_survive_a_restart() {
    let dir = process::temp_dir("restart");
    let first_id = process::in_process(async {
        let registry = Registry::builder()
            .data_dir(&dir)
            .register::<ChatRoom>()
            .build();
        let room = registry
            .get_or_create::<ChatRoom>(["durable"])
            .await
            .unwrap()
            .params(params("a"));
        room.send_message("kept".into()).await.unwrap();
        // A failed turn persists nothing.
        let _ = room.send_message("fail-after-mutating".into()).await;
        room.id().clone()
    });
    process::in_process(async {
        let registry = Registry::builder()
            .data_dir(&dir)
            .register::<ChatRoom>()
            .build();
        let room = registry
            .get::<ChatRoom>(["durable"])
            .await
            .unwrap()
            .params(params("a"));
        assert_eq!(room.id(), &first_id);
        let texts: Vec<_> = room
            .get_messages()
            .await
            .unwrap()
            .into_iter()
            .map(|m| m.text)
            .collect();
        assert_eq!(texts, ["kept"]);
    });
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn undecodable_state_fails_that_actor_only_and_keeps_its_bytes() {
    let dir = process::temp_dir("corrupt");
    let broken_id = process::in_process(async {
        let registry = Registry::builder()
            .data_dir(&dir)
            .register::<ChatRoom>()
            .build();
        let broken = registry
            .get_or_create::<ChatRoom>(["broken"])
            .await
            .unwrap()
            .params(params("a"));
        broken.send_message("x".into()).await.unwrap();
        registry.get_or_create::<ChatRoom>(["fine"]).await.unwrap();
        broken.id().clone()
    });
    // Replace the stored state with CBOR of the wrong shape (a text string).
    let garbage = vec![0x63, b'b', b'a', b'd'];
    process::in_process(async {
        let storage = SqliteStorage::open(&dir).unwrap();
        let write = ActorWrite {
            state: Some(garbage.clone()),
            ..Default::default()
        };
        storage.commit(broken_id.as_str(), write).await.unwrap();
    });
    process::in_process(async {
        let registry = Registry::builder()
            .data_dir(&dir)
            .register::<ChatRoom>()
            .build();
        let broken = registry
            .get::<ChatRoom>(["broken"])
            .await
            .unwrap()
            .params(params("a"));
        let err = broken.get_messages().await.unwrap_err();
        assert_eq!(err.code(), Some("start_failed"), "{err:?}");
        let fine = registry
            .get::<ChatRoom>(["fine"])
            .await
            .unwrap()
            .params(params("a"));
        fine.send_message("works".into()).await.unwrap();
        let stored = registry
            .storage()
            .load_state(broken_id.as_str())
            .await
            .unwrap();
        assert_eq!(
            stored,
            Some(garbage.clone()),
            "the stored bytes must not be overwritten"
        );
    });
    let _ = std::fs::remove_dir_all(&dir);
}

// ------------------------------------------------------------------ the crash test

/// Not a test on its own: the server process the crash test starts and kills. Without the
/// environment variables it returns at once.
#[test]
fn crash_child_server() {
    process::serve_child(|dir| {
        Registry::builder()
            .data_dir(dir)
            .register::<ChatRoom>()
            .build()
    });
}

#[test]
fn acknowledged_writes_survive_sigkill() {
    let cycles: usize = std::env::var("RIVET_CRASH_CYCLES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(4);
    let clients = 6;
    let dir = process::temp_dir("crash");
    let addr_file = dir.with_extension("addr");
    std::fs::create_dir_all(&dir).unwrap();
    // Every acknowledged message, and every message whose answer never came.
    let mut acked: HashSet<String> = HashSet::new();
    let mut maybe: HashSet<String> = HashSet::new();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    for cycle in 0..cycles {
        let kill_after = Duration::from_millis(150 + process::jitter(400));
        // Two clients per actor: concurrent writers to one actor and to several.
        let written = process::write_until_killed(
            &runtime,
            "crash_child_server",
            &dir,
            cycle,
            clients,
            kill_after,
            |client, c, text| async move {
                let room = client
                    .get_or_create::<ChatRoom>([format!("room-{}", c % 3)])
                    .params(params("a"));
                room.send_message(text).await.is_ok()
            },
        );
        let before = acked.len();
        acked.extend(written.acked);
        maybe.extend(written.maybe);
        assert!(
            acked.len() > before,
            "cycle {cycle}: no write was acknowledged before the kill"
        );
    }
    // Restart once more and read everything back.
    let (mut child, endpoint) = process::spawn_child("crash_child_server", &dir, &addr_file);
    let stored = runtime.block_on(async {
        let client = Client::new(endpoint);
        let mut stored: HashMap<String, usize> = HashMap::new();
        for room in 0..3 {
            let handle = client
                .get::<ChatRoom>([format!("room-{room}")])
                .params(params("a"));
            for message in handle.get_messages().await.unwrap() {
                *stored.entry(message.text).or_default() += 1;
            }
        }
        stored
    });
    child.kill().unwrap();
    child.wait().unwrap();
    let lost: Vec<_> = acked
        .iter()
        .filter(|text| !stored.contains_key(*text))
        .collect();
    assert!(
        lost.is_empty(),
        "acknowledged writes lost after SIGKILL: {lost:?}"
    );
    let doubled: Vec<_> = stored.iter().filter(|(_, n)| **n > 1).collect();
    assert!(doubled.is_empty(), "writes applied twice: {doubled:?}");
    let unknown: Vec<_> = stored
        .keys()
        .filter(|t| !acked.contains(*t) && !maybe.contains(*t))
        .collect();
    assert!(unknown.is_empty(), "writes nobody sent: {unknown:?}");
    println!(
        "{cycles} SIGKILL cycles: {} acknowledged writes all present, {} unacknowledged of which {} landed",
        acked.len(),
        maybe.len(),
        maybe.iter().filter(|t| stored.contains_key(*t)).count()
    );
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_file(&addr_file);
}
