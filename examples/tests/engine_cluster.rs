//! Engine mode past one process: several `engine-host` processes on one pool of a real
//! Rivet Engine 2.3.19 share the actors; when one is killed its actors answer from another
//! with every acknowledged write and none twice; a graceful shutdown moves them at once; an
//! engine restarted on its data keeps them.

#[path = "../../rivet-actor/tests/support/engine.rs"]
mod engine;
#[path = "../../rivet-actor/tests/support/js.rs"]
mod js;

use std::collections::HashSet;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use engine::{Engine, retry};
use rivet_actor::prelude::*;
use rivet_actor_examples::ledger::Ledger;

const POOL: &str = "default";
/// Long enough for the engine to notice a lost host (7 s here) and place its actors again.
const MOVE: Duration = Duration::from_secs(60);

/// One `engine-host` process, killed on drop.
struct Host {
    child: Option<Child>,
    log: PathBuf,
}

impl Host {
    async fn start(engine: &Engine, name: &str) -> Host {
        let log = engine.data_dir().join(format!("host-{name}.log"));
        let out = std::fs::File::create(&log).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_engine-host"))
            .env("RIVET_ENGINE_ENDPOINT", engine.endpoint())
            .env("RIVET_ENGINE_POOL", POOL)
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap();
        let mut host = Host {
            child: Some(child),
            log,
        };
        let end = Instant::now() + Duration::from_secs(30);
        while !host.output().lines().any(|line| line == "READY") {
            let exited = host
                .child
                .as_mut()
                .is_some_and(|c| c.try_wait().ok().flatten().is_some());
            assert!(
                !exited && Instant::now() < end,
                "host {name} did not start:\n{}",
                host.output()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        host
    }

    fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGKILL: the host vanishes without a word to the engine.
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM, then wait for the graceful shutdown to finish.
    async fn terminate(&mut self) {
        let pid = self.pid().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        let end = Instant::now() + Duration::from_secs(30);
        while self
            .child
            .as_mut()
            .is_some_and(|c| c.try_wait().ok().flatten().is_none())
        {
            assert!(
                Instant::now() < end,
                "the host did not leave:\n{}",
                self.output()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.child = None;
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        self.kill();
    }
}

fn client(engine: &Engine) -> Client {
    Client::new(engine.endpoint()).engine("default", POOL)
}

/// Where each of `count` ledgers (`{prefix}-{i}`) runs, after adding 1 to each.
async fn spread(engine: &Engine, prefix: &str, count: usize) -> Vec<u32> {
    let client = client(engine);
    let mut hosts = Vec::new();
    for i in 0..count {
        let ledger = client.get_or_create::<Ledger>([format!("{prefix}-{i}")]);
        retry("a new ledger", MOVE, || ledger.add(1)).await;
        hosts.push(ledger.host().await.unwrap());
    }
    hosts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_actors_spread_over_two_host_processes() {
    let _turn = engine::serial().await;
    js::install_node_modules();
    let engine = Engine::start().await;
    engine.upsert_pool(POOL).await;
    let a = Host::start(&engine, "a").await;
    let b = Host::start(&engine, "b").await;
    let hosts = spread(&engine, "spread", 50).await;
    let on_a = hosts.iter().filter(|&&h| h == a.pid()).count();
    let on_b = hosts.iter().filter(|&&h| h == b.pid()).count();
    assert_eq!(on_a + on_b, 50, "every actor runs on one of the two hosts");
    assert!(
        on_a > 0 && on_b > 0,
        "both hosts host some: {on_a} and {on_b}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_host_loses_no_acknowledged_write() {
    let _turn = engine::serial().await;
    js::install_node_modules();
    let engine = Engine::start().await;
    engine.upsert_pool(POOL).await;
    let mut a = Host::start(&engine, "a").await;
    let b = Host::start(&engine, "b").await;
    const LEDGERS: usize = 12;
    let placed = spread(&engine, "kill", LEDGERS).await;
    let doomed: HashSet<usize> = (0..LEDGERS).filter(|&i| placed[i] == a.pid()).collect();
    assert!(
        !doomed.is_empty(),
        "some actors run on the host that is killed"
    );

    // Each ledger gets +1 after +1, one at a time, while its host is killed under it. A call
    // that fails or times out may or may not have been applied; one that answered was.
    let stop = Arc::new(AtomicBool::new(false));
    let loops: Vec<_> = (0..LEDGERS)
        .map(|i| {
            let ledger = client(&engine).get_or_create::<Ledger>([format!("kill-{i}")]);
            let stop = stop.clone();
            tokio::spawn(async move {
                let (mut acked, mut attempted) = (1i64, 1i64);
                while !stop.load(Ordering::Relaxed) {
                    attempted += 1;
                    match tokio::time::timeout(Duration::from_secs(20), ledger.add(1)).await {
                        Ok(Ok(total)) => {
                            acked += 1;
                            assert!(
                                total <= attempted,
                                "ledger {i}: total {total} after {attempted} attempts ({acked} acknowledged)"
                            );
                        }
                        _ => tokio::time::sleep(Duration::from_millis(200)).await,
                    }
                }
                (acked, attempted)
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(2)).await;
    a.kill();
    // Every actor of the killed host answers again, from the other one.
    let survivors = client(&engine);
    for &i in &doomed {
        let ledger = survivors.get_or_create::<Ledger>([format!("kill-{i}")]);
        let moved = retry("an actor of the killed host", MOVE, || async {
            match ledger.host().await {
                Ok(pid) if pid == b.pid() => Ok(pid),
                other => Err(format!("{other:?}")),
            }
        })
        .await;
        assert_eq!(moved, b.pid());
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop.store(true, Ordering::Relaxed);
    for (i, handle) in loops.into_iter().enumerate() {
        let (acked, attempted) = handle.await.unwrap();
        let total = survivors
            .get_or_create::<Ledger>([format!("kill-{i}")])
            .total()
            .await
            .unwrap();
        assert!(
            acked <= total && total <= attempted,
            "ledger {i}: {acked} acknowledged, {attempted} attempted, total {total}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_graceful_shutdown_moves_actors_and_an_engine_restart_keeps_them() {
    let _turn = engine::serial().await;
    js::install_node_modules();
    let first = Engine::start().await;
    first.upsert_pool(POOL).await;
    let mut a = Host::start(&first, "a").await;
    let b = Host::start(&first, "b").await;
    let placed = spread(&first, "drain", 10).await;
    let on_a: Vec<usize> = (0..10).filter(|&i| placed[i] == a.pid()).collect();
    assert!(!on_a.is_empty(), "some actors run on the host that leaves");
    a.terminate().await;
    // The engine moves them at once; each answers from the other host with its total.
    let client = client(&first);
    for &i in &on_a {
        let ledger = client.get_or_create::<Ledger>([format!("drain-{i}")]);
        let total = retry("a moved actor", MOVE, || ledger.add(1)).await;
        assert_eq!(total, 2);
        assert_eq!(ledger.host().await.unwrap(), b.pid());
    }
    drop(b);

    // The engine restarts on its data directory: the actors are there with their totals.
    let mut first = first;
    first.stop().await;
    let second = Engine::start_in(first.data_dir().to_path_buf()).await;
    let _c = Host::start(&second, "c").await;
    let client = self::client(&second);
    for i in 0..10 {
        let ledger = client.get_or_create::<Ledger>([format!("drain-{i}")]);
        let total = retry("an actor after the engine restarted", MOVE, || {
            ledger.total()
        })
        .await;
        let expected = if on_a.contains(&i) { 2 } else { 1 };
        assert_eq!(total, expected, "ledger {i}");
    }
}
