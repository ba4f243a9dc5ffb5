//! `ActorWrite::then`: a merged write must leave storage as the writes one after another do
//! (the output gate merges the writes of turns that ran while a commit was in flight).

use super::*;

/// A small deterministic generator (no dependency needed for a test's random choices).
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

/// A write of a few operations over a tiny key space, so that puts, deletes, prefix and
/// range deletes of the same keys meet often.
fn random_write(rng: &mut Lcg, step: usize) -> ActorWrite {
    const KEYS: [&[u8]; 6] = [b"a", b"ab", b"abc", b"b", b"ba", b"c"];
    const PREFIXES: [&[u8]; 3] = [b"a", b"ab", b"b"];
    let mut write = ActorWrite::default();
    if rng.below(3) == 0 {
        write.state = Some(format!("state {step}").into_bytes());
    }
    for _ in 0..rng.below(4) {
        let key = KEYS[rng.below(KEYS.len() as u64) as usize].to_vec();
        match rng.below(6) {
            0 => write.kv_delete.push(key),
            1 if rng.below(3) == 0 => write
                .kv_delete_prefix
                .push(PREFIXES[rng.below(3) as usize].to_vec()),
            2 if rng.below(2) == 0 => {
                let other = KEYS[rng.below(KEYS.len() as u64) as usize].to_vec();
                let (start, end) = if key <= other {
                    (key, other)
                } else {
                    (other, key)
                };
                write.kv_delete_range.push((start, end));
            }
            _ => write.kv_put.push((key, format!("v{step}").into_bytes())),
        }
    }
    write
}

async fn rows(s: &dyn Storage, id: &str) -> (Option<Vec<u8>>, Vec<KvPair>) {
    (
        s.load_state(id).await.unwrap(),
        s.kv_scan_prefix(id, b"").await.unwrap(),
    )
}

async fn merged_equals_sequential(s: &dyn Storage) {
    let mut rng = Lcg(7);
    for round in 0..200 {
        let (one, merged) = (format!("one-{round}"), format!("merged-{round}"));
        s.insert_actor(record(&one, "m", &[&one])).await.unwrap();
        s.insert_actor(record(&merged, "m", &[&merged]))
            .await
            .unwrap();
        let mut batch: Option<ActorWrite> = None;
        for step in 0..(1 + rng.below(6) as usize) {
            let write = random_write(&mut rng, step);
            s.commit(&one, write.clone()).await.unwrap();
            match &mut batch {
                Some(batch) => batch.then(write),
                None => batch = Some(write),
            }
        }
        s.commit(&merged, batch.unwrap()).await.unwrap();
        assert_eq!(rows(s, &one).await, rows(s, &merged).await, "round {round}");
    }
}

#[tokio::test]
async fn merged_writes_equal_sequential_writes_in_memory() {
    merged_equals_sequential(&MemoryStorage::new()).await;
}

#[tokio::test]
async fn merged_writes_equal_sequential_writes_in_sqlite() {
    let dir = TempDir::new("merge");
    merged_equals_sequential(&SqliteStorage::open(dir.path()).unwrap()).await;
}
