//! What an actor controls of its own life: `c.sleep()` and `c.destroy()` after the turn
//! commits (and not at all when it fails), `#[on_destroy]` once before the data goes,
//! `c.keep_awake` keeping the actor from idling (in a turn's background work and in the
//! `#[run]` loop), `c.wait_until` work that going to sleep waits for (and cuts off at its
//! bound), and the stopping signal reaching an action that is still running.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

use rivet_actor::HostConfig;
use rivet_actor::prelude::*;

#[path = "support/until.rs"]
mod support_until;
use support_until::until;

/// What the test watches, handed to the actor as registry data.
#[derive(Default)]
pub struct Seen {
    slept: AtomicU32,
    destroyed: AtomicU32,
    background_done: AtomicU32,
    /// `on_sleep` found the background work finished.
    slept_after_background: AtomicBool,
    /// Background work heard the stopping signal.
    background_heard_stop: AtomicBool,
    /// Background work's call into the actor, made once it was stopping, was answered.
    saved_on_the_way_out: AtomicBool,
    woke: AtomicU32,
}

fn seen<A: Actor>(c: &ActorCtx<'_, A>) -> Arc<Seen> {
    c.data::<Arc<Seen>>().expect("the test's data").clone()
}

#[derive(Default, Serialize, Deserialize)]
pub struct Worker {
    n: u32,
}

#[actor]
impl Worker {
    #[on_wake]
    fn woke(&mut self, c: &mut ActorCtx<'_, Self>) {
        seen(c).woke.fetch_add(1, Ordering::SeqCst);
    }

    #[on_sleep]
    fn slept(&mut self, c: &mut ActorCtx<'_, Self>) {
        let seen = seen(c);
        seen.slept.fetch_add(1, Ordering::SeqCst);
        let done = seen.background_done.load(Ordering::SeqCst) > 0;
        seen.slept_after_background.store(done, Ordering::SeqCst);
    }

    #[on_destroy]
    fn gone(&mut self, c: &mut ActorCtx<'_, Self>) {
        seen(c).destroyed.fetch_add(1, Ordering::SeqCst);
    }

    #[action]
    fn bump(&mut self) -> u32 {
        self.n += 1;
        self.n
    }

    #[action]
    fn nap(&mut self, c: &mut ActionCtx<'_, Self>) -> u32 {
        self.n += 1;
        c.sleep();
        self.n
    }

    #[action]
    fn self_destruct(&self, c: &mut ActionCtx<'_, Self>) {
        c.destroy();
    }

    #[action]
    fn destroy_then_fail(&mut self, c: &mut ActionCtx<'_, Self>) -> Result<(), UserError> {
        self.n += 100;
        c.destroy();
        Err(UserError::new("changed my mind"))
    }

    #[action]
    fn background(&self, c: &mut ActionCtx<'_, Self>, ms: u64) {
        let seen = seen(c);
        c.wait_until(async move {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            seen.background_done.fetch_add(1, Ordering::SeqCst);
        });
    }

    /// Starts background work that keeps the actor awake for `ms`.
    #[action]
    fn background_awake(&self, c: &mut ActionCtx<'_, Self>, ms: u64) {
        let seen = seen(c);
        c.wait_until(c.keep_awake(async move {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            seen.background_done.fetch_add(1, Ordering::SeqCst);
        }));
    }

    /// Starts background work that lasts until the actor is stopping (or 10 s).
    #[action]
    fn background_until_stopping(&self, c: &mut ActionCtx<'_, Self>) {
        let seen = seen(c);
        let stopping = c.stopping();
        c.wait_until(async move {
            let heard = tokio::time::timeout(Duration::from_secs(10), stopping.stopped()).await;
            seen.background_heard_stop
                .store(heard.is_ok(), Ordering::SeqCst);
            seen.background_done.fetch_add(1, Ordering::SeqCst);
        });
    }

    /// Starts background work that, once the actor is stopping, saves through a call into
    /// the actor (as work that flushes on the way out does).
    #[action]
    fn save_when_stopping(&self, c: &mut ActionCtx<'_, Self>) {
        let (seen, this, stopping) = (seen(c), c.this(), c.stopping());
        c.wait_until(async move {
            stopping.stopped().await;
            let saved = this.bump().await.is_ok();
            seen.saved_on_the_way_out.store(saved, Ordering::SeqCst);
            seen.background_done.fetch_add(1, Ordering::SeqCst);
        });
    }

