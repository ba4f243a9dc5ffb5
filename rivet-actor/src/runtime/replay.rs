//! Requests the engine may deliver twice. When a host dies after committing a stateless
//! action but before its answer got out, the engine's gateway sends the same request (same
//! ray id) to the actor's next host. Each applied request's id is committed with the turn
//! that applied it (kv `r/<id>`, with its answer when small), so the replay is answered from
//! the record instead of running the action again: applied once, whatever the failover.
//!
//! Only requests the engine tunnelled carry an id (our own server never sets one). The
//! record is bounded per actor ([`KEPT`]); the index of it is read on the first replayable
//! request after a wake, so an actor that never sees one never reads it.

use std::collections::VecDeque;
use std::sync::Arc;

use crate::runtime::on_demand::{Locked, OnDemand, Vacant};

use crate::actor::Actor;
use crate::error::ActorError;
use crate::runtime::instance::Instance;
use crate::storage::ActorWrite;
use crate::value::{Value, from_cbor, to_cbor};

/// Row prefix of applied request ids.
const PREFIX: &[u8] = b"r/";
/// Applied request ids kept per actor at most (the engine replays within seconds of a
/// failover).
pub(crate) const KEPT: usize = 256;
/// How many of the oldest go at once when the record is full: one cleanup for that many
/// requests, not one per request (a delete is a round trip of its own in engine KV).
const EVICTED_AT_ONCE: usize = 32;
/// Answers up to this size are kept with their id (engine values hold 128 KiB).
const ANSWER_KEPT: usize = 64 * 1024;
/// Marks a row whose answer was too large to keep.
const NO_ANSWER: u8 = 0;
const ANSWER: u8 = 1;

/// The id of a request that may be delivered again (the engine's ray id, or the id of a
/// call made by a turn answering one: `runtime/call_ids.rs`).
pub(crate) type ReplayId = Arc<str>;

#[derive(Default)]
struct State {
    /// Applied ids, oldest first; `None` until read from storage.
    applied: Option<VecDeque<String>>,
    /// The next record's sequence number (rows carry it, so age survives a restart).
    next_seq: u64,
    /// This turn's record, and the ids it pushes out.
    staged: Option<(String, Vec<u8>)>,
    evicted: Vec<String>,
    /// Whether `staged` holds only if the turn writes something else.
    only_if_writes: bool,
}

impl Vacant for State {
    fn is_vacant(&self) -> bool {
        self.applied.is_none()
            && self.next_seq == 0
            && self.staged.is_none()
            && self.evicted.is_empty()
    }
}

/// The turn's part of the replay record (inside the outbox).
#[derive(Default)]
pub(crate) struct TurnReplay {
    state: OnDemand<State>,
}

/// The sequence number a record row carries (0 for a row too short to carry one).
fn seq_of(row: &[u8]) -> u64 {
    row.get(1..9)
        .and_then(|bytes| bytes.try_into().ok())
        .map_or(0, u64::from_be_bytes)
}

fn row_key(id: &str) -> Vec<u8> {
    let mut key = PREFIX.to_vec();
    key.extend_from_slice(id.as_bytes());
    key
}

impl TurnReplay {
    fn lock(&self) -> Locked<'_, State> {
        self.state.lock()
    }

    /// Lets go of the record's part if it holds nothing (the instance parks).
    pub(crate) fn shed(&self) {
        self.state.shed();
    }

    /// Records that this turn applies request `id`, answering `answer`.
    pub(crate) fn record(&self, id: &str, answer: &Value) {
        self.record_as(id, answer, false);
    }

    /// [`record`](Self::record) for a turn that may change nothing (a read-only action): kept
    /// only if the turn writes something else (a queue send or take, a schedule, kv rows),
    /// since running it again would do that again; otherwise it may simply run again.
    pub(crate) fn record_if_writes(&self, id: &str, answer: &Value) {
        self.record_as(id, answer, true);
    }

    fn record_as(&self, id: &str, answer: &Value, only_if_writes: bool) {
        let mut state = self.lock();
        state.only_if_writes = only_if_writes;
        let mut encoded = Vec::new();
        let kept = to_cbor(answer, &mut encoded).is_ok() && encoded.len() <= ANSWER_KEPT;
        let mut row = vec![if kept { ANSWER } else { NO_ANSWER }];
        row.extend_from_slice(&state.next_seq.to_be_bytes());
        if kept {
            row.extend_from_slice(&encoded);
        }
        let applied = state.applied.get_or_insert_with(VecDeque::new);
        let full = applied.len() >= KEPT;
        let evicted: Vec<String> = if full {
            applied.iter().take(EVICTED_AT_ONCE).cloned().collect()
        } else {
            Vec::new()
        };
        state.evicted = evicted;
        state.staged = Some((id.to_owned(), row));
    }

    /// Adds the turn's record to its storage write (staged last: it looks at the rest).
    pub(crate) fn stage(&self, write: &mut ActorWrite) {
        if !self.state.is_made() {
            return;
        }
        let mut state = self.lock();
        if state.only_if_writes && write.is_empty() {
            state.staged = None;
            state.evicted.clear();
            return;
        }
        if let Some((id, row)) = &state.staged {
            write.kv_put.push((row_key(id), row.clone()));
            write
                .kv_delete
                .extend(state.evicted.iter().map(|id| row_key(id)));
        }
    }

    /// The turn committed: its record holds.
    pub(crate) fn committed(&self) {
        if !self.state.is_made() {
            return;
        }
        let mut state = self.lock();
        let evicted = std::mem::take(&mut state.evicted);
        if let Some((id, _)) = state.staged.take() {
            state.next_seq += 1;
            if let Some(applied) = state.applied.as_mut() {
                applied.retain(|kept| !evicted.contains(kept));
                applied.push_back(id);
            }
        }
    }

    /// The turn failed: nothing of it was applied.
    pub(crate) fn abort(&self) {
        if !self.state.is_made() {
            return;
        }
        let mut state = self.lock();
        state.staged = None;
        state.evicted.clear();
    }
}

