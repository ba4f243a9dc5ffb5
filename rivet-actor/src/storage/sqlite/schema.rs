//! File layout: connection setup, identity checks, schema migrations, row encoding.
//!
//! # Schema (version 1)
//!
//! ```sql
//! CREATE TABLE actors (
//!     id            TEXT    NOT NULL PRIMARY KEY,
//!     name          TEXT    NOT NULL,
//!     key           TEXT    NOT NULL,            -- JSON array of strings: ["a,b"] != ["a","b"]
//!     input         BLOB,                        -- CBOR of the create input
//!     created       INTEGER NOT NULL DEFAULT 0,  -- on_create has completed
//!     created_at_ms INTEGER NOT NULL,
//!     UNIQUE (name, key)
//! ) STRICT;
//! CREATE TABLE state (
//!     id    TEXT NOT NULL PRIMARY KEY,           -- actors.id
//!     value BLOB NOT NULL                        -- encoded actor state
//! ) STRICT, WITHOUT ROWID;
//! CREATE TABLE kv (
//!     id    TEXT NOT NULL,                       -- actors.id
//!     key   BLOB NOT NULL,
//!     value BLOB NOT NULL,
//!     PRIMARY KEY (id, key)
//! ) STRICT, WITHOUT ROWID;
//! ```
//!
//! `PRAGMA application_id` marks the file as ours, `PRAGMA user_version` is the schema version
//! (the number of [`MIGRATIONS`] applied).

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags, Row};

use crate::storage::{ActorRecord, StorageError, StorageResult};

/// `PRAGMA application_id` of a rivet-actor store: ASCII "RvAc".
pub(crate) const APPLICATION_ID: i32 = 0x5276_4163;

/// Migration `i` takes the schema from version `i` to `i + 1`. Append only; never edit a
/// released entry.
pub(crate) const MIGRATIONS: &[&str] = &["
    CREATE TABLE actors (
        id            TEXT    NOT NULL PRIMARY KEY,
        name          TEXT    NOT NULL,
        key           TEXT    NOT NULL,
        input         BLOB,
        created       INTEGER NOT NULL DEFAULT 0,
        created_at_ms INTEGER NOT NULL,
        UNIQUE (name, key)
    ) STRICT;
    CREATE TABLE state (
        id    TEXT NOT NULL PRIMARY KEY,
        value BLOB NOT NULL
    ) STRICT, WITHOUT ROWID;
    CREATE TABLE kv (
        id    TEXT NOT NULL,
        key   BLOB NOT NULL,
        value BLOB NOT NULL,
        PRIMARY KEY (id, key)
    ) STRICT, WITHOUT ROWID;
"];

/// The schema version this build writes.
pub(crate) const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// How long a connection waits for a lock held by another connection before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Columns of `actors`, in the order [`record_from_row`] expects.
pub(crate) const ACTOR_COLUMNS: &str = "id, name, key, input, created, created_at_ms";
/// [`ACTOR_COLUMNS`] for a listing: the input is not read.
pub(crate) const LIST_COLUMNS: &str = "id, name, key, NULL, created, created_at_ms";

/// Maps a SQLite error to a [`StorageError`], naming what we were doing.
pub(crate) fn sql_error(context: &str, e: rusqlite::Error) -> StorageError {
    match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) | Some(ErrorCode::DatabaseCorrupt) => StorageError::Corrupt {
            what: format!("{context}: {e}"),
        },
        Some(ErrorCode::DiskFull) => StorageError::Full {
            what: context.to_owned(),
        },
        _ => StorageError::Backend(format!("{context}: {e}")),
    }
}

