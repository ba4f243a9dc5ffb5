//! The load generator: drives a server over loopback in RivetKit's client protocol v4 (JSON
//! encoding) with raw tokio-tungstenite WebSockets and a reqwest HTTP client — not our typed
//! client — so the same generator measures our server, the transport floors (`--bin floor`)
//! and RivetKit.
//!
//! ```text
//! load run --url http://127.0.0.1:PORT --label ours --kind actor [--pid PID[,PID…]]
//!          [--secs 3] [--conns 1,64,1024] [--http-conc 64] [--handshake-conc 64]
//!          [--fanout 10000] [--rounds 5] [--idle-actors 10000] [--ops N] [--only a,b]
//!          [--open-conc 64] [--many-max N] [--setup-secs N] [--out FILE]
//! load report FILE…
//! ```
//!
//! `--kind` says what the server can do: `actor` (our server or RivetKit: every scenario),
//! `ws-floor` (the raw WebSocket echo: WebSocket scenarios), `http-floor` (the raw axum
//! handler: HTTP actions). `run` prints one JSON line per scenario (and appends them to
//! `--out`); it exits with status 2 when any request failed. `report` joins result files into
//! the Markdown table of `BENCHMARKS.md`.
//!
//! Connections and actors are opened `--open-conc` at a time (fan-out: four times that); an
//! actor shared by several connections is always created by one connection first, so no
//! scenario races concurrent get-or-creates of one key. `--many-max` skips the "one actor
//! per connection" rows above that many connections (for servers that create actors slowly).
//! `--setup-secs` bounds how long a WebSocket row may spend creating actors and opening
//! connections: the row then measures the connections that did open, and says in its cell how
//! many of how many were set up in how long.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;
type Error = Box<dyn std::error::Error + Send + Sync>;

/// How long one request may take before it counts as failed.
const TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Clone)]
struct Opts {
    url: String,
    label: String,
    kind: String,
    pids: Vec<u32>,
    secs: f64,
    conns: Vec<usize>,
    http_conc: usize,
    handshake_conc: usize,
    fanout: usize,
    rounds: usize,
    idle_actors: usize,
    ops: Option<u64>,
    open_conc: usize,
    many_max: usize,
    /// How long a WebSocket row may spend setting up (creating actors, opening connections).
    setup_secs: Option<f64>,
    only: Option<Vec<String>>,
    out: Option<String>,
    /// Distinguishes actor keys between runs against the same server.
    nonce: String,
}

fn parse(args: &[String]) -> Result<Opts, Error> {
    let mut opts = Opts {
        url: String::new(),
        label: "server".into(),
        kind: "actor".into(),
        pids: Vec::new(),
        secs: 3.0,
        conns: vec![1, 64, 1024],
        http_conc: 64,
        handshake_conc: 64,
        fanout: 10_000,
        rounds: 5,
        idle_actors: 10_000,
        ops: None,
        open_conc: 64,
        many_max: usize::MAX,
        setup_secs: None,
        only: None,
        out: None,
        nonce: format!("{:x}", std::process::id()),
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let mut value = || it.next().cloned().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--url" => opts.url = value()?.trim_end_matches('/').to_string(),
            "--label" => opts.label = value()?,
            "--kind" => opts.kind = value()?,
            "--pid" => {
                opts.pids = value()?
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(str::parse)
                    .collect::<Result<_, _>>()?
            }
            "--secs" => opts.secs = value()?.parse()?,
            "--conns" => {
                opts.conns = value()?
                    .split(',')
                    .map(str::parse)
                    .collect::<Result<_, _>>()?
            }
            "--http-conc" => opts.http_conc = value()?.parse()?,
            "--handshake-conc" => opts.handshake_conc = value()?.parse()?,
            "--fanout" => opts.fanout = value()?.parse()?,
            "--rounds" => opts.rounds = value()?.parse()?,
            "--idle-actors" => opts.idle_actors = value()?.parse()?,
            "--ops" => opts.ops = Some(value()?.parse()?),
            "--open-conc" => opts.open_conc = value()?.parse()?,
            "--many-max" => opts.many_max = value()?.parse()?,
            "--setup-secs" => opts.setup_secs = Some(value()?.parse()?),
            "--only" => opts.only = Some(value()?.split(',').map(String::from).collect()),
            "--out" => opts.out = Some(value()?),
            "--nonce" => opts.nonce = value()?,
            other => return Err(format!("unknown flag `{other}`").into()),
        }
    }
    if opts.url.is_empty() {
        return Err("--url is required".into());
    }
    Ok(opts)
}

