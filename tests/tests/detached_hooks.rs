//! Connect hooks written without `self` run outside the actor's turn: concurrent connects
//! with a slow hook finish together, and the actor's actions are not held up by them.

use std::time::{Duration, Instant};

use futures_util::future::join_all;
use rivet_actor::context::PreConnectCtx;
use rivet_actor::prelude::*;

#[derive(Default, Serialize, Deserialize)]
pub struct Gate {
    pings: u32,
}

#[derive(Deserialize)]
pub struct Params {
    token: String,
}

#[actor]
impl Gate {
    /// A slow external check (1 s), refusing an empty token.
    #[before_connect]
    async fn check(c: &PreConnectCtx<'_, Self>, params: &Params) -> Result<(), UserError> {
        tokio::time::sleep(Duration::from_secs(1)).await;
        if params.token.is_empty() || c.key().is_empty() {
            return Err(UserError::new("Forbidden").code("forbidden"));
        }
        Ok(())
    }

    /// The connection's state, made outside the turn too.
    #[conn_state]
    async fn who(c: &PreConnectCtx<'_, Self>, params: &Params) -> String {
        format!("{}@{}", params.token, c.key().join("/"))
    }

    #[action]
    fn ping(&mut self, c: &mut ActionCtx<'_, Self>) -> String {
        self.pings += 1;
        match c.try_conn() {
            Some(conn) => conn.state().clone(),
            None => String::new(),
        }
    }
}

fn params(token: &str) -> serde_json::Value {
    serde_json::json!({ "token": token })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_connects_with_a_one_second_hook_finish_in_about_a_second() {
    let registry = Registry::builder().in_memory().register::<Gate>().build();
    let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let client = Client::new(server.endpoint());
    let gate = client.get_or_create::<Gate>(["door"]);
    // Create the actor first, so every connect below reaches a live one.
    assert_eq!(
        gate.params(params("first")).ping().await.unwrap(),
        "first@door"
    );

    let started = Instant::now();
    let connects = (0..20).map(|i| {
        let gate = gate.params(params(&format!("u{i}")));
        async move { gate.connect().await.unwrap() }
    });
    let conns = join_all(connects).await;
    let took = started.elapsed();
    // In the turn they would take 20 s, one after another.
    assert!(took < Duration::from_secs(4), "20 connects took {took:?}");
    for (i, conn) in conns.iter().enumerate() {
        assert_eq!(conn.ping().await.unwrap(), format!("u{i}@door"));
    }
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actions_are_not_held_up_by_connects_in_progress() {
    let registry = Registry::builder().in_memory().register::<Gate>().build();
    let handle = |token: &str| {
        let registry = registry.clone();
        let token = token.to_owned();
        async move {
            registry
                .get_or_create::<Gate>("busy")
                .await
                .unwrap()
                .params(Params { token })
        }
    };
    // An open connection: its actions run no connect hook of their own.
    let conn = handle("ann").await.connect().await.unwrap();
    let mut connecting = Vec::new();
    for _ in 0..3 {
        let gate = handle("bo").await;
        connecting.push(tokio::spawn(async move { gate.connect().await.map(drop) }));
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    assert_eq!(conn.ping().await.unwrap(), "ann@busy");
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "an action waited {:?} behind connect hooks",
        started.elapsed()
    );
    for connect in connecting {
        connect.await.unwrap().unwrap();
    }
    // A refusal still refuses.
    let refused = handle("").await.connect().await.err().unwrap();
    assert_eq!(refused.code(), Some("forbidden"));
}
