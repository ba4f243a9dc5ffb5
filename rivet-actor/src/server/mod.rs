//! The network server: RivetKit's client protocol v4 over HTTP and WebSocket (axum).
//!
//! Requests flow one way: a front end (the axum router in `router.rs`) hands a whole
//! request ([`request::HttpRequest`]) or an upgraded socket ([`ws::FrameSocket`]) to an
//! endpoint; the endpoint decodes the wire (`crate::protocol`), names the actor through
//! `gateway`, and drives the actor type's [`crate::runtime::ErasedActor`]; answers and
//! errors are encoded back in the client's encoding by `respond`.

mod actions;
mod actors_api;
pub(crate) mod connect;
mod cors;
mod gateway;
mod listen;
mod metadata;
mod queue;
pub(crate) mod raw;
pub mod request;
pub(crate) mod respond;
pub(crate) mod router;
mod write_deadline;
pub mod ws;

use std::net::SocketAddr;

use axum::Router;

use crate::registry::Registry;

pub use crate::registry::ServerConfig;

/// The address `serve` binds when none is given: `RIVET_ACTOR_ADDR`, else 127.0.0.1:6420.
///
/// ```
/// let addr = rivet_actor::server::default_addr();
/// assert!(addr.ip().is_loopback() || std::env::var("RIVET_ACTOR_ADDR").is_ok());
/// ```
pub fn default_addr() -> SocketAddr {
    std::env::var("RIVET_ACTOR_ADDR")
        .ok()
        .and_then(|addr| addr.parse().ok())
        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 6420)))
}

/// A server listening on a socket: its address and a way to stop it.
pub struct Server {
    addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Server {
    /// The address the server listens on (useful after binding port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The `http://` endpoint a client connects to.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting and waits for the listener to close.
    pub async fn shutdown(mut self) -> std::io::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        (&mut self.task)
            .await
            .unwrap_or_else(|err| Err(std::io::Error::other(err)))
    }

    /// Waits until the server stops.
    pub async fn wait(mut self) -> std::io::Result<()> {
        (&mut self.task)
            .await
            .unwrap_or_else(|err| Err(std::io::Error::other(err)))
    }
}

impl Registry {
    /// The protocol's endpoints as an [`axum::Router`], to serve or to nest in an app.
    ///
    /// ```no_run
    /// # async fn run(registry: rivet_actor::Registry) {
    /// let app = axum::Router::new().nest("/rivet", registry.router());
    /// # }
    /// ```
    pub fn router(&self) -> Router {
        router::router(self.clone())
    }

    /// Binds `addr` and serves in the background.
    ///
    /// ```no_run
    /// # async fn run(registry: rivet_actor::Registry) -> std::io::Result<()> {
    /// let server = registry.bind("127.0.0.1:0".parse().unwrap()).await?;
    /// println!("listening on {}", server.endpoint());
    /// # Ok(()) }
    /// ```
    pub async fn bind(&self, addr: SocketAddr) -> std::io::Result<Server> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        // Open WebSockets watch this and close with 1001 when the server shuts down;
        // otherwise a graceful shutdown would wait for them forever.
        let (closing_tx, closing) = tokio::sync::watch::channel(false);
        let app = self.router().layer(axum::Extension(ws::Closing(closing)));
        let config = self.server_config().clone();
        let task = tokio::spawn(listen::serve(listener, app, config, rx, closing_tx));
        tracing::info!(%addr, "rivet-actor listening");
        Ok(Server {
            addr,
            shutdown: Some(tx),
            task,
        })
    }

    /// Binds `addr` and serves until the process ends.
    pub async fn serve(&self, addr: SocketAddr) -> std::io::Result<()> {
        self.bind(addr).await?.wait().await
    }
}
