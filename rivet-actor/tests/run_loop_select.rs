//! A `#[run]` loop waiting on two queues at once with `select!`: the take that loses the
//! race was answered with messages already deleted for it, and they must not vanish. They
//! go back to their queue and are taken again, so every sender hears its completion.

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
