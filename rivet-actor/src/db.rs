//! The actor's own SQL database: `c.db()` in a turn.
//!
//! Each actor that uses it has a SQLite database of its own. Statements run at once (a
//! turn reads its own writes) inside a savepoint of the turn: when the turn commits, the
//! database pages it changed are written with its state change in one storage write —
//! atomic with it, durable before the turn's reply leaves; when it fails or panics, the
//! savepoint is rolled back and nothing is written.
//!
//! ```
//! use rivet_actor::prelude::*;
//!
//! #[derive(Default, Serialize, Deserialize)]
//! pub struct Todos;
//!
//! #[derive(Serialize, Deserialize)]
//! pub struct Todo { id: i64, title: String, done: i64 }
//!
//! #[actor]
//! impl Todos {
//!     #[on_wake]
//!     fn schema(&mut self, c: &mut ActorCtx<'_, Self>) -> Result<(), Error> {
//!         c.db().migrate(&[
//!             "CREATE TABLE todos (id INTEGER PRIMARY KEY, title TEXT NOT NULL)",
//!             "ALTER TABLE todos ADD COLUMN done INTEGER NOT NULL DEFAULT 0",
//!         ])?;
//!         Ok(())
//!     }
//!
//!     #[action]
//!     fn add(&self, c: &ActionCtx<'_, Self>, title: String) -> Result<i64, Error> {
//!         c.db().execute("INSERT INTO todos (title) VALUES (?1)", [&title])?;
//!         Ok(c.db().query_row::<i64, _>("SELECT last_insert_rowid()", ())?.unwrap_or(0))
//!     }
//!
//!     #[action]
//!     fn open(&self, c: &ActionCtx<'_, Self>) -> Result<Vec<Todo>, Error> {
//!         Ok(c.db().query("SELECT id, title, done FROM todos WHERE done = 0 ORDER BY id", ())?)
//!     }
//! }
//! ```
//!
//! **Layout and cost.** The database lives in memory while the actor is awake (at most
//! [`MAX_DB_BYTES`]) and is stored as the actor's kv rows, one per 4 KiB page
//! (`d/p/<page>`, beside the page count `d/n`), in whatever storage the registry uses: the
//! actors' SQLite file by default. Waking reads the pages with the actor's other rows. A
//! turn that wrote finds the pages it changed by comparing the database with its image at
//! the last commit, and writes only those pages: what is written follows what changed,
//! while the compare's CPU follows the database's size (a memory compare of all of it), and
//! the image doubles the memory the database takes while the actor is awake.
//! In engine mode the pages are engine KV rows like the others; a turn whose pages one
//! engine put cannot hold commits through the engine's journal, atomically all the same.

use serde::de::DeserializeOwned;

use crate::context::effects::DbEffects;
use crate::error::ActorError;
use crate::value::Value;

pub use rusqlite;

/// The largest database one actor may hold (past it, writes fail with `actor.db_full`).
pub const MAX_DB_BYTES: usize = 64 << 20;

/// The actor's database as a turn sees it: `c.db()` (see the [module](self) docs).
pub struct Db<'a> {
    effects: Box<dyn DbEffects + 'a>,
}

impl<'a> Db<'a> {
    pub(crate) fn new(effects: Box<dyn DbEffects + 'a>) -> Self {
        Db { effects }
    }

    /// Runs `f` on the connection, inside the turn's savepoint: rusqlite's whole API, for
    /// what the shortcuts below do not cover.
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// # #[derive(Default, Serialize, Deserialize)] pub struct Log;
    /// # #[actor] impl Log {
    /// #[action]
    /// fn lines(&self, c: &ActionCtx<'_, Self>) -> Result<Vec<String>, Error> {
    ///     Ok(c.db().with(|conn| {
    ///         conn.execute_batch("CREATE TABLE IF NOT EXISTS lines (n INTEGER PRIMARY KEY, text TEXT)")?;
    ///         let mut statement = conn.prepare("SELECT text FROM lines ORDER BY n")?;
    ///         let rows = statement.query_map([], |row| row.get(0))?;
    ///         rows.collect()
    ///     })?)
    /// }
    /// # }
    /// ```
    pub fn with<R>(
        &self,
        f: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<R>,
    ) -> Result<R, ActorError> {
        let mut f = Some(f);
        let mut out = None;
        self.effects.run(&mut |conn| {
            let f = f.take().expect("run calls its closure once");
            out = Some(f(conn)?);
            Ok(())
        })?;
        Ok(out.expect("run succeeded, so the closure ran"))
    }

    /// Runs one statement; how many rows it changed.
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// # #[derive(Default, Serialize, Deserialize)] pub struct Notes;
    /// # #[actor] impl Notes {
    /// #[action]
    /// fn add(&self, c: &ActionCtx<'_, Self>, text: String) -> Result<usize, Error> {
    ///     c.db().execute_batch("CREATE TABLE IF NOT EXISTS notes (text TEXT)")?;
    ///     Ok(c.db().execute("INSERT INTO notes (text) VALUES (?1)", [text])?)
    /// }
    /// # }
    /// ```
    pub fn execute(&self, sql: &str, params: impl rusqlite::Params) -> Result<usize, ActorError> {
        self.with(|conn| conn.execute(sql, params))
    }

