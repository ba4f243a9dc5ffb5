//! Raw handlers end to end: `#[on_request]` and `#[on_websocket]` behind the origin policy,
//! the connect pipeline and `can_invoke` (kinds `request` and `websocket`), from the Rust
//! client and raw HTTP, and from the npm client's `handle.fetch` / `handle.webSocket`.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use rivet_actor::prelude::*;
use rivet_actor::raw::RawMessage;
use rivet_actor::{ActorHandle, OriginPolicy};
use tokio_tungstenite::tungstenite::Message;

#[derive(Serialize, Deserialize)]
struct Pass {
    user: String,
}

struct Visitor {
    user: String,
}

#[derive(Default, Serialize, Deserialize)]
struct Site {
    hits: u32,
    log: Vec<String>,
}

fn text_response(status: u16, text: String) -> RawResponse {
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
fn deaf(socket: RawWebSocket) {
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
fn listen(socket: RawWebSocket, this: rivet_actor::client::This<Site>) {
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
struct Plain;

#[actor]
impl Plain {
    #[action]
    fn ping(&self) -> String {
        "pong".into()
    }
}

/// The management API's token in these tests.
const ADMIN_TOKEN: &str = "raw-tests-admin";

async fn serve() -> (Registry, rivet_actor::server::Server, Client) {
    serve_with(rivet_actor::HostConfig::default()).await
}

async fn serve_with(
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

fn pass(user: &str) -> Pass {
    Pass { user: user.into() }
}

fn get(path: &str) -> rivet_actor::http::Request<Vec<u8>> {
    rivet_actor::http::Request::get(path)
        .body(Vec::new())
        .unwrap()
}

fn body_text(response: &RawResponse) -> String {
    String::from_utf8_lossy(response.body()).into_owned()
}

fn error_code(response: &RawResponse) -> String {
    let body: serde_json::Value = serde_json::from_slice(response.body()).unwrap();
    format!(
        "{}.{}",
        body["group"].as_str().unwrap(),
        body["code"].as_str().unwrap()
    )
}

#[tokio::test]
async fn a_request_reaches_the_handler_with_everything_and_its_change_persists() {
    let (_registry, server, client) = serve().await;
    let site = client
        .get_or_create::<Site>(["requests"])
        .params(pass("ann"));
    let request = rivet_actor::http::Request::post("/hit?x=1&y=2")
        .header("x-test", "h")
        .body(b"payload".to_vec())
        .unwrap();
    let response = site.fetch(request).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(body_text(&response), "POST /hit x=1&y=2 h payload ann");
    assert_eq!(site.hits().await.unwrap(), 1);
    // The handler's own status passes through.
    let response = site.fetch(get("/elsewhere")).await.unwrap();
    assert_eq!(
        (response.status().as_u16(), body_text(&response)),
        (404, "not here".into())
    );
    // The throwaway connections ran on_disconnect.
    assert!(site.log().await.unwrap().contains(&"left ann".to_string()));
    server.shutdown().await.unwrap();
}

/// Runs `work` in a runtime of its own, as one process would: when it returns, every
/// instance task is gone and the storage is closed.
fn in_process<T>(work: impl std::future::Future<Output = T>) -> T {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let out = runtime.block_on(work);
    runtime.shutdown_timeout(Duration::from_secs(5));
    out
}

#[test]
fn a_handlers_change_is_durable_once_answered_and_a_failed_one_is_not() {
    let dir = std::env::temp_dir().join(format!("rivet-actor-raw-durable-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    in_process(async {
        let registry = Registry::builder()
            .data_dir(&dir)
            .register::<Site>()
            .build();
        let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let site = Client::new(server.endpoint())
            .get_or_create::<Site>(["durable"])
            .params(pass("ann"));
        let post = |path: &str| {
            rivet_actor::http::Request::post(path)
                .body(Vec::new())
                .unwrap()
        };
        assert_eq!(site.fetch(post("/hit")).await.unwrap().status(), 200);
        let failed = site.fetch(post("/hit-then-fail")).await.unwrap();
        assert_eq!(
            (failed.status().as_u16(), error_code(&failed)),
            (400, "user.nope".into())
        );
        // No shutdown and no sleep: what is durable is what the responses promised.
    });
    in_process(async {
        let registry = Registry::builder()
            .data_dir(&dir)
            .register::<Site>()
            .build();
        let site = registry
            .get::<Site>(["durable"])
            .await
            .unwrap()
            .params(pass("ann"));
        assert_eq!(site.hits().await.unwrap(), 1);
    });
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn refusals_and_failures_are_typed_and_masked() {
    let (_registry, server, client) = serve().await;
    let site = client.get_or_create::<Site>(["refusals"]);
    // can_invoke(Request) refuses: 403 and the handler never ran.
    let response = site
        .params(pass("blocked"))
        .fetch(get("/hit"))
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert_eq!(error_code(&response), "auth.forbidden");
    // before_connect refuses.
    let response = site.params(pass("")).fetch(get("/hit")).await.unwrap();
    assert_eq!(error_code(&response), "user.forbidden");
    assert_eq!(site.params(pass("ann")).hits().await.unwrap(), 0);
    // A user error is the client's to see; a panic is masked.
    let ann = site.params(pass("ann"));
    let response = ann.fetch(get("/fail")).await.unwrap();
    assert_eq!(
        (response.status().as_u16(), error_code(&response)),
        (400, "user.nope".into())
    );
    let response = ann.fetch(get("/panic")).await.unwrap();
    assert_eq!(response.status(), 500);
    assert_eq!(error_code(&response), "rivetkit.internal_error");
    assert!(!body_text(&response).contains("secret"));
    // Oversized bodies are refused before the actor.
    let big = rivet_actor::http::Request::post("/hit")
        .body(vec![b'x'; 2 * 1024 * 1024])
        .unwrap();
    let response = ann.fetch(big).await.unwrap();
    assert_eq!(response.status(), 413);
    // An actor without a handler: 404.
    let plain = client.get_or_create::<Plain>(["plain"]);
    let response = plain.fetch(get("/anything")).await.unwrap();
    assert_eq!(
        (response.status().as_u16(), error_code(&response)),
        (404, "actor.request_handler_not_found".into())
    );
    assert_eq!(ann.hits().await.unwrap(), 0);
    server.shutdown().await.unwrap();
}

async fn next_text(socket: &mut rivet_actor::client::net::RawClientSocket) -> String {
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

#[tokio::test]
async fn a_raw_websocket_talks_through_a_task_that_calls_back_into_the_actor() {
    let (_registry, server, client) = serve().await;
    let site = client
        .get_or_create::<Site>(["sockets"])
        .params(pass("bob"));
    let mut socket = site.websocket("/chat/room?x=1").await.unwrap();
    assert_eq!(next_text(&mut socket).await, "hello bob at /chat/room");
    socket.send(Message::Text("hi".into())).await.unwrap();
    assert_eq!(next_text(&mut socket).await, "bob: hi");
    socket.send(Message::Text("hit".into())).await.unwrap();
    assert_eq!(next_text(&mut socket).await, "hits 1");
    socket
        .send(Message::Binary(vec![1, 2, 3].into()))
        .await
        .unwrap();
    let echoed = tokio::time::timeout(Duration::from_secs(5), socket.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(echoed, Message::Binary(vec![1, 2, 3].into()));
    // The socket keeps its connection: on_disconnect runs only when it closes.
    let log = site.params(pass("watcher")).log().await.unwrap();
    assert!(!log.contains(&"left bob".to_string()), "{log:?}");
    socket.send(Message::Text("bye".into())).await.unwrap();
    let closed = tokio::time::timeout(Duration::from_secs(5), socket.next())
        .await
        .unwrap();
    assert!(
        matches!(closed, Some(Ok(Message::Close(_))) | None),
        "{closed:?}"
    );
    wait_for_log(&site, "left bob").await;
    assert_eq!(site.hits().await.unwrap(), 1);
    server.shutdown().await.unwrap();
}

async fn close_reason(mut socket: rivet_actor::client::net::RawClientSocket) -> (u16, String) {
    let frame = tokio::time::timeout(Duration::from_secs(5), socket.next())
        .await
        .expect("a close within 5 s");
    match frame {
        Some(Ok(Message::Close(Some(frame)))) => (frame.code.into(), frame.reason.to_string()),
        other => panic!("expected a close frame, got {other:?}"),
    }
}

#[tokio::test]
async fn refused_raw_websockets_close_with_the_reason() {
    let (_registry, server, client) = serve().await;
    let site = client.get_or_create::<Site>(["refused-sockets"]);
    let blocked = site
        .params(pass("blocked"))
        .websocket("/chat")
        .await
        .unwrap();
    assert_eq!(close_reason(blocked).await, (1011, "auth.forbidden".into()));
    let nobody = site.params(pass("")).websocket("/chat").await.unwrap();
    assert_eq!(close_reason(nobody).await, (1011, "user.forbidden".into()));
    let plain = client
        .get_or_create::<Plain>(["plain-socket"])
        .websocket("/")
        .await
        .unwrap();
    assert_eq!(
        close_reason(plain).await,
        (1011, "actor.websocket_handler_not_found".into())
    );
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_origin_policy_refuses_before_any_hook_or_actor() {
    let registry = Registry::builder()
        .in_memory()
        .origins(OriginPolicy::allow(["https://ok.example"]).unwrap())
        .register::<Site>()
        .build();
    let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let site = Client::new(server.endpoint())
        .get_or_create::<Site>(["origin"])
        .params(pass("ann"))
        .header("origin", "https://evil.example");
    let response = site.fetch(get("/hit")).await.unwrap();
    assert_eq!(response.status(), 403);
    assert_eq!(error_code(&response), "auth.origin_not_allowed");
    let socket = site.websocket("/chat").await.unwrap();
    assert_eq!(close_reason(socket).await.1, "auth.origin_not_allowed");
    assert!(
        registry.get::<Site>(["origin"]).await.is_err(),
        "the actor was created"
    );
    server.shutdown().await.unwrap();
}

async fn seen(site: &ActorHandle<Site>, path: &str) -> (u16, String) {
    let response = site.fetch(get(path)).await.unwrap();
    (response.status().as_u16(), body_text(&response))
}

#[tokio::test]
async fn paths_reach_the_actor_as_sent_and_stay_inside_it() {
    let (_registry, server, client) = serve().await;
    let site = client.get_or_create::<Site>(["paths"]).params(pass("ann"));
    // Escapes stay escapes (a `%2F` is not a separator, a `%3F` not a query); the
    // trailing slash and the query are kept.
    assert_eq!(
        seen(&site, "/path/a%20b/c%2Fd%3F/?q=1&r=%26").await,
        (200, "/path/a%20b/c%2Fd%3F/?q=1&r=%26".into())
    );
    // Dot segments resolve inside the actor's path: they cannot reach another endpoint.
    assert_eq!(seen(&site, "/path/x/../y").await, (200, "/path/y".into()));
    assert_eq!(
        seen(&site, "/../../action/hits").await,
        (404, "not here".into())
    );
    let mut socket = site.websocket("/path/a b?x=1").await.unwrap();
    assert_eq!(next_text(&mut socket).await, "hello ann at /path/a%20b");
    server.shutdown().await.unwrap();
}

/// Polls the log as `watcher` (each poll is a connection of its own, logged as
/// `left watcher`).
async fn wait_for_log(site: &ActorHandle<Site>, entry: &str) -> Vec<String> {
    wait_for_log_every(site, entry, Duration::from_millis(20)).await
}

async fn wait_for_log_every(site: &ActorHandle<Site>, entry: &str, every: Duration) -> Vec<String> {
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

#[tokio::test]
async fn an_open_raw_socket_keeps_the_actor_awake_until_the_client_closes_it() {
    let (_registry, server, client) = serve_with(rivet_actor::HostConfig {
        idle_timeout: Some(Duration::from_millis(100)),
        ..rivet_actor::HostConfig::default()
    })
    .await;
    let site = client.get_or_create::<Site>(["awake"]).params(pass("cy"));
    let mut socket = site.websocket("/chat").await.unwrap();
    assert_eq!(next_text(&mut socket).await, "hello cy at /chat");
    // Many idle timeouts pass while the socket is open: no sleep, no disconnect.
    tokio::time::sleep(Duration::from_millis(600)).await;
    socket.send(Message::Text("hit".into())).await.unwrap();
    assert_eq!(next_text(&mut socket).await, "hits 1");
    let log = site.params(pass("watcher")).log().await.unwrap();
    assert!(
        !log.iter().any(|e| e == "slept" || e == "left cy"),
        "{log:?}"
    );
    // The client closes: on_disconnect runs, then the idle actor sleeps (polled more
    // slowly than the idle timeout: each poll keeps it awake a little).
    socket.close(None).await.unwrap();
    let log = wait_for_log_every(&site, "slept", Duration::from_millis(300)).await;
    let left = log.iter().position(|e| e == "left cy").unwrap();
    assert!(log[left..].iter().any(|e| e == "slept"), "{log:?}");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_panicking_handler_is_masked_and_its_connection_still_disconnects() {
    let (_registry, server, client) = serve_with(rivet_actor::HostConfig {
        idle_timeout: Some(Duration::from_millis(100)),
        ..rivet_actor::HostConfig::default()
    })
    .await;
    let site = client.get_or_create::<Site>(["panics"]);
    let response = site.params(pass("gus")).fetch(get("/panic")).await.unwrap();
    assert_eq!(
        (response.status().as_u16(), error_code(&response)),
        (500, "rivetkit.internal_error".into())
    );
    let socket = site.params(pass("hal")).websocket("/panic").await.unwrap();
    let (code, reason) = close_reason(socket).await;
    assert_eq!((code, reason.as_str()), (1011, "rivetkit.internal_error"));
    // Both throwaway connections ran on_disconnect after the recovery, and none is left
    // behind to keep the actor awake.
    wait_for_log(&site, "left gus").await;
    wait_for_log(&site, "left hal").await;
    wait_for_log_every(&site, "slept", Duration::from_millis(300)).await;
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn oversized_messages_and_invalid_closes_still_close_cleanly() {
    let (_registry, server, client) = serve().await;
    let site = client.get_or_create::<Site>(["closes"]);
    let mut big = site.params(pass("ivy")).websocket("/chat").await.unwrap();
    assert_eq!(next_text(&mut big).await, "hello ivy at /chat");
    big.send(Message::Text("x".repeat(2 * 1024 * 1024).into()))
        .await
        .unwrap();
    let (code, reason) = close_reason(big).await;
    assert_eq!(code, 1009);
    assert!(reason.starts_with("message.too_large"), "{reason}");
    wait_for_log(&site, "left ivy").await;
    // The actor asks for a reserved code and an over-long reason: the client still gets a
    // valid close frame.
    let mut odd = site.params(pass("jo")).websocket("/chat").await.unwrap();
    assert_eq!(next_text(&mut odd).await, "hello jo at /chat");
    odd.send(Message::Text("odd-close".into())).await.unwrap();
    assert_eq!(close_reason(odd).await, (1000, "x".repeat(123)));
    wait_for_log(&site, "left jo").await;
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn destroying_the_actor_closes_its_raw_sockets() {
    let (registry, server, client) = serve().await;
    let site = client.get_or_create::<Site>(["doomed"]).params(pass("dee"));
    let mut socket = site.websocket("/chat").await.unwrap();
    assert_eq!(next_text(&mut socket).await, "hello dee at /chat");
    let id = registry.get::<Site>(["doomed"]).await.unwrap().id().clone();
    let deleted = reqwest::Client::new()
        .delete(format!("{}/actors/{}", server.endpoint(), id.as_str()))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 200);
    assert_eq!(close_reason(socket).await, (1011, "actor.destroyed".into()));
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_actor_that_does_not_read_still_sends_and_the_server_can_close() {
    let (registry, server, client) = serve().await;
    let site = client.get_or_create::<Site>(["deaf"]).params(pass("eve"));
    let mut socket = site.websocket("/deaf").await.unwrap();
    // Far more than the server buffers toward the actor.
    for i in 0..500 {
        socket
            .send(Message::Text(format!("m{i}").into()))
            .await
            .unwrap();
    }
    let first = next_text(&mut socket).await;
    let mut last = first.clone();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let tick = |text: &str| text.trim_start_matches("tick ").parse::<u32>().unwrap();
    while tick(&last) < tick(&first) + 10 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "ticks stopped at {last}"
        );
        last = next_text(&mut socket).await;
    }
    // The client's messages wait for the actor, and so would its close frame behind them;
    // the server's shutdown still closes the socket and disconnects it.
    tokio::time::timeout(Duration::from_secs(5), server.shutdown())
        .await
        .expect("the server shut down")
        .unwrap();
    let reason = loop {
        let frame = tokio::time::timeout(Duration::from_secs(5), socket.next())
            .await
            .expect("a close within 5 s");
        match frame {
            Some(Ok(Message::Text(_))) => continue,
            Some(Ok(Message::Close(Some(frame)))) => {
                break (u16::from(frame.code), frame.reason.to_string());
            }
            other => panic!("expected a close frame, got {other:?}"),
        }
    };
    assert_eq!(reason, (1001, "server shutting down".into()));
    let local = registry
        .get::<Site>(["deaf"])
        .await
        .unwrap()
        .params(pass("watcher"));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !local.log().await.unwrap().contains(&"left eve".to_string()) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "on_disconnect did not run"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn an_actor_that_only_listens_keeps_the_socket_open() {
    let (_registry, server, client) = serve().await;
    let site = client.get_or_create::<Site>(["listen"]).params(pass("fay"));
    let mut socket = site.websocket("/listen").await.unwrap();
    for _ in 0..3 {
        socket.send(Message::Text("x".into())).await.unwrap();
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while site.params(pass("watcher")).hits().await.unwrap() < 3 {
        assert!(tokio::time::Instant::now() < deadline, "messages were lost");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let log = site.params(pass("watcher")).log().await.unwrap();
    assert!(!log.contains(&"left fay".to_string()), "{log:?}");
    socket.close(None).await.unwrap();
    wait_for_log(&site, "left fay").await;
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn raw_request_preflights_allow_the_actors_methods_and_headers() {
    let registry = Registry::builder()
        .in_memory()
        .origins(OriginPolicy::allow(["https://ok.example"]).unwrap())
        .register::<Site>()
        .build();
    let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let preflight = |path: &str, origin: &str| {
        reqwest::Client::new()
            .request(
                reqwest::Method::OPTIONS,
                format!(
                    "{}/gateway/site{path}?rvt-method=get&rvt-key=k",
                    server.endpoint()
                ),
            )
            .header("origin", origin)
            .header("access-control-request-method", "PATCH")
            .header("access-control-request-headers", "x-app-token")
            .send()
    };
    let allowed = preflight("/request/notes", "https://ok.example")
        .await
        .unwrap();
    assert_eq!(allowed.status(), 204);
    let header = |name: &str| allowed.headers()[name].to_str().unwrap().to_owned();
    assert!(header("access-control-allow-methods").contains("PATCH"));
    assert!(header("access-control-allow-headers").contains("x-app-token"));
    assert!(header("access-control-allow-headers").contains("x-rivet-conn-params"));
    // Other endpoints keep the protocol's own lists; a refused origin gets nothing.
    let action = preflight("/action/hits", "https://ok.example")
        .await
        .unwrap();
    let methods = action.headers()["access-control-allow-methods"]
        .to_str()
        .unwrap();
    assert!(!methods.contains("PATCH"));
    let refused = preflight("/request/notes", "https://evil.example")
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    assert!(
        refused
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
    assert!(
        registry.get::<Site>(["k"]).await.is_err(),
        "a preflight created the actor"
    );
    server.shutdown().await.unwrap();
}

#[path = "../../rivet-actor/tests/support/js.rs"]
mod js;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn npm_client_fetch_and_websocket() {
    js::install_node_modules();
    let (_registry, server, _client) = serve().await;
    let endpoint = server.endpoint();
    for &encoding in js::ENCODINGS {
        let endpoint = endpoint.clone();
        tokio::task::spawn_blocking(move || js::run_js("raw.test.mjs", &endpoint, encoding, &[]))
            .await
            .unwrap();
    }
    server.shutdown().await.unwrap();
}
