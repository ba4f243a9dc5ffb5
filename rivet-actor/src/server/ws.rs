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
    /// Refused for now (the server holds its maximum of connections): try again later.
    #[cfg(feature = "engine")]
    pub(crate) const TRY_AGAIN_LATER: u16 = 1013;
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
    /// Sends a frame; `false` when the socket is gone or the peer took nothing for the
    /// server's write timeout (every write of an implementation is bounded so).
    fn send(&mut self, frame: Frame) -> impl Future<Output = bool> + Send;
    /// Sends a close frame with `code` and `reason` (already valid: see `close_reason`).
    fn close(&mut self, code: u16, reason: String) -> impl Future<Output = ()> + Send;
    /// Answers the peer's close (flushing what is queued) after it closed first.
    fn finish(&mut self) -> impl Future<Output = ()> + Send;
    /// Asks the peer for a sign of life (a ping); `false` when the socket is gone.
    fn ping(&mut self) -> impl Future<Output = bool> + Send;
    /// When the peer last sent anything (a frame, a pong).
    fn last_heard(&self) -> std::time::Instant;
}

/// Keeps a session's peer honest: every `interval` it is pinged, and one that sent nothing
/// (not even a pong) for two intervals while it was read is gone. Pongs are read only while
/// the socket is read: a session that holds its peer back ([`Liveness::resumed`] when it
/// reads again) counts silence from when reading resumed.
pub(crate) struct Liveness {
    ticks: tokio::time::Interval,
    interval: std::time::Duration,
    reading_since: std::time::Instant,
}

impl Liveness {
    pub(crate) fn new(interval: std::time::Duration) -> Self {
        let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        Self {
            ticks,
            interval,
            reading_since: std::time::Instant::now(),
        }
    }

    /// The session reads its socket again after holding its peer back.
    pub(crate) fn resumed(&mut self) {
        self.reading_since = std::time::Instant::now();
    }

    /// Waits for the next check (then call [`Liveness::check`]).
    pub(crate) async fn tick(&mut self) {
        self.ticks.tick().await;
    }

    /// Pings `socket`'s peer; `false` when it is gone, or when it was silent for two
    /// intervals while `reading` (close it). A socket not being read is only pinged.
    pub(crate) async fn check<S: FrameSocket>(&self, socket: &mut S, reading: bool) -> bool {
        let heard = socket.last_heard().max(self.reading_since);
        if reading && heard.elapsed() > self.interval * 2 {
            return false;
        }
        socket.ping().await
    }
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

/// A socket axum upgraded. Every write is bounded by the server's write timeout: a peer
/// that stopped reading holds a frame in the socket's buffer, and every later write (a
/// close frame, a ping, the final flush) would wait for it for ever.
pub(crate) struct AxumSocket {
    socket: WebSocket,
    last_heard: std::time::Instant,
    write_timeout: std::time::Duration,
    /// A write failed or timed out: the peer is gone or not reading, nothing more is sent.
    stuck: bool,
}

impl AxumSocket {
    pub(crate) fn new(socket: WebSocket, write_timeout: std::time::Duration) -> Self {
        Self {
            socket,
            last_heard: std::time::Instant::now(),
            write_timeout,
            stuck: false,
        }
    }

    /// Writes `message` within the write timeout; `false` (and nothing written from then
    /// on) when it cannot.
    async fn write(&mut self, message: Message) -> bool {
        if self.stuck {
            return false;
        }
        let written = tokio::time::timeout(self.write_timeout, self.socket.send(message)).await;
        self.stuck = !matches!(written, Ok(Ok(())));
        !self.stuck
    }
}

impl FrameSocket for AxumSocket {
    async fn recv(&mut self) -> Option<Result<Frame, RecvError>> {
        loop {
            let message = self.socket.recv().await?;
            self.last_heard = std::time::Instant::now();
            return match message {
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
        self.write(message).await
    }

    async fn close(&mut self, code: u16, reason: String) {
        let frame = CloseFrame {
            code,
            reason: reason.into(),
        };
        self.write(Message::Close(Some(frame))).await;
    }

    async fn ping(&mut self) -> bool {
        self.write(Message::Ping(Bytes::new())).await
    }

    fn last_heard(&self) -> std::time::Instant {
        self.last_heard
    }

    async fn finish(&mut self) {
        // axum answers a peer's close frame itself; flushing is all that is left.
        if !self.stuck {
            let flushed = futures_util::SinkExt::close(&mut self.socket);
            let _ = tokio::time::timeout(self.write_timeout, flushed).await;
        }
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

    /// A peer that stops reading leaves a frame in the socket's buffer; the close, ping and
    /// flush after it must not wait for that frame for ever.
    #[tokio::test]
    async fn writes_after_one_that_timed_out_return_at_once() {
        use axum::extract::WebSocketUpgrade;
        type Outcome = (bool, bool);
        let (done_tx, done) = tokio::sync::oneshot::channel::<Outcome>();
        let done_tx = std::sync::Arc::new(std::sync::Mutex::new(Some(done_tx)));
        let app = axum::Router::new().route(
            "/",
            axum::routing::get(move |upgrade: WebSocketUpgrade| async move {
                upgrade.on_upgrade(move |socket| async move {
                    let timeout = std::time::Duration::from_millis(200);
                    let mut socket = AxumSocket::new(socket, timeout);
                    // Far more than loopback's buffers hold.
                    let sent = socket.send(Frame::Binary(vec![0; 64 << 20].into())).await;
                    socket.close(1000, String::new()).await;
                    let pinged = socket.ping().await;
                    socket.finish().await;
                    if let Some(tx) = done_tx.lock().unwrap().take() {
                        let _ = tx.send((sent, pinged));
                    }
                })
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("ws://{}/", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        // The peer: connected, and never reads.
        let (_peer, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        let outcome = tokio::time::timeout(std::time::Duration::from_secs(30), done)
            .await
            .expect("a write after the stuck one waited for the peer")
            .unwrap();
        assert_eq!(outcome, (false, false));
    }
}
