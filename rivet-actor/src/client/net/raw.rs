//! Raw HTTP and raw WebSockets from an [`ActorHandle`], to an actor's `#[on_request]` and
//! `#[on_websocket]` handlers through the gateway.

use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::actor::Actor;
use crate::client::net::handle::ActorHandle;
use crate::client::net::{request_failed, transport};
use crate::error::ClientError;
use crate::protocol;
use crate::protocol::names;

/// A raw WebSocket to an actor's `#[on_websocket]` handler (tokio-tungstenite's stream:
/// `futures_util::{SinkExt, StreamExt}` send and receive on it).
pub type RawClientSocket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

impl<A: Actor> ActorHandle<A> {
    /// Sends a raw HTTP request to the actor's `#[on_request]` handler: `request`'s URI is
    /// the path (and query) the actor sees, e.g. `/messages?limit=10`, sent as written
    /// (percent-escapes stay escapes; `.`/`..` segments are resolved inside the actor's
    /// path, so they cannot leave it; a query setting the gateway's `rvt-*` parameters is
    /// not sent). The handle's params (`x-rivet-conn-params`, replacing any the request
    /// carries) and headers go with it. Any status the actor answers is returned as is; refusals of the
    /// pipeline (origin, `auth.forbidden`, a hook's error, 404 without a handler, 413) come
    /// back as the response the server sent: the status and an error body
    /// `{group, code, message}` (JSON unless the request asked for another encoding with
    /// `x-rivet-encoding`).
    ///
    /// ```no_run
    /// # use rivet_actor::prelude::*;
    /// # #[derive(Default, Serialize, Deserialize)] struct Site;
    /// # #[actor] impl Site { #[on_request] fn http(&self, _r: RawRequest) -> RawResponse { RawResponse::new(Default::default()) } }
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let site = Client::new("http://127.0.0.1:6420").get_or_create::<Site>(["home"]);
    /// let request = rivet_actor::http::Request::post("/notes?draft=1")
    ///     .header("content-type", "text/plain")
    ///     .body(b"hello".to_vec())?;
    /// let response = site.fetch(request).await?;
    /// assert!(response.status().is_success());
    /// # Ok(()) }
    /// ```
    pub async fn fetch(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<axum::body::Bytes>, ClientError> {
        let shared = &self.shared;
        let inner = &shared.client.inner;
        let (parts, body) = request.into_parts();
        let url = self.raw_url(names::SEGMENT_REQUEST, parts.uri.path(), parts.uri.query())?;
        let mut headers = http::HeaderMap::new();
        for (name, value) in inner
            .headers
            .iter()
            .chain(shared.headers.iter())
            .chain(parts.headers.iter())
        {
            headers.append(name, value.clone());
        }
        if let Some(params) = shared.params.current()? {
            // The handle's params, not a copy the request's own headers carry.
            let params = http::HeaderValue::from_str(&params).map_err(transport)?;
            headers.insert(names::HEADER_CONN_PARAMS, params);
        }
        let response = inner
            .http
            .request(parts.method, url)
            .headers(headers)
            .body(body)
            .timeout(inner.timeout)
            .send()
            .await
            .map_err(request_failed)?;
        let mut out = http::Response::builder().status(response.status());
        for (name, value) in response.headers() {
            out = out.header(name, value);
        }
        let bytes = super::body::read(response).await?;
        out.body(bytes).map_err(transport)
    }

    /// Opens a raw WebSocket to the actor's `#[on_websocket]` handler at `path` (the path,
    /// and optionally `?query`, the actor sees; characters a URL cannot hold are
    /// percent-encoded). The handle's params travel in the `rivet_conn_params.`
    /// subprotocol, its headers with the upgrade request. A socket the server refuses
    /// (origin, `auth.forbidden`, a hook's error, no handler) opens and is then closed with
    /// 1011 and reason `group.code`.
    ///
    /// ```no_run
    /// # use rivet_actor::prelude::*;
    /// # #[derive(Default, Serialize, Deserialize)] struct Site;
    /// # #[actor] impl Site { #[on_websocket] fn socket(&self, _s: RawWebSocket) {} }
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// use futures_util::{SinkExt, StreamExt};
    /// use tokio_tungstenite::tungstenite::Message;
    ///
    /// let site = Client::new("http://127.0.0.1:6420").get_or_create::<Site>(["home"]);
    /// let mut socket = site.websocket("/echo").await?;
    /// socket.send(Message::text("hi")).await?;
    /// if let Some(Ok(Message::Text(echo))) = socket.next().await {
    ///     println!("{echo}");
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn websocket(&self, path: &str) -> Result<RawClientSocket, ClientError> {
        let shared = &self.shared;
        let inner = &shared.client.inner;
        let (path, query) = match path.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (path, None),
        };
        let mut url = self.raw_url(names::SEGMENT_WEBSOCKET, path, query)?;
        let scheme = if url.scheme() == "https" { "wss" } else { "ws" };
        url.set_scheme(scheme)
            .map_err(|()| ClientError::Transport("cannot make a WebSocket URL".into()))?;
        let params = shared.params.current()?;
        let protocols =
            protocol::build_subprotocols(inner.encoding, params.as_deref(), inner.token.as_deref());
        let mut request = url.as_str().into_client_request().map_err(transport)?;
        for (name, value) in inner.headers.iter().chain(shared.headers.iter()) {
            request.headers_mut().append(name, value.clone());
        }
        request.headers_mut().insert(
            http::header::SEC_WEBSOCKET_PROTOCOL,
            http::HeaderValue::from_str(&protocols).map_err(transport)?,
        );
        let opened = tokio::time::timeout(inner.timeout, tokio_tungstenite::connect_async(request))
            .await
            .map_err(|_| {
                ClientError::Unavailable(format!("no connection within {:?}", inner.timeout))
            })?;
        let (socket, _) = opened.map_err(transport)?;
        Ok(socket)
    }

