//! Does a commit cost what the turn changed when the data lives in the *state*? A room
//! whose state is `Vec<String>` (the shape of the seeds' `guardedChatRoom`), appended to
//! over HTTP with the typed client, SQLite storage: one room empty, one already holding
//! `--state-mb` megabytes of `--message-kb` messages. Sends alternate between the two rooms
//! so both see the same machine; after each timed send, an untimed call puts the room back
//! (the empty one is cleared, the full one drops its oldest message), so every sample
//! appends to the same size of state. Three ways: `Vec<String>` stored in chunks,
//! `Vec<Frozen<String>>` stored in chunks, and `Vec<String>` written whole (the baseline from
//! before chunking, `Timed::whole_state`).
//!
//! Reproduce:
//!
//! ```sh
//! cargo run --release -p rivet-actor-bench --bin state_append -- --state-mb 12 --message-kb 60 --samples 200
//! ```

use std::sync::Arc;
use std::time::{Duration, Instant};

use rivet_actor::prelude::*;
use rivet_actor::storage::{SqliteStorage, Storage};
use rivet_actor_bench::timed::Timed;

/// A chat room keeping every message in its state: as plain strings, or as
/// [`Frozen`](rivet_actor::Frozen) ones (a room uses one of the two).
#[derive(Default, Serialize, Deserialize)]
pub struct StateRoom {
    messages: Vec<String>,
    frozen: Vec<Frozen<String>>,
}

#[actor]
impl StateRoom {
    /// Appends a message; how many the room holds.
    #[action]
    fn send_message(&mut self, text: String, frozen: bool) -> usize {
        match frozen {
            true => self.frozen.push(Frozen::new(text)),
            false => self.messages.push(text),
        }
        self.messages.len() + self.frozen.len()
    }

    /// Appends many messages at once (filling the full room).
    #[action]
    fn import(&mut self, texts: Vec<String>, frozen: bool) -> usize {
        match frozen {
            true => self.frozen.extend(texts.into_iter().map(Frozen::new)),
            false => self.messages.extend(texts),
        }
        self.messages.len() + self.frozen.len()
    }

    /// Drops the oldest message.
    #[action]
    fn drop_oldest(&mut self) {
        if !self.messages.is_empty() {
            self.messages.remove(0);
        }
        if !self.frozen.is_empty() {
            self.frozen.remove(0);
        }
    }

    /// Drops every message.
    #[action]
    fn clear(&mut self) {
        self.messages.clear();
        self.frozen.clear();
    }

    /// How many messages the room holds, and their total size.
    #[action]
    fn size(&self) -> (usize, usize) {
        let plain = self.messages.iter().map(String::len).sum::<usize>();
        let frozen = self.frozen.iter().map(|m| m.len()).sum::<usize>();
        (self.messages.len() + self.frozen.len(), plain + frozen)
    }
}

/// How the bench stores the room's messages.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    /// `Vec<String>`, chunked storage.
    Chunked,
    /// `Vec<Frozen<String>>`, chunked storage.
    Frozen,
    /// `Vec<String>`, every state written whole (before chunking).
    Whole,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Chunked => "Vec<String>, chunked",
            Mode::Frozen => "Vec<Frozen<String>>, chunked",
            Mode::Whole => "Vec<String>, whole (before)",
        }
    }
}

struct Opts {
    state_mb: usize,
    message_kb: usize,
    samples: usize,
    /// Which ways of storing the state to run.
    modes: Vec<Mode>,
}

fn usage() -> ! {
    eprintln!(
        "usage: state_append [--state-mb N] [--message-kb N] [--samples N] [--mode chunked,frozen,whole]\n\
         defaults: a 12 MB state of 60 KB messages, 200 samples per room, every mode"
    );
    std::process::exit(2)
}

fn opts() -> Opts {
    let mut o = Opts {
        state_mb: 12,
        message_kb: 60,
        samples: 200,
        modes: vec![Mode::Chunked, Mode::Frozen, Mode::Whole],
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let Some(value) = args.next() else { usage() };
        let number = || value.parse::<usize>().unwrap_or_else(|_| usage());
        match arg.as_str() {
            "--state-mb" => o.state_mb = number(),
            "--message-kb" => o.message_kb = number().max(1),
            "--samples" => o.samples = number().max(1),
            "--mode" => {
                o.modes = value
                    .split(',')
                    .map(|mode| match mode {
                        "chunked" => Mode::Chunked,
                        "frozen" => Mode::Frozen,
                        "whole" => Mode::Whole,
                        _ => usage(),
                    })
                    .collect()
            }
            _ => usage(),
        }
    }
    o
}

