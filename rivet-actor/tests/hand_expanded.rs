//! The executor driven by the hand-written expansion in `common/chat_room.rs`.

mod common;

use std::sync::{Arc, Mutex};

use common::chat_room::*;
use rivet_actor::prelude::*;
use rivet_actor::value::Value;

// ---------------------------------------------------------------- the tests

include!("common/chat_room_tests.rs");

#[tokio::test]
async fn a_turn_that_changes_nothing_writes_nothing() {
    let test = ActorTest::<ChatRoom>::new();
    let room = test
        .get_or_create(["quiet"])
        .await
        .unwrap()
        .params(params("a"));
    room.send_message("x".into()).await.unwrap();
    let storage = test.registry().storage();
    let before = storage.stats().commits;
    for _ in 0..10 {
        room.get_messages().await.unwrap(); // &self: never encoded
    }
    let conn = room.connect().await.unwrap(); // hooks that change nothing
    conn.get_messages().await.unwrap();
    assert_eq!(
        storage.stats().commits,
        before,
        "a turn without a state change wrote"
    );
    conn.send_message("y".into()).await.unwrap();
    assert_eq!(storage.stats().commits, before + 1);
}
