//! Throughput scenarios: WebSocket and HTTP actions, connection handshakes.

use std::time::{Duration, Instant};

use crate::opts::*;
use crate::setup::*;
use crate::wire::*;
use futures_util::StreamExt;
use serde_json::json;

/// `conns` WebSocket connections, each doing one `increment(1)` round trip at a time, all on
/// one actor or each on its own.
pub(crate) async fn ws_actions(opts: &Opts, conns: usize, one_actor: bool) -> Row {
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

/// `conc` workers each sending a stateless action over HTTP (by default `increment(1)` to
/// a counter of their own; see `--http-*`).
pub(crate) async fn http_actions(opts: &Opts) -> Row {
    let conc = opts.http_conc;
    let client = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(conc)
        .tcp_nodelay(true)
        .timeout(TIMEOUT)
        .build()
        .expect("http client");
    let actors = opts.http_actors.unwrap_or(conc).max(1);
    let urls: Vec<String> = (0..conc)
        .map(|i| {
            format!(
                "{}/gateway/{}/action/{}?{}",
                opts.url,
                opts.http_actor,
                opts.http_action,
                gateway_query(&format!("http-{}-{}", opts.nonce, i % actors))
            )
        })
        .collect();
    let call = {
        let (body, header) = (opts.http_body.clone(), opts.http_header.clone());
        move |client: reqwest::Client, url: String| {
            let (body, header) = (body.clone(), header.clone());
            async move { http_call_with(&client, &url, &body, header.as_ref()).await }
        }
    };
    let mut warm_errors = 0;
    // Warm: every actor exists (one worker per actor, so no key is created twice at once).
    for url in urls.iter().take(actors) {
        if call(client.clone(), url.clone()).await.is_err() {
            warm_errors += 1;
        }
    }
    let window = Window::new(opts);
    let start = Instant::now();
    let tasks = urls
        .into_iter()
        .map(|url| {
            let (client, window, call) = (client.clone(), window.clone(), call.clone());
            tokio::spawn(async move {
                let (mut lat, mut errors) = (Vec::new(), 0);
                while window.next() {
                    let t = Instant::now();
                    match call(client.clone(), url.clone()).await {
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
    let scenario = match opts.http_actors {
        None => format!("http actions, {conc} concurrent"),
        Some(n) => format!(
            "http {}.{}, {conc} concurrent, {n} actor{}",
            opts.http_actor,
            opts.http_action,
            if n == 1 { "" } else { "s" }
        ),
    };
    let mut row = collect(tasks, scenario, start).await;
    row.errors += warm_errors;
    row
}

/// `conc` workers each opening a chat-room connection (params → `before_connect` →
/// `conn_state` → `Init`) and closing it.
pub(crate) async fn handshakes(opts: &Opts) -> Row {
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
