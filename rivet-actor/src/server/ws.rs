//! The WebSocket seam: protocol sessions (`connect.rs`) and raw sockets (`raw.rs`) run over
//! [`FrameSocket`] — receive a frame, send a frame, close with a code and reason — so any
//! front end that carries WebSocket frames can host them. `AxumSocket` is the one for
//! sockets this server upgraded itself.

use std::future::Future;

use axum::body::Bytes;
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use tokio::sync::watch;

/// Close codes the server sends.
pub(crate) mod close {
    /// The socket is done.
    pub(crate) const NORMAL: u16 = 1000;
    /// The server is shutting down.
    pub(crate) const GOING_AWAY: u16 = 1001;
    /// A message over the size limit.
    pub(crate) const TOO_BIG: u16 = 1009;
    /// Refused or failed: the reason is `group.code`.
    pub(crate) const INTERNAL: u16 = 1011;
}

/// A data frame.
#[derive(Debug)]
pub enum Frame {
    /// A text frame.
    Text(String),
    /// A binary frame.
    Binary(Bytes),
}

/// Why a receive ended without a frame.
#[derive(Debug)]
pub enum RecvError {
    /// The peer sent a message over the size limit.
    TooLarge,
    /// The connection broke.
    Broken,
}

/// One WebSocket, as the protocol sees it. Control frames (ping, pong) are the transport's
/// business and never surface.
pub trait FrameSocket: Send + 'static {
    /// The next data frame; `None` once the peer closed. Must be cancel-safe: sessions
    /// poll it beside other work and drop it when something else is ready.
    fn recv(&mut self) -> impl Future<Output = Option<Result<Frame, RecvError>>> + Send;
    /// Sends a frame; `false` when the socket is gone.
    fn send(&mut self, frame: Frame) -> impl Future<Output = bool> + Send;
    /// Sends a close frame with `code` and `reason` (already valid: see `close_reason`).
    fn close(&mut self, code: u16, reason: String) -> impl Future<Output = ()> + Send;
    /// Answers the peer's close (flushing what is queued) after it closed first.
    fn finish(&mut self) -> impl Future<Output = ()> + Send;
}

/// A close code and reason a peer accepts whatever the actor asked for: a code an endpoint
/// may send (1000–1003, 1007–1014, 3000–4999; others become 1000) and a reason of at most
/// 123 bytes (a control frame holds 125).
pub(crate) fn close_reason(code: u16, mut reason: String) -> (u16, String) {
    let code = match code {
        1000..=1003 | 1007..=1014 | 3000..=4999 => code,
        _ => close::NORMAL,
    };
    if reason.len() > 123 {
        let mut end = 123;
        while !reason.is_char_boundary(end) {
            end -= 1;
        }
        reason.truncate(end);
    }
    (code, reason)
}

/// The server's shutdown signal: open sockets close with 1001 when it is set.
#[derive(Clone)]
pub(crate) struct Closing(pub(crate) watch::Receiver<bool>);

/// Resolves when the server starts shutting down (never without a signal).
pub(crate) async fn shutting_down(closing: &mut Option<Closing>) {
    match closing {
        Some(Closing(rx)) => {
            let _ = rx.wait_for(|closing| *closing).await;
        }
        None => std::future::pending().await,
    }
}

/// A socket axum upgraded.
pub(crate) struct AxumSocket(pub(crate) WebSocket);

impl FrameSocket for AxumSocket {
    async fn recv(&mut self) -> Option<Result<Frame, RecvError>> {
        loop {
            return match self.0.recv().await? {
                Ok(Message::Text(text)) => Some(Ok(Frame::Text(text.to_string()))),
                Ok(Message::Binary(bytes)) => Some(Ok(Frame::Binary(bytes))),
                Ok(Message::Ping(_) | Message::Pong(_)) => continue,
                Ok(Message::Close(_)) => None,
                Err(err) if is_too_large(&err) => Some(Err(RecvError::TooLarge)),
                Err(_) => Some(Err(RecvError::Broken)),
            };
        }
    }

    async fn send(&mut self, frame: Frame) -> bool {
        let message = match frame {
            Frame::Text(text) => Message::Text(text.into()),
            Frame::Binary(bytes) => Message::Binary(bytes),
        };
        self.0.send(message).await.is_ok()
    }

    async fn close(&mut self, code: u16, reason: String) {
        let frame = CloseFrame {
            code,
            reason: reason.into(),
        };
        let _ = self.0.send(Message::Close(Some(frame))).await;
    }

    async fn finish(&mut self) {
        // axum answers a peer's close frame itself; flushing is all that is left.
        let _ = futures_util::SinkExt::close(&mut self.0).await;
    }
}

/// Whether a receive error is the message size limit (tungstenite says so only in text).
fn is_too_large(err: &axum::Error) -> bool {
    let text = err.to_string();
    text.contains("too long") || text.contains("too big") || text.contains("Space limit")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_reasons_are_always_valid() {
        let close = |code, reason: &str| {
            let (code, reason) = close_reason(code, reason.into());
            (code, reason.len())
        };
        assert_eq!(close(4004, "gone"), (4004, 4));
        assert_eq!(close(1005, ""), (1000, 0));
        assert_eq!(close(1006, ""), (1000, 0));
        assert_eq!(close(5000, ""), (1000, 0));
        assert_eq!(close(1000, &"é".repeat(100)), (1000, 122));
    }
}
