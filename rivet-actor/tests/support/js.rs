//! Running the real npm client's tests (`tests/js/`, node's test runner) from Rust tests.
//! Shared by `rivet-actor/tests/js_compat.rs`, `examples/tests/seeds_js.rs` and
//! `examples/tests/web.rs` through `#[path]`. Installs the pinned node modules itself and
//! fails loudly without node/npm.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime};

/// `tests/js/` of the workspace.
pub fn js_dir() -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    workspace.join("tests/js")
}

/// `npm install` in `tests/js/` (see [`install_node_modules_in`]).
pub fn install_node_modules() {
    install_node_modules_in(&js_dir(), &["rivetkit", "typescript"]);
}

/// `npm install` in `dir` (versions pinned by the lock file; `npm ci` rejects the lock's
/// empty-version platform packages) unless every `node_modules/{marker}` is there already,
/// guarded by a lock file so parallel test binaries do not race.
pub fn install_node_modules_in(dir: &Path, markers: &[&str]) {
    for tool in ["node", "npm"] {
        let found = Command::new(tool).arg("--version").output();
        assert!(
            found.is_ok_and(|out| out.status.success()),
            "`{tool}` is required for the JavaScript compatibility tests; install Node.js (>= 20) and npm"
        );
    }
    let _guard = InstallLock::acquire(dir.join(".install.lock"));
    let installed = markers.iter().all(|package| {
        dir.join("node_modules")
            .join(package)
            .join("package.json")
            .exists()
    });
    if installed {
        return;
    }
    let status = Command::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(dir)
        .status()
        .expect("npm could not be run");
    assert!(status.success(), "npm install failed in {}", dir.display());
}

/// Every encoding the JS suites run in: the three the npm client speaks, and `default`, a
/// client built as the seeds build it (`createClient(endpoint)`, no options: BARE).
pub const ENCODINGS: &[&str] = &["json", "cbor", "bare", "default"];

/// The encodings the suites run in through a Rivet Engine: every one the npm client speaks,
/// BARE as the client's default (the way the seeds build it) rather than twice — actors are
/// slower to create through the engine, and the engine passes frames through untouched.
pub const ENGINE_ENCODINGS: &[&str] = &["json", "cbor", "default"];

/// Runs one JS test file against `endpoint` in `encoding`, with extra environment; panics
/// with node's output when a test fails.
pub fn run_js(file: &str, endpoint: &str, encoding: &str, env: &[(&str, &str)]) {
    let mut command = Command::new("node");
    command
        // A test that hangs (a socket left open, an awaited event that never comes) fails
        // after a minute instead of stalling the whole suite.
        .args([
            "--test",
            "--test-reporter=spec",
            "--test-timeout=60000",
            "--test-force-exit",
            file,
        ])
        .current_dir(js_dir())
        .env("RIVET_ENDPOINT", endpoint)
        .env("RIVET_ENCODING", encoding);
    for (name, value) in env {
        command.env(name, value);
    }
    let output = command.output().expect("node could not be run");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{file} ({encoding}) failed:\n{stdout}\n{stderr}"
    );
    println!("{file} ({encoding}):\n{stdout}");
}

/// A lock file held while installing. A lock left by a killed run goes stale after ten
/// minutes; waiting for a live one gives up after fifteen.
struct InstallLock(PathBuf);

impl InstallLock {
    fn acquire(path: PathBuf) -> Self {
        let deadline = Instant::now() + Duration::from_secs(15 * 60);
        loop {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(_) => return Self(path),
                Err(_) => {
                    let stale = std::fs::metadata(&path)
                        .and_then(|m| m.modified())
                        .ok()
                        .and_then(|modified| SystemTime::now().duration_since(modified).ok())
                        .is_some_and(|age| age > Duration::from_secs(10 * 60));
                    if stale {
                        let _ = std::fs::remove_file(&path);
                        continue;
                    }
                    assert!(
                        Instant::now() < deadline,
                        "timed out waiting for {}",
                        path.display()
                    );
                    std::thread::sleep(Duration::from_millis(200));
                }
            }
        }
    }
}

impl Drop for InstallLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
