//! The object-safe view of one actor type that the network server drives by wire names and
//! encoded values.

use std::sync::Arc;

use tokio::sync::oneshot;

use crate::actor::{Actor, Target};
use crate::conn::{ConnId, DisconnectReason, Request};
use crate::error::ActorError;
use crate::runtime::Sink;
use crate::runtime::admission::Admission;
use crate::runtime::command::{CallAndReply, Command, Connect};
use crate::runtime::host::{Guards, Host, InputSource};
use crate::runtime::lookup::{ActorId, Key, Lookup, Naming};
use crate::storage::{ActorRecord, BoxFuture};
use crate::value::Value;

/// How the wire names an actor.
#[derive(Clone, Debug)]
pub enum ErasedLookup {
    /// By key; `actor.not_found` if missing.
    Get(Key),
    /// By key, created with the input if missing.
    GetOrCreate(Key, Option<Value>),
    /// A new actor; `actor.already_exists` if the key is taken.
    Create(Key, Option<Value>),
    /// By id.
    Id(ActorId),
}

/// One registered actor type, driven with wire names and decoded values.
pub trait ErasedActor: Send + Sync + 'static {
    /// The type's wire name.
    fn name(&self) -> &'static str;
    /// How many of its actors are awake (in memory).
    fn awake(&self) -> usize;
    /// How many of its awake actors are parked: quiet, kept in memory without a task
    /// ([`HostConfig::park_after`](crate::HostConfig::park_after)).
    fn parked(&self) -> usize;
    /// The type's actions, events and queues, and the declarations of their types.
    fn describe(&self) -> crate::typescript::Describe;
    /// The id `lookup` names, changing nothing: the existing actor's (with `true`), or one
    /// reserved for the actor [`ErasedActor::resolve`] would create (with `false`).
    fn plan<'a>(
        &'a self,
        lookup: &'a ErasedLookup,
    ) -> BoxFuture<'a, Result<(ActorId, bool), ActorError>>;
    /// Finds or makes an actor; its id and whether this call created it. A created actor
    /// takes the id [`ErasedActor::plan`] reserved, when given one.
    fn resolve(
        &self,
        lookup: ErasedLookup,
        reserved: Option<ActorId>,
    ) -> BoxFuture<'_, Result<(ActorId, bool), ActorError>>;
    /// Decodes the client's params for the type and runs the registry's guards of the type
    /// for actor `id` (which need not exist yet): refused, or admitted to connect.
    fn admit<'a>(
        &'a self,
        id: &'a ActorId,
        params: Option<Value>,
        request: Request,
    ) -> BoxFuture<'a, Result<Admission, ActorError>>;
    /// Destroys an actor; whether it existed.
    fn destroy<'a>(&'a self, id: &'a ActorId) -> BoxFuture<'a, Result<bool, ActorError>>;
    /// Wakes the actor (creating it, if new) and answers once it is up.
    fn ready<'a>(&'a self, id: &'a ActorId) -> BoxFuture<'a, Result<(), ActorError>>;
    /// Puts the actor to sleep now if it is awake (`on_sleep`, connections closed);
    /// answers once it has left.
    fn stop<'a>(&'a self, id: &'a ActorId) -> BoxFuture<'a, ()>;
    /// Starts no new instance and stops every awake one (`Registry::shutdown`).
    fn shutdown(&self) -> BoxFuture<'_, ()>;
    /// Destroys the actor if it is awake here (connections closed with `actor.destroyed`);
    /// an actor asleep here is not woken for it.
    fn destroy_if_awake<'a>(&'a self, id: &'a ActorId) -> BoxFuture<'a, ()>;
    /// Removes an actor nothing has used since it woke (a refused request created it).
    fn discard_unused<'a>(&'a self, id: &'a ActorId) -> BoxFuture<'a, ()>;
    /// The actor's stored record.
    fn record<'a>(
        &'a self,
        id: &'a ActorId,
    ) -> BoxFuture<'a, Result<Option<ActorRecord>, ActorError>>;
    /// Runs the registry's guards of the type for a caller that is not connecting (the
    /// actors API): refused like a connection would be.
    fn check_guards<'a>(
        &'a self,
        id: &'a ActorId,
        params: Option<Value>,
        request: Request,
    ) -> BoxFuture<'a, Result<(), ActorError>>;
    /// A stateless action: connect pipeline, action, disconnect.
    fn stateless<'a>(
        &'a self,
        id: &'a ActorId,
        admission: Admission,
        action: &'a str,
        args: Vec<Value>,
    ) -> BoxFuture<'a, Result<Value, ActorError>>;
    /// Opens a persistent connection whose events go to `sink`.
    fn connect<'a>(
        &'a self,
        id: &'a ActorId,
        admission: Admission,
        sink: Sink,
    ) -> BoxFuture<'a, Result<ConnId, ActorError>>;
    /// An action on an open connection. Awaiting the outer future queues the call in the
    /// actor's mailbox (so calls keep the order they arrived in); the inner one is the answer.
    fn call<'a>(
        &'a self,
        id: &'a ActorId,
        conn: &'a ConnId,
        action: &'a str,
        args: Vec<Value>,
    ) -> BoxFuture<'a, Pending<Value>>;
    /// Subscribes or unsubscribes an open connection to an event; queued like [`ErasedActor::call`].
    fn subscribe<'a>(
        &'a self,
        id: &'a ActorId,
        conn: &'a ConnId,
        event: &'a str,
        subscribe: bool,
    ) -> BoxFuture<'a, Pending<()>>;
    /// Closes a connection (runs `on_disconnect`, which learns `reason`).
    fn disconnect<'a>(
        &'a self,
        id: &'a ActorId,
        conn: &'a ConnId,
        reason: DisconnectReason,
    ) -> BoxFuture<'a, ()>;
    /// Whether the actor type has an `#[on_request]` handler.
    fn handles_requests(&self) -> bool;
    /// Whether the actor type has an `#[on_websocket]` handler.
    fn handles_websockets(&self) -> bool;
    /// A raw HTTP request on a throwaway connection: guards, connect pipeline,
    /// `can_invoke(Request)`, `#[on_request]`, `on_disconnect`.
    fn raw_request<'a>(
        &'a self,
        id: &'a ActorId,
        admission: Admission,
        raw: crate::raw::RawRequest,
    ) -> BoxFuture<'a, Result<crate::raw::RawResponse, ActorError>>;
    /// A raw WebSocket: guards, connect pipeline, `can_invoke(WebSocket)`,
    /// `#[on_websocket]`. The connection stays open until [`ErasedActor::disconnect`];
    /// `sink` hears `Outbound::Close` if the actor goes away first.
    fn raw_websocket<'a>(
        &'a self,
        id: &'a ActorId,
        admission: Admission,
        socket: crate::raw::RawWebSocket,
        sink: Sink,
    ) -> BoxFuture<'a, Result<ConnId, ActorError>>;
    /// Whether the actor type declares a queue of that wire name.
    fn has_queue(&self, name: &str) -> bool;
    /// Refuses a queue message body over the type's size bound (`queue.message_too_large`),
    /// so the server can answer before it resolves (or creates) the actor.
    fn check_queue_body(&self, body: &Value) -> Result<(), ActorError>;
    /// Sends a message to a declared queue on a throwaway connection: guards, connect
    /// pipeline, `can_invoke`, `can_publish`, the bounded durable enqueue, and with `wait`
    /// the completion (up to that long).
    fn queue_send<'a>(
        &'a self,
        id: &'a ActorId,
        admission: Admission,
        queue: &'a str,
        body: Value,
        wait: Option<std::time::Duration>,
    ) -> BoxFuture<'a, Result<crate::queue::QueueSendResult<Value>, ActorError>>;
}

