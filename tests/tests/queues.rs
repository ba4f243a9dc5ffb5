//! Queues end to end over the network: typed sends from the Rust client, consumption in a
//! turn (exactly once with the state) and in the `#[run]` loop (with completions), waiting
//! and timing out, bounds, undeclared queues, `can_invoke` and `can_publish` denials, and
//! messages that survive a restart (more in `queues_lifecycle.rs`).

#[path = "support/queue_worker.rs"]
mod worker;

use std::time::Duration;

use rivet_actor::prelude::*;
use rivet_actor::queue::QueueSendResult;
use rivet_actor::{HostConfig, OriginPolicy};
use worker::*;

#[tokio::test]
async fn jobs_are_taken_in_a_turn_and_a_failed_turn_puts_them_back() {
    let (_registry, server, client) = serve(HostConfig::default()).await;
    let worker = client
        .get_or_create::<Worker>(["turns"])
        .params(badge("user"));
    for task in ["a", "b", "c"] {
        worker.send(Job { task: task.into() }).await.unwrap();
    }
    assert_eq!(worker.waiting().await.unwrap(), 3);
    // The failed turn took them and rolled back: they are still queued, nothing done.
    let err = worker.work(true).await.unwrap_err();
    assert_eq!(code_of(&err), "user.failed");
    assert_eq!(worker.waiting().await.unwrap(), 3);
    assert!(worker.done().await.unwrap().is_empty());
    // A successful turn takes them exactly once, in order.
    assert_eq!(worker.work(false).await.unwrap(), 3);
    assert_eq!(worker.done().await.unwrap(), ["a", "b", "c"]);
    assert_eq!(worker.waiting().await.unwrap(), 0);
    assert_eq!(worker.work(false).await.unwrap(), 3);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_run_loop_completes_what_senders_wait_for() {
    let (_registry, server, client) = serve(HostConfig::default()).await;
    let worker = client
        .get_or_create::<Worker>(["loop"])
        .params(badge("user"));
    let answer = worker
        .send_and_wait(
            Question {
                text: "hello".into(),
            },
            Duration::from_secs(10),
        )
        .await
        .unwrap();
    assert_eq!(
        answer,
        QueueSendResult::Completed(Some(Answer {
            text: "HELLO".into()
        }))
    );
    // Concurrent senders each get their own answer.
    let asks = (0..8).map(|i| {
        let worker = client
            .get_or_create::<Worker>(["loop"])
            .params(badge("user"));
        async move {
            worker
                .send_and_wait(
                    Question {
                        text: format!("q{i}"),
                    },
                    Duration::from_secs(10),
                )
                .await
        }
    });
    let answers = futures_join(asks).await;
    for (i, answer) in answers.into_iter().enumerate() {
        assert_eq!(answer.unwrap().response().unwrap().text, format!("Q{i}"));
    }
    assert_eq!(worker.answered().await.unwrap(), 9);
    server.shutdown().await.unwrap();
}

/// Runs the futures concurrently and returns their outputs in order.
async fn futures_join<F: std::future::Future + Send + 'static>(
    futures: impl Iterator<Item = F>,
) -> Vec<F::Output>
where
    F::Output: Send,
{
    let tasks: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for task in tasks {
        out.push(task.await.unwrap());
    }
    out
}

