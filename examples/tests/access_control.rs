//! The access-control seed: `guardedChatRoom`'s fail-by-default `can_invoke`, for actions and
//! event subscriptions (queue sends and raw handlers are not served yet), over HTTP and
//! WebSocket.

mod common;

use std::time::Duration;

use common::*;
use rivet_actor_examples::seeds::access_control::{ChatMessage, GuardedChatRoom, Secret};

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
