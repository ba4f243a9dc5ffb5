//! `c.client()` between hosts: a call to an actor this host does not run goes through the
//! engine's gateway, as our typed client's would, by wire names and values, with the chain
//! of waiting turns in a header (the receiving host refuses a cycle from it); so does a
//! queue send (`Peer::send`).

use std::time::Duration;

use crate::client::Client;
use crate::error::{ActorError, ClientError};
use crate::naming::Lookup;
use crate::queue::QueueSendResult;
use crate::runtime::peer::{CALL_ID_HEADER, CHAIN_HEADER, RemotePeers, Sent};
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
        sent: Sent,
    ) -> BoxFuture<'static, Result<Value, ActorError>> {
        let client = self.client.clone();
        Box::pin(async move {
            let extra = sent_headers(&sent);
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
        sent: Sent,
    ) -> BoxFuture<'static, Result<QueueSendResult<Value>, ActorError>> {
        let client = self.client.clone();
        Box::pin(async move {
            let extra = sent_headers(&sent);
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

/// The headers carrying where a call comes from: its chain (none when no turn waits) and
/// its id (none when the turn making it will not run again).
fn sent_headers(sent: &Sent) -> Vec<(&'static str, String)> {
    let mut headers = Vec::new();
    if !sent.chain.is_empty() {
        headers.push((CHAIN_HEADER, sent.chain.join(",")));
    }
    if let Some(id) = &sent.call_id {
        headers.push((CALL_ID_HEADER, id.to_string()));
    }
    headers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_carries_its_chain_and_its_id_when_it_has_them() {
        assert!(sent_headers(&Sent::default()).is_empty());
        let sent = Sent {
            chain: vec!["a".into(), "b".into()],
            call_id: Some("ray-1_c0".into()),
        };
        assert_eq!(
            sent_headers(&sent),
            [
                (CHAIN_HEADER, "a,b".to_owned()),
                (CALL_ID_HEADER, "ray-1_c0".to_owned())
            ]
        );
    }
}
