//! Raw handlers end to end: `#[on_request]` and `#[on_websocket]` behind the origin policy,
//! the connect pipeline and `can_invoke` (kinds `request` and `websocket`), from the Rust
//! client and raw HTTP, and from the npm client's `handle.fetch` / `handle.webSocket`.

#[path = "support/raw_site.rs"]
mod site;

use futures_util::{SinkExt, StreamExt};
use rivet_actor::prelude::*;
use site::*;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

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
    let (registry, server) = serve_for_ok_example().await;
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

#[tokio::test]
async fn a_raw_request_cannot_pick_another_actor_or_carry_other_params() {
    let (_registry, server, client) = serve().await;
    let site = client.get_or_create::<Site>(["mine"]).params(pass("ann"));
    // A query setting gateway parameters is not sent (it would have named another actor).
    let err = site
        .fetch(get("/hit?rvt-key-json=%5B%22victim%22%5D"))
        .await
        .unwrap_err();
    assert!(matches!(err, ClientError::Transport(_)), "{err:?}");
    // Sent anyway, by hand: the server refuses a gateway parameter named twice, and creates
    // nothing.
    // The npm client names the key with `rvt-key` alone: a request's own `rvt-key-json`
    // naming another key is refused as well (it would have won).
    for query in [
        "rvt-method=getOrCreate&rvt-key=mine&rvt-key=victim",
        "rvt-method=getOrCreate&rvt-key=mine&rvt-key-json=%5B%22victim%22%5D",
    ] {
        let url = format!("{}/gateway/site/request/hit?{query}", server.endpoint());
        let response = reqwest::Client::builder()
            .no_proxy()
            .build()
            .unwrap()
            .get(url)
            .header("x-rivet-conn-params", r#"{"user":"ann"}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{query}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["code"], "malformed", "{query}");
    }
    assert!(client.get::<Site>(["victim"]).hits().await.is_err());
    // A request's own `x-rivet-conn-params` does not replace the handle's params.
    let request = rivet_actor::http::Request::get("/hit")
        .header("x-rivet-conn-params", r#"{"user":"mallory"}"#)
        .body(Vec::new())
        .unwrap();
    let response = site.fetch(request).await.unwrap();
    assert!(
        body_text(&response).ends_with(" ann"),
        "{}",
        body_text(&response)
    );
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_raw_websocket_path_cannot_leave_the_actor_through_backslashes_or_controls() {
    let (_registry, server, client) = serve().await;
    let site = client.get_or_create::<Site>(["escape"]).params(pass("ann"));
    // A backslash is not a separator: the handler sees it, escaped, inside its own path.
    let mut socket = site.websocket("/..\\connect").await.unwrap();
    assert_eq!(next_text(&mut socket).await, "hello ann at /..%5Cconnect");
    // Control characters (which the URL parser would drop, making `..`) are refused.
    let err = site.websocket("/.\t./connect").await.unwrap_err();
    assert!(matches!(err, ClientError::Transport(_)), "{err:?}");
    server.shutdown().await.unwrap();
}
