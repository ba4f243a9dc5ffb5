//! `Registry::shutdown`: every awake actor, running or parked, stops the way it goes to
//! sleep (`on_sleep` runs, connections close with `actor.stopped`), nothing wakes any more,
//! and what the actors stored is there for the next registry on the same storage.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rivet_actor::HostConfig;
use rivet_actor::prelude::*;

#[path = "support/until.rs"]
mod support_until;
use support_until::until;

#[derive(Default)]
pub struct Slept(AtomicU32);

#[derive(Default, Serialize, Deserialize)]
pub struct Keeper {
    n: u64,
}

#[actor]
impl Keeper {
    #[create_vars]
    fn vars(&self, c: &CreateCtx<'_>) -> Arc<Slept> {
        c.data::<Arc<Slept>>().expect("the test's data").clone()
    }

    #[on_sleep]
    fn slept(&mut self, c: &mut ActorCtx<'_, Self>) {
        c.vars().0.fetch_add(1, Ordering::SeqCst);
    }

    #[action]
    fn bump(&mut self) -> u64 {
        self.n += 1;
        self.n
    }
}

fn temp_dir(name: &str) -> PathBuf {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let dir = std::env::temp_dir().join(format!(
        "rivet-actor-shutdown-{name}-{}-{nanos}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn registry(dir: &PathBuf) -> (Registry, Arc<Slept>) {
    let slept = Arc::new(Slept::default());
    let registry = Registry::builder()
        .data_dir(dir)
        .config(HostConfig {
            park_after: Some(Duration::from_millis(20)),
            idle_timeout: None,
            ..Default::default()
        })
        .data(slept.clone())
        .register::<Keeper>()
        .build();
    (registry, slept)
}

/// (awake, parked) keepers.
fn counts(registry: &Registry) -> (usize, usize) {
    let actors = registry.actor_type("keeper").expect("registered");
    (actors.awake(), actors.parked())
}

fn is_stopped(result: Result<u64, ClientError>) -> bool {
    matches!(result, Err(ClientError::Actor(err)) if err.group == "actor" && err.code == "stopped")
}

#[tokio::test]
async fn every_awake_actor_sleeps_none_wakes_after_and_the_state_is_kept() {
    let dir = temp_dir("local");
    let (registry, slept) = registry(&dir);
    let parked = registry.get_or_create::<Keeper>(["parked"]).await.unwrap();
    assert_eq!(parked.bump().await.unwrap(), 1);
    until("the quiet actor parks", || counts(&registry) == (1, 1)).await;
    let connected = registry
        .get_or_create::<Keeper>(["connected"])
        .await
        .unwrap();
    let conn = connected.connect().await.unwrap();
    assert_eq!(conn.bump().await.unwrap(), 1);
    assert_eq!(conn.bump().await.unwrap(), 2);
    let asleep = registry.get_or_create::<Keeper>(["asleep"]).await.unwrap();
    asleep.bump().await.unwrap();
    // Put to sleep the way an engine stops an actor: its handle keeps a closed mailbox.
    let keepers = registry.actor_type("keeper").unwrap();
    keepers.stop(asleep.id()).await;
    assert_eq!(slept.0.load(Ordering::SeqCst), 1);
    assert_eq!(counts(&registry), (2, 1));

    registry.shutdown().await;
    // Both awake ones ran `on_sleep` (the parked one was given a task for it).
    assert_eq!(slept.0.load(Ordering::SeqCst), 3);
    assert_eq!(counts(&registry), (0, 0));
    // Nothing wakes: not through a kept handle, a kept connection or a new handle, and the
    // refusals leave no instance behind.
    assert!(is_stopped(parked.bump().await));
    assert!(is_stopped(conn.bump().await));
    assert!(is_stopped(asleep.bump().await));
    assert_eq!(counts(&registry), (0, 0));
    drop((parked, conn, connected, asleep));
    drop(registry);

    // What they stored is where the next registry finds it.
    let (registry, _) = self::registry(&dir);
    let keys = [("parked", 2), ("connected", 3), ("asleep", 2)];
    for (key, next) in keys {
        let keeper = registry.get::<Keeper>([key]).await.unwrap();
        assert_eq!(keeper.bump().await.unwrap(), next, "{key}");
    }
    registry.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn over_the_network_the_open_connection_closes_and_a_call_is_refused() {
    let dir = temp_dir("network");
    let (registry, slept) = registry(&dir);
    let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let client = Client::new(server.endpoint()).reconnect_wait(Duration::from_secs(1));
    let keeper = client.get_or_create::<Keeper>(["net"]);
    let conn = keeper.connect().await.unwrap();
    assert_eq!(conn.bump().await.unwrap(), 1);

    registry.shutdown().await;
    assert_eq!(slept.0.load(Ordering::SeqCst), 1);
    assert_eq!(counts(&registry), (0, 0));
    // The socket is closed (the client keeps trying to reconnect, as it does while an
    // actor moves; a call made meanwhile waits for it up to the client's reconnect wait,
    // then fails unsent, naming why the last try failed), and a stateless call wakes nothing.
    until("the connection drops", || {
        conn.status() != rivet_actor::ConnStatus::Connected
    })
    .await;
    let err = conn.bump().await.unwrap_err();
    assert!(err.is_unavailable(), "{err:?}");
    assert!(err.to_string().contains("stopped"), "{err}");
    assert!(is_stopped(keeper.bump().await));
    assert_eq!(counts(&registry), (0, 0));
    drop(conn);
    server.shutdown().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
