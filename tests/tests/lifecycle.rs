//! Lifecycle on durable storage: `on_create` once per lifetime (across restarts), sleep after
//! the idle timeout with `on_sleep`, wake on the next request with `on_wake` and the state
//! loaded from disk.

use std::path::PathBuf;
use std::time::Duration;

use rivet_actor::HostConfig;
use rivet_actor::prelude::*;

#[derive(Default, Serialize, Deserialize)]
pub struct Lifecycle {
    created: u32,
    wakes: u32,
    sleeps: u32,
    calls: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Counts {
    created: u32,
    wakes: u32,
    sleeps: u32,
    calls: u32,
}

#[actor]
impl Lifecycle {
    #[on_create]
    fn created(&mut self) {
        self.created += 1;
    }

    #[on_wake]
    async fn woke(&mut self, _c: &mut ActorCtx<'_, Self>) {
        self.wakes += 1;
    }

    #[on_sleep]
    fn slept(&mut self) {
        self.sleeps += 1;
    }

    #[action]
    fn call(&mut self) -> Counts {
        self.calls += 1;
        Counts {
            created: self.created,
            wakes: self.wakes,
            sleeps: self.sleeps,
            calls: self.calls,
        }
    }
}

fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rivet-actor-lifecycle-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn registry(dir: &PathBuf, idle: Duration) -> Registry {
    Registry::builder()
        .data_dir(dir)
        .config(HostConfig {
            idle_timeout: Some(idle),
            ..Default::default()
        })
        .register::<Lifecycle>()
        .build()
}

fn in_process<T>(work: impl std::future::Future<Output = T>) -> T {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let out = runtime.block_on(work);
    runtime.shutdown_timeout(Duration::from_secs(5));
    out
}

#[test]
fn sleeps_when_idle_wakes_on_demand_and_creates_once_across_restarts() {
    let dir = temp_dir();
    in_process(async {
        let registry = registry(&dir, Duration::from_millis(100));
        let actor = registry.get_or_create::<Lifecycle>("a").await.unwrap();
        let first = actor.call().await.unwrap();
        assert_eq!(
            (first.created, first.wakes, first.sleeps, first.calls),
            (1, 1, 0, 1)
        );
        // Idle past the timeout: on_sleep runs and the instance leaves memory.
        tokio::time::sleep(Duration::from_millis(400)).await;
        let second = actor.call().await.unwrap();
        assert_eq!(
            (second.created, second.wakes, second.sleeps, second.calls),
            (1, 2, 1, 2)
        );
        // A connection keeps it awake.
        let conn = actor.connect().await.unwrap();
        tokio::time::sleep(Duration::from_millis(400)).await;
        let third = conn.call().await.unwrap();
        assert_eq!((third.wakes, third.sleeps), (2, 1));
    });
    // A new process on the same data directory: same actor, created once.
    in_process(async {
        let registry = registry(&dir, Duration::from_secs(30));
        let actor = registry.get::<Lifecycle>("a").await.unwrap();
        let after = actor.call().await.unwrap();
        assert_eq!(after.created, 1, "on_create ran again after a restart");
        assert_eq!(after.wakes, 3);
        assert_eq!(after.calls, 4);
    });
    let _ = std::fs::remove_dir_all(&dir);
}
