//! `c.db()` inside the executor: one in-memory SQLite database per actor (SQLite's `memdb`
//! VFS, so its image can be read without a copy), stored as the actor's kv rows one page
//! each. A turn's statements run in a savepoint; when the turn commits, the pages that
//! differ from the image at the last commit go into the turn's storage write; when it
//! fails, the savepoint is rolled back.

use std::sync::{Mutex, MutexGuard};

use rusqlite::{Connection, MAIN_DB, OpenFlags};

use crate::context::effects::DbEffects;
use crate::db::MAX_DB_BYTES;
use crate::error::ActorError;
use crate::storage::{ActorWrite, KvPair};

/// Where the database's rows live among the actor's kv rows.
pub(crate) const PREFIX: &[u8] = b"d/";
/// `d/p/<page index, 4 bytes big-endian>`: one page each.
const PAGES: &[u8] = b"d/p/";
/// `d/n`: how many pages the database has (4 bytes big-endian).
const COUNT: &[u8] = b"d/n";
const PAGE: usize = 4096;

/// The database of one awake actor.
pub(crate) struct ActorDb {
    conn: Connection,
    /// The database as the last committed turn left it (what storage holds, or will once
    /// the gate has written it).
    image: Vec<u8>,
    /// A turn's savepoint is open.
    in_turn: bool,
    /// The turn's savepoint went (SQLite ends the whole transaction on some errors, a full
    /// database among them): the database was put back as the last commit left it, and the
    /// turn fails with this error.
    broken: Option<ActorError>,
}

/// An in-memory database holding `image` (a new one when it is empty), bounded in size.
fn connect(image: &[u8]) -> Result<Connection, ActorError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_URI
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let mut conn =
        Connection::open_with_flags("file:actor?vfs=memdb", flags).map_err(sql_failed)?;
    if !image.is_empty() {
        conn.deserialize_read_exact(MAIN_DB, image, image.len(), false)
            .map_err(sql_failed)?;
    }
    conn.pragma_update(None, "max_page_count", (MAX_DB_BYTES / PAGE) as i64)
        .map_err(sql_failed)?;
    Ok(conn)
}

fn page_key(index: usize) -> Vec<u8> {
    [PAGES, &(index as u32).to_be_bytes()].concat()
}

fn sql_failed(err: rusqlite::Error) -> ActorError {
    match err.sqlite_error_code() {
        Some(rusqlite::ErrorCode::DiskFull) => ActorError::db_full(MAX_DB_BYTES),
        _ => ActorError::new("db", "sql", err.to_string()),
    }
}

impl ActorDb {
    /// The database stored in `rows` (the actor's rows under [`PREFIX`]); empty if none.
    pub(crate) fn open(rows: &[KvPair]) -> Result<Self, ActorError> {
        let count = rows
            .iter()
            .find(|(key, _)| key.as_slice() == COUNT)
            .and_then(|(_, value)| value.as_slice().try_into().ok())
            .map_or(0, |n: [u8; 4]| u32::from_be_bytes(n) as usize);
        let mut image = vec![0; count * PAGE];
        for (key, page) in rows {
            let Some(index) = key.strip_prefix(PAGES) else {
                continue;
            };
            let index = index
                .try_into()
                .map(|n: [u8; 4]| u32::from_be_bytes(n) as usize)
                .ok()
                .filter(|index| *index < count && page.len() == PAGE)
                .ok_or_else(|| {
                    ActorError::new("db", "corrupt", "a stored database page is damaged")
                })?;
            image[index * PAGE..(index + 1) * PAGE].copy_from_slice(page);
        }
        Ok(ActorDb {
            conn: connect(&image)?,
            image,
            in_turn: false,
            broken: None,
        })
    }

    /// Back to the database as the last commit left it (its image), the turn's savepoint
    /// gone with the rest.
    fn reset(&mut self) -> Result<(), ActorError> {
        self.conn = connect(&self.image)?;
        self.in_turn = false;
        Ok(())
    }