/// One line of results.
#[derive(Default)]
struct Row {
    scenario: String,
    ops: u64,
    errors: u64,
    secs: f64,
    /// Operations per second (for fan-out: deliveries per second of the median round).
    rate: f64,
    p50_us: f64,
    p99_us: f64,
    /// Bytes per item for memory scenarios.
    bytes_per_item: Option<f64>,
    note: String,
}

impl Row {
    fn json(&self, label: &str) -> Value {
        json!({
            "label": label, "scenario": self.scenario, "ops": self.ops, "errors": self.errors,
            "secs": self.secs, "rate": self.rate, "p50_us": self.p50_us, "p99_us": self.p99_us,
            "bytes_per_item": self.bytes_per_item, "note": self.note,
        })
    }
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    f64::from(sorted[idx])
}

fn finish(scenario: String, mut lat: Vec<u32>, errors: u64, secs: f64) -> Row {
    lat.sort_unstable();
    Row {
        scenario,
        ops: lat.len() as u64,
        errors,
        secs,
        rate: lat.len() as f64 / secs,
        p50_us: percentile(&lat, 0.5),
        p99_us: percentile(&lat, 0.99),
        ..Row::default()
    }
}

/// The server's resident set (sum over `pids`), in bytes, from `/proc/PID/status`.
fn rss(pids: &[u32]) -> Option<u64> {
    if pids.is_empty() {
        return None;
    }
    let mut total = 0;
    for pid in pids {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
        let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        total += kb * 1024;
    }
    Some(total)
}

// ---------------------------------------------------------------------------------------
// Wire helpers

fn gateway_query(key: &str) -> String {
    format!(
        "rvt-namespace=default&rvt-method=getOrCreate&rvt-runner=default&rvt-key={key}&rvt-crash-policy=sleep"
    )
}

