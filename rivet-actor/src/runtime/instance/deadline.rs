//! Deadlines on user code in a turn: a hook or guard that awaits past its limit is cut off
//! at that `.await`, and its turn fails like any other (what it changed rolls back). Without
//! them one stuck `.await` (a fetch that never answers) would hold the actor, and everything
//! queued behind it, for ever.

use std::future::Future;
use std::task::Poll;
use std::time::Duration;

use crate::actor::Actor;
use crate::error::ActorError;

/// `fut`'s output, or `Err(Elapsed)` once it has run `limit` past its first poll. A hook or
/// action that finishes on its first poll — most do: they have nothing to await — costs no
/// timer (registering and cancelling one is a good part of an in-process call).
pub(crate) async fn within<F: Future>(
    limit: Duration,
    fut: F,
) -> Result<F::Output, tokio::time::error::Elapsed> {
    let mut fut = std::pin::pin!(fut);
    let first = std::future::poll_fn(|cx| Poll::Ready(fut.as_mut().poll(cx))).await;
    match first {
        Poll::Ready(out) => Ok(out),
        Poll::Pending => tokio::time::timeout(limit, fut).await,
    }
}

/// `hook`'s result, or `actor.hook_timed_out` once it has run `limit`.
pub(crate) async fn hook<A: Actor, T, E: From<ActorError>>(
    limit: Duration,
    id: &str,
    hook: &str,
    fut: impl Future<Output = Result<T, E>>,
) -> Result<T, E> {
    match within(limit, fut).await {
        Ok(result) => result,
        Err(_) => Err(timed_out::<A>(id, hook).into()),
    }
}

/// A guard's (`can_invoke`, `can_subscribe`, `can_publish`) verdict: `forbidden` when it
/// refuses, `actor.hook_timed_out` when it has not decided within `limit`.
pub(crate) async fn guard<A: Actor>(
    limit: Duration,
    id: &str,
    guard: &str,
    fut: impl Future<Output = bool>,
) -> Result<(), ActorError> {
    match within(limit, fut).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(ActorError::forbidden()),
        Err(_) => Err(timed_out::<A>(id, guard)),
    }
}

/// The error of a hook cut off at its limit (logged: the actor's code is stuck somewhere).
pub(crate) fn timed_out<A: Actor>(id: &str, hook: &str) -> ActorError {
    tracing::warn!(actor = A::NAME, id, hook, "a hook timed out");
    ActorError::hook_timed_out(hook)
}
