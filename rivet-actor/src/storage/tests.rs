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

// ---------------------------------------------------------------------------------------------
// Behaviour every backend must have.
// ---------------------------------------------------------------------------------------------

async fn insert_and_find(s: &dyn Storage) {
    assert_eq!(s.find_by_key("counter", &["a".into()]).await.unwrap(), None);
    assert_eq!(s.find_by_id("c1").await.unwrap(), None);

    let mut c1 = record("c1", "counter", &["a"]);
    c1.input = Some(vec![0xa1, 0x61, 0x78, 0x01]);
    c1.created_at_ms = 123;
    let (stored, inserted) = s.insert_actor(c1.clone()).await.unwrap();
    assert!(inserted);
    assert_eq!(stored, c1);
    assert_eq!(
        s.find_by_key("counter", &["a".into()]).await.unwrap(),
        Some(c1.clone())
    );
    assert_eq!(s.find_by_id("c1").await.unwrap(), Some(c1.clone()));

    // Same (name, key), another id: the stored record wins.
    let (stored, inserted) = s
        .insert_actor(record("c9", "counter", &["a"]))
        .await
        .unwrap();
    assert!(!inserted);
    assert_eq!(stored, c1);
    assert_eq!(s.find_by_id("c9").await.unwrap(), None);

    // Same id, another (name, key): refused.
    let err = s
        .insert_actor(record("c1", "counter", &["b"]))
        .await
        .unwrap_err();
    assert_eq!(err, StorageError::IdInUse { id: "c1".into() });
    assert_eq!(s.find_by_key("counter", &["b".into()]).await.unwrap(), None);

    s.insert_actor(record("r1", "room", &["a"])).await.unwrap();
    s.insert_actor(record("c0", "counter", &["z"]))
        .await
        .unwrap();
    let all: Vec<String> = s
        .list_actors(None)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(all, ["c0", "c1", "r1"]);
    let counters: Vec<String> = s
        .list_actors(Some("counter"))
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(counters, ["c0", "c1"]);
    assert!(s.list_actors(Some("nobody")).await.unwrap().is_empty());
}

async fn key_uniqueness(s: &dyn Storage) {
    let keys: Vec<(&str, &str, Vec<&str>)> = vec![
        ("k1", "t", vec!["a,b"]),
        ("k2", "t", vec!["a", "b"]),
        ("k3", "t", vec![]),
        ("k4", "t", vec![""]),
        ("k5", "t", vec!["", ""]),
        ("k6", "t", vec!["[\"a\",\"b\"]"]),
        ("k7", "t", vec!["a\"b", "\\", "\u{0}é🦀"]),
        ("k8", "u", vec!["a,b"]), // same key, another actor type
    ];
    for (id, name, key) in &keys {
        let (stored, inserted) = s.insert_actor(record(id, name, key)).await.unwrap();
        assert!(inserted, "{key:?} collided with {:?}", stored.key);
    }
    for (id, name, key) in &keys {
        let key: Vec<String> = key.iter().map(|k| k.to_string()).collect();
        let found = s.find_by_key(name, &key).await.unwrap().unwrap();
        assert_eq!(found.id, *id);
        assert_eq!(found.key, key);
    }
    assert_eq!(s.list_actors(Some("t")).await.unwrap().len(), 7);
}

