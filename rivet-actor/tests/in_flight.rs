//! A protocol connection that sends faster than its actor answers is slowed down, not
//! buffered: past `ServerConfig::max_incoming_bytes` of messages waiting for answers, the
//! server stops reading it (its messages wait in its own socket, not in the actor's
//! mailbox), so another client's call gets in ahead of them. Nothing is lost, and a
//! connection held back that long is not taken for dead by the liveness check. Through the
//! engine, whose callbacks cannot wait, a client that far ahead is cut off instead
//! (`message.backlog`).

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use rivet_actor::prelude::*;
use rivet_actor::server::ServerConfig;
use tokio::sync::Notify;
use tokio_tungstenite::tungstenite::Message;

#[cfg(feature = "engine")]
#[path = "support/engine.rs"]
mod engine;
#[cfg(feature = "engine")]
#[path = "support/js.rs"]
mod js;

/// Taken by each test: they share the held turn's signals.
static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
/// Told when the held turn has begun.
static HELD: Notify = Notify::const_new();
/// Lets the held turn end.
static RELEASE: Notify = Notify::const_new();

#[derive(Default, Serialize, Deserialize)]
pub struct Ledger {
    notes: Vec<String>,
}

#[actor]
impl Ledger {
    /// Keeps the actor busy until the test releases it.
    #[action]
    async fn hold(&self) {
        HELD.notify_one();
        RELEASE.notified().await;
    }

    /// Writes down `who` (the padding only makes the message large).
    #[action]
    fn note(&mut self, who: String, _padding: String) {
        self.notes.push(who);
    }

    #[action]
    fn notes(&self) -> Vec<String> {
        self.notes.clone()
    }

    #[action]
    fn echo(&self, text: String) -> String {
        text
    }
}

/// An action request frame in the JSON encoding.
fn request(id: u64, name: &str, args: serde_json::Value) -> Message {
    let frame = serde_json::json!({
        "body": {"tag": "ActionRequest", "val": {"id": ["$BigInt", id.to_string()], "name": name, "args": args}}
    });
    Message::text(frame.to_string())
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A protocol connection to ledger "k" at `endpoint` (`http://…`), once `Init` is in.
async fn connect(endpoint: &str) -> Socket {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let url = format!(
        "{}/gateway/ledger/connect?rvt-namespace=default&rvt-method=getOrCreate&rvt-key=k\
         &rvt-runner=default&rvt-crash-policy=sleep",
        endpoint.replacen("http", "ws", 1)
    );
    let mut request = url.into_client_request().unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "rivet, rivet_encoding.json".parse().unwrap(),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    // Connected once `Init` is in: the actor took the connection.
    let init = socket.next().await.unwrap().unwrap();
    assert!(init.to_text().unwrap().contains("Init"), "{init:?}");
    socket
}

/// Reads `socket` until it has `count` action answers; panics on a close or an error frame.
async fn answers(
    socket: impl StreamExt<Item = Result<Message, impl std::fmt::Debug>> + Unpin,
    count: usize,
) {
    let mut socket = socket;
    let mut answered = 0;
    while answered < count {
        let frame = tokio::time::timeout(Duration::from_secs(20), socket.next())
            .await
            .expect("an answer never came")
            .expect("the connection ended")
            .unwrap();
        match frame {
            Message::Text(text) => {
                let frame: serde_json::Value = serde_json::from_str(text.as_str()).unwrap();
                match frame["body"]["tag"].as_str() {
                    Some("ActionResponse") => answered += 1,
                    _ => panic!("unexpected frame: {frame}"),
                }
            }
            Message::Close(close) => panic!("closed after {answered} answers: {close:?}"),
            _ => {}
        }
    }
}

/// Where another client's call lands among 20 calls of `padding` bytes a busy client sent
/// before it, all while the actor was held, on a server with `config`; checks that nothing
/// was lost.
async fn place_of_a_later_call(config: ServerConfig, padding: usize) -> usize {
    let registry = Registry::builder()
        .in_memory()
        .server_config(ServerConfig {
            // Several checks pass while the busy connection is not read.
            ping_interval: Duration::from_millis(100),
            ..config
        })
        .register::<Ledger>()
        .build();
    let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let addr = server.endpoint();

    // The busy client: a call that holds the actor, then 20 calls, all sent at once. It
    // keeps reading (and so answering pings) the whole time.
    const BUSY_CALLS: u64 = 20;
    let (mut busy_tx, busy_rx) = connect(&addr).await.split();
    // The other client connects first (connecting takes a turn of the actor).
    let (mut other_tx, other_rx) = connect(&addr).await.split();
    let other_answers = tokio::spawn(answers(other_rx, 1));
    let busy_answers = tokio::spawn(answers(busy_rx, BUSY_CALLS as usize + 1));
    busy_tx
        .send(request(0, "hold", serde_json::json!([])))
        .await
        .unwrap();
    tokio::time::timeout(Duration::from_secs(10), HELD.notified())
        .await
        .expect("the holding turn never began");
    let padding = "x".repeat(padding);
    for id in 1..=BUSY_CALLS {
        busy_tx
            .send(request(id, "note", serde_json::json!(["busy", padding])))
            .await
            .unwrap();
    }
    // Loopback takes all of it at once; the server reads what it will read.
    tokio::time::sleep(Duration::from_millis(300)).await;

    // The other client's call, sent after all of those.
    other_tx
        .send(request(1, "note", serde_json::json!(["other", ""])))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(700)).await;
    RELEASE.notify_one();

    busy_answers.await.unwrap();
    other_answers.await.unwrap();
    let ledger = registry.get_or_create::<Ledger>(["k"]).await.unwrap();
    let notes = ledger.notes().await.unwrap();
    assert_eq!(
        notes.len(),
        BUSY_CALLS as usize + 1,
        "a call was lost: {notes:?}"
    );
    notes.iter().position(|who| who == "other").unwrap()
}

