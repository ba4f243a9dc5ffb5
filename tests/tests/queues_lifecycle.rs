//! Queues across an actor's life: ids after restarts, destroy, a run loop that ends holding
//! messages, in-process and connection senders, and the npm client.

#[path = "support/queue_worker.rs"]
mod worker;

use std::time::Duration;

use rivet_actor::HostConfig;
use rivet_actor::prelude::*;
use rivet_actor::queue::QueueSendResult;
use worker::*;

/// A fresh data directory for one test.
fn data_dir(name: &str) -> std::path::PathBuf {
    let dir =
        std::env::temp_dir().join(format!("rivet-actor-queues-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[tokio::test]
async fn message_ids_keep_growing_after_the_queue_drains_and_the_actor_restarts() {
    let dir = data_dir("ids");
    let mut taken = Vec::new();
    for tasks in [&["a", "b"][..], &["c"], &["d", "e"]] {
        let registry = Registry::builder()
            .data_dir(&dir)
            .register::<Worker>()
            .build();
        let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let worker = Client::new(server.endpoint())
            .get_or_create::<Worker>(["ids"])
            .params(badge("user"));
        for task in tasks {
            worker
                .send(Job {
                    task: task.to_string(),
                })
                .await
                .unwrap();
        }
        // Drained before the restart: nothing but the counter remembers the last id.
        taken.extend(worker.take_ids().await.unwrap());
        server.shutdown().await.unwrap();
    }
    assert_eq!(taken, [0, 1, 2, 3, 4]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn destroying_the_actor_answers_its_waiting_senders() {
    let (registry, server, client) = serve(HostConfig::default()).await;
    let worker = client
        .get_or_create::<Worker>(["destroyed"])
        .params(badge("user"));
    // Nobody takes jobs: without the destroy this would wait the full minute.
    let waiting = tokio::spawn(async move {
        worker
            .send_and_wait(Job { task: "x".into() }, Duration::from_secs(60))
            .await
    });
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let local = loop {
        if let Ok(local) = registry.get::<Worker>(["destroyed"]).await {
            let local = local.params(badge("user"));
            if local.waiting().await.unwrap_or(0) == 1 {
                break local;
            }
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the job never arrived"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    let response = reqwest::Client::new()
        .delete(format!(
            "{}/actors/{}",
            server.endpoint(),
            local.id().as_str()
        ))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
    let err = tokio::time::timeout(Duration::from_secs(5), waiting)
        .await
        .expect("the waiting sender was not answered")
        .unwrap()
        .unwrap_err();
    assert_eq!(code_of(&err), "actor.destroyed");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_run_loop_that_panics_fails_or_is_stopped_holding_a_message_answers_its_sender_and_restarts()
 {
    let config = HostConfig {
        idle_timeout: Some(Duration::from_millis(150)),
        ..HostConfig::default()
    };
    let (_registry, server, client) = serve(config).await;
    let worker = client
        .get_or_create::<Worker>(["crashy"])
        .params(badge("user"));
    for (i, how) in ["panic", "fail", "hold"].into_iter().enumerate() {
        // The loop took the message and ended (or, holding it, was stopped when the actor
        // went to sleep) without completing it: its sender hears so at once (the message is
        // gone), rather than timing out.
        let started = std::time::Instant::now();
        let err = worker
            .send_and_wait(Question { text: how.into() }, Duration::from_secs(30))
            .await
            .unwrap_err();
        assert_eq!(code_of(&err), "queue.consumer_stopped", "{how}");
        assert!(started.elapsed() < Duration::from_secs(10), "{how}");
        // The actor still takes turns.
        assert_eq!(worker.answered().await.unwrap(), i as u32);
        // Without a loop, a question waits; once the actor has slept, the next wake starts
        // a new loop, which answers it.
        worker
            .send(Question {
                text: format!("after {how}"),
            })
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(500)).await;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while worker.answered().await.unwrap() != i as u32 + 1 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "no new loop after {how}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_run_loop_working_under_keep_awake_is_not_put_to_sleep() {
    // The idle timeout is a quarter of the work: without `keep_awake` the actor would
    // sleep and stop the loop, as the "hold" case above shows.
    let config = HostConfig {
        idle_timeout: Some(Duration::from_millis(150)),
        ..HostConfig::default()
    };
    let (_registry, server, client) = serve(config).await;
    let worker = client
        .get_or_create::<Worker>(["kept"])
        .params(badge("user"));
    let answer = worker
        .send_and_wait(
            Question {
                text: "kept".into(),
            },
            Duration::from_secs(10),
        )
        .await
        .unwrap();
    assert_eq!(answer.response().map(|a| a.text.as_str()), Some("KEPT"));
    assert_eq!(worker.answered().await.unwrap(), 1);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn in_process_handles_send_through_the_same_pipeline() {
    let (registry, server, _client) = serve(HostConfig::default()).await;
    let worker = registry
        .get_or_create::<Worker>(["local"])
        .await
        .unwrap()
        .params(badge("user"));
    worker
        .send(Job {
            task: "local".into(),
        })
        .await
        .unwrap();
    let answer = worker
        .send_and_wait(Question { text: "in".into() }, Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(answer.response().map(|a| a.text.as_str()), Some("IN"));
    let timed_out = worker
        .send_and_wait(
            Job {
                task: "later".into(),
            },
            Duration::from_millis(100),
        )
        .await
        .unwrap();
    assert_eq!(timed_out, QueueSendResult::TimedOut);
    let err = worker.send(Deposit { amount: 1 }).await.unwrap_err();
    assert!(err.is_forbidden(), "{err:?}");
    let err = worker
        .send(AdminJob {
            command: "x".into(),
        })
        .await
        .unwrap_err();
    assert!(err.is_forbidden(), "{err:?}");
    assert_eq!(worker.take_ids().await.unwrap().len(), 2);
    assert_eq!(worker.done().await.unwrap(), ["local", "later"]);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn connections_send_with_their_params() {
    let (registry, server, client) = serve(HostConfig::default()).await;
    // Over the network: the WebSocket connection sends over HTTP with its handle's params.
    let keeper = client
        .get_or_create::<Worker>(["conns"])
        .params(badge("keeper"))
        .connect()
        .await
        .unwrap();
    keeper.send(Deposit { amount: 1 }).await.unwrap();
    let answer = keeper
        .send_and_wait(Question { text: "ws".into() }, Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(answer.response().map(|a| a.text.as_str()), Some("WS"));
    let user = client
        .get_or_create::<Worker>(["conns"])
        .params(badge("user"))
        .connect()
        .await
        .unwrap();
    assert!(
        user.send(Deposit { amount: 1 })
            .await
            .unwrap_err()
            .is_forbidden()
    );
    // In process, the same.
    let local = registry
        .get_or_create::<Worker>(["conns"])
        .await
        .unwrap()
        .params(badge("user"));
    let conn = local.connect().await.unwrap();
    conn.send(Job {
        task: "from a conn".into(),
    })
    .await
    .unwrap();
    assert!(
        conn.send(Deposit { amount: 1 })
            .await
            .unwrap_err()
            .is_forbidden()
    );
    let answer = conn
        .send_and_wait(
            Question {
                text: "local".into(),
            },
            Duration::from_secs(10),
        )
        .await
        .unwrap();
    assert_eq!(answer.response().map(|a| a.text.as_str()), Some("LOCAL"));
    assert_eq!(conn.work(false).await.unwrap(), 1);
    server.shutdown().await.unwrap();
}

#[path = "../../rivet-actor/tests/support/js.rs"]
mod js;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn npm_client_sends_to_queues() {
    js::install_node_modules();
    let (_registry, server, _client) = serve(HostConfig::default()).await;
    let endpoint = server.endpoint();
    for &encoding in js::ENCODINGS {
        let endpoint = endpoint.clone();
        tokio::task::spawn_blocking(move || {
            js::run_js("queues.test.mjs", &endpoint, encoding, &[])
        })
        .await
        .unwrap();
    }
    server.shutdown().await.unwrap();
}
