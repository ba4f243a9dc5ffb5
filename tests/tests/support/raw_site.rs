//! The raw-handler tests' `Site` actor and helpers, shared by `raw.rs` and
//! `raw_sockets.rs`.
#![allow(dead_code)]

use futures_util::StreamExt;
use rivet_actor::ActorHandle;
use rivet_actor::prelude::*;
use rivet_actor::raw::RawMessage;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

#[derive(Serialize, Deserialize)]
pub struct Pass {
    pub user: String,
}

pub struct Visitor {
    pub user: String,
}

#[derive(Default, Serialize, Deserialize)]
pub struct Site {
    pub hits: u32,
    pub log: Vec<String>,
}

pub fn text_response(status: u16, text: String) -> RawResponse {
    let mut response = RawResponse::new(text.into());
    *response.status_mut() = rivet_actor::http::StatusCode::from_u16(status).unwrap();
    response
}

#[actor]
impl Site {
    #[before_connect]
    fn check(&self, params: &Pass) -> Result<(), UserError> {
        if params.user.is_empty() {
            return Err(UserError::new("Who are you?").code("forbidden"));
        }
        Ok(())
    }

    #[conn_state]
    fn visitor(&self, params: &Pass) -> Visitor {
        Visitor {
            user: params.user.clone(),
        }
    }

    #[can_invoke]
    fn allow(&self, c: &ConnCtx<'_, Self>, invoke: Invoke<Self>) -> bool {
        match invoke {
            Invoke::Request | Invoke::WebSocket => c.conn().state().user != "blocked",
            _ => true,
        }
    }

    #[on_disconnect]
    fn left(&mut self, c: &mut ActionCtx<'_, Self>) {
        let user = c.conn().state().user.clone();
        self.log.push(format!("left {user}"));
    }

    #[on_request]
    async fn http(
        &mut self,
        c: &mut ActionCtx<'_, Self>,
        request: RawRequest,
    ) -> Result<RawResponse, UserError> {
        match request.uri().path() {
            "/hit" => {
                self.hits += 1;
                let header = request
                    .headers()
                    .get("x-test")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-");
                Ok(text_response(
                    200,
                    format!(
                        "{} {} {} {} {} {}",
                        request.method(),
                        request.uri().path(),
                        request.uri().query().unwrap_or("-"),
                        header,
                        String::from_utf8_lossy(request.body()),
                        c.conn().state().user,
                    ),
                ))
            }
            path if path.starts_with("/path/") => Ok(text_response(200, request.uri().to_string())),
            "/fail" => Err(UserError::new("no such page").code("nope")),
            "/hit-then-fail" => {
                self.hits += 1;
                Err(UserError::new("changed my mind").code("nope"))
            }
            "/panic" => panic!("secret internal detail"),
            _ => Ok(text_response(404, "not here".into())),
        }
    }

    #[on_websocket]
    fn socket(&self, c: &mut ActionCtx<'_, Self>, socket: RawWebSocket) {
        let this = c.this();
        let user = c.conn().state().user.clone();
        let path = socket.uri().path().to_owned();
        match path.as_str() {
            "/deaf" => return deaf(socket),
            "/listen" => return listen(socket, this),
            "/panic" => panic!("secret socket detail"),
            _ => {}
        }
        tokio::spawn(async move {
            let (tx, mut rx) = socket.split();
            let _ = tx.send(format!("hello {user} at {path}"));
            while let Some(message) = rx.recv().await {
                match message {
                    RawMessage::Text(text) if text == "hit" => {
                        let hits = this.record_hit().await.unwrap_or(0);
                        let _ = tx.send(format!("hits {hits}"));
                    }
                    RawMessage::Text(text) if text == "bye" => tx.close(1000, "bye"),
                    RawMessage::Text(text) if text == "odd-close" => {
                        tx.close(1005, "x".repeat(300))
                    }
                    RawMessage::Text(text) => {
                        let _ = tx.send(format!("{user}: {text}"));
                    }
                    RawMessage::Binary(bytes) => {
                        let _ = tx.send(RawMessage::Binary(bytes));
                    }
                }
            }
        });
    }

    #[on_sleep]
    fn sleeping(&mut self, _c: &mut ActorCtx<'_, Self>) {
        self.log.push("slept".into());
    }

    #[action]
    fn record_hit(&mut self) -> u32 {
        self.hits += 1;
        self.hits
    }

    #[action]
    fn hits(&self) -> u32 {
        self.hits
    }

