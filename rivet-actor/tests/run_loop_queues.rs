//! What a `#[run]` loop is owed: messages taken for a `next()` that lost a `select!` go
//! back to their queue (the take was answered with messages already deleted for it), and
//! messages still queued when the process stopped are taken after a restart without any
//! request waking the actor.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use rivet_actor::prelude::*;
use rivet_actor::queue::QueueSendResult;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Call {
    n: u32,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Text {
    n: u32,
}

#[derive(Default, Serialize, Deserialize)]
pub struct Switchboard;

#[actor(queues(calls = Call -> u32, texts = Text -> u32))]
impl Switchboard {
    #[run]
    async fn run(c: RunCtx<Self>) -> Result<(), UserError> {
        let queues = c.queue();
        loop {
            tokio::select! {
                Some(call) = queues.next::<Call>() => {
                    let n = call.body.n;
                    queues.complete(&call, n);
                }
                Some(text) = queues.next::<Text>() => {
                    let n = text.body.n;
                    queues.complete(&text, n);
                }
                else => return Ok(()),
            }
        }
    }
}

#[tokio::test]
async fn messages_taken_for_the_losing_branch_of_a_select_are_not_lost() {
    let registry = Registry::builder()
        .in_memory()
        .register::<Switchboard>()
        .build();
    let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let client = Client::new(server.endpoint());
    // Senders on both queues at once, so both of the loop's takes find messages.
    let wait = Duration::from_secs(5);
    let sends = (0..60u32).map(|n| {
        let board = client.get_or_create::<Switchboard>("board");
        async move {
            let outcome = if n % 2 == 0 {
                board.send_and_wait(Call { n }, wait).await
            } else {
                board.send_and_wait(Text { n }, wait).await
            };
            (n, outcome)
        }
    });
    for (n, outcome) in futures_util::future::join_all(sends).await {
        match outcome.unwrap() {
            QueueSendResult::Completed(Some(answer)) => assert_eq!(answer, n),
            other => panic!("message {n}: {other:?}"),
        }
    }
    server.shutdown().await.unwrap();
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Letter {
    /// Keep it unread, and the loop with it, until the process stops.
    hold: bool,
}

/// Letters the `Inbox` loops read.
static READ: AtomicU32 = AtomicU32::new(0);

#[derive(Default, Serialize, Deserialize)]
pub struct Inbox;

#[actor(queues(letters = Letter))]
impl Inbox {
    #[run]
    async fn run(c: RunCtx<Self>) -> Result<(), UserError> {
        while let Some(letter) = c.queue().next::<Letter>().await {
            if letter.body.hold {
                std::future::pending::<()>().await;
            }
            READ.fetch_add(1, Ordering::SeqCst);
        }
        Ok(())
    }
}

#[tokio::test]
async fn messages_queued_when_the_process_stopped_are_taken_after_a_restart() {
    let dir = std::env::temp_dir().join(format!("rivet-actor-run-loop-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    {
        let registry = Registry::builder()
            .data_dir(&dir)
            .register::<Inbox>()
            .build();
        let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let inbox = Client::new(server.endpoint()).get_or_create::<Inbox>("mail");
        // The loop takes the first letter and holds it; the rest wait in the queue.
        inbox.send(Letter { hold: true }).await.unwrap();
        for _ in 0..3 {
            inbox.send(Letter { hold: false }).await.unwrap();
        }
        server.shutdown().await.unwrap();
    }
    assert_eq!(READ.load(Ordering::SeqCst), 0);
    // A new process on the same data: no request comes, the loop still reads the letters.
    let _registry = Registry::builder()
        .data_dir(&dir)
        .register::<Inbox>()
        .build();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while READ.load(Ordering::SeqCst) < 3 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the queued letters were not read"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = std::fs::remove_dir_all(&dir);
}
