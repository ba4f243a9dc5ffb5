//! The typed network client: RivetKit's protocol over HTTP (stateless calls) and one
//! WebSocket per connection (actions multiplexed, events, reconnect).

mod address;
mod backlog;
mod body;
mod conn;
mod handle;
mod queue;
pub(crate) mod raw;
mod socket;

use std::sync::Arc;
use std::time::Duration;

use crate::actor::Actor;
use crate::error::{ActorError, ClientError};
use crate::protocol::names;
use crate::protocol::{self, Encoding, WireError};
use crate::runtime::{ActorId, Key};

pub use body::MAX_ANSWER_BYTES;
pub use conn::{ActorConn, ConnInvoker, ConnStatus};
pub use handle::{ActorHandle, HttpInvoker};
pub use raw::RawClientSocket;

/// A client of a rivet-actor (or RivetKit) server.
///
/// ```
/// # use rivet_actor::prelude::*;
/// # #[derive(Default, Serialize, Deserialize)] struct Counter { n: u64 }
/// # #[actor] impl Counter { #[action] fn increment(&mut self, by: u64) -> u64 { self.n += by; self.n } }
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// # let registry = Registry::builder().in_memory().register::<Counter>().build();
/// # let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
/// let client = Client::new(server.endpoint()); // e.g. "http://127.0.0.1:6420"
/// let counter = client.get_or_create::<Counter>(["mine"]);
/// assert_eq!(counter.increment(1).await.unwrap(), 1); // a stateless call over HTTP
/// let conn = counter.connect().await.unwrap(); // one WebSocket
/// assert_eq!(conn.increment(2).await.unwrap(), 3);
/// # });
/// ```
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<ClientInner>,
}

pub(crate) struct ClientInner {
    pub(crate) http: reqwest::Client,
    pub(crate) endpoint: String,
    pub(crate) encoding: Encoding,
    pub(crate) headers: http::HeaderMap,
    /// The engine's namespace and pool, when the endpoint is a Rivet Engine's gateway.
    pub(crate) engine: Option<(String, String)>,
    /// The token sent with every request and connection ([`Client::token`]).
    pub(crate) token: Option<String>,
    /// How long a call waits for its answer, and opening a connection may take.
    pub(crate) timeout: Duration,
    /// How long a call through a reconnecting connection waits for it to come back.
    pub(crate) reconnect_wait: Duration,
}

/// The default [`Client::timeout`]: longer than the server's default action timeout (60 s),
/// so that a slow action's own `actor.action_timed_out` reaches the caller first.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(90);

/// The default [`Client::reconnect_wait`].
pub const DEFAULT_RECONNECT_WAIT: Duration = Duration::from_secs(30);

impl Client {
    /// A client of the server at `endpoint` (e.g. `http://127.0.0.1:6420`), speaking JSON.
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// # #[derive(Default, Serialize, Deserialize)] struct Counter { n: u64 }
    /// # #[actor] impl Counter { #[action] fn increment(&mut self, by: u64) -> u64 { self.n += by; self.n } }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let registry = Registry::builder().in_memory().register::<Counter>().build();
    /// # let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    /// let client = Client::new(server.endpoint());
    /// assert_eq!(client.get_or_create::<Counter>("a").increment(1).await.unwrap(), 1);
    /// # });
    /// ```
    pub fn new(endpoint: impl Into<String>) -> Self {
        let endpoint = endpoint.into().trim_end_matches('/').to_owned();
        Self {
            inner: Arc::new(ClientInner {
                // No redirects: a server that answers 307 would have the call, with its
                // params header, sent again to wherever it points.
                http: reqwest::Client::builder()
                    .redirect(reqwest::redirect::Policy::none())
                    .build()
                    .unwrap_or_default(),
                endpoint,
                encoding: Encoding::Json,
                headers: http::HeaderMap::new(),
                engine: None,
                token: None,
                timeout: DEFAULT_TIMEOUT,
                reconnect_wait: DEFAULT_RECONNECT_WAIT,
            }),
        }
    }

    fn rebuild(self, change: impl FnOnce(&mut ClientInner)) -> Self {
        let mut inner = ClientInner {
            http: self.inner.http.clone(),
            endpoint: self.inner.endpoint.clone(),
            encoding: self.inner.encoding,
            headers: self.inner.headers.clone(),
            engine: self.inner.engine.clone(),
            token: self.inner.token.clone(),
            timeout: self.inner.timeout,
            reconnect_wait: self.inner.reconnect_wait,
        };
        change(&mut inner);
        Self {
            inner: Arc::new(inner),
        }
    }

