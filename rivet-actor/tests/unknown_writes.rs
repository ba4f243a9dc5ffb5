//! A write whose outcome is unknown (a remote storage lost its answer: engine mode's KV when
//! the connection drops mid-put) is never answered as a success, and the actor reloads from
//! what storage holds before its next turn instead of trusting its memory.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

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
        Some("internal_error"),
        "never a success: {err:?}"
    );
    // The write did land: the actor reloads it rather than keep its rolled-back memory
    // (which says 1) and build on that.
    assert_eq!(tally.read().await.unwrap(), 11);
    assert_eq!(tally.add(1).await.unwrap(), 12);
    server.shutdown().await.unwrap();
}
