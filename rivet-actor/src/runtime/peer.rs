//! `c.client()` inside the executor: the registry's actor types as a directory of
//! resolvers, and calls into another actor as in-process stateless calls that carry the
//! chain of turns waiting on them (a call back into one of those fails with
//! `actor.call_cycle` rather than wait for ever). In engine mode an actor this host does
//! not run is called through the engine ([`RemotePeers`], set by `engine/`), the chain
//! going along as a header.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

use tokio::sync::oneshot;

use crate::actor::{Actor, ActorCall, Target};
use crate::context::client::{CallClaim, Chain, Link, Origin, check_cycle};
use crate::context::effects::{PeerAnswer, PeerCalls, PeerDirectory, PeerResolver, PeerTarget};
use crate::error::ActorError;
use crate::naming::{ActorId, Lookup};
use crate::queue::QueueSendResult;
use crate::runtime::call_ids::{CallId, CallKind};
use crate::runtime::command::{CallAndReply, Command, Connect};
use crate::runtime::erased::decode_params;
use crate::runtime::host::{Guards, Host, InputSource};
use crate::runtime::replay::ReplayId;
use crate::storage::BoxFuture;
use crate::value::Value;

/// Calls to actors on other hosts, by wire names and values: what engine mode provides.
pub(crate) trait RemotePeers: Send + Sync {
    /// Runs `action(args)` on the actor of type `actor` that `lookup` names, as part of
    /// `chain` (the ids of the actors whose turns wait on it).
    fn call(
        &self,
        actor: &'static str,
        lookup: Lookup<Value>,
        action: &'static str,
        args: Vec<Value>,
        sent: Sent,
    ) -> BoxFuture<'static, Result<Value, ActorError>>;

    /// Sends `body` to queue `queue` of that actor, waiting up to `wait` for its
    /// completion if given.
    fn queue_send(
        &self,
        actor: &'static str,
        lookup: Lookup<Value>,
        queue: &'static str,
        body: Value,
        wait: Option<Duration>,
        sent: Sent,
    ) -> BoxFuture<'static, Result<QueueSendResult<Value>, ActorError>>;
}

/// Where a call or send to another host comes from (read by engine mode's peers).
#[derive(Default)]
#[cfg_attr(not(feature = "engine"), allow(dead_code))]
pub(crate) struct Sent {
    /// The ids of the actors whose turns wait on it.
    pub(crate) chain: Vec<String>,
    /// Its id, when the turn making it may run again (`runtime/call_ids.rs`).
    pub(crate) call_id: Option<CallId>,
}

/// Where engine mode puts its [`RemotePeers`] (shared by every type's resolver).
pub(crate) type RemoteSlot = Arc<OnceLock<Arc<dyn RemotePeers>>>;

/// Every actor type of a registry, by type: each an `Arc<dyn PeerResolver<B>>`.
#[derive(Default)]
pub(crate) struct Directory {
    pub(crate) resolvers: HashMap<TypeId, Box<dyn Any + Send + Sync>>,
}

impl PeerDirectory for Directory {
    fn resolver(&self, type_id: TypeId) -> Option<&(dyn Any + Send + Sync)> {
        self.resolvers.get(&type_id).map(|any| &**any)
    }
}

/// The resolver of actor type `B`, as the directory keeps it. Weak: the hosts own the
/// registry's shared data, which owns the directory.
pub(crate) fn resolver<B: Actor>(
    host: &Arc<Host<B>>,
    remote: RemoteSlot,
) -> Box<dyn Any + Send + Sync> {
    let resolver: Arc<dyn PeerResolver<B>> = Arc::new(HostResolver {
        host: Arc::downgrade(host),
        remote,
    });
    Box::new(resolver)
}

/// The client `c.client()` hands out: the registry's directory (an empty one for a host
/// made without a registry) and where its calls come from.
pub(crate) fn client_for<B: Actor>(
    host: &Host<B>,
    origin: Option<Origin>,
) -> crate::context::ActorClient {
    let directory = host
        .data
        .peers
        .get()
        .cloned()
        .unwrap_or_else(|| Arc::new(Directory::default()));
    crate::context::ActorClient::new(directory, origin)
}

