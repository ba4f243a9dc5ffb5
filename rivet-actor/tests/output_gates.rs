//! Output gates: the actor goes on with its next turns while a write is in flight, what
//! each turn says (reply, events) leaves only once its write is durable, and a lost write
//! fails every turn that saw its state — nothing is ever answered as done that is not stored.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use rivet_actor::prelude::*;
use rivet_actor::storage::{
    ActorWrite, BoxFuture, MemoryStorage, SqliteStorage, Storage, StorageError, StorageResult,
};
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;

#[path = "support/hooked_storage.rs"]
mod hooked_storage;
use hooked_storage::{CommitHook, Hooked};

/// How many `add` and `read` turns ran (in memory, whatever became of their writes).
static ADDS_RAN: AtomicUsize = AtomicUsize::new(0);
static READS_RAN: AtomicUsize = AtomicUsize::new(0);
/// How many `noted` reads got past their `c.kv()` read.
static KV_READS_DONE: AtomicUsize = AtomicUsize::new(0);

#[derive(Default, Serialize, Deserialize)]
pub struct Tally {
    count: i64,
}

#[actor(events(changed = i64))]
impl Tally {
    #[action]
    fn add(&mut self, c: &mut ActionCtx<'_, Self>, by: i64) -> i64 {
        ADDS_RAN.fetch_add(1, Ordering::SeqCst);
        self.count += by;
        c.broadcast(self.count);
        self.count
    }

    #[action]
    fn read(&self) -> i64 {
        READS_RAN.fetch_add(1, Ordering::SeqCst);
        self.count
    }

    #[action]
    fn note(&self, c: &ActionCtx<'_, Self>, text: String) -> Result<(), Error> {
        Ok(c.kv().put("note", &text)?)
    }

    #[action]
    async fn noted(&self, c: &ActionCtx<'_, Self>) -> Result<Option<String>, Error> {
        let note = c.kv().get("note").await?;
        KV_READS_DONE.fetch_add(1, Ordering::SeqCst);
        Ok(note)
    }
}

/// Commits stopped at the door when it is closed (each then waits for a permit), and
/// failed once let through when `fail` is set.
struct Doorman {
    closed: AtomicBool,
    permits: Semaphore,
    fail: AtomicBool,
    /// Commits that reached the door.
    arrived: AtomicUsize,
}

impl Default for Doorman {
    fn default() -> Self {
        Doorman {
            closed: AtomicBool::new(false),
            permits: Semaphore::new(0),
            fail: AtomicBool::new(false),
            arrived: AtomicUsize::new(0),
        }
    }
}

/// The registry's handle on the test's doorman.
struct Door(Arc<Doorman>);

impl CommitHook for Door {
    fn commit<'a>(
        &'a self,
        inner: &'a MemoryStorage,
        id: &'a str,
        write: ActorWrite,
    ) -> BoxFuture<'a, StorageResult<()>> {
        Box::pin(async move {
            self.0.arrived.fetch_add(1, Ordering::SeqCst);
            if self.0.closed.load(Ordering::SeqCst) {
                self.0.permits.acquire().await.unwrap().forget();
                if self.0.fail.load(Ordering::SeqCst) {
                    return Err(StorageError::Full {
                        what: "the test's full disk".into(),
                    });
                }
            }
            inner.commit(id, write).await
        })
    }
}

/// `fut`'s output, or a failure naming `what` after 10 s (instead of a hung test).
async fn within<T>(what: &str, fut: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(10), fut)
        .await
        .unwrap_or_else(|_| panic!("never happened: {what}"))
}

/// Polls `done` until it holds (within 10 s).
async fn until(what: &str, done: impl Fn() -> bool) {
    for _ in 0..1000 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("never happened: {what}");
}

async fn serve(doorman: &Arc<Doorman>) -> (Registry, rivet_actor::server::Server) {
    let registry = Registry::builder()
        .storage(Hooked::new(Door(doorman.clone())))
        .register::<Tally>()
        .build();
    let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    (registry, server)
}

/// With the door closed: `add(10)` (its write held at the door), then a read that sees it, then
/// `add(100)` — each started once the one before has run in the actor, and the second add
/// run although the first one's write is not durable.
async fn three_turns_behind_a_held_write(
    doorman: &Doorman,
    client: &Client,
    key: &'static str,
) -> [JoinHandle<Result<i64, ClientError>>; 3] {
    doorman.closed.store(true, Ordering::SeqCst);
    let arrived = doorman.arrived.load(Ordering::SeqCst);
    let ran = ADDS_RAN.load(Ordering::SeqCst);
    let first = tokio::spawn({
        let tally = client.get_or_create::<Tally>([key]);
        async move { tally.add(10).await }
    });
    until("the first write reaches storage", || {
        doorman.arrived.load(Ordering::SeqCst) > arrived
    })
    .await;
    let reads = READS_RAN.load(Ordering::SeqCst);
    let read = tokio::spawn({
        let tally = client.get_or_create::<Tally>([key]);
        async move { tally.read().await }
    });
    until("the read runs", || READS_RAN.load(Ordering::SeqCst) > reads).await;
    let second = tokio::spawn({
        let tally = client.get_or_create::<Tally>([key]);
        async move { tally.add(100).await }
    });
    until("the second add runs", || {
        ADDS_RAN.load(Ordering::SeqCst) == ran + 2
    })
    .await;
    [first, read, second]
}

