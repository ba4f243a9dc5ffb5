//! Connection-level limits over real sockets: a peer that sends half a request header is
//! dropped (while `/metadata` keeps answering), a body that trickles in answers 408, and
//! connections past the cap are refused as they arrive, upgraded WebSockets among them.

mod common;

use std::time::{Duration, Instant};

use common::chat_room::ChatRoom;
use rivet_actor::prelude::*;
use rivet_actor::server::{Server, ServerConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn serve(config: ServerConfig) -> Server {
    let registry = Registry::builder()
        .in_memory()
        .server_config(config)
        .register::<ChatRoom>()
        .build();
    registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap()
}

/// Reads until the server closes the connection; what it sent, or `None` if it did not
/// close within `within`.
async fn until_closed(stream: &mut TcpStream, within: Duration) -> Option<Vec<u8>> {
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    tokio::time::timeout(within, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return got,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await
    .ok()
}

/// A connection that arrives while the server holds its maximum is closed unanswered.
async fn refused_past_the_cap(server: &Server) {
    let mut extra = TcpStream::connect(server.local_addr()).await.unwrap();
    let _ = extra
        .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await;
    let answer = until_closed(&mut extra, Duration::from_secs(5))
        .await
        .expect("the connection past the cap was kept");
    assert!(answer.is_empty(), "{}", String::from_utf8_lossy(&answer));
}

/// How many half-sent connections to hold: 5,000, or what the soft limit on open files
/// leaves room for (each needs a socket at both ends).
fn slowloris_count() -> usize {
    let soft_limit = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|limits| {
            let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
            line.split_whitespace().nth(3)?.parse::<usize>().ok()
        })
        .unwrap_or(1024);
    let count = 5_000.min(soft_limit.saturating_sub(512) / 3).max(50);
    if count < 5_000 {
        eprintln!("open-file limit {soft_limit}: holding {count} half-sent connections");
    }
    count
}

async fn metadata_answers(server: &Server) {
    let started = Instant::now();
    let response = reqwest::get(format!("{}/metadata", server.endpoint()))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_sent_headers_are_dropped_and_the_server_keeps_answering() {
    let server = serve(ServerConfig {
        header_read_timeout: Duration::from_secs(1),
        ..Default::default()
    })
    .await;
    // 5,000 as the issue asks, fewer where the file-descriptor limit would not allow two
    // ends of each plus the other tests in this binary.
    let count = slowloris_count();
    let mut slow = Vec::new();
    for _ in 0..count {
        let mut stream = TcpStream::connect(server.local_addr()).await.unwrap();
        stream
            .write_all(b"GET /metadata HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            .await
            .unwrap();
        slow.push(stream);
    }
    metadata_answers(&server).await;
    for stream in &mut slow {
        assert!(
            until_closed(stream, Duration::from_secs(10))
                .await
                .is_some(),
            "a half-sent request was kept open"
        );
    }
    metadata_answers(&server).await;
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_trickles_in_answers_408() {
    let server = serve(ServerConfig {
        body_read_timeout: Duration::from_millis(500),
        ..Default::default()
    })
    .await;
    let mut stream = TcpStream::connect(server.local_addr()).await.unwrap();
    stream
        .write_all(
            b"POST /gateway/chatRoom/action/getMessages?rvt-method=getOrCreate&rvt-key=slow HTTP/1.1\r\n\
              Host: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\
              x-rivet-conn-params: {\"auth_token\":\"a\"}\r\n\r\n{\"args\":",
        )
        .await
        .unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
        .await
        .expect("no answer to a trickling body")
        .unwrap();
    let answer = String::from_utf8_lossy(&buf[..n]);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("timed_out"), "{answer}");
    metadata_answers(&server).await;
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_past_the_cap_are_refused_as_they_arrive() {
    let server = serve(ServerConfig {
        max_connections: 3,
        ..Default::default()
    })
    .await;
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(TcpStream::connect(server.local_addr()).await.unwrap());
    }
    // Let the server take all three before the fourth arrives.
    tokio::time::sleep(Duration::from_millis(200)).await;
    refused_past_the_cap(&server).await;
    // A freed place is taken again.
    drop(held.pop());
    tokio::time::sleep(Duration::from_millis(200)).await;
    metadata_answers(&server).await;
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_websockets_hold_their_place_under_the_cap() {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let server = serve(ServerConfig {
        max_connections: 2,
        ..Default::default()
    })
    .await;
    let url = format!(
        "ws://{}/gateway/chatRoom/connect?rvt-method=getOrCreate&rvt-key=capped&rvt-runner=default",
        server.local_addr()
    );
    let open = || async {
        let mut request = url.clone().into_client_request().unwrap();
        request.headers_mut().insert(
            "sec-websocket-protocol",
            "rivet, rivet_encoding.json, rivet_conn_params.%7B%22auth_token%22%3A%22a%22%7D"
                .parse()
                .unwrap(),
        );
        tokio_tungstenite::connect_async(request)
            .await
            .map(|(socket, _)| socket)
    };
    let first = open().await.expect("first socket");
    let second = open().await.expect("second socket");
    // hyper has handed both connections over to their sockets; they still count.
    tokio::time::sleep(Duration::from_millis(200)).await;
    refused_past_the_cap(&server).await;
    // Closing a socket gives its place back.
    drop(first);
    tokio::time::sleep(Duration::from_millis(300)).await;
    metadata_answers(&server).await;
    drop(second);
    server.shutdown().await.unwrap();
}
