//! Names on the wire: paths, headers, query parameters and subprotocol prefixes the npm client
//! uses (from its `src/common/actor-router-consts.ts` and `src/engine-client/`).

/// Path segment before the target: `/gateway/{name or id}/…`.
pub const PATH_GATEWAY: &str = "/gateway";
/// WebSocket connection path after the target: `/gateway/{target}/connect`.
pub const PATH_CONNECT: &str = "/connect";
/// Action path prefix after the target: `/gateway/{target}/action/{name}`.
pub const PATH_ACTION_PREFIX: &str = "/action/";
/// Queue path prefix after the target: `/gateway/{target}/queue/{name}`.
pub const PATH_QUEUE_PREFIX: &str = "/queue/";
/// Raw HTTP prefix after the target: `/gateway/{target}/request/…`.
pub const PATH_REQUEST_PREFIX: &str = "/request";
/// Raw WebSocket prefix after the target: `/gateway/{target}/websocket/…`.
pub const PATH_WEBSOCKET_PREFIX: &str = "/websocket/";
/// Metadata endpoint; the client waits for a 2xx JSON answer before anything else.
pub const PATH_METADATA: &str = "/metadata";
/// Actor lookup/creation endpoint.
pub const PATH_ACTORS: &str = "/actors";

/// Request header: the body/response encoding (`json`, `cbor`, `bare`).
pub const HEADER_ENCODING: &str = "x-rivet-encoding";
/// Request header: `JSON.stringify(params)` (plain JSON, untagged) when params are set.
pub const HEADER_CONN_PARAMS: &str = "x-rivet-conn-params";
/// Request header: the configured token, on gateway requests.
pub const HEADER_TOKEN: &str = "x-rivet-token";
/// Response header: the actor id.
pub const HEADER_ACTOR: &str = "x-rivet-actor";
/// Response header: the actor generation.
pub const HEADER_ACTOR_GENERATION: &str = "x-rivet-actor-generation";
/// Response header: the actor key (path form).
pub const HEADER_ACTOR_KEY: &str = "x-rivet-actor-key";
/// Header: ray id (request correlation); read by the client from error responses.
pub const HEADER_RAY_ID: &str = "x-rivet-ray-id";
/// Request header sent with `skipReadyWait` to a direct target: `actor`.
pub const HEADER_TARGET: &str = "x-rivet-target";
/// Request header sent with `skipReadyWait`: `1`.
pub const HEADER_SKIP_READY_WAIT: &str = "x-rivet-skip-ready-wait";

/// Query parameter: namespace (always sent on query targets).
pub const QUERY_NAMESPACE: &str = "rvt-namespace";
/// Query parameter: `get` or `getOrCreate`.
pub const QUERY_METHOD: &str = "rvt-method";
/// Query parameter: runner (pool) name, with `getOrCreate`.
pub const QUERY_RUNNER: &str = "rvt-runner";
/// Query parameter: the key, parts joined with `,` (see [`super::query_key`]); left out for
/// the empty key.
pub const QUERY_KEY: &str = "rvt-key";
/// Query parameter of our own client: the key as a JSON array (see [`super::json_key`]).
pub const QUERY_KEY_JSON: &str = "rvt-key-json";
/// Query parameter: creation input, CBOR in unpadded base64url (see [`super::input`]).
pub const QUERY_INPUT: &str = "rvt-input";
/// Query parameter: region, with `getOrCreate`, when set.
pub const QUERY_REGION: &str = "rvt-region";
/// Query parameter: crash policy, with `getOrCreate` (`sleep` by default).
pub const QUERY_CRASH_POLICY: &str = "rvt-crash-policy";
/// Query parameter: the configured token, on query targets.
pub const QUERY_TOKEN: &str = "rvt-token";
/// Query parameter: `true` with `skipReadyWait`.
pub const QUERY_SKIP_READY_WAIT: &str = "rvt-skip-ready-wait";

/// Subprotocol always offered, and the one to answer with.
pub const WS_PROTOCOL_STANDARD: &str = "rivet";
/// Subprotocol prefix: encoding.
pub const WS_PROTOCOL_ENCODING: &str = "rivet_encoding.";
/// Subprotocol prefix: conn params, percent-encoded JSON.
pub const WS_PROTOCOL_CONN_PARAMS: &str = "rivet_conn_params.";
/// Subprotocol prefix: token (unencoded).
pub const WS_PROTOCOL_TOKEN: &str = "rivet_token.";
/// Subprotocol prefix: target kind (`actor`).
pub const WS_PROTOCOL_TARGET: &str = "rivet_target.";
/// Subprotocol prefix: actor id.
pub const WS_PROTOCOL_ACTOR: &str = "rivet_actor.";
/// Subprotocol: skip waiting for the actor to be ready.
pub const WS_PROTOCOL_SKIP_READY_WAIT: &str = "rivet_skip_ready_wait";
