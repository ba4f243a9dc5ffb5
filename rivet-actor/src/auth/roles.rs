//! Role and permission checks for actions: each fails with a `forbidden` [`UserError`].

use std::collections::HashMap;
use std::fmt;

use crate::UserError;

/// Roles ranked by level: a role satisfies every role whose level is not higher than its own.
/// A role the hierarchy does not know satisfies nothing and is satisfied by nothing.
///
/// ```
/// use rivet_actor::auth::RoleHierarchy;
/// let roles = RoleHierarchy::new([("user", 1), ("moderator", 2), ("admin", 3)]);
/// assert!(roles.satisfies("admin", "moderator"));
/// assert!(!roles.satisfies("user", "moderator"));
/// assert!(!roles.satisfies("guest", "user"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RoleHierarchy {
    levels: HashMap<String, u32>,
}

impl RoleHierarchy {
    /// A hierarchy from `(role, level)` pairs; a higher level is more privileged.
    ///
    /// ```
    /// use rivet_actor::auth::RoleHierarchy;
    /// let roles = RoleHierarchy::new([("user", 1), ("admin", 3)]);
    /// assert_eq!(roles.level("admin"), Some(3));
    /// ```
    pub fn new<I, S>(roles: I) -> Self
    where
        I: IntoIterator<Item = (S, u32)>,
        S: Into<String>,
    {
        Self {
            levels: roles
                .into_iter()
                .map(|(role, level)| (role.into(), level))
                .collect(),
        }
    }

    /// The level of `role`, if the hierarchy knows it.
    ///
    /// ```
    /// use rivet_actor::auth::RoleHierarchy;
    /// let roles = RoleHierarchy::new([("user", 1)]);
    /// assert_eq!(roles.level("user"), Some(1));
    /// assert_eq!(roles.level("root"), None);
    /// ```
    pub fn level(&self, role: &str) -> Option<u32> {
        self.levels.get(role).copied()
    }

    /// Whether a holder of `have` may do what needs `need`. False if either is unknown.
    ///
    /// ```
    /// use rivet_actor::auth::RoleHierarchy;
    /// let roles = RoleHierarchy::new([("user", 1), ("moderator", 2)]);
    /// assert!(roles.satisfies("moderator", "moderator"));
    /// assert!(!roles.satisfies("moderator", "owner"));
    /// ```
    pub fn satisfies(&self, have: &str, need: &str) -> bool {
        match (self.level(have), self.level(need)) {
            (Some(have), Some(need)) => have >= need,
            _ => false,
        }
    }
}

/// `Ok` if `have` satisfies `need` in `hierarchy`, else `forbidden` with message
/// `"{need} role required"` (RivetKit's `requireRole`).
///
/// ```
/// use rivet_actor::auth::{RoleHierarchy, require_role};
/// let roles = RoleHierarchy::new([("user", 1), ("moderator", 2), ("admin", 3)]);
/// assert!(require_role(&roles, "admin", "moderator").is_ok());
/// let err = require_role(&roles, "user", "moderator").unwrap_err();
/// assert_eq!((err.code_str(), err.message()), ("forbidden", "moderator role required"));
/// ```
pub fn require_role(hierarchy: &RoleHierarchy, have: &str, need: &str) -> Result<(), UserError> {
    if hierarchy.satisfies(have, need) {
        Ok(())
    } else {
        Err(role_required(&need))
    }
}

/// Like [`require_role`] for a role enum ordered from least to most privileged
/// (`#[derive(PartialOrd)]` ranks variants in declaration order); the message uses the
/// role's `Display`.
///
/// ```
/// use rivet_actor::auth::require_min_role;
/// use std::fmt;
///
/// #[derive(Clone, Copy, PartialEq, PartialOrd)]
/// enum Role { User, Moderator, Admin }
///
/// impl fmt::Display for Role {
///     fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
///         f.write_str(match self { Role::User => "user", Role::Moderator => "moderator", Role::Admin => "admin" })
///     }
/// }
///
/// assert!(require_min_role(Role::Admin, Role::Moderator).is_ok());
/// assert_eq!(require_min_role(Role::User, Role::Admin).unwrap_err().message(), "admin role required");
/// ```
pub fn require_min_role<R: PartialOrd + fmt::Display>(have: R, need: R) -> Result<(), UserError> {
    if have >= need {
        Ok(())
    } else {
        Err(role_required(&need))
    }
}

