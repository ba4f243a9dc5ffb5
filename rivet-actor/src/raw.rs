//! Raw HTTP requests (`#[on_request]`) and raw WebSockets (`#[on_websocket]`): the actor's
//! own protocol beside actions and events, behind the same connect pipeline and
//! `can_invoke` (kinds `request` and `websocket`).

/// The request an `#[on_request]` handler receives: method, the path after
/// `/gateway/{actor}/request`, query, headers and the whole body.
pub type RawRequest = http::Request<axum::body::Bytes>;

/// What an `#[on_request]` handler answers.
pub type RawResponse = http::Response<axum::body::Bytes>;

/// A raw WebSocket handed to `#[on_websocket]`.
pub struct RawWebSocket {
    _private: (),
}