// The tests count `add` turns in one static: they take turns.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_wait_for_durability_while_the_actor_runs_on() {
    let _turn = SERIAL.lock().await;
    let doorman = Arc::new(Doorman::default());
    let (_registry, server) = serve(&doorman).await;
    let (client, key) = (Client::new(server.endpoint()), "gated");
    let tally = client.get_or_create::<Tally>([key]);
    assert_eq!(tally.add(1).await.unwrap(), 1);
    let conn = tally.connect().await.unwrap();
    let mut events = conn.events::<i64>();
    // A call on the same connection is handled after the subscription: it is in place.
    assert_eq!(conn.read().await.unwrap(), 1);

    // The actor runs the second add although the first one's write is not durable...
    let [first, read, second] = three_turns_behind_a_held_write(&doorman, &client, key).await;
    // ...but nobody has heard of either, nor of the read that saw the first.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!first.is_finished() && !read.is_finished() && !second.is_finished());
    assert!(
        tokio::time::timeout(Duration::from_millis(50), events.next())
            .await
            .is_err(),
        "an event left before its write was durable"
    );

    // Let the first write through: it and the read are answered; the second add's write
    // (queued behind it) goes next.
    doorman.permits.add_permits(1);
    assert_eq!(within("first", first).await.unwrap().unwrap(), 11);
    assert_eq!(within("read", read).await.unwrap().unwrap(), 11);
    assert_eq!(
        within("event 11", events.next()).await.unwrap().unwrap(),
        11
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!second.is_finished(), "answered before its own write");
    doorman.permits.add_permits(1);
    assert_eq!(within("second", second).await.unwrap().unwrap(), 111);
    assert_eq!(
        within("event 111", events.next()).await.unwrap().unwrap(),
        111
    );
    doorman.closed.store(false, Ordering::SeqCst);
    within("shutdown", server.shutdown()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_write_fails_every_turn_that_saw_it() {
    let _turn = SERIAL.lock().await;
    let doorman = Arc::new(Doorman::default());
    let (_registry, server) = serve(&doorman).await;
    let (client, key) = (Client::new(server.endpoint()), "lost");
    let tally = client.get_or_create::<Tally>([key]);
    assert_eq!(tally.add(1).await.unwrap(), 1);
    let conn = tally.connect().await.unwrap();
    let mut events = conn.events::<i64>();
    // A call on the same connection is handled after the subscription: it is in place.
    assert_eq!(conn.read().await.unwrap(), 1);

    doorman.fail.store(true, Ordering::SeqCst);
    let [first, read, second] = three_turns_behind_a_held_write(&doorman, &client, key).await;
    tokio::time::sleep(Duration::from_millis(100)).await;

    // The first write fails: every turn that saw its state fails with it.
    doorman.permits.add_permits(1);
    for (what, answer) in [
        (
            "the add whose write was lost",
            within("first", first).await.unwrap(),
        ),
        ("the read that saw it", within("read", read).await.unwrap()),
        ("the add after it", within("second", second).await.unwrap()),
    ] {
        let err = answer.expect_err(what);
        assert_eq!(err.code(), Some("storage_full"), "{what}: {err:?}");
    }
    // The connection that could have seen the lost state never gets its events (it is
    // closed, and the client connects again).
    if let Ok(Some(Ok(value))) = tokio::time::timeout(Duration::from_secs(1), events.next()).await {
        panic!("an event of a lost write arrived: {value}");
    }
    // The actor reloaded what is durable, and goes on from there.
    doorman.closed.store(false, Ordering::SeqCst);
    doorman.fail.store(false, Ordering::SeqCst);
    assert_eq!(tally.read().await.unwrap(), 1);
    assert_eq!(tally.add(1).await.unwrap(), 2);
    within("shutdown", server.shutdown()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn turns_that_run_during_a_commit_share_the_next_one() {
    let _turn = SERIAL.lock().await;
    let dir = std::env::temp_dir().join(format!("rivet-actor-gates-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let storage = Arc::new(SqliteStorage::open(&dir).unwrap());
    let registry = Registry::builder()
        .shared_storage(storage.clone())
        .register::<Tally>()
        .build();
    let tally = Arc::new(registry.get_or_create::<Tally>("batched").await.unwrap());
    tally.add(0).await.unwrap();
    let before = storage.stats().commits;
    let calls: Vec<_> = (0..200)
        .map(|_| {
            let tally = tally.clone();
            tokio::spawn(async move { tally.add(1).await.unwrap() })
        })
        .collect();
    let mut answers = Vec::new();
    for call in calls {
        answers.push(call.await.unwrap());
    }
    answers.sort_unstable();
    assert_eq!(answers, (1..=200).collect::<Vec<i64>>());
    let commits = storage.stats().commits - before;
    assert!(
        commits < 200,
        "200 turns took {commits} commits: turns that ran while a commit was in flight should share the next"
    );
    // Every acknowledged add is stored.
    drop(tally);
    drop(registry);
    let reopened = Registry::builder()
        .data_dir(&dir)
        .register::<Tally>()
        .build();
    let tally = reopened.get_or_create::<Tally>("batched").await.unwrap();
    assert_eq!(tally.read().await.unwrap(), 200);
    drop(reopened);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_write_holds_a_bounded_number_of_answers() {
    let _turn = SERIAL.lock().await;
    let doorman = Arc::new(Doorman::default());
    let registry = Registry::builder()
        .storage(Hooked::new(Door(doorman.clone())))
        .register::<Tally>()
        .build();
    let tally = Arc::new(registry.get_or_create::<Tally>("stalled").await.unwrap());
    assert_eq!(tally.add(1).await.unwrap(), 1);
    doorman.closed.store(true, Ordering::SeqCst);
    let arrived = doorman.arrived.load(Ordering::SeqCst);
    let first = tokio::spawn({
        let tally = tally.clone();
        async move { tally.add(10).await }
    });
    until("the write reaches storage", || {
        doorman.arrived.load(Ordering::SeqCst) > arrived
    })
    .await;
    // Reads behind the stuck write are held; past the gate's bound (4,096 answers) the actor
    // takes no more commands, so the rest wait in the mailbox and in their senders.
    let before = READS_RAN.load(Ordering::SeqCst);
    let reads: Vec<_> = (0..6000)
        .map(|_| {
            let tally = tally.clone();
            tokio::spawn(async move { tally.read().await })
        })
        .collect();
    until("the gate fills", || {
        READS_RAN.load(Ordering::SeqCst) - before >= 4000
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let ran = READS_RAN.load(Ordering::SeqCst) - before;
    assert!(ran <= 4096, "{ran} reads ran behind a stuck write");
    assert!(reads.iter().all(|read| !read.is_finished()));

    doorman.closed.store(false, Ordering::SeqCst);
    doorman.permits.add_permits(1);
    assert_eq!(within("first", first).await.unwrap().unwrap(), 11);
    for read in reads {
        assert_eq!(within("a read", read).await.unwrap().unwrap(), 11);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kv_read_waits_only_for_pending_kv_writes() {
    let _turn = SERIAL.lock().await;
    let doorman = Arc::new(Doorman::default());
    let registry = Registry::builder()
        .storage(Hooked::new(Door(doorman.clone())))
        .register::<Tally>()
        .build();
    let tally = Arc::new(registry.get_or_create::<Tally>("kv-reads").await.unwrap());
    tally.note("first".into()).await.unwrap();

    // A state write is stuck: a kv read runs past it (its answer is still held).
    doorman.closed.store(true, Ordering::SeqCst);
    let arrived = doorman.arrived.load(Ordering::SeqCst);
    let add = tokio::spawn({
        let tally = tally.clone();
        async move { tally.add(1).await }
    });
    until("the state write reaches storage", || {
        doorman.arrived.load(Ordering::SeqCst) > arrived
    })
    .await;
    let done = KV_READS_DONE.load(Ordering::SeqCst);
    let read = tokio::spawn({
        let tally = tally.clone();
        async move { tally.noted().await }
    });
    until("the kv read gets past a pending state write", || {
        KV_READS_DONE.load(Ordering::SeqCst) > done
    })
    .await;
    assert!(
        !read.is_finished(),
        "answered before the write it may depend on"
    );
    doorman.permits.add_permits(1);
    assert_eq!(within("add", add).await.unwrap().unwrap(), 1);
    assert_eq!(
        within("read", read).await.unwrap().unwrap().as_deref(),
        Some("first")
    );

    // A kv write is stuck: a kv read waits for it, then sees it.
    let arrived = doorman.arrived.load(Ordering::SeqCst);
    let note = tokio::spawn({
        let tally = tally.clone();
        async move { tally.note("second".into()).await }
    });
    until("the kv write reaches storage", || {
        doorman.arrived.load(Ordering::SeqCst) > arrived
    })
    .await;
    let done = KV_READS_DONE.load(Ordering::SeqCst);
    let read = tokio::spawn({
        let tally = tally.clone();
        async move { tally.noted().await }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        KV_READS_DONE.load(Ordering::SeqCst),
        done,
        "read past a pending kv write"
    );
    doorman.closed.store(false, Ordering::SeqCst);
    doorman.permits.add_permits(1);
    within("note", note).await.unwrap().unwrap();
    assert_eq!(
        within("read", read).await.unwrap().unwrap().as_deref(),
        Some("second")
    );
}
