//! One constructor per `group.code` the runtime raises: the wire vocabulary of errors.

use std::fmt;

use crate::error::{ActorError, INTERNAL_ERROR_MESSAGE};

impl ActorError {
    /// `rivetkit.internal_error` with the generic message: what a client sees of any failure
    /// that is not meant for it.
    pub fn internal() -> Self {
        Self::new("rivetkit", "internal_error", INTERNAL_ERROR_MESSAGE)
    }

    /// `auth.forbidden`: `can_invoke` said no.
    pub fn forbidden() -> Self {
        Self::new("auth", "forbidden", "Forbidden")
    }

    /// `actor.storage_full`: the disk (or the storage's size limit) is full, so the turn's
    /// changes were not saved and the actor is as it was before the turn.
    pub fn storage_full() -> Self {
        Self::new(
            "actor",
            "storage_full",
            "The actor's storage is full; the change was not saved",
        )
    }

    /// `actor.write_outcome_unknown`: the turn's write may or may not have been stored (a
    /// remote storage lost its answer). Nothing was answered as a success; the actor
    /// reloads what storage holds, so read it again before retrying a change that must
    /// not happen twice.
    ///
    /// ```
    /// use rivet_actor::ActorError;
    ///
    /// let err = ActorError::write_outcome_unknown();
    /// assert_eq!((err.group.as_str(), err.code.as_str()), ("actor", "write_outcome_unknown"));
    /// ```
    pub fn write_outcome_unknown() -> Self {
        Self::new(
            "actor",
            "write_outcome_unknown",
            "The change may or may not have been saved; read the actor before retrying it",
        )
    }

    /// `actor.not_found`: no actor with that key or id.
    pub fn not_found() -> Self {
        Self::new("actor", "not_found", "The actor does not exist")
    }

    /// `actor.already_exists`: `create` for a key that is taken.
    pub fn already_exists() -> Self {
        Self::new(
            "actor",
            "already_exists",
            "An actor with this key already exists",
        )
    }

    /// `actor.action_not_found`: the actor has no action of that name.
    pub fn action_not_found(name: &str) -> Self {
        Self::new(
            "actor",
            "action_not_found",
            format!("The actor has no action named `{name}`"),
        )
    }

    /// `actor.unknown_actor`: the registry hosts no actor type of that name.
    pub fn unknown_actor(name: &str) -> Self {
        Self::new(
            "actor",
            "unknown_actor",
            format!("No actor type named `{name}` is registered"),
        )
    }

    /// `message.invalid_args`: the arguments do not match the action's parameters.
    pub fn invalid_args(detail: impl fmt::Display) -> Self {
        Self::new(
            "message",
            "invalid_args",
            format!("Invalid action arguments: {detail}"),
        )
    }

    /// `message.invalid_params`: connection params missing or not of the expected shape.
    pub fn invalid_params(detail: impl fmt::Display) -> Self {
        Self::new(
            "message",
            "invalid_params",
            format!("Invalid connection params: {detail}"),
        )
    }

    /// `message.invalid_input`: the create input does not match the actor's input type.
    pub fn invalid_input(detail: impl fmt::Display) -> Self {
        Self::new(
            "message",
            "invalid_input",
            format!("Invalid actor input: {detail}"),
        )
    }

    /// `auth.origin_not_allowed`: the request's `Origin` is not in the actor's allowlist.
    pub fn origin_not_allowed() -> Self {
        Self::new("auth", "origin_not_allowed", "Origin not allowed")
    }

    /// `actor.hook_timed_out` (408): a hook or guard did not finish in time.
    pub fn hook_timed_out(hook: &str) -> Self {
        Self::new(
            "actor",
            "hook_timed_out",
            format!("The actor's {hook} hook did not finish in time"),
        )
    }

    /// `actor.request_replayed`: the engine delivered a request again that this actor had
    /// applied already; its answer was too large to keep, so only that it was applied is
    /// known.
    pub fn replayed() -> Self {
        Self::new(
            "actor",
            "request_replayed",
            "The request was applied before; its answer was not kept",
        )
    }

    /// `actor.stopped`: the instance went away while the call was in flight.
    pub fn stopped() -> Self {
        Self::new("actor", "stopped", "The actor stopped before answering")
    }

    /// `actor.connection_not_found`: the call names a connection the actor no longer has.
    pub fn connection_not_found() -> Self {
        Self::new(
            "actor",
            "connection_not_found",
            "The connection is not open",
        )
    }

    /// `actor.start_failed`: the actor could not be loaded or created (the cause is logged).
    pub fn start_failed() -> Self {
        Self::new("actor", "start_failed", "The actor could not be started")
    }

