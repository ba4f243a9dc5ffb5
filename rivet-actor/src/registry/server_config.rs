//! Limits and settings of the network server. They live with the registry, which carries
//! them to whichever front end serves it.

/// Settings of the network server, set on the registry builder.
///
/// ```
/// let config = rivet_actor::server::ServerConfig {
///     max_message_size: 64 * 1024,
///     cors_headers: vec!["authorization".into()],
///     ..Default::default()
/// };
/// assert_eq!(config.max_message_size, 65536);
/// ```
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Largest HTTP body or WebSocket message accepted, in bytes (default 1 MiB). A larger
    /// body answers 413 `message.too_large`; a larger WebSocket message closes with 1009.
    pub max_message_size: usize,
    /// Request headers of the application's own (e.g. `authorization`) that browsers may
    /// send on stateless calls, added to the `x-rivet-*` ones CORS preflights allow.
    pub cors_headers: Vec<String>,
    /// How many bytes of events a connection may fall behind before it is cut off with
    /// `message.slow_consumer` (default 1 MiB).
    pub max_outgoing_bytes: usize,
    /// How many bytes of a protocol connection's messages may wait for their answers
    /// (default 1 MiB). Past it the connection is not read until answers go out, so a
    /// client that sends faster than its actor answers is slowed down instead of filling
    /// the actor's mailbox; one message is always taken, however large. Through the engine,
    /// whose callbacks cannot wait, a WebSocket (protocol or raw) whose unread frames pass
    /// this plus one message (or 256 frames) is closed with `message.backlog` instead.
    pub max_incoming_bytes: usize,
    /// How many of a protocol connection's calls may wait for their answers at once
    /// (default 256); past it the connection is not read until answers go out. With
    /// `max_incoming_bytes`, this bounds what one connection holds of answers too: a small
    /// call may have a large answer.
    pub max_calls_in_flight: usize,
    /// How long a connection may take nothing of what is written to it (a response, a
    /// WebSocket frame) before it is dropped: a peer that stopped reading (default 30 s).
    pub write_timeout: std::time::Duration,
    /// How often WebSocket peers are pinged; one silent (no frame, no pong) for two
    /// intervals is closed with 1001 (default 30 s).
    pub ping_interval: std::time::Duration,
    /// How long a connection may take to send a request's headers (a peer that sends half
    /// and waits is dropped; default 30 s).
    pub header_read_timeout: std::time::Duration,
    /// How long a request's body may take to arrive; slower answers 408 (default 30 s).
    pub body_read_timeout: std::time::Duration,
    /// Connections served at once, open WebSockets included; more are refused as they
    /// arrive (default 10,000). In engine mode, the requests and WebSockets the engine
    /// tunnels to this host: more answer 503 or close with 1013, both
    /// `message.too_many_connections`.
    pub max_connections: usize,
    /// How long a shutdown waits for requests in flight (default 10 s).
    pub shutdown_deadline: std::time::Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            max_message_size: 1024 * 1024,
            cors_headers: Vec::new(),
            max_outgoing_bytes: 1024 * 1024,
            max_incoming_bytes: 1024 * 1024,
            max_calls_in_flight: 256,
            write_timeout: std::time::Duration::from_secs(30),
            ping_interval: std::time::Duration::from_secs(30),
            header_read_timeout: std::time::Duration::from_secs(30),
            body_read_timeout: std::time::Duration::from_secs(30),
            max_connections: 10_000,
            shutdown_deadline: std::time::Duration::from_secs(10),
        }
    }
}
