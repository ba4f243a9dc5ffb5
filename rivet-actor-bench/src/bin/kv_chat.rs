//! Does a commit cost what the turn changed? `sendMessage` of the example chat room that
//! keeps its history in `c.kv()` (`rivet_actor_examples::history::ChatHistory`), over HTTP
//! with the typed client, SQLite storage: one room empty, one holding `--messages` stored
//! messages, sends alternating between the two so both see the same machine.
//!
//! The full room is filled in-process with `importMessages` (5,000 rows per turn) and kept
//! in `--dir` for later runs (a marker file records how many it holds).
//!
//! Reproduce:
//!
//! ```sh
//! cargo run --release -p rivet-actor-bench --bin kv_chat -- --messages 1000000 --dir /tmp/kv-chat
//! ```

use std::path::PathBuf;
use std::time::{Duration, Instant};

use rivet_actor::prelude::*;
use rivet_actor_examples::history::ChatHistory;

struct Opts {
    messages: u64,
    samples: usize,
    text_bytes: usize,
    dir: PathBuf,
}

fn usage() -> ! {
    eprintln!(
        "usage: kv_chat [--messages N] [--samples N] [--text-bytes N] [--dir DIR]\n\
         defaults: 1000000 messages stored, 1000 samples per room, 100-byte texts"
    );
    std::process::exit(2)
}

fn opts() -> Opts {
    let mut o = Opts {
        messages: 1_000_000,
        samples: 1000,
        text_bytes: 100,
        dir: std::env::temp_dir().join("rivet-actor-kv-chat"),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let Some(value) = args.next() else { usage() };
        let number = || value.parse::<u64>().unwrap_or_else(|_| usage());
        match arg.as_str() {
            "--messages" => o.messages = number(),
            "--samples" => o.samples = number().max(1) as usize,
            "--text-bytes" => o.text_bytes = number() as usize,
            "--dir" => o.dir = PathBuf::from(&value),
            _ => usage(),
        }
    }
    o
}

/// Fills the room `full` up to `messages` (what an earlier run stored is kept).
async fn fill(registry: &Registry, o: &Opts) {
    const BATCH: u64 = 5_000;
    let room = registry
        .get_or_create::<ChatHistory>(["full"])
        .await
        .expect("the full room");
    let mut stored = room.count().await.expect("count");
    if stored >= o.messages {
        println!("full room: {stored} messages already stored in {:?}", o.dir);
        return;
    }
    let started = Instant::now();
    let text = "x".repeat(o.text_bytes);
    while stored < o.messages {
        let n = BATCH.min(o.messages - stored) as usize;
        stored = room
            .import_messages("importer".into(), vec![text.clone(); n])
            .await
            .expect("import");
        if stored % 100_000 < BATCH {
            println!("  {stored} stored ({:.0?})", started.elapsed());
        }
    }
    println!(
        "full room: {stored} messages stored in {:.1?}",
        started.elapsed()
    );
}

struct Sampled {
    micros: Vec<u64>,
}

impl Sampled {
    fn at(&mut self, q: f64) -> u64 {
        self.micros.sort_unstable();
        let i = ((self.micros.len() as f64 - 1.0) * q).round() as usize;
        self.micros[i]
    }

    fn mean(&self) -> f64 {
        self.micros.iter().sum::<u64>() as f64 / self.micros.len() as f64
    }
}

#[tokio::main]
async fn main() {
    let o = opts();
    std::fs::create_dir_all(&o.dir).expect("the data directory");
    let registry = Registry::builder()
        .data_dir(&o.dir)
        .register::<ChatHistory>()
        .build();
    fill(&registry, &o).await;
    let server = registry
        .bind("127.0.0.1:0".parse().unwrap())
        .await
        .expect("bind");
    let client = Client::new(server.endpoint());
    let empty_key = format!("empty-{}", std::process::id());
    let rooms = [
        client.get_or_create::<ChatHistory>([empty_key.as_str()]),
        client.get_or_create::<ChatHistory>(["full"]),
    ];
    let text = "y".repeat(o.text_bytes);
    // Warm both rooms (awake, connections pooled, pages cached).
    for room in &rooms {
        for _ in 0..50 {
            room.send_message("bench".into(), text.clone())
                .await
                .unwrap();
        }
    }
    let mut sampled = [
        Sampled { micros: Vec::new() },
        Sampled { micros: Vec::new() },
    ];
    for _ in 0..o.samples {
        for (room, sampled) in rooms.iter().zip(&mut sampled) {
            let started = Instant::now();
            room.send_message("bench".into(), text.clone())
                .await
                .unwrap();
            sampled.micros.push(started.elapsed().as_micros() as u64);
        }
    }
    let held = [
        rooms[0].count().await.unwrap(),
        rooms[1].count().await.unwrap(),
    ];
    let stored = held[1];
    let newest = rooms[1].get_messages(1, None).await.unwrap();
    assert_eq!(
        newest[0].seq, stored,
        "the newest message is the last one sent"
    );

    println!(
        "\nsendMessage over HTTP, SQLite, {}-byte texts, {} samples per room (interleaved):",
        o.text_bytes, o.samples
    );
    println!("| room | stored messages | p50 µs | p99 µs | mean µs |");
    println!("|---|---:|---:|---:|---:|");
    let mut p50 = [0; 2];
    let mut mean = [0.0; 2];
    for (i, (name, held)) in [("empty", held[0]), ("full", held[1])].iter().enumerate() {
        p50[i] = sampled[i].at(0.5);
        mean[i] = sampled[i].mean();
        let p99 = sampled[i].at(0.99);
        println!("| {name} | {held} | {} | {p99} | {:.0} |", p50[i], mean[i]);
    }
    println!(
        "\nfull ÷ empty: p50 {:.2}×, mean {:.2}× (target ≤ 2×)",
        p50[1] as f64 / p50[0] as f64,
        mean[1] / mean[0]
    );
    drop(server);
    tokio::time::sleep(Duration::from_millis(50)).await;
}
