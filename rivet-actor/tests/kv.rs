//! `c.kv()` through a real server and the typed client, on SQLite: writes commit with the
//! turn's state (or not at all, on an error or a panic), a turn reads its own writes,
//! ranges and prefixes come back in key order, limits are typed errors, and everything
//! acknowledged is there after a restart.

use std::path::PathBuf;

#[path = "support/process.rs"]
mod process;

use process::{in_process, temp_dir};
use rivet_actor::kv::Scan;
use rivet_actor::prelude::*;

#[derive(Default, Serialize, Deserialize)]
pub struct Notebook {
    count: u64,
}

#[actor]
impl Notebook {
    /// Appends a note under the next number; the note and the count commit together.
    #[action]
    async fn add(&mut self, c: &mut ActionCtx<'_, Self>, text: String) -> Result<u64, Error> {
        self.count += 1;
        c.kv().put(&key(self.count), &text)?;
        let seen: Option<String> = c.kv().get(&key(self.count)).await?;
        if seen.as_deref() != Some(text.as_str()) {
            return Err(UserError::new("the turn did not read its own write").into());
        }
        Ok(self.count)
    }

    #[action]
    fn add_then_fail(&mut self, c: &mut ActionCtx<'_, Self>, text: String) -> Result<u64, Error> {
        self.count += 1;
        c.kv().put(&key(self.count), &text)?;
        c.kv().delete_range(key(0)..key(self.count))?;
        Err(UserError::new("changed my mind").code("refused").into())
    }

    #[action]
    fn add_then_panic(&mut self, c: &mut ActionCtx<'_, Self>, text: String) -> u64 {
        self.count += 1;
        c.kv().put(&key(self.count), &text).unwrap();
        c.kv().delete(&key(1)).unwrap();
        panic!("a bug after writing");
    }

    /// Writes one note `times` times in one turn (100 KB each): only the last is staged.
    #[action]
    fn rewrite(&mut self, c: &mut ActionCtx<'_, Self>, times: usize) -> Result<(), Error> {
        for n in 0..times {
            c.kv()
                .put(&key(0), &format!("{n}{}", "x".repeat(100_000)))?;
        }
        Ok(())
    }

    /// Puts `count` notes of `size` bytes after the last one.
    #[action]
    fn bulk(&mut self, c: &mut ActionCtx<'_, Self>, count: u64, size: usize) -> Result<(), Error> {
        for _ in 0..count {
            self.count += 1;
            c.kv().put(&key(self.count), &"x".repeat(size))?;
        }
        Ok(())
    }

    /// Reads every note a page at a time: the pages' lengths, the empty last one included.
    #[action]
    async fn pages(&self, c: &ActionCtx<'_, Self>) -> Result<Vec<usize>, Error> {
        let pages = read_in_pages(c).await?;
        Ok(pages.iter().map(Vec::len).collect())
    }

    /// In one turn: forgets the notes up to `forget`, adds note `extra`, then reads every
    /// note a page at a time (through the turn's own changes): the numbers read.
    #[action]
    async fn change_then_read_all(
        &self,
        c: &ActionCtx<'_, Self>,
        forget: u64,
        extra: u64,
    ) -> Result<Vec<u64>, Error> {
        c.kv().delete_range(key(0)..key(forget + 1))?;
        c.kv().put(&key(extra), &"extra".to_owned())?;
        Ok(read_in_pages(c).await?.concat())
    }

    #[action]
    fn count(&self) -> u64 {
        self.count
    }

    #[action]
    async fn note(&self, c: &ActionCtx<'_, Self>, n: u64) -> Result<Option<String>, Error> {
        Ok(c.kv().get(&key(n)).await?)
    }

    #[action]
    async fn latest(&self, c: &ActionCtx<'_, Self>, n: usize) -> Result<Vec<(u64, String)>, Error> {
        let rows: Vec<(Note, String)> = c
            .kv()
            .prefix(&("n",), Scan::new().limit(n).reverse())
            .await?;
        Ok(numbered(rows))
    }

    #[action]
    async fn between(
        &self,
        c: &ActionCtx<'_, Self>,
        from: u64,
        to: u64,
    ) -> Result<Vec<(u64, String)>, Error> {
        let rows = c.kv().range(key(from)..=key(to), Scan::new()).await?;
        Ok(numbered(rows))
    }

    #[action]
    fn forget_before(&self, c: &ActionCtx<'_, Self>, n: u64) -> Result<(), Error> {
        Ok(c.kv().delete_range(..key(n))?)
    }

    /// Tags live under `("tag", name, n)`, a second key space beside the notes.
    #[action]
    fn tag(&self, c: &ActionCtx<'_, Self>, name: String, n: u64) -> Result<(), Error> {
        Ok(c.kv().put(&("tag", name, n), &n)?)
    }

