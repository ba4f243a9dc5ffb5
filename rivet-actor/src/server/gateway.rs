//! Naming the actor of a `/gateway/{target}/…` request: by id (`{id}` or `{id}@{token}`), or
//! by actor name with the `rvt-*` query (`rvt-method=get|getOrCreate`, `rvt-key`, `rvt-input`).

use std::sync::Arc;

use crate::error::ActorError;
use crate::protocol::names::{
    METHOD_GET, METHOD_GET_OR_CREATE, QUERY_INPUT, QUERY_KEY, QUERY_KEY_JSON, QUERY_METHOD,
};
use crate::protocol::{self, Value};
use crate::registry::Registry;
use crate::runtime::{ActorId, Admission, ErasedActor, ErasedLookup, Key};
use crate::server::request::GatewayQuery;

/// The actor a gateway request reaches, resolved: its type and its id.
pub(crate) struct Resolved {
    pub(crate) actor: Arc<dyn ErasedActor>,
    pub(crate) id: ActorId,
    /// Whether resolving created it (for this request).
    pub(crate) created: bool,
}

impl Resolved {
    /// Runs `work` on the actor and answers with its id and [`Resolved::unless_refused`]'s
    /// outcome. When this request created the actor, `work` runs in a task of its own: a
    /// client that hangs up mid-request (which drops the request's future) cannot cut the
    /// request off between the creation and the discard of a refused request's actor.
    pub(crate) async fn settle<T, F>(self, work: F) -> Result<(ActorId, T), ActorError>
    where
        T: Send + 'static,
        F: std::future::Future<Output = Result<T, ActorError>> + Send + 'static,
    {
        if !self.created {
            return work.await.map(|value| (self.id, value));
        }
        let settled = tokio::spawn(async move {
            let result = work.await;
            let value = self.unless_refused(result).await?;
            Ok((self.id, value))
        });
        settled
            .await
            .unwrap_or_else(|_| Err(ActorError::internal()))
    }

    /// Passes `result` through; when it failed and this request created the actor, the
    /// actor is removed unless something else has used it meanwhile: a refused request
    /// (guards, params, connect hooks, `can_invoke`) leaves nothing behind.
    pub(crate) async fn unless_refused<T>(
        &self,
        result: Result<T, ActorError>,
    ) -> Result<T, ActorError> {
        if result.is_err() && self.created {
            self.actor.discard_unused(&self.id).await;
        }
        result
    }
}

/// The actor a gateway request names, not yet resolved: its type is known (so its origin
/// policy can be checked) but nothing has been created or woken.
pub(crate) struct Named {
    pub(crate) actor: Arc<dyn ErasedActor>,
    lookup: ErasedLookup,
}

impl Named {
    /// Admits the caller (params decoded, the registry's guards run), then finds or creates
    /// the actor: a caller the guards refuse never creates or wakes one. The guards see the
    /// id the actor has, or the one reserved for it if it is about to be created.
    pub(crate) async fn enter(
        self,
        params: Option<Value>,
        request: crate::conn::Request,
    ) -> Result<(Resolved, Admission), ActorError> {
        let (planned, exists) = match &self.lookup {
            // Found by id when it was named: no second lookup.
            ErasedLookup::Id(id) => (id.clone(), true),
            lookup => self.actor.plan(lookup).await?,
        };
        let admission = self.actor.admit(&planned, params, request).await?;
        if exists {
            let resolved = Resolved {
                actor: self.actor,
                id: planned,
                created: false,
            };
            return Ok((resolved, admission));
        }
        // Resolved in a task of its own: a client that hangs up meanwhile (dropping this
        // future) must not leave behind an actor its hooks never admitted.
        let (tx, rx) = tokio::sync::oneshot::channel();
        let (actor, lookup, reserved) = (self.actor.clone(), self.lookup, planned.clone());
        tokio::spawn(async move {
            let resolved = actor.resolve(lookup, Some(reserved)).await;
            if let Err(Ok((id, true))) = tx.send(resolved) {
                actor.discard_unused(&id).await;
            }
        });
        let (id, created) = rx.await.map_err(|_| ActorError::internal())??;
        let resolved = Resolved {
            actor: self.actor,
            id,
            created,
        };
        if resolved.id == planned {
            return Ok((resolved, admission));
        }
        // Another request created the actor first, under its own id: the guards check the
        // actor that exists.
        let Admission {
            raw_params,
            request,
            ..
        } = admission;
        let admission = resolved
            .actor
            .admit(&resolved.id, raw_params, request)
            .await?;
        Ok((resolved, admission))
    }

