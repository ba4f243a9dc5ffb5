//! The CORS seed: a counter that only browsers on the allowed origins may reach.
//!
//! [`MyActor`] is the seed as written: `onBeforeConnect` compares the request's `Origin`
//! with the allowlist (a missing `Origin` is refused too) and throws
//! `UserError("Origin not allowed", { code: "origin_not_allowed" })`. It runs for stateless
//! HTTP calls and WebSocket connections alike.
//!
//! It also has the auth seed's "Handling Errors" action, `protectedAction` (both seeds name
//! their actor `myActor`, and a registry has one), so that snippet runs verbatim from an
//! allowed origin.
//!
//! [`CorsCounter`] is the same counter with the declarative policy that RivetKit only has as
//! a tracking issue: `#[actor(origins = [..])]`, enforced by the server before any hook runs,
//! before the actor is created or woken, and for CORS preflights.

use rivet_actor::prelude::*;

use super::ALLOWED_ORIGINS;

/// The seed's `myActor`: `{ count }`.
#[derive(Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MyActor {
    /// How many times `increment` ran.
    pub count: i64,
}

#[actor]
impl MyActor {
    /// Refuses any request whose `Origin` is not one of [`ALLOWED_ORIGINS`] (a missing one
    /// included), over HTTP and WebSocket.
    #[before_connect]
    fn check_origin(&self, c: &mut ConnectCtx<'_, Self>) -> Result<(), UserError> {
        let origin = c.origin().unwrap_or("");
        if !ALLOWED_ORIGINS.contains(&origin) {
            return Err(UserError::new("Origin not allowed").code("origin_not_allowed"));
        }
        Ok(())
    }

    /// Adds one and returns the new count.
    #[action]
    fn increment(&mut self) -> i64 {
        self.count += 1;
        self.count
    }

    /// The auth seed's `protectedAction: (c) => ({ success: true })`.
    #[action]
    fn protected_action(&self) -> Protected {
        Protected { success: true }
    }
}

/// What `protectedAction` answers.
#[derive(Serialize, Deserialize)]
pub struct Protected {
    /// Always `true`: the action ran.
    pub success: bool,
}

/// `myActor` with the origin allowlist declared instead of checked in a hook.
#[derive(Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CorsCounter {
    /// How many times `increment` ran.
    pub count: i64,
}

#[actor(origins = [
    "http://localhost:3000",
    "https://myapp.com",
    "https://www.myapp.com",
])]
impl CorsCounter {
    /// Adds one and returns the new count.
    #[action]
    fn increment(&mut self) -> i64 {
        self.count += 1;
        self.count
    }
}
