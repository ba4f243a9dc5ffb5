//! The authentication seed's role-based access control: a role hierarchy
//! (`user` < `moderator` < `admin`), permissions, and the `requireRole` /
//! `requirePermission` helpers as small functions over [`rivet_actor::auth`]'s.

use std::fmt;
use ts_rs::TS;

use rivet_actor::auth;
use rivet_actor::prelude::*;

/// The seed's `ROLE_HIERARCHY`: the order of the variants is the hierarchy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum Role {
    /// Level 1.
    User,
    /// Level 2.
    Moderator,
    /// Level 3.
    Admin,
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Role::User => "user",
            Role::Moderator => "moderator",
            Role::Admin => "admin",
        })
    }
}

/// What a connection may do: a list, or everything (said explicitly, not by an empty list
/// or a magic string).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Permissions {
    /// Every permission.
    All,
    /// Only these.
    Only(Vec<String>),
}

impl Permissions {
    /// Whether `permission` is granted.
    pub fn includes(&self, permission: &str) -> bool {
        match self {
            Permissions::All => true,
            Permissions::Only(list) => list.iter().any(|p| p == permission),
        }
    }
}

/// Who a connection is.
#[derive(Clone, Debug)]
pub struct ConnState {
    /// The caller's role.
    pub role: Role,
    /// What the caller may do.
    pub permissions: Permissions,
}

/// What a client sends: `{ token }`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnParams {
    /// `user`, `moderator` or `admin` (a stand-in for a real token).
    pub token: String,
}

/// The stub validation: the tokens `user`, `moderator` and `admin` are that role; `user`
/// may `read` and `edit_posts`, higher roles may do everything. Anything else is not a
/// token (`invalid_token`).
pub async fn validate_token(token: &str) -> Result<ConnState, UserError> {
    let (role, permissions) = match token {
        "user" => (
            Role::User,
            Permissions::Only(vec!["read".into(), "edit_posts".into()]),
        ),
        "moderator" => (Role::Moderator, Permissions::All),
        "admin" => (Role::Admin, Permissions::All),
        _ => return Err(UserError::new("Invalid token").code("invalid_token")),
    };
    Ok(ConnState { role, permissions })
}

/// The seed's `requireRole`: `forbidden`, `"<role> role required"`, below `required`.
pub fn require_role(state: &ConnState, required: Role) -> Result<(), UserError> {
    auth::require_min_role(state.role, required)
}

/// The seed's `requirePermission`: `forbidden`, `"Permission '<p>' required"`, without it.
pub fn require_permission(state: &ConnState, permission: &str) -> Result<(), UserError> {
    match &state.permissions {
        Permissions::All => Ok(()),
        Permissions::Only(list) => auth::require_permission(list, permission),
    }
}

/// The seed's `forumActor` (no state).
#[derive(Default, Serialize, Deserialize)]
pub struct ForumActor {}

#[actor]
impl ForumActor {
    /// Role and permissions from the token.
    #[conn_state]
    async fn auth(
        &self,
        _c: &mut ConnectCtx<'_, Self>,
        params: &ConnParams,
    ) -> Result<ConnState, UserError> {
        validate_token(&params.token).await
    }

    /// Moderators and above.
    #[action]
    fn delete_post(
        &mut self,
        c: &mut ActionCtx<'_, Self>,
        post_id: String,
    ) -> Result<(), UserError> {
        require_role(c.conn().state(), Role::Moderator)?;
        let _ = post_id; // Delete post...
        Ok(())
    }

    /// Needs `edit_posts`.
    #[action]
    fn edit_post(
        &mut self,
        c: &mut ActionCtx<'_, Self>,
        post_id: String,
        content: String,
    ) -> Result<(), UserError> {
        require_permission(c.conn().state(), "edit_posts")?;
        let _ = (post_id, content); // Edit post...
        Ok(())
    }
}