/// Opens the write connection: checks that the file is ours (or new), migrates it to
/// [`SCHEMA_VERSION`] and switches it to WAL with `synchronous=FULL`.
pub(crate) fn open_writer(path: &Path) -> StorageResult<Connection> {
    let shown = path.display();
    let ctx = |what: &str| format!("{what} {shown}");
    let mut conn = Connection::open(path).map_err(|e| sql_error(&ctx("opening"), e))?;
    conn.busy_timeout(BUSY_TIMEOUT)
        .map_err(|e| sql_error(&ctx("configuring"), e))?;

    // Identify and migrate inside one write transaction, so that two processes opening a new
    // directory at once cannot both create the schema. Nothing is written to a foreign file.
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(|e| sql_error(&ctx("locking"), e))?;
    let app_id: i32 = tx
        .pragma_query_value(None, "application_id", |r| r.get(0))
        .map_err(|e| sql_error(&ctx("reading"), e))?;
    let version: i64 = tx
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(|e| sql_error(&ctx("reading"), e))?;
    let objects: i64 = tx
        .query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))
        .map_err(|e| sql_error(&ctx("reading the schema of"), e))?;

    if app_id != APPLICATION_ID {
        if app_id != 0 || version != 0 || objects != 0 {
            return Err(StorageError::Corrupt {
                what: format!(
                    "{shown} is a SQLite database of another application \
                     (application_id {app_id:#x}, user_version {version}, {objects} schema \
                     objects); move it away or choose another data directory"
                ),
            });
        }
        tx.pragma_update(None, "application_id", APPLICATION_ID)
            .map_err(|e| sql_error(&ctx("initialising"), e))?;
    }
    if version > SCHEMA_VERSION {
        return Err(StorageError::UnsupportedVersion {
            found: version,
            supported: SCHEMA_VERSION,
        });
    }
    if version < 0 {
        return Err(StorageError::Corrupt {
            what: format!("{shown} has a negative schema version {version}"),
        });
    }
    for (from, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        tx.execute_batch(sql).map_err(|e| {
            sql_error(
                &ctx(&format!("migrating to schema version {}", from + 1)),
                e,
            )
        })?;
    }
    if version < SCHEMA_VERSION {
        tx.pragma_update(None, "user_version", SCHEMA_VERSION)
            .map_err(|e| sql_error(&ctx("initialising"), e))?;
    }
    check_tables(&tx).map_err(|what| StorageError::Corrupt {
        what: format!("{shown}: {what}"),
    })?;
    tx.commit()
        .map_err(|e| sql_error(&ctx("initialising"), e))?;

    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
        .map_err(|e| sql_error(&ctx("enabling WAL on"), e))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StorageError::Backend(format!(
            "{shown}: the file system refused WAL mode (journal_mode is {mode})"
        )));
    }
    // FULL: in WAL mode every commit fsyncs the WAL, so an acknowledged write survives a power
    // loss. NORMAL would not.
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(|e| sql_error(&ctx("configuring"), e))?;
    conn.set_prepared_statement_cache_capacity(32);
    Ok(conn)
}

/// Opens a read connection on a file that [`open_writer`] has already set up.
pub(crate) fn open_reader(path: &Path) -> StorageResult<Connection> {
    let shown = path.display();
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)
        .map_err(|e| sql_error(&format!("opening {shown} for reading"), e))?;
    conn.busy_timeout(BUSY_TIMEOUT)
        .and_then(|()| conn.pragma_update(None, "query_only", true))
        .map_err(|e| sql_error(&format!("configuring a reader of {shown}"), e))?;
    Ok(conn)
}

/// Verifies that the tables we use exist with the columns we use, so that a damaged schema is
/// reported at open rather than on the first query.
fn check_tables(conn: &Connection) -> Result<(), String> {
    let expected: [(&str, &[&str]); 3] = [
        (
            "actors",
            &["id", "name", "key", "input", "created", "created_at_ms"],
        ),
        ("state", &["id", "value"]),
        ("kv", &["id", "key", "value"]),
    ];
    for (table, columns) in expected {
        let mut found = Vec::new();
        conn.pragma(None, "table_info", table, |row| {
            found.push(row.get::<_, String>(1)?);
            Ok(())
        })
        .map_err(|e| format!("reading the columns of table {table}: {e}"))?;
        if let Some(missing) = columns.iter().find(|c| !found.iter().any(|f| f == *c)) {
            return Err(format!(
                "table {table} lacks column {missing} (found {found:?}); the schema is damaged"
            ));
        }
    }
    Ok(())
}

/// Encodes a key for the `actors.key` column: a JSON array of strings, which is canonical
/// (one encoding per key) and never confuses `["a,b"]` with `["a","b"]`.
pub(crate) fn encode_key(key: &[String]) -> String {
    serde_json::to_string(key).expect("serializing a list of strings cannot fail")
}

/// An `actors` row as stored, before its key is decoded.
pub(crate) struct RawRecord {
    id: String,
    name: String,
    key: String,
    input: Option<Vec<u8>>,
    created: bool,
    created_at_ms: i64,
}

impl RawRecord {
    /// Reads a row selected with [`ACTOR_COLUMNS`].
    pub(crate) fn from_row(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            id: row.get(0)?,
            name: row.get(1)?,
            key: row.get(2)?,
            input: row.get(3)?,
            created: row.get(4)?,
            created_at_ms: row.get(5)?,
        })
    }

    /// Decodes the key; a key that is not a JSON array of strings is [`StorageError::Corrupt`].
    pub(crate) fn decode(self) -> StorageResult<ActorRecord> {
        let key = serde_json::from_str(&self.key).map_err(|e| StorageError::Corrupt {
            what: format!(
                "actor {:?} has an undecodable key {:?}: {e}",
                self.id, self.key
            ),
        })?;
        Ok(ActorRecord {
            id: self.id,
            name: self.name,
            key,
            input: self.input,
            created: self.created,
            created_at_ms: self.created_at_ms,
        })
    }
}
