//! A typed in-process action round trip through the full pipeline (mailbox, `can_invoke`,
//! dispatch, state-change check, reply) next to the floor it stands on: a raw
//! `tokio::sync::mpsc` + `oneshot` round trip to a task that adds a number.
//!
//! Run: `cargo bench -p rivet-actor-bench --bench in_process`. The printed ratios are
//! pipeline time / raw time, on two worker threads (dominated by cross-thread wake-ups on a
//! VM) and on one thread (the pipeline's own cost; target ≤ 1.15).

use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use rivet_actor::prelude::*;
use tokio::sync::{mpsc, oneshot};

#[derive(Default, Serialize, Deserialize)]
pub struct Counter {
    count: u64,
}

#[actor]
impl Counter {
    #[action]
    fn increment(&mut self, by: u64) -> u64 {
        self.count += by;
        self.count
    }

    #[action]
    fn get(&self) -> u64 {
        self.count
    }
}

/// The raw floor: one task owning a counter, fed by mpsc, answering by oneshot.
fn raw_counter() -> mpsc::Sender<(u64, oneshot::Sender<u64>)> {
    let (tx, mut rx) = mpsc::channel::<(u64, oneshot::Sender<u64>)>(1024);
    tokio::spawn(async move {
        let mut count = 0u64;
        while let Some((by, reply)) = rx.recv().await {
            count += by;
            let _ = reply.send(count);
        }
    });
    tx
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn round_trips(c: &mut Criterion) {
    if let Some((what, calls)) = profile_calls() {
        return profile_one_thread(&what, calls);
    }
    let rt = runtime();
    let raw = rt.block_on(async { raw_counter() });
    let test = rt.block_on(async { ActorTest::<Counter>::new() });
    let conn = rt.block_on(async {
        let handle = test.get_or_create("bench").await.unwrap();
        handle.connect().await.unwrap()
    });

    let mut group = c.benchmark_group("in_process_round_trip");
    group.measurement_time(Duration::from_secs(5));
    group.bench_function("raw_mpsc_oneshot", |b| {
        b.to_async(&rt).iter(|| async {
            let (reply, answer) = oneshot::channel();
            raw.send((1, reply)).await.unwrap();
            answer.await.unwrap()
        })
    });
    group.bench_function("actor_increment_mut", |b| {
        b.to_async(&rt)
            .iter(|| async { conn.increment(1).await.unwrap() })
    });
    group.bench_function("actor_get_read_only", |b| {
        b.to_async(&rt).iter(|| async { conn.get().await.unwrap() })
    });
    group.finish();

    // The ratio, measured here in one interleaved run so machine noise hits both alike.
    let (raw_ns, mut_ns, read_ns) = rt.block_on(interleaved(&raw, &conn));
    println!(
        "\nround trip (2 workers, caller on the bench thread): raw mpsc+oneshot {raw_ns:.0} ns | actor increment (&mut, state check) {mut_ns:.0} ns = {:.2}x | actor get (&self) {read_ns:.0} ns = {:.2}x",
        mut_ns / raw_ns,
        read_ns / raw_ns
    );
    drop((conn, test, raw));
    drop(rt);

    // On one thread: no cross-thread wake-ups (which cost ~10 µs each on a VM and dominate the
    // figures above), so the ratio is the pipeline's own cost over the raw channel hop.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (raw_ns, mut_ns, read_ns) = rt.block_on(async {
        let raw = raw_counter();
        let test = ActorTest::<Counter>::new();
        let handle = test.get_or_create("bench").await.unwrap();
        let conn = handle.connect().await.unwrap();
        interleaved(&raw, &conn).await
    });
    println!(
        "round trip (one thread): raw mpsc+oneshot {raw_ns:.0} ns | actor increment (&mut, state check) {mut_ns:.0} ns = {:.2}x | actor get (&self) {read_ns:.0} ns = {:.2}x",
        mut_ns / raw_ns,
        read_ns / raw_ns
    );
}

/// `PROFILE_ROUND_TRIP=<what>:<calls>` (`what`: `raw`, `increment` or `get`): only that many
/// one-thread round trips, so a profiler (`perf record -g`, `valgrind --tool=callgrind`) sees
/// one pipeline and nothing else.
fn profile_calls() -> Option<(String, u64)> {
    let spec = std::env::var("PROFILE_ROUND_TRIP").ok()?;
    let (what, calls) = spec.split_once(':')?;
    Some((what.to_owned(), calls.parse().ok()?))
}

fn profile_one_thread(what: &str, calls: u64) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let raw = raw_counter();
        let test = ActorTest::<Counter>::new();
        let handle = test.get_or_create("bench").await.unwrap();
        let conn = handle.connect().await.unwrap();
        for _ in 0..calls {
            match what {
                "raw" => {
                    let (reply, answer) = oneshot::channel();
                    raw.send((1, reply)).await.unwrap();
                    answer.await.unwrap();
                }
                "increment" => {
                    conn.increment(1).await.unwrap();
                }
                _ => {
                    conn.get().await.unwrap();
                }
            }
        }
    });
}

/// Per-call nanoseconds of the raw hop, `increment` and `get`, interleaved over five rounds.
async fn interleaved(
    raw: &mpsc::Sender<(u64, oneshot::Sender<u64>)>,
    conn: &rivet_actor::LocalConn<Counter>,
) -> (f64, f64, f64) {
    let rounds = 20_000;
    let mut totals = [Duration::ZERO; 3];
    for _ in 0..5 {
        let start = Instant::now();
        for _ in 0..rounds {
            let (reply, answer) = oneshot::channel();
            raw.send((1, reply)).await.unwrap();
            answer.await.unwrap();
        }
        totals[0] += start.elapsed();
        let start = Instant::now();
        for _ in 0..rounds {
            conn.increment(1).await.unwrap();
        }
        totals[1] += start.elapsed();
        let start = Instant::now();
        for _ in 0..rounds {
            conn.get().await.unwrap();
        }
        totals[2] += start.elapsed();
    }
    let per = |d: Duration| d.as_nanos() as f64 / (5.0 * rounds as f64);
    (per(totals[0]), per(totals[1]), per(totals[2]))
}

criterion_group!(benches, round_trips);
criterion_main!(benches);
