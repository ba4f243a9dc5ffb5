//! `c.client()` between hosts: a call to an actor this host does not run goes through the
//! engine's gateway, as our typed client's would, by wire names and values, with the chain
//! of waiting turns in a header (the receiving host refuses a cycle from it).

use crate::client::Client;
use crate::error::{ActorError, ClientError};
use crate::naming::Lookup;
use crate::runtime::peer::{CHAIN_HEADER, RemotePeers};
use crate::storage::BoxFuture;
use crate::value::Value;

/// Calls through the engine this host serves.
pub(crate) struct EnginePeers {
    pub(crate) client: Client,
}

impl RemotePeers for EnginePeers {
    fn call(
        &self,
        actor: &'static str,
        lookup: Lookup<Value>,
        action: &'static str,
        args: Vec<Value>,
        chain: Vec<String>,
    ) -> BoxFuture<'static, Result<Value, ActorError>> {
        let client = self.client.clone();
        Box::pin(async move {
            let extra: Vec<(&str, String)> = if chain.is_empty() {
                Vec::new()
            } else {
                vec![(CHAIN_HEADER, chain.join(","))]
            };
            crate::client::net::call_erased(&client, actor, lookup, action, &args, &extra)
                .await
                .map_err(|err| match err {
                    ClientError::Actor(err) => err,
                    other => {
                        tracing::warn!(actor, action, error = %other, "a call through the engine failed");
                        ActorError::internal()
                    }
                })
        })
    }
}
