//! The in-process transport: typed calls go straight into the instance's mailbox as the
//! generated `Call` enum and come back as the `Return` enum, never serialized.

use std::ops::Deref;
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use crate::actor::{Actor, Event, Target};
use crate::client::Invoker;
use crate::client::events::{EventStream, Streams, Unsubscribe};
use crate::client::kept_mailbox::KeptMailbox;
use crate::conn::{ConnId, Request};
use crate::error::{ActorError, ClientError};
use crate::runtime::command::{CallAndReply, Command};
use crate::runtime::host::{Guards, Host};
use crate::runtime::lookup::ActorId;
use crate::runtime::{Outbound, erased::decode_params};

/// Where a local invoker's calls go.
enum Mode<A: Actor> {
    /// On an open connection.
    Conn(ConnId),
    /// As stateless calls, each with a throwaway connection made from these params.
    Stateless {
        params: Result<Arc<A::ConnParams>, ActorError>,
        request: Option<Arc<Request>>,
    },
}

/// The in-process [`Invoker`]; reached through [`LocalHandle`] and [`LocalConn`].
pub struct LocalInvoker<A: Actor> {
    mailbox: Arc<KeptMailbox<A>>,
    mode: Mode<A>,
}

impl<A: Actor> LocalInvoker<A> {
    async fn send(&self, cmd: Command<A>) {
        self.mailbox.send(cmd).await;
    }
}

impl<A: Actor> Invoker<A> for LocalInvoker<A> {
    async fn invoke<R: serde::de::DeserializeOwned + Send + 'static>(
        &self,
        call: A::Call,
        unwrap: fn(A::Return) -> Option<R>,
    ) -> Result<R, ClientError> {
        let (reply, rx) = oneshot::channel();
        let invocation = CallAndReply::Typed { call, reply };
        let cmd = match &self.mode {
            Mode::Conn(conn_id) => Command::Call {
                conn_id: conn_id.clone(),
                invocation,
            },
            Mode::Stateless { params, request } => Command::Stateless {
                connect: self
                    .mailbox
                    .host()
                    .connection(
                        self.mailbox.id(),
                        Guards::Run(None),
                        params.clone()?,
                        request.clone(),
                        None,
                    )
                    .await?,
                invocation,
            },
        };
        self.send(cmd).await;
        match rx.await {
            Ok(Ok(ret)) => unwrap(ret)
                .ok_or_else(|| ClientError::Decode("the actor answered another action".into())),
            Ok(Err(err)) => Err(ClientError::Actor(err)),
            // The turn panicked and dropped the reply.
            Err(_) => Err(ClientError::Actor(ActorError::internal())),
        }
    }
}

/// An in-process handle to one actor: typed stateless calls (through `Deref` to the
/// generated methods) and [`LocalHandle::connect`].
///
/// ```
/// # use rivet_actor::prelude::*;
/// # #[derive(Default, Serialize, Deserialize)] struct Counter { n: u64 }
/// # #[actor] impl Counter { #[action] fn increment(&mut self, by: u64) -> u64 { self.n += by; self.n } }
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// # let registry = Registry::builder().in_memory().register::<Counter>().build();
/// let counter = registry.get_or_create::<Counter>(["mine"]).await.unwrap();
/// assert_eq!(counter.increment(1).await.unwrap(), 1); // a stateless call
/// let conn = counter.connect().await.unwrap(); // a persistent connection
/// assert_eq!(conn.increment(1).await.unwrap(), 2);
/// # });
/// ```
pub struct LocalHandle<A: Actor> {
    host: Arc<Host<A>>,
    id: ActorId,
    mailbox: Arc<KeptMailbox<A>>,
    params: Result<Arc<A::ConnParams>, ActorError>,
    request: Option<Arc<Request>>,
    methods: A::Methods<LocalInvoker<A>>,
}

impl<A: Actor> LocalHandle<A> {
    pub(crate) fn new(host: Arc<Host<A>>, id: ActorId) -> Self {
        let params = decode_params::<A>(None);
        Self::build(host, id, params, None)
    }