#[tokio::test]
async fn a_client_far_ahead_of_its_actor_is_not_read_until_answers_go_out() {
    let _turn = TURN.lock().await;
    // Bounded by bytes: 100 KiB of the busy client's 60 KB calls (two) are read before it
    // is held back; without the bound all 20 were in the mailbox first.
    let by_bytes = ServerConfig {
        max_incoming_bytes: 100 * 1024,
        ..Default::default()
    };
    let place = place_of_a_later_call(by_bytes, 60 * 1024).await;
    assert!(
        place <= 2,
        "the other client's call waited behind {place} of the busy client's"
    );
    // Bounded by count: small calls, four in flight (the holding one and three notes).
    let by_count = ServerConfig {
        max_calls_in_flight: 4,
        ..Default::default()
    };
    let place = place_of_a_later_call(by_count, 10).await;
    assert!(
        place <= 3,
        "the other client's call waited behind {place} of the busy client's"
    );
    // No budget at all: one message at a time is still taken (the holding call).
    let none = ServerConfig {
        max_incoming_bytes: 0,
        ..Default::default()
    };
    let place = place_of_a_later_call(none, 10).await;
    assert_eq!(place, 0, "the other client's call waited behind {place}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_far_ahead_reads_its_large_answers_while_it_sends() {
    let _turn = TURN.lock().await;
    // A server stuck writing to a client that does not read lets it go after 2 s.
    let registry = Registry::builder()
        .in_memory()
        .server_config(ServerConfig {
            write_timeout: Duration::from_secs(2),
            ..Default::default()
        })
        .register::<Ledger>()
        .build();
    let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let conn = Client::new(server.endpoint())
        .encoding(rivet_actor::protocol::Encoding::Cbor)
        .get_or_create::<Ledger>(["echo"])
        .connect()
        .await
        .unwrap();
    // 64 MB each way, far more than loopback's buffers: the server stops reading while
    // answers wait, so a client that does not read while it sends would wait on it for
    // ever (until the write timeout drops the connection).
    let text = "x".repeat(1_000_000);
    let calls = (0..64).map(|_| conn.echo(text.clone()));
    let answers = tokio::time::timeout(
        Duration::from_secs(60),
        futures_util::future::join_all(calls),
    )
    .await
    .expect("the calls never ended");
    for answer in answers {
        assert_eq!(answer.unwrap().len(), text.len());
    }
}

/// An engine with a host of `Ledger` (serving with `config`) and ledger "k" through it,
/// answering.
#[cfg(feature = "engine")]
async fn through_the_engine(
    config: ServerConfig,
) -> (
    engine::Engine,
    rivet_actor::engine::EngineHost,
    rivet_actor::client::ActorHandle<Ledger>,
) {
    use rivet_actor::engine::EngineConfig;

    js::install_node_modules();
    let engine = engine::Engine::start().await;
    engine.upsert_pool("default").await;
    let registry = Registry::builder()
        .engine()
        .server_config(config)
        .register::<Ledger>()
        .build();
    let host = registry
        .serve_engine(EngineConfig::new(engine.endpoint(), "default", "default"))
        .await
        .expect("the engine accepts the host");
    let ledger = Client::new(engine.endpoint())
        .engine("default", "default")
        .get_or_create::<Ledger>(["k"]);
    let first = || ledger.notes();
    engine::retry("the first call", Duration::from_secs(60), first).await;
    (engine, host, ledger)
}

#[cfg(feature = "engine")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_the_engine_a_client_that_far_ahead_is_cut_off() {
    let _turn = TURN.lock().await;
    let _engine_turn = engine::serial().await;
    let config = ServerConfig {
        max_message_size: 64 * 1024,
        max_incoming_bytes: 64 * 1024,
        ..Default::default()
    };
    let (engine, host, ledger) = through_the_engine(config).await;

    let (mut tx, mut rx) = connect(&engine.endpoint()).await.split();
    let closed = tokio::spawn(async move {
        while let Some(Ok(frame)) = rx.next().await {
            if let Message::Close(close) = frame {
                return close.map(|close| (u16::from(close.code), close.reason.to_string()));
            }
        }
        None
    });
    tx.send(request(0, "hold", serde_json::json!([])))
        .await
        .unwrap();
    tokio::time::timeout(Duration::from_secs(10), HELD.notified())
        .await
        .expect("the holding turn never began");
    // The session takes two (64 KiB in flight), two more may wait for it; the fifth is over.
    let padding = "x".repeat(60 * 1024);
    for id in 1..=10 {
        if tx
            .send(request(id, "note", serde_json::json!(["busy", padding])))
            .await
            .is_err()
        {
            break;
        }
    }
    let close = tokio::time::timeout(Duration::from_secs(20), closed).await;
    RELEASE.notify_one();
    let close = close.expect("a client that far ahead was never cut off");
    assert_eq!(
        close.unwrap(),
        Some((1011, "message.backlog".to_owned())),
        "engine log:\n{}",
        engine.log_tail(40)
    );
    // Nothing was lost of what was taken, and the actor goes on.
    let notes = ledger.notes().await.unwrap();
    assert!((2..=4).contains(&notes.len()), "{notes:?}");
    host.shutdown().await;
}

