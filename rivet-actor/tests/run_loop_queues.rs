//! What a `#[run]` loop is owed: messages taken for a `next()` that lost a `select!` go
//! back to their queue, in their place (the take was answered with messages already deleted
//! for it), and messages still queued when the process stopped are taken after a restart
//! without any request waking the actor; messages a loop let go are stored again before
//! its actor sleeps.

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

/// Set once every call is queued: the `Orderly` loop starts taking then.
static BACKLOG_SENT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Calls the `Orderly` loop took, in the order it took them.
static TAKEN: std::sync::Mutex<Vec<u32>> = std::sync::Mutex::new(Vec::new());

#[derive(Default, Serialize, Deserialize)]
pub struct Orderly;

#[actor(queues(calls = Call))]
impl Orderly {
    /// A `next()` raced against a yield: the yield wins about half the time the take was
    /// answered meanwhile.
    #[run]
    async fn run(c: RunCtx<Self>) -> Result<(), UserError> {
        // A backlog first, so a message given back has later ones behind it.
        while !BACKLOG_SENT.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let queues = c.queue();
        loop {
            tokio::select! {
                next = queues.next::<Call>() => match next {
                    Some(call) => TAKEN.lock().unwrap().push(call.body.n),
                    None => return Ok(()),
                },
                () = tokio::task::yield_now() => {}
            }
        }
    }
}

#[tokio::test]
async fn messages_given_back_by_a_cancelled_next_keep_their_place_in_the_queue() {
    let registry = Registry::builder()
        .in_memory()
        .register::<Orderly>()
        .build();
    let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let client = Client::new(server.endpoint());
    let orderly = client.get_or_create::<Orderly>("orderly");
    for n in 0..150 {
        orderly.send(Call { n }).await.unwrap();
    }
    BACKLOG_SENT.store(true, Ordering::SeqCst);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while TAKEN.lock().unwrap().len() < 150 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "taken: {:?}",
            TAKEN.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let taken = TAKEN.lock().unwrap().clone();
    assert_eq!(taken, (0..150).collect::<Vec<_>>());
    server.shutdown().await.unwrap();
}

/// Lives of the `Desk` actor (its `on_wake` runs once per life).
static DESK_WAKES: AtomicU32 = AtomicU32::new(0);
/// Set by the test once its call is queued; by the first loop once it let its take go.
static DESK_SENT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
static DESK_DROPPED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

#[derive(Default, Serialize, Deserialize)]
pub struct Desk {
    answered: Vec<u32>,
}

#[actor(queues(calls = Call -> u32))]
impl Desk {
    #[on_wake]
    fn count_life(&mut self) {
        DESK_WAKES.fetch_add(1, Ordering::SeqCst);
    }

    /// In its first life the loop asks for a call, lets the take go once it was surely
    /// answered (the call is in the reply, deleted from the queue) and idles; later lives
    /// answer calls.
    #[run]
    async fn run(c: RunCtx<Self>) -> Result<(), UserError> {
        use futures_util::FutureExt;
        let queues = c.queue();
        if DESK_WAKES.load(Ordering::SeqCst) == 1 {
            let mut next = Box::pin(queues.next::<Call>());
            assert!(
                (&mut next).now_or_never().is_none(),
                "nothing is queued yet"
            );
            while !DESK_SENT.load(Ordering::SeqCst) {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
            drop(next);
            DESK_DROPPED.store(true, Ordering::SeqCst);
            std::future::pending::<()>().await;
        }
        while let Some(call) = queues.next::<Call>().await {
            let n = call.body.n;
            c.turn(move |desk, _| {
                desk.answered.push(n);
                Ok(())
            })
            .await
            .map_err(|err| UserError::new(err.to_string()))?;
            queues.complete(&call, n);
        }
        Ok(())
    }

    #[action]
    fn answered(&self) -> Vec<u32> {
        self.answered.clone()
    }

    #[action]
    fn rest(&self, c: &mut ActionCtx<'_, Self>) {
        c.sleep();
    }
}

#[tokio::test]
async fn a_call_handed_to_a_take_the_loop_let_go_is_stored_again_before_the_actor_sleeps() {
    let registry = Registry::builder().in_memory().register::<Desk>().build();
    let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let client = Client::new(server.endpoint());
    let desk = client.get_or_create::<Desk>("desk");
    assert_eq!(desk.answered().await.unwrap(), Vec::<u32>::new());
    let sender = client.get_or_create::<Desk>("desk");
    let waiting = tokio::spawn(async move {
        sender
            .send_and_wait(Call { n: 7 }, Duration::from_secs(10))
            .await
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    DESK_SENT.store(true, Ordering::SeqCst);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !DESK_DROPPED.load(Ordering::SeqCst) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the loop kept its take"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    desk.rest().await.unwrap();
    // The call goes back to the queue as the actor leaves, not sent after it (which would
    // wake a second life here, with nothing asking for one, and be lost in engine mode).
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        DESK_WAKES.load(Ordering::SeqCst),
        1,
        "a life nobody asked for"
    );
    // The next life answers it, once.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let answered = desk.answered().await.unwrap();
        if !answered.is_empty() {
            assert_eq!(answered, vec![7]);
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the call was not answered"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    match waiting.await.unwrap().unwrap() {
        QueueSendResult::Completed(Some(answer)) => assert_eq!(answer, 7),
        other => panic!("the sender heard {other:?}"),
    }
    server.shutdown().await.unwrap();
}
