//! One process per data directory: an exclusive lock on `<dir>/LOCK`, held as long as a
//! storage of this process has the directory open. Two processes committing to one SQLite
//! file would each believe their own in-memory view (queue indexes, schedules, live
//! instances) and overwrite each other. Within one process the lock is shared (a registry
//! rebuilt on the same directory, as tests and restarts in place do).

use std::collections::HashMap;
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, Weak};

use crate::storage::{StorageError, StorageResult};

/// The lock file's name inside the data directory.
const LOCK_FILE: &str = "LOCK";

/// The lock file, held; released when the last storage of the process using it is dropped
/// (and by the OS if the process dies).
#[derive(Debug)]
struct Held {
    _file: File,
}

/// The directories this process holds, by canonical path.
fn held() -> &'static Mutex<HashMap<PathBuf, Weak<Held>>> {
    static HELD: OnceLock<Mutex<HashMap<PathBuf, Weak<Held>>>> = OnceLock::new();
    HELD.get_or_init(Mutex::default)
}

/// A storage's share of its directory's lock.
#[derive(Debug)]
pub(crate) struct DirLock {
    _held: Arc<Held>,
}

impl DirLock {
    /// Takes the directory's lock (or shares this process's), or says which process holds
    /// it.
    pub(crate) fn acquire(dir: &Path) -> StorageResult<Self> {
        let canonical = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
        let mut held = held().lock().unwrap_or_else(|p| p.into_inner());
        held.retain(|_, lock| lock.strong_count() > 0);
        if let Some(lock) = held.get(&canonical).and_then(Weak::upgrade) {
            return Ok(Self { _held: lock });
        }
        let lock = Arc::new(Self::lock_file(dir)?);
        held.insert(canonical, Arc::downgrade(&lock));
        Ok(Self { _held: lock })
    }

    fn lock_file(dir: &Path) -> StorageResult<Held> {
        let path = dir.join(LOCK_FILE);
        let io = |message: String| StorageError::Io {
            path: path.clone(),
            message,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| io(format!("opening the lock file: {e}")))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                return Err(StorageError::Locked {
                    dir: dir.to_path_buf(),
                    holder: holder.trim().to_owned(),
                });
            }
            Err(TryLockError::Error(e)) => return Err(io(format!("locking: {e}"))),
        }
        // Who holds it, for the next process's error message.
        let _ = file.set_len(0);
        let _ = file.seek(SeekFrom::Start(0));
        let _ = write!(file, "process {}", std::process::id());
        let _ = file.flush();
        Ok(Held { _file: file })
    }
}
