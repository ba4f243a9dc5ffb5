//! Internal errors never reach a client: `leakyActor`'s action and connect hooks fail with
//! an internal error (or a panic) carrying `secret-internal-detail`; clients see
//! `rivetkit.internal_error` with a generic message on HTTP and WebSocket, a hook that hangs
//! answers `actor.hook_timed_out`, and the actor keeps answering `ping`.

mod common;

use std::time::Instant;

use common::*;
use rivet_actor::ClientError;
use rivet_actor_examples::seeds::leaky::{LeakyActor, SECRET};
use serde_json::json;

fn assert_masked(err: &ClientError, what: &str) {
    let actor = err
        .actor_error()
        .unwrap_or_else(|| panic!("{what}: {err:?}"));
    assert_eq!(
        (actor.group.as_str(), actor.code.as_str()),
        ("rivetkit", "internal_error"),
        "{what}"
    );
    let everything = format!("{err:?} {err} {}", serde_json::to_string(actor).unwrap());
    assert!(!everything.contains(SECRET), "{what} leaked: {everything}");
    assert!(
        !everything.contains("secret"),
        "{what} leaked: {everything}"
    );
}

#[tokio::test]
async fn failing_actions_and_hooks_are_masked_everywhere() {
    let (_registry, server, client) = start().await;
    let key = key("leaky");
    let plain = client.get_or_create::<LeakyActor>([key.as_str()]);
    assert_eq!(plain.ping().await.unwrap(), "pong");
    // The action, over HTTP and WebSocket.
    assert_masked(&plain.boom().await.unwrap_err(), "boom over HTTP");
    let conn = plain.connect().await.unwrap();
    assert_masked(&conn.boom().await.unwrap_err(), "boom over WebSocket");
    assert_eq!(conn.ping().await.unwrap(), "pong");
    let response = http_action(&server, "leakyActor", &key, "boom", None, None).await;
    assert_eq!(response.status(), 500);
    let body = response.text().await.unwrap();
    assert!(!body.contains(SECRET), "{body}");
    // The hooks: an error in before_connect, in conn_state, and a panic in before_connect.
    for explode in ["beforeConnect", "connState", "panic"] {
        let params = json!({ "explode": explode });
        let handle = client
            .get_or_create::<LeakyActor>([key.as_str()])
            .params(&params);
        assert_masked(
            &handle.ping().await.unwrap_err(),
            &format!("{explode} over HTTP"),
        );
        assert_masked(
            &handle.connect().await.err().unwrap(),
            &format!("{explode} over WebSocket"),
        );
        let params = params.to_string();
        let response = http_action(&server, "leakyActor", &key, "ping", Some(&params), None).await;
        let body = response.text().await.unwrap();
        assert!(!body.contains(SECRET), "{explode}: {body}");
        assert!(body.contains("internal_error"), "{explode}: {body}");
        let WsOutcome::Refused {
            error,
            code,
            reason,
        } = ws_connect(&server, "leakyActor", &key, Some(&params), None).await
        else {
            panic!("{explode}: accepted");
        };
        assert_eq!(error["code"], "internal_error", "{explode}");
        assert!(!error.to_string().contains(SECRET), "{explode}: {error}");
        assert_eq!((code, reason.as_str()), (1011, "rivetkit.internal_error"));
    }
    // Still alive, on the open connection and on new ones.
    assert_eq!(conn.ping().await.unwrap(), "pong");
    assert_eq!(plain.ping().await.unwrap(), "pong");
    conn.close().await;
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_hanging_hook_times_out_without_blocking_the_actor() {
    let (_registry, server, client) = start().await;
    let key = key("hang");
    let plain = client.get_or_create::<LeakyActor>([key.as_str()]);
    let conn = plain.connect().await.unwrap();
    let hanging = client
        .get_or_create::<LeakyActor>([key.as_str()])
        .params(json!({ "explode": "hang" }));
    let started = Instant::now();
    let (err, ping) = tokio::join!(hanging.ping(), async {
        tokio::time::sleep(HOOK_TIMEOUT / 3).await;
        conn.ping().await
    });
    let err = err.unwrap_err();
    let actor = err.actor_error().unwrap();
    assert_eq!(
        (actor.group.as_str(), actor.code.as_str()),
        ("actor", "hook_timed_out")
    );
    assert!(started.elapsed() >= HOOK_TIMEOUT);
    assert!(started.elapsed() < HOOK_TIMEOUT * 10);
    assert_eq!(ping.unwrap(), "pong");
    assert_eq!(
        hanging.connect().await.err().unwrap().code(),
        Some("hook_timed_out")
    );
    assert_eq!(plain.ping().await.unwrap(), "pong");
    conn.close().await;
    server.shutdown().await.unwrap();
}
