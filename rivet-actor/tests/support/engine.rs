//! A real Rivet Engine 2.3.19 (`rivet-engine`, shipped in npm `@rivetkit/engine-cli`) for
//! tests of engine mode: one process per [`Engine`], on free loopback ports and its own data
//! directory, killed on drop. Included through `#[path]` like `js.rs`.
//!
//! The binary comes from `tests/js/node_modules`: call `js::install_node_modules()` (from
//! `support/js.rs`) before [`Engine::start`]; this module installs nothing itself.
//!
//! Engine operations are slow on small machines (actor creation has been seen answering 504
//! `route_resolve_query_timeout`): wrap every first request in [`retry`], never a fixed sleep.
#![allow(dead_code)]

use std::future::Future;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

/// The engine version the npm client 2.3.19 ships and our engine mode targets.
pub const ENGINE_VERSION: &str = "2.3.19";

/// How long the engine may take to answer `/health`, a pool upsert or an actor creation.
const DEADLINE: Duration = Duration::from_secs(30);

/// Path of the engine binary inside `tests/js/node_modules`.
pub fn engine_binary() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/js/node_modules/@rivetkit/engine-cli-linux-x64-musl/rivet-engine")
}

/// `tests/js/` of the workspace (where `engine_actor.mjs` lives).
fn js_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/js")
}

/// Holds the test's turn: the engine tests of one test binary run one at a time. Two
/// engines at once, each with its hosts and npm clients, on a two-core machine stalled new
/// actors past the engine's 15 s route timeout in most runs; one at a time, none did.
pub async fn serial() -> tokio::sync::MutexGuard<'static, ()> {
    static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    TURN.lock().await
}

/// Retries `f` with a backoff growing from 100 ms to 1 s until it returns `Ok` or `deadline`
/// has passed, then panics naming `what` and the last error.
pub async fn retry<T, E, F, Fut>(what: &str, deadline: Duration, mut f: F) -> T
where
    E: std::fmt::Debug,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let end = Instant::now() + deadline;
    let mut backoff = Duration::from_millis(100);
    loop {
        match f().await {
            Ok(value) => return value,
            Err(error) if Instant::now() >= end => {
                panic!("{what}: still failing after {deadline:?}; last error: {error:?}")
            }
            Err(_) => {
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(1));
            }
        }
    }
}

/// Sends `request`, failing on a transport error or a non-2xx status (with the body, which
/// carries the engine's `{group, code, message}` error), and parses the JSON body.
async fn send_json(request: reqwest::RequestBuilder) -> Result<Value, String> {
    let response = request.send().await.map_err(|e| e.to_string())?;
    let status = response.status();
    let body = response.text().await.map_err(|e| e.to_string())?;
    if !status.is_success() {
        return Err(format!("{status}: {body}"));
    }
    serde_json::from_str(&body).map_err(|e| format!("{e}: {body}"))
}

/// A running `rivet-engine start`. Its log (stdout and stderr) is `engine.log` in the data
/// directory: the engine logs every request, far too much to inherit.
pub struct Engine {
    child: Option<Child>,
    data_dir: PathBuf,
    /// Set by [`Engine::start`]: the data directory is ours and is removed on drop.
    owns_data_dir: bool,
    guard_port: u16,
    http: reqwest::Client,
}

impl Engine {
    /// Starts an engine on a fresh temporary data directory, removed when this value drops.
    /// To restart on the same data, pass [`Engine::data_dir`] to [`Engine::start_in`] and keep
    /// this value alive until the restarted one is dropped (locals drop in reverse order).
    pub async fn start() -> Engine {
        let mut engine = Self::start_in(fresh_data_dir()).await;
        engine.owns_data_dir = true;
        engine
    }

    /// Starts an engine on `dir` (created if missing; kept on drop), e.g. the directory of
    /// a stopped engine, whose namespaces, pools and actors it then finds again.
    pub async fn start_in(dir: PathBuf) -> Engine {
        let binary = engine_binary();
        assert!(
            binary.exists(),
            "{} is missing: call js::install_node_modules() before Engine::start",
            binary.display()
        );
        std::fs::create_dir_all(&dir).expect("create the engine data directory");
        let http = reqwest::Client::new();
        // Ports are picked by binding port 0 and released before the engine binds them, so
        // another process may take one in between. The engine does not exit then: it logs
        // "Address in use" and retries the service every second, and `/health` on a guard port
        // taken by another engine would even answer for that one. So an attempt counts only
        // once our own log says our guard listens, and one that logs the clash starts over on
        // new ports.
        for attempt in 1..=3 {
            let [guard, api_peer, metrics] = free_ports();
            let log_start = std::fs::metadata(dir.join("engine.log")).map_or(0, |m| m.len());
            let child = spawn_engine(&binary, &dir, guard, api_peer, metrics);
            let mut engine = Engine {
                child: Some(child),
                data_dir: dir.clone(),
                owns_data_dir: false,
                guard_port: guard,
                http: http.clone(),
            };
            match engine.wait_healthy(log_start).await {
                Ok(()) => return engine,
                Err(Unhealthy::PortTaken) if attempt < 3 => engine.kill(),
                Err(why) => {
                    engine.kill();
                    panic!(
                        "rivet-engine did not become healthy on port {guard} ({why:?}); \
                         log tail:\n{}",
                        engine.log_tail(40)
                    );
                }
            }
        }
        unreachable!("the last attempt panics or returns")
    }