/// The request header carrying a call's chain across hosts: the ids of the actors whose
/// turns wait on it, comma-separated.
pub(crate) const CHAIN_HEADER: &str = "x-actor-call-chain";
/// The request header carrying a call's id across hosts, signed (`runtime/call_ids.rs`).
#[cfg_attr(not(feature = "engine"), allow(dead_code))]
pub(crate) const CALL_ID_HEADER: &str = "x-actor-call-id";

/// The chain a request from another host carries (its turns wait while this request runs).
pub(crate) fn chain_from(request: &crate::conn::Request) -> Option<Chain> {
    let ids = request.header_str(CHAIN_HEADER)?;
    let links: Vec<Link> = ids
        .split(',')
        .filter(|id| !id.is_empty())
        .take(64)
        .map(|id| Link {
            actor: ActorId::new(id),
            running: Arc::new(AtomicBool::new(true)),
        })
        .collect();
    (!links.is_empty()).then(|| links.into())
}

struct HostResolver<B: Actor> {
    host: Weak<Host<B>>,
    remote: RemoteSlot,
}

impl<B: Actor> HostResolver<B> {
    fn host(&self) -> Result<Arc<Host<B>>, ActorError> {
        // Gone only while the registry is being dropped.
        self.host.upgrade().ok_or_else(ActorError::stopped)
    }

    /// In engine mode: whether this host runs the actor named by `key` or `id`.
    async fn hosted_here(
        host: &Host<B>,
        key: Option<crate::naming::Key>,
        id: Option<ActorId>,
    ) -> Result<Option<ActorId>, ActorError> {
        let found = match (key, id) {
            (_, Some(id)) => host.storage.find_by_id(id.as_str()).await,
            (Some(key), None) => host.storage.find_by_key(B::NAME, key.parts()).await,
            (None, None) => Ok(None),
        };
        let found = found.map_err(|_| ActorError::internal())?;
        Ok(found.map(|record| ActorId::new(record.id)))
    }
}

impl<B: Actor> PeerResolver<B> for HostResolver<B> {
    fn resolve(&self, lookup: Lookup<B::Input>) -> BoxFuture<'_, Result<PeerTarget, ActorError>> {
        Box::pin(async move {
            let host = self.host()?;
            if host.storage.places_actors() {
                let (key, id) = match &lookup {
                    Lookup::Id(id) => (None, Some(id.clone())),
                    Lookup::Get(key) | Lookup::GetOrCreate(key, _) | Lookup::Create(key, _) => {
                        (Some(key.clone()), None)
                    }
                };
                if let Some(id) = Self::hosted_here(&host, key, id).await? {
                    if matches!(lookup, Lookup::Create(..)) {
                        return Err(ActorError::already_exists());
                    }
                    return Ok(PeerTarget::Local(id));
                }
                let encode = |input: B::Input| {
                    crate::value::to_value(&input).map_err(ActorError::invalid_input)
                };
                return Ok(PeerTarget::Remote(match lookup {
                    Lookup::Get(key) => Lookup::Get(key),
                    Lookup::GetOrCreate(key, input) => {
                        Lookup::GetOrCreate(key, input.map(encode).transpose()?)
                    }
                    Lookup::Create(key, input) => {
                        Lookup::Create(key, input.map(encode).transpose()?)
                    }
                    Lookup::Id(id) => Lookup::Id(id),
                }));
            }
            let lookup = match lookup {
                Lookup::Get(key) => Lookup::Get(key),
                Lookup::GetOrCreate(key, input) => {
                    Lookup::GetOrCreate(key, input.map(InputSource::Typed))
                }
                Lookup::Create(key, input) => Lookup::Create(key, input.map(InputSource::Typed)),
                Lookup::Id(id) => Lookup::Id(id),
            };
            let (id, _created) = host.resolve(lookup, None).await?;
            Ok(PeerTarget::Local(id))
        })
    }

    fn calls(
        &self,
        target: &PeerTarget,
        params: Option<Arc<B::ConnParams>>,
        origin: Option<Origin>,
    ) -> Arc<dyn PeerCalls<B>> {
        match target {
            PeerTarget::Local(id) => {
                let params = match params {
                    Some(params) => Ok(params),
                    None => decode_params::<B>(None),
                };
                Arc::new(PeerCaller {
                    host: self.host.clone(),
                    id: id.clone(),
                    params,
                    origin,
                })
            }
            PeerTarget::Remote(lookup) => Arc::new(RemoteCaller {
                remote: self.remote.get().cloned(),
                lookup: lookup.clone(),
                with_params: params.is_some(),
                origin,
            }),
        }
    }
}

