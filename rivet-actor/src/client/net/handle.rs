//! A handle to one actor: typed stateless calls over HTTP, and `connect()`.

use std::marker::PhantomData;
use std::ops::Deref;
use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::actor::{Actor, ActorCall, Target as _};
use crate::client::Invoker;
use crate::client::net::address::ActorAddress;
use crate::client::net::conn::ActorConn;
use crate::client::net::{Client, error_from_body, request_failed};
use crate::error::ClientError;
use crate::protocol;
use crate::protocol::names;

/// Where a handle's connection params come from: fixed, or made anew on every call and
/// every (re)connect (to refresh a token).
#[derive(Clone)]
pub(crate) enum ParamsSource {
    None,
    Json(Arc<str>),
    Fresh(Arc<dyn Fn() -> Result<String, ClientError> + Send + Sync>),
}

impl ParamsSource {
    pub(crate) fn current(&self) -> Result<Option<String>, ClientError> {
        match self {
            ParamsSource::None => Ok(None),
            ParamsSource::Json(json) => Ok(Some(json.to_string())),
            ParamsSource::Fresh(make) => make().map(Some),
        }
    }
}

pub(crate) struct HandleShared {
    pub(crate) client: Client,
    pub(crate) address: ActorAddress,
    pub(crate) actor_name: &'static str,
    pub(crate) params: ParamsSource,
    pub(crate) headers: http::HeaderMap,
}

/// The HTTP [`Invoker`]: each call is one `POST /gateway/…/action/{name}`.
///
/// An [`ActorHandle`] derefs to the generated methods over it.
///
/// ```
/// # use rivet_actor::prelude::*;
/// # #[derive(Default, Serialize, Deserialize)] struct Counter { n: u64 }
/// # #[actor] impl Counter { #[action] fn increment(&mut self, by: u64) -> u64 { self.n += by; self.n } }
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// # let registry = Registry::builder().in_memory().register::<Counter>().build();
/// # let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
/// # let client = Client::new(server.endpoint());
/// use rivet_actor::client::net::HttpInvoker;
///
/// let counter = client.get_or_create::<Counter>("a");
/// let methods: &CounterMethods<HttpInvoker<Counter>> = &counter;
/// assert_eq!(methods.increment(2).await.unwrap(), 2); // POST …/action/increment
/// # });
/// ```
pub struct HttpInvoker<A: Actor> {
    shared: Arc<HandleShared>,
    _actor: PhantomData<fn() -> A>,
}

impl<A: Actor> Invoker<A> for HttpInvoker<A> {
    async fn invoke<R: DeserializeOwned + Send + 'static>(
        &self,
        call: A::Call,
        _unwrap: fn(A::Return) -> Option<R>,
    ) -> Result<R, ClientError> {
        let action = call.action().name();
        let args = call
            .to_args()
            .map_err(|err| ClientError::Decode(err.to_string()))?;
        let output = post_action(&self.shared, action, &args, &[]).await?;
        crate::value::from_value(output).map_err(|err| ClientError::Decode(err.to_string()))
    }
}

/// One stateless call by wire names and values: `POST …/action/{action}` with the handle's
/// params and headers, and `extra` headers; the answer's output.
pub(crate) async fn post_action(
    shared: &HandleShared,
    action: &str,
    args: &[crate::value::Value],
    extra: &[(&str, String)],
) -> Result<crate::value::Value, ClientError> {
    let inner = &shared.client.inner;
    let encoding = inner.encoding;
    let url = shared
        .address
        .url(inner, shared.actor_name, &[names::SEGMENT_ACTION, action])?;
    let mut request = inner
        .http
        .post(url)
        .header(names::HEADER_ENCODING, encoding.name())
        .header(http::header::CONTENT_TYPE, encoding.content_type())
        .body(protocol::encode_action_request(encoding, args));
    for (name, value) in inner.headers.iter().chain(shared.headers.iter()) {
        request = request.header(name, value);
    }
    for (name, value) in extra {
        request = request.header(*name, value);
    }
    if let Some(params) = shared.params.current()? {
        request = request.header(names::HEADER_CONN_PARAMS, params);
    }
    let response = request
        .timeout(inner.timeout)
        .send()
        .await
        .map_err(request_failed)?;
    let status = response.status();
    let bytes = super::body::read(response).await?;
    if !status.is_success() {
        return Err(error_from_body(encoding, status.as_u16(), &bytes));
    }
    protocol::decode_action_response(encoding, &bytes)
        .map_err(|err| ClientError::Decode(err.to_string()))
}

/// A handle to one actor on a server: typed stateless calls (through `Deref` to the
/// generated methods), and [`ActorHandle::connect`] for a persistent connection.
///
/// Nothing is sent until the first call; a `get_or_create` handle creates the actor then.
///
/// ```
/// # use rivet_actor::prelude::*;
/// # #[derive(Default, Serialize, Deserialize)] struct Counter { n: u64 }
/// # #[actor] impl Counter { #[action] fn increment(&mut self, by: u64) -> u64 { self.n += by; self.n } }
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// # let registry = Registry::builder().in_memory().register::<Counter>().build();
/// # let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
/// # let client = Client::new(server.endpoint());
/// let counter = client.get_or_create::<Counter>("a"); // nothing sent yet
/// assert_eq!(counter.increment(1).await.unwrap(), 1); // creates the actor, then calls it
/// assert_eq!(counter.increment(1).await.unwrap(), 2);
/// let conn = counter.connect().await.unwrap();
/// assert_eq!(conn.increment(1).await.unwrap(), 3);
/// # });
/// ```
pub struct ActorHandle<A: Actor> {
    pub(crate) shared: Arc<HandleShared>,
    methods: A::Methods<HttpInvoker<A>>,
}

