//! The authentication seed's `userProfile`: `onBeforeConnect` reads the actor's state to
//! decide who may connect.

use rivet_actor::prelude::*;
use ts_rs::TS;

/// What a client may send: `{ userId? }`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnParams {
    /// Who the caller claims to be.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
}

/// `{ ownerId }`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    /// The profile's owner.
    pub owner_id: String,
}

/// The seed's `userProfile`: `{ ownerId: "user-123", isPrivate: true }`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserProfile {
    /// The profile's owner.
    pub owner_id: String,
    /// Whether only the owner may connect.
    pub is_private: bool,
}

impl Default for UserProfile {
    fn default() -> Self {
        Self {
            owner_id: "user-123".into(),
            is_private: true,
        }
    }
}

#[actor]
impl UserProfile {
    /// A private profile admits its owner only. Params are optional (no params is no
    /// `userId`).
    #[before_connect]
    fn check(
        &self,
        _c: &mut ConnectCtx<'_, Self>,
        params: &Option<ConnParams>,
    ) -> Result<(), UserError> {
        let user_id = params.as_ref().and_then(|p| p.user_id.as_deref());
        if self.is_private && user_id != Some(self.owner_id.as_str()) {
            return Err(UserError::new("Access denied to private profile").code("forbidden"));
        }
        Ok(())
    }

    /// `{ ownerId }`.
    #[action]
    fn get_profile(&self) -> Profile {
        Profile {
            owner_id: self.owner_id.clone(),
        }
    }
}
