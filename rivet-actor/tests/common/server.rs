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

/// Sends a request and reads its JSON answer, whatever the status.
pub trait FetchJson {
    /// The answer's body as JSON.
    fn fetch_json(self) -> impl std::future::Future<Output = serde_json::Value>;
}

impl FetchJson for reqwest::RequestBuilder {
    async fn fetch_json(self) -> serde_json::Value {
        self.send().await.unwrap().json().await.unwrap()
    }
}

/// The HTTP status of an answer and the `code` of its JSON error body.
pub async fn status_and_code(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body: serde_json::Value = response.json().await.unwrap();
    (status, body["code"].as_str().unwrap_or_default().to_owned())
}
