//! `Storage::kv_range` and range deletes, on both backends: bounds, order, limits, and
//! that a range never reaches another actor's rows.

use super::*;

fn keys(rows: Vec<KvPair>) -> Vec<Vec<u8>> {
    rows.into_iter().map(|(k, _)| k).collect()
}

fn scan(start: &[u8], end: Option<&[u8]>, limit: usize, reverse: bool) -> KvScan {
    KvScan {
        start: start.to_vec(),
        end: end.map(<[u8]>::to_vec),
        limit,
        reverse,
        max_bytes: usize::MAX,
    }
}

async fn ranges(s: &dyn Storage) {
    for id in ["a1", "a2"] {
        s.insert_actor(record(id, "log", &[id])).await.unwrap();
    }
    let rows: Vec<(Vec<u8>, Vec<u8>)> = [&b"k1"[..], b"k2", b"k2\x00", b"k3", b"k4", b"k\xff"]
        .iter()
        .map(|k| (k.to_vec(), b"v".to_vec()))
        .collect();
    for id in ["a1", "a2"] {
        let write = ActorWrite {
            kv_put: rows.clone(),
            ..Default::default()
        };
        s.commit(id, write).await.unwrap();
    }

    let all = keys(
        s.kv_range("a1", &scan(b"", None, 100, false))
            .await
            .unwrap(),
    );
    assert_eq!(all, keys(rows.clone()));
    let between = keys(
        s.kv_range("a1", &scan(b"k2", Some(b"k4"), 100, false))
            .await
            .unwrap(),
    );
    assert_eq!(
        between,
        [b"k2".to_vec(), b"k2\x00".to_vec(), b"k3".to_vec()]
    );
    let reversed = keys(
        s.kv_range("a1", &scan(b"k2", Some(b"k4"), 2, true))
            .await
            .unwrap(),
    );
    assert_eq!(reversed, [b"k3".to_vec(), b"k2\x00".to_vec()]);
    let first = keys(s.kv_range("a1", &scan(b"k", None, 1, false)).await.unwrap());
    assert_eq!(first, [b"k1".to_vec()]);
    let last = keys(s.kv_range("a1", &scan(b"k", None, 1, true)).await.unwrap());
    assert_eq!(last, [b"k\xff".to_vec()]);
    assert!(
        s.kv_range("a1", &scan(b"k4", Some(b"k2"), 9, false))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        s.kv_range("a1", &scan(b"", None, 0, false))
            .await
            .unwrap()
            .is_empty()
    );
    // Bytes stop a scan after the row that reaches them (each row here is three bytes),
    // and a scan that finds rows returns at least one.
    for (max_bytes, reverse, expected) in [
        (6, false, &[&b"k1"[..], b"k2"][..]),
        (7, false, &[b"k1", b"k2", b"k2\x00"]),
        (0, true, &[b"k\xff"]),
    ] {
        let by_bytes = KvScan {
            max_bytes,
            ..scan(b"", None, 100, reverse)
        };
        let found = keys(s.kv_range("a1", &by_bytes).await.unwrap());
        assert_eq!(found, expected, "max_bytes {max_bytes}");
    }
    assert!(
        s.kv_range("nobody", &scan(b"", None, 9, false))
            .await
            .unwrap()
            .is_empty()
    );

    // A range delete takes [start, end) of this actor only, before the write's puts.
    let write = ActorWrite {
        kv_delete_range: vec![(b"k2".to_vec(), b"k4".to_vec())],
        kv_put: vec![(b"k3".to_vec(), b"again".to_vec())],
        ..Default::default()
    };
    s.commit("a1", write).await.unwrap();
    let left = s
        .kv_range("a1", &scan(b"", None, 100, false))
        .await
        .unwrap();
    assert_eq!(
        left,
        kv(&[
            (b"k1", b"v"),
            (b"k3", b"again"),
            (b"k4", b"v"),
            (b"k\xff", b"v")
        ])
    );
    assert_eq!(s.kv_scan_prefix("a2", b"").await.unwrap(), rows);
}

/// Generates one `#[tokio::test]` per backend.
mod memory_backend {
    use super::*;

    #[tokio::test]
    async fn ranges() {
        super::ranges(&MemoryStorage::new()).await;
    }
}

mod sqlite_backend {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn ranges() {
        let dir = TempDir::new("ranges");
        super::ranges(&SqliteStorage::open(dir.path()).unwrap()).await;
    }
}
