//! `c.db()` through a real server and the typed client, on SQLite: migrations run once,
//! statements commit with the turn (or not at all, on an error or a panic), what is
//! acknowledged survives a restart and a SIGKILL of the server process, and a turn writes
//! only the pages it changed.

use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

#[path = "support/process.rs"]
mod process;

use process::{in_process, spawn_child, temp_dir};
use rivet_actor::prelude::*;
use rivet_actor::storage::SqliteStorage;

#[derive(Default, Serialize, Deserialize)]
pub struct Ledger {
    /// Changed with every entry: the state commits with the rows, or neither does.
    entries: u64,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    id: i64,
    memo: String,
    cents: i64,
}

#[actor]
impl Ledger {
    #[on_wake]
    fn schema(&mut self, c: &mut ActorCtx<'_, Self>) -> Result<(), Error> {
        c.db().migrate(&[
            "CREATE TABLE entries (id INTEGER PRIMARY KEY, memo TEXT NOT NULL)",
            "ALTER TABLE entries ADD COLUMN cents INTEGER NOT NULL DEFAULT 0",
        ])?;
        Ok(())
    }

    #[action]
    fn record(
        &mut self,
        c: &mut ActionCtx<'_, Self>,
        memo: String,
        cents: i64,
    ) -> Result<u64, Error> {
        c.db().execute(
            "INSERT INTO entries (memo, cents) VALUES (?1, ?2)",
            (&memo, cents),
        )?;
        self.entries += 1;
        Ok(self.entries)
    }

    #[action]
    fn record_then_fail(&mut self, c: &mut ActionCtx<'_, Self>, memo: String) -> Result<(), Error> {
        c.db()
            .execute("INSERT INTO entries (memo) VALUES (?1)", [&memo])?;
        c.db().execute("DELETE FROM entries WHERE id = 1", ())?;
        self.entries += 1;
        Err(UserError::new("changed my mind").code("refused").into())
    }

    #[action]
    fn record_then_panic(&mut self, c: &mut ActionCtx<'_, Self>, memo: String) -> u64 {
        c.db()
            .execute("INSERT INTO entries (memo) VALUES (?1)", [&memo])
            .unwrap();
        self.entries += 1;
        panic!("a bug after writing");
    }

    /// Fills the database past a size bound in the middle of the turn (SQLite then ends the
    /// whole transaction), handles the error, writes on, and fails.
    #[action]
    fn overflow_then_fail(&mut self, c: &mut ActionCtx<'_, Self>) -> Result<bool, Error> {
        let db = c.db();
        db.execute_batch("PRAGMA max_page_count = 8")?;
        db.execute("INSERT INTO entries (memo) VALUES ('before')", ())?;
        let full = db.execute(
            "INSERT INTO entries (memo) VALUES (?1)",
            ["x".repeat(100_000)],
        );
        let Err(full) = full else {
            return Ok(false);
        };
        assert_eq!(full.code, "db_full", "{full:?}");
        // Handled: but what ran before it is gone, and nothing more runs in this turn.
        assert!(
            db.execute("INSERT INTO entries (memo) VALUES ('after')", ())
                .is_err()
        );
        self.entries += 1;
        Err(UserError::new("full").code("refused").into())
    }

    /// A statement that ends the turn's transaction.
    #[action]
    fn commit_inside(&mut self, c: &mut ActionCtx<'_, Self>) -> Result<(), Error> {
        let db = c.db();
        db.execute("INSERT INTO entries (memo) VALUES ('sneaky')", ())?;
        db.execute_batch("COMMIT")?;
        db.execute("INSERT INTO entries (memo) VALUES ('after commit')", ())?;
        Ok(())
    }

    #[action]
    fn entries(&self, c: &ActionCtx<'_, Self>) -> Result<Vec<Entry>, Error> {
        Ok(c.db()
            .query("SELECT id, memo, cents FROM entries ORDER BY id", ())?)
    }

    #[action]
    fn count(&self, c: &ActionCtx<'_, Self>) -> Result<(u64, i64), Error> {
        let rows = c
            .db()
            .query_row::<i64, _>("SELECT count(*) FROM entries", ())?;
        Ok((self.entries, rows.unwrap_or(0)))
    }

    #[action]
    fn version(&self, c: &ActionCtx<'_, Self>) -> Result<i64, Error> {
        Ok(c.db()
            .query_row::<i64, _>("PRAGMA user_version", ())?
            .unwrap_or(0))
    }

    #[action]
    fn bad_sql(&self, c: &ActionCtx<'_, Self>) -> Result<(), Error> {
        c.db().execute("INSERT INTO nowhere VALUES (1)", ())?;
        Ok(())
    }
}

fn registry(dir: &Path) -> Registry {
    Registry::builder()
        .data_dir(dir)
        .register::<Ledger>()
        .build()
}

async fn serve(dir: &Path) -> (Registry, rivet_actor::server::Server, Client) {
    let registry = registry(dir);
    let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let client = Client::new(server.endpoint());
    (registry, server, client)
}

