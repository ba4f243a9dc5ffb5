//! Bad input sent raw over HTTP and WebSocket, in JSON and CBOR (BARE's own in `bare.rs`),
//! each followed by a valid call that proves the server and the connection still work.

mod common;

use common::chat_room::*;
use common::server::{params, start, start_with};
use futures_util::{SinkExt, StreamExt};
use rivet_actor::prelude::*;
use rivet_actor::protocol::Encoding;
use rivet_actor::server::{Server, ServerConfig};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

async fn raw_action(
    server: &Server,
    action: &str,
    body: impl Into<reqwest::Body>,
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
async fn a_message_of_too_many_values_is_refused_before_it_reaches_the_actor() {
    let server = start().await;
    // 1 << 17 zeros fit well within the 1 MiB message limit (two bytes each), but decoded
    // they would take tens of bytes each while they wait for the actor.
    let values = rivet_actor::protocol::MAX_VALUES + 1;
    let body = format!(r#"{{"args":[[{}0]]}}"#, "0,".repeat(values - 1));
    let params = Some(r#"{"auth_token":"a"}"#);
    let response = raw_action(&server, "sendMessage", body, params).await;
    assert_error(response, 400, "message", "malformed").await;
    let fine = raw_action(
        &server,
        "sendMessage",
        r#"{"args":["fine"]}"#,
        Some(r#"{"auth_token":"a"}"#),
    );
    assert_eq!(fine.await.status(), 200);
}
