//! A chat room whose history grows without bound: the messages live in the actor's
//! `c.kv()` rows, one row per message, and the state holds only the next sequence number.
//! A `sendMessage` therefore writes one row and a few bytes of state however long the
//! history is (the state version rewrites every message on every send).
//!
//! `rivet-actor-bench`'s `kv_chat` measures it with a million stored messages.
//!
//! ```
//! use rivet_actor::prelude::*;
//! use rivet_actor_examples::history::ChatHistory;
//!
//! # #[tokio::main] async fn main() {
//! let test = ActorTest::<ChatHistory>::new();
//! let room = test.get_or_create("lobby").await.unwrap();
//! room.send_message("ada".into(), "hello".into()).await.unwrap();
//! room.send_message("bob".into(), "hi ada".into()).await.unwrap();
//! let last = room.get_messages(1, None).await.unwrap();
//! assert_eq!(last[0].text, "hi ada");
//! # }
//! ```

use rivet_actor::kv::{MAX_TURN_WRITES, Scan};
use rivet_actor::prelude::*;
use ts_rs::TS;

/// The room's state: how many messages it has taken (the next one's number).
#[derive(Default, Serialize, Deserialize)]
pub struct ChatHistory {
    sent: u64,
}

/// A stored message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct HistoryMessage {
    /// Its place in the room's history, from 1.
    pub seq: u64,
    /// Who sent it.
    pub sender: String,
    /// What they said.
    pub text: String,
    /// When, in milliseconds since the Unix epoch.
    pub timestamp: u64,
}

/// A message's kv key: `("m", seq)`, so the history reads in order.
fn message_key(seq: u64) -> (String, u64) {
    ("m".to_owned(), seq)
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

#[actor(events(new_message = HistoryMessage))]
impl ChatHistory {
    /// Stores a message (one kv row) and tells subscribers once it is durable.
    #[action]
    fn send_message(
        &mut self,
        c: &mut ActionCtx<'_, Self>,
        sender: String,
        text: String,
    ) -> Result<HistoryMessage, Error> {
        self.sent += 1;
        let message = HistoryMessage {
            seq: self.sent,
            sender,
            text,
            timestamp: now_ms(),
        };
        c.kv().put(&message_key(message.seq), &message)?;
        c.broadcast(message.clone());
        Ok(message)
    }

    /// Appends many messages in one turn (an import; at most [`MAX_TURN_WRITES`]).
    #[action]
    fn import_messages(
        &mut self,
        c: &mut ActionCtx<'_, Self>,
        sender: String,
        texts: Vec<String>,
    ) -> Result<u64, Error> {
        if texts.len() > MAX_TURN_WRITES {
            return Err(UserError::new("too many messages for one import")
                .code("import_too_large")
                .into());
        }
        let timestamp = now_ms();
        for text in texts {
            self.sent += 1;
            let message = HistoryMessage {
                seq: self.sent,
                sender: sender.clone(),
                text,
                timestamp,
            };
            c.kv().put(&message_key(message.seq), &message)?;
        }
        Ok(self.sent)
    }

    /// The newest `limit` messages before `before` (all if `None`), newest first.
    #[action]
    async fn get_messages(
        &self,
        c: &ActionCtx<'_, Self>,
        limit: usize,
        before: Option<u64>,
    ) -> Result<Vec<HistoryMessage>, Error> {
        let end = message_key(before.unwrap_or(u64::MAX));
        let rows: Vec<((String, u64), HistoryMessage)> = c
            .kv()
            .range(message_key(0)..end, Scan::new().limit(limit).reverse())
            .await?;
        Ok(rows.into_iter().map(|(_, message)| message).collect())
    }

    /// How many messages the room has taken.
    #[action]
    fn count(&self) -> u64 {
        self.sent
    }
}