    /// Refuses the request unless the actor type's origin policy admits its `Origin`.
    pub(crate) fn check_origin(
        &self,
        registry: &Registry,
        origin: Option<&str>,
    ) -> Result<(), ActorError> {
        if registry.origin_policy(self.actor.name()).allows(origin) {
            Ok(())
        } else {
            Err(ActorError::origin_not_allowed())
        }
    }
}

/// Names the actor of a gateway request: by id (a storage lookup, no wake) or by type name
/// and the `rvt-*` query.
pub(crate) async fn name(
    registry: &Registry,
    target: &str,
    query: &GatewayQuery,
) -> Result<Named, ActorError> {
    let Some(method) = query.get(QUERY_METHOD) else {
        // By id; a `@token` suffix carries a token we do not use.
        let id = target.split_once('@').map_or(target, |(id, _)| id);
        let found = by_id(registry, id).await?;
        return Ok(Named {
            actor: found.actor,
            lookup: ErasedLookup::Id(found.id),
        });
    };
    let actor = registry
        .actor_type(target)
        .cloned()
        .ok_or_else(|| ActorError::unknown_actor(target))?;
    let key = query_key(query)?;
    let lookup = match method.as_str() {
        METHOD_GET => ErasedLookup::Get(key),
        METHOD_GET_OR_CREATE => ErasedLookup::GetOrCreate(key, query_input(query)?),
        other => return Err(ActorError::invalid_method(other)),
    };
    Ok(Named { actor, lookup })
}

/// The actor with this id, whatever its type (a storage lookup; nothing is woken).
pub(crate) async fn by_id(registry: &Registry, id: &str) -> Result<Resolved, ActorError> {
    let record = registry.storage().find_by_id(id).await.map_err(|err| {
        tracing::error!(%err, "storage failed while looking up an actor");
        ActorError::internal()
    })?;
    let record = record.ok_or_else(ActorError::not_found)?;
    let actor = registry
        .actor_type(&record.name)
        .cloned()
        .ok_or_else(ActorError::not_found)?;
    Ok(Resolved {
        actor,
        id: ActorId::new(record.id),
        created: false,
    })
}

/// The key: `rvt-key-json` (our client's collision-free form) when present, and then
/// `rvt-key` must be its comma-joined form; else the npm client's comma-joined `rvt-key`
/// (absent for the empty key).
fn query_key(query: &GatewayQuery) -> Result<Key, ActorError> {
    if let Some(json) = query.get(QUERY_KEY_JSON) {
        let parts = protocol::json_key::decode(json).map_err(ActorError::malformed)?;
        // Our client sends both forms of one key. Forms that disagree were not sent by one
        // client: a raw request's own query added one (and would have chosen the actor).
        let joined = protocol::query_key::encode(&parts);
        if joined.as_deref() != query.get(QUERY_KEY).map(String::as_str) {
            return Err(ActorError::malformed(
                "`rvt-key` and `rvt-key-json` name different keys",
            ));
        }
        return Ok(Key(parts));
    }
    Ok(Key(protocol::query_key::decode_param(
        query.get(QUERY_KEY).map(String::as_str),
    )))
}

/// The create input: base64url of CBOR.
fn query_input(query: &GatewayQuery) -> Result<Option<Value>, ActorError> {
    let Some(encoded) = query.get(QUERY_INPUT) else {
        return Ok(None);
    };
    protocol::input::decode_query_input(encoded)
        .map(Some)
        .map_err(|err| ActorError::invalid_input(format!("{QUERY_INPUT}: {err}")))
}