#[tokio::test]
async fn a_wait_nobody_completes_times_out_and_the_message_stays() {
    let (_registry, server, client) = serve(HostConfig::default()).await;
    let worker = client
        .get_or_create::<Worker>(["timeout"])
        .params(badge("user"));
    let started = std::time::Instant::now();
    let result = worker
        .send_and_wait(
            Job {
                task: "slow".into(),
            },
            Duration::from_millis(300),
        )
        .await
        .unwrap();
    assert_eq!(result, QueueSendResult::TimedOut);
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(worker.work(false).await.unwrap(), 1);
    assert_eq!(worker.done().await.unwrap(), ["slow"]);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn bounds_refuse_clearly_and_lose_nothing() {
    let config = HostConfig {
        max_queue_size: 3,
        max_queue_message_size: 64,
        ..HostConfig::default()
    };
    let (_registry, server, client) = serve(config).await;
    let worker = client
        .get_or_create::<Worker>(["bounds"])
        .params(badge("user"));
    for task in ["1", "2", "3"] {
        worker.send(Job { task: task.into() }).await.unwrap();
    }
    let full = worker.send(Job { task: "4".into() }).await.unwrap_err();
    assert_eq!(code_of(&full), "queue.full");
    let huge = worker
        .send(Job {
            task: "x".repeat(100),
        })
        .await
        .unwrap_err();
    assert_eq!(code_of(&huge), "queue.message_too_large");
    assert_eq!(worker.work(false).await.unwrap(), 3);
    assert_eq!(worker.done().await.unwrap(), ["1", "2", "3"]);
    // Room again once consumed.
    worker.send(Job { task: "4".into() }).await.unwrap();
    assert_eq!(worker.waiting().await.unwrap(), 1);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn denials_by_can_invoke_and_can_publish_are_forbidden() {
    let (_registry, server, client) = serve(HostConfig::default()).await;
    let worker = client.get_or_create::<Worker>(["denials"]);
    let user = worker.params(badge("user"));
    let err = user
        .send(AdminJob {
            command: "drop".into(),
        })
        .await
        .unwrap_err();
    assert!(err.is_forbidden(), "{err:?}");
    let err = user.send(Deposit { amount: 5 }).await.unwrap_err();
    assert!(err.is_forbidden(), "{err:?}");
    // The right roles pass.
    worker
        .params(badge("admin"))
        .send(AdminJob {
            command: "drop".into(),
        })
        .await
        .unwrap();
    worker
        .params(badge("keeper"))
        .send(Deposit { amount: 5 })
        .await
        .unwrap();
    // Over plain HTTP: 403 with the error body.
    let response = post_queue(
        &server,
        "denials",
        "vault",
        r#"{"body":{"amount":1}}"#,
        "user",
    )
    .await;
    assert_eq!(response.status(), 403);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        (body["group"].as_str(), body["code"].as_str()),
        (Some("auth"), Some("forbidden"))
    );
    server.shutdown().await.unwrap();
}

async fn post_queue(
    server: &rivet_actor::server::Server,
    key: &str,
    queue: &str,
    body: &str,
    role: &str,
) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!(
            "{}/gateway/worker/queue/{queue}?rvt-method=getOrCreate&rvt-key={key}",
            server.endpoint()
        ))
        .header("x-rivet-encoding", "json")
        .header("content-type", "application/json")
        .header("x-rivet-conn-params", format!(r#"{{"role":"{role}"}}"#))
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn undeclared_queues_and_bad_bodies_are_errors_that_create_nothing() {
    let (registry, server, _client) = serve(HostConfig::default()).await;
    let response = post_queue(&server, "ghost", "nope", r#"{"body":1}"#, "user").await;
    assert_eq!(response.status(), 404);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        (body["group"].as_str(), body["code"].as_str()),
        (Some("queue"), Some("not_found"))
    );
    let response = post_queue(&server, "ghost", "jobs", "not json", "user").await;
    assert_eq!(response.status(), 400);
    let huge = format!(r#"{{"body":{{"task":"{}"}}}}"#, "x".repeat(70_000));
    let response = post_queue(&server, "ghost", "jobs", &huge, "user").await;
    assert_eq!(response.status(), 400);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["code"], "message_too_large", "{body}");
    assert!(
        registry.get::<Worker>(["ghost"]).await.is_err(),
        "an undeclared queue, a malformed or an oversized body created the actor"
    );
    // A body of the wrong shape is accepted as a message but refused to its consumer, and
    // a sender waiting on it hears why.
    let endpoint = server.endpoint();
    let waited = tokio::spawn(async move {
        let response = reqwest::Client::new()
            .post(format!(
                "{endpoint}/gateway/worker/queue/jobs?rvt-method=getOrCreate&rvt-key=shape"
            ))
            .header("x-rivet-encoding", "json")
            .header("x-rivet-conn-params", r#"{"role":"user"}"#)
            .body(r#"{"body":{"wrong":true},"wait":true,"timeout":5000}"#)
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.json::<serde_json::Value>().await.unwrap())
    });
    let client = Client::new(server.endpoint());
    let worker = client
        .get_or_create::<Worker>(["shape"])
        .params(badge("user"));
    // Wait until the message is queued (the send above answers only when it completes).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while worker.waiting().await.unwrap_or(0) == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the message never arrived"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(worker.work(false).await.unwrap(), 0);
    let (status, body) = waited.await.unwrap();
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["code"], "invalid_message", "{body}");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn messages_survive_a_restart_and_wake_a_sleeping_actor() {
    let dir = std::env::temp_dir().join(format!("rivet-actor-queues-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let config = HostConfig {
        idle_timeout: Some(Duration::from_millis(100)),
        ..HostConfig::default()
    };
    {
        let registry = Registry::builder()
            .data_dir(&dir)
            .config(config.clone())
            .origins(OriginPolicy::any())
            .register::<Worker>()
            .build();
        let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let worker = Client::new(server.endpoint())
            .get_or_create::<Worker>(["durable"])
            .params(badge("user"));
        worker.send(Job { task: "one".into() }).await.unwrap();
        worker.send(Job { task: "two".into() }).await.unwrap();
        server.shutdown().await.unwrap();
    }
    let registry = Registry::builder()
        .data_dir(&dir)
        .config(config)
        .register::<Worker>()
        .build();
    let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let worker = Client::new(server.endpoint())
        .get_or_create::<Worker>(["durable"])
        .params(badge("user"));
    assert_eq!(worker.work(false).await.unwrap(), 2);
    assert_eq!(worker.done().await.unwrap(), ["one", "two"]);
    // Asleep (idle 100 ms), the actor is woken by a message and its run loop answers it.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let answer = worker
        .send_and_wait(
            Question {
                text: "awake?".into(),
            },
            Duration::from_secs(10),
        )
        .await
        .unwrap();
    assert_eq!(answer.response().unwrap().text, "AWAKE?");
    server.shutdown().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn the_rust_client_sends_in_cbor_too() {
    let (_registry, server, _client) = serve(HostConfig::default()).await;
    let worker = Client::new(server.endpoint())
        .encoding(rivet_actor::protocol::Encoding::Cbor)
        .get_or_create::<Worker>(["cbor"])
        .params(badge("user"));
    worker.send(Job { task: "c".into() }).await.unwrap();
    let answer = worker
        .send_and_wait(
            Question {
                text: "cbor".into(),
            },
            Duration::from_secs(10),
        )
        .await
        .unwrap();
    assert_eq!(answer.response().map(|a| a.text.as_str()), Some("CBOR"));
    let err = worker.send(Deposit { amount: 1 }).await.unwrap_err();
    assert!(err.is_forbidden(), "{err:?}");
    assert_eq!(worker.work(false).await.unwrap(), 1);
    server.shutdown().await.unwrap();
}