    /// Runs statements separated by `;` (no parameters).
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// # #[derive(Default, Serialize, Deserialize)] pub struct Notes;
    /// # #[actor] impl Notes {
    /// #[action]
    /// fn reset(&self, c: &ActionCtx<'_, Self>) -> Result<(), Error> {
    ///     Ok(c.db().execute_batch("DROP TABLE IF EXISTS notes; CREATE TABLE notes (text TEXT)")?)
    /// }
    /// # }
    /// ```
    pub fn execute_batch(&self, sql: &str) -> Result<(), ActorError> {
        self.with(|conn| conn.execute_batch(sql))
    }

    /// Runs a query; each row becomes a `T`, its columns read by name (a struct's fields):
    /// integers, reals, text, blobs and nulls as serde sees them.
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// # #[derive(Default, Serialize, Deserialize)] pub struct Notes;
    /// # #[derive(Serialize, Deserialize)] pub struct Note { id: i64, text: String }
    /// # #[actor] impl Notes {
    /// #[action]
    /// fn all(&self, c: &ActionCtx<'_, Self>) -> Result<Vec<Note>, Error> {
    ///     c.db().execute_batch("CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, text TEXT)")?;
    ///     Ok(c.db().query("SELECT id, text FROM notes ORDER BY id", ())?)
    /// }
    /// # }
    /// ```
    pub fn query<T: DeserializeOwned>(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
    ) -> Result<Vec<T>, ActorError> {
        let rows = self.with(|conn| {
            let mut statement = conn.prepare(sql)?;
            let names: Vec<String> = statement.column_names().map(str::to_owned).collect();
            let rows = statement.query_map(params, |row| {
                let mut fields = Vec::with_capacity(names.len());
                for (i, name) in names.iter().enumerate() {
                    fields.push((Value::Text(name.clone()), column(row.get_ref(i)?)));
                }
                Ok(Value::Map(fields))
            })?;
            rows.collect::<rusqlite::Result<Vec<Value>>>()
        })?;
        rows.into_iter().map(row_value).collect()
    }

    /// The first column of the first row, as `R` (`None` without rows).
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// # #[derive(Default, Serialize, Deserialize)] pub struct Notes;
    /// # #[actor] impl Notes {
    /// #[action]
    /// fn count(&self, c: &ActionCtx<'_, Self>) -> Result<i64, Error> {
    ///     c.db().execute_batch("CREATE TABLE IF NOT EXISTS notes (text TEXT)")?;
    ///     Ok(c.db().query_row::<i64, _>("SELECT count(*) FROM notes", ())?.unwrap_or(0))
    /// }
    /// # }
    /// ```
    pub fn query_row<R: rusqlite::types::FromSql, P: rusqlite::Params>(
        &self,
        sql: &str,
        params: P,
    ) -> Result<Option<R>, ActorError> {
        use rusqlite::OptionalExtension;
        self.with(|conn| conn.query_row(sql, params, |row| row.get(0)).optional())
    }

    /// Brings the schema up to date: runs the statements of `migrations` from the first one
    /// this database has not run yet (counted in `PRAGMA user_version`), each once, in the
    /// turn's savepoint. Call it from `#[on_wake]`; append new migrations, never edit old
    /// ones.
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// # #[derive(Default, Serialize, Deserialize)] pub struct Notes;
    /// # #[actor] impl Notes {
    /// #[on_wake]
    /// fn schema(&mut self, c: &mut ActorCtx<'_, Self>) -> Result<(), Error> {
    ///     Ok(c.db().migrate(&["CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)"])?)
    /// }
    /// # }
    /// ```
    pub fn migrate(&self, migrations: &[&str]) -> Result<(), ActorError> {
        self.with(|conn| {
            let done: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
            for (n, sql) in migrations.iter().enumerate().skip(done.max(0) as usize) {
                conn.execute_batch(sql)?;
                conn.pragma_update(None, "user_version", (n + 1) as i64)?;
            }
            Ok(())
        })
    }
}

fn column(value: rusqlite::types::ValueRef<'_>) -> Value {
    use rusqlite::types::ValueRef;
    match value {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(n) => Value::Integer(n.into()),
        ValueRef::Real(x) => Value::Float(x),
        ValueRef::Text(text) => Value::Text(String::from_utf8_lossy(text).into_owned()),
        ValueRef::Blob(bytes) => Value::Bytes(bytes.to_vec()),
    }
}

fn row_value<T: DeserializeOwned>(row: Value) -> Result<T, ActorError> {
    crate::value::from_value(row).map_err(|err| {
        ActorError::new(
            "db",
            "decode",
            format!("a row does not decode as the type asked for: {err}"),
        )
    })
}
