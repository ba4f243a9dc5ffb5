//! A server with a chat room and a counter, driven over the network by the generated typed
//! client. Run: `cargo run --example quickstart` (address from `RIVET_ACTOR_ADDR`, default
//! 127.0.0.1:6420; state in a temporary data directory).
//!
//! While it runs, the same actors answer the npm client:
//! ```ts
//! const client = createClient({ endpoint: "http://127.0.0.1:6420", encoding: "json" });
//! await client.counter.getOrCreate(["demo"]).increment(1);
//! ```

use rivet_actor::prelude::*;

/// A counter: the smallest useful actor.
#[derive(Default, Serialize, Deserialize)]
pub struct Counter {
    count: i64,
}

/// Emitted on every change.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CountChanged {
    pub count: i64,
}

#[actor(events(new_count = CountChanged))]
impl Counter {
    /// Adds `by` and tells subscribers.
    #[action]
    fn increment(&mut self, c: &mut ActionCtx<'_, Self>, by: i64) -> i64 {
        self.count += by;
        c.broadcast(CountChanged { count: self.count });
        self.count
    }

    /// The current count.
    #[action]
    fn get_count(&self) -> i64 {
        self.count
    }
}

/// A chat room whose members must present a token.
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

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnParams {
    pub auth_token: String,
}

pub struct Member {
    pub user_id: String,
}

#[actor(events(new_message = Message))]
impl ChatRoom {
    /// Every connection must carry a token; its "user" is derived from it.
    #[conn_state]
    fn authenticate(
        &self,
        _c: &ConnectCtx<'_, Self>,
        params: &ConnParams,
    ) -> Result<Member, UserError> {
        if params.auth_token.is_empty() {
            return Err(UserError::new("Forbidden").code("forbidden"));
        }
        Ok(Member {
            user_id: format!("user-{}", params.auth_token),
        })
    }

    /// Stores a message and broadcasts it to subscribers.
    #[action]
    fn send_message(&mut self, c: &mut ActionCtx<'_, Self>, text: String) -> Result<(), UserError> {
        if text.trim().is_empty() {
            return Err(UserError::new("Empty message").code("empty_message"));
        }
        let message = Message {
            user_id: c.conn().state().user_id.clone(),
            text,
        };
        self.messages.push(message.clone());
        c.broadcast(message);
        Ok(())
    }

    /// Everything said so far.
    #[action]
    fn get_messages(&self) -> Vec<Message> {
        self.messages.clone()
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let data_dir =
        std::env::temp_dir().join(format!("rivet-actor-quickstart-{}", std::process::id()));
    // `RIVET_ACTOR_STORAGE=memory`: the same program without durability.
    let builder = match rivet_actor::storage::default_storage_kind()? {
        rivet_actor::storage::DefaultStorage::Memory => Registry::builder().in_memory(),
        rivet_actor::storage::DefaultStorage::Sqlite => Registry::builder().data_dir(&data_dir),
    };
    let registry = builder.register::<Counter>().register::<ChatRoom>().build();
    let addr = rivet_actor::server::default_addr();
    let server = registry.bind(addr).await?;
    println!(
        "serving on {} (data in {})",
        server.endpoint(),
        data_dir.display()
    );

    let client = Client::new(server.endpoint());

    // Stateless calls over HTTP.
    let counter = client.get_or_create::<Counter>(["demo"]);
    println!("counter.increment(1) -> {}", counter.increment(1).await?);
    println!("counter.increment(41) -> {}", counter.increment(41).await?);

    // A connection: actions over one WebSocket, and typed events.
    let conn = counter.connect().await?;
    let mut changes = conn.events::<CountChanged>();
    conn.increment(-2).await?;
    if let Some(change) = changes.next().await {
        println!("event newCount: {:?}", change?);
    }

    // A chat room with authentication.
    let room = client
        .get_or_create::<ChatRoom>(["general"])
        .params(ConnParams {
            auth_token: "ann".into(),
        });
    let listener = room.connect().await?;
    let mut news = listener.events::<Message>();
    room.send_message("hello from a stateless call".into())
        .await?;
    if let Some(message) = news.next().await {
        println!("event newMessage: {:?}", message?);
    }
    match room.send_message("   ".into()).await {
        Err(err) => println!("empty message refused: code {:?}", err.code()),
        Ok(()) => println!("unexpected: empty message accepted"),
    }
    let stranger = client
        .get_or_create::<ChatRoom>(["general"])
        .params(ConnParams {
            auth_token: String::new(),
        });
    match stranger.connect().await {
        Err(err) => println!("connection without a token refused: code {:?}", err.code()),
        Ok(_) => println!("unexpected: connection accepted"),
    }
    println!("messages: {:?}", room.get_messages().await?);

    listener.close().await;
    conn.close().await;
    server.shutdown().await?;
    let _ = std::fs::remove_dir_all(&data_dir);
    Ok(())
}