async fn state_round_trip(s: &dyn Storage) {
    s.insert_actor(record("s1", "counter", &["s"]))
        .await
        .unwrap();
    assert_eq!(s.load_state("s1").await.unwrap(), None);

    s.commit("s1", state(b"one")).await.unwrap();
    assert_eq!(s.load_state("s1").await.unwrap(), Some(b"one".to_vec()));
    s.commit("s1", state(b"two")).await.unwrap();
    assert_eq!(s.load_state("s1").await.unwrap(), Some(b"two".to_vec()));

    // A write without state leaves the state alone.
    let kv_only = ActorWrite {
        kv_put: kv(&[(b"k", b"v")]),
        ..Default::default()
    };
    s.commit("s1", kv_only).await.unwrap();
    assert_eq!(s.load_state("s1").await.unwrap(), Some(b"two".to_vec()));

    // Empty state is a state, not an absence.
    s.commit("s1", state(b"")).await.unwrap();
    assert_eq!(s.load_state("s1").await.unwrap(), Some(Vec::new()));

    let big: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
    s.commit("s1", state(&big)).await.unwrap();
    assert_eq!(s.load_state("s1").await.unwrap(), Some(big));

    assert!(!s.find_by_id("s1").await.unwrap().unwrap().created);
    let created = ActorWrite {
        mark_created: true,
        ..Default::default()
    };
    s.commit("s1", created).await.unwrap();
    assert!(s.find_by_id("s1").await.unwrap().unwrap().created);
    // Other actors are untouched.
    assert_eq!(s.load_state("nobody").await.unwrap(), None);
}

async fn kv_operations(s: &dyn Storage) {
    s.insert_actor(record("k1", "kv", &["1"])).await.unwrap();
    s.insert_actor(record("k2", "kv", &["2"])).await.unwrap();
    let rows = kv(&[
        (b"b", b"B"),
        (b"a", b"A"),
        (b"abc", b"ABC"),
        (b"ab", b"AB"),
        (b"", b"EMPTY"),
        (b"\xff", b"FF"),
        (b"\xff\xff\x01", b"FFFF01"),
        (b"a\x00", b"A0"),
    ]);
    for id in ["k1", "k2"] {
        let write = ActorWrite {
            kv_put: rows.clone(),
            ..Default::default()
        };
        s.commit(id, write).await.unwrap();
    }

    let keys = |rows: Vec<(Vec<u8>, Vec<u8>)>| rows.into_iter().map(|(k, _)| k).collect::<Vec<_>>();
    let all = s.kv_scan_prefix("k1", b"").await.unwrap();
    assert_eq!(
        keys(all.clone()),
        [
            &b""[..],
            b"a",
            b"a\x00",
            b"ab",
            b"abc",
            b"b",
            b"\xff",
            b"\xff\xff\x01"
        ]
    );
    assert_eq!(all[3], (b"ab".to_vec(), b"AB".to_vec()));
    assert_eq!(
        keys(s.kv_scan_prefix("k1", b"a").await.unwrap()),
        [&b"a"[..], b"a\x00", b"ab", b"abc"]
    );
    assert_eq!(
        keys(s.kv_scan_prefix("k1", b"ab").await.unwrap()),
        [&b"ab"[..], b"abc"]
    );
    assert_eq!(
        keys(s.kv_scan_prefix("k1", b"\xff").await.unwrap()),
        [&b"\xff"[..], b"\xff\xff\x01"]
    );
    assert_eq!(
        keys(s.kv_scan_prefix("k1", b"\xff\xff").await.unwrap()),
        [&b"\xff\xff\x01"[..]]
    );
    assert!(s.kv_scan_prefix("k1", b"c").await.unwrap().is_empty());
    assert!(s.kv_scan_prefix("nobody", b"").await.unwrap().is_empty());

    assert_eq!(s.kv_get("k1", b"ab").await.unwrap(), Some(b"AB".to_vec()));
    assert_eq!(s.kv_get("k1", b"").await.unwrap(), Some(b"EMPTY".to_vec()));
    assert_eq!(s.kv_get("k1", b"zz").await.unwrap(), None);
    assert_eq!(s.kv_get("nobody", b"ab").await.unwrap(), None);

    // Overwrite, delete one key, delete by prefix.
    let write = ActorWrite {
        kv_put: kv(&[(b"b", b"B2")]),
        kv_delete: vec![b"ab".to_vec(), b"missing".to_vec()],
        kv_delete_prefix: vec![b"\xff".to_vec()],
        ..Default::default()
    };
    s.commit("k1", write).await.unwrap();
    assert_eq!(s.kv_get("k1", b"b").await.unwrap(), Some(b"B2".to_vec()));
    assert_eq!(s.kv_get("k1", b"ab").await.unwrap(), None);
    assert_eq!(
        keys(s.kv_scan_prefix("k1", b"").await.unwrap()),
        [&b""[..], b"a", b"a\x00", b"abc", b"b"]
    );

    // Deletes apply before puts within one write.
    let write = ActorWrite {
        kv_put: kv(&[(b"a-new", b"N")]),
        kv_delete_prefix: vec![b"a".to_vec()],
        ..Default::default()
    };
    s.commit("k1", write).await.unwrap();
    assert_eq!(
        keys(s.kv_scan_prefix("k1", b"a").await.unwrap()),
        [&b"a-new"[..]]
    );

    // An empty prefix deletes every row of this actor only.
    let write = ActorWrite {
        kv_delete_prefix: vec![Vec::new()],
        ..Default::default()
    };
    s.commit("k1", write).await.unwrap();
    assert!(s.kv_scan_prefix("k1", b"").await.unwrap().is_empty());
    assert_eq!(s.kv_scan_prefix("k2", b"").await.unwrap().len(), rows.len());
}

