//! Raw handlers end to end: `#[on_request]` and `#[on_websocket]` behind the origin policy,
//! the connect pipeline and `can_invoke` (kinds `request` and `websocket`), from the Rust
//! client and raw HTTP, and from the npm client's `handle.fetch` / `handle.webSocket`.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use rivet_actor::OriginPolicy;
use rivet_actor::prelude::*;
use rivet_actor::raw::RawMessage;
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
            "/fail" => Err(UserError::new("no such page").code("nope")),
            "/panic" => panic!("secret internal detail"),
            _ => Ok(text_response(404, "not here".into())),
        }
    }

    #[on_websocket]
    fn socket(&self, c: &mut ActionCtx<'_, Self>, socket: RawWebSocket) {
        let this = c.this();
        let user = c.conn().state().user.clone();
        let path = socket.uri().path().to_owned();
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

async fn serve() -> (Registry, rivet_actor::server::Server, Client) {
    let registry = Registry::builder()
        .in_memory()
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
    assert!(!site.log().await.unwrap().contains(&"left bob".to_string()));
    socket.send(Message::Text("bye".into())).await.unwrap();
    let closed = tokio::time::timeout(Duration::from_secs(5), socket.next())
        .await
        .unwrap();
    assert!(
        matches!(closed, Some(Ok(Message::Close(_))) | None),
        "{closed:?}"
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !site.log().await.unwrap().contains(&"left bob".to_string()) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "on_disconnect did not run"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
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

#[path = "../../rivet-actor/tests/support/js.rs"]
mod js;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn npm_client_fetch_and_websocket() {
    js::install_node_modules();
    let (_registry, server, _client) = serve().await;
    let endpoint = server.endpoint();
    for encoding in ["json", "cbor"] {
        let endpoint = endpoint.clone();
        tokio::task::spawn_blocking(move || js::run_js("raw.test.mjs", &endpoint, encoding, &[]))
            .await
            .unwrap();
    }
    server.shutdown().await.unwrap();
}