/// A message of `bytes` bytes that differs from every other (so no two chunks repeat).
fn message(seed: usize, bytes: usize) -> String {
    let mut text = String::with_capacity(bytes);
    let mut x = seed as u64 ^ 0x9E37_79B9_7F4A_7C15;
    while text.len() < bytes {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        text.push(char::from(b'a' + (x % 26) as u8));
    }
    text
}

fn percentile(samples: &mut [u64], q: f64) -> u64 {
    samples.sort_unstable();
    samples[((samples.len() as f64 - 1.0) * q).round() as usize]
}

/// One storage mode's figures.
struct Figures {
    /// p50, p99 and mean of each room's sends (µs), empty room first.
    micros: [(u64, u64, f64); 2],
    /// Mean bytes each room's send wrote.
    written: [f64; 2],
    held_mb: f64,
}

/// Fills the full room, then times sends to both rooms.
async fn run(o: &Opts, mode: Mode) -> Figures {
    let (whole, frozen) = (mode == Mode::Whole, mode == Mode::Frozen);
    let dir = std::env::temp_dir().join(format!(
        "rivet-actor-state-append-{}-{}",
        std::process::id(),
        mode as u8
    ));
    std::fs::create_dir_all(&dir).expect("the data directory");
    let sqlite = SqliteStorage::open(&dir).expect("open SQLite");
    let storage = Arc::new(match whole {
        true => Timed::new(sqlite).whole_state(),
        false => Timed::new(sqlite),
    });
    let shared: Arc<dyn Storage> = storage.clone();
    let registry = Registry::builder()
        .shared_storage(shared)
        .register::<StateRoom>()
        .build();
    let server = registry
        .bind("127.0.0.1:0".parse().unwrap())
        .await
        .expect("bind");
    let client = Client::new(server.endpoint());
    let empty = client.get_or_create::<StateRoom>(["empty"]);
    let full = client.get_or_create::<StateRoom>(["full"]);

    let message_bytes = o.message_kb * 1000;
    let fill = o.state_mb * 1_000_000 / message_bytes;
    let mut seed = 0;
    while full.size().await.unwrap().0 < fill {
        let batch: Vec<String> = (0..(800_000 / message_bytes).clamp(1, fill))
            .map(|_| {
                seed += 1;
                message(seed, message_bytes)
            })
            .collect();
        full.import(batch, frozen).await.unwrap();
    }
    let (_, bytes) = full.size().await.unwrap();

    let mut timed = [Vec::new(), Vec::new()];
    let mut written = [0u64; 2];
    for round in 0..o.samples + 10 {
        for (i, room) in [&empty, &full].into_iter().enumerate() {
            seed += 1;
            let text = message(seed, message_bytes);
            let before = storage.bytes_written();
            let started = Instant::now();
            room.send_message(text, frozen).await.unwrap();
            let took = started.elapsed().as_micros() as u64;
            // The first rounds warm both rooms (awake, connections pooled, pages cached).
            if round >= 10 {
                timed[i].push(took);
                written[i] += storage.bytes_written() - before;
            }
            if i == 0 {
                room.clear().await.unwrap();
            } else {
                room.drop_oldest().await.unwrap();
            }
        }
    }
    drop(server);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let _ = std::fs::remove_dir_all(&dir);
    let mean = |s: &[u64]| s.iter().sum::<u64>() as f64 / s.len() as f64;
    let figures = |s: &mut Vec<u64>| (percentile(s, 0.5), percentile(s, 0.99), mean(s));
    Figures {
        micros: [figures(&mut timed[0]), figures(&mut timed[1])],
        written: written.map(|w| w as f64 / o.samples as f64),
        held_mb: bytes as f64 / 1e6,
    }
}

#[tokio::main]
async fn main() {
    let o = opts();
    println!(
        "sendMessage over HTTP, SQLite, {} KB messages, {} samples per room (interleaved):\n",
        o.message_kb, o.samples
    );
    println!("| state stored | room | state | p50 µs | p99 µs | mean µs | written per send |");
    println!("|---|---|---:|---:|---:|---:|---:|");
    for &mode in &o.modes {
        let f = run(&o, mode).await;
        let mode = mode.name();
        for (i, room) in ["empty", "full"].into_iter().enumerate() {
            let (p50, p99, mean) = f.micros[i];
            let size = if i == 0 { 0.0 } else { f.held_mb };
            println!(
                "| {mode} | {room} | {size:.1} MB | {p50} | {p99} | {mean:.0} | {:.1} KB |",
                f.written[i] / 1e3
            );
        }
        println!(
            "| {mode} | full ÷ empty | | {:.2}× | | {:.2}× | |",
            f.micros[1].0 as f64 / f.micros[0].0 as f64,
            f.micros[1].2 / f.micros[0].2
        );
    }
    println!("\ntarget: full ÷ empty ≤ 2×");
}
