//! Tests shared by both backends, SQLite-specific tests (persistence, group commit, durability,
//! damaged files) and an ignored throughput report.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::*;

/// A directory under the system temp dir, unique per test, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let name = format!(
            "rivet-actor-storage-{tag}-{}-{nanos}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let dir = std::env::temp_dir().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }

    fn db(&self) -> PathBuf {
        self.0.join(SqliteStorage::FILE_NAME)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn record(id: &str, name: &str, key: &[&str]) -> ActorRecord {
    ActorRecord {
        id: id.into(),
        name: name.into(),
        key: key.iter().map(|k| k.to_string()).collect(),
        input: None,
        created: false,
        created_at_ms: 1_700_000_000_000,
    }
}

fn state(bytes: &[u8]) -> ActorWrite {
    ActorWrite {
        state: Some(bytes.to_vec()),
        ..Default::default()
    }
}

fn kv(pairs: &[(&[u8], &[u8])]) -> Vec<(Vec<u8>, Vec<u8>)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_vec(), v.to_vec()))
        .collect()
}

mod conformance;
mod merge;
mod range;
mod sqlite;
mod throughput;
mod wake_read;