pub(crate) fn decode_params<A: Actor>(
    params: Option<Value>,
) -> Result<Arc<A::ConnParams>, ActorError> {
    crate::value::from_value(params.unwrap_or(Value::Null))
        .map(Arc::new)
        .map_err(ActorError::invalid_params)
}

/// The answer to a queued command.
pub type Pending<T> = BoxFuture<'static, Result<T, ActorError>>;

fn ready<T: Send + 'static>(result: Result<T, ActorError>) -> Pending<T> {
    Box::pin(async move { result })
}

fn action_of<A: Actor>(name: &str) -> Result<A::Action, ActorError> {
    A::Action::from_name(name).ok_or_else(|| ActorError::action_not_found(name))
}

async fn answer<T>(rx: oneshot::Receiver<Result<T, ActorError>>) -> Result<T, ActorError> {
    // A dropped reply means the turn panicked: the instance recovers, the caller sees an
    // internal error.
    rx.await.unwrap_or_else(|_| Err(ActorError::internal()))
}

/// A shared [`Host`], erased.
pub(crate) struct HostedActor<A: Actor>(pub(crate) Arc<Host<A>>);

impl<A: Actor> HostedActor<A> {
    /// An admitted caller's connection, ready for the instance's connect pipeline.
    async fn connection(
        &self,
        id: &ActorId,
        admission: Admission,
        sink: Option<Sink>,
    ) -> Result<Connect<A>, ActorError> {
        let params = admission.params_for::<A>()?;
        let guards = Guards::Ran(admission.extensions);
        let request = Some(Arc::new(admission.request));
        self.0.connection(id, guards, params, request, sink).await
    }
}

