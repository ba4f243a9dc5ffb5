use super::*;

// ---------------------------------------------------------------------------------------------
// Throughput report (ignored; prints numbers, asserts nothing about speed).
// ---------------------------------------------------------------------------------------------

async fn measure(storage: Arc<dyn Storage>, writers: usize, run_for: Duration) -> (f64, f64, f64) {
    for w in 0..writers {
        storage
            .insert_actor(record(&format!("t{w}"), "bench", &[&w.to_string()]))
            .await
            .unwrap();
    }
    let before = storage.stats();
    let started = Instant::now();
    let deadline = started + run_for;
    let tasks: Vec<_> = (0..writers)
        .map(|w| {
            let storage = Arc::clone(&storage);
            tokio::spawn(async move {
                let id = format!("t{w}");
                let mut n = 0u64;
                while Instant::now() < deadline {
                    let mut bytes = vec![0u8; 128];
                    bytes[..8].copy_from_slice(&n.to_le_bytes());
                    storage.commit(&id, state(&bytes)).await.unwrap();
                    n += 1;
                    if n.is_multiple_of(64) {
                        // The memory backend never suspends; let the other writers run.
                        tokio::task::yield_now().await;
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let elapsed = started.elapsed().as_secs_f64();
    let after = storage.stats();
    let commits = (after.commits - before.commits) as f64;
    let syncs = (after.syncs - before.syncs) as f64;
    let transactions = (after.transactions - before.transactions) as f64;
    (
        commits / elapsed,
        syncs * 1000.0 / commits.max(1.0),
        commits / transactions.max(1.0),
    )
}

/// `cargo test -p rivet-actor --lib storage::tests::throughput -- --ignored --nocapture`
///
/// `RIVET_ACTOR_BENCH_DIR` picks the file system (default: the system temp dir);
/// `RIVET_ACTOR_BENCH_SECS` the duration of each run (default 2).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "prints throughput numbers; run with --ignored --nocapture"]
async fn throughput() {
    let secs: f64 = std::env::var("RIVET_ACTOR_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2.0);
    let run_for = Duration::from_secs_f64(secs);
    let base = std::env::var_os("RIVET_ACTOR_BENCH_DIR").map(PathBuf::from);
    println!("backend  writers  commits/s  syncs/1000 commits  commits/transaction");
    for writers in [1, 16, 256] {
        let (rate, syncs, per_tx) = measure(Arc::new(MemoryStorage::new()), writers, run_for).await;
        println!("memory   {writers:>7}  {rate:>9.0}  {syncs:>18.1}  {per_tx:>19.1}");
    }
    for writers in [1, 16, 256] {
        let dir = match &base {
            Some(base) => {
                let dir = TempDir(base.join(format!("rivet-actor-bench-{writers}")));
                std::fs::create_dir_all(dir.path()).unwrap();
                dir
            }
            None => TempDir::new("bench"),
        };
        let storage = Arc::new(SqliteStorage::open(dir.path()).unwrap());
        let (rate, syncs, per_tx) = measure(storage, writers, run_for).await;
        println!("sqlite   {writers:>7}  {rate:>9.0}  {syncs:>18.1}  {per_tx:>19.1}");
    }
}
