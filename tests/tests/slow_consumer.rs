//! A subscriber that stops reading while the actor broadcasts tens of MB: it is cut off
//! (bounded outgoing bytes, then the write timeout), while the actor and a subscriber that
//! reads are not held up.

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use rivet_actor::prelude::*;
use rivet_actor::server::ServerConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

#[derive(Default, Serialize, Deserialize)]
pub struct Tower {
    shouts: u32,
}

#[actor(events(shout = String))]
impl Tower {
    /// Broadcasts `count` events of `size` bytes in one turn.
    #[action]
    fn shout(&self, c: &mut ActionCtx<'_, Self>, size: usize, count: usize) -> usize {
        let text = "x".repeat(size);
        for _ in 0..count {
            c.broadcast(text.clone());
        }
        count
    }

    #[action]
    fn ping(&self) -> String {
        "pong".into()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_that_stops_reading_is_cut_off_and_holds_up_no_one() {
    let registry = Registry::builder()
        .in_memory()
        .server_config(ServerConfig {
            max_outgoing_bytes: 2 * 1024 * 1024,
            write_timeout: Duration::from_secs(1),
            ..Default::default()
        })
        .register::<Tower>()
        .build();
    let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();

    // The stalled subscriber: subscribes over a raw socket, then never reads again.
    let url = format!(
        "ws://{}/gateway/tower/connect?rvt-method=getOrCreate&rvt-key=t&rvt-runner=default",
        server.local_addr()
    );
    let mut request = url.into_client_request().unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "rivet, rivet_encoding.json".parse().unwrap(),
    );
    let (mut stalled, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let _init = stalled.next().await.unwrap().unwrap();
    let subscribe =
        r#"{"body":{"tag":"SubscriptionRequest","val":{"eventName":"shout","subscribe":true}}}"#;
    stalled.send(Message::text(subscribe)).await.unwrap();

    // A subscriber that reads.
    let client = Client::new(server.endpoint());
    let tower = client.get_or_create::<Tower>(["t"]);
    let reader = tower.connect().await.unwrap();
    let mut heard = reader.events::<String>();
    // Make sure the stalled subscription is in before the broadcast.
    tower.ping().await.unwrap();
    reader.ping().await.unwrap();

    // 40 MB of events: 400 turns of 100 KB each, never more than ten ahead of the reader
    // (which stays well within the bound), while the stalled one falls behind without end.
    let started = Instant::now();
    let read = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let progress = read.clone();
    let reading = tokio::spawn(async move {
        for _ in 0..400 {
            let event = tokio::time::timeout(Duration::from_secs(30), heard.next())
                .await
                .expect("the reading subscriber was held up")
                .unwrap()
                .unwrap();
            assert_eq!(event.len(), 100 * 1024);
            progress.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    });
    for sent in 0..400 {
        while sent >= read.load(std::sync::atomic::Ordering::SeqCst) + 10 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        assert_eq!(tower.shout(100 * 1024, 1).await.unwrap(), 1);
    }
    // The actor answers at once; it does not wait for the stalled subscriber.
    assert_eq!(tower.ping().await.unwrap(), "pong");
    reading.await.unwrap();
    // The stalled one is let go: whatever the socket buffered, then the end, soon.
    let ended = tokio::time::timeout(Duration::from_secs(20), async {
        let mut frames = 0usize;
        loop {
            match stalled.next().await {
                Some(Ok(Message::Text(_))) => frames += 1,
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return frames,
                Some(Ok(_)) => {}
            }
        }
    })
    .await
    .expect("the stalled subscriber was never cut off");
    assert!(
        ended < 400,
        "the stalled subscriber got every event ({ended})"
    );
    assert!(started.elapsed() < Duration::from_secs(25));
    server.shutdown().await.unwrap();
}
