use std::error::Error as StdError;
use std::fmt;

use crate::error::PUBLIC_GROUPS;

/// An error as a client sees it, on the wire and in the generated client.
///
/// ```
/// use rivet_actor::ActorError;
/// let err = ActorError::forbidden();
/// assert!(err.is_forbidden());
/// assert_eq!(err.http_status(), 403);
/// ```
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ActorError {
    /// `user`, `auth`, `actor`, `message`, `queue`, `schedule` or `rivetkit`.
    pub group: String,
    /// Machine-readable code within the group, e.g. `forbidden`.
    pub code: String,
    /// Human-readable message.
    pub message: String,
    /// Structured data attached by whoever raised the error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<serde_json::Value>,
}

impl ActorError {
    /// An error of any group and code.
    pub fn new(
        group: impl Into<String>,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            group: group.into(),
            code: code.into(),
            message: message.into(),
            metadata: None,
        }
    }

    /// Attaches structured data.
    pub fn with_metadata(mut self, metadata: serde_json::Value) -> Self {
        self.metadata = Some(metadata);
        self
    }

    /// Whether this error's group reaches clients unmasked.
    pub fn is_public(&self) -> bool {
        PUBLIC_GROUPS.contains(&self.group.as_str())
            || (self.group == "rivetkit" && self.code == "internal_error")
    }

    /// `auth.forbidden`, or a user error with code `forbidden`.
    pub fn is_forbidden(&self) -> bool {
        self.code == "forbidden" && (self.group == "auth" || self.group == "user")
    }

    /// `actor.not_found`.
    pub fn is_not_found(&self) -> bool {
        self.group == "actor" && self.code == "not_found"
    }

    /// `rivetkit.internal_error`.
    pub fn is_internal(&self) -> bool {
        self.group == "rivetkit" && self.code == "internal_error"
    }

    /// The HTTP status this error answers with.
    pub fn http_status(&self) -> u16 {
        match (self.group.as_str(), self.code.as_str()) {
            ("auth", "unauthorized") => 401,
            (_, "forbidden" | "origin_not_allowed" | "admin_disabled") => 403,
            (
                _,
                "not_found"
                | "action_not_found"
                | "unknown_actor"
                | "request_handler_not_found"
                | "websocket_handler_not_found",
            ) => 404,
            (_, "action_timed_out" | "hook_timed_out") | ("message", "timed_out") => 408,
            ("actor", "already_exists") => 409,
            (_, "method_not_allowed") => 405,
            (_, "too_large" | "message_too_long") => 413,
            (_, "too_many_connections") => 503,
            ("user" | "message" | "queue" | "schedule", _) => 400,
            _ => 500,
        }
    }
}

impl fmt::Display for ActorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}: {}", self.group, self.code, self.message)
    }
}

impl StdError for ActorError {}
