//! Limits and settings of the network server. They live with the registry, which carries
//! them to whichever front end serves it.

/// Settings of the network server, set on the registry builder.
///
/// ```
/// let config = rivet_actor::server::ServerConfig {
///     max_message_size: 64 * 1024,
///     cors_headers: vec!["authorization".into()],
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
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            max_message_size: 1024 * 1024,
            cors_headers: Vec::new(),
        }
    }
}
