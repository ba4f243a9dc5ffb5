//! Getting a scenario ready: actors created first, a measuring window, rows collected.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::opts::*;
use crate::wire::*;

pub(crate) fn plain_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .tcp_nodelay(true)
        .timeout(TIMEOUT)
        .build()
        .expect("http client")
}

/// Creates (or wakes) each actor `keys` names with one stateless read, `--open-conc` at a
/// time, before any WebSocket opens to it: every target gets its actors the same way, and no
/// WebSocket races the creation. Returns how many failed.
pub(crate) async fn ensure_actors(opts: &Opts, actor: &str, keys: Vec<String>) -> u64 {
    ensure_actors_until(opts, actor, keys, None).await.0
}

/// [`ensure_actors`], stopping between batches once `deadline` has passed; also returns how
/// many keys it got through.
pub(crate) async fn ensure_actors_until(
    opts: &Opts,
    actor: &str,
    keys: Vec<String>,
    deadline: Option<Instant>,
) -> (u64, usize) {
    if opts.kind != "actor" {
        return (0, keys.len()); // the echo floor has no actors (and no HTTP)
    }
    let (action, params) = match actor {
        "chatRoom" => ("getMessages", Some(chat_params(0))),
        _ => ("getCount", None),
    };
    let client = plain_client();
    let mut errors = 0;
    let mut done = 0;
    for chunk in keys.chunks(opts.open_conc.max(1)) {
        if deadline.is_some_and(|d| Instant::now() >= d) {
            break;
        }
        done += chunk.len();
        let calls = chunk.iter().map(|key| {
            let url = format!(
                "{}/gateway/{actor}/action/{action}?{}",
                opts.url,
                gateway_query(key)
            );
            let (client, params) = (client.clone(), params.clone());
            tokio::spawn(async move {
                http_call_params(&client, &url, "{\"args\":[]}", params.as_ref()).await
            })
        });
        for call in calls.collect::<Vec<_>>() {
            match call.await {
                Ok(Ok(())) => {}
                Ok(Err(err)) => {
                    eprintln!("creating {actor}: {err}");
                    errors += 1;
                }
                Err(_) => errors += 1,
            }
        }
    }
    (errors, done)
}

/// Runs `workers` loops until the window ends (or `--ops` operations have started); each
/// loop returns its latencies and errors.
pub(crate) struct Window {
    pub(crate) deadline: Instant,
    pub(crate) started: AtomicU64,
    pub(crate) cap: u64,
}

impl Window {
    pub(crate) fn new(opts: &Opts) -> Arc<Self> {
        Arc::new(Self {
            deadline: Instant::now() + Duration::from_secs_f64(opts.secs),
            started: AtomicU64::new(0),
            cap: opts.ops.unwrap_or(u64::MAX),
        })
    }
    pub(crate) fn next(&self) -> bool {
        Instant::now() < self.deadline && self.started.fetch_add(1, Ordering::Relaxed) < self.cap
    }
}

pub(crate) async fn collect(
    tasks: Vec<tokio::task::JoinHandle<(Vec<u32>, u64)>>,
    scenario: String,
    start: Instant,
) -> Row {
    let mut lat = Vec::new();
    let mut errors = 0;
    for task in tasks {
        match task.await {
            Ok((l, e)) => {
                lat.extend(l);
                errors += e;
            }
            Err(_) => errors += 1,
        }
    }
    finish(scenario, lat, errors, start.elapsed().as_secs_f64())
}
