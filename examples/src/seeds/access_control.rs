//! The access-control seed: `canInvoke`, fail by default. Allowed: the action
//! `sendMessage`, the queue `jobs`, subscriptions to `messages`, raw requests and raw
//! WebSockets. Everything else — the declared action `deleteAll`, queue `admin` and event
//! `secrets` included — answers `auth.forbidden`, and so does every invocation from the
//! connection `blocked-conn-id`.
//!
//! The targets are generated enums: a misspelt `GuardedChatRoomAction::SendMesage` does not
//! compile, so a typo cannot silently deny (or allow) anything.

use rivet_actor::prelude::*;
use ts_rs::TS;

/// The `messages` event: `{ text }`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ChatMessage {
    /// What was said.
    pub text: String,
}

/// The `secrets` event (never delivered to clients: subscribing is denied).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Secret {
    /// The secret.
    pub value: String,
}

/// A message of the `jobs` queue.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Job {
    /// What to do.
    pub task: String,
}

/// A message of the `admin` queue (denied to clients).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AdminCommand {
    /// What to do.
    pub command: String,
}

/// The seed's `chatRoom` of the access-control page, served as `guardedChatRoom`.
#[derive(Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GuardedChatRoom {
    /// Every message sent so far.
    pub messages: Vec<String>,
}

#[actor(
    events(messages = ChatMessage, secrets = Secret),
    queues(jobs = Job -> usize, admin = AdminCommand),
)]
impl GuardedChatRoom {
    /// Fail by default: explicit allow rules, then `false`.
    #[can_invoke]
    fn can_invoke(&self, c: &ConnCtx<'_, Self>, invoke: Invoke<Self>) -> bool {
        // Example: block a specific connection.
        if c.conn().id().as_str() == "blocked-conn-id" {
            return false;
        }
        // Explicit allow rules; anything not listed is denied.
        matches!(
            invoke,
            Invoke::Action(GuardedChatRoomAction::SendMessage)
                | Invoke::Queue(GuardedChatRoomQueue::Jobs)
                | Invoke::Subscribe(GuardedChatRoomEvent::Messages)
                | Invoke::Request
                | Invoke::WebSocket
        )
    }

    /// Stores a message, tells `messages` subscribers, and returns how many messages the
    /// room holds.
    #[action]
    fn send_message(&mut self, c: &mut ActionCtx<'_, Self>, text: String) -> usize {
        self.messages.push(text.clone());
        c.broadcast(ChatMessage { text });
        self.messages.len()
    }

    /// Raw HTTP (`kind: "request"`, allowed): `GET /messages` answers the messages as JSON.
    #[on_request]
    fn http(&self, request: RawRequest) -> Result<RawResponse, UserError> {
        if request.method() != "GET" || request.uri().path() != "/messages" {
            return Ok(status(404, "not found"));
        }
        let body = serde_json::to_vec(&self.messages)
            .map_err(|_| UserError::new("The messages could not be encoded"))?;
        let mut response = RawResponse::new(body.into());
        response.headers_mut().insert(
            "content-type",
            rivet_actor::http::HeaderValue::from_static("application/json"),
        );
        Ok(response)
    }

    /// Raw WebSocket (`kind: "websocket"`, allowed): echoes each text message back, and
    /// posts it as a message of the room (through the actor's own client, which `can_invoke`
    /// does not gate).
    #[on_websocket]
    fn socket(&self, c: &mut ActionCtx<'_, Self>, socket: RawWebSocket) {
        let this = c.this();
        tokio::spawn(async move {
            let (tx, mut rx) = socket.split();
            while let Some(message) = rx.recv().await {
                if let rivet_actor::raw::RawMessage::Text(text) = message {
                    let count = this.send_message(text.clone()).await.unwrap_or(0);
                    let _ = tx.send(format!("{count}: {text}"));
                }
            }
        });
    }

    /// The `jobs` queue's consumer: each job becomes a message of the room, completed with
    /// the room's new size.
    #[run]
    async fn work(c: RunCtx<Self>) -> Result<(), UserError> {
        while let Some(job) = c.queue().next::<Job>().await {
            let count = c
                .this()
                .send_message(format!("job: {}", job.body.task))
                .await
                .unwrap_or(0);
            c.queue().complete(&job, count);
        }
        Ok(())
    }

    /// Declared, never allowed: would erase every message.
    #[action]
    fn delete_all(&mut self) {
        self.messages.clear();
    }
}

/// A plain-text response with `code`.
fn status(code: u16, text: &str) -> RawResponse {
    let mut response = RawResponse::new(text.to_owned().into());
    *response.status_mut() =
        rivet_actor::http::StatusCode::from_u16(code).expect("a valid status code");
    response
}
