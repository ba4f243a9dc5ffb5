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
use tokio::sync::watch;

use crate::engine::storage::EngineStorage;
use crate::registry::Registry;
use crate::runtime::ActorId;

pub(crate) struct Callbacks {
    pub(crate) registry: Registry,
    pub(crate) storage: Arc<EngineStorage>,
    pub(crate) router: axum::Router,
    /// Set (latched) when the envoy has shut down. The envoy's own latch
    /// (`EnvoyHandle::wait_stopped`) is lost when its loop ends before anyone waits on it.
    pub(crate) stopped: watch::Sender<bool>,
    /// Actors fenced when the connection broke, handed back to the engine on reconnect.
    pub(crate) fenced: std::sync::Mutex<Vec<(String, u32)>>,
    /// How long an actor may take to start (`create_state`, `on_create`, `on_wake`).
    pub(crate) start_timeout: std::time::Duration,
    /// Requests and WebSockets served at once (`ServerConfig::max_connections`), as the
    /// standalone server counts its connections: past it, a request answers 503 and a
    /// socket closes with 1013, both `message.too_many_connections`.
    pub(crate) connections: Arc<tokio::sync::Semaphore>,
    /// What call ids from other hosts are checked with (`call_mac.rs`); none without the
    /// pool's call secret.
    pub(crate) call_secret: Option<Arc<crate::engine::call_mac::CallSecret>>,
}

impl EnvoyCallbacks for Callbacks {
    fn on_connect(&self, handle: EnvoyHandle) {
        self.storage.set_connected(true);
        // Actors fenced when the connection broke go back to the engine: it starts them
        // again from their KV, here or elsewhere.
        let fenced = std::mem::take(&mut *self.fenced.lock().unwrap_or_else(|p| p.into_inner()));
        for (id, generation) in fenced {
            handle.sleep_actor(id, Some(generation), None);
        }
    }

    fn on_disconnect(&self, _handle: EnvoyHandle) {
        // The engine may give our actors to other hosts now: they stop here at once and
        // write nothing more (their instances' writes find them gone).
        self.storage.set_connected(false);
        let fenced = self.storage.fence_all();
        if fenced.is_empty() {
            return;
        }
        tracing::warn!(
            actors = fenced.len(),
            "lost the connection to the engine; its actors stop here"
        );
        let registry = self.registry.clone();
        let mut remembered = self.fenced.lock().unwrap_or_else(|p| p.into_inner());
        for (id, name, generation) in fenced {
            remembered.push((id.clone(), generation));
            if let Some(actor) = registry.actor_type(&name).cloned() {
                tokio::spawn(async move { actor.stop(&ActorId::new(id.as_str())).await });
            }
        }
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
        let limit = self.start_timeout;
        Box::pin(async move {
            let Some(actor) = registry.actor_type(&config.name).cloned() else {
                anyhow::bail!("this host has no actor type `{}`", config.name);
            };
            let key = match config.key.as_deref() {
                Some(key) => crate::protocol::path_key::decode(key)
                    .map_err(|err| anyhow::anyhow!("the actor's key does not decode: {err}"))?,
                None => Vec::new(),
            };
            let id = ActorId::new(actor_id.as_str());
            match storage.generation(&actor_id) {
                Some(hosted) if hosted > generation => {
                    anyhow::bail!("actor {actor_id} already runs here with generation {hosted}")
                }
                Some(hosted) if hosted == generation => {}
                _ => {
                    // An instance left from an earlier generation (fenced, or woken by a
                    // late command) stops first, writing nothing: it is no longer hosted.
                    storage.forget(&actor_id, None);
                    actor.stop(&id).await;
                }
            }
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
            let started = tokio::time::timeout(limit, actor.ready(&id)).await;
            if let Err(reason) = started
                .map_err(|_| "timed out".to_owned())
                .and_then(|r| r.map_err(|err| format!("{}.{}", err.group, err.code)))
            {
                storage.forget(&actor_id, Some(generation));
                actor.stop(&id).await;
                anyhow::bail!("the actor failed to start: {reason}");
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
                // From here nothing wakes it on this host; its instance may still finish.
                storage.mark_stopping(&actor_id, generation);
                let name = storage.name_of(&actor_id);
                if let Some(actor) = name.and_then(|name| registry.actor_type(&name).cloned()) {
                    match reason {
                        protocol::StopActorReason::Destroy
                        | protocol::StopActorReason::StopIntent => {
                            actor.destroy_if_awake(&id).await;
                        }
                        _ => {
                            actor.stop(&id).await;
                            storage.alarm_settled(&actor_id).await;
                        }
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
        self.stopped.send_replace(true);
    }

    fn fetch(
        &self,
        _handle: EnvoyHandle,
        actor_id: String,
        _gateway_id: protocol::GatewayId,
        _request_id: protocol::RequestId,
        request: HttpRequest,
    ) -> BoxFuture<anyhow::Result<HttpResponse>> {
        let (router, secret) = (self.router.clone(), self.call_secret.clone());
        let slot = self.connections.clone().try_acquire_owned();
        let max = self.registry.server_config().max_connections.max(1);
        Box::pin(async move {
            let Ok(_slot) = slot else {
                let err = crate::error::ActorError::too_many_connections(max);
                return Ok(crate::engine::http::refused(&err).await);
            };
            crate::engine::http::serve(router, &actor_id, request, secret.as_deref()).await
        })
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
            self.connections.clone().try_acquire_owned().ok(),
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
