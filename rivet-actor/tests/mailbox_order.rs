//! An in-process connection's commands reach its actor in the order they were given, even
//! when the actor is busy and its mailbox full: a subscription made then still goes out
//! before the calls made after it, so none of their events is missed. A call that waits
//! for room and is given up on is never sent.

use std::time::Duration;

use rivet_actor::prelude::*;
use tokio::sync::Notify;

/// Told when the held turn has begun.
static HELD: Notify = Notify::const_new();
/// Lets the held turn end.
static RELEASE: Notify = Notify::const_new();

#[derive(Default, Serialize, Deserialize)]
pub struct Bell {
    rings: u32,
}

#[actor(events(rang = u32))]
impl Bell {
    /// Keeps the actor busy until the test releases it.
    #[action]
    async fn hold(&self) {
        HELD.notify_one();
        RELEASE.notified().await;
    }

    #[action]
    fn ring(&mut self, c: &mut ActionCtx<'_, Self>) -> u32 {
        self.rings += 1;
        c.broadcast(self.rings);
        self.rings
    }
}

type Answer<T> = tokio::task::JoinHandle<Result<T, ClientError>>;

/// Makes actor "busy" busy and its mailbox (room for one) full: one turn holds it (until
/// [`RELEASE`]), one more call waits in the mailbox. Their answers, to await.
async fn busy_and_full(registry: &Registry) -> (Answer<()>, Answer<u32>) {
    let holder = registry.get_or_create::<Bell>(["busy"]).await.unwrap();
    let held = tokio::spawn(async move { holder.hold().await });
    tokio::time::timeout(Duration::from_secs(10), HELD.notified())
        .await
        .expect("the holding turn never began");
    let filler = registry.get_or_create::<Bell>(["busy"]).await.unwrap();
    let filled = tokio::spawn(async move { filler.ring().await });
    // The filler's call goes into the mailbox as its task first runs (one thread: yielding
    // gives it the turn).
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
    (held, filled)
}

#[tokio::test]
async fn a_subscription_made_while_the_mailbox_is_full_goes_out_before_later_calls() {
    let config = rivet_actor::HostConfig {
        mailbox: 1,
        ..Default::default()
    };
    let registry = Registry::builder()
        .in_memory()
        .config(config)
        .register::<Bell>()
        .build();
    let bell = registry.get_or_create::<Bell>(["busy"]).await.unwrap();
    let conn = bell.connect().await.unwrap();
    let (held, filled) = busy_and_full(&registry).await;
    assert!(!held.is_finished() && !filled.is_finished());

    // Subscribed while the mailbox is full; the next call must not overtake it.
    let mut rang = conn.events::<u32>();
    let release = async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        RELEASE.notify_one();
    };
    let (after, ()) = tokio::join!(conn.ring(), release);
    assert_eq!(after.unwrap(), 2);
    held.await.unwrap().unwrap();
    assert_eq!(filled.await.unwrap().unwrap(), 1);
    let heard = tokio::time::timeout(Duration::from_secs(5), rang.next())
        .await
        .expect("the event of the call made after subscribing was missed");
    assert_eq!(heard.unwrap().unwrap(), 2);

    // Busy and full again: a call given up on while it waits for room never runs.
    let (held, filled) = busy_and_full(&registry).await;
    let given_up = tokio::time::timeout(Duration::from_millis(50), conn.ring()).await;
    assert!(given_up.is_err(), "the call did not wait for room");
    RELEASE.notify_one();
    held.await.unwrap().unwrap();
    assert_eq!(filled.await.unwrap().unwrap(), 3);
    assert_eq!(conn.ring().await.unwrap(), 4);
}
