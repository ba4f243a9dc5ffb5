//! A write whose outcome is unknown (a remote storage lost its answer: engine mode's KV when
//! the connection drops mid-put) is never answered as a success, and the actor reloads from
//! what storage holds before its next turn instead of trusting its memory. A schedule whose
//! turn's write failed fires again once storage takes writes, with no request to wake it,
//! and a turn whose write failed does not destroy the actor it asked to destroy.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use rivet_actor::prelude::*;
use rivet_actor::storage::{
    ActorWrite, BoxFuture, MemoryStorage, Storage, StorageError, StorageResult,
};

#[path = "support/hooked_storage.rs"]
mod hooked_storage;
use hooked_storage::{CommitHook, Hooked};

#[derive(Default, Serialize, Deserialize)]
pub struct Tally {
    count: i64,
}

#[actor]
impl Tally {
    #[action]
    fn add(&mut self, by: i64) -> i64 {
        self.count += by;
        self.count
    }

    #[action]
    fn read(&self) -> i64 {
        self.count
    }

    /// Adds `by`, then destroys the actor once the turn has committed.
    #[action]
    fn add_and_destroy(&mut self, c: &mut ActionCtx<'_, Self>, by: i64) {
        self.count += by;
        c.destroy();
    }

    /// Schedules `add(by)` after `ms`.
    #[action]
    fn add_later(&mut self, c: &mut ActionCtx<'_, Self>, by: i64, ms: u64) -> Result<(), Error> {
        c.schedule()
            .after(Duration::from_millis(ms), TallyCall::Add((by,)))?;
        Ok(())
    }
}

/// Applies every commit, but answers the next one as unknown when armed.
struct LoseNextAnswer(Arc<AtomicBool>);

impl CommitHook for LoseNextAnswer {
    fn commit<'a>(
        &'a self,
        inner: &'a MemoryStorage,
        id: &'a str,
        write: ActorWrite,
    ) -> BoxFuture<'a, StorageResult<()>> {
        Box::pin(async move {
            inner.commit(id, write).await?;
            if self.0.swap(false, Ordering::SeqCst) {
                return Err(StorageError::Unknown {
                    what: "the answer was lost with the connection".into(),
                });
            }
            Ok(())
        })
    }
}

#[tokio::test]
async fn a_lost_answer_fails_the_turn_and_the_actor_reloads_what_was_stored() {
    let lose_next = Arc::new(AtomicBool::new(false));
    let registry = Registry::builder()
        .storage(Hooked::new(LoseNextAnswer(lose_next.clone())))
        .register::<Tally>()
        .build();
    let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let tally = Client::new(server.endpoint()).get_or_create::<Tally>(["t"]);
    assert_eq!(tally.add(1).await.unwrap(), 1);

    lose_next.store(true, Ordering::SeqCst);
    let err = tally.add(10).await.unwrap_err();
    assert_eq!(
        err.code(),
        Some("write_outcome_unknown"),
        "never a success, and not a plain failure: {err:?}"
    );
    // The write did land: the actor reloads it rather than keep its rolled-back memory
    // (which says 1) and build on that.
    assert_eq!(tally.read().await.unwrap(), 11);
    assert_eq!(tally.add(1).await.unwrap(), 12);
    server.shutdown().await.unwrap();
}

/// Refuses the next commits, as many as armed, as a full disk does (nothing applied),
/// after a moment.
struct RefuseNext(Arc<AtomicUsize>);

impl CommitHook for RefuseNext {
    fn commit<'a>(
        &'a self,
        inner: &'a MemoryStorage,
        id: &'a str,
        write: ActorWrite,
    ) -> BoxFuture<'a, StorageResult<()>> {
        Box::pin(async move {
            let armed = self
                .0
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
            if armed.is_ok() {
                // Slowly, as a disk does: the turn's write is still in flight when the
                // instance looks at what the turn asked.
                tokio::time::sleep(Duration::from_millis(50)).await;
                return Err(StorageError::Full {
                    what: "no room (a test)".into(),
                });
            }
            inner.commit(id, write).await
        })
    }
}

/// A registry of tallies whose storage refuses as many commits as the counter says.
fn refusing_registry() -> (Registry, Arc<AtomicUsize>) {
    let refuse = Arc::new(AtomicUsize::new(0));
    let registry = Registry::builder()
        .storage(Hooked::new(RefuseNext(refuse.clone())))
        .register::<Tally>()
        .build();
    (registry, refuse)
}

#[tokio::test]
async fn a_schedule_whose_write_failed_fires_again_without_a_request() {
    let (registry, refuse) = refusing_registry();
    let tally = registry.get_or_create::<Tally>(["t"]).await.unwrap();
    let id = tally.id().as_str().to_owned();
    tally.add_later(5, 100).await.unwrap();
    // The scheduled turn's write fails; the actor reloads, and nothing asks it anything.
    refuse.store(1, Ordering::SeqCst);
    let stored = async || {
        let rows = registry.storage().kv_scan_prefix(&id, b"s/").await.unwrap();
        rows.len()
    };
    assert_eq!(stored().await, 1);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while stored().await > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the schedule never fired again"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        refuse.load(Ordering::SeqCst),
        0,
        "the first write was refused"
    );
    assert_eq!(tally.read().await.unwrap(), 5, "fired once, applied once");
}

#[tokio::test]
async fn a_turn_whose_write_failed_does_not_destroy_the_actor() {
    let (registry, refuse) = refusing_registry();
    let tally = registry.get_or_create::<Tally>(["kept"]).await.unwrap();
    assert_eq!(tally.add(1).await.unwrap(), 1);
    refuse.store(1, Ordering::SeqCst);
    let err = tally.add_and_destroy(10).await.unwrap_err();
    assert_eq!(err.code(), Some("storage_full"), "{err:?}");
    // The turn failed, so nothing it asked happens: the actor is still there, as stored.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(tally.read().await.unwrap(), 1);
    assert!(registry.get::<Tally>(["kept"]).await.is_ok());
}
