//! A network connection's ends and failures, seen by its caller: a server that cannot be
//! reached is `Unavailable` (nothing was sent), a close during a reconnect ends the
//! connection at once and no session is opened after it, and an error of the whole
//! connection fails the calls in flight as "may have run", not as the actor's refusal, and a
//! call is not sent again where a redirect points.

use std::sync::Arc;
use std::time::Duration;

use rivet_actor::prelude::*;
use rivet_actor::{ConnStatus, Registry};

#[derive(Default, Serialize, Deserialize)]
pub struct Tally {
    count: u64,
}

#[actor]
impl Tally {
    /// Waits, then counts: in flight for a while.
    #[action]
    async fn slow_count(&mut self, millis: u64) -> u64 {
        tokio::time::sleep(Duration::from_millis(millis)).await;
        self.count += 1;
        self.count
    }

    #[action]
    fn count(&self) -> u64 {
        self.count
    }

    #[action]
    fn length(&self, text: String) -> usize {
        text.len()
    }

    #[action]
    fn sum(&self, numbers: Vec<u32>) -> u64 {
        numbers.iter().map(|&n| u64::from(n)).sum()
    }
}

async fn serve() -> (Registry, rivet_actor::server::Server) {
    let registry = Registry::builder().in_memory().register::<Tally>().build();
    let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    (registry, server)
}

#[tokio::test]
async fn a_server_that_cannot_be_reached_is_unavailable() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let client = Client::new(format!("http://{addr}"));
    let Err(err) = client.get_or_create::<Tally>("t").connect().await else {
        panic!("connected to a closed port");
    };
    assert!(err.is_unavailable(), "{err:?}");
}

#[tokio::test]
async fn closing_during_a_reconnect_ends_the_connection_at_once() {
    let (_registry, server) = serve().await;
    let addr = server.local_addr();
    let client = Client::new(server.endpoint()).timeout(Duration::from_secs(30));
    let conn = client.get_or_create::<Tally>("t").connect().await.unwrap();
    let mut status = conn.status_changes();
    server.shutdown().await.unwrap();
    // The address now takes connections and never answers them: a reconnect hangs there.
    let blackhole = tokio::net::TcpListener::bind(addr).await.unwrap();
    let held = tokio::spawn(async move {
        let mut kept = Vec::new();
        while let Ok((socket, _)) = blackhole.accept().await {
            kept.push(socket);
        }
    });
    status
        .wait_for(|s| *s == ConnStatus::Disconnected)
        .await
        .unwrap();
    status
        .wait_for(|s| *s == ConnStatus::Connecting)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let closed = tokio::time::timeout(Duration::from_secs(2), conn.close()).await;
    assert!(closed.is_ok(), "close() waited for the reconnect");
    assert_eq!(*status.borrow(), ConnStatus::Closed);
    held.abort();
}

