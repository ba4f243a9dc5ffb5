//! The server and the typed network client, end to end on 127.0.0.1, with the hand-written
//! chat room of `common/chat_room.rs`, in every encoding (bad input: `bad_input.rs`, `bare.rs`).

mod common;

use common::chat_room::*;
use common::server::{FetchJson, clients, params, start};
use rivet_actor::prelude::*;

#[tokio::test]
async fn stateless_calls_over_http_in_every_encoding() {
    let server = start().await;
    for (client, encoding) in clients(&server) {
        let room = client
            .get_or_create::<ChatRoom>([format!("http-{encoding}")])
            .params(params("a"));
        room.send_message("one".into()).await.unwrap();
        room.send_message("two".into()).await.unwrap();
        let messages = room.get_messages().await.unwrap();
        let texts: Vec<_> = messages.iter().map(|m| m.text.as_str()).collect();
        assert_eq!(texts, ["one", "two"]);
        assert_eq!(messages[0].user_id, "user-a");
    }
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn connections_multiplex_actions_and_deliver_events_to_subscribers_only() {
    let server = start().await;
    for (client, encoding) in clients(&server) {
        let room = client
            .get_or_create::<ChatRoom>(["ws", encoding])
            .params(params("a"));
        let listener = room.connect().await.unwrap();
        let mut news = listener.events::<NewMessage>();
        let other = room.connect().await.unwrap();
        // Many calls in flight on one socket.
        let calls: Vec<_> = (0..20)
            .map(|i| other.send_message(format!("m{i}")))
            .collect();
        for result in futures_util::future::join_all(calls).await {
            result.unwrap();
        }
        let mut got = Vec::new();
        for _ in 0..20 {
            got.push(news.next().await.unwrap().unwrap().text);
        }
        got.sort();
        let mut expected: Vec<_> = (0..20).map(|i| format!("m{i}")).collect();
        expected.sort();
        assert_eq!(got, expected);
        assert_eq!(listener.get_messages().await.unwrap().len(), 20);
        listener.close().await;
        other.close().await;
    }
}

#[tokio::test]
async fn user_errors_reach_the_client_with_code_and_metadata() {
    let server = start().await;
    for (client, encoding) in clients(&server) {
        let room = client
            .get_or_create::<ChatRoom>(["errors", encoding])
            .params(params("a"));
        let err = room.send_message(String::new()).await.unwrap_err();
        let actor = err.actor_error().unwrap();
        assert_eq!(
            (actor.group.as_str(), actor.code.as_str()),
            ("user", "empty")
        );
        assert_eq!(actor.metadata, Some(serde_json::json!({"min": 1})));
        let conn = room.connect().await.unwrap();
        let err = conn.send_message(String::new()).await.unwrap_err();
        assert_eq!(err.code(), Some("empty"));
        // The connection stays usable.
        conn.send_message("after".into()).await.unwrap();
    }
}

#[tokio::test]
async fn forbidden_and_rejected_connections() {
    let server = start().await;
    for (client, encoding) in clients(&server) {
        let guest = client
            .get_or_create::<ChatRoom>(["deny", encoding])
            .params(params("guest"));
        assert!(
            guest
                .send_message("x".into())
                .await
                .unwrap_err()
                .is_forbidden()
        );
        let conn = guest.connect().await.unwrap();
        assert!(
            conn.send_message("x".into())
                .await
                .unwrap_err()
                .is_forbidden()
        );
        let nobody = client
            .get_or_create::<ChatRoom>(["deny", encoding])
            .params(params(""));
        let err = nobody.connect().await.err().unwrap();
        assert_eq!(err.code(), Some("forbidden"), "{err:?}");
        let err = nobody.get_messages().await.unwrap_err();
        assert_eq!(err.code(), Some("forbidden"));
    }
}

#[tokio::test]
async fn panics_are_masked_on_http_and_websocket() {
    let server = start().await;
    for (client, encoding) in clients(&server) {
        let room = client
            .get_or_create::<ChatRoom>(["panic", encoding])
            .params(params("a"));
        let err = room.explode().await.unwrap_err();
        assert!(err.is_internal(), "{err:?}");
        assert!(!format!("{err:?}").contains("secret"));
        let conn = room.connect().await.unwrap();
        let err = conn.explode().await.unwrap_err();
        assert!(err.is_internal());
        assert!(!format!("{err:?}").contains("secret"));
        conn.send_message("still alive".into()).await.unwrap();
    }
}

#[tokio::test]
async fn keys_with_commas_stay_distinct() {
    let server = start().await;
    for (client, encoding) in clients(&server) {
        let joined = client
            .get_or_create::<ChatRoom>(["a,b", encoding])
            .params(params("a"));
        let split = client
            .get_or_create::<ChatRoom>(["a", "b", encoding])
            .params(params("a"));
        joined.send_message("joined".into()).await.unwrap();
        assert!(split.get_messages().await.unwrap().is_empty());
        let a = joined.connect().await.unwrap().ids().unwrap().0;
        let b = split.connect().await.unwrap().ids().unwrap().0;
        assert_ne!(a, b);
    }
}

#[tokio::test]
async fn get_missing_is_not_found_and_unknown_names_are_reported() {
    let server = start().await;
    for (client, _) in clients(&server) {
        let missing = client.get::<ChatRoom>(["nobody"]).params(params("a"));
        assert!(missing.get_messages().await.unwrap_err().is_not_found());
    }
    let http = reqwest::Client::new();
    let response = http
        .post(format!(
            "{}/gateway/noSuchActor/action/x?rvt-method=get&rvt-key=a",
            server.endpoint()
        ))
        .header("content-type", "application/json")
        .body(r#"{"args":[]}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["code"], "unknown_actor");
}

#[tokio::test]
async fn metadata_and_actors_api() {
    let server = start().await;
    let http = reqwest::Client::new();
    let metadata: serde_json::Value = http
        .get(format!("{}/metadata?namespace=default", server.endpoint()))
        .fetch_json()
        .await;
    assert!(metadata["actorNames"]["chatRoom"].is_object(), "{metadata}");
    let body = serde_json::json!({"name": "chatRoom", "key": "org/room", "runner_name_selector": "default", "crash_policy": "sleep"});
    let created: serde_json::Value = http
        .put(format!("{}/actors", server.endpoint()))
        .json(&body)
        .fetch_json()
        .await;
    assert_eq!(created["created"], true);
    assert_eq!(created["actor"]["key"], "org/room");
    let id = created["actor"]["actor_id"].as_str().unwrap().to_owned();
    let again: serde_json::Value = http
        .put(format!("{}/actors", server.endpoint()))
        .json(&body)
        .fetch_json()
        .await;
    assert_eq!(again["created"], false);
    assert_eq!(again["actor"]["actor_id"], id.as_str());
    let conflict = http
        .post(format!("{}/actors", server.endpoint()))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(conflict.status(), 409);
    let found: serde_json::Value = http
        .get(format!(
            "{}/actors?name=chatRoom&key=org%2Froom",
            server.endpoint()
        ))
        .fetch_json()
        .await;
    assert_eq!(found["actors"][0]["actor_id"], id.as_str());
    // Calls by id work, then destroy removes the actor.
    let client = Client::new(server.endpoint());
    let by_id = client
        .get_for_id::<ChatRoom>(rivet_actor::ActorId::new(id.as_str()))
        .params(params("a"));
    by_id.send_message("hello".into()).await.unwrap();
    let deleted = http
        .delete(format!("{}/actors/{id}", server.endpoint()))
        .bearer_auth(common::server::ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 200);
    assert!(by_id.get_messages().await.unwrap_err().is_not_found());
}

#[tokio::test]
async fn connections_reconnect_and_resubscribe_after_the_server_restarts() {
    // Two servers in turn on one port and one storage: a restart as the client sees it.
    let storage: std::sync::Arc<dyn rivet_actor::storage::Storage> =
        std::sync::Arc::new(rivet_actor::storage::MemoryStorage::new());
    let serve = |addr: std::net::SocketAddr| {
        let registry = Registry::builder()
            .shared_storage(storage.clone())
            .register::<ChatRoom>()
            .build();
        async move { registry.bind(addr).await.unwrap() }
    };
    let first = serve("127.0.0.1:0".parse().unwrap()).await;
    let addr = first.local_addr();
    let client = Client::new(first.endpoint());
    let room = client
        .get_or_create::<ChatRoom>(["reconnect"])
        .params(params("a"));
    let conn = room.connect().await.unwrap();
    let mut news = conn.events::<NewMessage>();
    let mut status = conn.status_changes();
    room.send_message("before".into()).await.unwrap();
    assert_eq!(news.next().await.unwrap().unwrap().text, "before");

    first.shutdown().await.unwrap();
    status
        .wait_for(|s| *s != rivet_actor::ConnStatus::Connected)
        .await
        .unwrap();
    let second = serve(addr).await;
    status
        .wait_for(|s| *s == rivet_actor::ConnStatus::Connected)
        .await
        .unwrap();
    // The subscription was re-sent: events flow again, and calls work on the new socket.
    room.send_message("after".into()).await.unwrap();
    assert_eq!(news.next().await.unwrap().unwrap().text, "after");
    assert_eq!(conn.get_messages().await.unwrap().len(), 2);
    conn.close().await;
    second.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_params_closure_is_called_on_every_call_and_connect() {
    let server = start().await;
    let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = calls.clone();
    let client = Client::new(server.endpoint());
    let room = client
        .get_or_create::<ChatRoom>(["fresh"])
        .params_with(move || {
            let n = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            // A "token" that changes each time it is made.
            ConnParams {
                auth_token: format!("t{n}"),
            }
        });
    room.send_message("one".into()).await.unwrap();
    room.send_message("two".into()).await.unwrap();
    let conn = room.connect().await.unwrap();
    conn.send_message("three".into()).await.unwrap();
    let users: Vec<_> = conn
        .get_messages()
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.user_id)
        .collect();
    assert_eq!(users, ["user-t0", "user-t1", "user-t2"]);
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_panicking_connect_hook_is_masked_and_the_actor_keeps_working() {
    let server = start().await;
    for (client, encoding) in clients(&server) {
        let panicking = client
            .get_or_create::<ChatRoom>(["hook-panic", encoding])
            .params(params("panic"));
        let err = panicking.get_messages().await.unwrap_err();
        assert!(err.is_internal(), "{err:?}");
        let err = panicking.connect().await.err().unwrap();
        assert!(err.is_internal(), "{err:?}");
        assert!(!format!("{err:?}").contains("secret"));
        let fine = client
            .get_or_create::<ChatRoom>(["hook-panic", encoding])
            .params(params("a"));
        fine.send_message("unaffected".into()).await.unwrap();
        assert_eq!(fine.get_messages().await.unwrap().len(), 1);
    }
}
