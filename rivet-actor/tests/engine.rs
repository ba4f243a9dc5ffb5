//! Engine mode against a real Rivet Engine 2.3.19 (the binary the npm packages ship): our
//! actors hosted as an envoy, reached through the engine's gateway by the npm client (every
//! encoding) and by our typed client; state kept in the engine's KV across a graceful move
//! to another host.

mod common;
#[path = "support/engine.rs"]
mod engine;
#[path = "support/js.rs"]
mod js;
#[path = "support/engine_tally.rs"]
mod tally;

use std::time::Duration;

use common::chat_room::ChatRoom;
use engine::{Engine, retry};
use rivet_actor::engine::{EngineConfig, EngineHost};
use rivet_actor::prelude::*;
use rivet_actor::protocol::Encoding;
use tally::{Scroll, Tally};

/// The pool the npm client places actors in when given only an endpoint (`rvt-runner`).
const POOL: &str = "default";

/// A host of `Tally` and `ChatRoom` on `engine`.
async fn host(engine: &Engine) -> EngineHost {
    let registry = Registry::builder()
        .engine()
        .register::<Tally>()
        .register::<ChatRoom>()
        .register::<Scroll>()
        .build();
    registry
        .serve_engine(EngineConfig::new(engine.endpoint(), "default", POOL))
        .await
        .expect("the engine accepts the host")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn npm_client_through_the_engine() {
    let _turn = engine::serial().await;
    js::install_node_modules();
    let engine = Engine::start().await;
    engine.upsert_pool(POOL).await;
    let host = host(&engine).await;
    let endpoint = engine.endpoint();
    // The first actor the engine places can take a while on two cores.
    let warm_up = Client::new(&endpoint)
        .engine("default", POOL)
        .get_or_create::<Tally>(["warm-up"]);
    retry(
        "the first actor through the engine",
        Duration::from_secs(60),
        || warm_up.add(1),
    )
    .await;
    for &encoding in js::ENGINE_ENCODINGS {
        let endpoint = endpoint.clone();
        let run = tokio::task::spawn_blocking(move || {
            js::run_js("chat_room.test.mjs", &endpoint, encoding, &[])
        })
        .await;
        if let Err(failed) = run {
            eprintln!("engine log:\n{}", engine.log_tail(120));
            std::panic::resume_unwind(failed.into_panic());
        }
    }
    host.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_client_through_the_engine_and_state_moves_with_the_actor() {
    let _turn = engine::serial().await;
    js::install_node_modules();
    let engine = Engine::start().await;
    engine.upsert_pool(POOL).await;
    let first = host(&engine).await;
    let endpoint = engine.endpoint();
    for encoding in [Encoding::Json, Encoding::Cbor, Encoding::Bare] {
        let client = Client::new(&endpoint)
            .engine("default", POOL)
            .encoding(encoding);
        let key = format!("tally-{encoding:?}");
        let tally = client.get_or_create::<Tally>([key.as_str()]);
        let first_add = retry("the first call", Duration::from_secs(60), || tally.add(5)).await;
        assert_eq!(first_add, 5);
        // Over a WebSocket through the engine, in the same encoding.
        let conn = tally.connect().await.unwrap();
        assert_eq!(conn.add(2).await.unwrap(), 7);
        assert_eq!(conn.read().await.unwrap(), (7, 1));
        conn.close().await;
    }
    // Created outright (`POST /actors?namespace=..`, placed in the client's pool).
    let client = Client::new(&endpoint).engine("default", POOL);
    let created = client
        .create::<Tally>(["created"], &Default::default())
        .await;
    let created = created.unwrap();
    let add = retry("the created actor", Duration::from_secs(60), || {
        created.add(3)
    });
    assert_eq!(add.await, 3);
    // A quiet connection through the engine's gateway stays up: the client's liveness ping
    // (after a third of its timeout of silence) is answered there, so it is not given up on.
    let watchful = Client::new(&endpoint)
        .engine("default", POOL)
        .timeout(Duration::from_secs(3));
    let conn = watchful
        .get_or_create::<Tally>(["tally-Json"])
        .connect()
        .await
        .unwrap();
    let before = conn.read().await.unwrap();
    let mut status = conn.status_changes();
    status.borrow_and_update();
    tokio::time::sleep(Duration::from_secs(8)).await;
    assert!(
        !status.has_changed().unwrap(),
        "a quiet connection through the gateway was given up on: {:?}",
        conn.status()
    );
    assert_eq!(conn.read().await.unwrap(), before);
    conn.close().await;
    // kv rows in engine KV: written in turns, read back in both orders, a range deleted.
    let notes = Client::new(&endpoint)
        .engine("default", POOL)
        .get_or_create::<Tally>(["tally-Json"]);
    for n in 1..=6 {
        notes.note(n, format!("n{n}")).await.unwrap();
    }
    notes.forget_before(3).await.unwrap();
    let note = |n: u64| (n, format!("n{n}"));
    assert_eq!(
        notes.notes(2, 5).await.unwrap(),
        (vec![note(6), note(5)], vec![note(5), note(6)])
    );
    // Writes no single engine put can hold commit whole, through the journal: 200 rows in
    // one turn, 9 values of 110 KB in another, a range delete over 150 rows.
    notes.note_many(100, 200, 10).await.unwrap();
    notes.note_many(400, 9, 110_000).await.unwrap();
    notes.forget_between(100, 250).await.unwrap();
    // c.db() pages in engine KV: a small row, then one of 600 KB (150 pages in one turn).
    assert_eq!(notes.db_add(10).await.unwrap(), 1);
    assert_eq!(notes.db_add(600_000).await.unwrap(), 2);
    // c.client() to an actor not hosted yet goes through the engine; a call back into the
    // caller from inside that turn is refused, not hung.
    assert_eq!(notes.poke("poked".into()).await.unwrap(), 1);
    let cycle = tokio::time::timeout(
        Duration::from_secs(20),
        notes.ping_back("ponger".into(), "tally-Json".into()),
    )
    .await
    .expect("the cycle hung");
    assert_eq!(cycle.unwrap(), "refused: call_cycle");
    // A graceful shutdown moves the actors; the next host finds their state in engine KV,
    // and `on_create` does not run again.
    first.shutdown().await;
    let second = host(&engine).await;
    let client = Client::new(&endpoint).engine("default", POOL);
    let tally = client.get_or_create::<Tally>(["tally-Json"]);
    let moved = retry(
        "the actor on the next host",
        Duration::from_secs(60),
        || tally.read(),
    )
    .await;
    assert_eq!(moved, (7, 1));
    assert_eq!(tally.add(1).await.unwrap(), 8);
    assert_eq!(tally.db_count().await.unwrap(), 2);
    let all = tally.notes(10, 0).await.unwrap().1;
    let expected: Vec<u64> = [3, 4, 5, 6]
        .into_iter()
        .chain(250..300)
        .chain(400..409)
        .collect();
    assert_eq!(all.iter().map(|(n, _)| *n).collect::<Vec<_>>(), expected);
    assert!(
        all[all.len() - 9..]
            .iter()
            .all(|(_, text)| text.len() == 110_000)
    );
    second.shutdown().await;
}

/// The RivetKit 2.3.19 actor of `tests/js/engine_actor.mjs`, as our typed client sees it: the
/// same wire name and actions. Never hosted here; it only gives the client its methods.
mod reference {
    use rivet_actor::prelude::*;

    #[derive(Default, Serialize, Deserialize)]
    pub struct JsCounter {
        count: i64,
    }

    #[actor]
    impl JsCounter {
        #[action]
        fn increment(&mut self, amount: i64) -> i64 {
            self.count += amount;
            self.count
        }

        #[action]
        fn get_count(&self) -> i64 {
            self.count
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_client_calls_a_rivetkit_actor_through_the_engine() {
    let _turn = engine::serial().await;
    js::install_node_modules();
    let engine = Engine::start().await;
    engine.upsert_pool("js").await;
    let _js_host = engine::JsHost::start(&engine, "js").await;
    for encoding in [Encoding::Json, Encoding::Cbor, Encoding::Bare] {
        let client = Client::new(engine.endpoint())
            .engine("default", "js")
            .encoding(encoding);
        let key = format!("counter-{encoding:?}");
        let counter = client.get_or_create::<reference::JsCounter>([key.as_str()]);
        let first = retry("the RivetKit actor", Duration::from_secs(60), || {
            counter.increment(5)
        })
        .await;
        assert_eq!(first, 5);
        let conn = counter.connect().await.unwrap();
        assert_eq!(conn.increment(2).await.unwrap(), 7);
        assert_eq!(counter.get_count().await.unwrap(), 7);
        conn.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_cut_off_from_the_engine_writes_nothing_more() {
    let _turn = engine::serial().await;
    js::install_node_modules();
    let mut engine = Engine::start().await;
    engine.upsert_pool(POOL).await;
    let registry = tally::registry();
    let _host = registry
        .serve_engine(EngineConfig::new(engine.endpoint(), "default", POOL))
        .await
        .unwrap();
    let tally = Client::new(engine.endpoint())
        .engine("default", POOL)
        .get_or_create::<Tally>(["fenced"]);
    retry("the first call", Duration::from_secs(60), || tally.add(5)).await;
    // In-process calls reach the actors this host runs.
    let local = registry.get::<Tally>(["fenced"]).await.unwrap();
    assert_eq!(local.add(1).await.unwrap(), 6);

    engine.kill();
    let cut_off = std::time::Instant::now();
    while registry.storage().healthy() {
        assert!(
            cut_off.elapsed() < Duration::from_secs(30),
            "the host never noticed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Its actors stopped here: the call is refused rather than written anywhere.
    assert!(local.add(100).await.is_err());

    // The engine comes back on its data: the actor has what was acknowledged, nothing more.
    let restarted = Engine::start_in(engine.data_dir().to_path_buf()).await;
    let next = host(&restarted).await;
    let tally = Client::new(restarted.endpoint())
        .engine("default", POOL)
        .get_or_create::<Tally>(["fenced"]);
    let read = retry(
        "the actor after the restart",
        Duration::from_secs(60),
        || tally.read(),
    )
    .await;
    assert_eq!(read, (6, 1));
    next.shutdown().await;
}

#[derive(Default, Serialize, Deserialize)]
pub struct Bell {
    rung: u32,
}

#[actor]
impl Bell {
    #[action]
    fn arm(&mut self, c: &mut ActionCtx<'_, Self>, after_ms: u64) -> Result<(), Error> {
        c.schedule()
            .after(Duration::from_millis(after_ms), BellCall::Ring(()))?;
        Ok(())
    }

    #[action]
    fn ring(&mut self) {
        self.rung += 1;
    }

    #[action]
    fn rung(&self) -> u32 {
        self.rung
    }
}

/// A host of [`Bell`]s that lets idle actors sleep after 300 ms.
async fn sleepy_bell_host(engine: &Engine) -> EngineHost {
    let sleepy = rivet_actor::HostConfig {
        idle_timeout: Some(Duration::from_millis(300)),
        ..Default::default()
    };
    Registry::builder()
        .engine()
        .config(sleepy)
        .register::<Bell>()
        .build()
        .serve_engine(EngineConfig::new(engine.endpoint(), "default", POOL))
        .await
        .unwrap()
}

/// Waits (up to 20 s) until the engine has stopped every actor on `host`.
async fn until_all_asleep(host: &EngineHost) {
    let asleep = std::time::Instant::now();
    while host.actors() > 0 {
        assert!(
            asleep.elapsed() < Duration::from_secs(20),
            "the actor never slept"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Arms bell `key` to ring after `delay`, lets it fall asleep on a host of its own and shuts
/// that host down. True when the host was gone before the alarm's time: only then must the
/// alarm wake the bell on another host. (Otherwise the alarm may have woken it on this one,
/// which is right too, but proves nothing.)
async fn sleep_then_leave(engine: &Engine, key: &str, delay: Duration) -> bool {
    let host = sleepy_bell_host(engine).await;
    let bell = Client::new(engine.endpoint())
        .engine("default", POOL)
        .get_or_create::<Bell>([key]);
    // The alarm's time is at least this plus `delay`, whichever attempt of the arm ran.
    let armed_from = std::time::Instant::now();
    let delay_ms = u64::try_from(delay.as_millis()).unwrap();
    retry("arming the bell", Duration::from_secs(60), || {
        bell.arm(delay_ms)
    })
    .await;
    let armed_by = std::time::Instant::now();
    // It sleeps (the engine stops it on this host), then the host leaves. The count covers
    // any bell of an earlier attempt the engine moved here too.
    until_all_asleep(&host).await;
    host.shutdown().await;
    if armed_from.elapsed() < delay {
        return true;
    }
    // Let this attempt's alarm pass first, so it cannot wake its bell on the next host
    // and be taken for the next attempt's.
    tokio::time::sleep_until((armed_by + delay + Duration::from_secs(1)).into()).await;
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_whose_actors_slept_leaves_at_once() {
    let _turn = engine::serial().await;
    js::install_node_modules();
    let engine = Engine::start().await;
    engine.upsert_pool(POOL).await;
    // The envoy's own "stopped" latch is lost when its loop ends before anyone waits on it,
    // which an empty host's graceful shutdown often does: such a shutdown hung until its
    // deadline (30 s) in about one run of three. Several rounds make a miss unlikely.
    for round in 0..4 {
        let host = sleepy_bell_host(&engine).await;
        let bell = Client::new(engine.endpoint())
            .engine("default", POOL)
            .get_or_create::<Bell>([format!("leaving-{round}")]);
        retry("waking the bell", Duration::from_secs(60), || bell.rung()).await;
        until_all_asleep(&host).await;
        tokio::time::timeout(Duration::from_secs(10), host.shutdown())
            .await
            .unwrap_or_else(|_| panic!("round {round}: an empty host's shutdown hung"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schedule_wakes_a_sleeping_actor_on_whichever_host_the_engine_picks() {
    let _turn = engine::serial().await;
    js::install_node_modules();
    let engine = Engine::start().await;
    engine.upsert_pool(POOL).await;
    // A loaded machine can take longer than the alarm's delay to put the first host to
    // sleep and away; such an attempt proves nothing, so the next one waits twice as long.
    let mut delay = Duration::from_secs(4);
    let mut key = 0;
    while !sleep_then_leave(&engine, &format!("bell-{key}"), delay).await {
        assert!(key < 3, "the first host never left before the alarm");
        key += 1;
        delay *= 2;
    }
    // Host B: nobody calls the bell, yet at its time the engine starts it here and the
    // schedule fires.
    let b = Registry::builder()
        .engine()
        .register::<Bell>()
        .build()
        .serve_engine(EngineConfig::new(engine.endpoint(), "default", POOL))
        .await
        .unwrap();
    let woken = std::time::Instant::now();
    while b.actors() == 0 {
        assert!(
            woken.elapsed() < Duration::from_secs(30) + delay,
            "the alarm never woke it; engine log:\n{}",
            engine.log_tail(40)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let bell = Client::new(engine.endpoint())
        .engine("default", POOL)
        .get_or_create::<Bell>([format!("bell-{key}")]);
    let rung = retry(
        "the bell after its alarm",
        Duration::from_secs(30),
        || async {
            match bell.rung().await {
                Ok(1) => Ok(1),
                other => Err(format!("{other:?}")),
            }
        },
    )
    .await;
    assert_eq!(rung, 1);
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_destroyed_actor_is_gone_from_its_host_and_its_key_whoever_destroys_it() {
    let _turn = engine::serial().await;
    js::install_node_modules();
    let engine = Engine::start().await;
    engine.upsert_pool(POOL).await;
    let host = host(&engine).await;
    let client = Client::new(engine.endpoint()).engine("default", POOL);
    let tally = client.get_or_create::<Tally>(["doomed"]);
    retry("the first call", Duration::from_secs(60), || tally.add(3)).await;
    let conn = tally.connect().await.unwrap();
    assert_eq!(conn.read().await.unwrap(), (3, 1));

    let ids = engine.actor_ids("tally").await;
    assert_eq!(ids.len(), 1);
    let deleted = reqwest::Client::new()
        .delete(format!(
            "{}/actors/{}?namespace=default",
            engine.endpoint(),
            ids[0]
        ))
        .send()
        .await
        .unwrap();
    assert!(deleted.status().is_success(), "{}", deleted.status());
    // The host lets it go, and its connection learns the actor is gone.
    let gone = std::time::Instant::now();
    while host.actors() > 0 {
        assert!(
            gone.elapsed() < Duration::from_secs(30),
            "the host kept the actor"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The connection loses the destroyed actor: it fails, or (reconnecting by its key, as
    // our client does) reaches the new actor the key names now — never the old state.
    retry(
        "the connection after the destroy",
        Duration::from_secs(30),
        || async {
            match conn.read().await {
                Ok((3, _)) => Err("still the destroyed actor"),
                _ => Ok(()),
            }
        },
    )
    .await;
    // The key names a new actor now: `on_create` ran for it, nothing of the old one is left.
    let again = client.get_or_create::<Tally>(["doomed"]);
    let fresh = retry("a new actor under the key", Duration::from_secs(60), || {
        again.read()
    })
    .await;
    assert_eq!(fresh, (0, 1));
    // An actor that destroys itself (`c.destroy()`) tells the engine: the key names a new
    // actor again, not a destroyed one still placed on this host.
    retry("a call on the new actor", Duration::from_secs(30), || {
        again.add(5)
    })
    .await;
    again.self_destruct().await.unwrap();
    let fresh = retry(
        "a new actor after c.destroy()",
        Duration::from_secs(60),
        || async {
            match again.read().await {
                Ok((0, created)) => Ok((0, created)),
                Ok(old) => Err(format!("still the self-destroyed actor: {old:?}")),
                Err(err) => Err(format!("{err:?}")),
            }
        },
    )
    .await;
    assert_eq!(fresh, (0, 1));
    host.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_committed_through_its_journal_is_applied_by_the_next_host() {
    let _turn = engine::serial().await;
    js::install_node_modules();
    let engine = Engine::start().await;
    engine.upsert_pool(POOL).await;
    let registry = tally::registry();
    let first = registry
        .serve_engine(EngineConfig::new(engine.endpoint(), "default", POOL))
        .await
        .unwrap();
    let client = Client::new(engine.endpoint()).engine("default", POOL);
    let tally = client.get_or_create::<Tally>(["journaled"]);
    retry("the first call", Duration::from_secs(60), || tally.add(1)).await;
    // The first host stops right after the commit point of a write of 200 rows: its
    // caller hears the outcome is unknown, and this host cannot apply it either.
    registry.__stall_engine_journals(true);
    assert!(tally.note_many(0, 200, 10).await.is_err());
    first.shutdown().await;
    // The next host to wake the actor applies the journal before anything reads the rows.
    let second = host(&engine).await;
    let (_, all) = retry(
        "the actor on the next host",
        Duration::from_secs(60),
        || tally.notes(1, 0),
    )
    .await;
    assert_eq!(
        all.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
        (0..200).collect::<Vec<u64>>()
    );
    assert_eq!(tally.read().await.unwrap(), (1, 1));
    second.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_state_is_stored_in_chunks_and_an_append_writes_what_changed() {
    let _turn = engine::serial().await;
    js::install_node_modules();
    let engine = Engine::start().await;
    engine.upsert_pool(POOL).await;
    let registry = Registry::builder().engine().register::<Scroll>().build();
    let first = registry
        .serve_engine(EngineConfig::new(engine.endpoint(), "default", POOL))
        .await
        .unwrap();
    let client = Client::new(engine.endpoint()).engine("default", POOL);
    let scroll = client.get_or_create::<Scroll>(["long"]);
    retry("the first call", Duration::from_secs(60), || {
        scroll.measure()
    })
    .await;
    for _ in 0..4 {
        scroll.append(10, 60_000).await.unwrap();
    }
    // 2.4 MB of state: written whole, an append would take three puts of 900 KiB and the
    // meta row; in chunks it writes the new chunk rows and the manifest, in one put.
    let before = registry.storage().stats().transactions;
    assert_eq!(scroll.append(1, 60_000).await.unwrap(), 41);
    let puts = registry.storage().stats().transactions - before;
    assert!(puts <= 2, "an append took {puts} puts");
    // The next host reassembles it from the chunk rows.
    first.shutdown().await;
    let second = host(&engine).await;
    let moved = retry(
        "the actor on the next host",
        Duration::from_secs(60),
        || scroll.measure(),
    )
    .await;
    assert_eq!(moved, (41, 41 * 60_000));
    second.shutdown().await;
}