async fn write_atomicity(s: &dyn Storage) {
    let before = s.stats();
    s.insert_actor(record("w1", "atom", &["1"])).await.unwrap();
    let seed = ActorWrite {
        kv_put: kv(&[(b"old/1", b"1"), (b"old/2", b"2"), (b"keep", b"k")]),
        ..Default::default()
    };
    s.commit("w1", seed).await.unwrap();

    // Every part of one write lands together.
    let write = ActorWrite {
        state: Some(b"S".to_vec()),
        mark_created: true,
        kv_put: kv(&[(b"new/1", b"n1"), (b"keep", b"k2")]),
        kv_delete: vec![b"old/1".to_vec()],
        kv_delete_prefix: vec![b"old/".to_vec()],
    };
    s.commit("w1", write).await.unwrap();
    assert_eq!(s.load_state("w1").await.unwrap(), Some(b"S".to_vec()));
    assert!(s.find_by_id("w1").await.unwrap().unwrap().created);
    assert_eq!(
        s.kv_scan_prefix("w1", b"").await.unwrap(),
        kv(&[(b"keep", b"k2"), (b"new/1", b"n1")])
    );

    // A write for an unknown actor applies nothing at all.
    let orphan = ActorWrite {
        state: Some(b"X".to_vec()),
        mark_created: true,
        kv_put: kv(&[(b"x", b"x")]),
        ..Default::default()
    };
    let err = s.commit("ghost", orphan).await.unwrap_err();
    assert_eq!(err, StorageError::ActorNotFound { id: "ghost".into() });
    assert_eq!(s.load_state("ghost").await.unwrap(), None);
    assert!(s.kv_scan_prefix("ghost", b"").await.unwrap().is_empty());
    assert_eq!(s.find_by_id("ghost").await.unwrap(), None);

    let after = s.stats();
    assert_eq!(
        after.commits - before.commits,
        2,
        "failed commits are not counted"
    );
}

