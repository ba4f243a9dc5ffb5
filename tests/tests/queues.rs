//! Queues end to end over the network: typed sends from the Rust client, consumption in a
//! turn (exactly once with the state) and in the `#[run]` loop (with completions), waiting
//! and timing out, bounds, undeclared queues, `can_invoke` and `can_publish` denials, and
//! messages that survive a restart.

use std::time::Duration;

use rivet_actor::prelude::*;
use rivet_actor::queue::QueueSendResult;
use rivet_actor::{HostConfig, OriginPolicy};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Job {
    task: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Question {
    text: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Answer {
    text: String,
}

/// The `vault` queue: only `keeper` connections may send (`can_publish`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Deposit {
    amount: u32,
}

/// The `admin` queue: refused by `can_invoke` unless the connection is `admin`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct AdminJob {
    command: String,
}

#[derive(Serialize, Deserialize)]
struct Badge {
    role: String,
}

#[derive(Default, Serialize, Deserialize)]
struct Worker {
    done: Vec<String>,
    answered: u32,
}

#[actor(queues(jobs = Job, questions = Question -> Answer, vault = Deposit, admin = AdminJob))]
impl Worker {
    #[conn_state]
    fn badge(&self, params: &Badge) -> String {
        params.role.clone()
    }

    #[can_invoke]
    fn allow(&self, c: &ConnCtx<'_, Self>, invoke: Invoke<Self>) -> bool {
        match invoke {
            Invoke::Queue(WorkerQueue::Admin) => c.conn().state() == "admin",
            _ => true,
        }
    }

    #[can_publish(vault)]
    fn keepers_deposit(&self, c: &ConnCtx<'_, Self>) -> bool {
        c.conn().state() == "keeper"
    }

    /// Takes every waiting job in this turn; `fail` makes the turn fail after taking them.
    #[action]
    fn work(&mut self, c: &mut ActionCtx<'_, Self>, fail: bool) -> Result<usize, UserError> {
        for job in c.queue().try_next_batch::<Job>(100) {
            self.done.push(job.body.task);
        }
        if fail {
            return Err(UserError::new("the work failed").code("failed"));
        }
        Ok(self.done.len())
    }

    /// Takes every waiting job in this turn; their ids.
    #[action]
    fn take_ids(&mut self, c: &mut ActionCtx<'_, Self>) -> Vec<u64> {
        let jobs = c.queue().try_next_batch::<Job>(100);
        let ids = jobs.iter().map(|job| job.id).collect();
        self.done.extend(jobs.into_iter().map(|job| job.body.task));
        ids
    }

    #[action]
    fn done(&self) -> Vec<String> {
        self.done.clone()
    }

    #[action]
    fn waiting(&self, c: &mut ActionCtx<'_, Self>) -> usize {
        c.queue().waiting::<Job>()
    }

    #[action]
    fn answered(&self) -> u32 {
        self.answered
    }

    #[action]
    fn record_answer(&mut self) -> u32 {
        self.answered += 1;
        self.answered
    }

    /// Answers questions: each one counted in a turn, then completed with its answer.
    #[run]
    async fn run(c: RunCtx<Self>) -> Result<(), UserError> {
        while let Some(question) = c.queue().next::<Question>().await {
            // A loop that fails or panics holding a message must not take the actor down.
            match question.body.text.as_str() {
                "panic" => panic!("the run loop panics"),
                "fail" => return Err(UserError::new("the run loop fails")),
                // Holds the message until the actor sleeps and the loop is stopped.
                "hold" => std::future::pending::<()>().await,
                _ => {}
            }
            let _ = c.this().record_answer().await;
            let text = question.body.text.to_uppercase();
            c.queue().complete(&question, Answer { text });
        }
        Ok(())
    }
}

fn badge(role: &str) -> Badge {
    Badge { role: role.into() }
}

/// The management API's token in these tests.
const ADMIN_TOKEN: &str = "queue-tests-admin";

async fn serve(config: HostConfig) -> (Registry, rivet_actor::server::Server, Client) {
    let registry = Registry::builder()
        .in_memory()
        .admin_token(ADMIN_TOKEN)
        .config(config)
        .register::<Worker>()
        .build();
    let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let client = Client::new(server.endpoint());
    (registry, server, client)
}

fn code_of(err: &ClientError) -> String {
    let err = err.actor_error().expect("an actor error");
    format!("{}.{}", err.group, err.code)
}

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