    /// Talks to actors through a Rivet Engine's gateway (engine mode): `getOrCreate` places
    /// new actors in `pool` of `namespace`, and keys go as the engine reads them (`rvt-key`,
    /// comma-joined, as the npm client sends them).
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// let client = Client::new("http://127.0.0.1:6420").engine("default", "rivet-actor");
    /// # let _ = client;
    /// ```
    pub fn engine(self, namespace: &str, pool: &str) -> Self {
        self.rebuild(|inner| inner.engine = Some((namespace.to_owned(), pool.to_owned())))
    }

    /// Speaks `encoding` (JSON or CBOR) on every call and connection.
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// # #[derive(Default, Serialize, Deserialize)] struct Counter { n: u64 }
    /// # #[actor] impl Counter { #[action] fn increment(&mut self, by: u64) -> u64 { self.n += by; self.n } }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let registry = Registry::builder().in_memory().register::<Counter>().build();
    /// # let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    /// use rivet_actor::protocol::Encoding;
    ///
    /// let client = Client::new(server.endpoint()).encoding(Encoding::Cbor);
    /// let counter = client.get_or_create::<Counter>("a");
    /// assert_eq!(counter.increment(1).await.unwrap(), 1);
    /// assert_eq!(counter.connect().await.unwrap().increment(1).await.unwrap(), 2);
    /// # });
    /// ```
    pub fn encoding(self, encoding: Encoding) -> Self {
        self.rebuild(|inner| inner.encoding = encoding)
    }

    /// Adds a header to every stateless call (not sent on WebSocket connections, which
    /// browsers cannot give headers: use params there).
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// # #[derive(Default, Serialize, Deserialize)] struct Desk;
    /// # #[actor] impl Desk {
    /// #     #[conn_state] fn from_header(&self, c: &ConnectCtx<'_, Self>) -> String {
    /// #         c.request().and_then(|r| r.header_str("x-tenant")).unwrap_or("none").to_owned()
    /// #     }
    /// #     #[action] fn tenant(&self, c: &ActionCtx<'_, Self>) -> String { c.conn().state().clone() }
    /// # }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let registry = Registry::builder().in_memory().register::<Desk>().build();
    /// # let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    /// // `#[conn_state]` reads `c.request()` and keeps the `x-tenant` header.
    /// let client = Client::new(server.endpoint()).header("x-tenant", "acme");
    /// assert_eq!(client.get_or_create::<Desk>("a").tenant().await.unwrap(), "acme");
    /// # });
    /// ```
    pub fn header(self, name: &str, value: &str) -> Self {
        self.rebuild(|inner| {
            if let (Ok(name), Ok(value)) = (
                http::HeaderName::from_bytes(name.as_bytes()),
                http::HeaderValue::from_str(value),
            ) {
                inner.headers.append(name, value);
            }
        })
    }

    /// Sends `token` with every request and connection, as the npm client's `token` option
    /// does: the `x-rivet-token` header on HTTP (calls, queue sends, raw requests, the
    /// engine's `/actors`), a `rivet_token.<token>` subprotocol on WebSockets (which browsers
    /// cannot give headers). What a Rivet Engine that requires a token checks; a hook sees
    /// it in `c.request()`. A token that is not valid header text is not sent.
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// # #[derive(Default, Serialize, Deserialize)] struct Desk;
    /// # #[actor] impl Desk {
    /// #     #[conn_state] fn from_header(&self, c: &ConnectCtx<'_, Self>) -> String {
    /// #         c.request().and_then(|r| r.header_str("x-rivet-token")).unwrap_or("none").to_owned()
    /// #     }
    /// #     #[action] fn token(&self, c: &ActionCtx<'_, Self>) -> String { c.conn().state().clone() }
    /// # }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let registry = Registry::builder().in_memory().register::<Desk>().build();
    /// # let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    /// let client = Client::new(server.endpoint()).token("s3cret");
    /// assert_eq!(client.get_or_create::<Desk>("a").token().await.unwrap(), "s3cret");
    /// # });
    /// ```
    pub fn token(self, token: &str) -> Self {
        self.rebuild(|inner| {
            let Ok(value) = http::HeaderValue::from_str(token) else {
                return;
            };
            inner
                .headers
                .insert(http::HeaderName::from_static(names::HEADER_TOKEN), value);
            inner.token = Some(token.to_owned());
        })
    }

