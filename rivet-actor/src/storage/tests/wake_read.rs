//! `Storage::load_for_wake` answers what the single reads answer (SQLite does it in one trip).

use super::*;

async fn wake_read_matches_single_reads(s: &dyn Storage) {
    assert_eq!(s.load_for_wake("nobody", &[b"s/"]).await.unwrap(), None);
    s.insert_actor(record("w1", "room", &["w"])).await.unwrap();
    let fresh = s
        .load_for_wake("w1", &[b"s/", b"q/"])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(fresh.state, None);
    assert_eq!(fresh.rows, vec![Vec::new(), Vec::new()]);
    s.commit(
        "w1",
        ActorWrite {
            state: Some(b"st".to_vec()),
            mark_created: true,
            kv_put: kv(&[(b"s/b", b"2"), (b"s/a", b"1"), (b"q/1", b"m"), (b"t", b"x")]),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let read = s
        .load_for_wake("w1", &[b"s/", b"q/"])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(Some(read.record), s.find_by_id("w1").await.unwrap());
    assert_eq!(read.state.as_deref(), Some(&b"st"[..]));
    assert_eq!(
        read.rows,
        vec![kv(&[(b"s/a", b"1"), (b"s/b", b"2")]), kv(&[(b"q/1", b"m")]),]
    );
    let none: &[&[u8]] = &[];
    assert!(
        s.load_for_wake("w1", none)
            .await
            .unwrap()
            .unwrap()
            .rows
            .is_empty()
    );
}

#[tokio::test]
async fn the_wake_read_in_memory() {
    wake_read_matches_single_reads(&MemoryStorage::new()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wake_read_in_sqlite() {
    let dir = TempDir::new("wake-read");
    wake_read_matches_single_reads(&SqliteStorage::open(dir.path()).unwrap()).await;
}
