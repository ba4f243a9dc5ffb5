//! The access-control seed: `guardedChatRoom`'s fail-by-default `can_invoke` for every kind
//! of invocation (actions, event subscriptions, queue sends, raw requests, raw WebSockets),
//! and `moderationBoard`'s per-item gates (`#[can_subscribe]`, `#[can_publish]`), over HTTP
//! and WebSocket.

mod common;

use std::time::Duration;

use common::*;
use futures_util::{SinkExt, StreamExt};
use rivet_actor::queue::QueueSendResult;
use rivet_actor_examples::seeds::access_control::{
    AdminCommand, ChatMessage, GuardedChatRoom, Job, Secret,
};
use rivet_actor_examples::seeds::forum::ConnParams;
use rivet_actor_examples::seeds::gates::{BanRequest, ModerationBoard, Report};
use tokio_tungstenite::tungstenite::Message;

#[tokio::test]
async fn allowed_actions_pass_and_declared_but_unlisted_ones_are_forbidden() {
    let (_registry, server, client) = start().await;
    let key = key("actions");
    let room = client.get_or_create::<GuardedChatRoom>([key.as_str()]);
    assert_eq!(room.send_message("first".into()).await.unwrap(), 1);
    // `deleteAll` is declared but not allowed: auth.forbidden, and it ran nothing.
    let err = room.delete_all().await.unwrap_err();
    let err = err.actor_error().unwrap();
    assert_eq!(
        (err.group.as_str(), err.code.as_str()),
        ("auth", "forbidden")
    );
    let response = http_action(&server, "guardedChatRoom", &key, "deleteAll", None, None).await;
    assert_eq!(response.status(), 403);
    let conn = room.connect().await.unwrap();
    assert!(conn.delete_all().await.unwrap_err().is_forbidden());
    assert_eq!(conn.send_message("second".into()).await.unwrap(), 2);
    // An action that does not exist is not found, not forbidden.
    let response = http_action(&server, "guardedChatRoom", &key, "dropTables", None, None).await;
    let body: serde_json::Value = response.json().await.unwrap();
    assert_ne!(body["code"], "forbidden", "{body}");
    conn.close().await;
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn subscriptions_to_messages_pass_and_to_secrets_are_forbidden() {
    let (_registry, server, client) = start().await;
    let key = key("events");
    let room = client.get_or_create::<GuardedChatRoom>([key.as_str()]);
    let conn = room.connect().await.unwrap();
    let mut messages = conn.events::<ChatMessage>();
    let mut secrets = conn.events::<Secret>();
    let refusal = tokio::time::timeout(Duration::from_secs(5), secrets.next())
        .await
        .expect("the refusal of `secrets` arrives")
        .expect("the stream yields it");
    let err = refusal.unwrap_err();
    assert!(err.is_forbidden(), "{err:?}");
    room.send_message("hello".into()).await.unwrap();
    let heard = tokio::time::timeout(Duration::from_secs(5), messages.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(
        heard,
        ChatMessage {
            text: "hello".into()
        }
    );
    // The connection survives the refused subscription.
    assert_eq!(conn.send_message("again".into()).await.unwrap(), 2);
    conn.close().await;
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_jobs_queue_is_allowed_and_the_admin_queue_is_forbidden() {
    let (_registry, server, client) = start().await;
    let key = key("queues");
    let room = client.get_or_create::<GuardedChatRoom>([key.as_str()]);
    // The run loop turns the job into a message and completes it with the room's size.
    let done = room
        .send_and_wait(
            Job {
                task: "resize".into(),
            },
            Duration::from_secs(10),
        )
        .await
        .unwrap();
    assert_eq!(done, QueueSendResult::Completed(Some(1)));
    let err = room
        .send(AdminCommand {
            command: "wipe".into(),
        })
        .await
        .unwrap_err();
    assert!(err.is_forbidden(), "{err:?}");
    assert_eq!(room.send_message("after".into()).await.unwrap(), 2);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn raw_requests_and_websockets_are_allowed() {
    let (_registry, server, client) = start().await;
    let key = key("raw");
    let room = client.get_or_create::<GuardedChatRoom>([key.as_str()]);
    room.send_message("first".into()).await.unwrap();
    let request = rivet_actor::http::Request::get("/messages")
        .body(Vec::new())
        .unwrap();
    let response = room.fetch(request).await.unwrap();
    assert_eq!(response.status(), 200);
    let messages: Vec<String> = serde_json::from_slice(response.body()).unwrap();
    assert_eq!(messages, ["first"]);
    let mut socket = room.websocket("/chat").await.unwrap();
    socket.send(Message::Text("hello".into())).await.unwrap();
    let echo = tokio::time::timeout(Duration::from_secs(5), socket.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(echo, Message::Text("2: hello".into()));
    server.shutdown().await.unwrap();
}

fn token(role: &str) -> ConnParams {
    ConnParams { token: role.into() }
}

#[tokio::test]
async fn per_item_gates_on_the_moderation_board() {
    let (_registry, server, client) = start().await;
    let key = key("board");
    let board = client.get_or_create::<ModerationBoard>([key.as_str()]);
    let user = board.params(token("user"));
    user.send(Report {
        text: "spam".into(),
    })
    .await
    .unwrap();
    // `queues.bans.canPublish`: admins only.
    let err = user
        .send(BanRequest {
            user: "spammer".into(),
        })
        .await
        .unwrap_err();
    assert!(err.is_forbidden(), "{err:?}");
    board
        .params(token("admin"))
        .send(BanRequest {
            user: "spammer".into(),
        })
        .await
        .unwrap();
    // Reviewing takes both queues' messages, once.
    let err = user.review().await.unwrap_err();
    assert!(err.is_forbidden(), "{err:?}");
    let moderator = board.params(token("moderator"));
    assert_eq!(
        moderator.review().await.unwrap(),
        ["report: spam", "ban: spammer"]
    );
    assert!(moderator.review().await.unwrap().is_empty());
    server.shutdown().await.unwrap();
}
