//! Waking and creating actors with many of them on disk (SQLite), in-process.
//!
//! For each stage (10,000 actors, then `--actors`), in a data directory of its own
//! (`DIR/n<count>`, reused on later runs: a marker file records how many actors it holds):
//!
//! - **creation**: `get_or_create` of keys `a0`, `a1`, … with `--concurrency` in flight, each
//!   followed by one read-only action (so the actor has run `create_state`/`on_create` and its
//!   state is durable); creations per second;
//! - **find_by_key / find_by_id**: the storage's lookups (`registry.storage()`) of random
//!   actors, one at a time;
//! - **wake + increment**: `registry.get(key)` of a random *sleeping* actor and one
//!   `increment` (a write: fsync before the answer) through the typed in-process handle;
//!   before each sample the bench waits until no actor is in memory (`ErasedActor::awake`),
//!   after the short idle timeout (`--idle-ms`) put the previous one to sleep;
//! - **wake + count**: the same with a read-only action (nothing written), interleaved with
//!   the above, and **increment on an awake actor** (the write alone): what the wake costs
//!   beside the commit;
//! - **profile**: every storage call a wake + increment makes, counted and timed from the
//!   runtime's side (`rivet_actor_bench::timed::Timed` wraps the SQLite storage; `--plain`
//!   opens the registry with `data_dir` instead and skips the profile), and the cost of the
//!   thread hop each read takes (`spawn_blocking` of nothing).
//!
//! The OS page cache is warm (the files were just written or read); the numbers are of one
//! process on the machine's cores, nothing else of ours running.
//!
//! Reproduce (the first run spends minutes creating the million actors; later runs reuse
//! them):
//!
//! ```sh
//! cargo run --release -p rivet-actor-bench --bin wake -- --actors 1000000 --samples 2000 --dir /tmp/wake-data
//! ```

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use rivet_actor::HostConfig;
use rivet_actor::prelude::*;
use rivet_actor::storage::{SqliteStorage, Storage};
use rivet_actor_bench::timed::{Method, Timed};

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

    #[action]
    fn count(&self) -> u64 {
        self.count
    }
}

const MARKER: &str = "wake-bench.populated";
/// Actors created between two updates of the marker file.
const CHUNK: usize = 50_000;

struct Opts {
    actors: usize,
    small: usize,
    samples: usize,
    dir: PathBuf,
    concurrency: usize,
    idle: Duration,
    seed: u64,
    plain: bool,
    /// States written whole, so a wake reads no chunk rows (the layout before chunked states).
    whole_state: bool,
}

fn usage() -> ! {
    eprintln!(
        "usage: wake [--actors N (1000000)] [--small N (10000)] [--samples N (2000)] \
         [--dir DIR (/tmp/wake-data)] [--concurrency N (256)] [--idle-ms N (5)] [--seed N] [--plain] [--whole-state]"
    );
    std::process::exit(2)
}

fn opts() -> Opts {
    let mut o = Opts {
        actors: 1_000_000,
        small: 10_000,
        samples: 2000,
        dir: PathBuf::from("/tmp/wake-data"),
        concurrency: 256,
        idle: Duration::from_millis(5),
        seed: 0x5eed,
        plain: false,
        whole_state: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--plain" {
            o.plain = true;
            continue;
        }
        if arg == "--whole-state" {
            o.whole_state = true;
            continue;
        }
        let Some(value) = args.next() else { usage() };
        let number = || value.parse::<u64>().unwrap_or_else(|_| usage());
        match arg.as_str() {
            "--actors" => o.actors = number() as usize,
            "--small" => o.small = number() as usize,
            "--samples" => o.samples = number() as usize,
            "--concurrency" => o.concurrency = number().max(1) as usize,
            "--idle-ms" => o.idle = Duration::from_millis(number().max(1)),
            "--seed" => o.seed = number(),
            "--dir" => o.dir = PathBuf::from(&value),
            _ => usage(),
        }
    }
    o
}

/// SplitMix64: a reproducible sequence of random actor indices.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) % n as u64) as usize
    }
}

fn key(i: usize) -> String {
    format!("a{i}")
}

