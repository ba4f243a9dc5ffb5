//! The actors API the npm client uses to resolve and manage actors: `PUT /actors`
//! (get-or-create), `POST /actors` (create), `GET /actors` (look up), `DELETE /actors/{id}`.
//! Bodies are JSON; keys use the `/`-joined form; input is base64 of CBOR.

use http::StatusCode;
use serde::Deserialize;

use crate::error::ActorError;
use crate::protocol::{self, Encoding, Value};
use crate::registry::Registry;
use crate::runtime::{ActorId, ErasedLookup, Key};
use crate::server::gateway;
use crate::server::request::{self, HttpRequest, HttpResponse};
use crate::server::respond::{error_response, json_response};
use crate::storage::ActorRecord;

#[derive(Deserialize)]
pub(crate) struct CreateBody {
    name: String,
    #[serde(default)]
    key: Option<String>,
    #[serde(default)]
    input: Option<String>,
}

/// The most ids one `GET /actors?actor_ids=` may name.
const MAX_IDS_PER_LOOKUP: usize = 100;
/// Actors one page of `GET /actors` lists when the request names no `limit`.
const DEFAULT_LIST_LIMIT: usize = 100;
/// The most actors one page of `GET /actors` lists.
const MAX_LIST_LIMIT: usize = 1000;

fn fail(err: ActorError) -> HttpResponse {
    error_response(Encoding::Json, &err)
}

/// The management API's gate: the admin token as `Authorization: Bearer <token>`.
pub(crate) fn require_admin(
    registry: &Registry,
    headers: &http::HeaderMap,
) -> Result<(), ActorError> {
    let token = registry
        .admin_token()
        .ok_or_else(ActorError::admin_disabled)?;
    let presented = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .ok_or_else(ActorError::unauthorized)?;
    if token.matches(presented.trim()) {
        Ok(())
    } else {
        Err(ActorError::unauthorized())
    }
}

/// What a guard sees of an actors API request: its headers.
fn guard_request(headers: &http::HeaderMap) -> crate::conn::Request {
    crate::conn::Request {
        headers: headers.clone(),
        ..Default::default()
    }
}

/// The actor type's origin policy, as the gateway applies it: before anything is resolved.
fn check_origin(
    registry: &Registry,
    name: &str,
    headers: &http::HeaderMap,
) -> Result<(), ActorError> {
    if registry
        .origin_policy(name)
        .allows(request::origin(headers))
    {
        Ok(())
    } else {
        Err(ActorError::origin_not_allowed())
    }
}

/// A JSON body of type `T`; anything else is `message.malformed`, without echoing the input.
async fn json_body<T: serde::de::DeserializeOwned>(
    registry: &Registry,
    request: HttpRequest,
) -> Result<T, ActorError> {
    let bytes = request::read_body(request.into_body(), registry.server_config()).await?;
    serde_json::from_slice(&bytes)
        .map_err(|_| ActorError::malformed("the body is not a valid actors API request"))
}

fn parse_key(key: Option<&str>) -> Result<Key, ActorError> {
    match key {
        None => Ok(Key::default()),
        Some(text) => protocol::path_key::decode(text)
            .map(Key)
            .map_err(ActorError::malformed),
    }
}

fn parse_input(input: Option<&str>) -> Result<Option<Value>, ActorError> {
    let Some(text) = input else { return Ok(None) };
    protocol::input::decode_actors_input(text)
        .map(Some)
        .map_err(|err| ActorError::invalid_input(format!("input: {err}")))
}

/// The API's view of an actor.
fn actor_json(record: &ActorRecord) -> serde_json::Value {
    serde_json::json!({
        "actor_id": record.id,
        "name": record.name,
        "key": protocol::path_key::encode(&record.key),
        "namespace_id": "default",
        "runner_name_selector": "default",
        "create_ts": record.created_at_ms,
        "start_ts": record.created_at_ms,
        "connectable_ts": record.created_at_ms,
    })
}

async fn create_or_get(
    registry: &Registry,
    body: CreateBody,
    create: bool,
    headers: &http::HeaderMap,
) -> Result<(ActorRecord, bool), ActorError> {
    let actor = registry
        .actor_type(&body.name)
        .cloned()
        .ok_or_else(|| ActorError::unknown_actor(&body.name))?;
    let key = parse_key(body.key.as_deref())?;
    let input = parse_input(body.input.as_deref())?;
    let lookup = if create {
        ErasedLookup::Create(key, input)
    } else {
        ErasedLookup::GetOrCreate(key, input)
    };
    // The registry's guards, as on the gateway, before anything is created: against the
    // actor's id, or the one reserved for it. The type's params and connect hooks are a
    // connection's: the npm client sends no params here, and creating an actor runs no
    // connect hook, as in RivetKit.
    let params = request::conn_params(headers)?;
    let (planned, exists) = actor.plan(&lookup).await?;
    actor
        .check_guards(&planned, params.clone(), guard_request(headers))
        .await?;
    let (id, created) = if exists {
        (planned.clone(), false)
    } else {
        actor.resolve(lookup, Some(planned.clone())).await?
    };
    if id != planned {
        // Another request created it first, under its own id: check the one that exists.
        actor
            .check_guards(&id, params, guard_request(headers))
            .await?;
    }
    let record = actor.record(&id).await?.ok_or_else(ActorError::not_found)?;
    Ok((record, created))
}

