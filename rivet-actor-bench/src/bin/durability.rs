//! Durable actions per second: 1, 16 and 256 concurrent clients, each on its own actor,
//! on the embedded SQLite storage (fsync before every acknowledgement, group commit) next to
//! the same run on in-memory storage, in one process and one run.
//!
//! Two transports, each measured on both storages in the same run:
//! - `in-process`: the typed in-process client — nothing but the executor and the storage,
//!   the harshest comparison;
//! - `websocket`: the typed network client over loopback WebSockets, as a server is used.
//!
//! Run: `cargo run --release -p rivet-actor-bench --bin durability [-- SECONDS]`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rivet_actor::prelude::*;
use rivet_actor::storage::{MemoryStorage, SqliteStorage, Storage};

#[derive(Default, Serialize, Deserialize)]
pub struct Counter {
    count: u64,
}

#[actor]
impl Counter {
    #[action]
    fn increment(&mut self) -> u64 {
        self.count += 1;
        self.count
    }
}

struct Row {
    actions_per_sec: f64,
    syncs_per_1000: f64,
}

type Call =
    Box<dyn Fn() -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> + Send + Sync>;

#[derive(Clone, Copy, PartialEq)]
enum Transport {
    InProcess,
    WebSocket,
}

async fn run(storage: Arc<dyn Storage>, transport: Transport, clients: usize, secs: f64) -> Row {
    let registry = Registry::builder()
        .shared_storage(storage.clone())
        .register::<Counter>()
        .build();
    let server = match transport {
        Transport::WebSocket => Some(registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap()),
        Transport::InProcess => None,
    };
    let mut handles: Vec<Call> = Vec::new();
    for i in 0..clients {
        let key = format!("c{clients}-{i}");
        let call: Call = match &server {
            None => {
                let conn = Arc::new(
                    registry
                        .get_or_create::<Counter>(key)
                        .await
                        .unwrap()
                        .connect()
                        .await
                        .unwrap(),
                );
                Box::new(move || {
                    let conn = conn.clone();
                    Box::pin(async move {
                        conn.increment().await.unwrap();
                    })
                })
            }
            Some(server) => {
                let client = Client::new(server.endpoint());
                let conn = Arc::new(
                    client
                        .get_or_create::<Counter>(key)
                        .connect()
                        .await
                        .unwrap(),
                );
                Box::new(move || {
                    let conn = conn.clone();
                    Box::pin(async move {
                        conn.increment().await.unwrap();
                    })
                })
            }
        };
        call().await; // warm: the instance is awake and created
        handles.push(call);
    }
    let before = storage.stats();
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let tasks: Vec<_> = handles
        .into_iter()
        .map(|call| {
            let (stop, done) = (stop.clone(), done.clone());
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    call().await;
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs_f64(secs)).await;
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        task.await.unwrap();
    }
    let elapsed = start.elapsed().as_secs_f64();
    let after = storage.stats();
    if let Some(server) = server {
        server.shutdown().await.unwrap();
    }
    let actions = done.load(Ordering::Relaxed) as f64;
    Row {
        actions_per_sec: actions / elapsed,
        syncs_per_1000: (after.syncs - before.syncs) as f64 * 1000.0 / actions.max(1.0),
    }
}

#[tokio::main]
async fn main() {
    let secs: f64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(3.0);
    let dir = std::env::temp_dir().join(format!(
        "rivet-actor-durability-bench-{}",
        std::process::id()
    ));
    println!("durable actions/s, {secs} s per row, each client on its own actor");
    println!(
        "| transport | clients | sqlite actions/s | memory actions/s | sqlite / memory | fsyncs per 1000 actions |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    for transport in [Transport::InProcess, Transport::WebSocket] {
        for clients in [1, 16, 256] {
            let name = if transport == Transport::InProcess {
                "in-process"
            } else {
                "websocket"
            };
            let sqlite_dir = dir.join(format!("{name}-{clients}"));
            let sqlite: Arc<dyn Storage> = Arc::new(SqliteStorage::open(&sqlite_dir).unwrap());
            let durable = run(sqlite, transport, clients, secs).await;
            let memory = run(Arc::new(MemoryStorage::new()), transport, clients, secs).await;
            println!(
                "| {name} | {clients} | {:.0} | {:.0} | {:.0}% | {:.1} |",
                durable.actions_per_sec,
                memory.actions_per_sec,
                100.0 * durable.actions_per_sec / memory.actions_per_sec,
                durable.syncs_per_1000
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
