//! An actor sending to its own queues in a turn (`c.queue().send(..)`, RivetKit's
//! `c.queue.send`): written with the turn's commit, nothing if the turn fails, taken by its
//! `#[run]` loop without any other request, and still there after a restart.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use rivet_actor::prelude::*;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Job {
    n: u32,
}

/// Jobs the `Planner` loop did.
static DONE: AtomicU32 = AtomicU32::new(0);

#[derive(Default, Serialize, Deserialize)]
pub struct Planner;

#[actor(queues(jobs = Job))]
impl Planner {
    /// Queues `count` jobs for the loop; fails afterwards when asked (then none is queued).
    #[action]
    fn plan(&mut self, c: &mut ActionCtx<'_, Self>, count: u32, fail: bool) -> Result<(), Error> {
        for n in 0..count {
            c.queue().send(Job { n })?;
        }
        if fail {
            return Err(UserError::new("changed my mind").code("nope").into());
        }
        Ok(())
    }

    #[run]
    async fn run(c: RunCtx<Self>) -> Result<(), UserError> {
        while let Some(job) = c.queue().next::<Job>().await {
            let _ = job.body.n;
            DONE.fetch_add(1, Ordering::SeqCst);
        }
        Ok(())
    }
}

/// Keeps what it queues: no loop takes it.
#[derive(Default, Serialize, Deserialize)]
pub struct Backlog;

#[actor(queues(jobs = Job))]
impl Backlog {
    #[action]
    fn plan(&mut self, c: &mut ActionCtx<'_, Self>, count: u32) -> Result<Vec<u64>, Error> {
        (0..count).map(|n| c.queue().send(Job { n })).collect()
    }

    #[action]
    fn waiting(&self, c: &mut ActionCtx<'_, Self>) -> usize {
        c.queue().waiting::<Job>()
    }
}

#[tokio::test]
async fn the_run_loop_takes_what_a_turn_sent_and_a_failed_turn_sends_nothing() {
    let test = ActorTest::<Planner>::new();
    let planner = test.get_or_create("p").await.unwrap();
    let err = planner.plan(3, true).await.unwrap_err();
    assert_eq!(err.code(), Some("nope"));
    planner.plan(5, false).await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while DONE.load(Ordering::SeqCst) < 5 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the loop did {}",
            DONE.load(Ordering::SeqCst)
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        DONE.load(Ordering::SeqCst),
        5,
        "the failed turn's jobs were done too"
    );
}

#[tokio::test]
async fn messages_a_turn_sent_are_stored_with_it() {
    let dir = std::env::temp_dir().join(format!("rivet-actor-self-send-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let ids = {
        let registry = Registry::builder()
            .data_dir(&dir)
            .register::<Backlog>()
            .build();
        let backlog = registry.get_or_create::<Backlog>("b").await.unwrap();
        let ids = backlog.plan(3).await.unwrap();
        assert_eq!(backlog.waiting().await.unwrap(), 3);
        registry.shutdown().await;
        ids
    };
    assert_eq!(ids.len(), 3);
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    let registry = Registry::builder()
        .data_dir(&dir)
        .register::<Backlog>()
        .build();
    let backlog = registry.get_or_create::<Backlog>("b").await.unwrap();
    assert_eq!(backlog.waiting().await.unwrap(), 3);
    // Ids keep growing after the restart.
    let more = backlog.plan(1).await.unwrap();
    assert!(more[0] > ids[2], "{more:?} after {ids:?}");
    registry.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}
