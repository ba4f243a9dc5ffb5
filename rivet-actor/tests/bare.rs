//! Malformed BARE, sent raw over HTTP and WebSocket: every case is answered with a typed
//! `message.malformed`, nothing is lost, and the server (and, on WebSocket, the connection)
//! keeps serving — each case is followed by a valid call that works.

mod common;

use common::chat_room::*;
use common::server::{params, start};
use futures_util::{SinkExt, StreamExt};
use rivet_actor::prelude::*;
use rivet_actor::protocol::{self, Encoding, ToClient};
use rivet_actor::server::Server;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// A v4 frame: the 2-byte little-endian version, then `payload`.
fn v4(payload: &[u8]) -> Vec<u8> {
    let mut frame = vec![4, 0];
    frame.extend_from_slice(payload);
    frame
}

/// A BARE `data` field: ULEB128 length (< 128 here), then the bytes.
fn data(bytes: &[u8]) -> Vec<u8> {
    assert!(bytes.len() < 128);
    let mut out = vec![bytes.len() as u8];
    out.extend_from_slice(bytes);
    out
}

/// CBOR `[text]` for a one-string argument list (`text` shorter than 100 bytes).
fn cbor_args(text: &str) -> Vec<u8> {
    let mut out = match text.len() {
        len @ 0..24 => vec![0x81, 0x60 | len as u8],
        len @ 24..100 => vec![0x81, 0x78, len as u8],
        _ => panic!("a test argument over 100 bytes"),
    };
    out.extend_from_slice(text.as_bytes());
    out
}

/// A CBOR array header announcing 2^32 items, then nothing: must fail fast, not allocate.
const CBOR_BOMB: &[u8] = &[0x9b, 0, 0, 0, 1, 0, 0, 0, 0];

/// Bodies of `HttpActionRequest` (`{args: data}`) that are not well formed, by name.
fn bad_action_bodies() -> Vec<(&'static str, Vec<u8>)> {
    let valid_payload = data(&cbor_args("x"));
    let with_version = |version: u16| {
        let mut frame = version.to_le_bytes().to_vec();
        frame.extend_from_slice(&valid_payload);
        frame
    };
    vec![
        ("empty", vec![]),
        ("truncated version", vec![4]),
        ("version 0", with_version(0)),
        ("version 5", with_version(5)),
        ("version 65535", with_version(65535)),
        ("length past the end", v4(&[0x05, 0x81])),
        ("ULEB128 over 10 bytes", v4(&[0xff; 11])),
        (
            "ULEB128 over 64 bits",
            v4(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]),
        ),
        ("CBOR bomb in args", v4(&data(CBOR_BOMB))),
        ("args not an array", v4(&data(&[0x02]))),
        ("args not CBOR", v4(&data(&[0xff, 0x00]))),
        ("trailing bytes", {
            let mut frame = v4(&valid_payload);
            frame.push(0);
            frame
        }),
    ]
}

