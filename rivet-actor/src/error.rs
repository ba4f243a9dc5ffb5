//! Errors: what a user returns ([`UserError`]), what a client sees ([`ActorError`]) and
//! the carrier between them ([`Error`]), which masks anything that is not meant for a client.

use std::error::Error as StdError;
use std::fmt;

/// Groups whose errors reach a client as they are. Any other group is masked as
/// `rivetkit.internal_error`.
const PUBLIC_GROUPS: &[&str] = &["user", "auth", "actor", "message", "queue", "schedule"];

/// The message a client sees instead of an internal error's text.
pub const INTERNAL_ERROR_MESSAGE: &str = "An internal error occurred";

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

    /// `rivetkit.internal_error` with the generic message: what a client sees of any failure
    /// that is not meant for it.
    pub fn internal() -> Self {
        Self::new("rivetkit", "internal_error", INTERNAL_ERROR_MESSAGE)
    }

    /// `auth.forbidden`: `can_invoke` said no.
    pub fn forbidden() -> Self {
        Self::new("auth", "forbidden", "Forbidden")
    }

    /// `actor.not_found`: no actor with that key or id.
    pub fn not_found() -> Self {
        Self::new("actor", "not_found", "The actor does not exist")
    }

    /// `actor.already_exists`: `create` for a key that is taken.
    pub fn already_exists() -> Self {
        Self::new(
            "actor",
            "already_exists",
            "An actor with this key already exists",
        )
    }

    /// `actor.action_not_found`: the actor has no action of that name.
    pub fn action_not_found(name: &str) -> Self {
        Self::new(
            "actor",
            "action_not_found",
            format!("The actor has no action named `{name}`"),
        )
    }

    /// `actor.unknown_actor`: the registry hosts no actor type of that name.
    pub fn unknown_actor(name: &str) -> Self {
        Self::new(
            "actor",
            "unknown_actor",
            format!("No actor type named `{name}` is registered"),
        )
    }

    /// `message.invalid_args`: the arguments do not match the action's parameters.
    pub fn invalid_args(detail: impl fmt::Display) -> Self {
        Self::new(
            "message",
            "invalid_args",
            format!("Invalid action arguments: {detail}"),
        )
    }

    /// `message.invalid_params`: connection params missing or not of the expected shape.
    pub fn invalid_params(detail: impl fmt::Display) -> Self {
        Self::new(
            "message",
            "invalid_params",
            format!("Invalid connection params: {detail}"),
        )
    }

    /// `message.invalid_input`: the create input does not match the actor's input type.
    pub fn invalid_input(detail: impl fmt::Display) -> Self {
        Self::new(
            "message",
            "invalid_input",
            format!("Invalid actor input: {detail}"),
        )
    }

    /// `auth.origin_not_allowed`: the request's `Origin` is not in the actor's allowlist.
    pub fn origin_not_allowed() -> Self {
        Self::new("auth", "origin_not_allowed", "Origin not allowed")
    }

    /// `actor.hook_timed_out`: a connect hook did not finish in time.
    pub fn hook_timed_out(hook: &str) -> Self {
        Self::new(
            "actor",
            "hook_timed_out",
            format!("The actor's {hook} hook did not finish in time"),
        )
    }

    /// `actor.stopped`: the instance went away while the call was in flight.
    pub fn stopped() -> Self {
        Self::new("actor", "stopped", "The actor stopped before answering")
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
            (_, "forbidden" | "origin_not_allowed") => 403,
            (
                _,
                "not_found"
                | "action_not_found"
                | "unknown_actor"
                | "request_handler_not_found"
                | "websocket_handler_not_found",
            ) => 404,
            (_, "action_timed_out" | "hook_timed_out") => 408,
            ("actor", "already_exists") => 409,
            (_, "too_large" | "message_too_long") => 413,
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

/// The error type of hooks and actions.
///
/// Anything implementing [`std::error::Error`] converts into it with `?`. A [`UserError`]
/// or a public [`ActorError`] reaches the client as it is; everything else is logged on the
/// server and reaches the client as `rivetkit.internal_error` with a generic message.
///
/// ```
/// use rivet_actor::{Error, UserError};
/// fn parse(s: &str) -> Result<u32, Error> {
///     if s.is_empty() {
///         return Err(UserError::new("empty").code("empty").into());
///     }
///     Ok(s.parse::<u32>()?) // a ParseIntError: internal, masked for clients
/// }
/// assert_eq!(parse("").unwrap_err().to_client().code, "empty");
/// assert!(parse("x").unwrap_err().to_client().is_internal());
/// ```
pub struct Error {
    repr: Repr,
}

enum Repr {
    Public(ActorError),
    Internal(Box<dyn StdError + Send + Sync + 'static>),
}

impl Error {
    /// An internal error with a message for the server's logs only.
    pub fn internal(message: impl Into<String>) -> Self {
        Self {
            repr: Repr::Internal(message.into().into()),
        }
    }

    /// What the client is allowed to see of this error.
    pub fn to_client(&self) -> ActorError {
        match &self.repr {
            Repr::Public(err) if err.is_public() => err.clone(),
            _ => ActorError::internal(),
        }
    }

    /// Whether the client sees this error as it is.
    pub fn is_public(&self) -> bool {
        matches!(&self.repr, Repr::Public(err) if err.is_public())
    }
}

impl<E: StdError + Send + Sync + 'static> From<E> for Error {
    fn from(err: E) -> Self {
        // `E` is 'static, so a user or actor error can be recognised whatever path it took.
        let any: Box<dyn std::any::Any> = Box::new(err);
        let any = match any.downcast::<UserError>() {
            Ok(user) => {
                return Self {
                    repr: Repr::Public((*user).into()),
                };
            }
            Err(any) => any,
        };
        let any = match any.downcast::<ActorError>() {
            Ok(actor) => {
                return Self {
                    repr: Repr::Public(*actor),
                };
            }
            Err(any) => any,
        };
        match any.downcast::<E>() {
            Ok(err) => Self {
                repr: Repr::Internal(err),
            },
            Err(_) => unreachable!("a Box<dyn Any> made from E downcasts to E"),
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Public(err) => fmt::Debug::fmt(err, f),
            Repr::Internal(err) => write!(f, "internal error: {err:?}"),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Public(err) => fmt::Display::fmt(err, f),
            Repr::Internal(err) => write!(f, "internal error: {err}"),
        }
    }
}

/// What a client call can fail with: the actor answered with an error, or the call never
/// got an answer.
///
/// ```
/// use rivet_actor::{ActorError, ClientError};
/// let err = ClientError::Actor(ActorError::forbidden());
/// assert!(err.is_forbidden());
/// assert_eq!(err.actor_error().map(|e| e.code.as_str()), Some("forbidden"));
/// ```
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The actor (or the server on its behalf) answered with an error.
    #[error("{0}")]
    Actor(ActorError),
    /// The request or connection failed before an answer arrived.
    #[error("transport error: {0}")]
    Transport(String),
    /// The answer arrived but could not be decoded into the expected type.
    #[error("could not decode the answer: {0}")]
    Decode(String),
    /// The connection was closed.
    #[error("the connection is closed")]
    Closed,
}