/// Nearest-rank percentile of sorted samples.
fn pct(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn mean(samples: &[Duration]) -> Duration {
    if samples.is_empty() {
        return Duration::ZERO;
    }
    samples.iter().sum::<Duration>() / samples.len() as u32
}

fn fmt(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us >= 10_000.0 {
        format!("{:.1} ms", us / 1000.0)
    } else if us >= 1000.0 {
        format!("{:.2} ms", us / 1000.0)
    } else if us >= 10.0 {
        format!("{us:.0} µs")
    } else {
        format!("{us:.1} µs")
    }
}

/// `p50 / p99 / max` of unsorted samples.
fn spread(samples: &mut [Duration]) -> String {
    samples.sort_unstable();
    format!(
        "{} / {} / {}",
        fmt(pct(samples, 0.50)),
        fmt(pct(samples, 0.99)),
        fmt(samples.last().copied().unwrap_or_default())
    )
}

struct Creation {
    created: usize,
    took: Duration,
}

/// What one stage measured.
struct Stage {
    actors: usize,
    creation: Option<Creation>,
    db_bytes: u64,
    by_key: Vec<Duration>,
    by_id: Vec<Duration>,
    wake_increment: Vec<Duration>,
    wake_count: Vec<Duration>,
    awake_increment: Vec<Duration>,
    hop: Vec<Duration>,
    /// The wake's other reads called directly, back to back: `load_state`, `kv_scan_prefix`.
    load_state: Vec<Duration>,
    kv_scan: Vec<Duration>,
    /// `find_by_id` right after another actor's commit (readers' page caches are stale), and
    /// after `--idle-ms` of nothing (threads parked, as before a wake).
    by_id_after_write: Vec<Duration>,
    by_id_after_idle: Vec<Duration>,
    /// Storage calls of the wake + increment samples, per method.
    profile: Vec<(Method, Vec<Duration>)>,
}

fn read_marker(dir: &Path) -> usize {
    std::fs::read_to_string(dir.join(MARKER))
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0)
}

fn db_bytes(dir: &Path) -> u64 {
    ["actors.sqlite", "actors.sqlite-wal"]
        .iter()
        .filter_map(|f| std::fs::metadata(dir.join(f)).ok())
        .map(|m| m.len())
        .sum()
}

/// Creates actors `from..to` with `concurrency` creations in flight, updating the marker
/// after every chunk; creations per second are reported as they go.
async fn populate(
    registry: &Registry,
    dir: &Path,
    from: usize,
    to: usize,
    concurrency: usize,
) -> Creation {
    let started = Instant::now();
    let mut done = from;
    while done < to {
        let end = (done + CHUNK).min(to);
        let mut creations = futures_util::stream::iter(done..end)
            .map(|i| async move {
                let counter = registry.get_or_create::<Counter>(key(i)).await?;
                counter.count().await
            })
            .buffer_unordered(concurrency);
        while let Some(created) = creations.next().await {
            if let Err(err) = created {
                panic!("creating an actor failed: {err}");
            }
        }
        done = end;
        std::fs::write(dir.join(MARKER), done.to_string()).expect("writing the marker file");
        let secs = started.elapsed().as_secs_f64();
        eprintln!(
            "  created {done}/{to} ({:.0}/s so far)",
            (done - from) as f64 / secs
        );
    }
    Creation {
        created: to - from,
        took: started.elapsed(),
    }
}

/// Waits until no actor is in memory; fails after 10 s.
async fn all_asleep(registry: &Registry) {
    let counters = registry.actor_type(Counter::NAME).expect("registered");
    let deadline = Instant::now() + Duration::from_secs(10);
    while counters.awake() > 0 {
        assert!(
            Instant::now() < deadline,
            "{} actors still awake after 10 s",
            counters.awake()
        );
        tokio::time::sleep(Duration::from_micros(500)).await;
    }
}

