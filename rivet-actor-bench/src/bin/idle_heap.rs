//! Heap bytes per idle awake actor, counted by the allocator (not RSS, which keeps what a
//! burst of running tasks once took): `--actors N` counters are created in-process, each
//! answers one action, and once every one is quiet the live heap is read again. Compared in
//! the same run with parking off (every actor keeps its task), on memory storage and on
//! SQLite (whose page cache is bounded, not per actor). Then one more call to each of the
//! first 2,000 idle actors, through a new handle, is timed: what answering costs a parked
//! actor (a task spawned for it) against one that kept its task.
//!
//! With `--connected`, each actor keeps one open in-process connection (`LocalConn`, which
//! counts its client side too): an idle connected actor, parked or keeping its task.
//!
//! Run: `cargo run --release -p rivet-actor-bench --bin idle_heap -- [--actors 10000] [--connected]`

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::Duration;

use rivet_actor::HostConfig;
use rivet_actor::prelude::*;
use rivet_actor::storage::SqliteStorage;

/// The system allocator, counting the bytes it holds.
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every call is forwarded to `System` unchanged; only a counter is added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: the caller's contract is `System`'s.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: the caller's contract is `System`'s.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        // SAFETY: the caller's contract is `System`'s.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

#[derive(Default, Serialize, Deserialize)]
pub struct Counter {
    count: i64,
}

#[actor]
impl Counter {
    #[action]
    fn get_count(&self) -> i64 {
        self.count
    }
}

/// Heap bytes per idle actor for one configuration, and the p50 / p99 of a call to an idle
/// actor (µs).
async fn per_actor(
    actors: usize,
    park: bool,
    sqlite: Option<&std::path::Path>,
    connected: bool,
) -> (f64, f64, f64) {
    let config = HostConfig {
        idle_timeout: None,
        park_after: park.then(|| Duration::from_millis(50)),
        ..Default::default()
    };
    let builder = Registry::builder().config(config).register::<Counter>();
    let registry = match sqlite {
        Some(dir) => builder.storage(SqliteStorage::open(dir).expect("SQLite opens")),
        None => builder.in_memory(),
    }
    .build();
    // One actor first: the registry's and the runtime's one-time allocations are not per
    // actor.
    let first = registry.get_or_create::<Counter>(["warm"]).await.unwrap();
    first.get_count().await.unwrap();
    settle(&registry, 1, park).await;
    let before = LIVE.load(Ordering::Relaxed);
    let mut conns = Vec::new();
    for i in 0..actors {
        let counter = registry
            .get_or_create::<Counter>([format!("idle-{i}")])
            .await
            .unwrap();
        counter.get_count().await.unwrap();
        if connected {
            let conn = counter.connect().await.unwrap();
            conn.get_count().await.unwrap();
            conns.push(conn);
        }
    }
    settle(&registry, actors + 1, park).await;
    let after = LIVE.load(Ordering::Relaxed);
    let mut took = Vec::new();
    for i in 0..actors.min(2_000) {
        let counter = registry
            .get::<Counter>([format!("idle-{i}")])
            .await
            .unwrap();
        let start = std::time::Instant::now();
        counter.get_count().await.unwrap();
        took.push(start.elapsed().as_secs_f64() * 1e6);
    }
    drop(conns);
    took.sort_by(f64::total_cmp);
    let at = |q: f64| took[((took.len() - 1) as f64 * q) as usize];
    ((after - before) as f64 / actors as f64, at(0.5), at(0.99))
}

/// Waits until `awake` actors are in memory and, when parking, all parked.
async fn settle(registry: &Registry, awake: usize, park: bool) {
    let counters = registry.actor_type("counter").expect("registered");
    for _ in 0..1000 {
        let parked_enough = !park || counters.parked() == awake;
        if counters.awake() == awake && parked_enough {
            // Let the last tasks finish and free what they held.
            tokio::time::sleep(Duration::from_millis(100)).await;
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the actors never settled");
}

#[tokio::main]
async fn main() {
    let mut actors = 10_000;
    let mut connected = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--actors" => actors = args.next().and_then(|n| n.parse().ok()).expect("a count"),
            "--connected" => connected = true,
            other => panic!("unknown argument {other}"),
        }
    }
    let dir = std::env::temp_dir().join(format!("rivet-idle-heap-{}", std::process::id()));
    for (storage, sqlite) in [("memory", None), ("sqlite", Some(dir.as_path()))] {
        for park in [false, true] {
            if let Some(dir) = sqlite {
                let _ = std::fs::remove_dir_all(dir);
                std::fs::create_dir_all(dir).unwrap();
            }
            let (bytes, p50, p99) = per_actor(actors, park, sqlite, connected).await;
            let mode = if park { "parked" } else { "with its task" };
            let what = if connected {
                "idle connected actor (connection included)"
            } else {
                "idle actor"
            };
            println!(
                "{storage:>6}  {mode:<13}  {bytes:>7.0} heap bytes per {what} ({actors} actors); \
                 a call to one: p50 {p50:.1} µs, p99 {p99:.1} µs"
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
