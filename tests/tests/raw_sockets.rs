//! Raw sockets over their life: an open socket keeps the actor awake, panicking handlers,
//! oversized messages and odd closes, destroy, flow control both ways, CORS preflights of raw
//! requests, and the npm client's fetch/webSocket.

#[path = "support/raw_site.rs"]
mod site;

use futures_util::{SinkExt, StreamExt};
use site::*;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

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
    let (registry, server) = serve_for_ok_example().await;
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

#[tokio::test]
async fn a_raw_upgrade_with_bad_params_gets_a_typed_http_error() {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let (registry, server, _client) = serve().await;
    let url = format!(
        "{}/gateway/Site/websocket/x?rvt-method=getOrCreate&rvt-key=bad-params",
        server.endpoint().replacen("http", "ws", 1)
    );
    for offered in [
        "rivet_conn_params.%7Bnot-json",
        "rivet_conn_params.%7B%7D, rivet_conn_params.%7B%7D",
    ] {
        let mut request = url.as_str().into_client_request().unwrap();
        request
            .headers_mut()
            .insert("sec-websocket-protocol", offered.parse().unwrap());
        let refused = tokio_tungstenite::connect_async(request).await.unwrap_err();
        let tokio_tungstenite::tungstenite::Error::Http(response) = refused else {
            panic!("expected an HTTP refusal for {offered}, got {refused:?}");
        };
        assert_eq!(response.status(), 400);
        let body: serde_json::Value =
            serde_json::from_slice(response.body().as_deref().unwrap_or_default()).unwrap();
        assert_eq!(
            (body["group"].as_str(), body["code"].as_str()),
            (Some("message"), Some("invalid_params")),
            "{offered}"
        );
    }
    // Nothing was created for them.
    assert!(registry.get::<Site>(["bad-params"]).await.is_err());
    server.shutdown().await.unwrap();
}