    fn build(
        host: Arc<Host<A>>,
        id: ActorId,
        params: Result<Arc<A::ConnParams>, ActorError>,
        request: Option<Arc<Request>>,
    ) -> Self {
        let tx = host.handle_sender(&id);
        let mailbox = Arc::new(KeptMailbox::new(host.clone(), id.clone(), tx));
        let methods = A::Methods::from(LocalInvoker {
            mailbox: mailbox.clone(),
            mode: Mode::Stateless {
                params: params.clone(),
                request: request.clone(),
            },
        });
        Self {
            host,
            id,
            mailbox,
            params,
            request,
            methods,
        }
    }

    /// The actor's id.
    pub fn id(&self) -> &ActorId {
        &self.id
    }

    /// Sets the connection params every call and connection of this handle sends.
    pub fn params(self, params: A::ConnParams) -> Self {
        Self::build(self.host, self.id, Ok(Arc::new(params)), self.request)
    }

    /// Sets the request (headers, origin) `before_connect` sees.
    pub fn request(self, request: Request) -> Self {
        Self::build(self.host, self.id, self.params, Some(Arc::new(request)))
    }

    /// Opens a persistent connection: `before_connect`, `conn_state`, `on_connect`.
    pub async fn connect(&self) -> Result<LocalConn<A>, ClientError> {
        let params = self.params.clone()?;
        // In-process events are bounded like the network's (their default bound).
        let limit = crate::registry::ServerConfig::default().max_outgoing_bytes;
        let (sink, events) = crate::runtime::outbound::channel(limit);
        let connect = self
            .host
            .connection(
                &self.id,
                Guards::Run(None),
                params.clone(),
                self.request.clone(),
                Some(sink),
            )
            .await?;
        let conn_id = connect.conn_id.clone();
        let (reply, rx) = oneshot::channel();
        let cmd = Command::Connect { connect, reply };
        self.mailbox.send(cmd).await;
        match rx.await {
            Ok(Ok(())) => {}
            Ok(Err(err)) => return Err(ClientError::Actor(err)),
            Err(_) => return Err(ClientError::Actor(ActorError::internal())),
        }
        // The connected instance's own mailbox (the handle's may have been closed by a
        // park, or never open for a parked actor), kept by the connection's calls,
        // subscriptions and disconnect; asked for again whenever the instance parks.
        let tx = self.host.running_sender(&self.id).unwrap_or_else(|| {
            let (closed, _) = mpsc::channel(1);
            closed
        });
        let mailbox = Arc::new(KeptMailbox::new(self.host.clone(), self.id.clone(), tx));
        let streams = Streams::new(unsubscriber(&mailbox, &conn_id));
        tokio::spawn(demultiplex(events, streams.clone()));
        let invoker = LocalInvoker {
            mailbox: mailbox.clone(),
            mode: Mode::Conn(conn_id.clone()),
        };
        Ok(LocalConn {
            shared: Arc::new(ConnShared {
                mailbox,
                conn_id,
                streams,
                params,
                request: self.request.clone(),
            }),
            methods: A::Methods::from(invoker),
        })
    }
}

impl<A: Actor> Deref for LocalHandle<A> {
    type Target = A::Methods<LocalInvoker<A>>;
    fn deref(&self) -> &Self::Target {
        &self.methods
    }
}

/// Unsubscribes connection `conn_id` from an event whose last stream was dropped.
fn unsubscriber<A: Actor>(mailbox: &Arc<KeptMailbox<A>>, conn_id: &ConnId) -> Unsubscribe {
    // Weak: the streams outlive the connection in its event task, which must not keep the
    // actor's mailbox.
    let mailbox = Arc::downgrade(mailbox);
    let conn_id = conn_id.clone();
    Box::new(move |name| {
        let (Some(mailbox), Some(event)) = (mailbox.upgrade(), A::Event::from_name(name)) else {
            return;
        };
        let (reply, _) = oneshot::channel();
        let cmd = Command::Subscribe {
            conn_id: conn_id.clone(),
            event,
            subscribe: false,
            reply,
        };
        mailbox.send_now(cmd);
    })
}

