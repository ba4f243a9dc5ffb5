//! Fan-out latency and memory scenarios: subscribed connections, idle actors, idle actors
//! each with an open connection.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::opts::*;
use crate::setup::*;
use crate::wire::*;
use futures_util::StreamExt;
use serde_json::json;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

/// `n` connections subscribed to one chat room's `newMessage`; another connection sends a
/// message; the time until the last subscriber has it, per round. Also the server's RSS
/// growth per open, subscribed, idle connection.
pub(crate) async fn fanout(opts: &Opts) -> Vec<Row> {
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

pub(crate) async fn read_events(mut ws: Ws, tx: mpsc::UnboundedSender<(u64, Instant)>) {
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
pub(crate) async fn idle_actors(opts: &Opts) -> Row {
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

/// `n` actors, each with one WebSocket that made one call and then stays open and quiet
/// (opened `--open-conc` at a time); the server's RSS growth per actor with its connection.
/// Run only when asked for (`--only connected`).
pub(crate) async fn idle_connected(opts: &Opts) -> Row {
    let n = opts.idle_actors;
    let before = rss(&opts.pids);
    let next = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let tasks: Vec<_> = (0..opts.open_conc)
        .map(|_| {
            let (next, url, nonce) = (next.clone(), opts.url.clone(), opts.nonce.clone());
            tokio::spawn(async move {
                let (mut lat, mut errors, mut open) = (Vec::new(), 0, Vec::new());
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n as u64 {
                        break;
                    }
                    let t = Instant::now();
                    let key = format!("connected-{nonce}-{i}");
                    let opened = async {
                        let mut ws = connect(&url, "counter", &key, None).await?;
                        call(&mut ws, 1, "getCount", &json!([])).await?;
                        Ok::<_, Error>(ws)
                    };
                    match opened.await {
                        Ok(ws) => {
                            lat.push(t.elapsed().as_micros() as u32);
                            open.push(ws);
                        }
                        Err(err) => {
                            eprintln!("connected actor: {err}");
                            errors += 1;
                        }
                    }
                }
                (lat, errors, open)
            })
        })
        .collect();
    let (mut lat, mut errors, mut open) = (Vec::new(), 0, Vec::new());
    for task in tasks {
        match task.await {
            Ok((l, e, o)) => {
                lat.extend(l);
                errors += e;
                open.extend(o);
            }
            Err(_) => errors += 1,
        }
    }
    let secs = start.elapsed().as_secs_f64();
    // Time for the quiet actors to park (the server's park delay is well under this).
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = rss(&opts.pids);
    let mut row = finish(
        format!("memory per idle connected actor ({n})"),
        lat,
        errors,
        secs,
    );
    if let (Some(before), Some(after)) = (before, after) {
        row.bytes_per_item = Some(after.saturating_sub(before) as f64 / open.len().max(1) as f64);
        row.note = format!(
            "RSS {} → {} MiB; actor + its open WebSocket; rate = connected actors/s",
            before >> 20,
            after >> 20,
        );
    }
    for mut ws in open {
        let _ = ws.close(None).await;
    }
    row
}
