//! What every seed test binary shares: one server setup, the demo auth service, raw
//! WebSocket and HTTP helpers.
#![allow(dead_code)]

use std::sync::OnceLock;
use std::time::Duration;

use futures_util::StreamExt;
use rivet_actor::server::Server;
use rivet_actor::{Client, HostConfig, Registry};
use rivet_actor_examples::seeds::{self, SeedsConfig};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// The JWT secret of every test registry (hooks read the config process-wide, so every
/// registry of a test binary must agree).
pub const JWT_SECRET: &str = "test-secret-for-the-seeds";

/// The connect-hook timeout of the test registries.
pub const HOOK_TIMEOUT: Duration = Duration::from_millis(300);

/// The demo auth service, started once per test binary on a thread of its own (a tokio
/// test's runtime ends with the test).
pub fn auth_service_url() -> String {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let (url, task) = seeds::api::demo_auth_service("127.0.0.1:0".parse().unwrap())
                    .await
                    .unwrap();
                tx.send(url).unwrap();
                let _ = task.await;
            });
        });
        rx.recv().unwrap()
    })
    .clone()
}

/// The config of every test registry: in memory, the demo auth service, [`JWT_SECRET`],
/// a short connect-hook timeout, no browser origins beside the seed's.
pub fn config() -> SeedsConfig {
    SeedsConfig {
        data_dir: None,
        auth_service_url: auth_service_url(),
        jwt_secret: JWT_SECRET.into(),
        host: HostConfig {
            connect_hook_timeout: HOOK_TIMEOUT,
            ..Default::default()
        },
        web_origins: Vec::new(),
    }
}

/// A seeds registry served on a free port, and a client of it.
pub async fn start() -> (Registry, Server, Client) {
    let registry = seeds::registry(config());
    let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let client = Client::new(server.endpoint());
    (registry, server, client)
}

/// How many actors the registry's storage holds.
pub async fn actor_count(registry: &Registry) -> usize {
    registry.storage().list_actors(None).await.unwrap().len()
}

/// A key unique to this process and call site.
pub fn key(prefix: &str) -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    format!("{prefix}-{}", N.fetch_add(1, Ordering::Relaxed))
}

/// What a raw WebSocket connect ended with.
#[derive(Debug)]
pub enum WsOutcome {
    /// The server sent `Init`: the connection was accepted.
    Accepted,
    /// The server sent an `Error` frame (its `body.val`) and closed with this code and reason.
    Refused {
        error: serde_json::Value,
        code: u16,
        reason: String,
    },
}

/// Opens a WebSocket to `actor`/`key` with JSON encoding, these params and (optionally)
/// this `Origin`, as a browser would, and reports whether it was accepted.
pub async fn ws_connect(
    server: &Server,
    actor: &str,
    key: &str,
    params: Option<&str>,
    origin: Option<&str>,
) -> WsOutcome {
    let url = format!(
        "ws://{}/gateway/{actor}/connect?rvt-method=getOrCreate&rvt-key={key}&rvt-runner=default",
        server.local_addr()
    );
    let mut request = url.into_client_request().unwrap();
    let mut protocols = "rivet, rivet_encoding.json".to_owned();
    if let Some(params) = params {
        protocols.push_str(", rivet_conn_params.");
        protocols.push_str(&percent_encode(params));
    }
    let headers = request.headers_mut();
    headers.insert("sec-websocket-protocol", protocols.parse().unwrap());
    if let Some(origin) = origin {
        headers.insert("origin", origin.parse().unwrap());
    }
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let mut error = serde_json::Value::Null;
    loop {
        match tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("the server neither accepted nor closed the WebSocket")
        {
            Some(Ok(Message::Text(text))) => {
                let frame: serde_json::Value = serde_json::from_str(text.as_str()).unwrap();
                match frame["body"]["tag"].as_str() {
                    Some("Init") => return WsOutcome::Accepted,
                    Some("Error") => error = frame["body"]["val"].clone(),
                    _ => {}
                }
            }
            Some(Ok(Message::Close(Some(close)))) => {
                return WsOutcome::Refused {
                    error,
                    code: close.code.into(),
                    reason: close.reason.to_string(),
                };
            }
            Some(Ok(_)) => continue,
            other => panic!("expected Init or a close frame, got {other:?}"),
        }
    }
}

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A stateless action over raw HTTP, JSON-encoded, with optional params and `Origin`.
pub async fn http_action(
    server: &Server,
    actor: &str,
    key: &str,
    action: &str,
    params: Option<&str>,
    origin: Option<&str>,
) -> reqwest::Response {
    let url = format!(
        "{}/gateway/{actor}/action/{action}?rvt-method=getOrCreate&rvt-key={key}&rvt-runner=default",
        server.endpoint()
    );
    let mut request = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .body(r#"{"args":[]}"#);
    if let Some(params) = params {
        request = request.header("x-rivet-conn-params", params);
    }
    if let Some(origin) = origin {
        request = request.header("origin", origin);
    }
    request.send().await.unwrap()
}

/// A CORS preflight for an action of `actor`.
pub async fn preflight(server: &Server, actor: &str, key: &str, origin: &str) -> reqwest::Response {
    let url = format!(
        "{}/gateway/{actor}/action/increment?rvt-method=getOrCreate&rvt-key={key}&rvt-runner=default",
        server.endpoint()
    );
    reqwest::Client::new()
        .request(reqwest::Method::OPTIONS, url)
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "content-type, x-rivet-conn-params",
        )
        .send()
        .await
        .unwrap()
}
