//! `POST /gateway/{target}/queue/{name}`: a message to one of the actor's declared queues.
//!
//! Body `{body, wait?, timeout?, name?}` in the request's encoding; answer
//! `{status: "completed" | "timedOut", response?}`. The body (its shape and size), params
//! and queue name are checked before the actor is resolved, so a malformed or oversized send
//! or an undeclared queue never creates or wakes an actor.

use std::time::Duration;

use crate::error::ActorError;
use crate::protocol::{self, Encoding, QueueSendResponse, QueueSendStatus};
use crate::queue::QueueSendResult;
use crate::registry::Registry;
use crate::runtime::ActorId;
use crate::server::gateway;
use crate::server::request::{self, HttpRequest, HttpResponse};
use crate::server::respond::{error_response, ok_response};

/// How long a sender that asks to wait without a timeout waits.
const DEFAULT_WAIT: Duration = Duration::from_secs(30);

/// Sends the request's message to queue `queue` of `target`.
pub(crate) async fn send(
    registry: &Registry,
    target: &str,
    queue: &str,
    request: HttpRequest,
) -> HttpResponse {
    let encoding = match request::encoding(request.headers()) {
        Ok(encoding) => encoding,
        Err(err) => return error_response(Encoding::Json, &err),
    };
    match run(registry, target, queue, request, encoding).await {
        Ok((id, result)) => {
            let response = match result {
                QueueSendResult::Completed(response) => QueueSendResponse {
                    status: QueueSendStatus::Completed,
                    response,
                },
                QueueSendResult::TimedOut => QueueSendResponse {
                    status: QueueSendStatus::TimedOut,
                    response: None,
                },
            };
            ok_response(
                encoding,
                protocol::encode_queue_send_response(encoding, &response),
                Some(&id),
            )
        }
        Err(err) => error_response(encoding, &err),
    }
}

async fn run(
    registry: &Registry,
    target: &str,
    queue: &str,
    request: HttpRequest,
    encoding: Encoding,
) -> Result<(ActorId, QueueSendResult<protocol::Value>), ActorError> {
    let (parts, body) = request.into_parts();
    let query = request::query(&parts.uri)?;
    let bytes = request::read_body(body, registry.server_config()).await?;
    let send =
        protocol::decode_queue_send_request(encoding, &bytes).map_err(ActorError::malformed)?;
    if let Some(name) = &send.name
        && name != queue
    {
        return Err(ActorError::malformed(format!(
            "the body names queue `{name}` but the path names `{queue}`"
        )));
    }
    let params = request::conn_params(&parts.headers)?;
    let named = gateway::name(registry, target, &query).await?;
    named.check_origin(registry, request::origin(&parts.headers))?;
    if !named.actor.has_queue(queue) {
        return Err(ActorError::queue_not_found(named.actor.name(), queue));
    }
    named.actor.check_queue_body(&send.body)?;
    let (target, admission) = named.enter(params, request::request_info(parts)).await?;
    let wait = send
        .wait
        .then(|| send.timeout_ms.map_or(DEFAULT_WAIT, Duration::from_millis));
    let (actor, id, queue) = (target.actor.clone(), target.id.clone(), queue.to_owned());
    let body = send.body;
    target
        .settle(async move { actor.queue_send(&id, admission, &queue, body, wait).await })
        .await
}
