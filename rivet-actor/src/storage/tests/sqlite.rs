use super::*;

// ---------------------------------------------------------------------------------------------
// SQLite: persistence, group commit, durability, damaged files.
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_data_survives_reopen() {
    let dir = TempDir::new("reopen");
    let nested = dir.path().join("does/not/exist/yet");
    {
        let s = SqliteStorage::open(&nested).unwrap();
        let mut rec = record("p1", "persist", &["a,b"]);
        rec.input = Some(b"input".to_vec());
        s.insert_actor(rec).await.unwrap();
        s.insert_actor(record("p2", "persist", &["a", "b"]))
            .await
            .unwrap();
        s.insert_actor(record("p3", "persist", &[])).await.unwrap();
        let write = ActorWrite {
            state: Some(b"state-1".to_vec()),
            mark_created: true,
            kv_put: kv(&[(b"q/1", b"one"), (b"q/2", b"two")]),
            ..Default::default()
        };
        s.commit("p1", write).await.unwrap();
        s.commit("p2", state(b"state-2")).await.unwrap();
        assert!(s.destroy("p3").await.unwrap());
    }
    assert!(nested.join(SqliteStorage::FILE_NAME).is_file());

    let s = SqliteStorage::open(&nested).unwrap();
    assert_eq!(s.stats(), StorageStats::default());
    let p1 = s
        .find_by_key("persist", &["a,b".into()])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(p1.id, "p1");
    assert!(p1.created);
    assert_eq!(p1.input, Some(b"input".to_vec()));
    assert_eq!(p1.created_at_ms, 1_700_000_000_000);
    let p2 = s
        .find_by_key("persist", &["a".into(), "b".into()])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(p2.id, "p2");
    assert!(!p2.created);
    assert_eq!(s.find_by_id("p3").await.unwrap(), None);
    assert_eq!(s.load_state("p1").await.unwrap(), Some(b"state-1".to_vec()));
    assert_eq!(s.load_state("p2").await.unwrap(), Some(b"state-2".to_vec()));
    assert_eq!(
        s.kv_scan_prefix("p1", b"q/").await.unwrap(),
        kv(&[(b"q/1", b"one"), (b"q/2", b"two")])
    );
    assert_eq!(s.list_actors(None).await.unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_group_commit_batches_concurrent_commits() {
    const TASKS: usize = 200;
    let dir = TempDir::new("group");
    let s = Arc::new(SqliteStorage::open(dir.path()).unwrap());
    for i in 0..TASKS {
        s.insert_actor(record(&format!("g{i}"), "group", &[&i.to_string()]))
            .await
            .unwrap();
    }
    let before = s.stats();
    let tasks: Vec<_> = (0..TASKS)
        .map(|i| {
            let s = Arc::clone(&s);
            tokio::spawn(async move {
                let write = ActorWrite {
                    state: Some(format!("state-{i}").into_bytes()),
                    kv_put: kv(&[(b"k", i.to_string().as_bytes())]),
                    ..Default::default()
                };
                s.commit(&format!("g{i}"), write).await
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let after = s.stats();
    let commits = after.commits - before.commits;
    let syncs = after.syncs - before.syncs;
    let transactions = after.transactions - before.transactions;
    println!("{TASKS} concurrent commits: {transactions} transactions, {syncs} syncs");
    assert_eq!(commits, TASKS as u64);
    assert!(
        syncs < 100,
        "commits were not batched: {syncs} syncs for {TASKS} commits"
    );
    assert!(syncs <= transactions);
    for i in (0..TASKS).step_by(37) {
        let id = format!("g{i}");
        assert_eq!(
            s.load_state(&id).await.unwrap(),
            Some(format!("state-{i}").into_bytes())
        );
    }
}

/// Reads an actor's state with a brand-new connection, bypassing the storage entirely.
fn state_via_fresh_connection(db: &Path, id: &str) -> Option<Vec<u8>> {
    use rusqlite::OptionalExtension;
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row("SELECT value FROM state WHERE id = ?1", [id], |r| r.get(0))
        .optional()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_commit_resolves_only_when_visible_to_a_fresh_connection() {
    let dir = TempDir::new("visible");
    let s = Arc::new(SqliteStorage::open(dir.path()).unwrap());
    for i in 0..8 {
        s.insert_actor(record(&format!("v{i}"), "visible", &[&i.to_string()]))
            .await
            .unwrap();
    }
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let s = Arc::clone(&s);
            let db = dir.db();
            tokio::spawn(async move {
                let id = format!("v{i}");
                for round in 0..10u32 {
                    let value = format!("{i}-{round}").into_bytes();
                    s.commit(&id, state(&value)).await.unwrap();
                    let seen = tokio::task::spawn_blocking({
                        let db = db.clone();
                        let id = id.clone();
                        move || state_via_fresh_connection(&db, &id)
                    })
                    .await
                    .unwrap();
                    assert_eq!(seen, Some(value));
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_drop_drains_queued_writes() {
    let dir = TempDir::new("drain");
    {
        let s = SqliteStorage::open(dir.path()).unwrap();
        s.insert_actor(record("q1", "drain", &[])).await.unwrap();
        // Queue writes without awaiting them, then drop storage: the writer must finish them.
        for i in 0..50u8 {
            let write = ActorWrite {
                state: Some(vec![i]),
                kv_put: vec![(vec![i], vec![i])],
                ..Default::default()
            };
            drop(s.commit("q1", write));
        }
    }
    assert_eq!(state_via_fresh_connection(&dir.db(), "q1"), Some(vec![49]));
    let s = SqliteStorage::open(dir.path()).unwrap();
    assert_eq!(s.kv_scan_prefix("q1", b"").await.unwrap().len(), 50);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_failed_write_is_rolled_back_alone() {
    let dir = TempDir::new("poison");
    let s = Arc::new(SqliteStorage::open(dir.path()).unwrap());
    for i in 0..20 {
        s.insert_actor(record(&format!("ok{i}"), "poison", &[&i.to_string()]))
            .await
            .unwrap();
    }
    s.insert_actor(record("bad", "poison", &["bad"]))
        .await
        .unwrap();
    s.commit("bad", state(b"before")).await.unwrap();

    // Inject a failure in the middle of a write: a trigger rejects one kv key.
    rusqlite::Connection::open(dir.db())
        .unwrap()
        .execute_batch(
            "CREATE TRIGGER poison BEFORE INSERT ON kv WHEN NEW.key = CAST('poison' AS BLOB)
             BEGIN SELECT RAISE(ABORT, 'poisoned key'); END;",
        )
        .unwrap();

    let mut tasks = Vec::new();
    for i in 0..20 {
        let good = Arc::clone(&s);
        tasks.push(tokio::spawn(async move {
            let write = ActorWrite {
                state: Some(b"good".to_vec()),
                kv_put: kv(&[(b"fine", b"1")]),
                ..Default::default()
            };
            good.commit(&format!("ok{i}"), write).await
        }));
        if i == 10 {
            let s = Arc::clone(&s);
            tasks.push(tokio::spawn(async move {
                let write = ActorWrite {
                    state: Some(b"after".to_vec()),
                    mark_created: true,
                    kv_put: kv(&[(b"fine", b"1"), (b"poison", b"2")]),
                    ..Default::default()
                };
                let err = s.commit("bad", write).await.unwrap_err();
                assert!(err.to_string().contains("poisoned key"), "{err}");
                Ok(())
            }));
        }
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(s.load_state("bad").await.unwrap(), Some(b"before".to_vec()));
    assert!(!s.find_by_id("bad").await.unwrap().unwrap().created);
    assert!(s.kv_scan_prefix("bad", b"").await.unwrap().is_empty());
    for i in 0..20 {
        let id = format!("ok{i}");
        assert_eq!(s.load_state(&id).await.unwrap(), Some(b"good".to_vec()));
        assert_eq!(s.kv_get(&id, b"fine").await.unwrap(), Some(b"1".to_vec()));
    }
}

fn assert_corrupt(result: StorageResult<SqliteStorage>, needle: &str) {
    match result {
        Err(e @ StorageError::Corrupt { .. }) => {
            let text = e.to_string();
            assert!(text.contains(needle), "{text:?} lacks {needle:?}");
            assert!(
                text.contains(SqliteStorage::FILE_NAME),
                "{text:?} names no file"
            );
        }
        other => panic!("expected a Corrupt error, got {other:?}"),
    }
}

#[test]
fn sqlite_rejects_a_file_that_is_not_a_database() {
    let dir = TempDir::new("garbage");
    let text = "this is a shopping list, not a database\n".repeat(200);
    std::fs::write(dir.db(), &text).unwrap();
    assert_corrupt(SqliteStorage::open(dir.path()), "not a database");
    assert_eq!(
        std::fs::read_to_string(dir.db()).unwrap(),
        text,
        "the file was modified"
    );
}

#[test]
fn sqlite_rejects_another_applications_database() {
    let dir = TempDir::new("foreign");
    {
        let conn = rusqlite::Connection::open(dir.db()).unwrap();
        conn.execute_batch("CREATE TABLE users (name TEXT); INSERT INTO users VALUES ('ann');")
            .unwrap();
    }
    assert_corrupt(SqliteStorage::open(dir.path()), "another application");
    let conn = rusqlite::Connection::open(dir.db()).unwrap();
    let mode: String = conn
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "delete", "the foreign file was switched to WAL");
    let tables: i64 = conn
        .query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))
        .unwrap();
    assert_eq!(tables, 1, "tables were added to the foreign file");
}

#[test]
fn sqlite_rejects_a_newer_schema_and_a_damaged_one() {
    let dir = TempDir::new("version");
    drop(SqliteStorage::open(dir.path()).unwrap());
    rusqlite::Connection::open(dir.db())
        .unwrap()
        .pragma_update(None, "user_version", 99)
        .unwrap();
    match SqliteStorage::open(dir.path()) {
        Err(StorageError::UnsupportedVersion {
            found: 99,
            supported: 1,
        }) => {}
        other => panic!("expected UnsupportedVersion, got {other:?}"),
    }

    let dir = TempDir::new("schema");
    drop(SqliteStorage::open(dir.path()).unwrap());
    rusqlite::Connection::open(dir.db())
        .unwrap()
        .execute_batch("DROP TABLE kv; CREATE TABLE kv (id TEXT);")
        .unwrap();
    assert_corrupt(SqliteStorage::open(dir.path()), "lacks column");
}

#[test]
fn sqlite_reports_an_unusable_directory() {
    let dir = TempDir::new("notadir");
    let file = dir.path().join("plain-file");
    std::fs::write(&file, b"x").unwrap();
    match SqliteStorage::open(&file) {
        Err(e @ StorageError::Io { .. }) => assert!(e.to_string().contains("plain-file"), "{e}"),
        other => panic!("expected an Io error, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_reports_damaged_pages_and_rows() {
    let dir = TempDir::new("damaged");
    {
        let s = SqliteStorage::open(dir.path()).unwrap();
        for i in 0..200 {
            s.insert_actor(record(&format!("x{i:03}"), "damaged", &[&i.to_string()]))
                .await
                .unwrap();
            s.commit(&format!("x{i:03}"), state(&[7; 300]))
                .await
                .unwrap();
        }
    }
    // Keep the header page, overwrite every other page with garbage.
    let mut bytes = std::fs::read(dir.db()).unwrap();
    assert!(bytes.len() > 8192, "database unexpectedly small");
    for b in &mut bytes[4096..] {
        *b = 0xA5;
    }
    std::fs::write(dir.db(), &bytes).unwrap();

    let outcome = match SqliteStorage::open(dir.path()) {
        Err(e) => Err(e),
        Ok(s) => match s.list_actors(None).await {
            Err(e) => Err(e),
            Ok(list) => Ok(list.len()),
        },
    };
    match outcome {
        Err(e @ StorageError::Corrupt { .. }) => {
            assert!(e.to_string().contains("malformed"), "{e}");
        }
        other => panic!("expected a Corrupt error, got {other:?}"),
    }

    // A row whose key does not decode.
    let dir = TempDir::new("badrow");
    let s = SqliteStorage::open(dir.path()).unwrap();
    rusqlite::Connection::open(dir.db())
        .unwrap()
        .execute(
            "INSERT INTO actors (id, name, key, created_at_ms) VALUES ('r1', 'n', 'not json', 0)",
            [],
        )
        .unwrap();
    match s.find_by_id("r1").await {
        Err(e @ StorageError::Corrupt { .. }) => assert!(e.to_string().contains("r1"), "{e}"),
        other => panic!("expected a Corrupt error, got {other:?}"),
    }
}

#[test]
fn a_data_directory_is_shared_within_one_process() {
    // Another process is refused (tests/data_dir_lock.rs); this one rebuilds in place.
    let dir = TempDir::new("lock");
    let first = SqliteStorage::open(dir.path()).unwrap();
    let second = SqliteStorage::open(dir.path()).unwrap();
    drop((first, second));
    SqliteStorage::open(dir.path()).unwrap();
}

/// Many more concurrent reads than the pool has connections all complete, with the right
/// rows, on a multi-threaded runtime (reads in place, from its workers and from `block_on`'s
/// own thread) as on a current-thread one (reads on blocking threads).
#[test]
fn sqlite_concurrent_reads_on_both_runtime_flavors() {
    const ACTORS: usize = 20;
    let dir = TempDir::new("readers");
    let s = Arc::new(SqliteStorage::open(dir.path()).unwrap());
    let multi = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let current = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    multi.block_on(async {
        for i in 0..ACTORS {
            let id = format!("r{i}");
            let key = i.to_string();
            s.insert_actor(record(&id, "reader", &[key.as_str()]))
                .await
                .unwrap();
            s.commit(&id, state(id.as_bytes())).await.unwrap();
        }
    });
    for runtime in [&multi, &current] {
        runtime.block_on(async {
            assert_eq!(s.load_state("r3").await.unwrap(), Some(b"r3".to_vec()));
            let reads: Vec<_> = (0..200)
                .map(|n| {
                    let s = Arc::clone(&s);
                    tokio::spawn(async move {
                        let i = n % ACTORS;
                        let found = s.find_by_key("reader", &[i.to_string()]).await.unwrap();
                        let id = found.expect("inserted above").id;
                        assert_eq!(id, format!("r{i}"));
                        assert_eq!(s.load_state(&id).await.unwrap(), Some(id.into_bytes()));
                    })
                })
                .collect();
            for read in reads {
                read.await.unwrap();
            }
        });
    }
}