/// Routes a connection's events to the typed streams subscribed to them.
async fn demultiplex(mut events: crate::runtime::Outlet, streams: Streams) {
    while let Some(out) = events.recv().await {
        match out {
            Outbound::Event { name, payload, .. } => streams.deliver(name, &payload),
            Outbound::Close(_) | Outbound::Disconnect(_) => break,
        }
    }
    streams.clear();
}

struct ConnShared<A: Actor> {
    mailbox: Arc<KeptMailbox<A>>,
    conn_id: ConnId,
    streams: Streams,
    /// For queue sends, which run on a throwaway connection of their own (as over HTTP).
    params: Arc<A::ConnParams>,
    request: Option<Arc<Request>>,
}

impl<A: Actor> Drop for ConnShared<A> {
    fn drop(&mut self) {
        let cmd = Command::Disconnect {
            conn_id: self.conn_id.clone(),
            reason: crate::conn::DisconnectReason::ClientClosed,
        };
        self.mailbox.send_now(cmd);
    }
}

/// An in-process persistent connection: typed actions (through `Deref` to the generated
/// methods) and typed event streams. Dropping it disconnects (`on_disconnect` runs).
pub struct LocalConn<A: Actor> {
    shared: Arc<ConnShared<A>>,
    methods: A::Methods<LocalInvoker<A>>,
}

impl<A: Actor> LocalConn<A> {
    /// The connection's id.
    pub fn id(&self) -> &ConnId {
        &self.shared.conn_id
    }

    /// The actor's id.
    pub fn actor_id(&self) -> &ActorId {
        self.shared.mailbox.id()
    }

    /// Subscribes to a declared event. The subscription is queued before any call made
    /// after this returns, so no event of a later call is missed. A subscription that
    /// `can_invoke` refuses yields `auth.forbidden` on the stream. Dropping the last stream
    /// of an event unsubscribes from it.
    pub fn events<E: Event<A>>(&self) -> EventStream<E> {
        let name = E::TARGET.name();
        let (stream, first) = self.shared.streams.open(name);
        if first {
            let (reply, answer) = oneshot::channel();
            let cmd = Command::Subscribe {
                conn_id: self.shared.conn_id.clone(),
                event: E::TARGET,
                subscribe: true,
                reply,
            };
            self.shared.mailbox.send_now(cmd);
            let streams = self.shared.streams.clone();
            tokio::spawn(async move {
                let result = answer.await.unwrap_or_else(|_| Err(ActorError::internal()));
                if let Err(err) = result {
                    streams.deny(name, &err);
                }
            });
        }
        stream
    }

    /// Closes the connection: its disconnect is queued behind everything it sent, and
    /// `on_disconnect` runs once those are done.
    pub async fn close(self) {
        drop(self);
        tokio::task::yield_now().await;
    }
}

impl<A: Actor> Deref for LocalConn<A> {
    type Target = A::Methods<LocalInvoker<A>>;
    fn deref(&self) -> &Self::Target {
        &self.methods
    }
}

