//! Turns a `#[run]` loop runs on the actor's state (`RunCtx::turn`): committed and durable
//! like an action's, their broadcasts delivered once they are, rolled back when the closure
//! fails; and a turn awaited inside a turn of the same actor refused as a cycle.

use std::time::Duration;

use rivet_actor::ActorHandle;
use rivet_actor::prelude::*;
use rivet_actor::queue::QueueSendResult;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Job {
    size: u64,
}

#[derive(Default, Serialize, Deserialize)]
pub struct Tally {
    done: u32,
    total: u64,
}

#[actor(queues(jobs = Job -> String), events(progress = u64))]
impl Tally {
    #[run]
    async fn run(c: RunCtx<Self>) {
        while let Some(job) = c.queue().next::<Job>().await {
            let size = job.body.size;
            let counted = c
                .turn(move |state, c| {
                    // An empty job counts as 1,000 before it fails: the failure must take
                    // that back, and the broadcast with it.
                    assert!(size != u64::MAX, "a job too large to count");
                    state.total += if size == 0 { 1_000 } else { size };
                    c.broadcast(state.total);
                    if size == 0 {
                        return Err(UserError::new("an empty job").code("empty_job").into());
                    }
                    state.done += 1;
                    Ok(format!("{} jobs, {} in all", state.done, state.total))
                })
                .await;
            let answer = match counted {
                Ok(summary) => summary,
                Err(ClientError::Actor(err)) => err.code,
                Err(other) => format!("unexpected: {other}"),
            };
            c.queue().complete(&job, answer);
        }
    }

    #[action]
    fn totals(&self) -> (u32, u64) {
        (self.done, self.total)
    }

    /// Awaits a turn of its own actor from inside a turn: it could never start.
    #[action]
    async fn nested(&self, c: &mut ActionCtx<'_, Self>) -> String {
        match c.this().turn(|state, _| Ok(state.done)).await {
            Ok(_) => "ran".into(),
            Err(ClientError::Actor(err)) => format!("{}.{}", err.group, err.code),
            Err(other) => format!("unexpected: {other}"),
        }
    }
}

async fn send(tally: &ActorHandle<Tally>, size: u64) -> String {
    match tally
        .send_and_wait(Job { size }, Duration::from_secs(10))
        .await
        .unwrap()
    {
        QueueSendResult::Completed(Some(answer)) => answer,
        other => panic!("job of {size}: {other:?}"),
    }
}

#[tokio::test]
async fn a_run_loop_changes_state_durably_and_broadcasts_through_turns() {
    let dir = std::env::temp_dir().join(format!("rivet-actor-run-turns-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    {
        let registry = Registry::builder()
            .data_dir(&dir)
            .register::<Tally>()
            .build();
        let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let client = Client::new(server.endpoint());
        let tally = client.get_or_create::<Tally>("t");
        let conn = tally.connect().await.unwrap();
        let mut progress = conn.events::<u64>();
        // Subscribed once a call on the connection has been answered after it.
        assert_eq!(conn.totals().await.unwrap(), (0, 0));

        assert_eq!(send(&tally, 5).await, "1 jobs, 5 in all");
        assert_eq!(send(&tally, 0).await, "empty_job");
        // A panicking closure: the loop is told `internal_error`, nothing else leaks.
        assert_eq!(send(&tally, u64::MAX).await, "internal_error");
        assert_eq!(send(&tally, 7).await, "2 jobs, 12 in all");
        assert_eq!(conn.totals().await.unwrap(), (2, 12));
        // The failed turn's broadcast (1,005) never went out: 5 then 12.
        for expected in [5, 12] {
            let event = tokio::time::timeout(Duration::from_secs(5), progress.next())
                .await
                .expect("an event")
                .unwrap()
                .unwrap();
            assert_eq!(event, expected);
        }
        conn.close().await;
        server.shutdown().await.unwrap();
    }
    // What the loop's turns changed was stored.
    let registry = Registry::builder()
        .data_dir(&dir)
        .register::<Tally>()
        .build();
    let tally = registry.get_or_create::<Tally>("t").await.unwrap();
    assert_eq!(tally.totals().await.unwrap(), (2, 12));
    registry.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_turn_awaited_inside_a_turn_of_its_actor_is_a_cycle() {
    let test = ActorTest::<Tally>::new();
    let tally = test.get_or_create("t").await.unwrap();
    let nested = tokio::time::timeout(Duration::from_secs(10), tally.nested()).await;
    assert_eq!(nested.expect("the cycle hung").unwrap(), "actor.call_cycle");
    // And the actor goes on.
    assert_eq!(tally.totals().await.unwrap(), (0, 0));
}
