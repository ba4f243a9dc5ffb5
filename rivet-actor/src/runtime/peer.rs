//! `c.client()` inside the executor: the registry's actor types as a directory of
//! resolvers, and calls into another actor as in-process stateless calls that carry the
//! chain of turns waiting on them (a call back into one of those fails with
//! `actor.call_cycle` rather than wait for ever).

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::{Arc, Weak};

use tokio::sync::oneshot;

use crate::actor::Actor;
use crate::context::client::{Origin, check_cycle};
use crate::context::effects::{PeerCalls, PeerDirectory, PeerResolver};
use crate::error::ActorError;
use crate::naming::{ActorId, Lookup};
use crate::runtime::command::{CallAndReply, Command};
use crate::runtime::erased::decode_params;
use crate::runtime::host::{Guards, Host, InputSource};
use crate::storage::BoxFuture;

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
pub(crate) fn resolver<B: Actor>(host: &Arc<Host<B>>) -> Box<dyn Any + Send + Sync> {
    let resolver: Arc<dyn PeerResolver<B>> = Arc::new(HostResolver {
        host: Arc::downgrade(host),
    });
    Box::new(resolver)
}

struct HostResolver<B: Actor> {
    host: Weak<Host<B>>,
}

impl<B: Actor> HostResolver<B> {
    fn host(&self) -> Result<Arc<Host<B>>, ActorError> {
        // Gone only while the registry is being dropped.
        self.host.upgrade().ok_or_else(ActorError::stopped)
    }
}

impl<B: Actor> PeerResolver<B> for HostResolver<B> {
    fn resolve(&self, lookup: Lookup<B::Input>) -> BoxFuture<'_, Result<ActorId, ActorError>> {
        Box::pin(async move {
            let host = self.host()?;
            let lookup = match lookup {
                Lookup::Get(key) => Lookup::Get(key),
                Lookup::GetOrCreate(key, input) => {
                    Lookup::GetOrCreate(key, input.map(InputSource::Typed))
                }
                Lookup::Create(key, input) => Lookup::Create(key, input.map(InputSource::Typed)),
                Lookup::Id(id) => Lookup::Id(id),
            };
            let (id, _created) = host.resolve(lookup, None).await?;
            Ok(id)
        })
    }

    fn calls(
        &self,
        id: ActorId,
        params: Option<Arc<B::ConnParams>>,
        origin: Option<Origin>,
    ) -> Arc<dyn PeerCalls<B>> {
        let params = match params {
            Some(params) => Ok(params),
            None => decode_params::<B>(None),
        };
        Arc::new(PeerCaller {
            host: self.host.clone(),
            id,
            params,
            origin,
        })
    }
}

struct PeerCaller<B: Actor> {
    host: Weak<Host<B>>,
    id: ActorId,
    params: Result<Arc<B::ConnParams>, ActorError>,
    origin: Option<Origin>,
}

impl<B: Actor> PeerCalls<B> for PeerCaller<B> {
    fn call(&self, call: B::Call) -> BoxFuture<'static, Result<B::Return, ActorError>> {
        // Decided here, on the caller's task: whether the call is part of its turn.
        let chain = self.origin.as_ref().and_then(Origin::current);
        let checked = check_cycle(chain.as_ref(), &self.id);
        let host = self.host.upgrade();
        let (id, params) = (self.id.clone(), self.params.clone());
        Box::pin(async move {
            checked?;
            let host = host.ok_or_else(ActorError::stopped)?;
            let mut connect = host
                .connection(&id, Guards::Run(None), params?, None, None)
                .await?;
            connect.chain = chain;
            let (reply, rx) = oneshot::channel();
            let cmd = Command::Stateless {
                connect,
                invocation: CallAndReply::Typed { call, reply },
            };
            host.send(&id, cmd).await;
            // A dropped reply is a turn that panicked.
            rx.await.unwrap_or_else(|_| Err(ActorError::internal()))
        })
    }
}
