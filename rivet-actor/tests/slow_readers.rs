//! A client that asks for a large answer and never reads it is dropped once its connection
//! has taken nothing for the write timeout: it does not keep its place under
//! `max_connections`.

use std::time::{Duration, Instant};

use rivet_actor::prelude::*;
use rivet_actor::server::ServerConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[derive(Default, Serialize, Deserialize)]
pub struct Blob;

#[actor]
impl Blob {
    /// `size` bytes of text.
    #[action]
    fn blob(&self, size: usize) -> String {
        "x".repeat(size)
    }
}

/// Whether a new connection gets an answer to `GET /health` (not refused at the cap).
async fn answered(addr: std::net::SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect(addr).await else {
        return false;
    };
    let request = b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    if stream.write_all(request).await.is_err() {
        return false;
    }
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer));
    matches!(read.await, Ok(Ok(_))) && answer.starts_with(b"HTTP/1.1 200")
}

#[tokio::test]
async fn a_client_that_never_reads_its_answer_is_dropped_after_the_write_timeout() {
    let registry = Registry::builder()
        .in_memory()
        .server_config(ServerConfig {
            max_connections: 1,
            write_timeout: Duration::from_millis(500),
            ..Default::default()
        })
        .register::<Blob>()
        .build();
    let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let addr = server.local_addr();

    // 32 MiB of answer, far more than loopback's buffers hold; never read.
    let mut stalled = TcpStream::connect(addr).await.unwrap();
    let body = r#"{"args":[33554432]}"#;
    let request = format!(
        "POST /gateway/blob/action/blob?rvt-method=getOrCreate&rvt-key=b&rvt-runner=default HTTP/1.1\r\n\
         Host: x\r\ncontent-type: application/json\r\nx-rivet-encoding: json\r\n\
         content-length: {}\r\n\r\n{body}",
        body.len()
    );
    stalled.write_all(request.as_bytes()).await.unwrap();
    // Taken: the one place is the stalled client's while its answer is being written.
    let deadline = Instant::now() + Duration::from_secs(5);
    while answered(addr).await {
        assert!(
            Instant::now() < deadline,
            "the stalled request never took its place"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Then given back once the stalled connection has taken nothing for the write timeout.
    let deadline = Instant::now() + Duration::from_secs(20);
    while !answered(addr).await {
        assert!(
            Instant::now() < deadline,
            "a client that never reads kept its connection"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(stalled);
    server.shutdown().await.unwrap();
}
