//! The management API: enumerating and destroying actors need the admin token (refused
//! outright when none is configured), keyed lookups and get-or-create stay open to clients
//! but pass the actor type's origin policy first; refusals create nothing.

mod common;

use common::chat_room::ChatRoom;
use common::server::{ADMIN_TOKEN, FetchJson, start, status_and_code};
use rivet_actor::prelude::*;
use rivet_actor::server::Server;

async fn room_id(server: &Server, key: &str) -> String {
    let body: serde_json::Value = reqwest::Client::new()
        .put(format!("{}/actors", server.endpoint()))
        .json(&serde_json::json!({ "name": "chatRoom", "key": key }))
        .fetch_json()
        .await;
    body["actor"]["actor_id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn listing_and_destroying_need_the_admin_token() {
    let server = start().await;
    let http = reqwest::Client::new();
    let id = room_id(&server, "admin-a").await;
    let list = || http.get(format!("{}/actors", server.endpoint()));
    let list_by_name = || http.get(format!("{}/actors?name=chatRoom", server.endpoint()));
    let destroy = || http.delete(format!("{}/actors/{id}", server.endpoint()));
    for request in [list(), list_by_name(), destroy()] {
        assert_eq!(
            status_and_code(request.send().await.unwrap()).await,
            (401, "unauthorized".to_owned())
        );
    }
    for request in [list(), destroy()] {
        let wrong = request.bearer_auth("not-the-token").send().await.unwrap();
        assert_eq!(
            status_and_code(wrong).await,
            (401, "unauthorized".to_owned())
        );
    }
    // Still there after every refusal.
    let found: serde_json::Value = list().bearer_auth(ADMIN_TOKEN).fetch_json().await;
    assert_eq!(found["actors"].as_array().unwrap().len(), 1, "{found}");
    assert_eq!(found["actors"][0]["actor_id"], id.as_str());
    let deleted = destroy().bearer_auth(ADMIN_TOKEN).send().await.unwrap();
    assert_eq!(deleted.status(), 200);
}

#[tokio::test]
async fn the_listing_comes_a_page_at_a_time() {
    let server = start().await;
    let http = reqwest::Client::new();
    let mut created = Vec::new();
    for n in 0..5 {
        created.push(room_id(&server, &format!("page-{n}")).await);
    }
    created.sort();
    let page = |query: String| {
        http.get(format!("{}/actors?name=chatRoom{query}", server.endpoint()))
            .bearer_auth(ADMIN_TOKEN)
    };
    let mut listed = Vec::new();
    let mut query = "&limit=2".to_owned();
    loop {
        let body: serde_json::Value = page(query.clone()).fetch_json().await;
        let actors = body["actors"].as_array().unwrap();
        assert!(actors.len() <= 2, "{body}");
        listed.extend(
            actors
                .iter()
                .map(|a| a["actor_id"].as_str().unwrap().to_owned()),
        );
        match body["pagination"]["cursor"].as_str() {
            Some(cursor) => query = format!("&limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(listed, created);
    // Without a limit, one page of up to 100; a limit out of range is refused.
    let body: serde_json::Value = page(String::new()).fetch_json().await;
    assert_eq!(body["actors"].as_array().unwrap().len(), 5);
    assert_eq!(body["pagination"]["cursor"], serde_json::Value::Null);
    for bad in ["&limit=0", "&limit=1001", "&limit=x"] {
        let refused = page(bad.to_owned()).send().await.unwrap();
        assert_eq!(status_and_code(refused).await.0, 400, "{bad}");
    }
}

#[tokio::test]
async fn without_a_configured_token_the_management_api_is_refused() {
    let registry = Registry::builder()
        .in_memory()
        .register::<ChatRoom>()
        .build();
    let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let http = reqwest::Client::new();
    let id = room_id(&server, "no-admin").await;
    let refused = [
        http.get(format!("{}/actors", server.endpoint())),
        http.delete(format!("{}/actors/{id}", server.endpoint())),
        http.delete(format!("{}/actors/{id}", server.endpoint()))
            .bearer_auth("anything"),
    ];
    for request in refused {
        let (status, code) = status_and_code(request.send().await.unwrap()).await;
        assert_eq!((status, code.as_str()), (403, "admin_disabled"));
    }
    // Lookups by key and by id stay open to clients.
    let by_key: serde_json::Value = http
        .get(format!(
            "{}/actors?name=chatRoom&key=no-admin",
            server.endpoint()
        ))
        .fetch_json()
        .await;
    assert_eq!(by_key["actors"][0]["actor_id"], id.as_str());
    let by_id: serde_json::Value = http
        .get(format!("{}/actors?actor_ids={id}", server.endpoint()))
        .fetch_json()
        .await;
    assert_eq!(by_id["actors"][0]["actor_id"], id.as_str());
    let too_many = vec![id.as_str(); 101].join(",");
    let (status, code) = status_and_code(
        http.get(format!("{}/actors?actor_ids={too_many}", server.endpoint()))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, code.as_str()), (400, "malformed"));
}

#[tokio::test]
async fn get_or_create_through_the_actors_api_passes_the_origin_policy_first() {
    let registry = Registry::builder()
        .in_memory()
        .origins(rivet_actor::OriginPolicy::allow(["https://app.example"]).unwrap())
        .register::<ChatRoom>()
        .build();
    let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let http = reqwest::Client::new();
    let body = serde_json::json!({ "name": "chatRoom", "key": "origin-check" });
    for method in [reqwest::Method::PUT, reqwest::Method::POST] {
        let refused = http
            .request(method, format!("{}/actors", server.endpoint()))
            .header("origin", "https://evil.example")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(
            status_and_code(refused).await,
            (403, "origin_not_allowed".to_owned())
        );
    }
    let lookup = http
        .get(format!(
            "{}/actors?name=chatRoom&key=origin-check",
            server.endpoint()
        ))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(
        status_and_code(lookup).await,
        (403, "origin_not_allowed".to_owned())
    );
    // Nothing was created by the refused calls.
    assert!(
        registry
            .storage()
            .list_actors(None)
            .await
            .unwrap()
            .is_empty()
    );
    let allowed = http
        .put(format!("{}/actors", server.endpoint()))
        .header("origin", "https://app.example")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(allowed.status(), 200);
    assert_eq!(registry.storage().list_actors(None).await.unwrap().len(), 1);
}

#[tokio::test]
async fn metrics_need_the_admin_token_and_count_what_happened() {
    let server = start().await;
    let http = reqwest::Client::new();
    let metrics = || http.get(format!("{}/metrics", server.endpoint()));
    let refused = metrics().send().await.unwrap();
    assert_eq!(
        status_and_code(refused).await,
        (401, "unauthorized".to_owned())
    );

    let client = Client::new(server.endpoint());
    let room = client
        .get_or_create::<ChatRoom>(["metrics"])
        .params(common::server::params("a"));
    room.send_message("one".into()).await.unwrap();
    room.send_message(String::new()).await.unwrap_err(); // a user error
    let conn = room.connect().await.unwrap();
    conn.send_message("two".into()).await.unwrap();

    let text = metrics()
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for expected in [
        "rivet_connections 1",
        "rivet_actors_awake{actor=\"chatRoom\"} 1",
        "rivet_actions_total{actor=\"chatRoom\",outcome=\"ok\"} 2",
        "rivet_actions_total{actor=\"chatRoom\",outcome=\"user_error\"} 1",
        "# TYPE rivet_commit_seconds histogram",
        "rivet_storage_syncs_per_commit",
    ] {
        assert!(text.contains(expected), "missing `{expected}` in:\n{text}");
    }
    let commits: u64 = text
        .lines()
        .find_map(|line| line.strip_prefix("rivet_commit_seconds_count "))
        .unwrap()
        .parse()
        .unwrap();
    assert!(commits >= 2, "{text}");
    conn.close().await;
}