struct PeerCaller<B: Actor> {
    host: Weak<Host<B>>,
    id: ActorId,
    params: Result<Arc<B::ConnParams>, ActorError>,
    origin: Option<Origin>,
}

impl<B: Actor> PeerCaller<B> {
    /// The host and a throwaway connection for one call or send, carrying the chain of
    /// turns waiting on it. Whether the work is part of the caller's turn is decided now,
    /// on the caller's task; a cycle is refused when the result is awaited.
    fn connect(
        &self,
        call_id: Option<ReplayId>,
    ) -> impl Future<Output = Result<(Arc<Host<B>>, Connect<B>), ActorError>> + Send + 'static {
        let chain = self.origin.as_ref().and_then(Origin::current);
        let checked = check_cycle(chain.as_ref(), &self.id);
        let host = self.host.upgrade();
        let (id, params) = (self.id.clone(), self.params.clone());
        async move {
            checked?;
            let host = host.ok_or_else(ActorError::stopped)?;
            let mut connect = host
                .connection(&id, Guards::Run(None), params?, None, None)
                .await?;
            connect.chain = chain;
            connect.call_id = call_id;
            Ok((host, connect))
        }
    }
}

impl<B: Actor> PeerCaller<B> {
    async fn call_encoded(
        host: Arc<Host<B>>,
        id: ActorId,
        connect: Connect<B>,
        call: B::Call,
    ) -> Result<PeerAnswer<B>, ActorError> {
        let (reply, rx) = oneshot::channel();
        let invocation = CallAndReply::Encoded {
            action: call.action(),
            args: call.to_args().map_err(ActorError::invalid_input)?,
            reply,
        };
        host.send(
            &id,
            Command::Stateless {
                connect,
                invocation,
            },
        )
        .await;
        let value = rx.await.unwrap_or_else(|_| Err(ActorError::internal()))?;
        Ok(PeerAnswer::Encoded(value))
    }
}

impl<B: Actor> PeerCalls<B> for PeerCaller<B> {
    fn call(&self, call: B::Call) -> BoxFuture<'static, Result<PeerAnswer<B>, ActorError>> {
        let claim = call_id_of(&self.origin, CallKind::Action, call.action().name(), || {
            call.to_args().ok().map(Value::Array)
        });
        let call_id = claim.as_ref().map(|claim| claim.id().record_key());
        let (connecting, id) = (self.connect(call_id), self.id.clone());
        settled(claim, async move {
            let (host, connect) = connecting.await?;
            if connect.call_id.is_some() {
                // A call with an id: recorded, and answered from the record if made again,
                // which takes its answer encoded.
                return Self::call_encoded(host, id, connect, call).await;
            }
            let (reply, rx) = oneshot::channel();
            let cmd = Command::Stateless {
                connect,
                invocation: CallAndReply::Typed { call, reply },
            };
            host.send(&id, cmd).await;
            // A dropped reply is a turn that panicked.
            let ret = rx.await.unwrap_or_else(|_| Err(ActorError::internal()))?;
            Ok(PeerAnswer::Typed(ret))
        })
    }

    fn queue_send(
        &self,
        queue: B::Queue,
        body: Value,
        wait: Option<Duration>,
    ) -> BoxFuture<'static, Result<QueueSendResult<Value>, ActorError>> {
        // As for a call: the send's turn in the other actor would wait for a turn that
        // waits on it.
        let claim = call_id_of(&self.origin, CallKind::Queue, queue.name(), || {
            Some(body.clone())
        });
        let call_id = claim.as_ref().map(|claim| claim.id().record_key());
        let (connecting, id) = (self.connect(call_id), self.id.clone());
        settled(claim, async move {
            let (host, connect) = connecting.await?;
            host.queue_send(&id, connect, queue, body, wait).await
        })
    }
}

/// Calls to an actor on another host of the engine.
struct RemoteCaller {
    remote: Option<Arc<dyn RemotePeers>>,
    lookup: Lookup<Value>,
    with_params: bool,
    origin: Option<Origin>,
}