    /// How long a call waits for its answer (default [`DEFAULT_TIMEOUT`], 90 s), counted
    /// from when it goes out; also how long opening a connection may take, and how long a
    /// connection may stay silent (it is pinged after a third of it, and given up on and
    /// reconnected after all of it). A call that gets
    /// no answer in time fails with [`ClientError::Transport`]: it may have run. Queue sends
    /// that wait for completion wait as long as they ask instead.
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// # #[derive(Default, Serialize, Deserialize)] struct Clock;
    /// # #[actor] impl Clock {
    /// #     #[action] async fn slow(&self) { tokio::time::sleep(std::time::Duration::from_secs(5)).await }
    /// # }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let registry = Registry::builder().in_memory().register::<Clock>().build();
    /// # let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    /// use std::time::Duration;
    /// let client = Client::new(server.endpoint()).timeout(Duration::from_millis(200));
    /// let err = client.get_or_create::<Clock>("a").slow().await.unwrap_err();
    /// assert!(matches!(err, ClientError::Transport(_)));
    /// # });
    /// ```
    pub fn timeout(self, timeout: Duration) -> Self {
        self.rebuild(|inner| inner.timeout = timeout)
    }

    /// How long a call through an [`ActorConn`] that is reconnecting waits for the
    /// connection to come back (default [`DEFAULT_RECONNECT_WAIT`], 30 s). After that it
    /// fails with [`ClientError::Unavailable`] and is never sent, so it is safe to retry;
    /// the connection goes on reconnecting.
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// # #[derive(Default, Serialize, Deserialize)] struct Counter { n: u64 }
    /// # #[actor] impl Counter { #[action] fn increment(&mut self, by: u64) -> u64 { self.n += by; self.n } }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let registry = Registry::builder().in_memory().register::<Counter>().build();
    /// # let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    /// use std::time::Duration;
    /// let client = Client::new(server.endpoint()).reconnect_wait(Duration::from_millis(200));
    /// let conn = client.get_or_create::<Counter>("a").connect().await.unwrap();
    /// let mut status = conn.status_changes();
    /// server.shutdown().await.unwrap(); // the server is gone for good
    /// status.wait_for(|s| *s != rivet_actor::ConnStatus::Connected).await.unwrap();
    /// assert!(conn.increment(1).await.unwrap_err().is_unavailable());
    /// # });
    /// ```
    pub fn reconnect_wait(self, wait: Duration) -> Self {
        self.rebuild(|inner| inner.reconnect_wait = wait)
    }

    /// The endpoint this client talks to (without a trailing `/`).
    ///
    /// ```
    /// let client = rivet_actor::Client::new("http://127.0.0.1:6420/");
    /// assert_eq!(client.endpoint(), "http://127.0.0.1:6420");
    /// ```
    pub fn endpoint(&self) -> &str {
        &self.inner.endpoint
    }

    /// The actor with this key (`actor.not_found` on first use if there is none).
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// # #[derive(Default, Serialize, Deserialize)] struct Counter { n: u64 }
    /// # #[actor] impl Counter { #[action] fn increment(&mut self, by: u64) -> u64 { self.n += by; self.n } }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let registry = Registry::builder().in_memory().register::<Counter>().build();
    /// # let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    /// # let client = Client::new(server.endpoint());
    /// let err = client.get::<Counter>("a").increment(1).await.unwrap_err();
    /// assert!(err.is_not_found());
    /// client.get_or_create::<Counter>("a").increment(1).await.unwrap();
    /// assert_eq!(client.get::<Counter>("a").increment(1).await.unwrap(), 2);
    /// # });
    /// ```
    pub fn get<A: Actor>(&self, key: impl Into<Key>) -> ActorHandle<A> {
        ActorHandle::new(
            self.clone(),
            address::ActorAddress::query("get", key.into(), None),
        )
    }

    /// The actor with this key, created on first use if there is none.
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// # #[derive(Default, Serialize, Deserialize)] struct Counter { n: u64 }
    /// # #[actor] impl Counter { #[action] fn increment(&mut self, by: u64) -> u64 { self.n += by; self.n } }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let registry = Registry::builder().in_memory().register::<Counter>().build();
    /// # let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    /// # let client = Client::new(server.endpoint());
    /// let eu = client.get_or_create::<Counter>(["region", "eu"]); // a key of two parts
    /// assert_eq!(eu.increment(1).await.unwrap(), 1);
    /// assert_eq!(eu.increment(1).await.unwrap(), 2);
    /// # });
    /// ```
    pub fn get_or_create<A: Actor>(&self, key: impl Into<Key>) -> ActorHandle<A> {
        ActorHandle::new(
            self.clone(),
            address::ActorAddress::query("getOrCreate", key.into(), None),
        )
    }

