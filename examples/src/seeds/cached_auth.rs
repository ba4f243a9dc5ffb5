//! The authentication seed's token cache: vars remember validated tokens for five minutes
//! ([`rivet_actor::auth::TokenCache`]) so repeated connections with the same token skip the
//! (expensive) validation.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;
use ts_rs::TS;

use rivet_actor::auth::TokenCache;
use rivet_actor::prelude::*;

/// How long a validated token is trusted without validating it again.
pub const CACHE_TTL: Duration = Duration::from_secs(5 * 60);

/// What a client sends: `{ authToken }`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnParams {
    /// The caller's token.
    pub auth_token: String,
}

/// Who a connection is.
#[derive(Clone, Debug, PartialEq)]
pub struct ConnState {
    /// The token's subject.
    pub user_id: String,
    /// The token's role.
    pub role: String,
}

/// Vars: `{ tokenCache }`.
pub struct Vars {
    /// Validated tokens and who they are.
    pub token_cache: TokenCache<ConnState>,
}

/// `{ userId }`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Data {
    /// The caller.
    pub user_id: String,
}

/// How many times each token went through [`validate_token`] (for the tests and the demo:
/// a cache hit does not count).
static VALIDATIONS: Mutex<Option<HashMap<String, usize>>> = Mutex::new(None);

/// How many times `token` has been validated (not served from the cache) in this process.
pub fn validations(token: &str) -> usize {
    VALIDATIONS
        .lock()
        .unwrap_or_else(|poison| poison.into_inner())
        .as_ref()
        .and_then(|counts| counts.get(token).copied())
        .unwrap_or(0)
}

/// The seed's stub validation (the "expensive operation"): any non-empty token is
/// `user-123`, a `member`.
pub async fn validate_token(token: &str) -> Option<ConnState> {
    *VALIDATIONS
        .lock()
        .unwrap_or_else(|poison| poison.into_inner())
        .get_or_insert_with(HashMap::new)
        .entry(token.to_owned())
        .or_default() += 1;
    (!token.is_empty()).then(|| ConnState {
        user_id: "user-123".into(),
        role: "member".into(),
    })
}

/// The seed's `cachedAuthActor` (no state).
#[derive(Default, Serialize, Deserialize)]
pub struct CachedAuthActor {}

#[actor]
impl CachedAuthActor {
    /// An empty cache.
    #[create_vars]
    fn vars() -> Vars {
        Vars {
            token_cache: TokenCache::new(),
        }
    }

    /// From the cache when the token was validated less than five minutes ago; else
    /// validated (`invalid_token` when it is not) and cached.
    #[conn_state]
    async fn auth(
        &self,
        c: &mut ConnectCtx<'_, Self>,
        params: &ConnParams,
    ) -> Result<ConnState, UserError> {
        let token = &params.auth_token;
        // Check cache first
        if let Some(cached) = c.vars().token_cache.get(token) {
            return Ok(cached.clone());
        }
        // Validate token (expensive operation)
        let payload = validate_token(token)
            .await
            .ok_or_else(|| UserError::new("Invalid token").code("invalid_token"))?;
        // Cache the result
        c.vars_mut()
            .token_cache
            .insert(token.clone(), payload.clone(), CACHE_TTL);
        Ok(payload)
    }

    /// `{ userId }` of the caller.
    #[action]
    fn get_data(&self, c: &mut ActionCtx<'_, Self>) -> Data {
        Data {
            user_id: c.conn().state().user_id.clone(),
        }
    }
}