#[cfg(feature = "engine")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_the_engine_connections_at_once_are_capped() {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;

    let _turn = TURN.lock().await;
    let _engine_turn = engine::serial().await;
    let config = ServerConfig {
        max_connections: 1,
        ..Default::default()
    };
    let (engine, host, ledger) = through_the_engine(config).await;

    // One socket holds the only place: another socket is closed with 1013, a request
    // answers 503, both `message.too_many_connections`.
    let held = connect(&engine.endpoint()).await;
    let url = format!(
        "{}/gateway/ledger/connect?rvt-namespace=default&rvt-method=getOrCreate&rvt-key=k\
         &rvt-runner=default&rvt-crash-policy=sleep",
        engine.endpoint().replacen("http", "ws", 1)
    );
    let mut request = url.into_client_request().unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "rivet, rivet_encoding.json".parse().unwrap(),
    );
    let (mut refused, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let close = tokio::time::timeout(Duration::from_secs(10), async {
        match refused.next().await {
            Some(Ok(Message::Close(close))) => close,
            other => panic!("a refused socket got {other:?}, not a close frame"),
        }
    })
    .await
    .expect("the second socket was never closed")
    .expect("a close frame with a code");
    assert_eq!(u16::from(close.code), 1013);
    assert_eq!(close.reason.as_str(), "message.too_many_connections");
    let err = ledger.notes().await.unwrap_err();
    assert_eq!(err.code(), Some("too_many_connections"), "{err:?}");
    assert_eq!(err.actor_error().unwrap().http_status(), 503);

    // The place comes back when the socket closes.
    drop(held);
    let answered = || ledger.notes();
    engine::retry(
        "a call once the socket closed",
        Duration::from_secs(20),
        answered,
    )
    .await;
    host.shutdown().await;
}