impl<A: Actor> LocalHandle<A> {
    /// Sends `message` to its queue through the same pipeline as the network (guards,
    /// connect hooks, `can_invoke`, `can_publish`, the bounds); resolves once it is durable.
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// # #[derive(Serialize, Deserialize)] struct Job { task: String }
    /// # #[derive(Serialize, Deserialize)] struct Question { text: String }
    /// # #[derive(Default, Serialize, Deserialize)] struct Worker { done: Vec<String> }
    /// # #[actor(queues(jobs = Job, questions = Question -> String))]
    /// # impl Worker {
    /// #     #[action] fn work(&mut self, c: &mut ActionCtx<'_, Self>) -> Vec<String> {
    /// #         self.done.extend(c.queue().try_next_batch::<Job>(10).into_iter().map(|j| j.body.task));
    /// #         self.done.clone()
    /// #     }
    /// #     #[run] async fn answer(c: RunCtx<Self>) {
    /// #         while let Some(q) = c.queue().next::<Question>().await {
    /// #             let text = q.body.text.to_uppercase();
    /// #             c.queue().complete(&q, text);
    /// #         }
    /// #     }
    /// # }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let registry = Registry::builder().in_memory().register::<Worker>().build();
    /// let worker = registry.get_or_create::<Worker>("w").await.unwrap();
    /// worker.send(Job { task: "resize".into() }).await.unwrap();
    /// assert_eq!(worker.work().await.unwrap(), ["resize"]); // taken in a turn
    /// # });
    /// ```
    pub async fn send<T: crate::actor::Queue<A>>(&self, message: T) -> Result<(), ClientError> {
        let params = self.params.clone()?;
        local_queue_send(&self.host, &self.id, params, &self.request, message, None)
            .await
            .map(drop)
    }

    /// Sends `message` and waits up to `timeout` for a consumer to complete it.
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// # #[derive(Serialize, Deserialize)] struct Job { task: String }
    /// # #[derive(Serialize, Deserialize)] struct Question { text: String }
    /// # #[derive(Default, Serialize, Deserialize)] struct Worker { done: Vec<String> }
    /// # #[actor(queues(jobs = Job, questions = Question -> String))]
    /// # impl Worker {
    /// #     #[action] fn work(&mut self, c: &mut ActionCtx<'_, Self>) -> Vec<String> {
    /// #         self.done.extend(c.queue().try_next_batch::<Job>(10).into_iter().map(|j| j.body.task));
    /// #         self.done.clone()
    /// #     }
    /// #     #[run] async fn answer(c: RunCtx<Self>) {
    /// #         while let Some(q) = c.queue().next::<Question>().await {
    /// #             let text = q.body.text.to_uppercase();
    /// #             c.queue().complete(&q, text);
    /// #         }
    /// #     }
    /// # }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let registry = Registry::builder().in_memory().register::<Worker>().build();
    /// use rivet_actor::queue::QueueSendResult;
    /// use std::time::Duration;
    ///
    /// // `#[actor(queues(questions = Question -> String))]`; the `#[run]` loop answers.
    /// let worker = registry.get_or_create::<Worker>("w").await.unwrap();
    /// let question = Question { text: "hi".into() };
    /// let answer = worker.send_and_wait(question, Duration::from_secs(5)).await.unwrap();
    /// assert_eq!(answer, QueueSendResult::Completed(Some("HI".into())));
    /// # });
    /// ```
    pub async fn send_and_wait<T: crate::actor::Queue<A>>(
        &self,
        message: T,
        timeout: std::time::Duration,
    ) -> Result<crate::queue::QueueSendResult<T::Completion>, ClientError> {
        let params = self.params.clone()?;
        local_queue_send(
            &self.host,
            &self.id,
            params,
            &self.request,
            message,
            Some(timeout),
        )
        .await
    }
}

impl<A: Actor> LocalConn<A> {
    /// Sends `message` to its queue with this connection's params, like
    /// [`LocalHandle::send`] (on a throwaway connection of its own, as over HTTP).
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// # #[derive(Serialize, Deserialize)] struct Job { task: String }
    /// # #[derive(Serialize, Deserialize)] struct Question { text: String }
    /// # #[derive(Default, Serialize, Deserialize)] struct Worker { done: Vec<String> }
    /// # #[actor(queues(jobs = Job, questions = Question -> String))]
    /// # impl Worker {
    /// #     #[action] fn work(&mut self, c: &mut ActionCtx<'_, Self>) -> Vec<String> {
    /// #         self.done.extend(c.queue().try_next_batch::<Job>(10).into_iter().map(|j| j.body.task));
    /// #         self.done.clone()
    /// #     }
    /// #     #[run] async fn answer(c: RunCtx<Self>) {
    /// #         while let Some(q) = c.queue().next::<Question>().await {
    /// #             let text = q.body.text.to_uppercase();
    /// #             c.queue().complete(&q, text);
    /// #         }
    /// #     }
    /// # }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let registry = Registry::builder().in_memory().register::<Worker>().build();
    /// let conn = registry.get_or_create::<Worker>("w").await.unwrap().connect().await.unwrap();
    /// conn.send(Job { task: "resize".into() }).await.unwrap();
    /// assert_eq!(conn.work().await.unwrap(), ["resize"]);
    /// # });
    /// ```
    pub async fn send<T: crate::actor::Queue<A>>(&self, message: T) -> Result<(), ClientError> {
        let shared = &self.shared;
        local_queue_send(
            shared.mailbox.host(),
            shared.mailbox.id(),
            shared.params.clone(),
            &shared.request,
            message,
            None,
        )
        .await
        .map(drop)
    }

