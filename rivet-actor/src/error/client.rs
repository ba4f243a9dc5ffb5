use crate::error::ActorError;

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
    /// The request or connection failed before an answer arrived, or no answer came in
    /// time ([`crate::Client::timeout`]): the call may or may not have run.
    #[error("transport error: {0}")]
    Transport(String),
    /// The server could not be reached (no connection was made, or a connection did not
    /// come back within [`crate::Client::reconnect_wait`]): the call was not sent, so it is
    /// safe to retry.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// The answer arrived but could not be decoded into the expected type.
    #[error("could not decode the answer: {0}")]
    Decode(String),
    /// The connection was closed.
    #[error("the connection is closed")]
    Closed,
    /// An event stream's reader fell more than
    /// [`EVENT_STREAM_CAPACITY`](crate::client::EVENT_STREAM_CAPACITY) events
    /// behind: this many were dropped at this point of the stream.
    #[error("the event stream fell behind: {0} events were dropped")]
    Lagged(u64),
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

    /// Whether the call was not sent because the server could not be reached (safe to
    /// retry).
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # use rivet_actor::prelude::*;
    /// # #[derive(Default, Serialize, Deserialize)] struct Counter { n: u64 }
    /// # #[actor] impl Counter { #[action] fn increment(&mut self, by: u64) -> u64 { self.n += by; self.n } }
    /// // A port nothing listens on any more.
    /// let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    /// let client = Client::new(format!("http://127.0.0.1:{port}"));
    /// let err = client.get_or_create::<Counter>("a").increment(1).await.unwrap_err();
    /// assert!(err.is_unavailable());
    /// # });
    /// ```
    pub fn is_unavailable(&self) -> bool {
        matches!(self, ClientError::Unavailable(_))
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
