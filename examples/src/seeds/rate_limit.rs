//! The authentication seed's rate limiting: vars count each user's connection attempts
//! (stateless calls included: each is a connection) and refuse the 11th within a minute,
//! with [`rivet_actor::auth::RateLimiter`]'s fixed window. The limits are ephemeral, as in
//! the seed: vars are never persisted.

use std::time::{Duration, Instant};
use ts_rs::TS;

use rivet_actor::auth::RateLimiter;
use rivet_actor::prelude::*;

/// Connections a user may open per window.
pub const LIMIT: u32 = 10;
/// The window.
pub const WINDOW: Duration = Duration::from_secs(60);

/// What a client sends: `{ authToken }`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnParams {
    /// The caller's token.
    pub auth_token: String,
}

/// Vars: `{ rateLimits }`.
pub struct Vars {
    /// Each user's window.
    pub rate_limits: RateLimiter,
}

/// `{ success: true }`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[ts(rename = "RateLimitSuccess")]
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
    /// No user has a window yet.
    #[create_vars]
    fn vars() -> Vars {
        Vars {
            rate_limits: RateLimiter::new(LIMIT, WINDOW),
        }
    }

    /// At most [`LIMIT`] connections per user per [`WINDOW`], then `rate_limited` (message
    /// `"Too many requests, try again later"`).
    #[before_connect]
    async fn limit(
        &self,
        c: &mut ConnectCtx<'_, Self>,
        params: &ConnParams,
    ) -> Result<(), UserError> {
        let user_id = validate_token(&params.auth_token).await?;
        c.vars_mut().rate_limits.check(&user_id, Instant::now())
    }

    /// `{ success: true }`.
    #[action]
    fn get_data(&self) -> Success {
        Success { success: true }
    }
}