    /// Polls `GET /health` until it answers 200 and the log written since byte `log_start`
    /// shows our guard listening.
    async fn wait_healthy(&mut self, log_start: u64) -> Result<(), Unhealthy> {
        let listening = format!("HTTP server listening on 127.0.0.1:{}", self.guard_port);
        let end = Instant::now() + DEADLINE;
        while Instant::now() < end {
            if let Some(child) = self.child.as_mut()
                && child.try_wait().ok().flatten().is_some()
            {
                return Err(Unhealthy::Exited);
            }
            let log = std::fs::read(self.data_dir.join("engine.log")).unwrap_or_default();
            let log = String::from_utf8_lossy(log.get(log_start as usize..).unwrap_or_default());
            if log.contains("Address in use") {
                return Err(Unhealthy::PortTaken);
            }
            let health = self.http.get(format!("{}/health", self.endpoint()));
            if log.contains(&listening)
                && send_json(health.timeout(Duration::from_secs(2)))
                    .await
                    .is_ok()
            {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(Unhealthy::Deadline)
    }

    /// `http://127.0.0.1:{guard port}`: the public API, the gateway and the envoy endpoint.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.guard_port)
    }

    /// The engine's data directory (database in `db/`, log in `engine.log`).
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The last `lines` lines of the engine's log, for failure messages.
    pub fn log_tail(&self, lines: usize) -> String {
        let log = std::fs::read_to_string(self.data_dir.join("engine.log")).unwrap_or_default();
        let all: Vec<&str> = log.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// `GET {endpoint}{path}` as JSON, failing on a non-2xx status.
    pub async fn get(&self, path: &str) -> Result<Value, String> {
        send_json(self.http.get(format!("{}{path}", self.endpoint()))).await
    }

    /// `GET /health`: `{"runtime":"engine","status":"ok","version":"2.3.19"}`.
    pub async fn health(&self) -> Value {
        retry("GET /health", DEADLINE, || self.get("/health")).await
    }

    /// Creates or updates the pool (runner config) `pool` in namespace `default` for envoys
    /// that connect themselves (`normal`, not serverless).
    pub async fn upsert_pool(&self, pool: &str) {
        let url = format!(
            "{}/runner-configs/{pool}?namespace=default",
            self.endpoint()
        );
        let body = json!({"datacenters": {"default": {"normal": {}}}});
        retry(&format!("upsert pool {pool}"), DEADLINE, || {
            send_json(self.http.put(&url).json(&body))
        })
        .await;
    }

    /// The pools of namespace `default`, by name (`GET /runner-configs`).
    pub async fn pools(&self) -> Vec<String> {
        let list = retry("list pools", DEADLINE, || {
            self.get("/runner-configs?namespace=default")
        })
        .await;
        let configs = list["runner_configs"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        configs.keys().cloned().collect()
    }

    /// Creates actor `name` with `key` on `pool` (crash policy `sleep`, as the npm client's
    /// getOrCreate) and returns its id. Connect the pool's envoys first: the engine records
    /// the pool's protocol version on first connect.
    pub async fn create_actor(&self, name: &str, key: &str, pool: &str) -> String {
        let url = format!("{}/actors?namespace=default", self.endpoint());
        let body = json!({
            "name": name,
            "key": key,
            "runner_name_selector": pool,
            "crash_policy": "sleep",
        });
        let created = retry(&format!("create actor {name}/{key}"), DEADLINE, || {
            send_json(self.http.post(&url).json(&body))
        })
        .await;
        created["actor"]["actor_id"]
            .as_str()
            .unwrap_or_else(|| panic!("no actor id in {created}"))
            .to_owned()
    }

    /// Ids of the actors named `name` in namespace `default` (the engine lists by name
    /// without a key; first page only, plenty for tests).
    pub async fn actor_ids(&self, name: &str) -> Vec<String> {
        let path = format!("/actors?namespace=default&name={name}");
        let list = retry(&format!("list actors {name}"), DEADLINE, || self.get(&path)).await;
        list["actors"]
            .as_array()
            .map(|actors| {
                actors
                    .iter()
                    .filter_map(|actor| actor["actor_id"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// SIGKILL and reap: a crash. Idempotent.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM, then up to 10 s for a graceful exit (about 2 s seen), then SIGKILL.
    pub async fn stop(&mut self) {
        let Some(child) = self.child.as_mut() else {
            return;
        };
        // std has no SIGTERM and the crates here have no signal API: `kill` it is.
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let end = Instant::now() + Duration::from_secs(10);
        while Instant::now() < end {
            if child.try_wait().ok().flatten().is_some() {
                self.child = None;
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.kill();
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.kill();
        if self.owns_data_dir {
            let _ = std::fs::remove_dir_all(&self.data_dir);
        }
    }
}

/// Why a started engine did not become healthy.
#[derive(Debug)]
enum Unhealthy {
    /// One of its ports was taken after we picked it.
    PortTaken,
    /// The process exited.
    Exited,
    /// No healthy answer within [`DEADLINE`].
    Deadline,
}

/// Three distinct free loopback ports (guard, api-peer, metrics): every port the engine
/// binds (checked with `ss -ltnp`), so engines of parallel test binaries never clash.
fn free_ports() -> [u16; 3] {
    // Held together so the three differ.
    let listeners: Vec<TcpListener> = (0..3)
        .map(|_| TcpListener::bind("127.0.0.1:0").expect("bind a free loopback port"))
        .collect();
    let port = |i: usize| listeners[i].local_addr().unwrap().port();
    [port(0), port(1), port(2)]
}

fn spawn_engine(binary: &Path, dir: &Path, guard: u16, api_peer: u16, metrics: u16) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("engine.log"))
        .expect("open the engine log");
    Command::new(binary)
        .arg("start")
        .env("RIVET__FILE_SYSTEM__PATH", dir.join("db"))
        .env("RIVET__GUARD__HOST", "127.0.0.1")
        .env("RIVET__GUARD__PORT", guard.to_string())
        .env("RIVET__API_PEER__HOST", "127.0.0.1")
        .env("RIVET__API_PEER__PORT", api_peer.to_string())
        .env("RIVET__METRICS__HOST", "127.0.0.1")
        .env("RIVET__METRICS__PORT", metrics.to_string())
        .env("RIVET__TELEMETRY__ENABLED", "false")
        // A lost envoy's actors move after 7 s instead of the default, so failover tests
        // stay short. An envoy stays eligible for placement 15 s after its last ping: long
        // enough that pings delayed on a loaded two-core machine do not hold new actors
        // back, short enough that after an engine restart the dead hosts it remembers (no
        // socket closes for them) stop taking actors well within a test's deadline (a
        // minute made restarted actors wait on a dead host).
        .env("RIVET__PEGBOARD__ENVOY_LOST_THRESHOLD", "7000")
        .env("RIVET__PEGBOARD__ENVOY_ELIGIBLE_THRESHOLD", "15000")
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("clone the log handle"))
        .stderr(log)
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {}: {e}", binary.display()))
}

/// A directory under the system temp dir, unique across processes and within this one.
fn fresh_data_dir() -> PathBuf {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    std::env::temp_dir().join(format!(
        "rivet-engine-test-{}-{nanos}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ))
}

/// The reference host: `node tests/js/engine_actor.mjs` (RivetKit 2.3.19 hosting `jsCounter`)
/// connected to an [`Engine`] as an envoy of one pool. Killed on drop.
pub struct JsHost {
    child: Option<Child>,
    log: PathBuf,
}

impl JsHost {
    /// Spawns the host for `pool` (upsert the pool first) and waits up to 30 s for its
    /// `READY` line, i.e. until the engine has registered the envoy. Its output goes to
    /// `js-host-{pool}.log` in the engine's data directory.
    pub async fn start(engine: &Engine, pool: &str) -> JsHost {
        let log = engine.data_dir().join(format!("js-host-{pool}.log"));
        let out = std::fs::File::create(&log).expect("create the host log");
        let child = Command::new("node")
            .arg("engine_actor.mjs")
            .current_dir(js_dir())
            .env("RIVET_ENGINE_ENDPOINT", engine.endpoint())
            .env("RIVET_ENGINE_NAMESPACE", "default")
            .env("RIVET_ENGINE_POOL", pool)
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("clone the log handle"))
            .stderr(out)
            .spawn()
            .expect("node could not be run");
        let mut host = JsHost {
            child: Some(child),
            log,
        };
        let end = Instant::now() + DEADLINE;
        loop {
            let output = host.output();
            if output.lines().any(|line| line == "READY") {
                return host;
            }
            let exited = host
                .child
                .as_mut()
                .is_some_and(|child| child.try_wait().ok().flatten().is_some());
            if exited || Instant::now() >= end {
                host.kill();
                panic!("engine_actor.mjs did not print READY (exited: {exited}):\n{output}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Everything the host printed so far.
    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGKILL and reap. Idempotent.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for JsHost {
    fn drop(&mut self) {
        self.kill();
    }
}
