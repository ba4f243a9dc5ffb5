//! The authentication seed's access-control list, per item: `events.<name>.canSubscribe`
//! gates one event's subscriptions and `queues.<name>.canPublish` one queue's sends. In Rust
//! they are `#[can_subscribe(event)]` and `#[can_publish(queue)]` methods, whose targets are
//! checked against the declarations at compile time.
//!
//! `moderationBoard`: anyone with a valid token (see [`forum::validate_token`]) reads
//! `posts`; only moderators and admins subscribe to `modLog`; anyone may send to the
//! `reports` queue; only admins send to the `bans` queue.

use rivet_actor::prelude::*;
use ts_rs::TS;

use super::forum::{self, ConnParams, ConnState, Role};

/// The `posts` event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Post {
    /// Who wrote it.
    pub author: String,
    /// What was written.
    pub text: String,
}

/// The `modLog` event: what moderators see about each post.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ModLogEntry {
    /// Who wrote the post.
    pub author: String,
    /// The author's role.
    pub role: String,
}

/// A message of the `reports` queue: a post someone flags.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// The flagged post's text.
    pub text: String,
}

/// A message of the `bans` queue.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct BanRequest {
    /// Who to ban.
    pub user: String,
}

/// The board's state: every post.
#[derive(Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModerationBoard {
    /// Every post so far.
    pub posts: Vec<Post>,
}

#[actor(
    events(posts = Post, mod_log = ModLogEntry),
    queues(reports = Report, bans = BanRequest),
)]
impl ModerationBoard {
    /// Role and permissions from the token, as in `forumActor`.
    #[conn_state]
    async fn auth(
        &self,
        _c: &mut ConnectCtx<'_, Self>,
        params: &ConnParams,
    ) -> Result<ConnState, UserError> {
        forum::validate_token(&params.token).await
    }

    /// `events.modLog.canSubscribe`: moderators and above.
    #[can_subscribe(mod_log)]
    fn moderators_read_the_log(&self, c: &ConnCtx<'_, Self>) -> bool {
        c.conn().state().role >= Role::Moderator
    }

    /// `queues.bans.canPublish`: admins only.
    #[can_publish(bans)]
    fn admins_ban(&self, c: &ConnCtx<'_, Self>) -> bool {
        c.conn().state().role == Role::Admin
    }

    /// Moderators take the waiting reports and ban requests (in this turn: they leave the
    /// queues exactly when the review is stored).
    #[action]
    fn review(&mut self, c: &mut ActionCtx<'_, Self>) -> Result<Vec<String>, UserError> {
        forum::require_role(c.conn().state(), Role::Moderator)?;
        let mut lines: Vec<String> = c
            .queue()
            .try_next_batch::<Report>(100)
            .into_iter()
            .map(|report| format!("report: {}", report.body.text))
            .collect();
        lines.extend(
            c.queue()
                .try_next_batch::<BanRequest>(100)
                .into_iter()
                .map(|ban| format!("ban: {}", ban.body.user)),
        );
        Ok(lines)
    }

    /// Posts `text` as the caller; returns how many posts the board holds.
    #[action]
    fn post(&mut self, c: &mut ActionCtx<'_, Self>, text: String) -> usize {
        let role = c.conn().state().role;
        let short_id: String = c.conn().id().as_str().chars().take(8).collect();
        let author = format!("{role}-{short_id}");
        c.broadcast(ModLogEntry {
            author: author.clone(),
            role: role.to_string(),
        });
        let post = Post { author, text };
        self.posts.push(post.clone());
        c.broadcast(post);
        self.posts.len()
    }
}
