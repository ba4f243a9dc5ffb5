//! The actors API the npm client uses to resolve and manage actors: `PUT /actors`
//! (get-or-create), `POST /actors` (create), `GET /actors` (look up), `DELETE /actors/{id}`.
//! Bodies are JSON; keys use the `/`-joined form; input is base64 of CBOR.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::error::ActorError;
use crate::protocol::{self, Encoding, Value};
use crate::registry::Registry;
use crate::runtime::{ActorId, ErasedLookup, Key};
use crate::server::gateway;
use crate::server::respond::{error_response, protocol_error};
use crate::storage::ActorRecord;

#[derive(Deserialize)]
pub(crate) struct CreateBody {
    name: String,
    #[serde(default)]
    key: Option<String>,
    #[serde(default)]
    input: Option<String>,
}

fn fail(err: ActorError) -> Response {
    error_response(Encoding::Json, &err)
}

fn parse_key(key: Option<&str>) -> Result<Key, ActorError> {
    match key {
        None => Ok(Key::default()),
        Some(text) => protocol::path_key::decode(text)
            .map(Key)
            .map_err(protocol_error),
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
    let (id, created) = actor.resolve(lookup).await?;
    let record = actor.record(&id).await?.ok_or_else(ActorError::not_found)?;
    Ok((record, created))
}

pub(crate) async fn get_or_create(
    State(registry): State<Registry>,
    Json(body): Json<CreateBody>,
) -> Response {
    match create_or_get(&registry, body, false).await {
        Ok((record, created)) => {
            Json(serde_json::json!({ "actor": actor_json(&record), "created": created }))
                .into_response()
        }
        Err(err) => fail(err),
    }
}

pub(crate) async fn create(
    State(registry): State<Registry>,
    Json(body): Json<CreateBody>,
) -> Response {
    match create_or_get(&registry, body, true).await {
        Ok((record, _)) => {
            Json(serde_json::json!({ "actor": actor_json(&record) })).into_response()
        }
        Err(err) => fail(err),
    }
}

pub(crate) async fn list(
    State(registry): State<Registry>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let result = async {
        let storage = registry.storage();
        let internal = |err: crate::storage::StorageError| {
            tracing::error!(%err, "storage failed while listing actors");
            ActorError::internal()
        };
        let mut records = Vec::new();
        if let Some(ids) = query.get("actor_ids") {
            for id in ids.split(',').filter(|id| !id.is_empty()) {
                if let Some(record) = storage.find_by_id(id).await.map_err(internal)? {
                    records.push(record);
                }
            }
        } else if let (Some(name), Some(key)) = (query.get("name"), query.get("key")) {
            let key = parse_key(Some(key))?;
            if let Some(record) = storage
                .find_by_key(name, key.parts())
                .await
                .map_err(internal)?
            {
                records.push(record);
            }
        } else {
            let name = query.get("name").map(String::as_str);
            records = storage.list_actors(name).await.map_err(internal)?;
        }
        Ok::<_, ActorError>(records)
    }
    .await;
    match result {
        Ok(records) => {
            let actors: Vec<_> = records.iter().map(actor_json).collect();
            Json(serde_json::json!({ "actors": actors })).into_response()
        }
        Err(err) => fail(err),
    }
}

pub(crate) async fn destroy(State(registry): State<Registry>, Path(id): Path<String>) -> Response {
    let result = async {
        let target = gateway::by_id(&registry, &id).await?;
        let existed = target.actor.destroy(&ActorId::new(id.as_str())).await?;
        if existed {
            Ok(())
        } else {
            Err(ActorError::not_found())
        }
    }
    .await;
    match result {
        Ok(()) => (StatusCode::OK, Json(serde_json::json!({}))).into_response(),
        Err(err) => fail(err),
    }
}
