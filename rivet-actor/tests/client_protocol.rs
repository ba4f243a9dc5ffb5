//! What our client reads and what the server takes, in every encoding: answers and events
//! with more values than the server accepts from a client (the bound protects the server,
//! not the client), a refused subscription (named by its event, not taken for a connection
//! error), connection params as the plain JSON both clients send
//! (a `$` in a string is a string), and a clean close handshake when the client closes.

mod common;

use std::time::Duration;

use common::server::ENCODINGS;
use futures_util::{SinkExt, StreamExt};
use rivet_actor::prelude::*;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;

/// More values than one message from a client may hold (131,072).
const MANY: usize = 140_000;

#[derive(Default, Serialize, Deserialize)]
pub struct Vault;

#[derive(Default, Serialize, Deserialize)]
pub struct Badge {
    roles: Vec<String>,
}

#[actor(events(bytes = Vec<u8>, secret = String))]
impl Vault {
    #[conn_state]
    fn roles(&self, params: &Option<Badge>) -> Vec<String> {
        params
            .as_ref()
            .map(|badge| badge.roles.clone())
            .unwrap_or_default()
    }

    /// `n` bytes (serde writes them as an array of numbers).
    #[action]
    fn blob(&self, n: usize) -> Vec<u8> {
        vec![7; n]
    }

    #[action]
    fn send_blob(&self, c: &ActionCtx<'_, Self>, n: usize) {
        c.broadcast(vec![7u8; n]);
    }

    #[action]
    fn my_roles(&self, c: &ActionCtx<'_, Self>) -> Vec<String> {
        c.conn().state().clone()
    }

    #[action]
    async fn wait(&self, ms: u64) -> u64 {
        tokio::time::sleep(Duration::from_millis(ms)).await;
        ms
    }

    #[can_subscribe(secret)]
    fn members_only(&self) -> bool {
        false
    }
}

async fn serve() -> (Registry, rivet_actor::server::Server) {
    // Room for the large event: about 9 bytes a value are counted against the bound.
    let config = rivet_actor::server::ServerConfig {
        max_outgoing_bytes: 4 << 20,
        ..Default::default()
    };
    let registry = Registry::builder()
        .in_memory()
        .server_config(config)
        .register::<Vault>()
        .build();
    let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    (registry, server)
}

#[tokio::test]
async fn answers_and_events_with_more_values_than_a_client_may_send_arrive() {
    let (_registry, server) = serve().await;
    for encoding in ENCODINGS {
        let vault = Client::new(server.endpoint())
            .encoding(encoding)
            .get_or_create::<Vault>(["big"]);
        assert_eq!(vault.blob(MANY).await.unwrap().len(), MANY, "{encoding:?}");
        let conn = vault.connect().await.unwrap();
        let mut blobs = conn.events::<Vec<u8>>();
        assert_eq!(conn.blob(MANY).await.unwrap().len(), MANY, "{encoding:?}");
        conn.send_blob(MANY).await.unwrap();
        let event = tokio::time::timeout(Duration::from_secs(10), blobs.next())
            .await
            .expect("the event arrived")
            .unwrap()
            .unwrap();
        assert_eq!(event.len(), MANY, "{encoding:?}");
        conn.close().await;
    }
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_refused_subscription_ends_its_stream_and_nothing_else() {
    let (_registry, server) = serve().await;
    for encoding in ENCODINGS {
        let conn = Client::new(server.endpoint())
            .encoding(encoding)
            .get_or_create::<Vault>(["guarded"])
            .connect()
            .await
            .unwrap();
        // A call in flight while the subscription is refused is answered as usual.
        let waiting = conn.wait(300);
        let mut secrets = conn.events::<String>();
        let refusal = tokio::time::timeout(Duration::from_secs(10), secrets.next())
            .await
            .expect("the refusal arrived")
            .expect("the stream ends with the refusal")
            .unwrap_err();
        let err = refusal.actor_error().expect("an actor error");
        assert_eq!(err.code, "forbidden", "{encoding:?}");
        let metadata = err.metadata.as_ref().expect("metadata");
        assert_eq!(metadata["eventName"], "secret", "{encoding:?}");
        assert_eq!(waiting.await.unwrap(), 300, "{encoding:?}");
        assert_eq!(conn.blob(3).await.unwrap().len(), 3);
        conn.close().await;
    }
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn connection_params_are_plain_json() {
    let (_registry, server) = serve().await;
    let roles = vec!["$admin".to_owned(), "$$x".to_owned()];
    for encoding in ENCODINGS {
        let vault = Client::new(server.endpoint())
            .encoding(encoding)
            .get_or_create::<Vault>(["params"])
            .params(Some(Badge {
                roles: roles.clone(),
            }));
        // Over HTTP (a header) and over a WebSocket (the subprotocol).
        assert_eq!(vault.my_roles().await.unwrap(), roles, "{encoding:?}");
        let conn = vault.connect().await.unwrap();
        assert_eq!(conn.my_roles().await.unwrap(), roles, "{encoding:?}");
        conn.close().await;
    }
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_client_s_close_is_answered() {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let (_registry, server) = serve().await;
    let url = format!(
        "{}/gateway/vault/connect?rvt-namespace=default&rvt-method=getOrCreate&rvt-key=c\
         &rvt-runner=default&rvt-crash-policy=sleep",
        server.endpoint().replacen("http", "ws", 1)
    );
    let mut request = url.into_client_request().unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "rivet, rivet_encoding.json".parse().unwrap(),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let init = socket.next().await.unwrap().unwrap();
    assert!(init.to_text().unwrap().contains("Init"), "{init:?}");
    socket
        .send(Message::Close(Some(CloseFrame {
            code: 1000.into(),
            reason: "Disposed".into(),
        })))
        .await
        .unwrap();
    let answer = tokio::time::timeout(Duration::from_secs(5), socket.next())
        .await
        .expect("the server answered");
    assert!(
        matches!(answer, Some(Ok(Message::Close(_)))),
        "no close frame back: {answer:?}"
    );
    server.shutdown().await.unwrap();
}