async fn destroy_removes_everything(s: &dyn Storage) {
    s.insert_actor(record("d1", "doomed", &["x"]))
        .await
        .unwrap();
    s.insert_actor(record("d2", "doomed", &["y"]))
        .await
        .unwrap();
    for id in ["d1", "d2"] {
        let write = ActorWrite {
            state: Some(id.as_bytes().to_vec()),
            mark_created: true,
            kv_put: kv(&[(b"a", b"1"), (b"b", b"2")]),
            ..Default::default()
        };
        s.commit(id, write).await.unwrap();
    }

    assert!(s.destroy("d1").await.unwrap());
    assert_eq!(s.find_by_id("d1").await.unwrap(), None);
    assert_eq!(s.find_by_key("doomed", &["x".into()]).await.unwrap(), None);
    assert_eq!(s.load_state("d1").await.unwrap(), None);
    assert_eq!(s.kv_get("d1", b"a").await.unwrap(), None);
    assert!(s.kv_scan_prefix("d1", b"").await.unwrap().is_empty());
    let left: Vec<String> = s
        .list_actors(Some("doomed"))
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(left, ["d2"]);
    assert!(!s.destroy("d1").await.unwrap());
    assert!(!s.destroy("never").await.unwrap());

    // The neighbour is untouched.
    assert_eq!(s.load_state("d2").await.unwrap(), Some(b"d2".to_vec()));
    assert_eq!(s.kv_scan_prefix("d2", b"").await.unwrap().len(), 2);

    // Writes to a destroyed actor fail; the (name, key) can be reused, with nothing left over.
    let err = s.commit("d1", state(b"late")).await.unwrap_err();
    assert_eq!(err, StorageError::ActorNotFound { id: "d1".into() });
    let (again, inserted) = s
        .insert_actor(record("d3", "doomed", &["x"]))
        .await
        .unwrap();
    assert!(inserted);
    assert!(!again.created);
    assert_eq!(s.load_state("d3").await.unwrap(), None);
    assert!(s.kv_scan_prefix("d3", b"").await.unwrap().is_empty());
}

async fn actors_by_kv_prefix(s: &dyn Storage) {
    for (id, name, key) in [
        ("a1", "timer", "x"),
        ("a2", "timer", "y"),
        ("a3", "other", "x"),
    ] {
        s.insert_actor(record(id, name, &[key])).await.unwrap();
    }
    let put = |pairs: &[(&[u8], &[u8])]| ActorWrite {
        kv_put: kv(pairs),
        ..Default::default()
    };
    s.commit("a1", put(&[(b"s/1", b"due")])).await.unwrap();
    s.commit("a2", put(&[(b"q/1", b"msg")])).await.unwrap();
    s.commit("a3", put(&[(b"s/9", b"due")])).await.unwrap();
    // Only actors of that type, only with a row under the prefix.
    assert_eq!(
        s.actors_with_kv_prefix("timer", b"s/").await.unwrap(),
        ["a1"]
    );
    assert_eq!(
        s.actors_with_kv_prefix("other", b"s/").await.unwrap(),
        ["a3"]
    );
    let mut both = s.actors_with_kv_prefix("timer", b"").await.unwrap();
    both.sort();
    assert_eq!(both, ["a1", "a2"]);
    // A prefix of 0xff bytes has no successor: the scan runs to the end.
    s.commit("a2", put(&[(b"\xff\xff", b"edge")]))
        .await
        .unwrap();
    assert_eq!(
        s.actors_with_kv_prefix("timer", b"\xff").await.unwrap(),
        ["a2"]
    );
    s.commit(
        "a1",
        ActorWrite {
            kv_delete: vec![b"s/1".to_vec()],
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(
        s.actors_with_kv_prefix("timer", b"s/")
            .await
            .unwrap()
            .is_empty()
    );
}

/// Generates one `#[tokio::test]` per backend for each shared test function.
macro_rules! on_both_backends {
    ($($test:ident),* $(,)?) => {
        mod memory_backend {
            use super::*;
            $(
                #[tokio::test]
                async fn $test() {
                    super::$test(&MemoryStorage::new()).await;
                }
            )*
        }
        mod sqlite_backend {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    let dir = TempDir::new(stringify!($test));
                    let storage = SqliteStorage::open(dir.path()).unwrap();
                    super::$test(&storage).await;
                }
            )*
        }
    };
}

on_both_backends!(
    insert_and_find,
    key_uniqueness,
    state_round_trip,
    kv_operations,
    write_atomicity,
    destroy_removes_everything,
    actors_by_kv_prefix,
);

