//! The server under test: a counter and a chat room written with `#[actor]`, the chat room
//! with `before_connect` and `conn_state` hooks. The load generator (`--bin load`) drives it
//! over loopback; `rivetkit/actors.ts` holds the same two actors for RivetKit.
//!
//! Run: `cargo run --release -p rivet-actor-bench --bin server -- [ADDR] [memory|sqlite]
//! [park|no-park]` (default `127.0.0.1:0`, `memory` and `park`). Prints
//! `listening http://ADDR` once it accepts connections. Instances never go to sleep here, so
//! "idle actor" memory is measured on awake instances: parked ones (the default), or with
//! `no-park` every one keeping its task, for comparison.

use std::time::Duration;

use rivet_actor::HostConfig;
use rivet_actor::prelude::*;

/// How many chat messages a room keeps (the same cap as the RivetKit peer's).
const HISTORY: usize = 100;

#[derive(Default, Serialize, Deserialize)]
pub struct Counter {
    count: i64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CountChanged {
    pub count: i64,
}

#[actor(events(new_count = CountChanged))]
impl Counter {
    /// Adds `by`, tells subscribers, returns the new count.
    #[action]
    fn increment(&mut self, c: &mut ActionCtx<'_, Self>, by: i64) -> i64 {
        self.count += by;
        c.broadcast(CountChanged { count: self.count });
        self.count
    }

    #[action]
    fn get_count(&self) -> i64 {
        self.count
    }
}

#[derive(Default, Serialize, Deserialize)]
pub struct ChatRoom {
    messages: Vec<Message>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    pub user_id: String,
    pub text: String,
}

#[derive(Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnParams {
    #[serde(default)]
    pub auth_token: String,
}

pub struct Member {
    pub user_id: String,
}

#[actor(events(new_message = Message))]
impl ChatRoom {
    /// Refuses connections without a token.
    #[before_connect]
    fn check(&self, _c: &mut ConnectCtx<'_, Self>, params: &ConnParams) -> Result<(), UserError> {
        if params.auth_token.is_empty() {
            return Err(UserError::new("Forbidden").code("forbidden"));
        }
        Ok(())
    }

    /// Derives the member from the token.
    #[conn_state]
    fn member(&self, _c: &mut ConnectCtx<'_, Self>, params: &ConnParams) -> Member {
        Member {
            user_id: format!("user-{}", params.auth_token),
        }
    }

    /// Stores the message (the last 100 are kept) and broadcasts it.
    #[action]
    fn send_message(&mut self, c: &mut ActionCtx<'_, Self>, text: String) {
        let message = Message {
            user_id: c.conn().state().user_id.clone(),
            text,
        };
        if self.messages.len() >= HISTORY {
            self.messages.remove(0);
        }
        self.messages.push(message.clone());
        c.broadcast(message);
    }

    #[action]
    fn get_messages(&self) -> Vec<Message> {
        self.messages.clone()
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let addr = args
        .next()
        .unwrap_or_else(|| "127.0.0.1:0".into())
        .parse()?;
    let storage = args.next().unwrap_or_else(|| "memory".into());
    let park = args.next().unwrap_or_else(|| "park".into());
    let config = HostConfig {
        idle_timeout: None,
        park_after: match park.as_str() {
            "park" => HostConfig::default().park_after,
            "no-park" => None,
            other => return Err(format!("expected `park` or `no-park`, not `{other}`").into()),
        },
        ..Default::default()
    };
    let builder = Registry::builder()
        .config(config)
        .register::<Counter>()
        .register::<ChatRoom>();
    let data_dir =
        std::env::temp_dir().join(format!("rivet-actor-bench-server-{}", std::process::id()));
    let builder = match storage.as_str() {
        "memory" => builder.in_memory(),
        "sqlite" => builder.data_dir(&data_dir),
        other => return Err(format!("unknown storage `{other}` (memory|sqlite)").into()),
    };
    let registry = builder.build();
    let server = registry.bind(addr).await?;
    println!("listening {}", server.endpoint());
    tokio::signal::ctrl_c().await?;
    server.shutdown().await?;
    tokio::time::sleep(Duration::from_millis(10)).await;
    let _ = std::fs::remove_dir_all(&data_dir);
    Ok(())
}
