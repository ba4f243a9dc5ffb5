//! Every wait of the typed network client is bounded: a call through a connection whose
//! server is gone fails unsent after the reconnect wait (and never runs later, when the
//! server is back), an answer that does not come fails after the timeout, and a connection
//! that reconnects does not hammer a server that is down, however many calls wait.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use rivet_actor::prelude::*;
use rivet_actor::server::Server;
use rivet_actor::storage::{MemoryStorage, Storage};
use rivet_actor::{ActorConn, ConnStatus, Registry};

#[derive(Default, Serialize, Deserialize)]
pub struct Ledger {
    entries: Vec<String>,
}

#[actor]
impl Ledger {
    #[action]
    fn record(&mut self, entry: String) -> usize {
        self.entries.push(entry);
        self.entries.len()
    }

    #[action]
    fn entries(&self) -> Vec<String> {
        self.entries.clone()
    }

    #[action]
    async fn linger(&self, millis: u64) -> u64 {
        tokio::time::sleep(Duration::from_millis(millis)).await;
        millis
    }
}

/// A server for `Ledger` on `addr`, over `storage` (shared, so a restart keeps the state).
async fn serve(storage: &Arc<dyn Storage>, addr: SocketAddr) -> Server {
    let registry = Registry::builder()
        .shared_storage(storage.clone())
        .register::<Ledger>()
        .build();
    registry.bind(addr).await.unwrap()
}

fn any_port() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

/// A connection to `Ledger` `key` whose server has gone (its socket dropped), the address
/// the server had, and its storage (for a server to come back with).
async fn connected_then_gone(
    key: &str,
    client: impl FnOnce(Client) -> Client,
) -> (Arc<ActorConn<Ledger>>, SocketAddr, Arc<dyn Storage>) {
    let storage: Arc<dyn Storage> = Arc::new(MemoryStorage::new());
    let server = serve(&storage, any_port()).await;
    let addr = server.local_addr();
    let client = client(Client::new(server.endpoint()));
    let conn = Arc::new(client.get_or_create::<Ledger>(key).connect().await.unwrap());
    server.shutdown().await.unwrap();
    conn.status_changes()
        .wait_for(|s| *s != ConnStatus::Connected)
        .await
        .unwrap();
    (conn, addr, storage)
}

#[tokio::test]
async fn a_call_waiting_for_a_server_that_is_gone_fails_unsent_and_never_runs_later() {
    let storage: Arc<dyn Storage> = Arc::new(MemoryStorage::new());
    let first = serve(&storage, any_port()).await;
    let addr = first.local_addr();
    let client = Client::new(first.endpoint()).reconnect_wait(Duration::from_millis(300));
    let ledger = client.get_or_create::<Ledger>("books");
    let conn = ledger.connect().await.unwrap();
    assert_eq!(conn.record("kept".into()).await.unwrap(), 1);

    first.shutdown().await.unwrap();
    let mut status = conn.status_changes();
    status
        .wait_for(|s| *s != ConnStatus::Connected)
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let err = conn.record("never".into()).await.unwrap_err();
    assert!(err.is_unavailable(), "{err:?}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "it waited {:?}",
        started.elapsed()
    );
    // A stateless call to a server that is not there is not sent either.
    assert!(ledger.entries().await.unwrap_err().is_unavailable());
    // Nor is a call whose caller stops waiting for it before the reconnect wait is over.
    let dropped = tokio::time::timeout(Duration::from_millis(50), conn.record("dropped".into()));
    assert!(dropped.await.is_err(), "the server is down: no answer");

    // The server comes back: the connection reconnects, and the call that was given up on
    // does not go out with the ones made now.
    let second = serve(&storage, addr).await;
    status
        .wait_for(|s| *s == ConnStatus::Connected)
        .await
        .unwrap();
    assert_eq!(conn.record("after".into()).await.unwrap(), 2);
    assert_eq!(conn.entries().await.unwrap(), ["kept", "after"]);
    conn.close().await;
    second.shutdown().await.unwrap();
}

