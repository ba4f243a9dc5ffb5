//! Requests the router itself refuses (no such route, wrong method, no WebSocket upgrade, a
//! path that does not decode) and bad `/actors` bodies: each answers in the project's
//! `{group, code, message}` shape without echoing the input, and a valid call after it
//! proves the server and the actor's state intact.

mod common;

use common::chat_room::ChatRoom;
use common::server::{ADMIN_TOKEN, FetchJson, params, start};
use rivet_actor::prelude::*;
use rivet_actor::server::Server;

/// Put in every bad input: it must never come back.
const MARKER: &str = "ECHO-MARKER-7f3a";

async fn typed(response: reqwest::Response, status: u16, code: &str) {
    let got = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(got, status, "{code}: {text}");
    assert!(!text.contains(MARKER), "the input was echoed: {text}");
    let body: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not the error shape: {text}"));
    assert!(
        body["group"].is_string() && body["message"].is_string(),
        "{body}"
    );
    assert_eq!(body["code"], code, "{body}");
}

/// The state survives: the room has exactly the messages sent so far.
async fn intact(server: &Server, expected: usize) {
    let metadata = reqwest::get(format!("{}/metadata", server.endpoint()))
        .await
        .unwrap();
    assert_eq!(metadata.status(), 200);
    let room = Client::new(server.endpoint())
        .get_or_create::<ChatRoom>(["intact"])
        .params(params("a"));
    assert_eq!(room.get_messages().await.unwrap().len(), expected);
}

#[tokio::test]
async fn the_routers_own_refusals_are_typed() {
    let server = start().await;
    let room = Client::new(server.endpoint())
        .get_or_create::<ChatRoom>(["intact"])
        .params(params("a"));
    room.send_message("before".into()).await.unwrap();
    let http = reqwest::Client::new();
    let base = server.endpoint();
    let cases = [
        (http.get(format!("{base}/{MARKER}")), 404, "not_found"),
        (
            http.get(format!("{base}/gateway/chatRoom/action/{MARKER}")),
            405,
            "method_not_allowed",
        ),
        (
            http.get(format!("{base}/gateway/chatRoom/connect?{MARKER}=1")),
            400,
            "upgrade_required",
        ),
        (
            http.get(format!("{base}/gateway/chatRoom/websocket/{MARKER}")),
            400,
            "upgrade_required",
        ),
        (
            http.post(format!("{base}/gateway/%ff%fe{MARKER}/action/x")),
            400,
            "malformed",
        ),
        (
            http.patch(format!("{base}/actors")),
            405,
            "method_not_allowed",
        ),
    ];
    for (request, status, code) in cases {
        typed(request.send().await.unwrap(), status, code).await;
        intact(&server, 1).await;
    }
}

#[tokio::test]
async fn bad_actors_api_bodies_are_typed_and_create_nothing() {
    let server = start().await;
    let http = reqwest::Client::new();
    let actors = format!("{}/actors", server.endpoint());
    let put = |body: String| {
        http.put(&actors)
            .header("content-type", "application/json")
            .body(body)
    };
    let cases = [
        (put(format!("{{not json {MARKER}")), 400, "malformed"),
        (put(format!(r#"{{"key":"{MARKER}"}}"#)), 400, "malformed"),
        // (An unknown type is named back, clipped, as every `unknown_actor` is.)
        (
            put(r#"{"name":"noSuchActor"}"#.to_owned()),
            404,
            "unknown_actor",
        ),
        (
            put(format!(r#"{{"name":"chatRoom","key":"{MARKER}\\"}}"#)),
            400,
            "malformed",
        ),
        (
            put(format!(
                r#"{{"name":"chatRoom","key":"k","input":"!{MARKER}!"}}"#
            )),
            400,
            "invalid_input",
        ),
        (put(format!(r#"[42, "{MARKER}"]"#)), 400, "malformed"),
        (
            put(format!(
                r#"{{"name":"chatRoom","key":"{}"}}"#,
                "p/".repeat(20)
            )),
            400,
            "key_too_large",
        ),
        (
            http.get(format!("{actors}?key={MARKER}")),
            401,
            "unauthorized",
        ),
        (
            http.delete(format!("{actors}/{MARKER}"))
                .bearer_auth(ADMIN_TOKEN),
            404,
            "not_found",
        ),
    ];
    for (request, status, code) in cases {
        typed(request.send().await.unwrap(), status, code).await;
        intact(&server, 0).await;
    }
    // Only the room `intact` checks itself: nothing else was created.
    let listed: serde_json::Value = http
        .get(&actors)
        .bearer_auth(ADMIN_TOKEN)
        .fetch_json()
        .await;
    assert_eq!(listed["actors"].as_array().unwrap().len(), 1, "{listed}");
}