#[test]
fn statements_commit_with_the_turn_and_survive_a_restart() {
    let dir = temp_dir("restart");
    in_process(async {
        let (_registry, _server, client) = serve(&dir).await;
        let ledger = client.get_or_create::<Ledger>(["books"]);
        assert_eq!(ledger.version().await.unwrap(), 2, "both migrations ran");
        assert_eq!(ledger.record("rent".into(), -1200).await.unwrap(), 1);
        assert_eq!(ledger.record("pay".into(), 3000).await.unwrap(), 2);

        let err = ledger.record_then_fail("lost".into()).await.unwrap_err();
        assert_eq!(err.code(), Some("refused"));
        let err = ledger.record_then_panic("lost".into()).await.unwrap_err();
        assert_eq!(err.code(), Some("internal_error"));
        // A bad statement is masked for the client (its text is logged).
        let err = ledger.bad_sql().await.unwrap_err();
        assert_eq!(err.code(), Some("internal_error"));
        assert_eq!(ledger.count().await.unwrap(), (2, 2));
    });
    in_process(async {
        let (_registry, _server, client) = serve(&dir).await;
        let ledger = client.get_or_create::<Ledger>(["books"]);
        assert_eq!(ledger.version().await.unwrap(), 2, "no migration ran twice");
        let entries = ledger.entries().await.unwrap();
        let expected = [(1, "rent", -1200), (2, "pay", 3000)].map(|(id, memo, cents)| Entry {
            id,
            memo: memo.into(),
            cents,
        });
        assert_eq!(entries, expected);
    });
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_turn_writes_only_the_pages_it_changed() {
    let dir = temp_dir("pages");
    in_process(async {
        let (registry, _server, client) = serve(&dir).await;
        let ledger = client.get_or_create::<Ledger>(["big"]);
        let memo = "x".repeat(1000);
        for _ in 0..400 {
            ledger.record(memo.clone(), 1).await.unwrap();
        }
        // ~100 pages now; one more entry changes a few of them.
        let storage = registry.storage().clone();
        let record = storage
            .find_by_key("ledger", &["big".into()])
            .await
            .unwrap();
        let id = record.expect("stored").id;
        let pages_before = storage.kv_scan_prefix(&id, b"d/p/").await.unwrap();
        assert!(pages_before.len() > 90, "{} pages", pages_before.len());
        ledger.record("small".into(), 1).await.unwrap();
        let pages_after = storage.kv_scan_prefix(&id, b"d/p/").await.unwrap();
        let changed = pages_after
            .iter()
            .filter(|page| !pages_before.contains(page))
            .count();
        assert!(
            (1..=6).contains(&changed),
            "{changed} of {} pages changed",
            pages_after.len()
        );
    });
    let _ = std::fs::remove_dir_all(&dir);
}

/// Not a test on its own: the server process the SIGKILL test starts and kills. Without the
/// environment variables it returns at once.
#[test]
fn db_child_server() {
    process::serve_child(registry);
}

#[test]
fn acknowledged_rows_survive_sigkill() {
    let dir = temp_dir("sigkill");
    let addr_file = dir.with_extension("addr");
    std::fs::create_dir_all(&dir).unwrap();
    let mut acked: HashSet<String> = HashSet::new();
    let mut maybe: HashSet<String> = HashSet::new();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    for cycle in 0..3 {
        let kill_after = Duration::from_millis(300 + 100 * cycle as u64);
        let written = process::write_until_killed(
            &runtime,
            "db_child_server",
            &dir,
            cycle,
            4,
            kill_after,
            |client, writer, memo| async move {
                let ledger = client.get_or_create::<Ledger>([format!("l{}", writer % 2)]);
                ledger.record(memo, 1).await.is_ok()
            },
        );
        let before = acked.len();
        acked.extend(written.acked);
        maybe.extend(written.maybe);
        assert!(
            acked.len() > before,
            "cycle {cycle}: nothing was acknowledged"
        );
    }
    let (mut child, endpoint) = spawn_child("db_child_server", &dir, &addr_file);
    let stored: Vec<String> = runtime.block_on(async {
        let client = Client::new(endpoint);
        let mut stored = Vec::new();
        for key in ["l0", "l1"] {
            let ledger = client.get::<Ledger>([key]);
            stored.extend(ledger.entries().await.unwrap().into_iter().map(|e| e.memo));
        }
        stored
    });
    child.kill().unwrap();
    child.wait().unwrap();
    let unique: HashSet<&String> = stored.iter().collect();
    assert_eq!(unique.len(), stored.len(), "a row was applied twice");
    let lost: Vec<_> = acked.iter().filter(|m| !unique.contains(m)).collect();
    assert!(
        lost.is_empty(),
        "acknowledged rows lost after SIGKILL: {lost:?}"
    );
    let unknown: Vec<_> = unique
        .iter()
        .filter(|m| !acked.contains(**m) && !maybe.contains(**m))
        .collect();
    assert!(unknown.is_empty(), "rows nobody wrote: {unknown:?}");
    // The storage is closed with the child; the files are consistent to open.
    SqliteStorage::open(&dir).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_file(&addr_file);
}

#[test]
fn a_turn_whose_transaction_sqlite_ended_leaves_nothing() {
    let dir = temp_dir("ended");
    in_process(async {
        let (_registry, _server, client) = serve(&dir).await;
        let ledger = client.get_or_create::<Ledger>(["full"]);
        assert_eq!(ledger.record("kept".into(), 1).await.unwrap(), 1);
        let err = ledger.overflow_then_fail().await.unwrap_err();
        assert_eq!(err.code(), Some("refused"), "{err:?}");
        assert!(ledger.commit_inside().await.is_err());
        // Neither turn left a row, in memory or (once a later turn commits) in storage.
        assert_eq!(ledger.count().await.unwrap(), (1, 1));
        assert_eq!(ledger.record("next".into(), 2).await.unwrap(), 2);
    });
    in_process(async {
        let (_registry, _server, client) = serve(&dir).await;
        let ledger = client.get_or_create::<Ledger>(["full"]);
        assert_eq!(ledger.count().await.unwrap(), (2, 2));
    });
    let _ = std::fs::remove_dir_all(&dir);
}