    /// `actor.destroyed`: the actor was destroyed while the caller was connected or waiting.
    pub fn destroyed() -> Self {
        Self::new("actor", "destroyed", "The actor was destroyed")
    }

    /// `actor.not_found` for a path under `/gateway/{actor}/` that names no endpoint.
    pub fn no_such_endpoint(path: &str) -> Self {
        Self::new(
            "actor",
            "not_found",
            format!("No endpoint `/{path}` on actors"),
        )
    }

    /// `actor.request_handler_not_found` (404): a raw request to an actor without
    /// `#[on_request]`.
    pub fn request_handler_not_found(actor: &str) -> Self {
        Self::new(
            "actor",
            "request_handler_not_found",
            format!("The actor `{actor}` has no raw request handler"),
        )
    }

    /// `actor.websocket_handler_not_found` (404): a raw WebSocket to an actor without
    /// `#[on_websocket]`.
    pub fn websocket_handler_not_found(actor: &str) -> Self {
        Self::new(
            "actor",
            "websocket_handler_not_found",
            format!("The actor `{actor}` has no raw WebSocket handler"),
        )
    }

    /// `message.malformed`: the request or frame does not decode; the detail names what
    /// was wrong, never anything internal.
    pub fn malformed(detail: impl fmt::Display) -> Self {
        Self::new("message", "malformed", detail.to_string())
    }

    /// `message.too_large` (413 / close 1009): larger than the server's message limit.
    pub fn message_too_large(limit: usize) -> Self {
        Self::new(
            "message",
            "too_large",
            format!("The message is larger than the server's limit of {limit} bytes"),
        )
    }

    /// `message.invalid_encoding`: the `x-rivet-encoding` header is not text.
    pub fn invalid_encoding() -> Self {
        Self::new(
            "message",
            "invalid_encoding",
            "x-rivet-encoding is not text",
        )
    }

    /// `message.missing_subprotocol`: a WebSocket that does not offer `rivet`.
    pub fn missing_subprotocol() -> Self {
        Self::new(
            "message",
            "missing_subprotocol",
            "A connection must offer the `rivet` WebSocket subprotocol",
        )
    }

    /// `message.invalid_query`: `rvt-method` is neither `get` nor `getOrCreate`.
    pub fn invalid_method(method: &str) -> Self {
        Self::new(
            "message",
            "invalid_query",
            format!("rvt-method must be `get` or `getOrCreate`, not `{method}`"),
        )
    }

    /// `queue.full`: the actor's queues hold their maximum.
    pub fn queue_full(max: usize) -> Self {
        Self::new(
            "queue",
            "full",
            format!("The actor's queues hold their maximum of {max} messages; try again later"),
        )
    }

    /// `queue.message_too_large`: larger than the queue message limit.
    pub fn queue_message_too_large(size: usize, max: usize) -> Self {
        Self::new(
            "queue",
            "message_too_large",
            format!("The message is {size} bytes; a queue message may be at most {max} bytes"),
        )
    }

    /// `queue.not_found`: the actor declares no queue of that name.
    pub fn queue_not_found(actor: &str, name: &str) -> Self {
        Self::new(
            "queue",
            "not_found",
            format!("The actor `{actor}` declares no queue `{name}`"),
        )
    }

    /// `queue.invalid_message`: the body is not of the queue's message type.
    pub fn queue_invalid_message(queue: &str, detail: impl fmt::Display) -> Self {
        Self::new(
            "queue",
            "invalid_message",
            format!("The message does not fit the queue `{queue}`: {detail}"),
        )
    }

    /// `queue.consumer_stopped`: the `#[run]` loop took the message (it is gone: the loop's
    /// delivery is at most once) and ended, or was stopped, before completing it.
    pub fn queue_consumer_stopped() -> Self {
        Self::new(
            "queue",
            "consumer_stopped",
            "The consumer stopped before completing the message",
        )
    }

    /// `schedule.limit_reached`: the actor already holds its maximum of pending schedules.
    pub fn schedule_limit_reached(max: usize) -> Self {
        Self::new(
            "schedule",
            "limit_reached",
            format!("The actor already has its maximum of {max} pending schedules"),
        )
    }

    /// `schedule.too_large` (413): the encoded call passes the limit of one schedule.
    pub fn schedule_too_large(size: usize, max: usize) -> Self {
        Self::new(
            "schedule",
            "too_large",
            format!("The scheduled call is {size} bytes encoded; one may be at most {max} bytes"),
        )
    }

    /// `auth.admin_disabled` (403): the management API needs an admin token and none is
    /// configured.
    pub fn admin_disabled() -> Self {
        Self::new(
            "auth",
            "admin_disabled",
            "This endpoint needs an admin token, and the server has none: set RIVET_ACTOR_ADMIN_TOKEN (or RegistryBuilder::admin_token)",
        )
    }

