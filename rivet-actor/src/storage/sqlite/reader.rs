//! Read connections: a bounded pool, used so that SQLite never holds up an async executor
//! thread's other tasks.
//!
//! On a multi-threaded tokio runtime a read runs in place, inside
//! [`tokio::task::block_in_place`]: the worker's other tasks move to another thread first, and
//! the caller's task goes on without a round trip through the blocking pool (a point read
//! takes a few microseconds; waking a parked blocking thread and then the worker again cost
//! tens to hundreds, most of a storage read in the `wake` bench). On a current-thread runtime,
//! where blocking in place is not allowed, a read goes to a blocking thread.
//!
//! At most [`MAX_READERS`] reads run at once, each on a pooled connection: more readers than
//! cores gain nothing, and a read beyond the pool would open (and then close) a connection of
//! its own. Further reads wait for a permit without blocking a thread.
//!
//! In WAL mode readers never block the writer nor each other, and every read statement sees
//! the latest committed transaction, so a read issued after a commit resolved observes it.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use rusqlite::Connection;
use tokio::runtime::{Handle, RuntimeFlavor};
use tokio::sync::Semaphore;

use super::schema::open_reader;
use crate::storage::{BoxFuture, StorageError, StorageResult};

/// Reads that run at once, and so the most connections the pool opens.
pub(crate) const MAX_READERS: usize = 8;

pub(crate) struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    /// One permit per read running; the pool never holds more connections than permits.
    permits: Semaphore,
}

impl Readers {
    /// A pool for the database at `path`, opening one connection now so that a file that
    /// cannot be read is reported at open.
    pub(crate) fn open(path: PathBuf) -> StorageResult<Arc<Self>> {
        let first = open_reader(&path)?;
        Ok(Arc::new(Self {
            path,
            idle: Mutex::new(vec![first]),
            permits: Semaphore::new(MAX_READERS),
        }))
    }

    fn idle(&self) -> MutexGuard<'_, Vec<Connection>> {
        self.idle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs `f` with a read connection once one of [`MAX_READERS`] permits is free: in place
    /// (`block_in_place`) on a multi-threaded runtime, on a blocking thread on a
    /// current-thread one.
    ///
    /// Outside a tokio runtime there is no executor to protect, so `f` runs on the polling
    /// thread.
    pub(crate) fn run<T, F>(self: &Arc<Self>, f: F) -> BoxFuture<'static, StorageResult<T>>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StorageResult<T> + Send + 'static,
    {
        let this = Arc::clone(self);
        Box::pin(async move {
            let permit = this.permits.acquire().await;
            let _permit = permit.map_err(|_| StorageError::Closed)?;
            let Ok(runtime) = Handle::try_current() else {
                return this.with_connection(f);
            };
            if runtime.runtime_flavor() == RuntimeFlavor::MultiThread {
                return tokio::task::block_in_place(|| this.with_connection(f));
            }
            let pooled = Arc::clone(&this);
            tokio::task::spawn_blocking(move || pooled.with_connection(f))
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
        if idle.len() < MAX_READERS {
            idle.push(conn);
        }
        result
    }
}
