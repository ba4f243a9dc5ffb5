//! An actor's view of its connections: `c.conns()` and `c.find_conn(id)`, connection state
//! changed by an action and seen by later hooks, `conn.disconnect(reason)` after the turn
//! commits (the caller's answer first), and `on_disconnect` learning why — through our
//! typed client, a raw socket that stops answering pings, and the npm client.

use std::time::Duration;

use futures_util::StreamExt;
use rivet_actor::conn::DisconnectReason;
use rivet_actor::prelude::*;
use rivet_actor::server::ServerConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

#[path = "../../rivet-actor/tests/support/js.rs"]
mod js;

/// Who a connection is: `{ name }` (none: "anon").
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Who {
    name: String,
}

#[derive(Default, Serialize, Deserialize)]
pub struct Lobby {
    /// `name:why` for each connection that ended (probes, the stateless calls the tests
    /// read this with, are not recorded).
    departures: Vec<String>,
}

#[actor]
impl Lobby {
    #[conn_state]
    fn member(&self, params: &Option<Who>) -> String {
        params
            .as_ref()
            .map_or("anon".into(), |who| who.name.clone())
    }

    #[on_disconnect]
    fn left(&mut self, c: &mut ActionCtx<'_, Self>) {
        let name = c.conn().state().clone();
        if name == "probe" {
            return;
        }
        let why = match c.disconnect_reason() {
            Some(DisconnectReason::Kicked(reason)) => format!("kicked {reason}"),
            Some(other) => format!("{other:?}"),
            None => "none".into(),
        };
        self.departures.push(format!("{name}:{why}"));
    }

    #[action]
    fn who(&self, c: &ActionCtx<'_, Self>) -> Vec<String> {
        let mut names: Vec<String> = c.conns().map(|conn| conn.state().clone()).collect();
        names.sort();
        names
    }

    #[action]
    fn me(&self, c: &ActionCtx<'_, Self>) -> String {
        c.conn().state().clone()
    }

    #[action]
    fn my_id(&self, c: &ActionCtx<'_, Self>) -> String {
        c.conn().id().to_string()
    }

    #[action]
    fn is_here(&self, c: &ActionCtx<'_, Self>, id: String) -> bool {
        c.find_conn(&id).is_some()
    }

    #[action]
    fn rename(&self, c: &mut ActionCtx<'_, Self>, name: String) {
        *c.conn_state_mut().expect("a connection's call") = name;
    }

    /// Closes every connection named `name`; how many.
    #[action]
    fn kick(&self, c: &ActionCtx<'_, Self>, name: String, reason: String) -> usize {
        let mut kicked = 0;
        for conn in c.conns().filter(|conn| *conn.state() == name) {
            conn.disconnect(reason.clone());
            kicked += 1;
        }
        kicked
    }

    #[action]
    fn kick_then_fail(&self, c: &ActionCtx<'_, Self>, name: String) -> Result<(), UserError> {
        for conn in c.conns().filter(|conn| *conn.state() == name) {
            conn.disconnect("never");
        }
        Err(UserError::new("changed my mind"))
    }

    #[action]
    fn leave_me(&self, c: &ActionCtx<'_, Self>) -> String {
        c.conn().disconnect("lobby.bye");
        "bye".into()
    }

    #[action]
    fn departures(&self) -> Vec<String> {
        self.departures.clone()
    }

    #[action]
    fn nap(&self, c: &ActionCtx<'_, Self>) {
        c.sleep();
    }

    #[action]
    fn end(&self, c: &ActionCtx<'_, Self>) {
        c.destroy();
    }
}

fn who(name: &str) -> Option<Who> {
    Some(Who { name: name.into() })
}

async fn serve(config: ServerConfig) -> (Registry, rivet_actor::server::Server, Client) {
    let registry = Registry::builder()
        .in_memory()
        .server_config(config)
        .register::<Lobby>()
        .build();
    let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let client = Client::new(server.endpoint());
    (registry, server, client)
}

/// The lobby's departures, read with a stateless call.
async fn departures(client: &Client, key: &str) -> Vec<String> {
    let probe = client.get_or_create::<Lobby>([key]).params(who("probe"));
    probe.departures().await.unwrap()
}