/// `encodeURIComponent`'s escaping, minus `( ) ! ' *` (which `ws` would refuse anyway).
fn uri_component(s: &str) -> String {
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
async fn connect(url: &str, actor: &str, key: &str, params: Option<&Value>) -> Result<Ws, Error> {
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
async fn next_frame(ws: &mut Ws) -> Result<Value, Error> {
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

fn action_request(id: u64, name: &str, args: &Value) -> Message {
    Message::text(
        json!({"body": {"tag": "ActionRequest", "val": {"id": ["$BigInt", id.to_string()], "name": name, "args": args}}})
            .to_string(),
    )
}

fn is_id(value: &Value, id: u64) -> bool {
    value[1].as_str().and_then(|s| s.parse::<u64>().ok()) == Some(id)
}

/// One action round trip on `ws`; events that arrive meanwhile are skipped.
async fn call(ws: &mut Ws, id: u64, name: &str, args: &Value) -> Result<Value, Error> {
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

async fn subscribe(ws: &mut Ws, event: &str) -> Result<(), Error> {
    let frame = json!({"body": {"tag": "SubscriptionRequest", "val": {"eventName": event, "subscribe": true}}});
    ws.send(Message::text(frame.to_string())).await?;
    Ok(())
}

fn chat_params(i: usize) -> Value {
    json!({"authToken": format!("t{i}")})
}

// ---------------------------------------------------------------------------------------
// Scenarios

fn plain_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .tcp_nodelay(true)
        .timeout(TIMEOUT)
        .build()
        .expect("http client")
}

/// Creates (or wakes) each actor `keys` names with one stateless read, `--open-conc` at a
/// time, before any WebSocket opens to it: every target gets its actors the same way, and no
/// WebSocket races the creation. Returns how many failed.
async fn ensure_actors(opts: &Opts, actor: &str, keys: Vec<String>) -> u64 {
    ensure_actors_until(opts, actor, keys, None).await.0
}

/// [`ensure_actors`], stopping between batches once `deadline` has passed; also returns how
/// many keys it got through.
async fn ensure_actors_until(
    opts: &Opts,
    actor: &str,
    keys: Vec<String>,
    deadline: Option<Instant>,
) -> (u64, usize) {
    if opts.kind != "actor" {
        return (0, keys.len()); // the echo floor has no actors (and no HTTP)
    }
    let (action, params) = match actor {
        "chatRoom" => ("getMessages", Some(chat_params(0))),
        _ => ("getCount", None),
    };
    let client = plain_client();
    let mut errors = 0;
    let mut done = 0;
    for chunk in keys.chunks(opts.open_conc.max(1)) {
        if deadline.is_some_and(|d| Instant::now() >= d) {
            break;
        }
        done += chunk.len();
        let calls = chunk.iter().map(|key| {
            let url = format!(
                "{}/gateway/{actor}/action/{action}?{}",
                opts.url,
                gateway_query(key)
            );
            let (client, params) = (client.clone(), params.clone());
            tokio::spawn(async move {
                http_call_params(&client, &url, "{\"args\":[]}", params.as_ref()).await
            })
        });
        for call in calls.collect::<Vec<_>>() {
            match call.await {
                Ok(Ok(())) => {}
                Ok(Err(err)) => {
                    eprintln!("creating {actor}: {err}");
                    errors += 1;
                }
                Err(_) => errors += 1,
            }
        }
    }
    (errors, done)
}

/// Runs `workers` loops until the window ends (or `--ops` operations have started); each
/// loop returns its latencies and errors.
struct Window {
    deadline: Instant,
    started: AtomicU64,
    cap: u64,
}

impl Window {
    fn new(opts: &Opts) -> Arc<Self> {
        Arc::new(Self {
            deadline: Instant::now() + Duration::from_secs_f64(opts.secs),
            started: AtomicU64::new(0),
            cap: opts.ops.unwrap_or(u64::MAX),
        })
    }
    fn next(&self) -> bool {
        Instant::now() < self.deadline && self.started.fetch_add(1, Ordering::Relaxed) < self.cap
    }
}

async fn collect(
    tasks: Vec<tokio::task::JoinHandle<(Vec<u32>, u64)>>,
    scenario: String,
    start: Instant,
) -> Row {
    let mut lat = Vec::new();
    let mut errors = 0;
    for task in tasks {
        match task.await {
            Ok((l, e)) => {
                lat.extend(l);
                errors += e;
            }
            Err(_) => errors += 1,
        }
    }
    finish(scenario, lat, errors, start.elapsed().as_secs_f64())
}

/// `conns` WebSocket connections, each doing one `increment(1)` round trip at a time, all on
/// one actor or each on its own.
async fn ws_actions(opts: &Opts, conns: usize, one_actor: bool) -> Row {
    let scenario = if conns == 1 {
        "ws actions, 1 conn".to_string()
    } else if one_actor {
        format!("ws actions, {conns} conns, 1 actor")
    } else {
        format!("ws actions, {conns} conns, {conns} actors")
    };
    let mut sockets = Vec::new();
    let key_of = |i: usize| {
        if one_actor {
            format!("ws-{}-one-{conns}", opts.nonce)
        } else {
            format!("ws-{}-many-{conns}-{i}", opts.nonce)
        }
    };
    let keys = (0..if one_actor { 1 } else { conns }).map(key_of).collect();
    let setup_started = Instant::now();
    let deadline = opts
        .setup_secs
        .map(|secs| setup_started + Duration::from_secs_f64(secs));
    let (mut errors, ensured) = ensure_actors_until(opts, "counter", keys, deadline).await;
    // Connections only to actors that were created in time.
    let wanted = if one_actor { conns } else { ensured };
    let mut opening = Vec::new();
    for i in 0..wanted {
        if deadline.is_some_and(|d| Instant::now() >= d) && opening.is_empty() {
            break;
        }
        let key = key_of(i);
        let url = opts.url.clone();
        opening.push(tokio::spawn(async move {
            let open = async {
                let mut ws = connect(&url, "counter", &key, None).await?;
                call(&mut ws, 0, "increment", &json!([1])).await?; // warm: the actor exists
                Ok::<_, Error>(ws)
            };
            tokio::time::timeout(TIMEOUT, open)
                .await
                .unwrap_or_else(|_| Err("opening timed out".into()))
        }));
        // The first connection creates the shared actor alone.
        if opening.len() >= opts.open_conc || (one_actor && i == 0) {
            for t in opening.drain(..) {
                match t.await {
                    Ok(Ok(ws)) => sockets.push(ws),
                    Ok(Err(err)) => {
                        eprintln!("{scenario}: {err}");
                        errors += 1
                    }
                    Err(_) => errors += 1,
                }
            }
        }
    }
    for t in opening.drain(..) {
        match t.await {
            Ok(Ok(ws)) => sockets.push(ws),
            Ok(Err(err)) => {
                eprintln!("{scenario}: {err}");
                errors += 1
            }
            Err(_) => errors += 1,
        }
    }
    let set_up = sockets.len();
    let setup_secs = setup_started.elapsed().as_secs_f64();
    let window = Window::new(opts);
    let start = Instant::now();
    let tasks = sockets
        .into_iter()
        .map(|mut ws| {
            let window = window.clone();
            tokio::spawn(async move {
                let (mut lat, mut errors) = (Vec::new(), 0);
                let args = json!([1]);
                let mut id = 1;
                while window.next() {
                    let t = Instant::now();
                    match call(&mut ws, id, "increment", &args).await {
                        Ok(_) => lat.push(t.elapsed().as_micros() as u32),
                        Err(err) => {
                            eprintln!("ws action: {err}");
                            errors += 1;
                            break;
                        }
                    }
                    id += 1;
                }
                let _ = ws.close(None).await;
                (lat, errors)
            })
        })
        .collect();
    let mut row = collect(tasks, scenario, start).await;
    row.errors += errors;
    if set_up < conns {
        row.note = format!("{set_up} of {conns} conns set up in {setup_secs:.0} s");
    }
    row
}

/// `conc` workers each sending stateless `increment(1)` over HTTP to its own actor.
async fn http_actions(opts: &Opts) -> Row {
    let conc = opts.http_conc;
    let client = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(conc)
        .tcp_nodelay(true)
        .timeout(TIMEOUT)
        .build()
        .expect("http client");
    let urls: Vec<String> = (0..conc)
        .map(|i| {
            format!(
                "{}/gateway/counter/action/increment?{}",
                opts.url,
                gateway_query(&format!("http-{}-{i}", opts.nonce))
            )
        })
        .collect();
    let mut warm_errors = 0;
    for url in &urls {
        if http_call(&client, url).await.is_err() {
            warm_errors += 1;
        }
    }
    let window = Window::new(opts);
    let start = Instant::now();
    let tasks = urls
        .into_iter()
        .map(|url| {
            let (client, window) = (client.clone(), window.clone());
            tokio::spawn(async move {
                let (mut lat, mut errors) = (Vec::new(), 0);
                while window.next() {
                    let t = Instant::now();
                    match http_call(&client, &url).await {
                        Ok(()) => lat.push(t.elapsed().as_micros() as u32),
                        Err(err) => {
                            eprintln!("http action: {err}");
                            errors += 1;
                        }
                    }
                }
                (lat, errors)
            })
        })
        .collect();
    let mut row = collect(tasks, format!("http actions, {conc} concurrent"), start).await;
    row.errors += warm_errors;
    row
}

async fn http_call(client: &reqwest::Client, url: &str) -> Result<(), Error> {
    http_call_named(client, url, "{\"args\":[1]}").await
}

async fn http_call_named(client: &reqwest::Client, url: &str, body: &str) -> Result<(), Error> {
    http_call_params(client, url, body, None).await
}

async fn http_call_params(
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

/// `conc` workers each opening a chat-room connection (params → `before_connect` →
/// `conn_state` → `Init`) and closing it.
async fn handshakes(opts: &Opts) -> Row {
    let conc = opts.handshake_conc;
    let key = format!("hs-{}", opts.nonce);
    // Warm: the room exists.
    let mut warm_errors = ensure_actors(opts, "chatRoom", vec![key.clone()]).await;
    match connect(&opts.url, "chatRoom", &key, Some(&chat_params(0))).await {
        Ok(mut ws) => {
            let _ = ws.close(None).await;
        }
        Err(err) => {
            eprintln!("handshake warm-up: {err}");
            warm_errors += 1;
        }
    }
    let window = Window::new(opts);
    let start = Instant::now();
    let tasks = (0..conc)
        .map(|w| {
            let (window, url, key) = (window.clone(), opts.url.clone(), key.clone());
            tokio::spawn(async move {
                let (mut lat, mut errors) = (Vec::new(), 0);
                let params = chat_params(w);
                while window.next() {
                    let t = Instant::now();
                    match connect(&url, "chatRoom", &key, Some(&params)).await {
                        Ok(mut ws) => {
                            lat.push(t.elapsed().as_micros() as u32);
                            let _ = ws.close(None).await;
                            // Let the close handshake finish so sockets do not pile up.
                            let _ = tokio::time::timeout(Duration::from_secs(1), async {
                                while let Some(Ok(_)) = ws.next().await {}
                            })
                            .await;
                        }
                        Err(err) => {
                            eprintln!("handshake: {err}");
                            errors += 1;
                        }
                    }
                }
                (lat, errors)
            })
        })
        .collect();
    let mut row = collect(tasks, format!("handshakes, {conc} concurrent"), start).await;
    row.errors += warm_errors;
    row
}

/// `n` connections subscribed to one chat room's `newMessage`; another connection sends a
/// message; the time until the last subscriber has it, per round. Also the server's RSS
/// growth per open, subscribed, idle connection.
async fn fanout(opts: &Opts) -> Vec<Row> {
    let n = opts.fanout;
    let key = format!("fanout-{}", opts.nonce);
    let created = ensure_actors(opts, "chatRoom", vec![key.clone()]).await;
    // The sender: its own connection, not subscribed.
    let mut sender = match connect(&opts.url, "chatRoom", &key, Some(&chat_params(n))).await {
        Ok(ws) => ws,
        Err(err) => {
            eprintln!("fan-out sender: {err}");
            return vec![Row {
                scenario: format!("fan-out to {n} conns"),
                errors: 1,
                ..Row::default()
            }];
        }
    };
    let rss_before = rss(&opts.pids);
    let (tx, mut rx) = mpsc::unbounded_channel::<(u64, Instant)>();
    let mut errors = created;
    let mut readers = Vec::new();
    let open_start = Instant::now();
    let mut pending = Vec::new();
    let mut open_lat = Vec::new();
    for i in 0..n {
        let (url, key) = (opts.url.clone(), key.clone());
        pending.push(tokio::spawn(async move {
            let t = Instant::now();
            let mut ws = connect(&url, "chatRoom", &key, Some(&chat_params(i))).await?;
            let elapsed = t.elapsed();
            subscribe(&mut ws, "newMessage").await?;
            Ok::<_, Error>((ws, elapsed))
        }));
        if pending.len() >= 4 * opts.open_conc || i + 1 == n {
            for t in pending.drain(..) {
                match t.await {
                    Ok(Ok((ws, elapsed))) => {
                        open_lat.push(elapsed.as_micros() as u32);
                        let tx = tx.clone();
                        readers.push(tokio::spawn(read_events(ws, tx)));
                    }
                    Ok(Err(err)) => {
                        eprintln!("fan-out connect: {err}");
                        errors += 1;
                    }
                    Err(_) => errors += 1,
                }
            }
        }
    }
    drop(tx);
    let open_secs = open_start.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_after = rss(&opts.pids);
    let subscribed = readers.len();

    let mut rows = Vec::new();
    let mut open_row = finish(
        format!("open + subscribe {n} conns"),
        open_lat,
        errors,
        open_secs,
    );
    open_row.note = "connections/s while opening".into();
    rows.push(open_row);
    if let (Some(before), Some(after)) = (rss_before, rss_after) {
        rows.push(Row {
            scenario: format!("memory per idle conn ({n})"),
            ops: subscribed as u64,
            bytes_per_item: Some(after.saturating_sub(before) as f64 / subscribed.max(1) as f64),
            note: format!("RSS {} → {} MiB", before >> 20, after >> 20),
            ..Row::default()
        });
    }

    let mut times = Vec::new();
    let mut round_errors = 0;
    // Subscribers whose connection is still open (a reader reports its close as round MAX).
    let mut live = subscribed;
    // Round 0 warms up (and proves every subscription is in place); 1..=rounds are measured.
    for round in 0..=opts.rounds as u64 {
        let t0 = Instant::now();
        if let Err(err) = call(
            &mut sender,
            round + 1,
            "sendMessage",
            &json!([format!("round-{round}")]),
        )
        .await
        {
            eprintln!("fan-out send: {err}");
            round_errors += 1;
            break;
        }
        let mut got = 0;
        let mut last = t0;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while got < live {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some((r, at))) if r == round => {
                    got += 1;
                    last = last.max(at);
                }
                Ok(Some((u64::MAX, _))) => {
                    live -= 1;
                    round_errors += 1; // a subscriber lost its connection
                }
                Ok(Some(_)) => {}
                _ => break,
            }
        }
        if got < subscribed {
            eprintln!(
                "fan-out round {round}: {got} of {subscribed} subscribers got the event ({} connections closed by the server so far)",
                subscribed - live
            );
            round_errors += (live - got) as u64;
        }
        if round > 0 {
            times.push(last.duration_since(t0).as_micros() as u32);
        }
    }
    let _ = sender.close(None).await;
    for reader in &readers {
        reader.abort();
    }
    times.sort_unstable();
    let median = percentile(&times, 0.5);
    rows.push(Row {
        scenario: format!("fan-out to {n} conns"),
        ops: times.len() as u64,
        errors: errors + round_errors,
        secs: f64::from(times.iter().sum::<u32>()) / 1e6,
        rate: if median > 0.0 {
            subscribed as f64 / (median / 1e6)
        } else {
            0.0
        },
        p50_us: median,
        p99_us: times.last().copied().map_or(0.0, f64::from),
        note: "time until the last subscriber has the event: median and max of the rounds; rate = deliveries/s".into(),
        ..Row::default()
    });
    rows
}

async fn read_events(mut ws: Ws, tx: mpsc::UnboundedSender<(u64, Instant)>) {
    while let Some(Ok(message)) = ws.next().await {
        let Message::Text(text) = message else {
            continue;
        };
        let at = Instant::now();
        // Only events carry "round-"; no full parse on the hot path of 10,000 readers.
        if let Some(pos) = text.find("round-") {
            let digits: String = text[pos + 6..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            if let Ok(round) = digits.parse() {
                let _ = tx.send((round, at));
            }
        }
    }
    let _ = tx.send((u64::MAX, Instant::now()));
}

/// `n` actors woken by one stateless call each (64 at a time); the server's RSS growth per
/// idle actor.
async fn idle_actors(opts: &Opts) -> Row {
    let n = opts.idle_actors;
    let client = plain_client();
    let before = rss(&opts.pids);
    let next = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let tasks = (0..opts.open_conc)
        .map(|_| {
            let (client, next, base, nonce) = (
                client.clone(),
                next.clone(),
                opts.url.clone(),
                opts.nonce.clone(),
            );
            tokio::spawn(async move {
                let (mut lat, mut errors) = (Vec::new(), 0);
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n as u64 {
                        break;
                    }
                    let url = format!(
                        "{base}/gateway/counter/action/getCount?{}",
                        gateway_query(&format!("idle-{nonce}-{i}"))
                    );
                    let t = Instant::now();
                    match http_call_named(&client, &url, "{\"args\":[]}").await {
                        Ok(()) => lat.push(t.elapsed().as_micros() as u32),
                        Err(err) => {
                            eprintln!("idle actor: {err}");
                            errors += 1;
                        }
                    }
                }
                (lat, errors)
            })
        })
        .collect();
    let mut row = collect(tasks, format!("memory per idle actor ({n})"), start).await;
    drop(client);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = rss(&opts.pids);
    if let (Some(before), Some(after)) = (before, after) {
        row.bytes_per_item = Some(after.saturating_sub(before) as f64 / row.ops.max(1) as f64);
        row.note = format!(
            "RSS {} → {} MiB; rate = actors created/s ({} stateless calls at a time)",
            before >> 20,
            after >> 20,
            opts.open_conc
        );
    }
    row
}

async fn run(opts: Opts) -> Result<u64, Error> {
    let wanted = |name: &str| {
        opts.only
            .as_ref()
            .is_none_or(|o| o.iter().any(|s| s == name))
    };
    let ws = opts.kind == "actor" || opts.kind == "ws-floor";
    let http = opts.kind == "actor" || opts.kind == "http-floor";
    let mut out = match &opts.out {
        Some(path) => Some(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)?,
        ),
        None => None,
    };
    let mut errors = 0;
    let mut emit = |row: Row| -> Result<(), Error> {
        errors += row.errors;
        let line = row.json(&opts.label).to_string();
        println!("{line}");
        if let Some(out) = out.as_mut() {
            writeln!(out, "{line}")?;
        }
        Ok(())
    };
    // Memory first, on a fresh server (RSS only grows meanwhile): idle actors, then the
    // fan-out's idle connections; then throughput.
    if opts.kind == "actor" && wanted("idle") {
        emit(idle_actors(&opts).await)?;
    }
    if ws && wanted("fanout") {
        for row in fanout(&opts).await {
            emit(row)?;
        }
    }
    if ws && wanted("ws") {
        for &conns in &opts.conns {
            emit(ws_actions(&opts, conns, true).await)?;
            if conns > 1 && conns <= opts.many_max {
                emit(ws_actions(&opts, conns, false).await)?;
            }
        }
    }
    if http && wanted("http") {
        emit(http_actions(&opts).await)?;
    }
    if ws && wanted("handshake") {
        emit(handshakes(&opts).await)?;
    }
    Ok(errors)
}

// ---------------------------------------------------------------------------------------
// Report

fn fmt_rate(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

fn fmt_us(v: f64) -> String {
    if v >= 10_000.0 {
        format!("{:.0} ms", v / 1000.0)
    } else if v >= 1000.0 {
        format!("{:.1} ms", v / 1000.0)
    } else {
        format!("{v:.0} µs")
    }
}

fn fmt_bytes(v: f64) -> String {
    if v >= 10.0 * 1024.0 {
        format!("{:.0} KiB", v / 1024.0)
    } else {
        format!("{v:.0} B")
    }
}

/// A scenario name without its size, so that rows of different sizes (the peer may run
/// fewer connections or actors) share a line; the size goes into the cell.
fn normalize(scenario: &str) -> (String, Option<u64>) {
    let number = |s: &str| -> Option<u64> {
        s.chars()
            .filter(char::is_ascii_digit)
            .collect::<String>()
            .parse()
            .ok()
    };
    if let Some(rest) = scenario.strip_prefix("memory per idle ")
        && let Some((what, size)) = rest.split_once(" (")
    {
        return (format!("memory per idle {what}"), number(size));
    }
    for prefix in ["open + subscribe ", "fan-out to "] {
        if let Some(rest) = scenario.strip_prefix(prefix) {
            return (format!("{prefix}N conns"), number(rest));
        }
    }
    (scenario.to_string(), None)
}

/// Joins result files: rows keyed by scenario, columns by label (`ours`, `echo`, `axum`,
/// `rivetkit`); the floor of a WebSocket row is `echo`, of an HTTP row `axum`.
fn report(files: &[String]) -> Result<(), Error> {
    let mut by_scenario: BTreeMap<String, BTreeMap<String, Value>> = BTreeMap::new();
    let mut order = Vec::new();
    for file in files {
        for line in std::fs::read_to_string(file)?.lines() {
            let Ok(row) = serde_json::from_str::<Value>(line) else {
                continue;
            };
            let (scenario, n) = normalize(row["scenario"].as_str().unwrap_or(""));
            let mut row = row;
            if let Some(n) = n {
                row["n"] = json!(n);
            }
            let label = row["label"].as_str().unwrap_or("").to_string();
            if !order.contains(&scenario) {
                order.push(scenario.clone());
            }
            by_scenario.entry(scenario).or_default().insert(label, row);
        }
    }
    let cell = |row: Option<&Value>| -> String {
        let Some(row) = row else {
            return "—".into();
        };
        let errors = row["errors"].as_u64().unwrap_or(0);
        let err = if errors > 0 {
            format!(" ({errors} failed)")
        } else {
            String::new()
        };
        let n = row["n"]
            .as_u64()
            .map_or(String::new(), |n| format!(" (n = {n})"));
        if let Some(b) = row["bytes_per_item"].as_f64() {
            return format!("{}{n}{err}", fmt_bytes(b));
        }
        // A row that could not set up every connection says so.
        let setup = row["note"]
            .as_str()
            .filter(|note| note.contains("set up in"))
            .map_or(String::new(), |note| format!(" ({note})"));
        if row["ops"].as_u64().unwrap_or(0) == 0 {
            return format!("no result{setup}{err}");
        }
        format!(
            "{}/s · p50 {} · p99 {}{n}{setup}{err}",
            fmt_rate(row["rate"].as_f64().unwrap_or(0.0)),
            fmt_us(row["p50_us"].as_f64().unwrap_or(0.0)),
            fmt_us(row["p99_us"].as_f64().unwrap_or(0.0)),
        )
    };
    // Higher is better for rates; for memory, lower is better: the ratio is always "ours
    // relative to the other", as a percentage of its rate or a multiple of its bytes.
    let ratio = |ours: Option<&Value>, other: Option<&Value>| -> String {
        let (Some(ours), Some(other)) = (ours, other) else {
            return "—".into();
        };
        if let (Some(a), Some(b)) = (
            ours["bytes_per_item"].as_f64(),
            other["bytes_per_item"].as_f64(),
        ) {
            return if b > 0.0 {
                let r = a / b;
                if r < 0.1 {
                    format!("{r:.3}× the memory")
                } else {
                    format!("{r:.2}× the memory")
                }
            } else {
                "—".into()
            };
        }
        let (a, b) = (
            ours["rate"].as_f64().unwrap_or(0.0),
            other["rate"].as_f64().unwrap_or(0.0),
        );
        if b <= 0.0 || a <= 0.0 {
            return "—".into();
        }
        let pct = 100.0 * a / b;
        if pct >= 1000.0 {
            format!("{:.0}×", a / b)
        } else {
            format!("{pct:.0}%")
        }
    };
    println!(
        "| scenario | ours (rivet-actor) | floor | ours ÷ floor | RivetKit 2.3.19 | ours ÷ RivetKit |"
    );
    println!("|---|---|---|---:|---|---:|");
    for scenario in order {
        let cols = &by_scenario[&scenario];
        let ours = cols.get("ours");
        let floor = if scenario.starts_with("http") {
            cols.get("axum")
        } else {
            cols.get("echo")
        };
        let peer = cols.get("rivetkit");
        println!(
            "| {scenario} | {} | {} | {} | {} | {} |",
            cell(ours),
            cell(floor),
            ratio(ours, floor),
            cell(peer),
            ratio(ours, peer)
        );
    }
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("run") => parse(&args[1..]).and_then(|opts| {
            tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?
                .block_on(run(opts))
        }),
        Some("report") => report(&args[1..]).map(|()| 0),
        _ => Err("usage: load run --url URL [--label L] [--kind actor|ws-floor|http-floor] …  |  load report FILE…".into()),
    };
    match result {
        Ok(0) => {}
        Ok(errors) => {
            eprintln!("{errors} requests failed");
            std::process::exit(2);
        }
        Err(err) => {
            eprintln!("load: {err}");
            std::process::exit(1);
        }
    }
}
