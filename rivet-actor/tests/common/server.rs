//! A chat-room server on 127.0.0.1 for the network tests, and the clients to call it in
//! every encoding the server speaks.

#![allow(dead_code)]

use rivet_actor::prelude::*;
use rivet_actor::protocol::Encoding;
use rivet_actor::server::{Server, ServerConfig};

use super::chat_room::{ChatRoom, ConnParams};

/// Every encoding of the protocol.
pub const ENCODINGS: [Encoding; 3] = [Encoding::Json, Encoding::Cbor, Encoding::Bare];

/// One typed client per encoding, with the encoding's name (for keys of their own).
pub fn clients(server: &Server) -> impl Iterator<Item = (Client, &'static str)> + '_ {
    ENCODINGS.into_iter().map(|encoding| {
        (
            Client::new(server.endpoint()).encoding(encoding),
            encoding.name(),
        )
    })
}

pub async fn start() -> Server {
    start_with(ServerConfig::default()).await
}

/// The management API's token of the test servers.
pub const ADMIN_TOKEN: &str = "test-admin-token";

pub async fn start_with(config: ServerConfig) -> Server {
    let registry = Registry::builder()
        .in_memory()
        .admin_token(ADMIN_TOKEN)
        .server_config(config)
        .register::<ChatRoom>()
        .build();
    registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap()
}

pub fn params(token: &str) -> ConnParams {
    ConnParams {
        auth_token: token.into(),
    }
}
