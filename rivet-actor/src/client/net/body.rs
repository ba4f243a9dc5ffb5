//! The network client's bound on an HTTP answer: a server (or a peer host in engine mode)
//! that sends without end cannot make the client hold it all.

use axum::body::Bytes;

use crate::error::ClientError;
use crate::http_body::read_at_most;

/// The most bytes the network client reads of one HTTP answer; a larger one fails the call
/// with [`ClientError::Transport`] (the call may have run). A WebSocket message is bounded
/// the same (64 MiB) by its socket's settings.
///
/// ```
/// assert_eq!(rivet_actor::client::net::MAX_ANSWER_BYTES, 64 * 1024 * 1024);
/// ```
pub const MAX_ANSWER_BYTES: usize = 64 * 1024 * 1024;

/// `response`'s body, refused past [`MAX_ANSWER_BYTES`] (announced or counted as it comes).
pub(crate) async fn read(response: reqwest::Response) -> Result<Bytes, ClientError> {
    read_at_most(response, MAX_ANSWER_BYTES)
        .await
        .map_err(ClientError::Transport)
}
