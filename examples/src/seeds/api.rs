//! The authentication seed's external auth provider: `createConnState` POSTs the API key
//! (header `X-API-Key`) to an auth service and keeps the `{ id, tier }` it answers.
//!
//! [`demo_auth_service`] is such a service for the example binary and the tests.
//!
//! The hook takes no `self`, so it runs outside the actor's turn: a slow auth service holds
//! up neither the actor's other connections nor its actions (RivetKit runs it inside the
//! actor). It reads the registry's data (the service's URL, an HTTP client), not the state.

use std::net::SocketAddr;
use ts_rs::TS;

use rivet_actor::context::PreConnectCtx;
use rivet_actor::prelude::*;

/// What a client sends: `{ apiKey }`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnParams {
    /// The caller's API key.
    pub api_key: String,
}

/// Who a connection is.
#[derive(Clone, Debug)]
pub struct ConnState {
    /// The auth service's `id`.
    pub user_id: String,
    /// The auth service's `tier`; `premiumAction` needs `premium`.
    pub tier: String,
}

/// The auth service's answer: `{ id, tier }`.
#[derive(Clone, Debug, Serialize, Deserialize, TS)]
pub struct Validated {
    /// The user's id.
    pub id: String,
    /// The user's subscription tier.
    pub tier: String,
}

/// The seed's `apiActor` (no state).
#[derive(Default, Serialize, Deserialize)]
pub struct ApiActor {}

#[actor]
impl ApiActor {
    /// Asks the auth service; a non-2xx answer is `invalid_api_key`. (A service that cannot
    /// be reached, or answers garbage, is an internal error: masked for the client.)
    #[conn_state]
    async fn auth(c: &PreConnectCtx<'_, Self>, params: &ConnParams) -> Result<ConnState, Error> {
        let settings = super::settings(c.data());
        let response = settings
            .http
            .post(settings.auth_service_url)
            .header("X-API-Key", &params.api_key)
            .send()
            .await?;
        if !response.status().is_success() {
            return Err(UserError::new("Invalid API key")
                .code("invalid_api_key")
                .into());
        }
        let data: Validated = response.json().await?;
        Ok(ConnState {
            user_id: data.id,
            tier: data.tier,
        })
    }

    /// Premium subscribers only.
    #[action]
    fn premium_action(&self, c: &mut ActionCtx<'_, Self>) -> Result<String, UserError> {
        if c.conn().state().tier != "premium" {
            return Err(UserError::new("Premium subscription required").code("forbidden"));
        }
        Ok("Premium content".into())
    }
}

/// The API keys [`demo_auth_service`] knows: `premium-key` (`user-1`, `premium`) and
/// `free-key` (`user-2`, `free`); any other key is answered 401.
pub fn demo_lookup(api_key: &str) -> Option<Validated> {
    let (id, tier) = match api_key {
        "premium-key" => ("user-1", "premium"),
        "free-key" => ("user-2", "free"),
        _ => return None,
    };
    Some(Validated {
        id: id.into(),
        tier: tier.into(),
    })
}

/// Serves a stand-in auth provider on `addr` (`POST /validate` with `X-API-Key`, see
/// [`demo_lookup`]) until the returned task is dropped or aborted; returns its URL.
pub async fn demo_auth_service(
    addr: SocketAddr,
) -> std::io::Result<(String, tokio::task::JoinHandle<()>)> {
    use axum::http::{HeaderMap, StatusCode};
    use axum::routing::post;

    async fn validate(headers: HeaderMap) -> Result<axum::Json<Validated>, StatusCode> {
        let key = headers
            .get("x-api-key")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        demo_lookup(key)
            .map(axum::Json)
            .ok_or(StatusCode::UNAUTHORIZED)
    }

    let listener = tokio::net::TcpListener::bind(addr).await?;
    let url = format!("http://{}/validate", listener.local_addr()?);
    let app = axum::Router::new().route("/validate", post(validate));
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok((url, task))
}
