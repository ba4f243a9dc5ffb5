//! The command line, a row of results, and the server's memory.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub(crate) type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;
pub(crate) type Error = Box<dyn std::error::Error + Send + Sync>;

/// How long one request may take before it counts as failed.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Clone)]
pub(crate) struct Opts {
    pub(crate) url: String,
    pub(crate) label: String,
    pub(crate) kind: String,
    pub(crate) pids: Vec<u32>,
    pub(crate) secs: f64,
    pub(crate) conns: Vec<usize>,
    pub(crate) http_conc: usize,
    /// The HTTP row's actor type, action, JSON body, extra header and how many actors the
    /// workers share (`None`: one each).
    pub(crate) http_actor: String,
    pub(crate) http_action: String,
    pub(crate) http_body: String,
    pub(crate) http_header: Option<(String, String)>,
    pub(crate) http_actors: Option<usize>,
    pub(crate) handshake_conc: usize,
    pub(crate) fanout: usize,
    pub(crate) rounds: usize,
    pub(crate) idle_actors: usize,
    pub(crate) ops: Option<u64>,
    pub(crate) open_conc: usize,
    pub(crate) many_max: usize,
    /// How long a WebSocket row may spend setting up (creating actors, opening connections).
    pub(crate) setup_secs: Option<f64>,
    pub(crate) only: Option<Vec<String>>,
    pub(crate) out: Option<String>,
    /// Distinguishes actor keys between runs against the same server.
    pub(crate) nonce: String,
}

pub(crate) fn parse(args: &[String]) -> Result<Opts, Error> {
    let mut opts = Opts {
        url: String::new(),
        label: "server".into(),
        kind: "actor".into(),
        pids: Vec::new(),
        secs: 3.0,
        conns: vec![1, 64, 1024],
        http_conc: 64,
        http_actor: "counter".into(),
        http_action: "increment".into(),
        http_body: "{\"args\":[1]}".into(),
        http_header: None,
        http_actors: None,
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
            "--http-actor" => opts.http_actor = value()?,
            "--http-action" => opts.http_action = value()?,
            "--http-body" => opts.http_body = value()?,
            "--http-header" => {
                let header = value()?;
                let (name, val) = header
                    .split_once(':')
                    .ok_or("--http-header wants `name: value`")?;
                opts.http_header = Some((name.trim().into(), val.trim().into()));
            }
            "--http-actors" => opts.http_actors = Some(value()?.parse()?),
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
pub(crate) struct Row {
    pub(crate) scenario: String,
    pub(crate) ops: u64,
    pub(crate) errors: u64,
    pub(crate) secs: f64,
    /// Operations per second (for fan-out: deliveries per second of the median round).
    pub(crate) rate: f64,
    pub(crate) p50_us: f64,
    pub(crate) p99_us: f64,
    /// Bytes per item for memory scenarios.
    pub(crate) bytes_per_item: Option<f64>,
    pub(crate) note: String,
}

impl Row {
    pub(crate) fn json(&self, label: &str) -> Value {
        json!({
            "label": label, "scenario": self.scenario, "ops": self.ops, "errors": self.errors,
            "secs": self.secs, "rate": self.rate, "p50_us": self.p50_us, "p99_us": self.p99_us,
            "bytes_per_item": self.bytes_per_item, "note": self.note,
        })
    }
}

pub(crate) fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    f64::from(sorted[idx])
}

pub(crate) fn finish(scenario: String, mut lat: Vec<u32>, errors: u64, secs: f64) -> Row {
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
pub(crate) fn rss(pids: &[u32]) -> Option<u64> {
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