    /// Waits for the stopping signal (up to 10 s); whether it came.
    #[action]
    async fn wait_for_stop(&self, c: &mut ActionCtx<'_, Self>) -> bool {
        let stopping = c.stopping();
        tokio::time::timeout(Duration::from_secs(10), stopping.stopped())
            .await
            .is_ok()
    }
}

fn registry(config: HostConfig) -> (Registry, Arc<Seen>) {
    let seen = Arc::new(Seen::default());
    let registry = Registry::builder()
        .in_memory()
        .config(config)
        .data(seen.clone())
        .register::<Worker>()
        .build();
    (registry, seen)
}

fn awake(registry: &Registry) -> usize {
    registry.actor_type("worker").expect("registered").awake()
}

fn no_idle_sleep() -> HostConfig {
    HostConfig {
        idle_timeout: None,
        ..Default::default()
    }
}

#[tokio::test]
async fn sleep_takes_effect_after_the_turn_and_closes_connections() {
    let (registry, seen) = registry(no_idle_sleep());
    let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let client = Client::new(server.endpoint());
    let worker = client.get_or_create::<Worker>(["napper"]);
    assert_eq!(worker.bump().await.unwrap(), 1);
    let conn = worker.connect().await.unwrap();
    let mut status = conn.status_changes();
    // The turn that asked is answered (and committed) before the actor sleeps.
    assert_eq!(conn.nap().await.unwrap(), 2);
    until("the actor sleeps", || {
        seen.slept.load(Ordering::SeqCst) == 1
    })
    .await;
    tokio::time::timeout(
        Duration::from_secs(10),
        status.wait_for(|s| *s != rivet_actor::ConnStatus::Connected),
    )
    .await
    .expect("the connection was closed")
    .unwrap();
    // The connection was closed; it reconnects (waking the actor) and finds what the nap
    // committed.
    assert_eq!(conn.bump().await.unwrap(), 3);
    assert_eq!(worker.bump().await.unwrap(), 4);
    assert_eq!(seen.destroyed.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn destroy_takes_effect_after_the_turn_and_runs_on_destroy_once() {
    let (registry, seen) = registry(no_idle_sleep());
    let worker = registry.get_or_create::<Worker>(["doomed"]).await.unwrap();
    assert_eq!(worker.bump().await.unwrap(), 1);
    worker.self_destruct().await.unwrap();
    until("on_destroy runs", || {
        seen.destroyed.load(Ordering::SeqCst) == 1
    })
    .await;
    until("the instance is gone", || awake(&registry) == 0).await;
    match registry.get::<Worker>(["doomed"]).await {
        Err(err) => assert!(err.is_not_found(), "{err:?}"),
        Ok(_) => panic!("a destroyed actor was found"),
    }
    // The key is free: a new actor starts from scratch.
    let fresh = registry.get_or_create::<Worker>(["doomed"]).await.unwrap();
    assert_eq!(fresh.bump().await.unwrap(), 1);
    assert_eq!(seen.destroyed.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_failed_turn_does_not_destroy() {
    let (registry, seen) = registry(no_idle_sleep());
    let worker = registry.get_or_create::<Worker>(["kept"]).await.unwrap();
    assert!(worker.destroy_then_fail().await.is_err());
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(seen.destroyed.load(Ordering::SeqCst), 0);
    assert_eq!(
        worker.bump().await.unwrap(),
        1,
        "the failed turn left nothing"
    );
}

#[tokio::test]
async fn keep_awake_keeps_the_actor_awake_until_the_work_ends() {
    let (registry, seen) = registry(HostConfig {
        idle_timeout: Some(Duration::from_millis(100)),
        ..Default::default()
    });
    let worker = registry.get_or_create::<Worker>(["busy"]).await.unwrap();
    worker.background_awake(600).await.unwrap();
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(awake(&registry), 1, "slept with keep_awake work running");
    assert_eq!(seen.slept.load(Ordering::SeqCst), 0);
    until("the actor sleeps once idle", || {
        seen.slept.load(Ordering::SeqCst) == 1
    })
    .await;
    assert_eq!(seen.background_done.load(Ordering::SeqCst), 1);
    assert!(seen.slept_after_background.load(Ordering::SeqCst));
}

#[tokio::test]
async fn wait_until_lets_the_actor_go_idle_and_going_to_sleep_waits_for_it() {
    let (registry, seen) = registry(HostConfig {
        idle_timeout: Some(Duration::from_millis(100)),
        ..Default::default()
    });
    let worker = registry
        .get_or_create::<Worker>(["flushing"])
        .await
        .unwrap();
    worker.background_until_stopping().await.unwrap();
    // The work would run for 10 s: the actor goes idle anyway, raises its stopping signal,
    // and `on_sleep` runs once the work has heard it and ended.
    tokio::time::timeout(Duration::from_secs(3), async {
        while seen.slept.load(Ordering::SeqCst) == 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the actor went to sleep while its wait_until work ran");
    assert!(seen.background_heard_stop.load(Ordering::SeqCst));
    assert_eq!(seen.background_done.load(Ordering::SeqCst), 1);
    assert!(seen.slept_after_background.load(Ordering::SeqCst));
}

#[tokio::test]
async fn background_work_is_cut_off_at_its_bound() {
    let (registry, seen) = registry(HostConfig {
        idle_timeout: None,
        wait_until_timeout: Duration::from_millis(200),
        ..Default::default()
    });
    let worker = registry.get_or_create::<Worker>(["slow"]).await.unwrap();
    worker.background(60_000).await.unwrap();
    worker.nap().await.unwrap();
    until("the actor sleeps", || {
        seen.slept.load(Ordering::SeqCst) == 1
    })
    .await;
    assert_eq!(seen.background_done.load(Ordering::SeqCst), 0);
    assert!(!seen.slept_after_background.load(Ordering::SeqCst));
}

#[tokio::test]
async fn a_running_action_hears_the_stopping_signal() {
    let (registry, seen) = registry(no_idle_sleep());
    let worker = registry.get_or_create::<Worker>(["long"]).await.unwrap();
    let id = worker.id().clone();
    let waiting = tokio::spawn({
        let worker = registry.get_for_id::<Worker>(&id).await.unwrap();
        async move { worker.wait_for_stop().await }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!waiting.is_finished());
    // Destroyed from outside while the action runs: the action hears it, ends, and the
    // destroy goes on after it.
    let kind = registry.actor_type("worker").unwrap().clone();
    let destroyed = tokio::spawn(async move { kind.destroy(&id).await });
    let heard = tokio::time::timeout(Duration::from_secs(5), waiting)
        .await
        .expect("the action ended")
        .unwrap();
    assert!(
        heard.unwrap(),
        "the action timed out instead of hearing the signal"
    );
    assert!(destroyed.await.unwrap().unwrap());
    assert_eq!(seen.destroyed.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn background_work_can_call_the_actor_while_it_goes_to_sleep() {
    let (registry, seen) = registry(HostConfig {
        idle_timeout: Some(Duration::from_millis(100)),
        ..Default::default()
    });
    let worker = registry.get_or_create::<Worker>(["flush"]).await.unwrap();
    worker.save_when_stopping().await.unwrap();
    // Served while the actor winds down, not left in its mailbox until the work is cut off
    // (15 s).
    tokio::time::timeout(Duration::from_secs(3), async {
        while seen.slept.load(Ordering::SeqCst) == 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the actor slept without waiting out its background work");
    assert!(seen.saved_on_the_way_out.load(Ordering::SeqCst));
    assert!(seen.slept_after_background.load(Ordering::SeqCst));
    // What the work saved was stored before the actor slept.
    assert_eq!(worker.bump().await.unwrap(), 2);
}

#[tokio::test]
async fn closing_a_connection_to_an_actor_that_slept_does_not_wake_it() {
    let (registry, seen) = registry(no_idle_sleep());
    let worker = registry.get_or_create::<Worker>(["closed"]).await.unwrap();
    let conn = worker.connect().await.unwrap();
    conn.nap().await.unwrap();
    until("the actor sleeps", || {
        seen.slept.load(Ordering::SeqCst) == 1
    })
    .await;
    until("the instance is gone", || awake(&registry) == 0).await;
    assert_eq!(seen.woke.load(Ordering::SeqCst), 1);
    // The connection went with the actor: closing it wakes nothing.
    drop(conn);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(awake(&registry), 0);
    assert_eq!(seen.woke.load(Ordering::SeqCst), 1);
}