    /// The actor with this key, created with `input` on first use if there is none.
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// # #[derive(Serialize, Deserialize)] struct Counter { n: u64 }
    /// # #[actor] impl Counter {
    /// #     #[create_state] fn start(input: u64) -> Self { Counter { n: input } }
    /// #     #[action] fn increment(&mut self, by: u64) -> u64 { self.n += by; self.n }
    /// # }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let registry = Registry::builder().in_memory().register::<Counter>().build();
    /// # let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    /// # let client = Client::new(server.endpoint());
    /// // `#[create_state] fn start(input: u64) -> Self { Counter { n: input } }`
    /// let counter = client.get_or_create_with::<Counter>("a", &10).unwrap();
    /// assert_eq!(counter.increment(1).await.unwrap(), 11);
    /// # });
    /// ```
    pub fn get_or_create_with<A: Actor>(
        &self,
        key: impl Into<Key>,
        input: &A::Input,
    ) -> Result<ActorHandle<A>, ClientError> {
        let input = address::encode_input(input)?;
        Ok(ActorHandle::new(
            self.clone(),
            address::ActorAddress::query("getOrCreate", key.into(), Some(input)),
        ))
    }

    /// Creates a new actor with this key and input (`actor.already_exists` if taken).
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// # #[derive(Serialize, Deserialize)] struct Counter { n: u64 }
    /// # #[actor] impl Counter {
    /// #     #[create_state] fn start(input: u64) -> Self { Counter { n: input } }
    /// #     #[action] fn increment(&mut self, by: u64) -> u64 { self.n += by; self.n }
    /// # }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let registry = Registry::builder().in_memory().register::<Counter>().build();
    /// # let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    /// # let client = Client::new(server.endpoint());
    /// // `#[create_state] fn start(input: u64) -> Self { Counter { n: input } }`
    /// let counter = client.create::<Counter>("a", &10).await.unwrap();
    /// assert_eq!(counter.increment(1).await.unwrap(), 11);
    /// let taken = client.create::<Counter>("a", &0).await.err().unwrap();
    /// assert_eq!(taken.code(), Some("already_exists"));
    /// # });
    /// ```
    pub async fn create<A: Actor>(
        &self,
        key: impl Into<Key>,
        input: &A::Input,
    ) -> Result<ActorHandle<A>, ClientError> {
        let key = key.into();
        let input =
            crate::value::to_value(input).map_err(|err| ClientError::Decode(err.to_string()))?;
        // An engine places the actor in its namespace (a query it requires) and pool.
        let mut url =
            reqwest::Url::parse(&format!("{}{}", self.inner.endpoint, names::PATH_ACTORS))
                .map_err(|err| ClientError::Transport(format!("invalid endpoint: {err}")))?;
        let pool = match &self.inner.engine {
            Some((namespace, pool)) => {
                url.query_pairs_mut().append_pair("namespace", namespace);
                pool.as_str()
            }
            None => names::DEFAULT_RUNNER,
        };
        let body = serde_json::json!({
            "name": A::NAME,
            "key": protocol::path_key::encode(key.parts()),
            "input": protocol::input::encode_actors_input(&input),
            "runner_name_selector": pool,
            "crash_policy": "sleep",
        });
        let response = self
            .inner
            .http
            .post(url)
            .headers(self.inner.headers.clone())
            .json(&body)
            .timeout(self.inner.timeout)
            .send()
            .await
            .map_err(request_failed)?;
        let status = response.status();
        let bytes = body::read(response).await?;
        if !status.is_success() {
            return Err(error_from_body(Encoding::Json, status.as_u16(), &bytes));
        }
        let answer: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|err| ClientError::Decode(err.to_string()))?;
        let id = answer["actor"]["actor_id"]
            .as_str()
            .ok_or_else(|| ClientError::Decode("the create answer has no actor id".into()))?;
        Ok(self.get_for_id(ActorId::new(id)))
    }

    /// The actor with this id.
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// # #[derive(Default, Serialize, Deserialize)] struct Counter { n: u64 }
    /// # #[actor] impl Counter { #[action] fn increment(&mut self, by: u64) -> u64 { self.n += by; self.n } }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let registry = Registry::builder().in_memory().register::<Counter>().build();
    /// # let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    /// # let client = Client::new(server.endpoint());
    /// let id = registry.get_or_create::<Counter>("a").await.unwrap().id().clone();
    /// let counter = client.get_for_id::<Counter>(id);
    /// assert_eq!(counter.increment(1).await.unwrap(), 1);
    /// # });
    /// ```
    pub fn get_for_id<A: Actor>(&self, id: ActorId) -> ActorHandle<A> {
        ActorHandle::new(
            self.clone(),
            address::ActorAddress::Id(id.as_str().to_owned()),
        )
    }
}

