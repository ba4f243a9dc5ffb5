//! The seed documents' TypeScript client snippets (`tests/js/seeds.test.mjs`) with the real
//! npm client (`rivetkit` 2.3.19, pinned in `tests/js/package-lock.json`) against the seed
//! registry, in JSON and CBOR. Installs its node modules itself; fails loudly without node
//! and npm.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{JWT_SECRET, start};

fn js_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/js")
}

/// `npm install` (pinned by the lock file) once, guarded by a lock file so parallel test
/// binaries do not race.
fn install_node_modules() {
    let dir = js_dir();
    for tool in ["node", "npm"] {
        let found = Command::new(tool).arg("--version").output();
        assert!(
            found.is_ok_and(|out| out.status.success()),
            "`{tool}` is required for the JavaScript compatibility tests; install Node.js (>= 20) and npm"
        );
    }
    let lock = dir.join(".install.lock");
    let _guard = loop {
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&lock)
        {
            Ok(file) => break LockGuard(lock.clone(), file),
            Err(_) => std::thread::sleep(std::time::Duration::from_millis(200)),
        }
    };
    if dir.join("node_modules/rivetkit/package.json").exists() {
        return;
    }
    let status = Command::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(&dir)
        .status()
        .expect("npm could not be run");
    assert!(status.success(), "npm install failed in {}", dir.display());
}

struct LockGuard(PathBuf, #[allow(dead_code)] std::fs::File);

impl Drop for LockGuard {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Runs one JS test file against `endpoint` with node's test runner; panics with its output.
fn run_js(file: &str, endpoint: &str, encoding: &str) {
    let output = Command::new("node")
        .args(["--test", "--test-reporter=spec", file])
        .current_dir(js_dir())
        .env("RIVET_ENDPOINT", endpoint)
        .env("RIVET_ENCODING", encoding)
        .env("JWT_SECRET", JWT_SECRET)
        .output()
        .expect("node could not be run");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{file} ({encoding}) failed:\n{stdout}\n{stderr}"
    );
    println!("{file} ({encoding}):\n{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn npm_client_runs_the_seed_snippets() {
    install_node_modules();
    let (_registry, server, _client) = start().await;
    let endpoint = server.endpoint();
    for encoding in ["json", "cbor"] {
        let endpoint = endpoint.clone();
        tokio::task::spawn_blocking(move || run_js("seeds.test.mjs", &endpoint, encoding))
            .await
            .unwrap();
    }
    server.shutdown().await.unwrap();
}
