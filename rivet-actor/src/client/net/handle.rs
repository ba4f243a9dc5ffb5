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
use crate::client::net::{Client, error_from_body, transport};
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
        let shared = &self.shared;
        let inner = &shared.client.inner;
        let encoding = inner.encoding;
        let action = call.action().name();
        let args = call
            .to_args()
            .map_err(|err| ClientError::Decode(err.to_string()))?;
        let url = shared.address.url(
            &inner.endpoint,
            shared.actor_name,
            &[names::SEGMENT_ACTION, action],
        )?;
        let mut request = inner
            .http
            .post(url)
            .header(names::HEADER_ENCODING, encoding.name())
            .header(http::header::CONTENT_TYPE, encoding.content_type())
            .body(protocol::encode_action_request(encoding, &args));
        for (name, value) in inner.headers.iter().chain(shared.headers.iter()) {
            request = request.header(name, value);
        }
        if let Some(params) = shared.params.current()? {
            request = request.header(names::HEADER_CONN_PARAMS, params);
        }
        let response = request.send().await.map_err(transport)?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(transport)?;
        if !status.is_success() {
            return Err(error_from_body(encoding, status.as_u16(), &bytes));
        }
        let output = protocol::decode_action_response(encoding, &bytes)
            .map_err(|err| ClientError::Decode(err.to_string()))?;
        crate::value::from_value(output).map_err(|err| ClientError::Decode(err.to_string()))
    }
}

/// A handle to one actor on a server: typed stateless calls (through `Deref` to the
/// generated methods), and [`ActorHandle::connect`] for a persistent connection.
///
/// Nothing is sent until the first call; a `get_or_create` handle creates the actor then.
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
    pub fn params<P: Serialize>(&self, params: P) -> Self {
        let json = serde_json::to_string(&params).expect("connection params must encode as JSON");
        self.rebuild(|shared| shared.params = ParamsSource::Json(json.into()))
    }

    /// Makes the params anew for every call and every (re)connect, e.g. to refresh a token.
    pub fn params_with<P: Serialize, F: Fn() -> P + Send + Sync + 'static>(&self, make: F) -> Self {
        let make = move || {
            serde_json::to_string(&make()).map_err(|err| ClientError::Decode(err.to_string()))
        };
        self.rebuild(|shared| shared.params = ParamsSource::Fresh(Arc::new(make)))
    }

    /// Adds a header to this handle's stateless calls.
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
