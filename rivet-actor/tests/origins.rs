//! Origin policy and CORS at the server, before any hook and without waking or creating the
//! actor; the connect-hook timeout.

mod common;

use std::time::Duration;

use common::chat_room::*;
use futures_util::StreamExt;
use rivet_actor::prelude::*;
use rivet_actor::server::Server;
use rivet_actor::{HostConfig, OriginPolicy};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const SEED_ORIGINS: [&str; 3] = [
    "http://localhost:3000",
    "https://myapp.com",
    "https://www.myapp.com",
];
const PARAMS: &str = r#"{"auth_token":"a"}"#;

async fn start() -> (Registry, Server) {
    let policy = OriginPolicy::allow(SEED_ORIGINS)
        .unwrap()
        .allow_missing(true);
    let registry = Registry::builder()
        .in_memory()
        .origins(policy)
        .config(HostConfig {
            connect_hook_timeout: Duration::from_millis(200),
            ..Default::default()
        })
        .register::<ChatRoom>()
        .build();
    let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    (registry, server)
}

async fn actor_count(registry: &Registry) -> usize {
    registry.storage().list_actors(None).await.unwrap().len()
}

fn action_url(server: &Server, key: &str) -> String {
    format!(
        "{}/gateway/chatRoom/action/getMessages?rvt-method=getOrCreate&rvt-key={key}&rvt-runner=default",
        server.endpoint()
    )
}

