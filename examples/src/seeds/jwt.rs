//! The authentication seed's JWT example, with real verification
//! ([`rivet_actor::auth::JwtVerifier`]): HS256 signatures checked against `JWT_SECRET`, `exp`
//! required and checked (30 s leeway), any other algorithm (`none` included) refused.

use rivet_actor::prelude::*;
use ts_rs::TS;

/// What a client sends: `{ token }`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnParams {
    /// A JWT signed with HS256.
    pub token: String,
}

/// The claims the seed reads: `{ sub, role, permissions? }` (the verifier also requires and
/// checks `exp`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JwtPayload {
    /// The subject (the user's id).
    pub sub: String,
    /// The user's role.
    pub role: String,
    /// What the user may do; none when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions: Option<Vec<String>>,
}

/// Who a connection is.
#[derive(Clone, Debug)]
pub struct ConnState {
    /// The token's `sub`.
    pub user_id: String,
    /// The token's `role`.
    pub role: String,
    /// The token's `permissions` (empty when absent).
    pub permissions: Vec<String>,
}

/// `{ success: true }`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[ts(rename = "JwtSuccess")]
pub struct Success {
    /// Always `true`.
    pub success: bool,
}

/// The `error` event: declared, never emitted. The seed's error-handling snippet writes
/// `conn.on("error", handler)`, which in the npm client (2.3.19) subscribes to an actor
/// event named `error` (connection errors arrive through `conn.onError`). RivetKit accepts
/// subscriptions to undeclared events; this runtime refuses them with a connection-level
/// `actor.event_not_found` that the npm client turns into a failure of every action in
/// flight. Declaring the event keeps the snippet harmless.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ErrorEvent {
    /// An error code.
    pub code: String,
}

/// The seed's `jwtActor` (no state).
#[derive(Default, Serialize, Deserialize)]
pub struct JwtActor {}

#[actor(events(error = ErrorEvent))]
impl JwtActor {
    /// Verifies the token; any failure is `invalid_token`.
    #[conn_state]
    async fn auth(
        &self,
        c: &mut ConnectCtx<'_, Self>,
        params: &ConnParams,
    ) -> Result<ConnState, UserError> {
        let invalid = |reason: &str| {
            UserError::new("Invalid or expired token")
                .code("invalid_token")
                .metadata(serde_json::json!({ "reason": reason }))
        };
        let verifier = super::settings(c.data())
            .jwt
            .ok_or_else(|| invalid("no_secret"))?;
        let payload: JwtPayload = verifier
            .verify(&params.token)
            .await
            .map_err(|err| invalid(err.reason()))?;
        Ok(ConnState {
            user_id: payload.sub,
            role: payload.role,
            permissions: payload.permissions.unwrap_or_default(),
        })
    }

    /// Needs the `write` permission.
    #[action]
    fn protected_action(&self, c: &mut ActionCtx<'_, Self>) -> Result<Success, UserError> {
        if !c.conn().state().permissions.iter().any(|p| p == "write") {
            return Err(UserError::new("Write permission required").code("forbidden"));
        }
        Ok(Success { success: true })
    }
}
