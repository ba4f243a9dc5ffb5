//! The authentication seed's `chatRoom`: `onBeforeConnect` validates the token against the
//! room's key, `createConnState` turns it into `{ userId, role }`, and `sendMessage` checks
//! the role before storing and broadcasting.
//!
//! The token comes from the params (`{ authToken }`, HTTP and WebSocket) or, for stateless
//! calls without params, from an `Authorization: Bearer <token>` header (the seed's
//! `createClient({ headers: { Authorization: "Bearer my-token" } })`; browsers cannot set
//! headers on a WebSocket, so `.connect()` must use params).

use rivet_actor::prelude::*;
use ts_rs::TS;

/// What a client sends when it connects: `{ authToken }`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnParams {
    /// The caller's token.
    pub auth_token: String,
}

/// Who a connection is, made by `createConnState`.
#[derive(Clone, Debug)]
pub struct ConnState {
    /// The token's subject.
    pub user_id: String,
    /// The token's role; `sendMessage` needs `member`.
    pub role: String,
}

/// A stored message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    /// Who sent it.
    pub user_id: String,
    /// What they said.
    pub text: String,
    /// When, in milliseconds since the Unix epoch.
    pub timestamp: u64,
}

/// The `newMessage` event: `{ userId, text }`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct NewMessage {
    /// Who sent it.
    pub user_id: String,
    /// What they said.
    pub text: String,
}

/// The seed's token payload.
pub struct TokenPayload {
    /// The subject.
    pub sub: String,
    /// The role.
    pub role: String,
}

/// The seed's stub validation: any non-empty token for a non-empty room key is
/// `user-123`, a `member` — except the token `guest`, a `guest`, so that the
/// `insufficient_permissions` path can be shown. (In production: verify a JWT or call an
/// auth service.)
pub async fn validate_token(token: &str, room_key: &[String]) -> Option<TokenPayload> {
    if token.is_empty() || room_key.is_empty() {
        return None;
    }
    let role = if token == "guest" { "guest" } else { "member" };
    Some(TokenPayload {
        sub: "user-123".into(),
        role: role.into(),
    })
}

/// The caller's token: the params' `authToken`, else the request's bearer token.
pub fn token<'a>(c: &'a ConnectCtx<'_, ChatRoom>, params: &'a Option<ConnParams>) -> &'a str {
    match params {
        Some(params) => &params.auth_token,
        None => c
            .request()
            .and_then(|request| request.header_str("authorization"))
            .and_then(|value| value.strip_prefix("Bearer "))
            .unwrap_or(""),
    }
}

/// The seed's `chatRoom`: `{ messages }`.
#[derive(Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatRoom {
    /// Every message sent so far.
    pub messages: Vec<Message>,
}

#[actor(events(new_message = NewMessage))]
impl ChatRoom {
    /// Pass/fail: the token must be valid for this room.
    #[before_connect]
    async fn check(
        &self,
        c: &mut ConnectCtx<'_, Self>,
        params: &Option<ConnParams>,
    ) -> Result<(), UserError> {
        if validate_token(token(c, params), c.key()).await.is_none() {
            return Err(UserError::new("Forbidden").code("forbidden"));
        }
        Ok(())
    }

    /// Keeps who the caller is for the actions.
    #[conn_state]
    async fn auth(
        &self,
        c: &mut ConnectCtx<'_, Self>,
        params: &Option<ConnParams>,
    ) -> Result<ConnState, UserError> {
        let payload = validate_token(token(c, params), c.key())
            .await
            .ok_or_else(|| UserError::new("Forbidden").code("forbidden"))?;
        Ok(ConnState {
            user_id: payload.sub,
            role: payload.role,
        })
    }

    /// Stores a message and broadcasts `newMessage`; members only.
    #[action]
    fn send_message(&mut self, c: &mut ActionCtx<'_, Self>, text: String) -> Result<(), UserError> {
        let ConnState { user_id, role } = c.conn().state().clone();
        if role != "member" {
            return Err(UserError::new("Insufficient permissions").code("insufficient_permissions"));
        }
        self.messages.push(Message {
            user_id: user_id.clone(),
            text: text.clone(),
            timestamp: super::now_ms(),
        });
        c.broadcast(NewMessage { user_id, text });
        Ok(())
    }

    /// Every message sent so far.
    #[action]
    fn get_messages(&self) -> Vec<Message> {
        self.messages.clone()
    }
}
