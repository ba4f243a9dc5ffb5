//! `@rivetkit/react` in a real browser: the React page of `examples/web/` (its own npm
//! package, versions pinned by its lock file) bundled with esbuild, served from 127.0.0.1,
//! and driven in headless Chromium by `examples/web/test.mjs` (playwright-core) against the
//! seeds' `chatRoom`. The page uses the client's default encoding (BARE), crosses origins
//! (page and registry are on different ports: CORS preflights and the WebSocket's `Origin`
//! are checked for real), connects with params, sends a message and renders the
//! `newMessage` event, and renders the `forbidden` refusal of an empty token.
//!
//! `@rivetkit/react`'s newest release is 2.3.11, which pins `rivetkit` 2.3.11; the page's
//! package.json overrides that to 2.3.19, the client this server is built against, and the
//! test checks the override held.
//!
//! Needs node, npm and Chromium (`/usr/bin/chromium`, or `CHROMIUM`); fails loudly without
//! them. Screenshots go to `target/web-test/`.

mod common;
#[path = "../../rivet-actor/tests/support/js.rs"]
mod js;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use rivet_actor_examples::seeds;

/// How long the browser script may run in all: a backstop, as it stops itself after 55 s.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(60);

fn web_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("web")
}

/// The Chromium binary, or a panic saying how to install it.
fn chromium() -> PathBuf {
    let path =
        std::env::var_os("CHROMIUM").map_or_else(|| "/usr/bin/chromium".into(), PathBuf::from);
    let runs = std::process::Command::new(&path)
        .arg("--version")
        .output()
        .is_ok_and(|out| out.status.success());
    assert!(
        runs,
        "Chromium is required for the browser test and was not found at {}: install it \
         (Debian/Ubuntu: `apt-get update && apt-get install -y chromium`) or point CHROMIUM \
         at a Chromium binary",
        path.display()
    );
    path
}

/// `target/web-test/`, beside the test's own temporary directory.
fn screenshot_dir() -> PathBuf {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    tmp.parent().unwrap_or(tmp).join("web-test")
}

/// The version of an installed node module of the page.
fn module_version(name: &str) -> String {
    let path = web_dir()
        .join("node_modules")
        .join(name)
        .join("package.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let manifest: serde_json::Value = serde_json::from_str(&text).unwrap();
    manifest["version"].as_str().unwrap_or_default().to_owned()
}

fn build_page() {
    let status = std::process::Command::new("node")
        .arg("build.mjs")
        .current_dir(web_dir())
        .status()
        .expect("node could not be run");
    assert!(status.success(), "building examples/web failed");
}

/// Serves the files of `dir` (flat: the bundle, its map and index.html) on a free port of
/// 127.0.0.1; returns the origin.
async fn serve_static(dir: PathBuf) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let app = Router::new().fallback(move |uri: Uri| {
        let dir = dir.clone();
        async move { static_file(&dir, uri.path()).await }
    });
    tokio::spawn(async move { axum::serve(listener, app).await });
    origin
}

async fn static_file(dir: &Path, path: &str) -> Response {
    let name = match path.trim_start_matches('/') {
        "" => "index.html",
        name => name,
    };
    // Flat names only, so nothing outside `dir` can be asked for.
    if name.contains(['/', '\\']) || name.starts_with('.') {
        return StatusCode::NOT_FOUND.into_response();
    }
    let content_type = match name.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("map") => "application/json",
        _ => "application/octet-stream",
    };
    match tokio::fs::read(dir.join(name)).await {
        Ok(bytes) => ([(header::CONTENT_TYPE, content_type)], bytes).into_response(),
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn react_page_chats_and_shows_forbidden_in_chromium() {
    let chromium = chromium();
    js::install_node_modules_in(&web_dir(), &["playwright-core"]);
    assert_eq!(
        module_version("rivetkit"),
        "2.3.19",
        "the page must run rivetkit 2.3.19"
    );
    build_page();

    let web_url = serve_static(web_dir().join("dist")).await;
    let mut config = common::config();
    // The page's origin, allowed the way a deployment allows its own site's.
    config.web_origins = vec![web_url.clone()];
    let registry = seeds::registry(config);
    let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();

    let screenshots = screenshot_dir();
    // Only this run's screenshots, so a failure's picture is never an old one.
    let _ = std::fs::remove_dir_all(&screenshots);
    let started = Instant::now();
    let mut browser = tokio::process::Command::new("node");
    browser
        .arg("test.mjs")
        .current_dir(web_dir())
        .env("WEB_URL", &web_url)
        .env("RIVET_ENDPOINT", server.endpoint())
        .env("CHROMIUM", &chromium)
        .env("SCREENSHOT_DIR", &screenshots)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // A browser that outlives the timeout is killed with the test, not left behind.
        .kill_on_drop(true);
    let output = tokio::time::timeout(BROWSER_TIMEOUT, browser.output())
        .await
        .unwrap_or_else(|_| panic!("the browser test did not finish in {BROWSER_TIMEOUT:?}"))
        .expect("node could not be run");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the browser test failed (screenshots in {}):\n{stdout}\n{stderr}",
        screenshots.display()
    );
    println!(
        "browser test passed in {:?}; screenshots in {}:\n{stdout}",
        started.elapsed(),
        screenshots.display()
    );
    server.shutdown().await.unwrap();
}