    #[action]
    fn log(&self) -> Vec<String> {
        self.log.clone()
    }
}

/// Keeps the receiving half without reading it and sends a tick every 20 ms: the server
/// must keep carrying the ticks while the client's messages wait.
pub fn deaf(socket: RawWebSocket) {
    let (tx, rx) = socket.split();
    tokio::spawn(async move {
        let _unread = rx;
        let mut tick = 0u32;
        loop {
            tick += 1;
            if tx.send(format!("tick {tick}")).is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });
}

/// Drops the sending half at once and counts what arrives as hits.
pub fn listen(socket: RawWebSocket, this: rivet_actor::client::This<Site>) {
    let (tx, mut rx) = socket.split();
    drop(tx);
    tokio::spawn(async move {
        while rx.recv().await.is_some() {
            let _ = this.record_hit().await;
        }
    });
}

/// An actor without raw handlers.
#[derive(Default, Serialize, Deserialize)]
pub struct Plain;

#[actor]
impl Plain {
    #[action]
    fn ping(&self) -> String {
        "pong".into()
    }
}

/// The management API's token in these tests.
pub const ADMIN_TOKEN: &str = "raw-tests-admin";

pub async fn serve() -> (Registry, rivet_actor::server::Server, Client) {
    serve_with(rivet_actor::HostConfig::default()).await
}

pub async fn serve_with(
    config: rivet_actor::HostConfig,
) -> (Registry, rivet_actor::server::Server, Client) {
    let registry = Registry::builder()
        .config(config)
        .in_memory()
        .admin_token(ADMIN_TOKEN)
        .register::<Site>()
        .register::<Plain>()
        .build();
    let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let client = Client::new(server.endpoint());
    (registry, server, client)
}

/// A `Site` server whose registry admits only the origin `https://ok.example`.
pub async fn serve_for_ok_example() -> (Registry, rivet_actor::server::Server) {
    let registry = Registry::builder()
        .in_memory()
        .origins(rivet_actor::OriginPolicy::allow(["https://ok.example"]).unwrap())
        .register::<Site>()
        .build();
    let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    (registry, server)
}

pub fn pass(user: &str) -> Pass {
    Pass { user: user.into() }
}

pub fn get(path: &str) -> rivet_actor::http::Request<Vec<u8>> {
    rivet_actor::http::Request::get(path)
        .body(Vec::new())
        .unwrap()
}

pub fn body_text(response: &RawResponse) -> String {
    String::from_utf8_lossy(response.body()).into_owned()
}

pub fn error_code(response: &RawResponse) -> String {
    let body: serde_json::Value = serde_json::from_slice(response.body()).unwrap();
    format!(
        "{}.{}",
        body["group"].as_str().unwrap(),
        body["code"].as_str().unwrap()
    )
}

pub async fn next_text(socket: &mut rivet_actor::client::net::RawClientSocket) -> String {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(5), socket.next())
            .await
            .expect("a frame within 5 s")
            .expect("the socket is open")
            .unwrap();
        match frame {
            Message::Text(text) => return text.to_string(),
            Message::Ping(_) | Message::Pong(_) => continue,
            other => panic!("expected text, got {other:?}"),
        }
    }
}

pub async fn close_reason(mut socket: rivet_actor::client::net::RawClientSocket) -> (u16, String) {
    let frame = tokio::time::timeout(Duration::from_secs(5), socket.next())
        .await
        .expect("a close within 5 s");
    match frame {
        Some(Ok(Message::Close(Some(frame)))) => (frame.code.into(), frame.reason.to_string()),
        other => panic!("expected a close frame, got {other:?}"),
    }
}

pub async fn seen(site: &ActorHandle<Site>, path: &str) -> (u16, String) {
    let response = site.fetch(get(path)).await.unwrap();
    (response.status().as_u16(), body_text(&response))
}

/// Polls the log as `watcher` (each poll is a connection of its own, logged as
/// `left watcher`).
pub async fn wait_for_log(site: &ActorHandle<Site>, entry: &str) -> Vec<String> {
    wait_for_log_every(site, entry, Duration::from_millis(20)).await
}

pub async fn wait_for_log_every(
    site: &ActorHandle<Site>,
    entry: &str,
    every: Duration,
) -> Vec<String> {
    let site = site.params(pass("watcher"));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let log = site.log().await.unwrap();
        if log.iter().any(|e| e == entry) {
            return log;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no `{entry}` in {log:?}"
        );
        tokio::time::sleep(every).await;
    }
}
