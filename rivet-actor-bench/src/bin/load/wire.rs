//! The client protocol as the generator speaks it: JSON frames on raw WebSockets.

use crate::opts::*;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

pub(crate) fn gateway_query(key: &str) -> String {
    format!(
        "rvt-namespace=default&rvt-method=getOrCreate&rvt-runner=default&rvt-key={key}&rvt-crash-policy=sleep"
    )
}

/// `encodeURIComponent`'s escaping, minus `( ) ! ' *` (which `ws` would refuse anyway).
pub(crate) fn uri_component(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Opens `/gateway/{actor}/connect` for `key` and waits for `Init`.
pub(crate) async fn connect(
    url: &str,
    actor: &str,
    key: &str,
    params: Option<&Value>,
) -> Result<Ws, Error> {
    let ws_url = format!(
        "{}/gateway/{actor}/connect?{}",
        url.replacen("http", "ws", 1),
        gateway_query(key)
    );
    let mut request = ws_url.into_client_request()?;
    let mut protocols = "rivet,rivet_encoding.json".to_string();
    if let Some(params) = params {
        protocols.push_str(",rivet_conn_params.");
        protocols.push_str(&uri_component(&params.to_string()));
    }
    request
        .headers_mut()
        .insert("sec-websocket-protocol", HeaderValue::from_str(&protocols)?);
    let (mut ws, _) = tokio::time::timeout(
        TIMEOUT,
        tokio_tungstenite::connect_async_with_config(request, None, true),
    )
    .await??;
    loop {
        let frame = next_frame(&mut ws).await?;
        match frame["body"]["tag"].as_str() {
            Some("Init") => return Ok(ws),
            Some("Error") => {
                return Err(format!("connect refused: {}", frame["body"]["val"]).into());
            }
            _ => {}
        }
    }
}

/// The next JSON text frame.
pub(crate) async fn next_frame(ws: &mut Ws) -> Result<Value, Error> {
    loop {
        let message = tokio::time::timeout(TIMEOUT, ws.next())
            .await?
            .ok_or("connection closed")??;
        match message {
            Message::Text(text) => return Ok(serde_json::from_str(&text)?),
            Message::Binary(_) => return Err("binary frame on a JSON connection".into()),
            Message::Close(reason) => return Err(format!("closed: {reason:?}").into()),
            _ => {}
        }
    }
}

pub(crate) fn action_request(id: u64, name: &str, args: &Value) -> Message {
    Message::text(
        json!({"body": {"tag": "ActionRequest", "val": {"id": ["$BigInt", id.to_string()], "name": name, "args": args}}})
            .to_string(),
    )
}

pub(crate) fn is_id(value: &Value, id: u64) -> bool {
    value[1].as_str().and_then(|s| s.parse::<u64>().ok()) == Some(id)
}

/// One action round trip on `ws`; events that arrive meanwhile are skipped.
pub(crate) async fn call(ws: &mut Ws, id: u64, name: &str, args: &Value) -> Result<Value, Error> {
    ws.send(action_request(id, name, args)).await?;
    loop {
        let mut frame = next_frame(ws).await?;
        let body = &mut frame["body"];
        match body["tag"].as_str() {
            Some("ActionResponse") if is_id(&body["val"]["id"], id) => {
                return Ok(body["val"]["output"].take());
            }
            Some("Error") => return Err(format!("action failed: {}", body["val"]).into()),
            _ => {}
        }
    }
}

pub(crate) async fn subscribe(ws: &mut Ws, event: &str) -> Result<(), Error> {
    let frame = json!({"body": {"tag": "SubscriptionRequest", "val": {"eventName": event, "subscribe": true}}});
    ws.send(Message::text(frame.to_string())).await?;
    Ok(())
}

pub(crate) fn chat_params(i: usize) -> Value {
    json!({"authToken": format!("t{i}")})
}

pub(crate) async fn http_call_named(
    client: &reqwest::Client,
    url: &str,
    body: &str,
) -> Result<(), Error> {
    http_call_params(client, url, body, None).await
}

/// A stateless call with `body` and one extra header (e.g. `origin`).
pub(crate) async fn http_call_with(
    client: &reqwest::Client,
    url: &str,
    body: &str,
    header: Option<&(String, String)>,
) -> Result<(), Error> {
    let mut request = client
        .post(url)
        .header("content-type", "application/json")
        .header("x-rivet-encoding", "json");
    if let Some((name, value)) = header {
        request = request.header(name.as_str(), value.as_str());
    }
    let response = request.body(body.to_string()).send().await?;
    check_output(response).await
}

pub(crate) async fn http_call_params(
    client: &reqwest::Client,
    url: &str,
    body: &str,
    params: Option<&Value>,
) -> Result<(), Error> {
    let mut request = client
        .post(url)
        .header("content-type", "application/json")
        .header("x-rivet-encoding", "json");
    if let Some(params) = params {
        request = request.header("x-rivet-conn-params", params.to_string());
    }
    let response = request.body(body.to_string()).send().await?;
    check_output(response).await
}

/// A 2xx answer with an `output`.
async fn check_output(response: reqwest::Response) -> Result<(), Error> {
    let status = response.status();
    let body = response.bytes().await?;
    if !status.is_success() {
        return Err(format!("{status}: {}", String::from_utf8_lossy(&body)).into());
    }
    let value: Value = serde_json::from_slice(&body)?;
    if value.get("output").is_none() {
        return Err(format!("no output in {value}").into());
    }
    Ok(())
}
