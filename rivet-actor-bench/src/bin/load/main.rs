//! The load generator: drives a server over loopback in RivetKit's client protocol v4 (JSON
//! encoding) with raw tokio-tungstenite WebSockets and a reqwest HTTP client — not our typed
//! client — so the same generator measures our server, the transport floors (`--bin floor`)
//! and RivetKit.
//!
//! ```text
//! load run --url http://127.0.0.1:PORT --label ours --kind actor [--pid PID[,PID…]]
//!          [--secs 3] [--conns 1,64,1024] [--http-conc 64] [--handshake-conc 64]
//!          [--fanout 10000] [--rounds 5] [--idle-actors 10000] [--ops N] [--only a,b]
//!          (scenarios: idle, connected (only when named), fanout, ws, http, handshake)
//!          [--open-conc 64] [--many-max N] [--setup-secs N] [--out FILE]
//!          [--http-actor counter] [--http-action increment] [--http-body '{"args":[1]}']
//!          [--http-header 'origin: http://localhost:3000'] [--http-actors N]
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
//! The HTTP row calls `--http-action` of `--http-actor` with `--http-body` (and
//! `--http-header`), each worker on its own actor, or all on `--http-actors N` of them (1: one
//! hot actor, e.g. `--http-actor myActor --http-body '{"args":[]}' --http-header 'origin:
//! http://localhost:3000' --http-actors 1` against the seeds example).
//! `--setup-secs` bounds how long a WebSocket row may spend creating actors and opening
//! connections: the row then measures the connections that did open, and says in its cell how
//! many of how many were set up in how long.

mod memory;
mod opts;
mod report;
mod setup;
mod throughput;
mod wire;

use std::io::Write;

use memory::*;
use opts::*;
use report::*;
use throughput::*;

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
    // Opt-in: RivetKit's rows of earlier runs have no such scenario.
    if opts.kind == "actor"
        && ws
        && opts
            .only
            .as_ref()
            .is_some_and(|o| o.iter().any(|s| s == "connected"))
    {
        emit(idle_connected(&opts).await)?;
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