    /// `auth.unauthorized` (401): the admin token is missing or wrong.
    pub fn unauthorized() -> Self {
        Self::new(
            "auth",
            "unauthorized",
            "This endpoint needs the admin token as `Authorization: Bearer <token>`",
        )
    }

    /// `message.key_too_large` (400): an actor key over the configured bounds.
    pub fn key_too_large(max_parts: usize, max_bytes: usize) -> Self {
        Self::new(
            "message",
            "key_too_large",
            format!("An actor key may have at most {max_parts} parts and {max_bytes} bytes"),
        )
    }

    /// `actor.call_cycle`: a call from inside a turn would enter an actor whose turn waits
    /// for it (itself, or an actor upstream of the call): it could never be answered.
    pub fn call_cycle(actor_id: &str) -> Self {
        Self::new(
            "actor",
            "call_cycle",
            format!(
                "Calling actor {actor_id} here would wait for a turn that waits for this call; spawn the call or restructure the calls"
            ),
        )
    }

    /// `actor.not_supported`: something this build or mode does not offer yet.
    pub fn not_supported(what: &str) -> Self {
        Self::new(
            "actor",
            "not_supported",
            format!("Not supported yet: {what}"),
        )
    }

    /// `actor.db_full`: the actor's database reached its size limit; the turn's changes
    /// were not kept.
    pub fn db_full(max: usize) -> Self {
        Self::new(
            "actor",
            "db_full",
            format!("The actor's database is full (at most {max} bytes)"),
        )
    }

    /// `actor.kv_key_too_large`: a `c.kv()` key encodes to more than `max` bytes.
    pub fn kv_key_too_large(size: usize, max: usize) -> Self {
        Self::new(
            "actor",
            "kv_key_too_large",
            format!("A kv key of {size} bytes is over the limit of {max} bytes"),
        )
    }

    /// `actor.kv_value_too_large`: a `c.kv()` value encodes to more than `max` bytes.
    pub fn kv_value_too_large(size: usize, max: usize) -> Self {
        Self::new(
            "actor",
            "kv_value_too_large",
            format!("A kv value of {size} bytes is over the limit of {max} bytes"),
        )
    }

    /// `actor.kv_too_many_writes`: one turn staged more kv writes (rows or bytes) than one
    /// commit may carry.
    pub fn kv_too_many_writes(max_rows: usize, max_bytes: usize) -> Self {
        Self::new(
            "actor",
            "kv_too_many_writes",
            format!(
                "A turn may write at most {max_rows} kv rows and {max_bytes} bytes; split the work over several turns"
            ),
        )
    }

    /// `message.slow_consumer`: the connection fell more than `limit` bytes behind on its
    /// events and was cut off (the actor and other subscribers do not wait for it).
    pub fn slow_consumer(limit: usize) -> Self {
        Self::new(
            "message",
            "slow_consumer",
            format!("The connection fell more than {limit} bytes behind on its events"),
        )
    }

    /// `actor.action_timed_out` (408): the action ran past the actor's limit and was cut off;
    /// its changes were rolled back.
    pub fn action_timed_out(action: &str, limit: std::time::Duration) -> Self {
        Self::new(
            "actor",
            "action_timed_out",
            format!("The action `{action}` did not finish within {limit:?}"),
        )
    }

    /// `message.timed_out` (408): the request's body did not arrive in time.
    pub fn body_timed_out(limit: std::time::Duration) -> Self {
        Self::new(
            "message",
            "timed_out",
            format!("The request body did not arrive within {limit:?}"),
        )
    }

    /// `actor.not_found` (404) for a path the server has no endpoint at (not repeated
    /// back: it is anything a client sent).
    pub fn no_route() -> Self {
        Self::new("actor", "not_found", "No endpoint at this path")
    }

    /// `message.method_not_allowed` (405): the endpoint exists, not with this method.
    pub fn method_not_allowed(method: &str) -> Self {
        let shown: String = method.chars().take(16).collect();
        Self::new(
            "message",
            "method_not_allowed",
            format!("This endpoint does not take {shown} requests"),
        )
    }

    /// `message.too_many_connections` (503): the host serves its maximum of connections
    /// (`ServerConfig::max_connections`); try again later.
    pub fn too_many_connections(max: usize) -> Self {
        Self::new(
            "message",
            "too_many_connections",
            format!("The server holds its maximum of {max} connections; try again later"),
        )
    }

    /// `message.upgrade_required` (400): a WebSocket endpoint reached without a valid
    /// WebSocket upgrade.
    pub fn upgrade_required() -> Self {
        Self::new(
            "message",
            "upgrade_required",
            "This endpoint takes WebSocket upgrades only",
        )
    }
}
