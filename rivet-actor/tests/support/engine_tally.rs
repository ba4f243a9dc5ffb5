//! The actor the engine tests host: a tally with `c.kv()` notes, calls and queue sends to
//! other tallies through `c.client()`, and a self-destruct.

use rivet_actor::kv::Scan;
use rivet_actor::prelude::*;

/// Set: the next `poke` fails after its call, as a turn cut off by its host dying before it
/// commits.
#[allow(dead_code)] // not every test that includes this file uses it
pub static CUT_OFF_AFTER_POKE: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

#[derive(Default, Serialize, Deserialize)]
pub struct Tally {
    count: i64,
    created: u32,
}

/// A number to add, queued.
#[derive(Serialize, Deserialize)]
pub struct Add {
    by: i64,
}

#[actor(queues(adds = Add))]
impl Tally {
    #[on_create]
    fn created(&mut self) {
        self.created += 1;
    }

    #[action]
    fn add(&mut self, by: i64) -> i64 {
        self.count += by;
        self.count
    }

    #[action]
    fn read(&self) -> (i64, u32) {
        (self.count, self.created)
    }

    /// `c.kv()` rows in engine KV: notes by number.
    #[action]
    fn note(&self, c: &ActionCtx<'_, Self>, n: u64, text: String) -> Result<(), Error> {
        Ok(c.kv().put(&n, &text)?)
    }

    /// The newest `limit` notes, then everything from `from` on in key order.
    #[action]
    async fn notes(
        &self,
        c: &ActionCtx<'_, Self>,
        limit: usize,
        from: u64,
    ) -> Result<(Notes, Notes), Error> {
        let newest = c.kv().range(.., Scan::new().limit(limit).reverse()).await?;
        let from = c.kv().range(from.., Scan::new()).await?;
        Ok((newest, from))
    }

    #[action]
    fn forget_before(&self, c: &ActionCtx<'_, Self>, n: u64) -> Result<(), Error> {
        Ok(c.kv().delete_range(..n)?)
    }

    #[action]
    fn forget_between(&self, c: &ActionCtx<'_, Self>, from: u64, to: u64) -> Result<(), Error> {
        Ok(c.kv().delete_range(from..to)?)
    }

    /// `count` notes of `size` bytes from `from` on, in one turn.
    #[action]
    fn note_many(
        &self,
        c: &ActionCtx<'_, Self>,
        from: u64,
        count: u64,
        size: usize,
    ) -> Result<(), Error> {
        let text = "x".repeat(size);
        for n in from..from + count {
            c.kv().put(&n, &text)?;
        }
        Ok(())
    }

    /// `c.client()` through the engine: adds 1 to the tally `other` (then fails, once,
    /// if [`CUT_OFF_AFTER_POKE`] is set).
    #[action]
    async fn poke(&self, c: &ActionCtx<'_, Self>, other: String) -> Result<i64, Error> {
        let peer = c.client().get_or_create::<Tally>([other.as_str()]).await?;
        let poked = peer.add(1).await?;
        if CUT_OFF_AFTER_POKE.swap(false, std::sync::atomic::Ordering::SeqCst) {
            return Err(UserError::new("cut off").into());
        }
        Ok(poked)
    }

    /// Asks `other` to call this actor (`back`) from inside its turn: a cycle.
    #[action]
    async fn ping_back(
        &self,
        c: &ActionCtx<'_, Self>,
        other: String,
        back: String,
    ) -> Result<String, Error> {
        let peer = c.client().get_or_create::<Tally>([other.as_str()]).await?;
        Ok(peer.echo_back(back).await?)
    }

    #[action]
    async fn echo_back(&self, c: &ActionCtx<'_, Self>, back: String) -> Result<String, Error> {
        let peer = c.client().get_or_create::<Tally>([back.as_str()]).await?;
        Ok(match peer.read().await {
            Ok(_) => "answered".into(),
            Err(err) => format!("refused: {}", err.code().unwrap_or("?")),
        })
    }

    /// `c.client()`'s queue send through the engine: queues `by` in the tally `other`.
    #[action]
    async fn queue_add(
        &self,
        c: &ActionCtx<'_, Self>,
        other: String,
        by: i64,
    ) -> Result<(), Error> {
        let peer = c.client().get_or_create::<Tally>([other.as_str()]).await?;
        Ok(peer.send(Add { by }).await?)
    }

    /// Adds every queued number; the count after.
    #[action]
    fn take_adds(&mut self, c: &mut ActionCtx<'_, Self>) -> i64 {
        while let Some(add) = c.queue().try_next::<Add>() {
            self.count += add.body.by;
        }
        self.count
    }

    #[action]
    fn self_destruct(&self, c: &ActionCtx<'_, Self>) {
        c.destroy();
    }

    /// `c.db()` in engine KV: adds a row of `size` bytes; how many rows there are.
    #[action]
    fn db_add(&self, c: &ActionCtx<'_, Self>, size: usize) -> Result<i64, Error> {
        let db = c.db();
        db.execute_batch("CREATE TABLE IF NOT EXISTS t (x TEXT)")?;
        db.execute("INSERT INTO t (x) VALUES (?1)", ["z".repeat(size)])?;
        Ok(db
            .query_row::<i64, _>("SELECT count(*) FROM t", ())?
            .unwrap_or(0))
    }

    /// How many rows `c.db()` holds.
    #[action]
    fn db_count(&self, c: &ActionCtx<'_, Self>) -> Result<i64, Error> {
        Ok(c.db()
            .query_row::<i64, _>("SELECT count(*) FROM t", ())?
            .unwrap_or(0))
    }
}

/// Notes as `(number, text)`.
type Notes = Vec<(u64, String)>;

/// A state that grows large: lines appended to a list, stored in chunks.
#[derive(Default, Serialize, Deserialize)]
pub struct Scroll {
    lines: Vec<String>,
}

#[actor]
impl Scroll {
    /// Appends `count` lines of `size` bytes; how many lines there are.
    #[action]
    fn append(&mut self, count: usize, size: usize) -> usize {
        for n in 0..count {
            self.lines
                .push(format!("{n:>8}{}", "y".repeat(size.saturating_sub(8))));
        }
        self.lines.len()
    }

    /// How many lines, and their bytes together.
    #[action]
    fn measure(&self) -> (usize, usize) {
        (self.lines.len(), self.lines.iter().map(String::len).sum())
    }
}

/// An engine-mode registry of tallies (and the scroll they keep big states in).
#[allow(dead_code)] // not every test that includes this file uses it
pub fn registry() -> Registry {
    Registry::builder()
        .engine()
        .register::<Tally>()
        .register::<Scroll>()
        .build()
}
