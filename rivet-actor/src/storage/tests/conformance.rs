use super::*;

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

    // Listed a page at a time: by id, after the cursor, never with an input.
    let with_input = ActorRecord {
        input: Some(vec![1, 2, 3]),
        ..record("k9", "t", &["input"])
    };
    s.insert_actor(with_input).await.unwrap();
    let mut pages = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = s
            .list_actors_page(Some("t"), after.as_deref(), 3)
            .await
            .unwrap();
        assert!(page.iter().all(|r| r.input.is_none() && r.name == "t"));
        let ids: Vec<String> = page.iter().map(|r| r.id.clone()).collect();
        after = ids.last().cloned();
        pages.push(ids);
        if after.is_none() {
            break;
        }
    }
    let ids = |list: &[&str]| list.iter().map(|id| id.to_string()).collect::<Vec<_>>();
    assert_eq!(
        pages,
        [
            ids(&["k1", "k2", "k3"]),
            ids(&["k4", "k5", "k6"]),
            ids(&["k7", "k9"]),
            ids(&[])
        ]
    );
    let everyone = s.list_actors_page(None, Some("k7"), 10).await.unwrap();
    assert_eq!(
        everyone.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        ["k8", "k9"]
    );
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
        kv_delete_range: vec![(b"gone/".to_vec(), b"gone0".to_vec())],
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