#[tokio::test]
async fn a_connection_error_fails_calls_in_flight_as_may_have_run() {
    let (_registry, server) = serve().await;
    let client = Client::new(server.endpoint());
    let conn = Arc::new(client.get_or_create::<Tally>("t").connect().await.unwrap());
    let slow = tokio::spawn({
        let conn = conn.clone();
        async move { conn.slow_count(300).await }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    // More values than the server decodes in one message: it answers with an error of the
    // connection (it cannot read the call's id), and the connection stays open.
    let too_many = vec![1u32; rivet_actor::protocol::MAX_VALUES + 1];
    let _ = conn.sum(too_many).await;
    let err = slow.await.unwrap().unwrap_err();
    assert!(matches!(err, ClientError::Transport(_)), "{err:?}");
    // It did run.
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(conn.count().await.unwrap(), 1);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_call_is_not_sent_again_where_a_redirect_points() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    // Where the redirect points: counts what reaches it.
    let reached = Arc::new(AtomicUsize::new(0));
    let elsewhere = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let elsewhere_url = format!("http://{}", elsewhere.local_addr().unwrap());
    let counter = reached.clone();
    let app = axum::Router::new().fallback(move || {
        counter.fetch_add(1, Ordering::SeqCst);
        async { "stolen" }
    });
    tokio::spawn(async move { axum::serve(elsewhere, app).await.unwrap() });
    // The endpoint answers every request with a 307 there.
    let endpoint = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint_url = format!("http://{}", endpoint.local_addr().unwrap());
    let target = elsewhere_url.clone();
    let app = axum::Router::new().fallback(move |uri: axum::http::Uri| {
        let to = format!("{target}{uri}");
        async move {
            (
                axum::http::StatusCode::TEMPORARY_REDIRECT,
                [("location", to)],
            )
        }
    });
    tokio::spawn(async move { axum::serve(endpoint, app).await.unwrap() });
    let client = Client::new(endpoint_url).header("x-secret", "s");
    let err = client
        .get_or_create::<Tally>("t")
        .count()
        .await
        .unwrap_err();
    assert!(!matches!(err, ClientError::Decode(_)), "{err:?}");
    assert_eq!(
        reached.load(Ordering::SeqCst),
        0,
        "the call followed the redirect"
    );
}

/// A server that opens the socket, says `Init` and never reads again: a large call fills the
/// socket's buffers and its send waits.
#[allow(clippy::result_large_err)] // tungstenite's handshake callback returns its response
async fn server_that_stops_reading() -> String {
    use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
    use tokio_tungstenite::tungstenite::http::HeaderValue;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let mut kept = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            let mut encoding = rivet_actor::protocol::Encoding::Json;
            let pick = |request: &Request, mut response: Response| {
                let offered = request
                    .headers()
                    .get("sec-websocket-protocol")
                    .and_then(|value| value.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                if let Ok(protocol) = rivet_actor::protocol::parse_subprotocols(&offered) {
                    encoding = protocol.encoding;
                }
                if let Some(first) = offered.split(',').next() {
                    let first = HeaderValue::from_str(first.trim()).unwrap();
                    response
                        .headers_mut()
                        .insert("sec-websocket-protocol", first);
                }
                Ok(response)
            };
            let Ok(mut socket) = tokio_tungstenite::accept_hdr_async(socket, pick).await else {
                continue;
            };
            let init = rivet_actor::protocol::ToClient::Init {
                actor_id: "a".into(),
                connection_id: "c".into(),
            };
            let bytes = rivet_actor::protocol::encode_to_client(encoding, &init);
            let frame = match encoding.is_binary() {
                true => tokio_tungstenite::tungstenite::Message::Binary(bytes.into()),
                false => tokio_tungstenite::tungstenite::Message::Text(
                    String::from_utf8(bytes).unwrap().into(),
                ),
            };
            use futures_util::SinkExt;
            socket.send(frame).await.unwrap();
            kept.push(socket);
        }
    });
    url
}

#[tokio::test]
async fn closing_while_a_send_is_stuck_ends_the_connection_at_once() {
    let url = server_that_stops_reading().await;
    let client = Client::new(url).timeout(Duration::from_secs(30));
    let conn = Arc::new(client.get_or_create::<Tally>("t").connect().await.unwrap());
    // Larger than the socket buffers on both ends hold: its send cannot finish.
    let stuck = tokio::spawn({
        let conn = conn.clone();
        async move { conn.length("x".repeat(16 << 20)).await }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!stuck.is_finished());
    // Calls made and given up on meanwhile; the stuck call given up on too (its send
    // goes on in the connection's task).
    for _ in 0..100 {
        let _ = tokio::time::timeout(Duration::from_millis(1), conn.count()).await;
    }
    stuck.abort();
    let _ = stuck.await;
    let conn = Arc::try_unwrap(conn).ok().expect("only the test holds it");
    let mut status = conn.status_changes();
    let closed = tokio::time::timeout(Duration::from_secs(5), conn.close()).await;
    assert!(closed.is_ok(), "close() waited for the stuck send");
    assert_eq!(*status.borrow_and_update(), ConnStatus::Closed);
}