impl<A: Actor> ErasedActor for HostedActor<A> {
    fn awake(&self) -> usize {
        self.0.live_count()
    }

    fn parked(&self) -> usize {
        self.0.parked_count()
    }

    fn describe(&self) -> crate::typescript::Describe {
        let mut d = crate::typescript::Describe::new(A::NAME);
        A::describe(&mut d);
        d
    }

    fn name(&self) -> &'static str {
        A::NAME
    }

    fn destroy<'a>(&'a self, id: &'a ActorId) -> BoxFuture<'a, Result<bool, ActorError>> {
        Box::pin(async move { self.0.destroy(id).await })
    }

    fn ready<'a>(&'a self, id: &'a ActorId) -> BoxFuture<'a, Result<(), ActorError>> {
        Box::pin(async move {
            // Started anew by its placement: an earlier failed start is history.
            self.0.clear_start_failure(id);
            let (reply, rx) = oneshot::channel();
            self.0.send(id, Command::Ready { reply }).await;
            answer(rx).await
        })
    }

    fn stop<'a>(&'a self, id: &'a ActorId) -> BoxFuture<'a, ()> {
        Box::pin(self.0.stop(id))
    }

    fn shutdown(&self) -> BoxFuture<'_, ()> {
        Box::pin(self.0.shutdown())
    }

    fn destroy_if_awake<'a>(&'a self, id: &'a ActorId) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            self.0.signal_stopping(id);
            let (reply, rx) = oneshot::channel();
            let destroy = Command::Destroy {
                only_if_unused: false,
                reply,
            };
            if self.0.send_if_live(id, destroy).await.is_none() {
                let _ = rx.await;
            }
        })
    }

    fn discard_unused<'a>(&'a self, id: &'a ActorId) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            if self.0.discard_unused(id).await {
                tracing::debug!(actor = A::NAME, %id, "discarded an actor its refused creator left unused");
            }
        })
    }

    fn plan<'a>(
        &'a self,
        lookup: &'a ErasedLookup,
    ) -> BoxFuture<'a, Result<(ActorId, bool), ActorError>> {
        let naming = match lookup {
            ErasedLookup::Get(key) => Naming::Get(key),
            ErasedLookup::GetOrCreate(key, _) => Naming::GetOrCreate(key),
            ErasedLookup::Create(key, _) => Naming::Create(key),
            ErasedLookup::Id(id) => Naming::Id(id),
        };
        Box::pin(self.0.plan(naming))
    }

    fn admit<'a>(
        &'a self,
        id: &'a ActorId,
        params: Option<Value>,
        request: Request,
    ) -> BoxFuture<'a, Result<Admission, ActorError>> {
        Box::pin(async move {
            let decoded = decode_params::<A>(params.clone())?;
            let extensions = self.0.guard(id, params.as_ref(), Some(&request)).await?;
            Ok(Admission {
                raw_params: params,
                params: decoded,
                extensions,
                request,
            })
        })
    }

    fn resolve(
        &self,
        lookup: ErasedLookup,
        reserved: Option<ActorId>,
    ) -> BoxFuture<'_, Result<(ActorId, bool), ActorError>> {
        let lookup = match lookup {
            ErasedLookup::Get(key) => Lookup::Get(key),
            ErasedLookup::GetOrCreate(key, input) => {
                Lookup::GetOrCreate(key, input.map(InputSource::Value))
            }
            ErasedLookup::Create(key, input) => Lookup::Create(key, input.map(InputSource::Value)),
            ErasedLookup::Id(id) => Lookup::Id(id),
        };
        Box::pin(async move { self.0.resolve(lookup, reserved).await })
    }

    fn record<'a>(
        &'a self,
        id: &'a ActorId,
    ) -> BoxFuture<'a, Result<Option<ActorRecord>, ActorError>> {
        Box::pin(async move {
            match self.0.storage.find_by_id(id.as_str()).await {
                Ok(record) => Ok(record.filter(|r| r.name == A::NAME)),
                Err(err) => {
                    tracing::error!(actor = A::NAME, %err, "storage failed");
                    Err(ActorError::internal())
                }
            }
        })
    }

    fn check_guards<'a>(
        &'a self,
        id: &'a ActorId,
        params: Option<Value>,
        request: Request,
    ) -> BoxFuture<'a, Result<(), ActorError>> {
        Box::pin(async move {
            self.0
                .guard(id, params.as_ref(), Some(&request))
                .await
                .map(drop)
        })
    }

    fn stateless<'a>(
        &'a self,
        id: &'a ActorId,
        admission: Admission,
        action: &'a str,
        args: Vec<Value>,
    ) -> BoxFuture<'a, Result<Value, ActorError>> {
        Box::pin(async move {
            let action = action_of::<A>(action)?;
            let connect = self.connection(id, admission, None).await?;
            let (reply, rx) = oneshot::channel();
            let cmd = Command::Stateless {
                connect,
                invocation: CallAndReply::Encoded {
                    action,
                    args,
                    reply,
                },
            };
            self.0.send(id, cmd).await;
            answer(rx).await
        })
    }

    fn connect<'a>(
        &'a self,
        id: &'a ActorId,
        admission: Admission,
        sink: Sink,
    ) -> BoxFuture<'a, Result<ConnId, ActorError>> {
        Box::pin(async move {
            let connect = self.connection(id, admission, Some(sink)).await?;
            let conn_id = connect.conn_id.clone();
            let (reply, rx) = oneshot::channel();
            let cmd = Command::Connect { connect, reply };
            self.0.send(id, cmd).await;
            answer(rx).await.map(|()| conn_id)
        })
    }

    // The outer future queues, the inner one answers: yielding a future is the point.
    #[allow(clippy::async_yields_async)]
    fn call<'a>(
        &'a self,
        id: &'a ActorId,
        conn: &'a ConnId,
        action: &'a str,
        args: Vec<Value>,
    ) -> BoxFuture<'a, Pending<Value>> {
        Box::pin(async move {
            let action = match action_of::<A>(action) {
                Ok(action) => action,
                Err(err) => return ready(Err(err)),
            };
            let (reply, rx) = oneshot::channel();
            let cmd = Command::Call {
                conn_id: conn.clone(),
                invocation: CallAndReply::Encoded {
                    action,
                    args,
                    reply,
                },
            };
            self.0.send(id, cmd).await;
            Box::pin(answer(rx)) as Pending<Value>
        })
    }

    #[allow(clippy::async_yields_async)]
    fn subscribe<'a>(
        &'a self,
        id: &'a ActorId,
        conn: &'a ConnId,
        event: &'a str,
        subscribe: bool,
    ) -> BoxFuture<'a, Pending<()>> {
        Box::pin(async move {
            let Some(event) = A::Event::from_name(event) else {
                // Nothing is ever sent on an undeclared event, so the subscription is a
                // no-op. Not an error: the npm client treats an error without an action id
                // as fatal to every call in flight (and subscribes to `error` itself).
                tracing::debug!(
                    actor = A::NAME,
                    event,
                    "subscription to an undeclared event ignored"
                );
                return ready(Ok(()));
            };
            let (reply, rx) = oneshot::channel();
            let cmd = Command::Subscribe {
                conn_id: conn.clone(),
                event,
                subscribe,
                reply,
            };
            self.0.send(id, cmd).await;
            Box::pin(answer(rx)) as Pending<()>
        })
    }

    fn disconnect<'a>(
        &'a self,
        id: &'a ActorId,
        conn: &'a ConnId,
        reason: DisconnectReason,
    ) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let cmd = Command::Disconnect {
                conn_id: conn.clone(),
                reason,
            };
            // An actor no longer awake took its connections with it (it closed them as it
            // slept, or left): nothing to disconnect, and no instance to wake for it.
            let _ = self.0.send_if_live(id, cmd).await;
        })
    }

    fn has_queue(&self, name: &str) -> bool {
        A::Queue::from_name(name).is_some()
    }

    fn check_queue_body(&self, body: &Value) -> Result<(), ActorError> {
        crate::runtime::queue::check_size(body, self.0.config.max_queue_message_size)
    }

    fn queue_send<'a>(
        &'a self,
        id: &'a ActorId,
        admission: Admission,
        queue: &'a str,
        body: Value,
        wait: Option<std::time::Duration>,
    ) -> BoxFuture<'a, Result<crate::queue::QueueSendResult<Value>, ActorError>> {
        Box::pin(async move {
            let queue = A::Queue::from_name(queue)
                .ok_or_else(|| ActorError::queue_not_found(A::NAME, queue))?;
            let connect = self.connection(id, admission, None).await?;
            self.0.queue_send(id, connect, queue, body, wait).await
        })
    }

    fn handles_requests(&self) -> bool {
        A::HANDLES_REQUESTS
    }

    fn handles_websockets(&self) -> bool {
        A::HANDLES_WEBSOCKETS
    }

    fn raw_request<'a>(
        &'a self,
        id: &'a ActorId,
        admission: Admission,
        raw: crate::raw::RawRequest,
    ) -> BoxFuture<'a, Result<crate::raw::RawResponse, ActorError>> {
        Box::pin(async move {
            if !A::HANDLES_REQUESTS {
                return Err(ActorError::request_handler_not_found(A::NAME));
            }
            let connect = self.connection(id, admission, None).await?;
            let (reply, rx) = oneshot::channel();
            let cmd = Command::Raw(crate::runtime::raw::RawCommand::Request {
                connect,
                request: Box::new(raw),
                reply,
            });
            self.0.send(id, cmd).await;
            answer(rx).await
        })
    }

    fn raw_websocket<'a>(
        &'a self,
        id: &'a ActorId,
        admission: Admission,
        socket: crate::raw::RawWebSocket,
        sink: Sink,
    ) -> BoxFuture<'a, Result<ConnId, ActorError>> {
        Box::pin(async move {
            if !A::HANDLES_WEBSOCKETS {
                return Err(ActorError::websocket_handler_not_found(A::NAME));
            }
            let connect = self.connection(id, admission, Some(sink)).await?;
            let (reply, rx) = oneshot::channel();
            let cmd = Command::Raw(crate::runtime::raw::RawCommand::WebSocket {
                connect,
                socket: Box::new(socket),
                reply,
            });
            self.0.send(id, cmd).await;
            answer(rx).await
        })
    }
}
