//! One process per data directory: an exclusive lock on `<dir>/LOCK`, held as long as the
//! storage is open. Two processes committing to one SQLite file would each believe their
//! own in-memory view (queue indexes, schedules, live instances) and overwrite each other.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use crate::storage::{StorageError, StorageResult};

/// The lock file's name inside the data directory.
const LOCK_FILE: &str = "LOCK";

/// The held lock; released when dropped (and by the OS if the process dies).
#[derive(Debug)]
pub(crate) struct DirLock {
    _file: File,
}

impl DirLock {
    /// Takes the directory's lock, or says which process holds it.
    pub(crate) fn acquire(dir: &Path) -> StorageResult<Self> {
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
        Ok(Self { _file: file })
    }
}
