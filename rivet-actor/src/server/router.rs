//! The axum front end: routes map to the endpoint functions, and WebSocket upgrades hand
//! the upgraded socket ([`AxumSocket`]) to a protocol session or a raw socket. Nothing
//! here knows the protocol; a different front end would call the same functions.

use axum::Router;
use axum::extract::rejection::PathRejection;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::{FromRequestParts, Path, Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, delete, get, post};
use http::request::Parts;

use crate::error::ActorError;
use crate::protocol::Encoding;
use crate::protocol::names::{
    PATH_ACTORS, PATH_HEALTH, PATH_METADATA, PATH_METRICS, SEGMENT_ACTION, SEGMENT_CONNECT,
    SEGMENT_GATEWAY, SEGMENT_QUEUE, SEGMENT_REQUEST, SEGMENT_WEBSOCKET, WS_PROTOCOL_STANDARD,
};
use crate::registry::Registry;
use crate::server::listen::ConnectionSlot;
use crate::server::request::{self, HttpResponse};
use crate::server::respond::error_response;
use crate::server::ws::{AxumSocket, Closing};
use crate::server::{actions, actors_api, connect, cors, metadata, queue, raw};

/// tungstenite's default 128 KiB read buffer is most of an idle connection's memory and is
/// zeroed on reads; protocol frames are small and larger ones still arrive whole.
const READ_BUFFER: usize = 4 * 1024;

/// `/gateway/{target}` followed by `rest`, as an axum route.
fn gateway(rest: &str) -> String {
    format!("/{SEGMENT_GATEWAY}/{{target}}{rest}")
}

/// The endpoints of the protocol, for `registry`.
pub(crate) fn router(registry: Registry) -> Router {
    Router::new()
        .route(
            PATH_METADATA,
            get(|State(r): State<Registry>| async move { metadata::metadata(&r) }),
        )
        .route(
            PATH_HEALTH,
            get(|State(r): State<Registry>| async move { metadata::health(&r) }),
        )
        .route(
            PATH_METRICS,
            get(
                |State(r): State<Registry>, headers: http::HeaderMap| async move {
                    metadata::metrics(&r, &headers)
                },
            ),
        )
        .route(
            &gateway(&format!("/{SEGMENT_ACTION}/{{action}}")),
            post(
                |State(r): State<Registry>,
                 TypedPath((target, action)): TypedPath<(String, String)>,
                 req: Request| async move {
                    actions::action(&r, &target, &action, req).await
                },
            ),
        )
        .route(
            &gateway(&format!("/{SEGMENT_CONNECT}")),
            get(connect_upgrade),
        )
        .route(
            &gateway(&format!("/{SEGMENT_QUEUE}/{{queue}}")),
            post(
                |State(r): State<Registry>,
                 TypedPath((target, queue)): TypedPath<(String, String)>,
                 req: Request| async move {
                    queue::send(&r, &target, &queue, req).await
                },
            ),
        )
        // `…/request/` and `…/websocket/` (what the npm client sends for an empty path)
        // are not matched by `{*path}`.
        .route(&gateway(&format!("/{SEGMENT_REQUEST}")), any(raw_request))
        .route(&gateway(&format!("/{SEGMENT_REQUEST}/")), any(raw_request))
        .route(
            &gateway(&format!("/{SEGMENT_REQUEST}/{{*path}}")),
            any(raw_request),
        )
        .route(&gateway(&format!("/{SEGMENT_WEBSOCKET}")), get(raw_upgrade))
        .route(
            &gateway(&format!("/{SEGMENT_WEBSOCKET}/")),
            get(raw_upgrade),
        )
        .route(
            &gateway(&format!("/{SEGMENT_WEBSOCKET}/{{*path}}")),
            get(raw_upgrade),
        )
        .route(
            PATH_ACTORS,
            get(|State(r): State<Registry>, req: Request| async move {
                actors_api::list(&r, req).await
            })
            .put(|State(r): State<Registry>, req: Request| async move {
                actors_api::get_or_create(&r, req).await
            })
            .post(|State(r): State<Registry>, req: Request| async move {
                actors_api::create(&r, req).await
            }),
        )
        .route(
            &format!("{PATH_ACTORS}/{{id}}"),
            delete(
                |State(r): State<Registry>,
                 TypedPath(id): TypedPath<String>,
                 headers: http::HeaderMap| async move {
                    actors_api::destroy(&r, &id, &headers).await
                },
            ),
        )
        .route(&gateway("/{*rest}"), any(unknown_gateway_path))
        .fallback(|| async { error_response(Encoding::Json, &ActorError::no_route()) })
        .method_not_allowed_fallback(|req: Request| async move {
            error_response(
                Encoding::Json,
                &ActorError::method_not_allowed(req.method().as_str()),
            )
        })
        .layer(axum::middleware::from_fn_with_state(
            registry.clone(),
            cors::cors,
        ))
        .with_state(registry)
}

