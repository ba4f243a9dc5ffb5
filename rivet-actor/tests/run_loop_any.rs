//! A `#[run]` loop taking from several queues at once: `next_any` in arrival order across
//! queues, `next_of` from the named queues only (the others stay queued), a message opened
//! as another queue's type answered `queue.invalid_message`, and one dropped unopened
//! answered `queue.consumer_stopped` at once.

use std::time::Duration;

use rivet_actor::ActorHandle;
use rivet_actor::prelude::*;
use rivet_actor::queue::QueueSendResult;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Urgent {
    n: u32,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Routine {
    n: u32,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Later {
    n: u32,
}

/// Records what its loop took, in order; `triage` picks the loop's way of taking.
#[derive(Default, Serialize, Deserialize)]
pub struct Desk {
    seen: Vec<String>,
}

#[actor(queues(urgent = Urgent -> u32, routine = Routine -> u32, later = Later))]
impl Desk {
    #[run]
    async fn run(c: RunCtx<Self>) {
        let queues = c.queue();
        // The desk keyed "triage" leaves `later` queued; "dropper" drops every message
        // unopened; the others take everything.
        let triage = c.key()[0] == "triage";
        let dropper = c.key()[0] == "dropper";
        loop {
            let message = match triage {
                true => {
                    queues
                        .next_of(&[DeskQueue::Urgent, DeskQueue::Routine])
                        .await
                }
                false => queues.next_any().await,
            };
            let Some(message) = message else { return };
            if dropper {
                drop(message);
                continue;
            }
            let seen = match message.queue() {
                DeskQueue::Urgent => {
                    let Some(urgent) = queues.open::<Urgent>(message) else {
                        continue;
                    };
                    queues.complete(&urgent, urgent.body.n);
                    format!("urgent {}", urgent.body.n)
                }
                // At the triage desk a routine message is opened as the wrong type, on
                // purpose.
                DeskQueue::Routine if triage => {
                    let _ = queues.open::<Urgent>(message);
                    continue;
                }
                DeskQueue::Routine => {
                    let Some(routine) = queues.open::<Routine>(message) else {
                        continue;
                    };
                    queues.complete(&routine, routine.body.n);
                    format!("routine {}", routine.body.n)
                }
                DeskQueue::Later => {
                    let Some(later) = queues.open::<Later>(message) else {
                        continue;
                    };
                    format!("later {}", later.body.n)
                }
            };
            let recorded = c.turn(move |state, _| {
                state.seen.push(seen);
                Ok(())
            });
            let _ = recorded.await;
        }
    }

    /// Queues one message of each queue, in one turn: all of them wait before the loop
    /// can take the first.
    #[action]
    fn mixed(&self, c: &ActionCtx<'_, Self>) -> Result<(), Error> {
        c.queue().send(Later { n: 1 })?;
        c.queue().send(Routine { n: 2 })?;
        c.queue().send(Urgent { n: 3 })?;
        c.queue().send(Later { n: 4 })?;
        Ok(())
    }

    #[action]
    fn seen(&self) -> Vec<String> {
        self.seen.clone()
    }

    #[action]
    fn waiting(&self, c: &ActionCtx<'_, Self>) -> usize {
        c.queue().waiting::<Later>()
    }
}

const WAIT: Duration = Duration::from_secs(5);

async fn seen_after(desk: &ActorHandle<Desk>, count: usize) -> Vec<String> {
    for _ in 0..500 {
        let seen = desk.seen().await.unwrap();
        if seen.len() >= count {
            return seen;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the loop did not see {count} messages");
}

async fn serve() -> (rivet_actor::server::Server, Client) {
    let registry = Registry::builder().in_memory().register::<Desk>().build();
    let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let client = Client::new(server.endpoint());
    (server, client)
}

#[tokio::test]
async fn next_any_takes_every_queue_in_arrival_order() {
    let (server, client) = serve().await;
    let desk = client.get_or_create::<Desk>("all");
    // Sent together, so the loop finds all four waiting: it takes them as they arrived,
    // not queue by queue (the declared order is urgent, routine, later).
    desk.mixed().await.unwrap();
    assert_eq!(
        seen_after(&desk, 4).await,
        ["later 1", "routine 2", "urgent 3", "later 4"]
    );
    // And one sent on its own, waited for.
    assert_eq!(
        desk.send_and_wait(Urgent { n: 5 }, WAIT).await.unwrap(),
        QueueSendResult::Completed(Some(5))
    );
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn next_of_leaves_other_queues_alone_and_a_mistyped_open_answers_the_sender() {
    let (server, client) = serve().await;
    let desk = client.get_or_create::<Desk>("triage");
    desk.send(Later { n: 1 }).await.unwrap();
    assert_eq!(
        desk.send_and_wait(Urgent { n: 2 }, WAIT).await.unwrap(),
        QueueSendResult::Completed(Some(2))
    );
    // Opened as `Urgent`: its sender hears why at once, rather than wait for nothing.
    let err = desk
        .send_and_wait(Routine { n: 99 }, WAIT)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("invalid_message"), "{err:?}");
    assert_eq!(seen_after(&desk, 1).await, ["urgent 2"]);
    assert_eq!(desk.waiting().await.unwrap(), 1);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_message_dropped_unopened_answers_its_sender_at_once() {
    let (server, client) = serve().await;
    let desk = client.get_or_create::<Desk>("dropper");
    // Within the wait: the sender is not left to time out.
    let err = desk
        .send_and_wait(Urgent { n: 1 }, Duration::from_secs(30))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("consumer_stopped"), "{err:?}");
    server.shutdown().await.unwrap();
}
