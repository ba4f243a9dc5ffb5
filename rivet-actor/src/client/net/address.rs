//! Gateway URLs for a handle's actor: by id, or by name with the `rvt-*` query.

use serde::Serialize;

use crate::error::ClientError;
use crate::protocol;
use crate::protocol::names;
use crate::runtime::Key;

/// How a handle names its actor.
#[derive(Clone, Debug)]
pub(crate) enum ActorAddress {
    /// By name and key: `rvt-method` is `get` or `getOrCreate`.
    Query {
        method: &'static str,
        key: Key,
        /// base64url of the CBOR input.
        input: Option<String>,
    },
    /// By id.
    Id(String),
}

impl ActorAddress {
    pub(crate) fn query(method: &'static str, key: Key, input: Option<String>) -> Self {
        ActorAddress::Query { method, key, input }
    }

    /// `{endpoint}/gateway/{name or id}{path}?rvt-…`. The key goes both as the npm client
    /// sends it (`rvt-key`, comma-joined) and collision-free (`rvt-key-json`), which our
    /// server prefers, so `["a,b"]` and `["a","b"]` stay distinct. An engine's gateway takes
    /// only the npm client's parameters (it refuses others), so it gets `rvt-key` alone.
    pub(crate) fn url(
        &self,
        client: &super::ClientInner,
        actor_name: &str,
        path: &[&str],
    ) -> Result<reqwest::Url, ClientError> {
        let mut url = reqwest::Url::parse(&client.endpoint)
            .map_err(|err| ClientError::Transport(format!("invalid endpoint: {err}")))?;
        {
            let mut segments = url
                .path_segments_mut()
                .map_err(|()| ClientError::Transport("the endpoint cannot have a path".into()))?;
            segments.pop_if_empty().push(names::SEGMENT_GATEWAY);
            match self {
                ActorAddress::Query { .. } => segments.push(actor_name),
                ActorAddress::Id(id) => segments.push(id),
            };
            segments.extend(path);
        }
        if let ActorAddress::Query { method, key, input } = self {
            let mut query = url.query_pairs_mut();
            let (namespace, pool) = match &client.engine {
                Some((namespace, pool)) => (namespace.as_str(), pool.as_str()),
                None => (names::DEFAULT_NAMESPACE, names::DEFAULT_RUNNER),
            };
            query
                .append_pair(names::QUERY_NAMESPACE, namespace)
                .append_pair(names::QUERY_METHOD, method);
            if *method == names::METHOD_GET_OR_CREATE {
                query.append_pair(names::QUERY_RUNNER, pool);
            }
            if let Some(joined) = protocol::query_key::encode(key.parts()) {
                query.append_pair(names::QUERY_KEY, &joined);
            }
            if client.engine.is_none() {
                query.append_pair(
                    names::QUERY_KEY_JSON,
                    &protocol::json_key::encode(key.parts()),
                );
            }
            if let Some(input) = input {
                query.append_pair(names::QUERY_INPUT, input);
            }
            if *method == names::METHOD_GET_OR_CREATE {
                query.append_pair(names::QUERY_CRASH_POLICY, names::DEFAULT_CRASH_POLICY);
            }
        }
        Ok(url)
    }
}

/// A create input as the query carries it: base64url of CBOR.
pub(crate) fn encode_input<T: Serialize>(input: &T) -> Result<String, ClientError> {
    let value =
        crate::value::to_value(input).map_err(|err| ClientError::Decode(err.to_string()))?;
    Ok(protocol::input::encode_query_input(&value))
}
