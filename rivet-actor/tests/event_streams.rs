//! An event stream nobody reads holds at most `EVENT_STREAM_CAPACITY` events, in the
//! in-process client and in the network client alike: past that it drops the newest and
//! says how many where they were lost (`ClientError::Lagged`), and the connection goes on.
//! Dropping the last stream of an event unsubscribes the connection from it.

use std::sync::atomic::{AtomicU64, Ordering};

use rivet_actor::client::EVENT_STREAM_CAPACITY;
use rivet_actor::prelude::*;

#[derive(Default, Serialize, Deserialize)]
pub struct Ticker {
    ticks: u64,
}

#[actor(events(tick = u64))]
impl Ticker {
    /// Broadcasts the next `n` ticks in one turn.
    #[action]
    fn burst(&mut self, c: &mut ActionCtx<'_, Self>, n: u64) -> u64 {
        for _ in 0..n {
            self.ticks += 1;
            c.broadcast(self.ticks);
        }
        self.ticks
    }
}

/// What a reader that fell behind sees: the first `EVENT_STREAM_CAPACITY` ticks, then how
/// many were lost (at once, without waiting for a later event), then the ticks after the gap.
async fn check_lag(
    ticks: &mut rivet_actor::EventStream<u64>,
    burst_again: impl std::future::Future<Output = Result<u64, ClientError>>,
    sent: u64,
) {
    let capacity = EVENT_STREAM_CAPACITY as u64;
    for expected in 1..=capacity {
        assert_eq!(ticks.next().await.unwrap().unwrap(), expected);
    }
    let dropped = match ticks.next().await.unwrap() {
        Err(ClientError::Lagged(dropped)) => dropped,
        other => panic!("expected a lag after {capacity} events, got {other:?}"),
    };
    assert!(dropped >= 1 && capacity + dropped <= sent, "{dropped}");
    // The stream goes on after the gap, in order, and so do calls: the ticks sent after the
    // reader caught up arrive whole.
    let mut expected = capacity + dropped + 1;
    let last = burst_again.await.unwrap();
    while expected <= last {
        assert_eq!(ticks.next().await.unwrap().unwrap(), expected);
        expected += 1;
    }
}

#[tokio::test]
async fn an_unread_in_process_stream_is_bounded_and_reports_what_it_dropped() {
    let test = ActorTest::<Ticker>::new();
    let ticker = test.get_or_create("local").await.unwrap();
    let conn = ticker.connect().await.unwrap();
    let mut ticks = conn.events::<u64>();
    let sent = 3 * EVENT_STREAM_CAPACITY as u64;
    assert_eq!(conn.burst(sent).await.unwrap(), sent);
    // Give the connection time to hand every tick over before anything is read.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    check_lag(&mut ticks, conn.burst(5), sent).await;
}

#[tokio::test]
async fn an_unread_network_stream_is_bounded_and_reports_what_it_dropped() {
    let registry = Registry::builder().in_memory().register::<Ticker>().build();
    let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let client = Client::new(server.endpoint());
    let conn = client
        .get_or_create::<Ticker>("net")
        .connect()
        .await
        .unwrap();
    let mut ticks = conn.events::<u64>();
    // The subscription is sent before the next call on the same socket.
    let sent = 3 * EVENT_STREAM_CAPACITY as u64;
    assert_eq!(conn.burst(sent).await.unwrap(), sent);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    check_lag(&mut ticks, conn.burst(5), sent).await;
    conn.close().await;
    server.shutdown().await.unwrap();
}

/// Subscriptions `Watched` allowed, by actor key (`in-process`, `network`).
static SUBSCRIBED: [AtomicU64; 2] = [AtomicU64::new(0), AtomicU64::new(0)];

fn subscribed(key: &str) -> &'static AtomicU64 {
    &SUBSCRIBED[usize::from(key == "network")]
}

/// Counts the subscriptions it is asked for.
#[derive(Default, Serialize, Deserialize)]
pub struct Watched;

#[actor(events(tick = u64))]
impl Watched {
    #[can_subscribe(tick)]
    fn count(&self, c: &ConnCtx<'_, Self>) -> bool {
        subscribed(&c.key()[0]).fetch_add(1, Ordering::SeqCst);
        true
    }

    /// Subscriptions counted so far (handled in order with the connection's calls).
    #[action]
    fn subscriptions(&self, c: &mut ActionCtx<'_, Self>) -> u64 {
        subscribed(&c.key()[0]).load(Ordering::SeqCst)
    }

    #[action]
    fn tick(&self, c: &mut ActionCtx<'_, Self>, n: u64) {
        c.broadcast(n);
    }
}

/// Two streams, then both dropped one after the other, then a new one: the connection
/// subscribes once for the first two (a second stream needs no new subscription) and again
/// for the third, which it would not if the dropped ones were still listed.
macro_rules! check_resubscribe {
    ($conn:expr) => {{
        let conn = $conn;
        let first = conn.events::<u64>();
        let second = conn.events::<u64>();
        assert_eq!(conn.subscriptions().await.unwrap(), 1);
        drop(first);
        assert_eq!(conn.subscriptions().await.unwrap(), 1);
        drop(second);
        // A call in between: the unsubscription goes out before it (a connection tells the
        // server what changed in its place among the calls; changes with no call between
        // them may come to nothing, as an unsubscribe followed by a subscribe would).
        conn.subscriptions().await.unwrap();
        let mut third = conn.events::<u64>();
        assert_eq!(conn.subscriptions().await.unwrap(), 2);
        // The unsubscription went out before the new subscription, not after it.
        conn.tick(7).await.unwrap();
        assert_eq!(third.next().await.unwrap().unwrap(), 7);
        conn
    }};
}

#[tokio::test]
async fn dropping_the_last_in_process_stream_unsubscribes() {
    let test = ActorTest::<Watched>::new();
    let watched = test.get_or_create("in-process").await.unwrap();
    check_resubscribe!(watched.connect().await.unwrap());
}

#[tokio::test]
async fn dropping_the_last_network_stream_unsubscribes() {
    let registry = Registry::builder()
        .in_memory()
        .register::<Watched>()
        .build();
    let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let client = Client::new(server.endpoint());
    let watched = client.get_or_create::<Watched>("network");
    let conn = check_resubscribe!(watched.connect().await.unwrap());
    conn.close().await;
    server.shutdown().await.unwrap();
}
