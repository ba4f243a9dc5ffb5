//! Internal errors never reach a client: an action and both connect hooks fail with an
//! internal error whose text is [`SECRET`]; clients see `rivetkit.internal_error` with a
//! generic message, on HTTP and WebSocket, and the actor keeps answering `ping`.
//!
//! Params `{ "explode": .. }` choose the failure: `"beforeConnect"` / `"connState"` (an
//! internal error in that hook), `"panic"` (a panic in `before_connect`), `"hang"`
//! (`before_connect` never finishes: the connect-hook timeout answers `hook_timed_out`).

use rivet_actor::prelude::*;

/// The text that must never reach a client.
pub const SECRET: &str = "secret-internal-detail";

/// What a client may send: `{ explode? }`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnParams {
    /// Which hook fails, and how.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explode: Option<String>,
}

fn explode(params: &Option<ConnParams>) -> Option<&str> {
    params.as_ref().and_then(|p| p.explode.as_deref())
}

/// An actor whose failures carry a secret.
#[derive(Default, Serialize, Deserialize)]
pub struct LeakyActor {}

#[actor]
impl LeakyActor {
    /// Fails, panics or hangs when asked to.
    #[before_connect]
    async fn check(
        &self,
        _c: &mut ConnectCtx<'_, Self>,
        params: &Option<ConnParams>,
    ) -> Result<(), Error> {
        match explode(params) {
            Some("beforeConnect") => Err(std::io::Error::other(SECRET))?,
            Some("panic") => panic!("{SECRET}"),
            Some("hang") => std::future::pending::<()>().await,
            _ => {}
        }
        Ok(())
    }

    /// Fails when asked to.
    #[conn_state]
    fn conn_state(
        &self,
        _c: &mut ConnectCtx<'_, Self>,
        params: &Option<ConnParams>,
    ) -> Result<(), Error> {
        if explode(params) == Some("connState") {
            Err(std::io::Error::other(SECRET))?;
        }
        Ok(())
    }

    /// `"pong"`.
    #[action]
    fn ping(&self) -> String {
        "pong".into()
    }

    /// Always fails with an internal error.
    #[action]
    fn boom(&self) -> Result<String, Error> {
        Err(std::io::Error::other(SECRET))?
    }
}
