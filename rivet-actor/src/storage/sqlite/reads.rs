//! Point reads on a read connection, shared by the single reads of the [`Storage`] impl and
//! the wake's combined read (one trip to a reader for record, state and rows).
//!
//! [`Storage`]: crate::storage::Storage

use rusqlite::{Connection, OptionalExtension, params};

use super::schema::{ACTOR_COLUMNS, RawRecord, sql_error};
use crate::storage::{ActorRecord, KvPair, KvScan, StorageError, StorageResult, prefix_successor};

/// Maps a read's SQLite error to a storage error naming what was read, and of which actor.
pub(super) fn read_error(what: &str, id: &str) -> impl Fn(rusqlite::Error) -> StorageError {
    let context = format!("reading {what} of actor {id:?}");
    move |e| sql_error(&context, e)
}

/// The record of actor `id`.
pub(super) fn record(conn: &Connection, id: &str) -> StorageResult<Option<ActorRecord>> {
    conn.prepare_cached(&format!("SELECT {ACTOR_COLUMNS} FROM actors WHERE id = ?1"))
        .and_then(|mut s| s.query_row([id], RawRecord::from_row).optional())
        .map_err(read_error("the record", id))?
        .map(RawRecord::decode)
        .transpose()
}

/// The encoded state of actor `id`.
pub(super) fn state(conn: &Connection, id: &str) -> StorageResult<Option<Vec<u8>>> {
    conn.prepare_cached("SELECT value FROM state WHERE id = ?1")
        .and_then(|mut s| s.query_row([id], |r| r.get(0)).optional())
        .map_err(read_error("the state", id))
}

/// The kv rows of actor `id` whose keys start with `prefix`, in key order.
pub(super) fn rows(conn: &Connection, id: &str, prefix: &[u8]) -> StorageResult<Vec<KvPair>> {
    let row = |r: &rusqlite::Row<'_>| Ok((r.get(0)?, r.get(1)?));
    match prefix_successor(prefix) {
        Some(end) => conn
            .prepare_cached(
                "SELECT key, value FROM kv WHERE id = ?1 AND key >= ?2 AND key < ?3
                 ORDER BY key",
            )
            .and_then(|mut s| s.query_map(params![id, prefix, end], row)?.collect()),
        None => conn
            .prepare_cached("SELECT key, value FROM kv WHERE id = ?1 AND key >= ?2 ORDER BY key")
            .and_then(|mut s| s.query_map(params![id, prefix], row)?.collect()),
    }
    .map_err(read_error("kv rows", id))
}

/// The kv rows of actor `id` in `scan`'s range, in its order, at most `scan.limit`.
pub(super) fn range(conn: &Connection, id: &str, scan: &KvScan) -> StorageResult<Vec<KvPair>> {
    // Both orders walk the (id, key) primary key; the limit (or the bytes) stops the walk.
    let sql = if scan.reverse {
        "SELECT key, value FROM kv WHERE id = ?1 AND key >= ?2 AND (?3 IS NULL OR key < ?3)
         ORDER BY key DESC LIMIT ?4"
    } else {
        "SELECT key, value FROM kv WHERE id = ?1 AND key >= ?2 AND (?3 IS NULL OR key < ?3)
         ORDER BY key LIMIT ?4"
    };
    let limit = i64::try_from(scan.limit).unwrap_or(i64::MAX);
    conn.prepare_cached(sql)
        .and_then(|mut s| {
            let mut rows = s.query(params![id, scan.start, scan.end, limit])?;
            let mut failed = None;
            let found = scan.take(std::iter::from_fn(|| {
                let row = rows.next().and_then(|row| match row {
                    Some(r) => Ok(Some((r.get(0)?, r.get(1)?))),
                    None => Ok(None),
                });
                row.unwrap_or_else(|err| {
                    failed = Some(err);
                    None
                })
            }));
            match failed {
                Some(err) => Err(err),
                None => Ok(found),
            }
        })
        .map_err(read_error("kv rows", id))
}