/// The id of a call or send made now by a turn the engine may run again, from what it
/// does (`args` gives its arguments, asked only then).
fn call_id_of(
    origin: &Option<Origin>,
    kind: CallKind,
    name: &str,
    args: impl FnOnce() -> Option<Value>,
) -> Option<CallClaim> {
    origin.as_ref()?.call_id(kind, name, args)
}

/// `call`, boxed; its id given back if it fails without having been applied, so a retry
/// takes the same id (and, if the failure hid an applied call — an answer lost on the way
/// — is answered from its record).
fn settled<T: Send + 'static>(
    claim: Option<CallClaim>,
    call: impl Future<Output = Result<T, ActorError>> + Send + 'static,
) -> BoxFuture<'static, Result<T, ActorError>> {
    Box::pin(async move {
        let result = call.await;
        if let (Some(claim), Err(err)) = (claim, &result)
            && !applied(err)
        {
            claim.failed();
        }
        result
    })
}

/// Whether an error says the call was applied all the same: answered from a record that
/// kept no answer, or a queued message that failed after it was accepted (its consumer
/// stopped, it did not open as its type, its actor was destroyed). A retry of such a call
/// is a new call.
fn applied(err: &ActorError) -> bool {
    matches!(
        (err.group.as_str(), err.code.as_str()),
        ("actor", "request_replayed")
            | ("queue", "consumer_stopped" | "invalid_message")
            | ("actor", "destroyed")
    )
}

impl RemoteCaller {
    /// The ids of the actors whose turns wait on what is sent now, and its id.
    fn sent(
        &self,
        kind: CallKind,
        name: &str,
        args: impl FnOnce() -> Option<Value>,
    ) -> (Sent, Option<CallClaim>) {
        let Some(origin) = &self.origin else {
            return (Sent::default(), None);
        };
        let chain = origin.current().map(|chain| {
            chain
                .iter()
                .map(|link| link.actor.as_str().to_owned())
                .collect()
        });
        let claim = call_id_of(&self.origin, kind, name, args);
        let sent = Sent {
            chain: chain.unwrap_or_default(),
            call_id: claim.as_ref().map(|claim| claim.id().clone()),
        };
        (sent, claim)
    }

    /// The engine's peers, unless params were given (the gateway cannot carry them yet).
    fn remote(&self) -> Result<Arc<dyn RemotePeers>, ActorError> {
        if self.with_params {
            return Err(ActorError::not_supported(
                "connection params for an actor on another engine host",
            ));
        }
        self.remote.clone().ok_or_else(ActorError::not_found)
    }
}

impl<B: Actor> PeerCalls<B> for RemoteCaller {
    fn call(&self, call: B::Call) -> BoxFuture<'static, Result<PeerAnswer<B>, ActorError>> {
        let action = call.action().name();
        let args = call.to_args().map_err(ActorError::invalid_input);
        let (sent, claim) = self.sent(CallKind::Action, action, || {
            args.as_ref().ok().cloned().map(Value::Array)
        });
        let (remote, lookup) = (self.remote(), self.lookup.clone());
        settled(claim, async move {
            let args = args?;
            let value = remote?.call(B::NAME, lookup, action, args, sent).await?;
            Ok(PeerAnswer::Encoded(value))
        })
    }

    fn queue_send(
        &self,
        queue: B::Queue,
        body: Value,
        wait: Option<Duration>,
    ) -> BoxFuture<'static, Result<QueueSendResult<Value>, ActorError>> {
        let (sent, claim) = self.sent(CallKind::Queue, queue.name(), || Some(body.clone()));
        let (remote, lookup) = (self.remote(), self.lookup.clone());
        settled(claim, async move {
            remote?
                .queue_send(B::NAME, lookup, queue.name(), body, wait, sent)
                .await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_errors_of_applied_calls_keep_their_id() {
        assert!(applied(&ActorError::replayed()));
        assert!(applied(&ActorError::queue_consumer_stopped()));
        assert!(applied(&ActorError::destroyed()));
        assert!(!applied(&ActorError::forbidden()));
        assert!(!applied(&ActorError::internal()));
        assert!(!applied(&ActorError::queue_full(1)));
        assert!(!applied(&ActorError::write_outcome_unknown()));
    }
}