    #[action]
    async fn tagged(&self, c: &ActionCtx<'_, Self>, name: String) -> Result<Vec<u64>, Error> {
        let rows: Vec<((String, String, u64), u64)> =
            c.kv().prefix(&("tag", name), Scan::new()).await?;
        Ok(rows.into_iter().map(|(_, n)| n).collect())
    }

    /// Stages puts, a delete and a range delete over stored rows 1..=3, then reads: the
    /// answer must be what storage will hold once the turn commits.
    #[action]
    async fn shuffle_and_read(
        &self,
        c: &ActionCtx<'_, Self>,
    ) -> Result<(Numbered, Numbered, Option<String>), Error> {
        let kv = c.kv();
        kv.put(&key(10), "ten")?;
        kv.put(&key(11), "eleven")?;
        kv.delete(&key(10))?;
        kv.delete_range(key(1)..key(3))?;
        kv.put(&key(1), "one again")?;
        let forward = kv.prefix(&("n",), Scan::new().limit(3)).await?;
        let backward = kv
            .range(key(0)..key(100), Scan::new().limit(2).reverse())
            .await?;
        Ok((
            numbered(forward),
            numbered(backward),
            kv.get(&key(2)).await?,
        ))
    }

    #[action]
    fn oversized(&self, c: &ActionCtx<'_, Self>, what: String) -> Result<(), Error> {
        let kv = c.kv();
        match what.as_str() {
            "key" => kv.put(&"k".repeat(3000), &1)?,
            "value" => kv.put(&key(1), &"v".repeat(200 * 1024))?,
            _ => {
                for n in 0..20_000u64 {
                    kv.put(&key(1_000_000 + n), &n)?;
                }
            }
        }
        Ok(())
    }
}

/// Notes as `(number, text)`.
type Numbered = Vec<(u64, String)>;

/// Notes live under `("n", number)`, tags under `("tag", name, number)`.
type Note = (String, u64);

/// Every note, a page at a time, each page from after the last note read: the numbers of
/// each page, the empty last one included.
async fn read_in_pages(c: &ActionCtx<'_, Notebook>) -> Result<Vec<Vec<u64>>, Error> {
    use std::ops::Bound;
    let mut after = key(0);
    let mut pages = Vec::new();
    loop {
        let range = (Bound::Excluded(after.clone()), Bound::Unbounded);
        let rows: Vec<(Note, String)> = c.kv().range(range, Scan::new()).await?;
        let numbers: Vec<u64> = rows.iter().map(|((_, n), _)| *n).collect();
        let last = rows.last().map(|(last, _)| last.clone());
        pages.push(numbers);
        match last {
            Some(last) => after = last,
            None => return Ok(pages),
        }
    }
}

fn key(n: u64) -> Note {
    ("n".to_owned(), n)
}

fn numbered(rows: Vec<(Note, String)>) -> Vec<(u64, String)> {
    rows.into_iter().map(|((_, n), text)| (n, text)).collect()
}

async fn serve(dir: &PathBuf) -> (Registry, rivet_actor::server::Server, Client) {
    let registry = Registry::builder()
        .data_dir(dir)
        .register::<Notebook>()
        .build();
    let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let client = Client::new(server.endpoint());
    (registry, server, client)
}

fn notes(pairs: &[(u64, &str)]) -> Vec<(u64, String)> {
    pairs.iter().map(|(n, t)| (*n, t.to_string())).collect()
}