    /// Moves the turn's changes into its storage write: the pages that differ from the
    /// image at the last commit, and the page count if it changed.
    ///
    /// # Errors
    /// `actor.internal` when the savepoint cannot be released or the database read back
    /// (out of memory). The turn's changes are then in the database but in no write: the
    /// turn must fail and the instance reload what storage holds.
    pub(crate) fn stage(&mut self, write: &mut ActorWrite) -> Result<(), ActorError> {
        if let Some(err) = self.broken.take() {
            return Err(err);
        }
        if !self.in_turn {
            return Ok(());
        }
        // memdb hands out its file image, which holds a transaction's pages only once it
        // commits: release first, then read.
        if let Err(err) = self.conn.execute_batch("RELEASE rivet_turn") {
            // Cannot happen for a savepoint we opened; `abort` tries to roll it back.
            tracing::error!(%err, "the database's savepoint could not be released");
            return Err(ActorError::internal());
        }
        self.in_turn = false;
        let data = match self.conn.serialize(MAIN_DB) {
            Ok(data) => data,
            Err(err) => {
                tracing::error!(%err, "the database could not be read for its commit");
                return Err(ActorError::internal());
            }
        };
        if data.len() % PAGE != 0 {
            // Stored a page a row, of 4 KiB: a database made with another page size
            // (`PRAGMA page_size`) would lose its last part.
            self.reset()?;
            return Err(ActorError::new(
                "db",
                "sql",
                "c.db() keeps 4096-byte pages: PRAGMA page_size cannot change them",
            ));
        }
        let (old, new) = (self.image.len() / PAGE, data.len() / PAGE);
        self.image.resize(data.len(), 0);
        for index in 0..new {
            let span = index * PAGE..(index + 1) * PAGE;
            let page = &data[span.clone()];
            if index >= old || self.image[span.clone()] != *page {
                write.kv_put.push((page_key(index), page.to_vec()));
                self.image[span].copy_from_slice(page);
            }
        }
        if new != old {
            write
                .kv_put
                .push((COUNT.to_vec(), (new as u32).to_be_bytes().to_vec()));
            if new < old {
                write.kv_delete_range.push((page_key(new), page_key(old)));
            }
        }
        Ok(())
    }

    /// The turn failed: its statements are undone.
    pub(crate) fn abort(&mut self) {
        self.broken = None;
        if std::mem::take(&mut self.in_turn)
            && let Err(err) = self
                .conn
                .execute_batch("ROLLBACK TO rivet_turn; RELEASE rivet_turn")
        {
            tracing::warn!(%err, "the database's savepoint could not be rolled back; putting back the last commit");
            if let Err(err) = self.reset() {
                tracing::error!(%err, "the database could not be put back");
            }
        }
    }
}

/// One instance's database slot: empty until a stored database is loaded or a turn first
/// uses `c.db()`.
#[derive(Default)]
pub(crate) struct DbSlot(Mutex<Option<Box<ActorDb>>>);

impl DbSlot {
    pub(crate) fn lock(&self) -> MutexGuard<'_, Option<Box<ActorDb>>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Loads the database stored in `rows` at wake (nothing if there are none).
    pub(crate) fn load(&self, rows: &[KvPair]) -> Result<(), ActorError> {
        if !rows.is_empty() {
            *self.lock() = Some(Box::new(ActorDb::open(rows)?));
        }
        Ok(())
    }

    /// See [`ActorDb::stage`].
    pub(crate) fn stage(&self, write: &mut ActorWrite) -> Result<(), ActorError> {
        match self.lock().as_mut() {
            Some(db) => db.stage(write),
            None => Ok(()),
        }
    }

    pub(crate) fn abort(&self) {
        if let Some(db) = self.lock().as_mut() {
            db.abort();
        }
    }
}

/// A turn's `c.db()`: refused where the storage places actors (engine mode).
pub(crate) struct DbAccess<'a> {
    pub(crate) slot: &'a DbSlot,
}

impl DbEffects for DbAccess<'_> {
    fn run(
        &self,
        f: &mut dyn FnMut(&Connection) -> rusqlite::Result<()>,
    ) -> Result<(), ActorError> {
        // Not waited for: only `c.db()` called inside `c.db().with(..)` finds it taken.
        let mut slot = match self.slot.0.try_lock() {
            Ok(slot) => slot,
            Err(std::sync::TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => {
                return Err(ActorError::new(
                    "db",
                    "sql",
                    "c.db() was called inside c.db().with(..): use the connection given",
                ));
            }
        };
        let db = match slot.as_mut() {
            Some(db) => db,
            None => slot.insert(Box::new(ActorDb::open(&[])?)),
        };
        if let Some(err) = &db.broken {
            return Err(err.clone());
        }
        if !db.in_turn {
            // The size bound again: an earlier turn's `PRAGMA max_page_count` does not
            // outlive it.
            db.conn
                .pragma_update(None, "max_page_count", (MAX_DB_BYTES / PAGE) as i64)
                .map_err(sql_failed)?;
            db.conn
                .execute_batch("SAVEPOINT rivet_turn")
                .map_err(sql_failed)?;
            db.in_turn = true;
        }
        let ran = f(&db.conn).map_err(sql_failed);
        if db.conn.is_autocommit() {
            // The savepoint is gone: SQLite ended the whole transaction (as it does on a
            // full database), or a statement did (COMMIT, ROLLBACK, RELEASE). What ran
            // before is undone and what runs next would commit on its own: put back the
            // last commit, and fail the turn.
            let err = ran.err().unwrap_or_else(|| {
                ActorError::new(
                    "db",
                    "sql",
                    "a statement ended c.db()'s transaction (COMMIT, ROLLBACK or RELEASE)",
                )
            });
            db.reset()?;
            db.broken = Some(err.clone());
            return Err(err);
        }
        ran
    }
}