/// `PUT /actors`.
pub(crate) async fn get_or_create(registry: &Registry, request: HttpRequest) -> HttpResponse {
    let headers = request.headers().clone();
    let result = async {
        let body: CreateBody = json_body(registry, request).await?;
        check_origin(registry, &body.name, &headers)?;
        create_or_get(registry, body, false, &headers).await
    };
    match result.await {
        Ok((record, created)) => json_response(
            StatusCode::OK,
            &serde_json::json!({ "actor": actor_json(&record), "created": created }),
        ),
        Err(err) => fail(err),
    }
}

/// `POST /actors`.
pub(crate) async fn create(registry: &Registry, request: HttpRequest) -> HttpResponse {
    let headers = request.headers().clone();
    let result = async {
        let body: CreateBody = json_body(registry, request).await?;
        check_origin(registry, &body.name, &headers)?;
        create_or_get(registry, body, true, &headers).await
    };
    match result.await {
        Ok((record, _)) => json_response(
            StatusCode::OK,
            &serde_json::json!({ "actor": actor_json(&record) }),
        ),
        Err(err) => fail(err),
    }
}

/// `GET /actors`.
pub(crate) async fn list(registry: &Registry, request: HttpRequest) -> HttpResponse {
    let query = request::query(request.uri());
    let headers = request.headers().clone();
    // Where the next page of a listing starts: set when this page is full.
    let mut cursor: Option<String> = None;
    let result = async {
        let query = query?;
        let storage = registry.storage();
        let internal = |err: crate::storage::StorageError| {
            tracing::error!(%err, "storage failed while listing actors");
            ActorError::internal()
        };
        let mut records = Vec::new();
        if let Some(ids) = query.get("actor_ids") {
            // Ids are unguessable: knowing one is what a lookup by id needs.
            let ids: Vec<&str> = ids.split(',').filter(|id| !id.is_empty()).collect();
            if ids.len() > MAX_IDS_PER_LOOKUP {
                return Err(ActorError::malformed(format!(
                    "at most {MAX_IDS_PER_LOOKUP} actor_ids per lookup"
                )));
            }
            for id in ids {
                let Some(record) = storage.find_by_id(id).await.map_err(internal)? else {
                    continue;
                };
                // As the gateway's lookup by id: the type's origin policy and the
                // registry's guards decide whether this caller may learn of it (one it may
                // not is left out, as if it did not exist).
                let Some(actor) = registry.actor_type(&record.name) else {
                    continue;
                };
                if check_origin(registry, &record.name, &headers).is_err() {
                    continue;
                }
                let id = ActorId::new(record.id.as_str());
                let params = request::conn_params(&headers)?;
                if actor
                    .check_guards(&id, params, guard_request(&headers))
                    .await
                    .is_ok()
                {
                    records.push(record);
                }
            }
        } else if let (Some(name), Some(key)) = (query.get("name"), query.get("key")) {
            check_origin(registry, name, &headers)?;
            let key = parse_key(Some(key))?;
            if let Some(record) = storage
                .find_by_key(name, key.parts())
                .await
                .map_err(internal)?
            {
                // The type's guards decide whether this caller may learn of it.
                if let Some(actor) = registry.actor_type(name) {
                    let id = ActorId::new(record.id.as_str());
                    let params = request::conn_params(&headers)?;
                    actor
                        .check_guards(&id, params, guard_request(&headers))
                        .await?;
                }
                records.push(record);
            }
        } else {
            // Enumerating actors is the management API's, a page at a time.
            require_admin(registry, &headers)?;
            let name = query.get("name").map(String::as_str);
            let limit = match query.get("limit") {
                Some(limit) => limit
                    .parse::<usize>()
                    .ok()
                    .filter(|limit| (1..=MAX_LIST_LIMIT).contains(limit))
                    .ok_or_else(|| {
                        ActorError::malformed(format!("limit is 1 to {MAX_LIST_LIMIT}"))
                    })?,
                None => DEFAULT_LIST_LIMIT,
            };
            let after = query.get("cursor").map(String::as_str);
            records = storage
                .list_actors_page(name, after, limit)
                .await
                .map_err(internal)?;
            // A full page may have more after it: the next one starts after its last id.
            if records.len() == limit {
                cursor = records.last().map(|record| record.id.clone());
            }
        }
        Ok::<_, ActorError>(records)
    }
    .await;
    match result {
        Ok(records) => {
            let actors: Vec<_> = records.iter().map(actor_json).collect();
            let body = serde_json::json!({ "actors": actors, "pagination": { "cursor": cursor } });
            json_response(StatusCode::OK, &body)
        }
        Err(err) => fail(err),
    }
}

/// `DELETE /actors/{id}`.
pub(crate) async fn destroy(
    registry: &Registry,
    id: &str,
    headers: &http::HeaderMap,
) -> HttpResponse {
    let result = async {
        require_admin(registry, headers)?;
        let target = gateway::by_id(registry, id).await?;
        let existed = target.actor.destroy(&ActorId::new(id)).await?;
        if existed {
            Ok(())
        } else {
            Err(ActorError::not_found())
        }
    }
    .await;
    match result {
        Ok(()) => json_response(StatusCode::OK, &serde_json::json!({})),
        Err(err) => fail(err),
    }
}
