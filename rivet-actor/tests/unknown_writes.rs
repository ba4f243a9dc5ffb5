//! A write whose outcome is unknown (a remote storage lost its answer: engine mode's KV when
//! the connection drops mid-put) is never answered as a success, and the actor reloads from
//! what storage holds before its next turn instead of trusting its memory.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use rivet_actor::prelude::*;
use rivet_actor::storage::{
    ActorRecord, ActorWrite, BoxFuture, KvPair, MemoryStorage, Storage, StorageError,
    StorageResult, StorageStats,
};

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

/// Memory storage whose next commit is applied but answered as unknown, when armed.
struct LostAnswers {
    inner: MemoryStorage,
    lose_next: Arc<AtomicBool>,
}

impl Storage for LostAnswers {
    fn find_by_key<'a>(
        &'a self,
        name: &'a str,
        key: &'a [String],
    ) -> BoxFuture<'a, StorageResult<Option<ActorRecord>>> {
        self.inner.find_by_key(name, key)
    }
    fn find_by_id<'a>(&'a self, id: &'a str) -> BoxFuture<'a, StorageResult<Option<ActorRecord>>> {
        self.inner.find_by_id(id)
    }
    fn insert_actor(
        &self,
        record: ActorRecord,
    ) -> BoxFuture<'_, StorageResult<(ActorRecord, bool)>> {
        self.inner.insert_actor(record)
    }
    fn list_actors<'a>(
        &'a self,
        name: Option<&'a str>,
    ) -> BoxFuture<'a, StorageResult<Vec<ActorRecord>>> {
        self.inner.list_actors(name)
    }
    fn load_state<'a>(&'a self, id: &'a str) -> BoxFuture<'a, StorageResult<Option<Vec<u8>>>> {
        self.inner.load_state(id)
    }
    fn commit<'a>(&'a self, id: &'a str, write: ActorWrite) -> BoxFuture<'a, StorageResult<()>> {
        Box::pin(async move {
            self.inner.commit(id, write).await?;
            if self.lose_next.swap(false, Ordering::SeqCst) {
                return Err(StorageError::Unknown {
                    what: "the answer was lost with the connection".into(),
                });
            }
            Ok(())
        })
    }
    fn kv_get<'a>(
        &'a self,
        id: &'a str,
        key: &'a [u8],
    ) -> BoxFuture<'a, StorageResult<Option<Vec<u8>>>> {
        self.inner.kv_get(id, key)
    }
    fn kv_scan_prefix<'a>(
        &'a self,
        id: &'a str,
        prefix: &'a [u8],
    ) -> BoxFuture<'a, StorageResult<Vec<KvPair>>> {
        self.inner.kv_scan_prefix(id, prefix)
    }
    fn actors_with_kv_prefix<'a>(
        &'a self,
        name: &'a str,
        prefix: &'a [u8],
    ) -> BoxFuture<'a, StorageResult<Vec<String>>> {
        self.inner.actors_with_kv_prefix(name, prefix)
    }
    fn destroy<'a>(&'a self, id: &'a str) -> BoxFuture<'a, StorageResult<bool>> {
        self.inner.destroy(id)
    }
    fn stats(&self) -> StorageStats {
        self.inner.stats()
    }
}

#[tokio::test]
async fn a_lost_answer_fails_the_turn_and_the_actor_reloads_what_was_stored() {
    let lose_next = Arc::new(AtomicBool::new(false));
    let registry = Registry::builder()
        .storage(LostAnswers {
            inner: MemoryStorage::new(),
            lose_next: lose_next.clone(),
        })
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