impl<A: Actor> ActorHandle<A> {
    pub(crate) fn new(client: Client, address: ActorAddress) -> Self {
        Self::from_shared(HandleShared {
            client,
            address,
            actor_name: A::NAME,
            params: ParamsSource::None,
            headers: http::HeaderMap::new(),
        })
    }

    fn from_shared(shared: HandleShared) -> Self {
        let shared = Arc::new(shared);
        let methods = A::Methods::from(HttpInvoker {
            shared: shared.clone(),
            _actor: PhantomData,
        });
        Self { shared, methods }
    }

    fn rebuild(&self, change: impl FnOnce(&mut HandleShared)) -> Self {
        let mut shared = HandleShared {
            client: self.shared.client.clone(),
            address: self.shared.address.clone(),
            actor_name: self.shared.actor_name,
            params: self.shared.params.clone(),
            headers: self.shared.headers.clone(),
        };
        change(&mut shared);
        Self::from_shared(shared)
    }

    /// Sends `params` with every call and connection (read by `before_connect` and
    /// `conn_state`).
    ///
    /// # Panics
    /// When `params` cannot be encoded as JSON (a map with non-string keys).
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// # #[derive(Serialize, Deserialize)] struct Login { user: String }
    /// # #[derive(Default, Serialize, Deserialize)] struct Desk;
    /// # #[actor] impl Desk {
    /// #     #[conn_state] fn user(&self, p: &Login) -> String { p.user.clone() }
    /// #     #[action] fn whoami(&self, c: &ActionCtx<'_, Self>) -> String { c.conn().state().clone() }
    /// # }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let registry = Registry::builder().in_memory().register::<Desk>().build();
    /// # let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    /// # let client = Client::new(server.endpoint());
    /// // `#[conn_state] fn user(&self, p: &Login) -> String { p.user.clone() }`
    /// let desk = client.get_or_create::<Desk>("a").params(Login { user: "ann".into() });
    /// assert_eq!(desk.whoami().await.unwrap(), "ann");
    /// # });
    /// ```
    pub fn params<P: Serialize>(&self, params: P) -> Self {
        let json = serde_json::to_string(&params).expect("connection params must encode as JSON");
        self.rebuild(|shared| shared.params = ParamsSource::Json(json.into()))
    }

    /// Makes the params anew for every call and every (re)connect, e.g. to refresh a token.
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// # #[derive(Serialize, Deserialize)] struct Login { user: String }
    /// # #[derive(Default, Serialize, Deserialize)] struct Desk;
    /// # #[actor] impl Desk {
    /// #     #[conn_state] fn user(&self, p: &Login) -> String { p.user.clone() }
    /// #     #[action] fn whoami(&self, c: &ActionCtx<'_, Self>) -> String { c.conn().state().clone() }
    /// # }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let registry = Registry::builder().in_memory().register::<Desk>().build();
    /// # let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    /// # let client = Client::new(server.endpoint());
    /// use std::sync::atomic::{AtomicU32, Ordering};
    ///
    /// let issued = AtomicU32::new(0);
    /// let desk = client.get_or_create::<Desk>("a").params_with(move || Login {
    ///     user: format!("token-{}", issued.fetch_add(1, Ordering::Relaxed)),
    /// });
    /// assert_eq!(desk.whoami().await.unwrap(), "token-0");
    /// assert_eq!(desk.whoami().await.unwrap(), "token-1");
    /// # });
    /// ```
    pub fn params_with<P: Serialize, F: Fn() -> P + Send + Sync + 'static>(&self, make: F) -> Self {
        let make = move || {
            serde_json::to_string(&make()).map_err(|err| ClientError::Decode(err.to_string()))
        };
        self.rebuild(|shared| shared.params = ParamsSource::Fresh(Arc::new(make)))
    }

    /// Adds a header to this handle's stateless calls.
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
    /// # let client = Client::new(server.endpoint());
    /// // `#[conn_state]` reads `c.request()` and keeps the `x-tenant` header.
    /// let desk = client.get_or_create::<Desk>("a");
    /// assert_eq!(desk.header("x-tenant", "acme").tenant().await.unwrap(), "acme");
    /// assert_eq!(desk.tenant().await.unwrap(), "none");
    /// # });
    /// ```
    pub fn header(&self, name: &str, value: &str) -> Self {
        self.rebuild(|shared| {
            if let (Ok(name), Ok(value)) = (
                http::HeaderName::from_bytes(name.as_bytes()),
                http::HeaderValue::from_str(value),
            ) {
                shared.headers.append(name, value);
            }
        })
    }

    /// Opens a persistent connection: one WebSocket carrying actions and events, which
    /// reconnects (and re-subscribes) by itself until closed.
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// # #[derive(Default, Serialize, Deserialize)] struct Counter { n: u64 }
    /// # #[actor] impl Counter { #[action] fn increment(&mut self, by: u64) -> u64 { self.n += by; self.n } }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let registry = Registry::builder().in_memory().register::<Counter>().build();
    /// # let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    /// # let client = Client::new(server.endpoint());
    /// let counter = client.get_or_create::<Counter>("a");
    /// let conn = counter.connect().await.unwrap();
    /// assert_eq!(conn.increment(1).await.unwrap(), 1);
    /// assert_eq!(conn.status(), rivet_actor::ConnStatus::Connected);
    /// # });
    /// ```
    pub async fn connect(&self) -> Result<ActorConn<A>, ClientError> {
        ActorConn::open(self.shared.clone()).await
    }
}

impl<A: Actor> Deref for ActorHandle<A> {
    type Target = A::Methods<HttpInvoker<A>>;
    fn deref(&self) -> &Self::Target {
        &self.methods
    }
}