impl<A: Actor> Instance<A> {
    /// The answer of request `id` if this actor applied it already: `Some(Ok(answer))`, or
    /// `Some(Err(..))` when the answer was too large to keep.
    pub(crate) async fn replayed(&mut self, id: &str) -> Option<Result<Value, ActorError>> {
        if self.env.outbox.replay.lock().applied.is_none() {
            let rows = match self.kv_rows(PREFIX).await {
                Ok(rows) => rows,
                Err(err) => return Some(Err(err)),
            };
            // Oldest first, by the sequence number each row carries.
            let mut ids: Vec<(u64, String)> = rows
                .iter()
                .map(|(key, row)| {
                    let id = String::from_utf8_lossy(&key[PREFIX.len()..]).into_owned();
                    (seq_of(row), id)
                })
                .collect();
            ids.sort();
            let mut state = self.env.outbox.replay.lock();
            state.next_seq = ids.last().map_or(0, |(seq, _)| seq + 1);
            state.applied = Some(ids.into_iter().map(|(_, id)| id).collect());
        }
        let known = self
            .env
            .outbox
            .replay
            .lock()
            .applied
            .as_ref()
            .is_some_and(|applied| applied.iter().any(|kept| kept == id));
        if !known {
            return None;
        }
        // Known as soon as its turn handed the record to the gate: read it once it is
        // written, or a second delivery while the first one's write is in flight would find
        // nothing and run the request again.
        if let Err(err) = self.gate.durable().await {
            return Some(Err(err));
        }
        let row = match self
            .host
            .storage
            .kv_get(&self.env.meta.id, &row_key(id))
            .await
        {
            Ok(Some(row)) => row,
            Ok(None) => return None,
            Err(err) => return Some(Err(self.storage_failed(err))),
        };
        tracing::info!(actor = A::NAME, id = %self.env.meta.id, request = id, "answered a replayed request from its record");
        Some(match row.split_first() {
            Some((&ANSWER, rest)) if rest.len() >= 8 => {
                from_cbor(&rest[8..]).map_err(|_| ActorError::internal())
            }
            _ => Err(ActorError::replayed()),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use tower::ServiceExt;

    use crate::prelude::*;
    use crate::server::request::ReplayId;

    #[derive(Default, Serialize, Deserialize)]
    pub struct Till {
        total: i64,
    }

    #[actor(queues(coins = i64))]
    impl Till {
        #[action]
        fn add(&mut self, by: i64) -> i64 {
            self.total += by;
            self.total
        }

        #[action]
        fn total(&self) -> i64 {
            self.total
        }

        /// Read-only, but it writes: a coin to its own queue.
        #[action]
        fn tip(&self, c: &mut ActionCtx<'_, Self>) -> Result<u64, Error> {
            c.queue().send(1i64)
        }
    }

    /// Sends `body` to `path` of actor `id` through the server's router, as the engine's
    /// front end hands it over: with the request's replay id.
    async fn send(registry: &Registry, id: &str, path: &str, body: &str, ray: &str) -> String {
        let mut request = http::Request::builder()
            .method("POST")
            .uri(format!("/gateway/{id}{path}"))
            .header("x-rivet-encoding", "json")
            .body(axum::body::Body::from(body.to_owned()))
            .unwrap();
        request.extensions_mut().insert(ReplayId(Arc::from(ray)));
        let response = crate::server::router::router(registry.clone())
            .oneshot(request)
            .await
            .unwrap();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn a_replayed_request_is_answered_from_its_record_and_applied_once() {
        let registry = Registry::builder().in_memory().register::<Till>().build();
        let till = registry.get_or_create::<Till>("t").await.unwrap();
        let id = till.id().as_str().to_owned();
        let add = r#"{"args":[5]}"#;
        assert_eq!(
            send(&registry, &id, "/action/add", add, "ray-1").await,
            r#"{"output":5}"#
        );
        // The same request again: the recorded answer, nothing applied.
        assert_eq!(
            send(&registry, &id, "/action/add", add, "ray-1").await,
            r#"{"output":5}"#
        );
        assert_eq!(till.total().await.unwrap(), 5);
        // Another request applies.
        assert_eq!(
            send(&registry, &id, "/action/add", add, "ray-2").await,
            r#"{"output":10}"#
        );
        // Queue sends: one message for two deliveries.
        let coin = r#"{"body":1}"#;
        let messages = async || {
            let rows = registry.storage().kv_scan_prefix(&id, b"q/").await.unwrap();
            rows.len()
        };
        send(&registry, &id, "/queue/coins", coin, "ray-3").await;
        send(&registry, &id, "/queue/coins", coin, "ray-3").await;
        assert_eq!(messages().await, 1);
        send(&registry, &id, "/queue/coins", coin, "ray-4").await;
        assert_eq!(messages().await, 2);
    }

    /// Set: the next `Teller::forward` fails after its calls, as a turn cut off by its
    /// host dying before it commits.
    static CUT_OFF_AFTER_CALLS: std::sync::atomic::AtomicBool =
        std::sync::atomic::AtomicBool::new(false);

    #[derive(Default, Serialize, Deserialize)]
    pub struct Teller {
        forwarded: i64,
    }

    #[actor]
    impl Teller {
        /// Adds `by` to till `t` and drops a coin in it, then counts what it forwarded.
        #[action]
        async fn forward(&mut self, c: &mut ActionCtx<'_, Self>, by: i64) -> Result<i64, Error> {
            let till = c.client().get_or_create::<Till>("t").await?;
            let total = till.add(by).await?;
            till.send(1i64).await?;
            if CUT_OFF_AFTER_CALLS.swap(false, std::sync::atomic::Ordering::SeqCst) {
                return Err(UserError::new("cut off").into());
            }
            self.forwarded += by;
            Ok(total)
        }

        /// Adds `by` to till `t`, then panics.
        #[action]
        async fn forward_and_panic(&mut self, c: &mut ActionCtx<'_, Self>, by: i64) {
            let till = c.client().get_or_create::<Till>("t").await.unwrap();
            till.add(by).await.unwrap();
            panic!("the turn panics after its call");
        }
    }

    #[tokio::test]
    async fn a_turn_run_again_for_a_replayed_request_applies_its_calls_once() {
        let registry = Registry::builder()
            .in_memory()
            .register::<Till>()
            .register::<Teller>()
            .build();
        let teller = registry.get_or_create::<Teller>("t").await.unwrap();
        let teller_id = teller.id().as_str().to_owned();
        let forward = r#"{"args":[5]}"#;
        // The turn makes its calls, then is cut off: nothing of it commits, its request
        // is delivered again (same id) and the turn runs again.
        CUT_OFF_AFTER_CALLS.store(true, std::sync::atomic::Ordering::SeqCst);
        let failed = send(&registry, &teller_id, "/action/forward", forward, "ray-9").await;
        assert!(failed.contains("cut off"), "{failed}");
        let again = send(&registry, &teller_id, "/action/forward", forward, "ray-9").await;
        // The till answers the calls made again from its record: 5 added once, one coin.
        assert_eq!(again, r#"{"output":5}"#);
        let till = registry.get_or_create::<Till>("t").await.unwrap();
        assert_eq!(till.total().await.unwrap(), 5);
        let coins = registry
            .storage()
            .kv_scan_prefix(till.id().as_str(), b"q/")
            .await
            .unwrap();
        assert_eq!(coins.len(), 1);
        // Another request's calls apply.
        let other = send(&registry, &teller_id, "/action/forward", forward, "ray-10").await;
        assert_eq!(other, r#"{"output":10}"#);
        // Calls of a turn the engine will not run again carry no id: nothing recorded.
        let rows = registry
            .storage()
            .kv_scan_prefix(till.id().as_str(), super::PREFIX)
            .await
            .unwrap()
            .len();
        assert_eq!(teller.forward(1).await.unwrap(), 11);
        let records = async || {
            let rows = registry
                .storage()
                .kv_scan_prefix(till.id().as_str(), super::PREFIX);
            rows.await.unwrap().len()
        };
        assert_eq!(records().await, rows);
        // Nor after a turn with an id panicked: its ids do not outlive it.
        let panicked = send(
            &registry,
            &teller_id,
            "/action/forwardAndPanic",
            forward,
            "ray-11",
        )
        .await;
        assert!(panicked.contains("internal_error"), "{panicked}");
        assert_eq!(records().await, rows + 1);
        // A call from a connection's turn (which sets no request of its own).
        let conn = teller.connect().await.unwrap();
        assert_eq!(conn.forward(1).await.unwrap(), 17);
        assert_eq!(records().await, rows + 1);
    }

    #[tokio::test]
    async fn a_read_only_action_is_recorded_only_when_it_writes() {
        let registry = Registry::builder().in_memory().register::<Till>().build();
        let till = registry.get_or_create::<Till>("t").await.unwrap();
        let id = till.id().as_str().to_owned();
        let rows = async |prefix: &[u8]| {
            registry
                .storage()
                .kv_scan_prefix(&id, prefix)
                .await
                .unwrap()
                .len()
        };
        // Writes nothing: no record, it may run again.
        send(&registry, &id, "/action/total", r#"{"args":[]}"#, "ray-r").await;
        assert_eq!(rows(super::PREFIX).await, 0);
        // Sends a message: recorded with it, so a replay sends nothing more.
        let first = send(&registry, &id, "/action/tip", r#"{"args":[]}"#, "ray-t").await;
        let again = send(&registry, &id, "/action/tip", r#"{"args":[]}"#, "ray-t").await;
        assert_eq!(first, again);
        assert_eq!(rows(b"q/").await, 1);
        assert_eq!(rows(super::PREFIX).await, 1);
    }

    #[tokio::test]
    async fn a_request_delivered_again_while_its_write_is_in_flight_applies_once() {
        let dir =
            std::env::temp_dir().join(format!("rivet-actor-replay-flight-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let registry = Registry::builder()
            .data_dir(&dir)
            .register::<Till>()
            .build();
        let till = registry.get_or_create::<Till>("t").await.unwrap();
        let id = till.id().as_str().to_owned();
        let add = r#"{"args":[5]}"#;
        for round in 1..=20 {
            // Both in the mailbox at once: the second turn runs while the first one's write
            // is still being made durable.
            let ray = format!("ray-{round}");
            let (first, second) = tokio::join!(
                send(&registry, &id, "/action/add", add, &ray),
                send(&registry, &id, "/action/add", add, &ray),
            );
            let expected = format!(r#"{{"output":{}}}"#, 5 * round);
            assert_eq!((first, second), (expected.clone(), expected));
        }
        assert_eq!(till.total().await.unwrap(), 100);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn the_record_survives_a_restart_and_stays_bounded() {
        let dir = std::env::temp_dir().join(format!("rivet-actor-replay-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let add = r#"{"args":[1]}"#;
        let open = || {
            Registry::builder()
                .data_dir(&dir)
                .register::<Till>()
                .build()
        };
        let kept = async |registry: &Registry, id: &str| -> Vec<String> {
            let rows = registry
                .storage()
                .kv_scan_prefix(id, super::PREFIX)
                .await
                .unwrap();
            rows.iter()
                .map(|(key, _)| String::from_utf8_lossy(&key[super::PREFIX.len()..]).into_owned())
                .collect()
        };
        // A full record: KEPT applied requests.
        let id = {
            let registry = open();
            let till = registry.get_or_create::<Till>("t").await.unwrap();
            let id = till.id().as_str().to_owned();
            for n in 0..super::KEPT {
                send(&registry, &id, "/action/add", add, &format!("ray-{n}")).await;
            }
            id
        };
        // After a restart a replay is answered from the record, applying nothing.
        let registry = open();
        let last = format!("ray-{}", super::KEPT - 1);
        let replayed = send(&registry, &id, "/action/add", add, &last).await;
        assert_eq!(replayed, format!(r#"{{"output":{}}}"#, super::KEPT));
        assert_eq!(kept(&registry, &id).await.len(), super::KEPT);
        // One more request: the oldest go, by age (as written before the restart), not by
        // key order ("ray-100" sorts before "ray-11").
        send(&registry, &id, "/action/add", add, "new").await;
        let kept = kept(&registry, &id).await;
        assert!(kept.len() <= super::KEPT, "{} rows kept", kept.len());
        let oldest_kept = super::EVICTED_AT_ONCE;
        assert!(
            !kept.contains(&format!("ray-{}", oldest_kept - 1)),
            "the oldest go first"
        );
        for still in [
            format!("ray-{oldest_kept}"),
            "ray-100".into(),
            last,
            "new".into(),
        ] {
            assert!(kept.contains(&still), "{still} was dropped");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