    /// `/gateway/{target}/{kind}{path}` with the gateway's query, then the actor's. The
    /// actor's query may not set gateway (`rvt-*`) parameters, and its path may not hold
    /// control characters (the URL parser drops them, which could make a `..` out of
    /// `.\t.`); a backslash is sent escaped (the parser takes it for a `/`).
    fn raw_url(
        &self,
        kind: &str,
        path: &str,
        query: Option<&str>,
    ) -> Result<reqwest::Url, ClientError> {
        let refused = |what: &str| ClientError::Transport(format!("not sent: {what}"));
        if path.chars().any(|c| c.is_ascii_control()) {
            return Err(refused("the path holds a control character"));
        }
        if let Some(query) = query {
            let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query)
                .map_err(|_| refused("the query string does not parse"))?;
            if pairs
                .iter()
                .any(|(name, _)| name.starts_with(names::QUERY_PREFIX))
            {
                return Err(refused("the query sets a gateway (`rvt-*`) parameter"));
            }
        }
        let shared = &self.shared;
        let mut url = shared
            .address
            .url(&shared.client.inner, shared.actor_name, &[kind])?;
        // Appended as written: the URL parser escapes only what a path cannot hold, so the
        // actor sees the client's own escapes.
        let path = path.replace('\\', "%5C");
        let full = format!("{}{}", url.path(), resolve_dots(&path));
        url.set_path(&full);
        if let Some(query) = query.filter(|query| !query.is_empty()) {
            let joined = match url.query() {
                Some(existing) => format!("{existing}&{query}"),
                None => query.to_owned(),
            };
            url.set_query(Some(&joined));
        }
        Ok(url)
    }
}

/// `path` with `.` and `..` segments (also escaped as `%2e`) resolved against the actor's
/// root, so a request cannot climb out of `/request/` into another gateway endpoint;
/// always starts with `/` unless empty.
fn resolve_dots(path: &str) -> String {
    let is_dot =
        |segment: &str, dots: &str| segment.to_ascii_lowercase().replace("%2e", ".") == dots;
    let mut kept: Vec<&str> = Vec::new();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let mut trailing_slash = false;
    for (i, segment) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        if is_dot(segment, ".") {
            trailing_slash = last;
        } else if is_dot(segment, "..") {
            kept.pop();
            trailing_slash = last;
        } else {
            kept.push(segment);
        }
    }
    let mut out = String::new();
    for segment in &kept {
        out.push('/');
        out.push_str(segment);
    }
    if trailing_slash {
        out.push('/');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::resolve_dots;

    #[test]
    fn dot_segments_stay_inside_the_actor_path() {
        assert_eq!(resolve_dots(""), "/");
        assert_eq!(resolve_dots("/"), "/");
        assert_eq!(resolve_dots("/a/b/"), "/a/b/");
        assert_eq!(resolve_dots("a%20b"), "/a%20b");
        assert_eq!(resolve_dots("/a/../b"), "/b");
        assert_eq!(resolve_dots("/../../action/x"), "/action/x");
        assert_eq!(resolve_dots("/a/%2E%2e/b/./"), "/b/");
        assert_eq!(resolve_dots("/a/.."), "/");
    }
}