/// The first path segment after `/gateway/`: the target, as routed (the rest of a raw
/// path is read from the URI as it arrived).
fn target_of(path: &TypedPath<Vec<(String, String)>>) -> String {
    path.0
        .iter()
        .find(|(name, _)| name == "target")
        .map(|(_, value)| value.clone())
        .unwrap_or_default()
}

async fn raw_request(
    State(registry): State<Registry>,
    path: TypedPath<Vec<(String, String)>>,
    req: Request,
) -> HttpResponse {
    raw::request(&registry, &target_of(&path), req).await
}

/// Any other path under a gateway target.
async fn unknown_gateway_path(
    TypedPath((_target, rest)): TypedPath<(String, String)>,
    req: Request,
) -> HttpResponse {
    let encoding = request::encoding(req.headers()).unwrap_or(Encoding::Json);
    error_response(encoding, &ActorError::no_such_endpoint(&rest))
}

/// Every upgrade answers subprotocol `rivet` (the one always offered) and takes messages up
/// to the server's limit.
fn limits(upgrade: WebSocketUpgrade, registry: &Registry) -> WebSocketUpgrade {
    let limit = registry.server_config().max_message_size;
    upgrade
        .protocols([WS_PROTOCOL_STANDARD])
        .max_message_size(limit)
        .max_frame_size(limit)
        .read_buffer_size(READ_BUFFER)
}

/// `GET /gateway/{target}/connect`: checks the offered subprotocols, then upgrades and
/// runs a protocol session on the socket.
async fn connect_upgrade(
    State(registry): State<Registry>,
    TypedPath(target): TypedPath<String>,
    closing: Option<axum::Extension<Closing>>,
    slot: Option<axum::Extension<ConnectionSlot>>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
    req: Request,
) -> Response {
    let Ok(upgrade) = upgrade else {
        return error_response(Encoding::Json, &ActorError::upgrade_required());
    };
    let (parts, _body) = req.into_parts();
    let prepared = connect::offered_protocol(&parts.headers)
        .and_then(|protocol| Ok((protocol, request::query(&parts.uri)?)));
    let (protocol, query) = match prepared {
        Ok(prepared) => prepared,
        Err(err) => return error_response(Encoding::Json, &err),
    };
    let upgrade = limits(upgrade, &registry);
    let write_timeout = registry.server_config().write_timeout;
    let accept = connect::Accept {
        registry,
        target,
        query,
        protocol,
        request: request::request_info(parts),
        closing: closing.map(|axum::Extension(closing)| closing),
    };
    upgrade
        .on_upgrade(move |socket| async move {
            // The socket keeps its connection's place until it closes.
            let _slot = slot;
            connect::session(AxumSocket::new(socket, write_timeout), accept).await
        })
        .into_response()
}

/// `GET /gateway/{target}/websocket[/<path>]`: checks the conn params, then upgrades and
/// hands the socket to the actor's `#[on_websocket]`.
async fn raw_upgrade(
    State(registry): State<Registry>,
    path: TypedPath<Vec<(String, String)>>,
    closing: Option<axum::Extension<Closing>>,
    slot: Option<axum::Extension<ConnectionSlot>>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
    req: Request,
) -> Response {
    let Ok(upgrade) = upgrade else {
        return error_response(Encoding::Json, &ActorError::upgrade_required());
    };
    let (parts, _body) = req.into_parts();
    let prepared = raw::offered_params(&parts.headers)
        .and_then(|params| Ok((params, request::query(&parts.uri)?)));
    let (params, query) = match prepared {
        Ok(prepared) => prepared,
        // Before the upgrade: an HTTP answer with the typed error body.
        Err(err) => return error_response(Encoding::Json, &err),
    };
    let upgrade = limits(upgrade, &registry);
    let write_timeout = registry.server_config().write_timeout;
    let accept = raw::Accept {
        registry,
        target: target_of(&path),
        query,
        params,
        request: request::request_info(parts),
        closing: closing.map(|axum::Extension(closing)| closing),
    };
    upgrade
        .on_upgrade(move |socket| async move {
            let _slot = slot;
            raw::serve(AxumSocket::new(socket, write_timeout), accept).await
        })
        .into_response()
}

/// axum's `Path`, whose rejection (a segment that is not valid percent-encoded UTF-8, say)
/// answers in the protocol's error shape instead of plain text that echoes the input.
struct TypedPath<T>(T);

impl<T, S> FromRequestParts<S> for TypedPath<T>
where
    Path<T>: FromRequestParts<S, Rejection = PathRejection>,
    S: Send + Sync,
{
    type Rejection = HttpResponse;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(TypedPath(value)),
            Err(_) => Err(error_response(
                Encoding::Json,
                &ActorError::malformed("the path does not decode"),
            )),
        }
    }
}
