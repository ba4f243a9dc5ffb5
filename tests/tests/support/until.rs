//! Waiting for something the test cannot be told about (an actor parking, sleeping, a
//! hook having run), shared by the test files that poll.

use std::time::Duration;

/// Polls `done` every 10 ms until it holds; fails the test with `what` after 10 s.
pub async fn until(what: &str, done: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "never happened: {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
