//! Limits and settings of the network server.

/// Settings of the network server, set on the registry builder.
///
/// ```
/// let config = rivet_actor::server::ServerConfig { max_message_size: 64 * 1024, ..Default::default() };
/// assert_eq!(config.max_message_size, 65536);
/// ```
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Largest HTTP body or WebSocket message accepted, in bytes (default 1 MiB). A larger
    /// body answers 413 `message.too_large`; a larger WebSocket message closes with 1009.
    pub max_message_size: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            max_message_size: 1024 * 1024,
        }
    }
}
