//! Raw HTTP and raw WebSockets from an [`ActorHandle`], to an actor's `#[on_request]` and
//! `#[on_websocket]` handlers through the gateway.

use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::actor::Actor;
use crate::client::net::handle::ActorHandle;
use crate::client::net::transport;
use crate::error::ClientError;
use crate::protocol;

/// A raw WebSocket to an actor's `#[on_websocket]` handler (tokio-tungstenite's stream:
/// `futures_util::{SinkExt, StreamExt}` send and receive on it).
pub type RawClientSocket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

impl<A: Actor> ActorHandle<A> {
    /// Sends a raw HTTP request to the actor's `#[on_request]` handler: `request`'s URI is
    /// the path (and query) the actor sees, e.g. `/messages?limit=10`. The handle's params
    /// and headers go with it. Any status the actor answers is returned as is; errors of
    /// the pipeline (refused origin, `auth.forbidden`, a hook's error) come back as the
    /// response the server sent (status and error body).
    ///
    /// ```ignore
    /// let request = http::Request::get("/messages").body(Vec::new())?;
    /// let response = room.fetch(request).await?;
    /// assert_eq!(response.status(), 200);
    /// ```
    pub async fn fetch(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<axum::body::Bytes>, ClientError> {
        let shared = &self.shared;
        let inner = &shared.client.inner;
        let (parts, body) = request.into_parts();
        let path = parts.uri.path().trim_start_matches('/');
        let mut segments = vec!["request"];
        segments.extend(path.split('/').filter(|s| !s.is_empty()));
        let mut url = shared
            .target
            .url(&inner.endpoint, shared.actor_name, &segments)?;
        if let Some(query) = parts.uri.query() {
            let joined = match url.query() {
                Some(existing) => format!("{existing}&{query}"),
                None => query.to_owned(),
            };
            url.set_query(Some(&joined));
        }
        let mut http = inner.http.request(parts.method, url).body(body);
        for (name, value) in inner
            .headers
            .iter()
            .chain(shared.headers.iter())
            .chain(parts.headers.iter())
        {
            http = http.header(name, value);
        }
        if let Some(params) = shared.params.current()? {
            http = http.header("x-rivet-conn-params", params);
        }
        let response = http.send().await.map_err(transport)?;
        let mut out = http::Response::builder().status(response.status());
        for (name, value) in response.headers() {
            out = out.header(name, value);
        }
        let bytes = response.bytes().await.map_err(transport)?;
        out.body(bytes).map_err(transport)
    }

    /// Opens a raw WebSocket to the actor's `#[on_websocket]` handler at `path` (the path
    /// the actor sees). A refused socket (origin, `auth.forbidden`, a hook's error) is
    /// closed by the server with 1011 and reason `group.code`.
    ///
    /// ```ignore
    /// use futures_util::{SinkExt, StreamExt};
    /// let mut socket = room.websocket("/echo").await?;
    /// socket.send("hi".into()).await?;
    /// let echo = socket.next().await;
    /// ```
    pub async fn websocket(&self, path: &str) -> Result<RawClientSocket, ClientError> {
        let shared = &self.shared;
        let inner = &shared.client.inner;
        let (path, query) = path.split_once('?').unwrap_or((path, ""));
        let mut segments = vec!["websocket"];
        segments.extend(path.split('/').filter(|s| !s.is_empty()));
        let mut url = shared
            .target
            .url(&inner.endpoint, shared.actor_name, &segments)?;
        if !query.is_empty() {
            let joined = match url.query() {
                Some(existing) => format!("{existing}&{query}"),
                None => query.to_owned(),
            };
            url.set_query(Some(&joined));
        }
        let scheme = if url.scheme() == "https" { "wss" } else { "ws" };
        url.set_scheme(scheme)
            .map_err(|()| ClientError::Transport("cannot make a WebSocket URL".into()))?;
        let params = shared.params.current()?;
        let protocols = protocol::build_subprotocols(inner.encoding, params.as_deref(), None);
        let mut request = url.as_str().into_client_request().map_err(transport)?;
        for (name, value) in inner.headers.iter().chain(shared.headers.iter()) {
            request.headers_mut().insert(name, value.clone());
        }
        request.headers_mut().insert(
            http::header::SEC_WEBSOCKET_PROTOCOL,
            http::HeaderValue::from_str(&protocols).map_err(transport)?,
        );
        let (socket, _) = tokio_tungstenite::connect_async(request)
            .await
            .map_err(transport)?;
        Ok(socket)
    }
}
