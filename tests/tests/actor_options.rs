//! Per-type timeouts and bounds from `#[actor(..)]`, as RivetKit's `options`:
//! `sleep_timeout_ms`, `no_sleep`, `action_timeout_ms`, `max_queue_size`,
//! `max_queue_message_size`, `connect_hook_timeout_ms`, `lifecycle_hook_timeout_ms` and
//! `wait_until_timeout_ms` take the place of the registry's `HostConfig` for that type only.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use rivet_actor::HostConfig;
use rivet_actor::prelude::*;

/// How many times each type went to sleep.
static NAPPER_SLEPT: AtomicU32 = AtomicU32::new(0);
static INSOMNIAC_SLEPT: AtomicU32 = AtomicU32::new(0);
static PLAIN_SLEPT: AtomicU32 = AtomicU32::new(0);

#[derive(Default, Serialize, Deserialize)]
pub struct Napper;

#[actor(sleep_timeout_ms = 100, action_timeout_ms = 100)]
impl Napper {
    #[on_sleep]
    fn slept(&mut self) {
        NAPPER_SLEPT.fetch_add(1, Ordering::SeqCst);
    }

    #[action]
    async fn wait(&self, millis: u64) -> u64 {
        tokio::time::sleep(Duration::from_millis(millis)).await;
        millis
    }
}

#[derive(Default, Serialize, Deserialize)]
pub struct Insomniac;

#[actor(no_sleep)]
impl Insomniac {
    #[on_sleep]
    fn slept(&mut self) {
        INSOMNIAC_SLEPT.fetch_add(1, Ordering::SeqCst);
    }

    #[action]
    fn ping(&self) -> bool {
        true
    }
}

/// Takes the registry's settings.
#[derive(Default, Serialize, Deserialize)]
pub struct Plain;

#[actor]
impl Plain {
    #[on_sleep]
    fn slept(&mut self) {
        PLAIN_SLEPT.fetch_add(1, Ordering::SeqCst);
    }

    #[action]
    async fn wait(&self, millis: u64) -> u64 {
        tokio::time::sleep(Duration::from_millis(millis)).await;
        millis
    }
}

#[tokio::test]
async fn each_type_sleeps_and_times_out_by_its_own_options() {
    let config = HostConfig {
        idle_timeout: Some(Duration::from_millis(1_000)),
        ..Default::default()
    };
    let registry = Registry::builder()
        .in_memory()
        .config(config)
        .register::<Napper>()
        .register::<Insomniac>()
        .register::<Plain>()
        .build();
    let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let client = Client::new(server.endpoint());
    let napper = client.get_or_create::<Napper>("n");
    let insomniac = client.get_or_create::<Insomniac>("i");
    let plain = client.get_or_create::<Plain>("p");

    // `action_timeout_ms = 100`: cut off, where the registry's 60 s lets `Plain` finish.
    let err = napper.wait(400).await.unwrap_err();
    assert_eq!(err.code(), Some("action_timed_out"), "{err:?}");
    assert_eq!(plain.wait(150).await.unwrap(), 150);
    assert!(insomniac.ping().await.unwrap());

    // `sleep_timeout_ms = 100` sleeps well before the registry's second; `no_sleep` never
    // does.
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(NAPPER_SLEPT.load(Ordering::SeqCst), 1);
    assert_eq!(PLAIN_SLEPT.load(Ordering::SeqCst), 0);
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    assert_eq!(PLAIN_SLEPT.load(Ordering::SeqCst), 1);
    assert_eq!(INSOMNIAC_SLEPT.load(Ordering::SeqCst), 0);
    server.shutdown().await.unwrap();
}

#[derive(Serialize, Deserialize)]
pub struct Note {
    text: String,
}

#[derive(Clone, Default, Serialize, Deserialize)]
pub struct Pace {
    slow: bool,
}

/// Tight bounds of its own.
#[derive(Default, Serialize, Deserialize)]
pub struct Bounded;

#[actor(
    queues(notes = Note),
    max_queue_size = 2,
    max_queue_message_size = 64,
    connect_hook_timeout_ms = 100,
    lifecycle_hook_timeout_ms = 100,
    wait_until_timeout_ms = 100
)]
impl Bounded {
    #[before_connect]
    async fn pace(&self, params: &Option<Pace>) -> Result<(), UserError> {
        if params.as_ref().is_some_and(|pace| pace.slow) {
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
        Ok(())
    }

    #[on_wake]
    async fn wake(&mut self, c: &mut ActorCtx<'_, Self>) {
        if c.key()[0] == "slow-wake" {
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
    }

    /// Background work far longer than the type lets going to sleep wait, then sleep.
    #[action]
    fn linger(&self, c: &mut ActionCtx<'_, Self>) {
        c.wait_until(tokio::time::sleep(Duration::from_secs(30)));
        c.sleep();
    }

    #[action]
    fn ping(&self) -> bool {
        true
    }
}

#[tokio::test]
async fn a_type_bounds_its_queues_and_hooks_by_its_own_options() {
    let registry = Registry::builder()
        .in_memory()
        .register::<Bounded>()
        .build();
    let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let client = Client::new(server.endpoint());
    let bounded = client.get_or_create::<Bounded>("b");
    let note = |text: &str| Note { text: text.into() };

    // `max_queue_size = 2`, `max_queue_message_size = 64` (the registry's: 1,000, 64 KiB).
    bounded.send(note("one")).await.unwrap();
    bounded.send(note("two")).await.unwrap();
    let err = bounded.send(note("three")).await.unwrap_err();
    assert_eq!(err.code(), Some("full"), "{err:?}");
    let err = bounded.send(note(&"x".repeat(100))).await.unwrap_err();
    assert_eq!(err.code(), Some("message_too_large"), "{err:?}");

    // `connect_hook_timeout_ms = 100` (the registry's: 5 s).
    let slow = bounded.params(Some(Pace { slow: true }));
    let err = slow.ping().await.unwrap_err();
    assert_eq!(err.code(), Some("hook_timed_out"), "{err:?}");

    // `lifecycle_hook_timeout_ms = 100` (the registry's: 15 s): the start fails.
    let err = client
        .get_or_create::<Bounded>("slow-wake")
        .ping()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("hook_timed_out"), "{err:?}");

    // `wait_until_timeout_ms = 100` (the registry's: 15 s): going to sleep cuts the
    // background work off, and the next call wakes a fresh instance long before 15 s.
    bounded.linger().await.unwrap();
    let woke = tokio::time::timeout(Duration::from_secs(5), bounded.ping()).await;
    assert!(woke.expect("going to sleep waited for the work").unwrap());
    server.shutdown().await.unwrap();
}
