//! The accept loop `Registry::bind` runs: HTTP/1.1 with upgrades (WebSockets), each
//! connection with a deadline for its request headers (a slowloris peer that sends half a
//! header and waits is dropped) and for each write (a peer that stops reading is dropped,
//! `write_deadline.rs`), at most `max_connections` at once (more are refused as they
//! arrive), and a shutdown that lets requests in flight finish up to a deadline.
//!
//! A WebSocket outlives the HTTP connection hyper hands over on upgrade, so the place a
//! connection holds is shared ([`ConnectionSlot`]) and the socket's session keeps it until
//! the socket closes: upgraded sockets count against `max_connections` too.

use std::sync::Arc;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot, watch};
use tower::Layer;

use crate::registry::ServerConfig;
use crate::server::write_deadline::WriteDeadline;

/// One connection's place under `max_connections`, in every request's extensions; an
/// upgrade handler moves a clone into the socket's session so the place stays taken while
/// the socket is open. The place frees when the last clone drops.
#[derive(Clone)]
pub(crate) struct ConnectionSlot(#[allow(dead_code)] Arc<OwnedSemaphorePermit>);

/// Serves `app` on `listener` until `shutdown` fires; `closing` tells open WebSockets to
/// close (1001) when it does.
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    config: ServerConfig,
    mut shutdown: oneshot::Receiver<()>,
    closing: watch::Sender<bool>,
) -> std::io::Result<()> {
    let max = config.max_connections.clamp(1, Semaphore::MAX_PERMITS);
    let permits = Arc::new(Semaphore::new(max));
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors and the like: wait a little rather than spin.
                    tracing::warn!(%err, "accepting a connection failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            tracing::warn!(%peer, max, "connection refused: the server holds its maximum");
            drop(stream);
            continue;
        };
        let slot = ConnectionSlot(Arc::new(permit));
        let service = TowerToHyperService::new(axum::Extension(slot.clone()).layer(app.clone()));
        let mut closing = closing.subscribe();
        let header_timeout = config.header_read_timeout;
        // Every write, a response's or an upgraded WebSocket's, fails past the write timeout.
        let stream = WriteDeadline::new(stream, config.write_timeout);
        tokio::spawn(async move {
            let _slot = slot;
            let conn = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout)
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades();
            let mut conn = std::pin::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => {}
                // `wait_for`'s guard is dropped here (it is not `Send`).
                _ = async { closing.wait_for(|closing| *closing).await.map(|_| ()) } => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
        });
    }
    drop(listener);
    let _ = closing.send(true);
    // Every connection gives its permit back when it ends: wait for all of them, up to the
    // deadline.
    let drained = permits.acquire_many(u32::try_from(max).unwrap_or(u32::MAX));
    if tokio::time::timeout(config.shutdown_deadline, drained)
        .await
        .is_err()
    {
        tracing::warn!("connections still open at the shutdown deadline were dropped");
    }
    Ok(())
}