/// Polls the departures until `name:why` is among them (within 10 s).
async fn until_departed(client: &Client, key: &str, entry: &str) {
    for _ in 0..200 {
        if departures(client, key).await.iter().any(|d| d == entry) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "never departed: {entry}; saw {:?}",
        departures(client, key).await
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conns_are_listed_found_and_their_state_changes_stick() {
    let (_registry, server, client) = serve(ServerConfig::default()).await;
    let lobby = |name| client.get_or_create::<Lobby>(["listed"]).params(who(name));
    let a = lobby("a").connect().await.unwrap();
    let b = lobby("b").connect().await.unwrap();
    assert_eq!(a.who().await.unwrap(), ["a", "b"]);
    let id = a.my_id().await.unwrap();
    assert!(b.is_here(id.clone()).await.unwrap());
    assert!(!b.is_here("no-such-conn".into()).await.unwrap());

    // A's state changed by an action: its own later calls, the others and its
    // `on_disconnect` all see it.
    a.rename("alice".into()).await.unwrap();
    assert_eq!(a.me().await.unwrap(), "alice");
    assert_eq!(b.who().await.unwrap(), ["alice", "b"]);
    a.close().await;
    until_departed(&client, "listed", "alice:ClientClosed").await;
    assert!(!b.is_here(id).await.unwrap());
    assert_eq!(b.who().await.unwrap(), ["b"]);
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disconnect_closes_after_the_turn_and_tells_on_disconnect_why() {
    let (_registry, server, client) = serve(ServerConfig::default()).await;
    let lobby = |name| client.get_or_create::<Lobby>(["kicks"]).params(who(name));
    let a = lobby("a").connect().await.unwrap();
    let b = lobby("b").connect().await.unwrap();
    let mut a_status = a.status_changes();
    assert_eq!(b.kick("a".into(), "lobby.kicked".into()).await.unwrap(), 1);
    until_departed(&client, "kicks", "a:kicked lobby.kicked").await;
    tokio::time::timeout(
        Duration::from_secs(5),
        a_status.wait_for(|s| *s != rivet_actor::ConnStatus::Connected),
    )
    .await
    .expect("a's socket was closed")
    .unwrap();

    // A failed turn kicks nobody.
    assert!(b.kick_then_fail("b".into()).await.is_err());
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(b.me().await.unwrap(), "b");

    // Kicking the caller: its answer arrives before the close.
    let c = lobby("c").connect().await.unwrap();
    assert_eq!(c.leave_me().await.unwrap(), "bye");
    until_departed(&client, "kicks", "c:kicked lobby.bye").await;
    assert!(
        !departures(&client, "kicks")
            .await
            .contains(&"b:kicked never".to_string())
    );
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopping_actor_and_a_silent_peer_are_reasons_too() {
    let (_registry, server, client) = serve(ServerConfig {
        ping_interval: Duration::from_millis(200),
        ..Default::default()
    })
    .await;
    // The actor goes to sleep: each connection's `on_disconnect` runs before it does.
    let sleeper = client
        .get_or_create::<Lobby>(["stopping"])
        .params(who("d"))
        .connect()
        .await
        .unwrap();
    sleeper.nap().await.unwrap();
    until_departed(&client, "stopping", "d:ActorStopping").await;
    sleeper.close().await;

    // A peer that reads nothing after Init answers no ping.
    let url = format!(
        "ws://{}/gateway/lobby/connect?rvt-method=getOrCreate&rvt-key=silent&rvt-runner=default",
        server.local_addr()
    );
    let mut request = url.into_client_request().unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "rivet, rivet_encoding.json".parse().unwrap(),
    );
    let (mut silent, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    assert!(matches!(silent.next().await, Some(Ok(Message::Text(_)))));
    until_departed(&client, "silent", "anon:TimedOut").await;
    drop(silent);
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_npm_client_sees_disconnect_reasons() {
    js::install_node_modules();
    let (_registry, server, _client) = serve(ServerConfig::default()).await;
    let endpoint = server.endpoint();
    for &encoding in js::ENCODINGS {
        let endpoint = endpoint.clone();
        tokio::task::spawn_blocking(move || {
            js::run_js("connections.test.mjs", &endpoint, encoding, &[])
        })
        .await
        .unwrap();
    }
    server.shutdown().await.unwrap();
}
