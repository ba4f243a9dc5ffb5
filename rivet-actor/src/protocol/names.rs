//! Names on the wire: path segments, headers, query parameters and subprotocol prefixes the
//! npm client uses (from its `src/common/actor-router-consts.ts` and `src/engine-client/`).
//! The server's routes, the CORS policy and our client all take them from here.

/// First path segment of actor traffic: `/gateway/{name or id}/…`.
pub const SEGMENT_GATEWAY: &str = "gateway";
/// After the target: a WebSocket connection, `/gateway/{target}/connect`.
pub const SEGMENT_CONNECT: &str = "connect";
/// After the target: a stateless action, `/gateway/{target}/action/{name}`.
pub const SEGMENT_ACTION: &str = "action";
/// After the target: a queue send, `/gateway/{target}/queue/{name}`.
pub const SEGMENT_QUEUE: &str = "queue";
/// After the target: a raw HTTP request, `/gateway/{target}/request/…`.
pub const SEGMENT_REQUEST: &str = "request";
/// After the target: a raw WebSocket, `/gateway/{target}/websocket/…`.
pub const SEGMENT_WEBSOCKET: &str = "websocket";
/// Metadata endpoint; the client waits for a 2xx JSON answer before anything else.
pub const PATH_METADATA: &str = "/metadata";
/// Liveness endpoint.
pub const PATH_HEALTH: &str = "/health";
/// Prometheus metrics (admin token).
pub const PATH_METRICS: &str = "/metrics";
/// Actor lookup, creation and destruction endpoint.
pub const PATH_ACTORS: &str = "/actors";

/// Request header: the body/response encoding (`json`, `cbor`, `bare`).
pub const HEADER_ENCODING: &str = "x-rivet-encoding";
/// Request header: `JSON.stringify(params)` (plain JSON, untagged) when params are set.
pub const HEADER_CONN_PARAMS: &str = "x-rivet-conn-params";
/// Request header: the configured token, on gateway requests.
pub const HEADER_TOKEN: &str = "x-rivet-token";
/// Request header of the engine's API: a query target.
pub const HEADER_QUERY: &str = "x-rivet-query";
/// Request header of the engine's API: the namespace.
pub const HEADER_NAMESPACE: &str = "x-rivet-namespace";
/// Request header sent with `skipReadyWait` to a direct target: `actor`.
pub const HEADER_TARGET: &str = "x-rivet-target";
/// Request header sent with `skipReadyWait`: `1`.
pub const HEADER_SKIP_READY_WAIT: &str = "x-rivet-skip-ready-wait";
/// Response (and engine request) header: the actor id.
pub const HEADER_ACTOR: &str = "x-rivet-actor";
/// Response header: the actor generation.
pub const HEADER_ACTOR_GENERATION: &str = "x-rivet-actor-generation";
/// Response header: the actor key (path form).
pub const HEADER_ACTOR_KEY: &str = "x-rivet-actor-key";
/// Response header: ray id (request correlation); read by the client from error responses.
pub const HEADER_RAY_ID: &str = "x-rivet-ray-id";

/// Prefix of every gateway query parameter; the rest of a raw request's query is the
/// actor's own.
pub const QUERY_PREFIX: &str = "rvt-";
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
/// Query parameter: crash policy, with `getOrCreate` (`sleep` by default).
pub const QUERY_CRASH_POLICY: &str = "rvt-crash-policy";

/// `rvt-method` value: find an existing actor.
pub const METHOD_GET: &str = "get";
/// `rvt-method` value: find or create.
pub const METHOD_GET_OR_CREATE: &str = "getOrCreate";
/// The namespace, runner and crash policy the client sends when none is configured.
pub const DEFAULT_NAMESPACE: &str = "default";
/// See [`DEFAULT_NAMESPACE`].
pub const DEFAULT_RUNNER: &str = "default";
/// See [`DEFAULT_NAMESPACE`].
pub const DEFAULT_CRASH_POLICY: &str = "sleep";

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