/// One stateless call to the actor of type `actor` that `lookup` names, by wire names and
/// values (engine mode's calls between hosts, `engine/peer.rs`), with `extra` headers.
#[cfg(feature = "engine")]
pub(crate) async fn call_erased(
    client: &Client,
    actor: &'static str,
    lookup: crate::naming::Lookup<crate::value::Value>,
    action: &str,
    args: &[crate::value::Value],
    extra: &[(&str, String)],
) -> Result<crate::value::Value, ClientError> {
    let shared = erased_handle(client, actor, lookup)?;
    handle::post_action(&shared, action, args, extra).await
}

/// One queue send to the actor of type `actor` that `lookup` names, by wire names and
/// values (engine mode's sends between hosts), with `extra` headers.
#[cfg(feature = "engine")]
pub(crate) async fn queue_send_erased(
    client: &Client,
    actor: &'static str,
    lookup: crate::naming::Lookup<crate::value::Value>,
    queue: &str,
    body: crate::value::Value,
    wait: Option<std::time::Duration>,
    extra: &[(&str, String)],
) -> Result<crate::queue::QueueSendResult<crate::value::Value>, ClientError> {
    let shared = erased_handle(client, actor, lookup)?;
    queue::post_queue_value(&shared, queue, body, wait, extra).await
}

/// A handle to the actor of type `actor` that `lookup` names, without params.
#[cfg(feature = "engine")]
fn erased_handle(
    client: &Client,
    actor: &'static str,
    lookup: crate::naming::Lookup<crate::value::Value>,
) -> Result<handle::HandleShared, ClientError> {
    use crate::naming::Lookup;
    let input = |value: &crate::value::Value| crate::protocol::input::encode_query_input(value);
    let address = match lookup {
        Lookup::Get(key) => address::ActorAddress::query("get", key, None),
        Lookup::GetOrCreate(key, value) => {
            address::ActorAddress::query("getOrCreate", key, value.as_ref().map(input))
        }
        Lookup::Create(..) => {
            return Err(ClientError::Actor(crate::error::ActorError::not_supported(
                "creating an actor on another engine host (use get_or_create)",
            )));
        }
        Lookup::Id(id) => address::ActorAddress::Id(id.as_str().to_owned()),
    };
    Ok(handle::HandleShared {
        client: client.clone(),
        address,
        actor_name: actor,
        params: handle::ParamsSource::None,
        headers: http::HeaderMap::new(),
    })
}

pub(crate) fn transport(err: impl std::fmt::Display) -> ClientError {
    ClientError::Transport(err.to_string())
}

/// A failed HTTP request: [`ClientError::Unavailable`] when no connection was made (nothing
/// was sent), a transport error otherwise.
pub(crate) fn request_failed(err: reqwest::Error) -> ClientError {
    match err.is_connect() {
        true => ClientError::Unavailable(err.to_string()),
        false if err.is_timeout() => ClientError::Transport(format!("no answer in time: {err}")),
        false => transport(err),
    }
}

/// The client-side form of a wire error.
pub(crate) fn actor_error(wire: WireError) -> ActorError {
    ActorError {
        group: wire.group,
        code: wire.code,
        message: wire.message,
        metadata: wire.metadata.as_ref().map(protocol::value_to_json_value),
    }
}

/// An HTTP error answer: the error body if it decodes, else a transport error naming the status.
pub(crate) fn error_from_body(encoding: Encoding, status: u16, bytes: &[u8]) -> ClientError {
    let decoded = protocol::decode_error_body(encoding, bytes)
        .or_else(|_| protocol::decode_error_body(Encoding::Json, bytes))
        .or_else(|_| protocol::decode_error_body(Encoding::Cbor, bytes));
    match decoded {
        Ok(wire) => ClientError::Actor(actor_error(wire)),
        Err(_) => ClientError::Transport(format!(
            "the server answered HTTP {status} without an error body"
        )),
    }
}
