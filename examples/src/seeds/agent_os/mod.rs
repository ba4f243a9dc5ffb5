//! The agentOS authentication seed: the `vm` actor comes from a library ([`vm`]) and has no
//! hooks; the seed's `onBeforeConnect` (validate the token) and `createConnState`
//! (`{ userId, role }`) are attached to it from outside with
//! [`RegistryBuilder::guard`](rivet_actor::RegistryBuilder::guard). Both read the client's
//! `{ authToken }` params and run, in registration order, before any of the actor's own
//! hooks.

pub mod vm;

use rivet_actor::RegistryBuilder;
use rivet_actor::guard::{ConnectGuard, GuardCtx};
use rivet_actor::prelude::*;

pub use vm::{Caller, Vm};

/// What a client sends: `{ authToken }`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthParams {
    /// The caller's token.
    pub auth_token: String,
}

/// The token payload of the seed's `validateToken`.
pub struct TokenPayload {
    /// The subject.
    pub sub: String,
    /// The role.
    pub role: String,
}

/// The stub validation: any non-empty token is `user-123`, a `member`.
pub async fn validate_token(token: &str) -> Option<TokenPayload> {
    (!token.is_empty()).then(|| TokenPayload {
        sub: "user-123".into(),
        role: "member".into(),
    })
}

/// The seed's `onBeforeConnect`: pass/fail, `forbidden` for an invalid token.
pub struct BeforeConnect;

impl ConnectGuard<Vm> for BeforeConnect {
    type Params = AuthParams;
    type Identity = ();

    async fn check(&self, _c: &GuardCtx<'_>, params: AuthParams) -> Result<(), Error> {
        if validate_token(&params.auth_token).await.is_none() {
            return Err(UserError::new("Forbidden").code("forbidden").into());
        }
        Ok(())
    }
}

/// The seed's `createConnState`: `{ userId, role }`, read by the VM as its [`Caller`].
pub struct CreateConnState;

impl ConnectGuard<Vm> for CreateConnState {
    type Params = AuthParams;
    type Identity = Caller;

    async fn check(&self, _c: &GuardCtx<'_>, params: AuthParams) -> Result<Caller, Error> {
        let payload = validate_token(&params.auth_token)
            .await
            .ok_or_else(|| UserError::new("Forbidden").code("forbidden"))?;
        Ok(Caller {
            user_id: payload.sub,
            role: payload.role,
        })
    }
}

/// Hosts the library's `vm` with the application's two guards.
pub fn register(builder: RegistryBuilder) -> RegistryBuilder {
    builder
        .register::<Vm>()
        .guard::<Vm, _>(BeforeConnect)
        .guard::<Vm, _>(CreateConnState)
}
