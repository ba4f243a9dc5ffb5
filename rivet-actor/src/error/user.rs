use std::error::Error as StdError;
use std::fmt;

use crate::error::ActorError;

/// An error meant for the client: its message, code and metadata reach the caller as
/// `ActorError { group: "user", code, message, metadata }`.
///
/// ```
/// use rivet_actor::UserError;
/// let err = UserError::new("Insufficient permissions")
///     .code("insufficient_permissions")
///     .metadata(serde_json::json!({ "needed": "member" }));
/// assert_eq!(err.code_str(), "insufficient_permissions");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct UserError {
    message: String,
    code: String,
    metadata: Option<serde_json::Value>,
}

impl UserError {
    /// A user error with the default code `user_error`.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            code: "user_error".to_owned(),
            metadata: None,
        }
    }

    /// Sets the machine-readable code a client matches on (`error.code` in TypeScript).
    pub fn code(mut self, code: impl Into<String>) -> Self {
        self.code = code.into();
        self
    }

    /// Attaches structured data for the client.
    pub fn metadata(mut self, metadata: serde_json::Value) -> Self {
        self.metadata = Some(metadata);
        self
    }

    /// The code set with [`UserError::code`].
    pub fn code_str(&self) -> &str {
        &self.code
    }

    /// The human-readable message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for UserError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (user.{})", self.message, self.code)
    }
}

impl StdError for UserError {}

impl From<UserError> for ActorError {
    fn from(err: UserError) -> Self {
        ActorError {
            group: "user".to_owned(),
            code: err.code,
            message: err.message,
            metadata: err.metadata,
        }
    }
}