async fn post(server: &Server, key: &str, origin: Option<&str>) -> reqwest::Response {
    let mut request = reqwest::Client::new()
        .post(action_url(server, key))
        .header("content-type", "application/json")
        .header("x-rivet-conn-params", PARAMS)
        .body(r#"{"args":[]}"#);
    if let Some(origin) = origin {
        request = request.header("origin", origin);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn disallowed_origins_are_refused_before_the_actor_exists() {
    let (registry, server) = start().await;
    for origin in [
        "https://evil.com",
        "https://evilmyapp.com",
        "https://myapp.com.evil.com",
        "http://myapp.com",
        "https://myapp.com:8443",
        "null",
        "https://myapp.com/",
    ] {
        let response = post(&server, "guarded", Some(origin)).await;
        assert_eq!(response.status(), 403, "{origin}");
        assert!(
            response
                .headers()
                .get("access-control-allow-origin")
                .is_none()
        );
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["code"], "origin_not_allowed", "{origin}: {body}");
    }
    assert_eq!(
        actor_count(&registry).await,
        0,
        "a refused origin created an actor"
    );
    // Allowed origins and non-browser clients (no Origin) pass.
    let response = post(&server, "guarded", Some("https://www.myapp.com")).await;
    assert_eq!(response.status(), 200);
    let headers = response.headers();
    assert_eq!(
        headers["access-control-allow-origin"],
        "https://www.myapp.com"
    );
    assert_eq!(headers["access-control-allow-credentials"], "true");
    assert!(headers["vary"].to_str().unwrap().contains("Origin"));
    assert!(
        headers["access-control-expose-headers"]
            .to_str()
            .unwrap()
            .contains("x-rivet-actor")
    );
    assert_eq!(post(&server, "guarded", None).await.status(), 200);
    assert_eq!(actor_count(&registry).await, 1);
}

#[tokio::test]
async fn preflights_are_answered_without_touching_actors() {
    let (registry, server) = start().await;
    let preflight = |origin: &'static str| {
        reqwest::Client::new()
            .request(reqwest::Method::OPTIONS, action_url(&server, "preflight"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "content-type, x-rivet-conn-params",
            )
            .send()
    };
    let allowed = preflight("http://localhost:3000").await.unwrap();
    assert_eq!(allowed.status(), 204);
    let headers = allowed.headers();
    assert_eq!(
        headers["access-control-allow-origin"],
        "http://localhost:3000"
    );
    assert_ne!(headers["access-control-allow-origin"], "*");
    let allow_headers = headers["access-control-allow-headers"].to_str().unwrap();
    for needed in ["content-type", "x-rivet-conn-params", "x-rivet-encoding"] {
        assert!(allow_headers.contains(needed), "{allow_headers}");
    }
    assert!(headers["vary"].to_str().unwrap().contains("Origin"));
    let refused = preflight("https://evilmyapp.com").await.unwrap();
    assert_eq!(refused.status(), 403);
    assert!(
        refused
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
    assert_eq!(
        actor_count(&registry).await,
        0,
        "a preflight created or woke an actor"
    );
}

async fn ws_close_for_origin(server: &Server, origin: &str) -> (serde_json::Value, u16, String) {
    let url = format!(
        "ws://{}/gateway/chatRoom/connect?rvt-method=getOrCreate&rvt-key=wsguard&rvt-runner=default",
        server.local_addr()
    );
    let mut request = url.into_client_request().unwrap();
    let headers = request.headers_mut();
    headers.insert(
        "sec-websocket-protocol",
        "rivet, rivet_encoding.json, rivet_conn_params.%7B%22auth_token%22%3A%22a%22%7D"
            .parse()
            .unwrap(),
    );
    headers.insert("origin", origin.parse().unwrap());
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let mut frame = serde_json::Value::Null;
    loop {
        match socket.next().await {
            Some(Ok(Message::Text(text))) => frame = serde_json::from_str(text.as_str()).unwrap(),
            Some(Ok(Message::Close(Some(close)))) => {
                return (frame, close.code.into(), close.reason.to_string());
            }
            Some(Ok(_)) => continue,
            other => panic!("expected a close frame, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn refused_websocket_origins_get_an_error_frame_and_close_1011() {
    let (registry, server) = start().await;
    let (frame, code, reason) = ws_close_for_origin(&server, "https://myapp.com.evil.com").await;
    assert_eq!(frame["body"]["tag"], "Error");
    assert_eq!(frame["body"]["val"]["code"], "origin_not_allowed");
    assert_eq!(frame["body"]["val"]["actionId"], serde_json::Value::Null);
    assert_eq!((code, reason.as_str()), (1011, "auth.origin_not_allowed"));
    assert_eq!(actor_count(&registry).await, 0);
}

#[tokio::test]
async fn a_hanging_connect_hook_times_out_and_the_actor_keeps_working() {
    let (_registry, server) = start().await;
    let client = Client::new(server.endpoint());
    let slow = client
        .get_or_create::<ChatRoom>(["slow"])
        .params(ConnParams {
            auth_token: "slow".into(),
        });
    let err = slow.get_messages().await.unwrap_err();
    assert_eq!(err.code(), Some("hook_timed_out"), "{err:?}");
    let err = slow.connect().await.err().unwrap();
    assert_eq!(err.code(), Some("hook_timed_out"));
    let fine = client
        .get_or_create::<ChatRoom>(["slow"])
        .params(ConnParams {
            auth_token: "a".into(),
        });
    fine.send_message("still here".into()).await.unwrap();
    assert_eq!(fine.get_messages().await.unwrap().len(), 1);
}

/// Sends `head` (a request line and headers, without the blank line) over a raw TCP
/// connection and returns everything the server wrote before closing it.
async fn raw_http(server: &Server, head: &[u8]) -> Vec<u8> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(server.local_addr())
        .await
        .unwrap();
    stream.write_all(head).await.unwrap();
    stream
        .write_all(b"\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut response = Vec::new();
    // A dropped connection reads as EOF or a reset; either leaves `response` empty.
    let read = stream.read_to_end(&mut response);
    let _ = tokio::time::timeout(Duration::from_secs(5), read).await;
    response
}

#[tokio::test]
async fn a_percent_escape_before_a_multibyte_character_gets_an_answer() {
    let (_registry, server) = start().await;
    // `%a` then `é` (two bytes): a decoder that slices the text at byte offsets would cut
    // the character in half.
    let head = format!(
        "GET /gateway/%a\u{e9}/connect HTTP/1.1\r\nHost: {}\r\nOrigin: http://example.com",
        server.local_addr()
    );
    let response = raw_http(&server, head.as_bytes()).await;
    let text = String::from_utf8_lossy(&response);
    assert!(
        text.starts_with("HTTP/1.1 "),
        "expected a status line, got {text:?}"
    );
    // The server still serves well-formed requests.
    assert_eq!(
        post(&server, "after-bad-escape", Some("https://myapp.com"))
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn a_lookup_by_id_keeps_to_the_origin_policy() {
    let (registry, server) = start().await;
    assert!(
        post(&server, "by-id", Some("https://myapp.com"))
            .await
            .status()
            .is_success()
    );
    let records = registry.storage().list_actors(None).await.unwrap();
    let id = &records[0].id;
    let lookup = |origin: &'static str| {
        reqwest::Client::new()
            .get(format!("{}/actors?actor_ids={id}", server.endpoint()))
            .header("origin", origin)
            .send()
    };
    let found: serde_json::Value = lookup("https://myapp.com")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(found["actors"].as_array().unwrap().len(), 1, "{found}");
    // A page the type refuses learns nothing of it: not its name, not its key.
    let hidden: serde_json::Value = lookup("https://evil.example")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(hidden["actors"], serde_json::json!([]), "{hidden}");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_origin_that_is_not_text_is_not_a_missing_one() {
    let (registry, server) = start().await;
    // The policy lets a request without `Origin` in; one with an unreadable `Origin` is not.
    let unreadable = reqwest::header::HeaderValue::from_bytes(b"https://myapp.com\xff").unwrap();
    let refused = reqwest::Client::new()
        .post(action_url(&server, "odd-origin"))
        .header("content-type", "application/json")
        .header("x-rivet-conn-params", PARAMS)
        .header("origin", unreadable)
        .body(r#"{"args":[]}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    assert_eq!(actor_count(&registry).await, 0);
    assert!(
        post(&server, "odd-origin", None)
            .await
            .status()
            .is_success()
    );
    server.shutdown().await.unwrap();
}