async fn post_bare(server: &Server, action: &str, body: Vec<u8>) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!(
            "{}/gateway/chatRoom/action/{action}?rvt-method=getOrCreate&rvt-key=bare-http&rvt-runner=default",
            server.endpoint()
        ))
        .header("content-type", "application/octet-stream")
        .header("x-rivet-encoding", "bare")
        .header("x-rivet-conn-params", r#"{"auth_token":"a"}"#)
        .body(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn malformed_bare_http_bodies_get_a_typed_error_and_lose_nothing() {
    let server = start().await;
    let mut sent = 0;
    for (case, body) in bad_action_bodies() {
        let response = post_bare(&server, "sendMessage", body).await;
        assert_eq!(response.status(), 400, "{case}");
        let bytes = response.bytes().await.unwrap();
        let error = protocol::decode_error_body(Encoding::Bare, &bytes)
            .unwrap_or_else(|err| panic!("{case}: the error body is not BARE: {err}"));
        assert_eq!(
            (error.group.as_str(), error.code.as_str()),
            ("message", "malformed"),
            "{case}: {error}"
        );
        // The same call, well formed, still works.
        let ok = post_bare(&server, "sendMessage", v4(&data(&cbor_args(case)))).await;
        assert_eq!(ok.status(), 200, "{case}");
        sent += 1;
    }
    // Every valid message is there, and nothing of the malformed ones.
    let client = Client::new(server.endpoint()).encoding(Encoding::Bare);
    let room = client
        .get_or_create::<ChatRoom>(["bare-http"])
        .params(params("a"));
    let messages = room.get_messages().await.unwrap();
    assert_eq!(messages.len(), sent);
    let expected: Vec<&str> = bad_action_bodies().iter().map(|(case, _)| *case).collect();
    let texts: Vec<&str> = messages.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(texts, expected);
}

#[tokio::test]
async fn a_bare_queue_send_from_before_queues_existed_is_malformed() {
    let server = start().await;
    // Queue sends exist from protocol v3 on: a v2 frame cannot be one.
    let mut body = vec![2, 0];
    body.extend_from_slice(&data(&[0x01]));
    body.extend_from_slice(&[0, 0, 0]);
    let response = reqwest::Client::new()
        .post(format!(
            "{}/gateway/chatRoom/queue/jobs?rvt-method=getOrCreate&rvt-key=bare-q&rvt-runner=default",
            server.endpoint()
        ))
        .header("x-rivet-encoding", "bare")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let error =
        protocol::decode_error_body(Encoding::Bare, &response.bytes().await.unwrap()).unwrap();
    assert_eq!(error.code, "malformed", "{error}");
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn bare_socket(server: &Server) -> Socket {
    let url = format!(
        "ws://{}/gateway/chatRoom/connect?rvt-method=getOrCreate&rvt-key=bare-ws&rvt-runner=default",
        server.local_addr()
    );
    let mut request = url.into_client_request().unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "rivet, rivet_encoding.bare, rivet_conn_params.%7B%22auth_token%22%3A%22a%22%7D"
            .parse()
            .unwrap(),
    );
    tokio_tungstenite::connect_async(request).await.unwrap().0
}

/// The next server message, decoded as BARE (a binary frame is required).
async fn next_message(socket: &mut Socket) -> ToClient {
    loop {
        match socket.next().await.unwrap().unwrap() {
            Message::Binary(bytes) => {
                return protocol::decode_to_client(Encoding::Bare, &bytes).unwrap();
            }
            Message::Close(frame) => panic!("closed: {frame:?}"),
            Message::Text(text) => panic!("a text frame in BARE: {text}"),
            _ => continue,
        }
    }
}

/// A v4 `ToServer::ActionRequest` for `sendMessage(text)`.
fn send_message_frame(id: u8, text: &str) -> Vec<u8> {
    let mut payload = vec![0, id, 11];
    payload.extend_from_slice(b"sendMessage");
    payload.extend_from_slice(&data(&cbor_args(text)));
    v4(&payload)
}

#[tokio::test]
async fn malformed_bare_frames_get_a_typed_error_and_the_connection_stays_usable() {
    let server = start().await;
    let mut socket = bare_socket(&server).await;
    assert!(matches!(
        next_message(&mut socket).await,
        ToClient::Init { .. }
    ));
    let with_version = |version: u16| {
        let mut frame = version.to_le_bytes().to_vec();
        frame.extend_from_slice(&send_message_frame(0, "x")[2..]);
        frame
    };
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("truncated frame", vec![4]),
        ("version 0", with_version(0)),
        ("version 5", with_version(5)),
        ("version 65535", with_version(65535)),
        ("union tag out of range", v4(&[7])),
        ("truncated message", v4(&[0, 0])),
        (
            "ULEB128 over 10 bytes",
            v4(&[
                0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
            ]),
        ),
        ("name length past the end", v4(&[0, 0, 0x7f, b'a'])),
        ("name not UTF-8", v4(&[0, 0, 2, 0xff, 0xfe, 2, 0x81, 0x00])),
        ("CBOR bomb in args", {
            let mut payload = vec![0, 0, 11];
            payload.extend_from_slice(b"sendMessage");
            payload.extend_from_slice(&data(CBOR_BOMB));
            v4(&payload)
        }),
        ("bool out of range", v4(&[1, 3, b'a', b'b', b'c', 2])),
    ];
    for (i, (case, frame)) in cases.iter().enumerate() {
        socket.send(Message::binary(frame.clone())).await.unwrap();
        match next_message(&mut socket).await {
            ToClient::Error(error) => {
                assert_eq!(
                    (error.group.as_str(), error.code.as_str(), error.action_id),
                    ("message", "malformed", None),
                    "{case}: {error}"
                );
            }
            other => panic!("{case}: expected an error, got {other:?}"),
        }
        // The connection is still usable.
        let id = u8::try_from(i + 1).unwrap();
        socket
            .send(Message::binary(send_message_frame(id, case)))
            .await
            .unwrap();
        match next_message(&mut socket).await {
            ToClient::ActionResponse { id: answered, .. } => assert_eq!(answered, u64::from(id)),
            other => panic!("{case}: expected the valid call's answer, got {other:?}"),
        }
    }
    let room = Client::new(server.endpoint())
        .encoding(Encoding::Bare)
        .get_or_create::<ChatRoom>(["bare-ws"])
        .params(params("a"));
    assert_eq!(room.get_messages().await.unwrap().len(), cases.len());
}
