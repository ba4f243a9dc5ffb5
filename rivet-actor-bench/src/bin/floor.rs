//! The transport floors the load generator compares against, in the same run and with the
//! same payloads:
//!
//! - `floor ws [ADDR]`: a raw tokio-tungstenite server. It accepts any `/…/connect` upgrade
//!   (answering subprotocol `rivet`), sends `Init`, answers each `ActionRequest` frame with a
//!   matching `ActionResponse` (`output` = the first argument), remembers
//!   `SubscriptionRequest`s, and for an action named `sendMessage` also sends one `Event` to
//!   every subscribed connection: the fan-out floor. No actor, no state, no hooks.
//! - `floor http [ADDR]`: a raw axum handler answering every `POST` with `{"output": …}`
//!   (the first argument of the body's `args`).
//!
//! Prints `listening http://ADDR` once it accepts connections.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::routing::post;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::http::HeaderValue;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_default();
    let addr: SocketAddr = args
        .next()
        .unwrap_or_else(|| "127.0.0.1:0".into())
        .parse()?;
    let listener = TcpListener::bind(addr).await?;
    println!("listening http://{}", listener.local_addr()?);
    match mode.as_str() {
        "ws" => serve_ws(listener).await,
        "http" => {
            let app = Router::new().route("/{*path}", post(action));
            axum::serve(listener, app).await?;
        }
        other => return Err(format!("unknown floor `{other}` (ws|http)").into()),
    }
    Ok(())
}

/// The first argument of a `{"args": [...]}` body, as the handler's output.
async fn action(body: Bytes) -> ([(&'static str, &'static str); 1], String) {
    let output = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|mut v| v.get_mut("args")?.get_mut(0).map(Value::take))
        .unwrap_or(Value::Null);
    (
        [("content-type", "application/json")],
        json!({ "output": output }).to_string(),
    )
}

type Subscribers = Arc<Mutex<Vec<(u64, mpsc::UnboundedSender<Message>)>>>;

async fn serve_ws(listener: TcpListener) {
    let subscribers: Subscribers = Arc::default();
    let next_id = Arc::new(AtomicU64::new(0));
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let (subscribers, id) = (subscribers.clone(), next_id.fetch_add(1, Ordering::Relaxed));
        tokio::spawn(async move {
            let _ = connection(stream, id, subscribers).await;
        });
    }
}

// The handshake callback's `Result` is tungstenite's signature.
#[allow(clippy::result_large_err)]
async fn connection(
    stream: tokio::net::TcpStream,
    id: u64,
    subscribers: Subscribers,
) -> Result<(), tokio_tungstenite::tungstenite::Error> {
    let mut ws =
        tokio_tungstenite::accept_hdr_async(stream, |_: &Request, mut response: Response| {
            response
                .headers_mut()
                .insert("sec-websocket-protocol", HeaderValue::from_static("rivet"));
            Ok(response)
        })
        .await?;
    // Events for this connection from other connections' `sendMessage`.
    let (tx, mut rx) = mpsc::unbounded_channel::<Message>();
    let init = json!({"body": {"tag": "Init", "val": {"actorId": "echo", "connectionId": id.to_string()}}});
    ws.send(Message::text(init.to_string())).await?;
    loop {
        let message = tokio::select! {
            message = ws.next() => message,
            Some(event) = rx.recv() => {
                ws.send(event).await?;
                continue;
            }
        };
        let text = match message {
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(Message::Close(_))) | None => break,
            Some(Ok(_)) => continue,
            Some(Err(err)) => {
                subscribers.lock().unwrap().retain(|(sub, _)| *sub != id);
                return Err(err);
            }
        };
        let Ok(mut frame) = serde_json::from_str::<Value>(&text) else {
            continue;
        };
        let body = &mut frame["body"];
        match body["tag"].as_str() {
            Some("ActionRequest") => {
                let val = &mut body["val"];
                let output = val["args"]
                    .get_mut(0)
                    .map(Value::take)
                    .unwrap_or(Value::Null);
                let fan_out = val["name"] == "sendMessage";
                let event = fan_out.then(|| {
                    Message::text(
                        json!({"body": {"tag": "Event", "val": {"name": "newMessage", "args": [{"userId": "echo", "text": output}]}}})
                            .to_string(),
                    )
                });
                let response = json!({"body": {"tag": "ActionResponse", "val": {"id": val["id"].take(), "output": output}}});
                ws.send(Message::text(response.to_string())).await?;
                if let Some(event) = event {
                    for (_, subscriber) in subscribers.lock().unwrap().iter() {
                        let _ = subscriber.send(event.clone());
                    }
                }
            }
            Some("SubscriptionRequest") if body["val"]["subscribe"] == true => {
                subscribers.lock().unwrap().push((id, tx.clone()));
            }
            _ => {}
        }
    }
    subscribers.lock().unwrap().retain(|(sub, _)| *sub != id);
    Ok(())
}