#[tokio::test]
async fn calls_made_during_a_short_outage_go_out_in_order_once_it_is_over() {
    let (conn, addr, storage) = connected_then_gone("outage", |client| client).await;
    // Made one after another while the server is down: each waits in the backlog.
    let mut waiting = Vec::new();
    for n in 0..5 {
        let conn = conn.clone();
        waiting.push(tokio::spawn(
            async move { conn.record(format!("{n}")).await },
        ));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let second = serve(&storage, addr).await;
    for call in waiting {
        call.await.unwrap().unwrap();
    }
    assert_eq!(conn.entries().await.unwrap(), ["0", "1", "2", "3", "4"]);
    second.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_answer_that_does_not_come_in_time_fails_and_the_connection_goes_on() {
    let storage: Arc<dyn Storage> = Arc::new(MemoryStorage::new());
    let server = serve(&storage, any_port()).await;
    let client = Client::new(server.endpoint()).timeout(Duration::from_millis(300));
    // Over HTTP…
    let err = client
        .get_or_create::<Ledger>("slow-http")
        .linger(2_000)
        .await
        .unwrap_err();
    assert!(matches!(err, ClientError::Transport(_)), "{err:?}");
    // …and over a connection, which stays usable: the late answer is dropped when it comes
    // (the actor's turn lasts a second: the next calls wait until it is over).
    let conn = client
        .get_or_create::<Ledger>("slow-conn")
        .connect()
        .await
        .unwrap();
    let err = conn.linger(1_000).await.unwrap_err();
    assert!(matches!(err, ClientError::Transport(_)), "{err:?}");
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    assert_eq!(conn.linger(10).await.unwrap(), 10);
    // No bound at all is a bound that never comes, not an overflow.
    let unbounded = Client::new(server.endpoint())
        .timeout(Duration::MAX)
        .reconnect_wait(Duration::MAX);
    let other = unbounded.get_or_create::<Ledger>("unbounded");
    assert_eq!(other.linger(1).await.unwrap(), 1);
    assert_eq!(other.connect().await.unwrap().linger(1).await.unwrap(), 1);
    assert_eq!(conn.record("still here".into()).await.unwrap(), 1);
    assert_eq!(conn.status(), ConnStatus::Connected);
    conn.close().await;
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn reconnecting_with_calls_waiting_backs_off_instead_of_spinning() {
    let (conn, addr, _storage) = connected_then_gone("spin", |client| {
        client.reconnect_wait(Duration::from_secs(3))
    })
    .await;
    // Something on the port that takes every connection and drops it at once: each of the
    // client's tries is counted.
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    let tries = Arc::new(AtomicUsize::new(0));
    let counter = tokio::spawn({
        let tries = tries.clone();
        async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    return;
                };
                tries.fetch_add(1, Ordering::SeqCst);
                drop(socket);
            }
        }
    });
    let calls: Vec<_> = (0..20)
        .map(|n| {
            let conn = conn.clone();
            tokio::spawn(async move { conn.record(format!("{n}")).await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    // Backoff from 100 ms, doubling: about four tries in 1.5 s, whatever the calls waiting.
    let seen = tries.load(Ordering::SeqCst);
    assert!((1..=8).contains(&seen), "{seen} connection tries in 1.5 s");
    for call in calls {
        assert!(call.await.unwrap().unwrap_err().is_unavailable());
    }
    counter.abort();
}

/// A server on `listener` that opens every connection it is given and says `Init`, then
/// either holds it open without reading or writing anything more (`hold`: a half-open
/// connection, as a peer that vanished without closing looks) or drops it at once; counts
/// the connections in `opened`.
// The handshake callback's signature (a large `Err`) is tungstenite's, not ours.
#[allow(clippy::result_large_err)]
fn fake_server(
    listener: tokio::net::TcpListener,
    hold: bool,
    opened: Arc<AtomicUsize>,
) -> tokio::task::JoinHandle<()> {
    use futures_util::SinkExt;
    use rivet_actor::protocol::{Encoding, ToClient, encode_to_client};
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};

    let echo_protocol = |request: &Request, mut response: Response| {
        let offered = request.headers().get("sec-websocket-protocol").cloned();
        if let Some(first) = offered
            .as_ref()
            .and_then(|value| value.to_str().ok())
            .and_then(|list| list.split(',').next())
        {
            let value = first.trim().parse().unwrap();
            response
                .headers_mut()
                .insert("sec-websocket-protocol", value);
        }
        Ok(response)
    };
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((tcp, _)) = listener.accept().await {
            let Ok(mut socket) = tokio_tungstenite::accept_hdr_async(tcp, echo_protocol).await
            else {
                continue;
            };
            opened.fetch_add(1, Ordering::SeqCst);
            let init = ToClient::Init {
                actor_id: "a".into(),
                connection_id: "c".into(),
            };
            let text = String::from_utf8(encode_to_client(Encoding::Json, &init)).unwrap();
            let _ = socket.send(Message::Text(text.into())).await;
            if hold {
                held.push(socket);
            }
        }
    })
}

#[tokio::test]
async fn a_server_that_goes_silent_is_given_up_on() {
    let listener = tokio::net::TcpListener::bind(any_port()).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = fake_server(listener, true, Arc::default());
    let client = Client::new(format!("http://{addr}")).timeout(Duration::from_millis(600));
    let conn = client
        .get_or_create::<Ledger>("silent")
        .connect()
        .await
        .unwrap();
    let mut status = conn.status_changes();
    // Pinged after 200 ms of silence, given up on after 600 ms (then it tries to reconnect).
    let given_up = tokio::time::timeout(
        Duration::from_secs(10),
        status.wait_for(|s| *s != ConnStatus::Connected),
    );
    assert!(given_up.await.is_ok(), "still connected to a silent server");
    server.abort();
}

#[tokio::test]
async fn a_server_that_drops_every_connection_at_once_is_asked_with_backoff() {
    let listener = tokio::net::TcpListener::bind(any_port()).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let opened = Arc::new(AtomicUsize::new(0));
    let server = fake_server(listener, false, opened.clone());
    let client = Client::new(format!("http://{addr}"));
    let conn = client
        .get_or_create::<Ledger>("flaky")
        .connect()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    // Backoff from 100 ms, doubling, not started over by connections that drop at once:
    // about five connections in 1.5 s (every 100 ms would be about fifteen).
    let seen = opened.load(Ordering::SeqCst);
    assert!((2..=8).contains(&seen), "{seen} connections in 1.5 s");
    drop(conn);
    server.abort();
}
