//! `c.client()` between hosts: a call to an actor this host does not run goes through the
//! engine's gateway, as our typed client's would, by wire names and values, with the chain
//! of waiting turns in a header (the receiving host refuses a cycle from it); so does a
//! queue send (`Peer::send`).

use std::time::Duration;

use crate::client::Client;
use crate::error::{ActorError, ClientError};
use crate::naming::Lookup;
use crate::queue::QueueSendResult;
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
            let extra = chain_header(&chain);
            crate::client::net::call_erased(&client, actor, lookup, action, &args, &extra)
                .await
                .map_err(|err| actor_error(err, actor, action))
        })
    }

    fn queue_send(
        &self,
        actor: &'static str,
        lookup: Lookup<Value>,
        queue: &'static str,
        body: Value,
        wait: Option<Duration>,
        chain: Vec<String>,
    ) -> BoxFuture<'static, Result<QueueSendResult<Value>, ActorError>> {
        let client = self.client.clone();
        Box::pin(async move {
            let extra = chain_header(&chain);
            crate::client::net::queue_send_erased(&client, actor, lookup, queue, body, wait, &extra)
                .await
                .map_err(|err| actor_error(err, actor, queue))
        })
    }
}

/// The actor's own error as it is; anything else (the engine or the network failed) is
/// logged and answered as internal.
fn actor_error(err: ClientError, actor: &str, target: &str) -> ActorError {
    match err {
        ClientError::Actor(err) => err,
        other => {
            tracing::warn!(actor, target, error = %other, "a request through the engine failed");
            ActorError::internal()
        }
    }
}

/// The header carrying `chain` (none when no turn waits).
fn chain_header(chain: &[String]) -> Vec<(&'static str, String)> {
    match chain.is_empty() {
        true => Vec::new(),
        false => vec![(CHAIN_HEADER, chain.join(","))],
    }
}
