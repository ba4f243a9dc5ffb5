//! What the envoy asks of this host: start and stop actors, serve tunnelled requests and
//! WebSockets. Every callback hands its work to the registry's runtime; the ones the envoy
//! awaits inside its actor task (start, stop, WebSocket frames) never wait on a turn
//! longer than the actor's own start.

use std::collections::HashMap;
use std::sync::Arc;

use rivet_envoy_client::config::{
    ActorStopHandle, BoxFuture, EnvoyCallbacks, HttpRequest, HttpResponse, WebSocketHandler,
    WebSocketSender,
};
use rivet_envoy_client::handle::EnvoyHandle;
use rivet_envoy_protocol as protocol;
use tokio::sync::Notify;

use crate::engine::storage::EngineStorage;
use crate::registry::Registry;
use crate::runtime::ActorId;

pub(crate) struct Callbacks {
    pub(crate) registry: Registry,
    pub(crate) storage: Arc<EngineStorage>,
    pub(crate) router: axum::Router,
    /// Told when the envoy has shut down.
    pub(crate) shut_down: Arc<Notify>,
}

impl EnvoyCallbacks for Callbacks {
    fn on_connect(&self, _handle: EnvoyHandle) {
        self.storage.set_connected(true);
    }

    fn on_disconnect(&self, _handle: EnvoyHandle) {
        // Writes stop until the connection is back: the engine may be moving our actors.
        tracing::warn!("lost the connection to the engine; writes wait for it");
        self.storage.set_connected(false);
    }

    fn on_actor_start(
        &self,
        _handle: EnvoyHandle,
        actor_id: String,
        generation: u32,
        config: protocol::ActorConfig,
        _preloaded_kv: Option<protocol::PreloadedKv>,
    ) -> BoxFuture<anyhow::Result<()>> {
        let registry = self.registry.clone();
        let storage = self.storage.clone();
        Box::pin(async move {
            let Some(actor) = registry.actor_type(&config.name).cloned() else {
                anyhow::bail!("this host has no actor type `{}`", config.name);
            };
            let key = match config.key.as_deref() {
                Some(key) => crate::protocol::path_key::decode(key)
                    .map_err(|err| anyhow::anyhow!("the actor's key does not decode: {err}"))?,
                None => Vec::new(),
            };
            storage
                .host(
                    &actor_id,
                    generation,
                    config.name,
                    key,
                    config.input,
                    config.create_ts,
                )
                .await?;
            // Ready when woken: `create_state` and `on_create` (once per actor: the flag is
            // in KV) have run, so the engine routes requests only to a working actor.
            let id = ActorId::new(actor_id.as_str());
            if let Err(err) = actor.ready(&id).await {
                storage.forget(&actor_id, Some(generation));
                anyhow::bail!("the actor failed to start: {}.{}", err.group, err.code);
            }
            tracing::debug!(actor = %actor_id, generation, "started for the engine");
            Ok(())
        })
    }

    fn on_actor_stop_with_completion(
        &self,
        _handle: EnvoyHandle,
        actor_id: String,
        generation: u32,
        reason: protocol::StopActorReason,
        stop_handle: ActorStopHandle,
    ) -> BoxFuture<anyhow::Result<()>> {
        let registry = self.registry.clone();
        let storage = self.storage.clone();
        // The stop runs beside the envoy's actor task, which keeps serving until it is done.
        tokio::spawn(async move {
            if storage.generation(&actor_id) == Some(generation) {
                let id = ActorId::new(actor_id.as_str());
                let record = storage.find_by_id_now(&actor_id);
                if let Some(actor) = record.and_then(|name| registry.actor_type(&name).cloned()) {
                    match reason {
                        protocol::StopActorReason::Destroy
                        | protocol::StopActorReason::StopIntent => {
                            if let Err(err) = actor.destroy(&id).await {
                                tracing::warn!(actor = %actor_id, code = %err.code, "destroy failed");
                            }
                        }
                        _ => actor.stop(&id).await,
                    }
                }
                storage.forget(&actor_id, Some(generation));
            }
            tracing::debug!(actor = %actor_id, generation, ?reason, "stopped for the engine");
            stop_handle.complete();
        });
        Box::pin(async { Ok(()) })
    }

    fn on_shutdown(&self) {
        self.storage.set_connected(false);
        self.shut_down.notify_waiters();
    }

    fn fetch(
        &self,
        _handle: EnvoyHandle,
        actor_id: String,
        _gateway_id: protocol::GatewayId,
        _request_id: protocol::RequestId,
        request: HttpRequest,
    ) -> BoxFuture<anyhow::Result<HttpResponse>> {
        let router = self.router.clone();
        Box::pin(async move { crate::engine::http::serve(router, &actor_id, request).await })
    }

    fn websocket(
        &self,
        _handle: EnvoyHandle,
        actor_id: String,
        _gateway_id: protocol::GatewayId,
        _request_id: protocol::RequestId,
        _request: HttpRequest,
        path: String,
        headers: HashMap<String, String>,
        _is_hibernatable: bool,
        _is_restoring_hibernatable: bool,
        sender: WebSocketSender,
    ) -> BoxFuture<anyhow::Result<WebSocketHandler>> {
        let handler = crate::engine::socket::handler(
            self.registry.clone(),
            &actor_id,
            &path,
            &headers,
            sender,
        );
        Box::pin(async move { Ok(handler) })
    }

    fn can_hibernate(
        &self,
        _actor_id: &str,
        _gateway_id: &protocol::GatewayId,
        _request_id: &protocol::RequestId,
        _request: &HttpRequest,
    ) -> BoxFuture<anyhow::Result<bool>> {
        // Our sessions live in the host's memory: a socket cannot outlive it.
        Box::pin(async { Ok(false) })
    }
}
