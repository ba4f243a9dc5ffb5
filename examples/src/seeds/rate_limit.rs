//! The authentication seed's rate limiting: vars count each user's connection attempts
//! (stateless calls included: each is a connection) and refuse the 11th within a minute.
//! The limits are ephemeral, as in the seed: vars are never persisted.

use std::collections::HashMap;

use rivet_actor::prelude::*;

/// Connections a user may open per window.
pub const LIMIT: u32 = 10;
/// The window, in milliseconds.
pub const WINDOW_MS: u64 = 60_000;

/// What a client sends: `{ authToken }`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnParams {
    /// The caller's token.
    pub auth_token: String,
}

/// One user's window.
#[derive(Clone, Debug)]
pub struct RateLimitEntry {
    /// Connections in the window.
    pub count: u32,
    /// When the window ends, in milliseconds since the Unix epoch.
    pub reset_at: u64,
}

/// Vars: `{ rateLimits }`.
#[derive(Default)]
pub struct Vars {
    /// Each user's window.
    pub rate_limits: HashMap<String, RateLimitEntry>,
}

/// `{ success: true }`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Success {
    /// Always `true`.
    pub success: bool,
}

/// The stub validation: the user is `user-<token>` (the seed answers `user-123` for every
/// token; deriving it from the token shows that limits are per user). An empty token is
/// `forbidden`.
pub async fn validate_token(token: &str) -> Result<String, UserError> {
    if token.is_empty() {
        return Err(UserError::new("Forbidden").code("forbidden"));
    }
    Ok(format!("user-{token}"))
}

/// The seed's `rateLimitedActor` (no state).
#[derive(Default, Serialize, Deserialize)]
pub struct RateLimitedActor {}

#[actor]
impl RateLimitedActor {
    /// Empty limits.
    #[create_vars]
    fn vars() -> Vars {
        Vars::default()
    }

    /// At most [`LIMIT`] connections per user per [`WINDOW_MS`], then `rate_limited`.
    #[before_connect]
    async fn limit(
        &self,
        c: &mut ConnectCtx<'_, Self>,
        params: &ConnParams,
    ) -> Result<(), UserError> {
        let user_id = validate_token(&params.auth_token).await?;
        let now = super::now_ms();
        let limits = &mut c.vars_mut().rate_limits;
        match limits.get_mut(&user_id) {
            Some(limit) if limit.reset_at > now => {
                if limit.count >= LIMIT {
                    return Err(
                        UserError::new("Too many requests, try again later").code("rate_limited")
                    );
                }
                limit.count += 1;
            }
            _ => {
                limits.insert(
                    user_id,
                    RateLimitEntry {
                        count: 1,
                        reset_at: now + WINDOW_MS,
                    },
                );
            }
        }
        Ok(())
    }

    /// `{ success: true }`.
    #[action]
    fn get_data(&self) -> Success {
        Success { success: true }
    }
}
