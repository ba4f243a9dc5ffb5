//! The server and the typed network client, end to end on 127.0.0.1, with the hand-written
//! chat room of `common/chat_room.rs`; and bad input sent raw, each followed by a valid call.

mod common;

use common::chat_room::*;
use futures_util::{SinkExt, StreamExt};
use rivet_actor::prelude::*;
use rivet_actor::protocol::Encoding;
use rivet_actor::server::{Server, ServerConfig};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

async fn start() -> Server {
    start_with(ServerConfig::default()).await
}

async fn start_with(config: ServerConfig) -> Server {
    let registry = Registry::builder()
        .in_memory()
        .server_config(config)
        .register::<ChatRoom>()
        .build();
    registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap()
}

fn params(token: &str) -> ConnParams {
    ConnParams {
        auth_token: token.into(),
    }
}

#[tokio::test]
async fn stateless_calls_over_http_in_json_and_cbor() {
    let server = start().await;
    for encoding in [Encoding::Json, Encoding::Cbor] {
        let client = Client::new(server.endpoint()).encoding(encoding);
        let room = client
            .get_or_create::<ChatRoom>([format!("http-{}", encoding.name())])
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
    for encoding in [Encoding::Json, Encoding::Cbor] {
        let client = Client::new(server.endpoint()).encoding(encoding);
        let room = client
            .get_or_create::<ChatRoom>(["ws", encoding.name()])
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
    let client = Client::new(server.endpoint());
    let room = client
        .get_or_create::<ChatRoom>(["errors"])
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

#[tokio::test]
async fn forbidden_and_rejected_connections() {
    let server = start().await;
    let client = Client::new(server.endpoint());
    let guest = client
        .get_or_create::<ChatRoom>(["deny"])
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
        .get_or_create::<ChatRoom>(["deny"])
        .params(params(""));
    let err = nobody.connect().await.err().unwrap();
    assert_eq!(err.code(), Some("forbidden"), "{err:?}");
    let err = nobody.get_messages().await.unwrap_err();
    assert_eq!(err.code(), Some("forbidden"));
}

#[tokio::test]
async fn panics_are_masked_on_http_and_websocket() {
    let server = start().await;
    let client = Client::new(server.endpoint());
    let room = client
        .get_or_create::<ChatRoom>(["panic"])
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

#[tokio::test]
async fn keys_with_commas_stay_distinct() {
    let server = start().await;
    let client = Client::new(server.endpoint());
    let joined = client
        .get_or_create::<ChatRoom>(["a,b"])
        .params(params("a"));
    let split = client
        .get_or_create::<ChatRoom>(["a", "b"])
        .params(params("a"));
    joined.send_message("joined".into()).await.unwrap();
    assert!(split.get_messages().await.unwrap().is_empty());
    let a = joined.connect().await.unwrap().ids().unwrap().0;
    let b = split.connect().await.unwrap().ids().unwrap().0;
    assert_ne!(a, b);
}

#[tokio::test]
async fn get_missing_is_not_found_and_unknown_names_are_reported() {
    let server = start().await;
    let client = Client::new(server.endpoint());
    let missing = client.get::<ChatRoom>(["nobody"]).params(params("a"));
    assert!(missing.get_messages().await.unwrap_err().is_not_found());
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

async fn raw_action(
    server: &Server,
    action: &str,
    body: &'static str,
    params: Option<&str>,
) -> reqwest::Response {
    let mut request = reqwest::Client::new()
        .post(format!(
            "{}/gateway/chatRoom/action/{action}?rvt-method=getOrCreate&rvt-key=raw&rvt-runner=default",
            server.endpoint()
        ))
        .header("content-type", "application/json")
        .header("x-rivet-encoding", "json")
        .body(body);
    if let Some(params) = params {
        request = request.header("x-rivet-conn-params", params);
    }
    request.send().await.unwrap()
}

async fn assert_error(response: reqwest::Response, status: u16, group: &str, code: &str) {
    assert_eq!(response.status(), status);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        (body["group"].as_str(), body["code"].as_str()),
        (Some(group), Some(code)),
        "{body}"
    );
}

#[tokio::test]
async fn bad_http_input_gets_a_typed_error_and_the_server_keeps_serving() {
    let server = start_with(ServerConfig {
        max_message_size: 4096,
        ..Default::default()
    })
    .await;
    let ok_params = Some(r#"{"auth_token":"a"}"#);
    let valid = || raw_action(&server, "sendMessage", r#"{"args":["fine"]}"#, ok_params);

    assert_error(
        raw_action(&server, "sendMessage", "{not json", ok_params).await,
        400,
        "message",
        "malformed",
    )
    .await;
    assert_eq!(valid().await.status(), 200);
    assert_error(
        raw_action(&server, "sendMessage", r#"{"args":[1]}"#, ok_params).await,
        400,
        "message",
        "invalid_args",
    )
    .await;
    assert_error(
        raw_action(&server, "sendMessage", r#"{"args":["a","b"]}"#, ok_params).await,
        400,
        "message",
        "invalid_args",
    )
    .await;
    assert_eq!(valid().await.status(), 200);
    assert_error(
        raw_action(&server, "noSuchAction", r#"{"args":[]}"#, ok_params).await,
        404,
        "actor",
        "action_not_found",
    )
    .await;
    assert_error(
        raw_action(&server, "sendMessage", r#"{"args":["x"]}"#, None).await,
        400,
        "message",
        "invalid_params",
    )
    .await;
    assert_error(
        raw_action(&server, "sendMessage", r#"{"args":["x"]}"#, Some("{bad")).await,
        400,
        "message",
        "invalid_params",
    )
    .await;
    let huge: &'static str =
        Box::leak(format!(r#"{{"args":["{}"]}}"#, "x".repeat(10_000)).into_boxed_str());
    assert_error(
        raw_action(&server, "sendMessage", huge, ok_params).await,
        413,
        "message",
        "too_large",
    )
    .await;
    assert_eq!(valid().await.status(), 200);
    // A user error answers 400, not 500.
    assert_error(
        raw_action(&server, "sendMessage", r#"{"args":[""]}"#, ok_params).await,
        400,
        "user",
        "empty",
    )
    .await;
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn raw_socket(
    server: &Server,
    protocols: &str,
) -> Result<Socket, tokio_tungstenite::tungstenite::Error> {
    let url = format!(
        "ws://{}/gateway/chatRoom/connect?rvt-method=getOrCreate&rvt-key=rawws&rvt-runner=default",
        server.local_addr()
    );
    let mut request = url.into_client_request().unwrap();
    if !protocols.is_empty() {
        request
            .headers_mut()
            .insert("sec-websocket-protocol", protocols.parse().unwrap());
    }
    tokio_tungstenite::connect_async(request)
        .await
        .map(|(socket, _)| socket)
}

async fn next_text(socket: &mut Socket) -> serde_json::Value {
    loop {
        match socket.next().await.unwrap().unwrap() {
            Message::Text(text) => return serde_json::from_str(text.as_str()).unwrap(),
            Message::Close(frame) => panic!("closed: {frame:?}"),
            _ => continue,
        }
    }
}

const PROTOCOLS: &str =
    "rivet, rivet_encoding.json, rivet_conn_params.%7B%22auth_token%22%3A%22a%22%7D";

#[tokio::test]
async fn bad_websocket_input_gets_a_typed_error_and_the_connection_stays_open() {
    let server = start_with(ServerConfig {
        max_message_size: 4096,
        ..Default::default()
    })
    .await;
    // No `rivet` subprotocol: refused before the upgrade.
    assert!(raw_socket(&server, "").await.is_err());

    let mut socket = raw_socket(&server, PROTOCOLS).await.unwrap();
    let init = next_text(&mut socket).await;
    assert_eq!(
        init["body"]["tag"], "Init",
        "Init must be the first frame: {init}"
    );

    socket.send(Message::text("{garbage")).await.unwrap();
    let err = next_text(&mut socket).await;
    assert_eq!(err["body"]["tag"], "Error");
    assert_eq!(err["body"]["val"]["group"], "message");
    assert_eq!(err["body"]["val"]["actionId"], serde_json::Value::Null);

    let bad_args = r#"{"body":{"tag":"ActionRequest","val":{"id":["$BigInt","7"],"name":"sendMessage","args":[42]}}}"#;
    socket.send(Message::text(bad_args)).await.unwrap();
    let err = next_text(&mut socket).await;
    assert_eq!(err["body"]["val"]["code"], "invalid_args");
    assert_eq!(
        err["body"]["val"]["actionId"],
        serde_json::json!(["$BigInt", "7"])
    );

    let unknown =
        r#"{"body":{"tag":"ActionRequest","val":{"id":["$BigInt","8"],"name":"nope","args":[]}}}"#;
    socket.send(Message::text(unknown)).await.unwrap();
    let err = next_text(&mut socket).await;
    assert_eq!(err["body"]["val"]["code"], "action_not_found");

    let good = r#"{"body":{"tag":"ActionRequest","val":{"id":["$BigInt","9"],"name":"getMessages","args":[]}}}"#;
    socket.send(Message::text(good)).await.unwrap();
    let answer = next_text(&mut socket).await;
    assert_eq!(answer["body"]["tag"], "ActionResponse");
    assert_eq!(
        answer["body"]["val"]["id"],
        serde_json::json!(["$BigInt", "9"])
    );

    // An oversized message closes with 1009; other connections are unaffected.
    let mut other = raw_socket(&server, PROTOCOLS).await.unwrap();
    assert_eq!(next_text(&mut other).await["body"]["tag"], "Init");
    socket
        .send(Message::text("x".repeat(10_000)))
        .await
        .unwrap();
    let close = loop {
        match socket.next().await {
            Some(Ok(Message::Close(frame))) => break frame,
            Some(Ok(_)) => continue,
            other => panic!("expected a close frame, got {other:?}"),
        }
    };
    assert_eq!(u16::from(close.unwrap().code), 1009);
    other.send(Message::text(good)).await.unwrap();
    assert_eq!(next_text(&mut other).await["body"]["tag"], "ActionResponse");
}

#[tokio::test]
async fn a_rejected_websocket_gets_an_error_frame_then_close_1011() {
    let server = start().await;
    let protocols = "rivet, rivet_encoding.json, rivet_conn_params.%7B%22auth_token%22%3A%22%22%7D";
    let mut socket = raw_socket(&server, protocols).await.unwrap();
    let err = next_text(&mut socket).await;
    assert_eq!(err["body"]["tag"], "Error", "{err}");
    assert_eq!(err["body"]["val"]["code"], "forbidden");
    let close = loop {
        match socket.next().await {
            Some(Ok(Message::Close(frame))) => break frame.unwrap(),
            Some(Ok(_)) => continue,
            other => panic!("expected close, got {other:?}"),
        }
    };
    assert_eq!(u16::from(close.code), 1011);
    assert_eq!(close.reason.as_str(), "user.forbidden");
}

#[tokio::test]
async fn metadata_and_actors_api() {
    let server = start().await;
    let http = reqwest::Client::new();
    let metadata: serde_json::Value = http
        .get(format!("{}/metadata?namespace=default", server.endpoint()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(metadata["actorNames"]["chatRoom"].is_object(), "{metadata}");
    let body = serde_json::json!({"name": "chatRoom", "key": "org/room", "runner_name_selector": "default", "crash_policy": "sleep"});
    let created: serde_json::Value = http
        .put(format!("{}/actors", server.endpoint()))
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(created["created"], true);
    assert_eq!(created["actor"]["key"], "org/room");
    let id = created["actor"]["actor_id"].as_str().unwrap().to_owned();
    let again: serde_json::Value = http
        .put(format!("{}/actors", server.endpoint()))
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
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
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(found["actors"][0]["actor_id"], id.as_str());
    // Calls by id work, then destroy removes the actor.
    let client = Client::new(server.endpoint());
    let by_id = client
        .get_for_id::<ChatRoom>(rivet_actor::ActorId::new(id.as_str()))
        .params(params("a"));
    by_id.send_message("hello".into()).await.unwrap();
    let deleted = http
        .delete(format!("{}/actors/{id}", server.endpoint()))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 200);
    assert!(by_id.get_messages().await.unwrap_err().is_not_found());
}

#[tokio::test]
async fn a_connection_that_did_not_subscribe_receives_no_event_frames() {
    let server = start().await;
    let mut raw = raw_socket(&server, PROTOCOLS).await.unwrap();
    assert_eq!(next_text(&mut raw).await["body"]["tag"], "Init");
    // Someone else subscribes and a message is broadcast.
    let client = Client::new(server.endpoint());
    let room = client
        .get_or_create::<ChatRoom>(["rawws"])
        .params(params("a"));
    let listener = room.connect().await.unwrap();
    let mut news = listener.events::<NewMessage>();
    room.send_message("broadcast".into()).await.unwrap();
    assert_eq!(news.next().await.unwrap().unwrap().text, "broadcast");
    // The raw socket's next frame is the answer to its own request, not the event.
    let ask = r#"{"body":{"tag":"ActionRequest","val":{"id":["$BigInt","1"],"name":"getMessages","args":[]}}}"#;
    raw.send(Message::text(ask)).await.unwrap();
    let frame = next_text(&mut raw).await;
    assert_eq!(frame["body"]["tag"], "ActionResponse", "{frame}");
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
async fn an_internal_error_in_a_connect_hook_is_masked_on_websocket_and_http() {
    let server = start().await;
    let mut socket = raw_socket(
        &server,
        "rivet, rivet_encoding.json, rivet_conn_params.%7B%22auth_token%22%3A%22explode%22%7D",
    )
    .await
    .unwrap();
    let mut frames = Vec::new();
    let close = loop {
        match socket.next().await {
            Some(Ok(Message::Text(text))) => frames.push(text.to_string()),
            Some(Ok(Message::Close(frame))) => break frame.unwrap(),
            Some(Ok(_)) => continue,
            other => panic!("expected close, got {other:?}"),
        }
    };
    let all = frames.join("\n");
    assert!(!all.contains("secret"), "internal text leaked: {all}");
    assert!(all.contains("internal_error"), "{all}");
    assert_eq!(close.reason.as_str(), "rivetkit.internal_error");
    let client = Client::new(server.endpoint());
    let room = client
        .get_or_create::<ChatRoom>(["rawws"])
        .params(params("explode"));
    let err = room.get_messages().await.unwrap_err();
    assert!(err.is_internal(), "{err:?}");
    assert!(!format!("{err:?}").contains("secret"));
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
async fn malformed_cbor_gets_a_typed_error() {
    let server = start().await;
    let response = reqwest::Client::new()
        .post(format!(
            "{}/gateway/chatRoom/action/getMessages?rvt-method=getOrCreate&rvt-key=cbor&rvt-runner=default",
            server.endpoint()
        ))
        .header("content-type", "application/octet-stream")
        .header("x-rivet-encoding", "cbor")
        .header("x-rivet-conn-params", r#"{"auth_token":"a"}"#)
        .body(vec![0xff, 0x00, 0x13])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let bytes = response.bytes().await.unwrap();
    let wire = rivet_actor::protocol::decode_error_body(Encoding::Cbor, &bytes).unwrap();
    assert_eq!(
        (wire.group.as_str(), wire.code.as_str()),
        ("message", "malformed")
    );
    // The same call, well formed, succeeds.
    let client = Client::new(server.endpoint()).encoding(Encoding::Cbor);
    let room = client
        .get_or_create::<ChatRoom>(["cbor"])
        .params(params("a"));
    assert!(room.get_messages().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_panicking_connect_hook_is_masked_and_the_actor_keeps_working() {
    let server = start().await;
    let client = Client::new(server.endpoint());
    let panicking = client
        .get_or_create::<ChatRoom>(["hook-panic"])
        .params(params("panic"));
    let err = panicking.get_messages().await.unwrap_err();
    assert!(err.is_internal(), "{err:?}");
    let err = panicking.connect().await.err().unwrap();
    assert!(err.is_internal(), "{err:?}");
    assert!(!format!("{err:?}").contains("secret"));
    let fine = client
        .get_or_create::<ChatRoom>(["hook-panic"])
        .params(params("a"));
    fine.send_message("unaffected".into()).await.unwrap();
    assert_eq!(fine.get_messages().await.unwrap().len(), 1);
}
