//! `c.client()` between hosts: a call to an actor this host does not run goes through the
//! engine's gateway, as our typed client's would, by wire names and values, with the chain
//! of waiting turns in a header (the receiving host refuses a cycle from it); so does a
//! queue send (`Peer::send`).

use std::time::Duration;

use std::sync::Arc;

use crate::client::Client;
use crate::engine::call_mac::CallSecret;
use crate::error::{ActorError, ClientError};
use crate::naming::Lookup;
use crate::queue::QueueSendResult;
use crate::runtime::call_ids::CallKind;
use crate::runtime::peer::{CALL_ID_HEADER, CHAIN_HEADER, RemotePeers, Sent};
use crate::storage::BoxFuture;
use crate::value::Value;

/// Calls through the engine this host serves.
pub(crate) struct EnginePeers {
    pub(crate) client: Client,
    /// What call ids are signed with; none without the pool's call secret.
    pub(crate) call_secret: Option<Arc<CallSecret>>,
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
        let extra = self.sent_headers(&sent, CallKind::Action, action);
        Box::pin(async move {
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
        let extra = self.sent_headers(&sent, CallKind::Queue, queue);
        Box::pin(async move {
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

impl EnginePeers {
    /// The headers carrying where a call of `kind` to `name` comes from: its chain (none
    /// when no turn waits) and its signed id (none when the turn making it will not run
    /// again, or without a call secret to sign it with).
    fn sent_headers(&self, sent: &Sent, kind: CallKind, name: &str) -> Vec<(&'static str, String)> {
        let mut headers = Vec::new();
        if !sent.chain.is_empty() {
            headers.push((CHAIN_HEADER, sent.chain.join(",")));
        }
        if let (Some(id), Some(secret)) = (&sent.call_id, &self.call_secret) {
            headers.push((CALL_ID_HEADER, secret.sign(id, kind, name)));
        }
        headers
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::call_ids::CallIds;

    #[test]
    fn a_call_carries_its_chain_and_its_signed_id_when_it_has_them() {
        let peers = |secret: Option<&str>| EnginePeers {
            client: Client::new("http://127.0.0.1:1"),
            call_secret: CallSecret::new(secret).map(Arc::new),
        };
        let signed = peers(Some("t0k"));
        assert!(
            signed
                .sent_headers(&Sent::default(), CallKind::Action, "add")
                .is_empty()
        );
        let id = CallIds::new("ray-1", "caller", "forward")
            .take("target", CallKind::Action, "add", None)
            .id;
        let sent = Sent {
            chain: vec!["a".into(), "b".into()],
            call_id: Some(id.clone()),
        };
        let headers = signed.sent_headers(&sent, CallKind::Action, "add");
        assert_eq!(headers[0], (CHAIN_HEADER, "a,b".to_owned()));
        assert_eq!(headers[1].0, CALL_ID_HEADER);
        let secret = CallSecret::new(Some("t0k")).unwrap();
        assert_eq!(
            secret.verify(&headers[1].1, CallKind::Action, "add"),
            Some(id.record_key())
        );
        // No call secret: no id crosses hosts.
        assert_eq!(
            peers(None)
                .sent_headers(&sent, CallKind::Action, "add")
                .len(),
            1
        );
    }
}
