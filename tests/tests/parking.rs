//! Parked actors (`HostConfig::park_after`): a quiet actor gives up its task and mailbox and
//! keeps its memory (and its open connections); the next command — over the network, in-process through a handle
//! that still holds the closed mailbox, or a schedule coming due — gives it a task again
//! without waking it from storage; it still sleeps at its idle timeout; commands racing the
//! park are all answered, in order.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use rivet_actor::HostConfig;
use rivet_actor::prelude::*;

#[path = "support/until.rs"]
mod support_until;
use support_until::until;

#[derive(Default)]
pub struct Seen {
    woke: AtomicU32,
    slept: AtomicU32,
    rung: AtomicU32,
    destroyed: AtomicU32,
    left: AtomicU32,
}

#[derive(Default, Serialize, Deserialize)]
pub struct Quiet {
    n: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Bumped(u64);

#[actor(events(bumped = Bumped), queues(jobs = String))]
impl Quiet {
    #[create_vars]
    fn vars(&self, c: &CreateCtx<'_>) -> Arc<Seen> {
        c.data::<Arc<Seen>>().expect("the test's data").clone()
    }

    #[on_wake]
    fn woke(&mut self, c: &mut ActorCtx<'_, Self>) {
        c.vars().woke.fetch_add(1, Ordering::SeqCst);
    }

    #[on_sleep]
    fn slept(&mut self, c: &mut ActorCtx<'_, Self>) {
        c.vars().slept.fetch_add(1, Ordering::SeqCst);
    }

    #[on_destroy]
    fn gone(&mut self, c: &mut ActorCtx<'_, Self>) {
        c.vars().destroyed.fetch_add(1, Ordering::SeqCst);
    }

    #[on_disconnect]
    fn left(&self, c: &mut ActionCtx<'_, Self>) {
        c.vars().left.fetch_add(1, Ordering::SeqCst);
    }

    #[action]
    fn bump(&mut self, c: &mut ActionCtx<'_, Self>) -> u64 {
        self.n += 1;
        c.broadcast(Bumped(self.n));
        self.n
    }

    #[action]
    fn remind(&mut self, c: &mut ActionCtx<'_, Self>, ms: u64) -> Result<(), Error> {
        c.schedule()
            .after(Duration::from_millis(ms), QuietCall::Ring(()))?;
        Ok(())
    }

    #[action]
    fn ring(&mut self, c: &mut ActionCtx<'_, Self>) {
        self.n += 100;
        c.vars().rung.fetch_add(1, Ordering::SeqCst);
    }

    /// Starts background work (`wait_until`) that lasts `ms`.
    #[action]
    fn busy_for(&self, c: &mut ActionCtx<'_, Self>, ms: u64) {
        c.wait_until(async move { tokio::time::sleep(Duration::from_millis(ms)).await });
    }

    #[action]
    fn self_destruct(&self, c: &mut ActionCtx<'_, Self>) {
        c.destroy();
    }

