//! What `/metrics` reports, in Prometheus' text format: open connections, awake actors,
//! actions by actor type and outcome, commit latency, and fsyncs per commit.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::error::ActorError;

/// Upper bounds (seconds) of the commit latency histogram's buckets.
const COMMIT_BUCKETS: [f64; 10] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
];

/// A registry's counters, shared by its hosts and its server.
#[derive(Default, Debug)]
pub struct Metrics {
    connections: AtomicI64,
    /// Each actor type's counters, taken once by its host: a turn counts its action with one
    /// atomic add, not a lock of a map shared by every actor.
    actions: Mutex<BTreeMap<&'static str, Arc<ActionCounts>>>,
    /// Commits by the first bucket they fall in (summed into Prometheus' cumulative
    /// buckets when rendered).
    commit_buckets: [AtomicU64; COMMIT_BUCKETS.len()],
    commit_count: AtomicU64,
    commit_micros: AtomicU64,
}

/// What can become of an action, as the metrics name it (in the order they are listed).
const OUTCOMES: [&str; 6] = [
    "internal_error",
    "ok",
    "other_error",
    "refused",
    "timed_out",
    "user_error",
];

/// The index in [`OUTCOMES`] of what became of an action.
fn outcome(result: Result<(), &ActorError>) -> usize {
    match result {
        Ok(()) => 1,
        Err(err) if err.group == "user" => 5,
        Err(err) if err.group == "auth" => 3,
        // A write of unknown outcome is a storage fault, counted as it was before it had
        // a code of its own.
        Err(err) if err.is_internal() || err.code == "write_outcome_unknown" => 0,
        Err(err) if err.code == "action_timed_out" => 4,
        Err(_) => 2,
    }
}

/// One actor type's actions, by outcome.
#[derive(Default, Debug)]
pub(crate) struct ActionCounts([AtomicU64; OUTCOMES.len()]);

impl ActionCounts {
    /// One action ended with `result`.
    pub(crate) fn count(&self, result: Result<(), &ActorError>) {
        self.0[outcome(result)].fetch_add(1, Ordering::Relaxed);
    }
}

impl Metrics {
    /// A connection (WebSocket session or raw socket) opened: the returned guard counts it
    /// until dropped.
    pub(crate) fn connection(&self) -> ConnectionGuard<'_> {
        self.connections.fetch_add(1, Ordering::Relaxed);
        ConnectionGuard(self)
    }

    /// The action counters of actor type `actor` (made on first use, shared after).
    pub(crate) fn actions_of(&self, actor: &'static str) -> Arc<ActionCounts> {
        let mut actions = self.actions.lock().unwrap_or_else(|p| p.into_inner());
        actions.entry(actor).or_default().clone()
    }

    /// One turn's commit took `took`.
    pub(crate) fn commit(&self, took: Duration) {
        let seconds = took.as_secs_f64();
        if let Some(bucket) = COMMIT_BUCKETS.iter().position(|&bound| seconds <= bound) {
            self.commit_buckets[bucket].fetch_add(1, Ordering::Relaxed);
        }
        self.commit_count.fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        self.commit_micros.fetch_add(micros, Ordering::Relaxed);
    }

    /// The Prometheus text exposition, with the awake actors by type and the storage's
    /// counters read by the caller.
    pub(crate) fn render(
        &self,
        awake: &[(&'static str, usize, usize)],
        storage: crate::storage::StorageStats,
    ) -> String {
        let mut out = String::new();
        let metric = |out: &mut String, name: &str, kind: &str, help: &str| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        };
        metric(
            &mut out,
            "rivet_connections",
            "gauge",
            "Open WebSocket connections (protocol and raw).",
        );
        let _ = writeln!(
            out,
            "rivet_connections {}",
            self.connections.load(Ordering::Relaxed)
        );
        metric(
            &mut out,
            "rivet_actors_awake",
            "gauge",
            "Actor instances in memory, by type.",
        );
        for (actor, count, _) in awake {
            let _ = writeln!(out, "rivet_actors_awake{{actor=\"{actor}\"}} {count}");
        }
        metric(
            &mut out,
            "rivet_actors_parked",
            "gauge",
            "Of the actor instances in memory, those parked (quiet: no task), by type.",
        );
        for (actor, _, parked) in awake {
            let _ = writeln!(out, "rivet_actors_parked{{actor=\"{actor}\"}} {parked}");
        }
        metric(
            &mut out,
            "rivet_actions_total",
            "counter",
            "Actions run, by actor type and outcome.",
        );
        let actions = self.actions.lock().unwrap_or_else(|p| p.into_inner());
        for (actor, counts) in actions.iter() {
            for (outcome, count) in OUTCOMES.iter().zip(&counts.0) {
                let count = count.load(Ordering::Relaxed);
                if count > 0 {
                    let _ = writeln!(
                        out,
                        "rivet_actions_total{{actor=\"{actor}\",outcome=\"{outcome}\"}} {count}"
                    );
                }
            }
        }
        drop(actions);
        metric(
            &mut out,
            "rivet_commit_seconds",
            "histogram",
            "Time to make a turn's writes durable.",
        );
        let mut below = 0;
        for (bucket, bound) in self.commit_buckets.iter().zip(COMMIT_BUCKETS) {
            below += bucket.load(Ordering::Relaxed);
            let _ = writeln!(out, "rivet_commit_seconds_bucket{{le=\"{bound}\"}} {below}");
        }
        let count = self.commit_count.load(Ordering::Relaxed);
        let seconds = self.commit_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "rivet_commit_seconds_bucket{{le=\"+Inf\"}} {count}");
        let _ = writeln!(out, "rivet_commit_seconds_sum {seconds}");
        let _ = writeln!(out, "rivet_commit_seconds_count {count}");
        metric(
            &mut out,
            "rivet_storage_commits_total",
            "counter",
            "Writes the storage applied.",
        );
        let _ = writeln!(out, "rivet_storage_commits_total {}", storage.commits);
        metric(
            &mut out,
            "rivet_storage_syncs_total",
            "counter",
            "Storage transactions that fsynced.",
        );
        let _ = writeln!(out, "rivet_storage_syncs_total {}", storage.syncs);
        metric(
            &mut out,
            "rivet_storage_syncs_per_commit",
            "gauge",
            "Fsyncs per write so far (group commit makes it fall under load).",
        );
        let per_commit = if storage.commits == 0 {
            0.0
        } else {
            storage.syncs as f64 / storage.commits as f64
        };
        let _ = writeln!(out, "rivet_storage_syncs_per_commit {per_commit}");
        out
    }
}

/// Counts one open connection until dropped.
pub(crate) struct ConnectionGuard<'a>(&'a Metrics);

impl Drop for ConnectionGuard<'_> {
    fn drop(&mut self) {
        self.0.connections.fetch_sub(1, Ordering::Relaxed);
    }
}