async fn run_stage(o: &Opts, actors: usize) -> Stage {
    let dir = o.dir.join(format!("n{actors}"));
    let config = HostConfig {
        idle_timeout: Some(o.idle),
        ..Default::default()
    };
    let builder = Registry::builder().config(config).register::<Counter>();
    let (registry, timed) = if o.plain {
        (builder.data_dir(&dir).build(), None)
    } else {
        let storage = SqliteStorage::open(&dir).expect("opening the data directory");
        let timed = Arc::new(match o.whole_state {
            true => Timed::new(storage).whole_state(),
            false => Timed::new(storage),
        });
        let shared: Arc<dyn Storage> = timed.clone();
        (builder.shared_storage(shared).build(), Some(timed))
    };
    let storage = registry.storage().clone();

    let have = read_marker(&dir);
    let creation = if have < actors {
        eprintln!(
            "stage {actors}: creating actors {have}..{actors} in {}",
            dir.display()
        );
        Some(populate(&registry, &dir, have, actors, o.concurrency).await)
    } else {
        eprintln!("stage {actors}: reusing {have} actors in {}", dir.display());
        None
    };
    all_asleep(&registry).await;

    let mut rng = Rng(o.seed ^ actors as u64);
    // Ids to look up later, found now (untimed) so that the timed lookups by id do not
    // follow a lookup of the same row.
    let mut ids = Vec::with_capacity(o.samples);
    for _ in 0..o.samples {
        let k = [key(rng.below(actors))];
        let record = storage
            .find_by_key(Counter::NAME, &k)
            .await
            .expect("lookup");
        ids.push(record.expect("the actor exists").id);
    }

    eprintln!("stage {actors}: find_by_key");
    let mut by_key = Vec::with_capacity(o.samples);
    for _ in 0..o.samples {
        let k = [key(rng.below(actors))];
        let started = Instant::now();
        let found = storage.find_by_key(Counter::NAME, &k).await;
        by_key.push(started.elapsed());
        assert!(found.expect("lookup").is_some(), "actor {k:?} is missing");
    }

    eprintln!("stage {actors}: wake + action ({} samples each)", o.samples);
    let mut wake_increment = Vec::with_capacity(o.samples);
    let mut wake_count = Vec::with_capacity(o.samples);
    for sample in 0..2 * o.samples {
        let k = key(rng.below(actors));
        all_asleep(&registry).await;
        let write = sample % 2 == 0;
        if let Some(timed) = timed.as_ref().filter(|_| write) {
            timed.record(true);
        }
        let started = Instant::now();
        let counter = registry.get::<Counter>(k.as_str()).await.expect("get");
        let answered = if write {
            counter.increment().await
        } else {
            counter.count().await
        };
        let took = started.elapsed();
        if let Some(timed) = &timed {
            timed.record(false);
        }
        answered.expect("the action");
        if write {
            wake_increment.push(took);
        } else {
            wake_count.push(took);
        }
    }
    let profile = timed.as_ref().map(|t| t.take()).unwrap_or_default();

    eprintln!("stage {actors}: increment on an awake actor, find_by_id, thread hop");
    let counter = registry.get::<Counter>(key(0)).await.expect("get");
    counter.count().await.expect("wake");
    let mut awake_increment = Vec::with_capacity(o.samples);
    for _ in 0..o.samples {
        let started = Instant::now();
        counter.increment().await.expect("increment");
        awake_increment.push(started.elapsed());
    }
    let (mut by_id_after_write, mut by_id_after_idle) = (Vec::new(), Vec::new());
    for id in &ids {
        counter.increment().await.expect("increment");
        let started = Instant::now();
        storage.find_by_id(id).await.expect("lookup");
        by_id_after_write.push(started.elapsed());
    }
    drop(counter);
    all_asleep(&registry).await;
    for id in ids.iter().rev() {
        tokio::time::sleep(o.idle).await;
        let started = Instant::now();
        storage.find_by_id(id).await.expect("lookup");
        by_id_after_idle.push(started.elapsed());
    }

    let mut by_id = Vec::with_capacity(o.samples);
    for id in &ids {
        let started = Instant::now();
        let found = storage.find_by_id(id).await;
        by_id.push(started.elapsed());
        assert!(found.expect("lookup").is_some(), "actor {id} is missing");
    }

    let (mut load_state, mut kv_scan) = (Vec::new(), Vec::new());
    for id in &ids {
        let started = Instant::now();
        storage.load_state(id).await.expect("load_state");
        load_state.push(started.elapsed());
        let started = Instant::now();
        // The schedules' prefix, which every wake of an actor with actions scans.
        storage
            .kv_scan_prefix(id, b"s/")
            .await
            .expect("kv_scan_prefix");
        kv_scan.push(started.elapsed());
    }

    let mut hop = Vec::with_capacity(o.samples);
    for _ in 0..o.samples {
        let started = Instant::now();
        tokio::task::spawn_blocking(|| ())
            .await
            .expect("blocking task");
        hop.push(started.elapsed());
    }

    all_asleep(&registry).await;
    Stage {
        actors,
        creation,
        db_bytes: db_bytes(&dir),
        by_key,
        by_id,
        wake_increment,
        wake_count,
        awake_increment,
        hop,
        load_state,
        kv_scan,
        by_id_after_write,
        by_id_after_idle,
        profile,
    }
}

fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn report(o: &Opts, stages: &mut [Stage]) {
    println!(
        "\n## wake bench: {} samples per row, idle timeout {} ms, concurrency {} (creation)\n",
        o.samples,
        o.idle.as_millis(),
        o.concurrency
    );
    println!(
        "| actors on disk | creation | wake + increment p50 / p99 / max | wake + count (no write) \
         p50 / p99 / max | increment, awake p50 / p99 / max | find_by_key p50 / p99 / max | \
         find_by_id p50 / p99 / max | db size |"
    );
    println!("|---:|---|---|---|---|---|---|---:|");
    for s in stages.iter_mut() {
        let creation = match &s.creation {
            Some(c) => format!(
                "{:.0}/s ({} in {:.1} s)",
                c.created as f64 / c.took.as_secs_f64(),
                thousands(c.created),
                c.took.as_secs_f64()
            ),
            None => "reused".to_owned(),
        };
        println!(
            "| {} | {creation} | {} | {} | {} | {} | {} | {:.0} MiB |",
            thousands(s.actors),
            spread(&mut s.wake_increment),
            spread(&mut s.wake_count),
            spread(&mut s.awake_increment),
            spread(&mut s.by_key),
            spread(&mut s.by_id),
            s.db_bytes as f64 / (1024.0 * 1024.0)
        );
    }
    println!("\nTargets (wake + increment): p50 ≤ 200 µs, p99 ≤ 1 ms.");
    for s in stages.iter() {
        let (p50, p99) = (pct(&s.wake_increment, 0.5), pct(&s.wake_increment, 0.99));
        let verdict = |ok: bool| if ok { "met" } else { "MISSED" };
        println!(
            "- {} actors: p50 {} ({}), p99 {} ({})",
            thousands(s.actors),
            fmt(p50),
            verdict(p50 <= Duration::from_micros(200)),
            fmt(p99),
            verdict(p99 <= Duration::from_millis(1))
        );
    }
    for s in stages.iter_mut() {
        if s.profile.is_empty() {
            continue;
        }
        let wakes = s.wake_increment.len().max(1);
        let wake_mean = mean(&s.wake_increment);
        println!(
            "\n### profile of wake + increment at {} actors (mean {}; storage calls as the \
             runtime sees them)\n",
            thousands(s.actors),
            fmt(wake_mean)
        );
        println!(
            "| storage call | calls per wake | p50 | p99 | time per wake (mean) | share of the mean wake |"
        );
        println!("|---|---:|---:|---:|---:|---:|");
        for (method, samples) in s.profile.iter_mut() {
            if samples.is_empty() {
                continue;
            }
            samples.sort_unstable();
            let per_wake = samples.iter().sum::<Duration>() / wakes as u32;
            println!(
                "| {} | {:.2} | {} | {} | {} | {:.0}% |",
                method.name(),
                samples.len() as f64 / wakes as f64,
                fmt(pct(samples, 0.5)),
                fmt(pct(samples, 0.99)),
                fmt(per_wake),
                100.0 * per_wake.as_secs_f64() / wake_mean.as_secs_f64().max(1e-9)
            );
        }
        s.hop.sort_unstable();
        s.load_state.sort_unstable();
        s.kv_scan.sort_unstable();
        println!(
            "\nThe same reads called directly, back to back (p50 / p99): find_by_key {} / {}, \
             find_by_id {} / {}, load_state {} / {}, kv_scan_prefix {} / {}; the thread hop \
             each read takes (`spawn_blocking` of nothing) {} / {}.",
            fmt(pct(&s.by_key, 0.5)),
            fmt(pct(&s.by_key, 0.99)),
            fmt(pct(&s.by_id, 0.5)),
            fmt(pct(&s.by_id, 0.99)),
            fmt(pct(&s.load_state, 0.5)),
            fmt(pct(&s.load_state, 0.99)),
            fmt(pct(&s.kv_scan, 0.5)),
            fmt(pct(&s.kv_scan, 0.99)),
            fmt(pct(&s.hop, 0.5)),
            fmt(pct(&s.hop, 0.99))
        );
        s.by_id_after_write.sort_unstable();
        s.by_id_after_idle.sort_unstable();
        println!(
            "`find_by_id` right after another actor's commit: {} / {}; after {} ms idle: {} / {}.",
            fmt(pct(&s.by_id_after_write, 0.5)),
            fmt(pct(&s.by_id_after_write, 0.99)),
            o.idle.as_millis(),
            fmt(pct(&s.by_id_after_idle, 0.5)),
            fmt(pct(&s.by_id_after_idle, 0.99))
        );
    }
}

#[tokio::main]
async fn main() {
    let o = opts();
    let mut sizes = vec![o.small.min(o.actors)];
    if o.actors > o.small {
        sizes.push(o.actors);
    }
    let mut stages = Vec::new();
    for actors in sizes {
        stages.push(run_stage(&o, actors).await);
    }
    report(&o, &mut stages);
}
