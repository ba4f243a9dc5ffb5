//! What the durability tests share: fresh data directories, a "process" as a runtime of its
//! own, and a server child process (this test binary re-run with one test selected) that a
//! test can SIGKILL. Included with `#[path]` by `durability.rs`, `kv.rs` and `db.rs`.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A data directory of its own under the system temp dir (not created).
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "rivet-actor-{name}-{}-{}",
        std::process::id(),
        Instant::now().elapsed().as_nanos()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Runs `work` in a runtime of its own, as one process would: when it returns, every
/// instance task is gone and the storage is closed.
pub fn in_process<T>(work: impl std::future::Future<Output = T>) -> T {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let out = runtime.block_on(work);
    runtime.shutdown_timeout(Duration::from_secs(5));
    out
}

/// The environment a child server reads: its data directory and where it writes its
/// endpoint.
const CHILD_DIR: &str = "RIVET_TEST_CHILD_DIR";
const CHILD_ADDR_FILE: &str = "RIVET_TEST_CHILD_ADDR_FILE";

/// In the child: the data directory and the endpoint file it was started with, or `None`
/// when this is not a child run (the selected test then returns at once).
pub fn child_env() -> Option<(String, String)> {
    Some((
        std::env::var(CHILD_DIR).ok()?,
        std::env::var(CHILD_ADDR_FILE).ok()?,
    ))
}

/// In the child: tells the parent where the server listens.
pub fn announce(addr_file: &str, endpoint: &str) {
    let tmp = format!("{addr_file}.tmp");
    std::fs::write(&tmp, endpoint).unwrap();
    std::fs::rename(&tmp, addr_file).unwrap();
}

/// Starts this test binary again running only `test` (a child server on `dir`); returns the
/// child and its endpoint once it listens.
// The child is returned to the caller, which kills and waits for it.
#[allow(clippy::zombie_processes)]
pub fn spawn_child(test: &str, dir: &Path, addr_file: &Path) -> (Child, String) {
    let _ = std::fs::remove_file(addr_file);
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(CHILD_DIR, dir)
        .env(CHILD_ADDR_FILE, addr_file)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(endpoint) = std::fs::read_to_string(addr_file) {
            return (child, endpoint);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the server child did not start");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A pseudo-random number below `max_ms` from the clock, for a kill moment (no RNG crate).
pub fn jitter(max_ms: u64) -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64;
    nanos % max_ms
}

/// In the child: serves the registry `build` makes on the child's data directory until the
/// parent kills it. Without the child's environment (a normal test run) it returns at once.
pub fn serve_child(build: impl FnOnce(&Path) -> rivet_actor::Registry) {
    let Some((dir, addr_file)) = child_env() else {
        return;
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async move {
        let registry = build(Path::new(&dir));
        let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
        announce(&addr_file, &server.endpoint());
        server.wait().await.unwrap();
    });
}

/// What writers saw during one life of a child server: the names acknowledged, and the
/// one each writer tried last, whose answer never came.
#[derive(Default)]
pub struct Written {
    pub acked: std::collections::HashSet<String>,
    pub maybe: std::collections::HashSet<String>,
}

/// One cycle of a SIGKILL test: starts the child server `test` on `dir`, runs `writers`
/// writers against it — each writes `c{cycle}-w{writer}-{seq}` with `write` (true:
/// acknowledged) until a write fails — and SIGKILLs the child after `kill_after`.
pub fn write_until_killed<W, F>(
    runtime: &tokio::runtime::Runtime,
    test: &str,
    dir: &Path,
    cycle: usize,
    writers: usize,
    kill_after: Duration,
    write: W,
) -> Written
where
    W: Fn(rivet_actor::Client, usize, String) -> F + Send + Sync + 'static,
    F: std::future::Future<Output = bool> + Send + 'static,
{
    let addr_file = dir.with_extension("addr");
    let (mut child, endpoint) = spawn_child(test, dir, &addr_file);
    let write = std::sync::Arc::new(write);
    runtime.block_on(async {
        let client = rivet_actor::Client::new(endpoint);
        let tasks: Vec<_> = (0..writers)
            .map(|writer| {
                let (client, write) = (client.clone(), write.clone());
                tokio::spawn(async move {
                    let mut written = Written::default();
                    for seq in 0.. {
                        let name = format!("c{cycle}-w{writer}-{seq}");
                        if write(client.clone(), writer, name.clone()).await {
                            written.acked.insert(name);
                        } else {
                            written.maybe.insert(name);
                            break;
                        }
                    }
                    written
                })
            })
            .collect();
        tokio::time::sleep(kill_after).await;
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let mut all = Written::default();
        for task in tasks {
            let written = task.await.unwrap();
            all.acked.extend(written.acked);
            all.maybe.extend(written.maybe);
        }
        all
    })
}