    /// Takes every waiting job; their ids and bodies.
    #[action]
    fn work(&mut self, c: &mut ActionCtx<'_, Self>) -> Vec<(u64, String)> {
        let jobs = c.queue().try_next_batch::<String>(100);
        jobs.into_iter().map(|job| (job.id, job.body)).collect()
    }
}

fn registry(config: HostConfig) -> (Registry, Arc<Seen>) {
    let seen = Arc::new(Seen::default());
    let registry = Registry::builder()
        .in_memory()
        .config(config)
        .data(seen.clone())
        .register::<Quiet>()
        .build();
    (registry, seen)
}

fn parks_after(ms: u64, idle: Option<Duration>) -> HostConfig {
    HostConfig {
        park_after: Some(Duration::from_millis(ms)),
        idle_timeout: idle,
        ..Default::default()
    }
}

/// (awake, parked) actors of the test's type.
fn counts(registry: &Registry) -> (usize, usize) {
    let actors = registry.actor_type("quiet").expect("registered");
    (actors.awake(), actors.parked())
}

#[tokio::test]
async fn a_quiet_actor_parks_and_answers_from_memory_over_the_network() {
    let (registry, seen) = registry(parks_after(20, None));
    let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let client = Client::new(server.endpoint());
    let quiet = client.get_or_create::<Quiet>(["net"]);
    assert_eq!(quiet.bump().await.unwrap(), 1);
    until("the actor parks", || counts(&registry) == (1, 1)).await;
    for expected in 2..=4 {
        assert_eq!(quiet.bump().await.unwrap(), expected);
        until("the actor parks again", || counts(&registry) == (1, 1)).await;
    }
    // Given a task again three times, woken once: nothing was reloaded.
    assert_eq!(seen.woke.load(Ordering::SeqCst), 1);
    assert_eq!(seen.slept.load(Ordering::SeqCst), 0);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn without_park_after_a_quiet_actor_keeps_its_task() {
    let config = HostConfig {
        park_after: None,
        idle_timeout: None,
        ..Default::default()
    };
    let (registry, _) = registry(config);
    let quiet = registry.get_or_create::<Quiet>(["kept"]).await.unwrap();
    quiet.bump().await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(counts(&registry), (1, 0));
}

#[tokio::test]
async fn durations_too_long_for_the_clock_mean_never() {
    let config = HostConfig {
        park_after: Some(Duration::MAX),
        idle_timeout: Some(Duration::MAX),
        ..Default::default()
    };
    let (registry, seen) = registry(config);
    let quiet = registry.get_or_create::<Quiet>(["forever"]).await.unwrap();
    assert_eq!(quiet.bump().await.unwrap(), 1);
    // A schedule too far ahead to count in milliseconds is never due (not long past).
    quiet.remind(u64::MAX).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(quiet.bump().await.unwrap(), 2);
    assert_eq!(counts(&registry), (1, 0));
    assert_eq!(
        seen.woke.load(Ordering::SeqCst),
        1,
        "the actor was restarted"
    );
}

#[tokio::test]
async fn a_parked_actor_still_sleeps_at_its_idle_timeout() {
    let (registry, seen) = registry(parks_after(20, Some(Duration::from_millis(400))));
    let quiet = registry.get_or_create::<Quiet>(["sleepy"]).await.unwrap();
    assert_eq!(quiet.bump().await.unwrap(), 1);
    until("the actor parks", || counts(&registry) == (1, 1)).await;
    assert_eq!(seen.slept.load(Ordering::SeqCst), 0);
    until("the parked actor sleeps", || {
        seen.slept.load(Ordering::SeqCst) == 1 && counts(&registry) == (0, 0)
    })
    .await;
    // Asleep for real: the next call wakes it from storage.
    assert_eq!(quiet.bump().await.unwrap(), 2);
    assert_eq!(seen.woke.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_parked_actor_fires_its_schedule() {
    let (registry, seen) = registry(parks_after(20, None));
    let quiet = registry.get_or_create::<Quiet>(["reminded"]).await.unwrap();
    quiet.remind(400).await.unwrap();
    until("the actor parks", || counts(&registry) == (1, 1)).await;
    assert_eq!(seen.rung.load(Ordering::SeqCst), 0, "fired too early");
    until("the schedule fires", || {
        seen.rung.load(Ordering::SeqCst) == 1
    })
    .await;
    until("the actor parks after it", || counts(&registry) == (1, 1)).await;
    assert_eq!(quiet.bump().await.unwrap(), 101);
    assert_eq!(seen.woke.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_connected_actor_parks_keeps_its_connections_and_does_not_sleep() {
    let (registry, seen) = registry(parks_after(10, Some(Duration::from_millis(300))));
    let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let client = Client::new(server.endpoint());
    let remote = client
        .get_or_create::<Quiet>(["connected"])
        .connect()
        .await
        .unwrap();
    let mut heard_remote = remote.events::<Bumped>();
    let connect_here = || async {
        let handle = registry.get_or_create::<Quiet>(["connected"]).await;
        handle.unwrap().connect().await.unwrap()
    };
    let local = connect_here().await;
    let mut heard_local = local.events::<Bumped>();
    // Connected but not listening yet.
    let late = connect_here().await;
    assert_eq!(remote.bump().await.unwrap(), 1);
    until("the connected actor parks", || counts(&registry) == (1, 1)).await;
    // A subscription made while it is parked is in place before the call made after it.
    let mut heard_late = late.events::<Bumped>();
    assert_eq!(late.bump().await.unwrap(), 2);
    let heard = tokio::time::timeout(Duration::from_secs(5), heard_late.next())
        .await
        .expect("the event of the call after the subscription never came");
    assert_eq!(heard.unwrap().unwrap(), Bumped(2));
    drop((heard_late, late));
    until("the late connection is heard leaving", || {
        seen.left.load(Ordering::SeqCst) == 1
    })
    .await;
    until("it parks again", || counts(&registry) == (1, 1)).await;
    // Well past the idle timeout: a connected actor stays awake, parked.
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(counts(&registry), (1, 1));
    assert_eq!(seen.slept.load(Ordering::SeqCst), 0);
    // Both connections still work: calls give it a task again, events reach both.
    assert_eq!(local.bump().await.unwrap(), 3);
    until("it parks again", || counts(&registry) == (1, 1)).await;
    assert_eq!(remote.bump().await.unwrap(), 4);
    for heard in [&mut heard_remote, &mut heard_local] {
        for expected in 1..=4 {
            assert_eq!(heard.next().await.unwrap().unwrap(), Bumped(expected));
        }
    }
    until("it parks again", || counts(&registry) == (1, 1)).await;
    // A connection that closes while the actor is parked is heard (`on_disconnect`); once
    // the last one is gone the actor sleeps at its idle timeout again.
    drop((heard_remote, remote));
    until("the closed connection is heard", || {
        seen.left.load(Ordering::SeqCst) == 2
    })
    .await;
    drop((heard_local, local));
    until("the actor sleeps once nobody is connected", || {
        seen.slept.load(Ordering::SeqCst) == 1 && counts(&registry) == (0, 0)
    })
    .await;
    assert_eq!(seen.left.load(Ordering::SeqCst), 3);
    assert_eq!(seen.woke.load(Ordering::SeqCst), 1);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_connected_actor_busy_in_the_background_parks_once_the_work_is_done() {
    let (registry, _) = registry(parks_after(10, None));
    let handle = registry.get_or_create::<Quiet>(["busy"]).await.unwrap();
    let conn = handle.connect().await.unwrap();
    conn.busy_for(300).await.unwrap();
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(counts(&registry), (1, 0), "parked while its work ran");
    // Its first try failed while the work ran; a later one succeeds without a command.
    until("it parks once the work is done", || {
        counts(&registry) == (1, 1)
    })
    .await;
    assert_eq!(conn.bump().await.unwrap(), 1);
}

#[tokio::test]
async fn a_parked_actor_can_be_destroyed() {
    let (registry, seen) = registry(parks_after(10, None));
    let quiet = registry.get_or_create::<Quiet>(["doomed"]).await.unwrap();
    quiet.bump().await.unwrap();
    until("the actor parks", || counts(&registry) == (1, 1)).await;
    quiet.self_destruct().await.unwrap();
    until("the actor is gone", || counts(&registry) == (0, 0)).await;
    assert_eq!(seen.destroyed.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_parked_actor_keeps_its_queue_and_its_message_ids_go_on() {
    let (registry, _) = registry(parks_after(10, None));
    let quiet = registry.get_or_create::<Quiet>(["queued"]).await.unwrap();
    for job in ["a", "b"] {
        quiet.send(job.to_owned()).await.unwrap();
    }
    until("the actor parks with its messages", || {
        counts(&registry) == (1, 1)
    })
    .await;
    let first = quiet.work().await.unwrap();
    let bodies: Vec<_> = first.iter().map(|(_, body)| body.as_str()).collect();
    assert_eq!(bodies, ["a", "b"]);
    // Parked again with an empty queue: the next message still gets a new id.
    until("the actor parks again", || counts(&registry) == (1, 1)).await;
    quiet.send("c".to_owned()).await.unwrap();
    until("and again", || counts(&registry) == (1, 1)).await;
    let second = quiet.work().await.unwrap();
    assert_eq!(second.len(), 1);
    assert!(
        second[0].0 > first[1].0,
        "a message id was used twice: {second:?} after {first:?}"
    );
}

/// A handle kept across a park holds a closed mailbox: the connection it opens must still
/// queue its subscription before the calls made after it, and its disconnect when dropped.
#[tokio::test]
async fn a_connection_opened_from_a_handle_kept_across_a_park_hears_its_events() {
    let (registry, _) = registry(parks_after(10, None));
    let quiet = registry.get_or_create::<Quiet>(["heard"]).await.unwrap();
    assert_eq!(quiet.bump().await.unwrap(), 1);
    until("the actor parks", || counts(&registry) == (1, 1)).await;
    let conn = quiet.connect().await.unwrap();
    let mut bumped = conn.events::<Bumped>();
    assert_eq!(conn.bump().await.unwrap(), 2);
    let heard = tokio::time::timeout(Duration::from_secs(5), bumped.next())
        .await
        .expect("the event never came")
        .expect("the stream ended")
        .expect("the subscription was refused");
    assert_eq!(heard, Bumped(2));
    drop(bumped);
    drop(conn);
    until("the actor parks once its connection is gone", || {
        counts(&registry) == (1, 1)
    })
    .await;
}

/// The sweeper of the deadlines dies with its runtime; a registry used from another runtime
/// afterwards must start a new one, or its parked actors would never sleep.
#[test]
fn a_registry_outliving_its_runtime_still_sleeps_its_parked_actors() {
    let (registry, seen) = registry(parks_after(10, Some(Duration::from_millis(400))));
    let runtime = || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    };
    let first = runtime();
    first.block_on(async {
        let quiet = registry.get_or_create::<Quiet>(["first"]).await.unwrap();
        quiet.bump().await.unwrap();
        until("the first actor parks", || counts(&registry) == (1, 1)).await;
    });
    drop(first);
    runtime().block_on(async {
        let quiet = registry.get_or_create::<Quiet>(["second"]).await.unwrap();
        quiet.bump().await.unwrap();
        until("both actors sleep", || {
            seen.slept.load(Ordering::SeqCst) == 2 && counts(&registry) == (0, 0)
        })
        .await;
    });
}

/// Calls from one handle (which keeps the mailbox it first found) and from tasks of their
/// own, with pauses around the park delay, so many calls meet a closed mailbox or an
/// instance in the middle of parking.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_racing_the_park_are_all_answered_in_order() {
    let (registry, seen) = registry(parks_after(1, None));
    let quiet = registry.get_or_create::<Quiet>(["racy"]).await.unwrap();
    let mut seen_parked = 0;
    let mut last = 0;
    for i in 0..300u64 {
        let n = quiet.bump().await.unwrap();
        assert!(n > last, "answers out of order: {n} after {last}");
        last = n;
        tokio::time::sleep(Duration::from_micros(i * 37 % 2_500)).await;
        if counts(&registry).1 == 1 {
            seen_parked += 1;
        }
    }
    let tasks: Vec<_> = (0..4u64)
        .map(|t| {
            let registry = registry.clone();
            tokio::spawn(async move {
                let quiet = registry.get_or_create::<Quiet>(["racy"]).await.unwrap();
                let mut last = 0;
                for i in 0..100u64 {
                    let n = quiet.bump().await.unwrap();
                    assert!(n > last, "answers out of order: {n} after {last}");
                    last = n;
                    tokio::time::sleep(Duration::from_micros((i + t) * 53 % 2_000)).await;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(quiet.bump().await.unwrap(), 701);
    assert!(seen_parked > 0, "the actor never parked between calls");
    assert_eq!(seen.woke.load(Ordering::SeqCst), 1);
}
