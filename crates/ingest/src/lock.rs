//! One writer per dataset: `DATASET/_backtrail/lock`, held with an OS file
//! lock (`flock`) for the whole run.
//!
//! A second ingest into the same dataset would delete the first one's
//! uncommitted data files as orphans and race it on the manifest, so it is
//! refused with [`crate::Error::Locked`]. The OS drops the lock when the
//! process ends however it ends, so a run killed with `kill -9` leaves no
//! stale lock behind and the next run resumes at once. The file's text (the
//! holder's pid and start time) is only there for the error message.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::error::Error;

/// `DATASET/_backtrail/lock`.
pub fn lock_path(dataset: &Path) -> PathBuf {
    dataset.join("_backtrail").join("lock")
}

/// The held lock; released when dropped (or when the process dies).
#[derive(Debug)]
pub struct DatasetLock {
    file: File,
}

impl DatasetLock {
    /// Takes the dataset's lock without waiting, or says who holds it.
    pub fn acquire(dataset: &Path) -> Result<Self, Error> {
        let path = lock_path(dataset);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                return Err(Error::Locked {
                    dataset: dataset.to_owned(),
                    holder: holder.trim().to_owned(),
                });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(Error::io(&path, e)),
        }
        let since = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let note = format!("pid {} since unix time {since}\n", std::process::id());
        // Best effort: the lock itself is what protects the dataset.
        let _ = file
            .set_len(0)
            .and_then(|()| file.seek(SeekFrom::Start(0)))
            .and_then(|_| file.write_all(note.as_bytes()));
        Ok(Self { file })
    }
}

impl Drop for DatasetLock {
    fn drop(&mut self) {
        let _ = self.file.unlock();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_holder_is_refused_until_the_first_drops() {
        let tmp = tempfile::tempdir().unwrap();
        let first = DatasetLock::acquire(tmp.path()).unwrap();
        let err = DatasetLock::acquire(tmp.path()).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, Error::Locked { .. }), "{msg}");
        assert!(
            msg.contains(&format!("pid {}", std::process::id())),
            "{msg}"
        );
        drop(first);
        DatasetLock::acquire(tmp.path()).unwrap();
    }
}