#[test]
fn prefix_successor_edges() {
    assert_eq!(prefix_successor(b""), None);
    assert_eq!(prefix_successor(b"\xff\xff"), None);
    assert_eq!(prefix_successor(b"a"), Some(b"b".to_vec()));
    assert_eq!(prefix_successor(b"a\xff"), Some(b"b".to_vec()));
    assert_eq!(prefix_successor(b"\x00\xff\xff"), Some(b"\x01".to_vec()));
}

#[test]
fn data_dir_defaults_and_env() {
    // Only reads the environment: setting variables would race with other tests.
    let expected = match std::env::var_os(DATA_DIR_ENV) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from("./.rivet-actor/"),
    };
    assert_eq!(default_data_dir(), expected);
}

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

// ---------------------------------------------------------------------------------------------
// Throughput report (ignored; prints numbers, asserts nothing about speed).
// ---------------------------------------------------------------------------------------------

async fn measure(storage: Arc<dyn Storage>, writers: usize, run_for: Duration) -> (f64, f64, f64) {
    for w in 0..writers {
        storage
            .insert_actor(record(&format!("t{w}"), "bench", &[&w.to_string()]))
            .await
            .unwrap();
    }
    let before = storage.stats();
    let started = Instant::now();
    let deadline = started + run_for;
    let tasks: Vec<_> = (0..writers)
        .map(|w| {
            let storage = Arc::clone(&storage);
            tokio::spawn(async move {
                let id = format!("t{w}");
                let mut n = 0u64;
                while Instant::now() < deadline {
                    let mut bytes = vec![0u8; 128];
                    bytes[..8].copy_from_slice(&n.to_le_bytes());
                    storage.commit(&id, state(&bytes)).await.unwrap();
                    n += 1;
                    if n.is_multiple_of(64) {
                        // The memory backend never suspends; let the other writers run.
                        tokio::task::yield_now().await;
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let elapsed = started.elapsed().as_secs_f64();
    let after = storage.stats();
    let commits = (after.commits - before.commits) as f64;
    let syncs = (after.syncs - before.syncs) as f64;
    let transactions = (after.transactions - before.transactions) as f64;
    (
        commits / elapsed,
        syncs * 1000.0 / commits.max(1.0),
        commits / transactions.max(1.0),
    )
}

/// `cargo test -p rivet-actor --lib storage::tests::throughput -- --ignored --nocapture`
///
/// `RIVET_ACTOR_BENCH_DIR` picks the file system (default: the system temp dir);
/// `RIVET_ACTOR_BENCH_SECS` the duration of each run (default 2).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "prints throughput numbers; run with --ignored --nocapture"]
async fn throughput() {
    let secs: f64 = std::env::var("RIVET_ACTOR_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2.0);
    let run_for = Duration::from_secs_f64(secs);
    let base = std::env::var_os("RIVET_ACTOR_BENCH_DIR").map(PathBuf::from);
    println!("backend  writers  commits/s  syncs/1000 commits  commits/transaction");
    for writers in [1, 16, 256] {
        let (rate, syncs, per_tx) = measure(Arc::new(MemoryStorage::new()), writers, run_for).await;
        println!("memory   {writers:>7}  {rate:>9.0}  {syncs:>18.1}  {per_tx:>19.1}");
    }
    for writers in [1, 16, 256] {
        let dir = match &base {
            Some(base) => {
                let dir = TempDir(base.join(format!("rivet-actor-bench-{writers}")));
                std::fs::create_dir_all(dir.path()).unwrap();
                dir
            }
            None => TempDir::new("bench"),
        };
        let storage = Arc::new(SqliteStorage::open(dir.path()).unwrap());
        let (rate, syncs, per_tx) = measure(storage, writers, run_for).await;
        println!("sqlite   {writers:>7}  {rate:>9.0}  {syncs:>18.1}  {per_tx:>19.1}");
    }
}
