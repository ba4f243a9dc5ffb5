//! `POST /gateway/{target}/action/{action}`: a stateless action over HTTP.
//!
//! The body and params are decoded before the actor is named, so malformed input never
//! creates or wakes an actor. Then the connect pipeline runs for a throwaway connection,
//! `can_invoke`, the action, `on_disconnect` — all inside the actor's turn order.

use crate::error::ActorError;
use crate::protocol::{self, Encoding, Value};
use crate::registry::Registry;
use crate::runtime::ActorId;
use crate::server::gateway;
use crate::server::request::{self, HttpRequest, HttpResponse};
use crate::server::respond::{error_response, ok_response};

/// Runs action `action` of `target` for a stateless HTTP call.
pub(crate) async fn action(
    registry: &Registry,
    target: &str,
    action: &str,
    request: HttpRequest,
) -> HttpResponse {
    let encoding = match request::encoding(request.headers()) {
        Ok(encoding) => encoding,
        Err(err) => return error_response(Encoding::Json, &err),
    };
    match run(registry, target, action, request, encoding).await {
        Ok((id, output)) => ok_response(
            encoding,
            protocol::encode_action_response(encoding, &output),
            Some(&id),
        ),
        Err(err) => error_response(encoding, &err),
    }
}

async fn run(
    registry: &Registry,
    target: &str,
    action: &str,
    request: HttpRequest,
    encoding: Encoding,
) -> Result<(ActorId, Value), ActorError> {
    let (parts, body) = request.into_parts();
    let query = request::query(&parts.uri)?;
    let bytes = request::read_body(body, registry.server_config()).await?;
    let args = protocol::decode_action_request(encoding, &bytes).map_err(ActorError::malformed)?;
    let params = request::conn_params(&parts.headers)?;
    let named = gateway::name(registry, target, &query).await?;
    named.check_origin(registry, request::origin(&parts.headers))?;
    let (target, admission) = named.enter(params, request::request_info(parts)).await?;
    let (actor, id, action) = (target.actor.clone(), target.id.clone(), action.to_owned());
    target
        .settle(async move { actor.stateless(&id, admission, &action, args).await })
        .await
}
