//! Per-type timeouts from `#[actor(..)]`, as RivetKit's `options`: `sleep_timeout_ms`,
//! `no_sleep` and `action_timeout_ms` take the place of the registry's `HostConfig` for
//! that type only.

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
