use std::error::Error as StdError;
use std::fmt;

use crate::error::{ActorError, ClientError, UserError};

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
        // Another actor's answer (a call through `c.client()`): passed on as it is, so its
        // user errors reach this actor's caller; anything not public is masked later.
        let any = match any.downcast::<ClientError>() {
            Ok(client) => match *client {
                ClientError::Actor(actor) => {
                    return Self {
                        repr: Repr::Public(actor),
                    };
                }
                other => {
                    return Self {
                        repr: Repr::Internal(Box::new(other)),
                    };
                }
            },
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
