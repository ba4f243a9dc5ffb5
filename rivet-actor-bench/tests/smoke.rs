//! A short run of the load generator against our server and both transport floors, so the
//! benchmark cannot rot: a few hundred requests of every scenario, asserting only that all of
//! them succeeded. Nothing here is timed.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// A server process, killed on drop.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(bin: &str, args: &[&str]) -> Server {
        let mut child = Command::new(bin)
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .expect("start server");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .expect("read address");
        let url = line
            .trim()
            .strip_prefix("listening ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_string();
        Server { child, url }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn load(server: &Server, label: &str, kind: &str) {
    let pid = server.child.id().to_string();
    let output = Command::new(env!("CARGO_BIN_EXE_load"))
        .args([
            "run",
            "--url",
            &server.url,
            "--label",
            label,
            "--kind",
            kind,
        ])
        .args([
            "--pid", &pid, "--secs", "2", "--ops", "200", "--conns", "1,8",
        ])
        .args([
            "--http-conc",
            "8",
            "--handshake-conc",
            "8",
            "--fanout",
            "50",
        ])
        .args(["--rounds", "2", "--idle-actors", "100"])
        .output()
        .expect("run load");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{label}: {}\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let rows: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON row"))
        .collect();
    assert!(!rows.is_empty(), "{label}: no rows");
    for row in &rows {
        assert_eq!(row["errors"], 0, "{label}: {row}");
        assert!(row["ops"].as_u64().unwrap() > 0, "{label}: {row}");
    }
}

#[test]
fn generator_against_our_server_and_the_floors() {
    let ours = Server::start(env!("CARGO_BIN_EXE_server"), &["127.0.0.1:0"]);
    load(&ours, "ours", "actor");
    let echo = Server::start(env!("CARGO_BIN_EXE_floor"), &["ws", "127.0.0.1:0"]);
    load(&echo, "echo", "ws-floor");
    let axum = Server::start(env!("CARGO_BIN_EXE_floor"), &["http", "127.0.0.1:0"]);
    load(&axum, "axum", "http-floor");
}

/// A row whose setup is cut off by `--setup-secs` measures what opened and says how much
/// that was, in its JSON and in the report's cell.
#[test]
fn a_bounded_setup_is_reported() {
    let ours = Server::start(env!("CARGO_BIN_EXE_server"), &["127.0.0.1:0"]);
    let out = std::env::temp_dir().join(format!("rivet-bench-setup-{}.jsonl", std::process::id()));
    let _ = std::fs::remove_file(&out);
    let output = Command::new(env!("CARGO_BIN_EXE_load"))
        .args([
            "run", "--url", &ours.url, "--label", "ours", "--kind", "actor",
        ])
        .args([
            "--only",
            "ws",
            "--conns",
            "8",
            "--secs",
            "1",
            "--setup-secs",
            "0",
        ])
        .args(["--out", out.to_str().unwrap()])
        .output()
        .expect("run load");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let rows: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON row"))
        .collect();
    assert_eq!(rows.len(), 2, "{stdout}");
    for row in &rows {
        assert_eq!(row["note"], "0 of 8 conns set up in 0 s", "{row}");
    }
    let report = Command::new(env!("CARGO_BIN_EXE_load"))
        .args(["report", out.to_str().unwrap()])
        .output()
        .expect("run report");
    let table = String::from_utf8_lossy(&report.stdout);
    assert!(table.contains("0 of 8 conns set up"), "{table}");
    let _ = std::fs::remove_file(&out);
}
