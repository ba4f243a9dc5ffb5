//! Read connections: a small pool, used on tokio's blocking threads so that SQLite never runs
//! on an async executor thread.
//!
//! In WAL mode readers never block the writer nor each other, and every read statement sees
//! the latest committed transaction, so a read issued after a commit resolved observes it.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use rusqlite::Connection;

use super::schema::open_reader;
use crate::storage::{BoxFuture, StorageError, StorageResult};

/// Idle connections kept for reuse; more are opened on demand under concurrent reads.
const MAX_IDLE: usize = 4;

pub(crate) struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl Readers {
    /// A pool for the database at `path`, opening one connection now so that a file that
    /// cannot be read is reported at open.
    pub(crate) fn open(path: PathBuf) -> StorageResult<Arc<Self>> {
        let first = open_reader(&path)?;
        Ok(Arc::new(Self {
            path,
            idle: Mutex::new(vec![first]),
        }))
    }

    fn idle(&self) -> MutexGuard<'_, Vec<Connection>> {
        self.idle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs `f` with a read connection on a blocking thread.
    ///
    /// Outside a tokio runtime there is no executor to protect, so `f` runs on the polling
    /// thread instead.
    pub(crate) fn run<T, F>(self: &Arc<Self>, f: F) -> BoxFuture<'static, StorageResult<T>>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StorageResult<T> + Send + 'static,
    {
        let this = Arc::clone(self);
        Box::pin(async move {
            if tokio::runtime::Handle::try_current().is_err() {
                return this.with_connection(f);
            }
            tokio::task::spawn_blocking(move || this.with_connection(f))
                .await
                .unwrap_or_else(|e| {
                    Err(StorageError::Backend(format!(
                        "storage read task failed: {e}"
                    )))
                })
        })
    }

    fn with_connection<T>(
        &self,
        f: impl FnOnce(&Connection) -> StorageResult<T>,
    ) -> StorageResult<T> {
        let pooled = self.idle().pop();
        let conn = match pooled {
            Some(conn) => conn,
            None => open_reader(&self.path)?,
        };
        let result = f(&conn);
        let mut idle = self.idle();
        if idle.len() < MAX_IDLE {
            idle.push(conn);
        }
        result
    }
}
