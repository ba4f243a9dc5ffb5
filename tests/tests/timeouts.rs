//! Limits on time: an action that runs too long is cut off with `actor.action_timed_out`
//! and its changes roll back; the actor keeps serving.

use std::time::Duration;

use rivet_actor::HostConfig;
use rivet_actor::prelude::*;

#[derive(Default, Serialize, Deserialize)]
pub struct Slowpoke {
    steps: u32,
}

#[actor]
impl Slowpoke {
    /// Changes the state, then waits `ms` before finishing.
    #[action]
    async fn step_then_wait(&mut self, ms: u64) -> u32 {
        self.steps += 1;
        tokio::time::sleep(Duration::from_millis(ms)).await;
        self.steps
    }

    #[action]
    fn steps(&self) -> u32 {
        self.steps
    }
}

#[tokio::test]
async fn an_action_past_its_limit_is_cut_off_and_rolled_back() {
    let test = ActorTest::<Slowpoke>::with(Registry::builder().config(HostConfig {
        action_timeout: Duration::from_millis(200),
        ..Default::default()
    }));
    let actor = test.get_or_create("slow").await.unwrap();
    assert_eq!(actor.step_then_wait(10).await.unwrap(), 1);
    let started = std::time::Instant::now();
    let err = actor.step_then_wait(60_000).await.unwrap_err();
    assert_eq!(err.code(), Some("action_timed_out"), "{err:?}");
    assert_eq!(err.actor_error().unwrap().http_status(), 408);
    assert!(started.elapsed() < Duration::from_secs(5));
    // The timed-out turn's change is gone; the actor serves on.
    assert_eq!(actor.steps().await.unwrap(), 1);
    assert_eq!(actor.step_then_wait(10).await.unwrap(), 2);
}

mod liveness {
    use std::time::Duration;

    use futures_util::StreamExt;
    use rivet_actor::prelude::*;
    use rivet_actor::server::ServerConfig;
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;

    use super::Slowpoke;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_silent_websocket_peer_is_closed_and_a_live_one_is_kept() {
        let registry = Registry::builder()
            .in_memory()
            .server_config(ServerConfig {
                ping_interval: Duration::from_millis(200),
                ..Default::default()
            })
            .register::<Slowpoke>()
            .build();
        let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
        // A live peer: our client reads all the time, so it answers every ping.
        let live = Client::new(server.endpoint())
            .get_or_create::<Slowpoke>(["live"])
            .connect()
            .await
            .unwrap();
        // A silent one: after Init it reads nothing, so it answers no ping.
        let url = format!(
            "ws://{}/gateway/slowpoke/connect?rvt-method=getOrCreate&rvt-key=silent&rvt-runner=default",
            server.local_addr()
        );
        let mut request = url.into_client_request().unwrap();
        request.headers_mut().insert(
            "sec-websocket-protocol",
            "rivet, rivet_encoding.json".parse().unwrap(),
        );
        let (mut silent, _) = tokio_tungstenite::connect_async(request).await.unwrap();
        assert!(matches!(silent.next().await, Some(Ok(Message::Text(_)))));
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let closed = tokio::time::timeout(Duration::from_secs(5), async {
            loop {
                match silent.next().await {
                    Some(Ok(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
                    Some(Ok(_)) => continue,
                    None | Some(Err(_)) => return None,
                }
            }
        })
        .await
        .expect("the silent peer was never closed");
        assert!(matches!(closed, Some(1001) | None), "{closed:?}");
        // The live one still works.
        assert_eq!(live.steps().await.unwrap(), 0);
        server.shutdown().await.unwrap();
    }
}
