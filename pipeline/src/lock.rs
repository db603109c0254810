//! One writer per output directory: an exclusive `flock` on `<dir>/.lock`, holding the
//! owner's pid. The kernel drops the lock when its process dies, so a lock file left by a dead
//! process is stale by construction and is simply taken over.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{dir} is in use by another smelt run (pid {pid}). Wait for it to finish, stop it \
         (kill -TERM {pid}), or choose another --output."
    )]
    Held { dir: PathBuf, pid: String },
}

/// A held lock; released on drop (or when the process dies).
#[derive(Debug)]
pub struct DirLock {
    _file: File,
    /// The pid recorded by a previous holder that is no longer running, if any.
    pub stale_pid: Option<String>,
}

/// Takes the lock on `dir` (created if needed) or fails fast naming the holder.
pub fn lock_dir(dir: &Path) -> Result<DirLock, LockError> {
    let path = dir.join(".lock");
    let io = |source| LockError::Io {
        path: path.clone(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(|source| LockError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(&path)
        .map_err(io)?;
    let mut previous = String::new();
    let _ = file.read_to_string(&mut previous);
    let previous = previous.trim().to_owned();
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            return Err(LockError::Held {
                dir: dir.to_path_buf(),
                pid: if previous.is_empty() {
                    "unknown".into()
                } else {
                    previous
                },
            })
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
    }
    let stale_pid =
        (!previous.is_empty() && previous != std::process::id().to_string()).then_some(previous);
    file.set_len(0).map_err(io)?;
    file.seek(SeekFrom::Start(0)).map_err(io)?;
    write!(file, "{}", std::process::id()).map_err(io)?;
    file.sync_data().map_err(io)?;
    Ok(DirLock {
        _file: file,
        stale_pid,
    })
}