    /// Sends `message` and waits up to `timeout` for its completion, like
    /// [`LocalHandle::send_and_wait`].
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// # #[derive(Serialize, Deserialize)] struct Job { task: String }
    /// # #[derive(Serialize, Deserialize)] struct Question { text: String }
    /// # #[derive(Default, Serialize, Deserialize)] struct Worker { done: Vec<String> }
    /// # #[actor(queues(jobs = Job, questions = Question -> String))]
    /// # impl Worker {
    /// #     #[action] fn work(&mut self, c: &mut ActionCtx<'_, Self>) -> Vec<String> {
    /// #         self.done.extend(c.queue().try_next_batch::<Job>(10).into_iter().map(|j| j.body.task));
    /// #         self.done.clone()
    /// #     }
    /// #     #[run] async fn answer(c: RunCtx<Self>) {
    /// #         while let Some(q) = c.queue().next::<Question>().await {
    /// #             let text = q.body.text.to_uppercase();
    /// #             c.queue().complete(&q, text);
    /// #         }
    /// #     }
    /// # }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let registry = Registry::builder().in_memory().register::<Worker>().build();
    /// use rivet_actor::queue::QueueSendResult;
    /// use std::time::Duration;
    ///
    /// let conn = registry.get_or_create::<Worker>("w").await.unwrap().connect().await.unwrap();
    /// let question = Question { text: "hi".into() };
    /// let answer = conn.send_and_wait(question, Duration::from_secs(5)).await.unwrap();
    /// assert_eq!(answer, QueueSendResult::Completed(Some("HI".into())));
    /// # });
    /// ```
    pub async fn send_and_wait<T: crate::actor::Queue<A>>(
        &self,
        message: T,
        timeout: std::time::Duration,
    ) -> Result<crate::queue::QueueSendResult<T::Completion>, ClientError> {
        let shared = &self.shared;
        local_queue_send(
            shared.mailbox.host(),
            shared.mailbox.id(),
            shared.params.clone(),
            &shared.request,
            message,
            Some(timeout),
        )
        .await
    }
}

/// One in-process queue send: guards, then the instance's send pipeline; the typed answer.
async fn local_queue_send<A: Actor, T: crate::actor::Queue<A>>(
    host: &Arc<Host<A>>,
    id: &ActorId,
    params: Arc<A::ConnParams>,
    request: &Option<Arc<Request>>,
    message: T,
    wait: Option<std::time::Duration>,
) -> Result<crate::queue::QueueSendResult<T::Completion>, ClientError> {
    use crate::queue::QueueSendResult;
    let body =
        crate::value::to_value(&message).map_err(|err| ClientError::Decode(err.to_string()))?;
    let connect = host
        .connection(id, Guards::Run(None), params, request.clone(), None)
        .await?;
    let result = host.queue_send(id, connect, T::TARGET, body, wait).await?;
    Ok(match result {
        QueueSendResult::TimedOut => QueueSendResult::TimedOut,
        QueueSendResult::Completed(response) => QueueSendResult::Completed(
            response
                .map(crate::value::from_value)
                .transpose()
                .map_err(|err| ClientError::Decode(err.to_string()))?,
        ),
    })
}