impl ClientError {
    /// The actor's error, if that is what this is.
    pub fn actor_error(&self) -> Option<&ActorError> {
        match self {
            ClientError::Actor(err) => Some(err),
            _ => None,
        }
    }

    /// The error code when the actor answered with an error.
    pub fn code(&self) -> Option<&str> {
        self.actor_error().map(|err| err.code.as_str())
    }

    /// Whether the actor refused the call as forbidden.
    pub fn is_forbidden(&self) -> bool {
        self.actor_error().is_some_and(ActorError::is_forbidden)
    }

    /// Whether the actor does not exist.
    pub fn is_not_found(&self) -> bool {
        self.actor_error().is_some_and(ActorError::is_not_found)
    }

    /// Whether the actor failed internally (the details stay on the server).
    pub fn is_internal(&self) -> bool {
        self.actor_error().is_some_and(ActorError::is_internal)
    }
}

impl From<ActorError> for ClientError {
    fn from(err: ActorError) -> Self {
        ClientError::Actor(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_error_stays_public_through_question_mark() {
        fn inner() -> Result<(), Error> {
            Err(UserError::new("nope").code("nope_code"))?;
            Ok(())
        }
        let client = inner().unwrap_err().to_client();
        assert_eq!(client.group, "user");
        assert_eq!(client.code, "nope_code");
        assert_eq!(client.message, "nope");
    }

    #[test]
    fn internal_text_is_masked() {
        let err: Error = std::io::Error::other("secret-internal-detail").into();
        let client = err.to_client();
        assert!(client.is_internal());
        assert!(!format!("{client:?}").contains("secret"));
        assert!(format!("{err}").contains("secret-internal-detail"));
    }

    #[test]
    fn non_public_actor_error_is_masked() {
        let err: Error = ActorError::new("driver", "boom", "secret").into();
        assert!(err.to_client().is_internal());
    }
}