/// `Ok` if `perms` contains `perm`, else `forbidden` with message `"Permission '{perm}'
/// required"` (RivetKit's `requirePermission`).
///
/// ```
/// use rivet_actor::auth::require_permission;
/// let perms = vec!["read".to_owned(), "edit_posts".to_owned()];
/// assert!(require_permission(&perms, "edit_posts").is_ok());
/// let err = require_permission(&perms, "delete_posts").unwrap_err();
/// assert_eq!((err.code_str(), err.message()), ("forbidden", "Permission 'delete_posts' required"));
/// ```
pub fn require_permission<S: AsRef<str>>(perms: &[S], perm: &str) -> Result<(), UserError> {
    if perms.iter().any(|p| p.as_ref() == perm) {
        Ok(())
    } else {
        Err(UserError::new(format!("Permission '{perm}' required")).code("forbidden"))
    }
}

fn role_required(need: &dyn fmt::Display) -> UserError {
    UserError::new(format!("{need} role required")).code("forbidden")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forum() -> RoleHierarchy {
        RoleHierarchy::new([("user", 1), ("moderator", 2), ("admin", 3)])
    }

    #[test]
    fn hierarchy_ranks_roles() {
        let roles = forum();
        for (have, need, ok) in [
            ("user", "user", true),
            ("user", "moderator", false),
            ("user", "admin", false),
            ("moderator", "user", true),
            ("moderator", "moderator", true),
            ("moderator", "admin", false),
            ("admin", "user", true),
            ("admin", "admin", true),
        ] {
            assert_eq!(roles.satisfies(have, need), ok, "{have} >= {need}");
            assert_eq!(require_role(&roles, have, need).is_ok(), ok);
        }
    }

    #[test]
    fn unknown_roles_fail_closed() {
        let roles = forum();
        // An unknown role held grants nothing; an unknown role required is granted to no one.
        assert!(require_role(&roles, "superuser", "user").is_err());
        assert!(require_role(&roles, "admin", "owner").is_err());
        assert!(require_role(&RoleHierarchy::default(), "admin", "admin").is_err());
        // Roles are case-sensitive.
        assert!(require_role(&roles, "Admin", "user").is_err());
    }

    #[test]
    fn role_error_matches_rivetkit() {
        let err = require_role(&forum(), "user", "moderator").unwrap_err();
        assert_eq!(err.code_str(), "forbidden");
        assert_eq!(err.message(), "moderator role required");
        let client: crate::ActorError = err.into();
        assert_eq!(
            (client.group.as_str(), client.code.as_str()),
            ("user", "forbidden")
        );
    }

    #[test]
    fn typed_roles_compare_by_declaration_order() {
        #[derive(PartialEq, PartialOrd, Debug)]
        enum Role {
            User,
            Moderator,
            Admin,
        }
        impl fmt::Display for Role {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", format!("{self:?}").to_lowercase())
            }
        }
        assert!(require_min_role(Role::Moderator, Role::User).is_ok());
        assert!(require_min_role(Role::Admin, Role::Admin).is_ok());
        let err = require_min_role(Role::Moderator, Role::Admin).unwrap_err();
        assert_eq!(
            (err.code_str(), err.message()),
            ("forbidden", "admin role required")
        );
    }

    #[test]
    fn permissions_are_exact_matches() {
        let perms = vec!["read".to_owned(), "edit_posts".to_owned()];
        assert!(require_permission(&perms, "read").is_ok());
        assert!(require_permission(&perms, "edit_posts").is_ok());
        for missing in ["write", "edit", "EDIT_POSTS", ""] {
            let err = require_permission(&perms, missing).unwrap_err();
            assert_eq!(err.code_str(), "forbidden");
            assert_eq!(err.message(), format!("Permission '{missing}' required"));
        }
        let none: &[&str] = &[];
        assert!(require_permission(none, "read").is_err());
        assert!(require_permission(&["write"], "write").is_ok());
    }
}