#[test]
fn writes_commit_with_the_turn_roll_back_with_it_and_survive_a_restart() {
    let dir = temp_dir("commit");
    in_process(async {
        let (_registry, _server, client) = serve(&dir).await;
        let book = client.get_or_create::<Notebook>(["main"]);
        for text in ["a", "b", "c"] {
            book.add(text.into()).await.unwrap();
        }
        assert_eq!(book.latest(2).await.unwrap(), notes(&[(3, "c"), (2, "b")]));
        assert_eq!(
            book.between(2, 3).await.unwrap(),
            notes(&[(2, "b"), (3, "c")])
        );

        // A failed turn: neither the count nor its kv writes are kept.
        let err = book.add_then_fail("d".into()).await.unwrap_err();
        assert_eq!(err.code(), Some("refused"), "{err:?}");
        assert_eq!(book.count().await.unwrap(), 3);
        assert_eq!(book.note(4).await.unwrap(), None);
        assert_eq!(book.note(1).await.unwrap().as_deref(), Some("a"));

        // A panicking turn: the same.
        let err = book.add_then_panic("e".into()).await.unwrap_err();
        assert_eq!(err.code(), Some("internal_error"), "{err:?}");
        assert_eq!(book.count().await.unwrap(), 3);
        assert_eq!(book.note(4).await.unwrap(), None);
        assert_eq!(book.note(1).await.unwrap().as_deref(), Some("a"));

        book.tag("red".into(), 1).await.unwrap();
        book.tag("red".into(), 3).await.unwrap();
        book.tag("redder".into(), 2).await.unwrap();
        assert_eq!(book.tagged("red".into()).await.unwrap(), [1, 3]);

        book.forget_before(2).await.unwrap();
        assert_eq!(book.note(1).await.unwrap(), None);
    });
    // A new process on the same data directory.
    in_process(async {
        let (_registry, _server, client) = serve(&dir).await;
        let book = client.get_or_create::<Notebook>(["main"]);
        assert_eq!(book.count().await.unwrap(), 3);
        assert_eq!(book.latest(10).await.unwrap(), notes(&[(3, "c"), (2, "b")]));
        assert_eq!(book.tagged("red".into()).await.unwrap(), [1, 3]);
        assert_eq!(book.tagged("redder".into()).await.unwrap(), [2]);
    });
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_turn_reads_its_own_writes_through_ranges() {
    let dir = temp_dir("overlay");
    in_process(async {
        let (_registry, _server, client) = serve(&dir).await;
        let book = client.get_or_create::<Notebook>(["overlay"]);
        for text in ["a", "b", "c"] {
            book.add(text.into()).await.unwrap();
        }
        let (forward, backward, two) = book.shuffle_and_read().await.unwrap();
        // Stored 1..=3; staged: 1..3 deleted, 1 put again, 11 put (10 put then deleted).
        assert_eq!(
            forward,
            notes(&[(1, "one again"), (3, "c"), (11, "eleven")])
        );
        assert_eq!(backward, notes(&[(11, "eleven"), (3, "c")]));
        assert_eq!(two, None);
        // Once committed, storage says the same.
        assert_eq!(
            book.latest(10).await.unwrap(),
            notes(&[(11, "eleven"), (3, "c"), (1, "one again")])
        );
    });
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn limits_are_typed_errors_and_store_nothing() {
    let dir = temp_dir("limits");
    in_process(async {
        let (_registry, _server, client) = serve(&dir).await;
        let book = client.get_or_create::<Notebook>(["limits"]);
        book.add("a".into()).await.unwrap();
        for (what, code) in [
            ("key", "kv_key_too_large"),
            ("value", "kv_value_too_large"),
            ("rows", "kv_too_many_writes"),
        ] {
            let err = book.oversized(what.into()).await.unwrap_err();
            assert_eq!(err.code(), Some(code), "{what}: {err:?}");
            let group = err.actor_error().map(|e| e.group.as_str());
            assert_eq!(group, Some("actor"), "{what}: {err:?}");
        }
        assert_eq!(book.latest(100).await.unwrap(), notes(&[(1, "a")]));
        // A row written again counts once toward the turn's 16 MiB: 200 x 100 KB of
        // rewrites of one row is one row.
        book.rewrite(200).await.unwrap();
    });
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn concurrent_turns_share_commits_and_keep_every_write() {
    let dir = temp_dir("concurrent");
    in_process(async {
        let (_registry, _server, client) = serve(&dir).await;
        let calls: Vec<_> = (0..200)
            .map(|i| {
                let book = client.get_or_create::<Notebook>(["busy"]);
                tokio::spawn(async move { book.add(format!("n{i}")).await })
            })
            .collect();
        let mut numbers = Vec::new();
        for call in calls {
            numbers.push(call.await.unwrap().unwrap());
        }
        numbers.sort();
        assert_eq!(numbers, (1..=200).collect::<Vec<u64>>());
        let book = client.get_or_create::<Notebook>(["busy"]);
        assert_eq!(book.latest(1000).await.unwrap().len(), 200);
    });
    in_process(async {
        let (_registry, _server, client) = serve(&dir).await;
        let book = client.get_or_create::<Notebook>(["busy"]);
        let stored = book.latest(1000).await.unwrap();
        assert_eq!(stored.len(), 200);
        assert_eq!(stored[0].0, 200);
    });
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_scan_of_large_rows_stops_at_its_byte_bound_and_reads_on_from_there() {
    let dir = temp_dir("scan-bytes");
    in_process(async {
        let (_registry, _server, client) = serve(&dir).await;
        let book = client.get_or_create::<Notebook>(["bytes"]);
        // 200 notes of 100 KB: 20 MB, more than one scan returns (16 MiB), in turns of 10 MB.
        book.bulk(100, 100_000).await.unwrap();
        book.bulk(100, 100_000).await.unwrap();
        let pages = book.pages().await.unwrap();
        // The first page stops after the note that reaches 16 MiB (its limit is 1,000); the
        // next one reads on from there, and every note is read once.
        assert_eq!(pages.len(), 3, "{pages:?}");
        assert!((160..=170).contains(&pages[0]), "{pages:?}");
        assert_eq!(pages.iter().sum::<usize>(), 200, "{pages:?}");
        assert_eq!(pages[2], 0);

        // A page cut for its bytes whose every row the turn deleted does not end the scan
        // early, nor let the turn's own put skip what storage holds before it.
        let read = book.change_then_read_all(170, 1000).await.unwrap();
        let expected: Vec<u64> = (171..=200).chain([1000]).collect();
        assert_eq!(read, expected);
    });
    let _ = std::fs::remove_dir_all(&dir);
}
