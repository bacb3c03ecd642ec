//! `FileLock`: an exclusive `flock` on a lock file, held until dropped (so two gantry processes
//! never share a snapshot or a working-copy slot).

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::path::Path;

/// A held lock.
#[derive(Debug)]
pub(crate) struct FileLock {
    _file: File,
}

impl FileLock {
    /// Takes the lock on `path` (created if missing) without waiting; `Ok(None)` when another
    /// process holds it.
    pub(crate) fn try_lock(path: &Path) -> io::Result<Option<Self>> {
        let file = fs_err::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)?
            .into_parts()
            .0;
        // SAFETY: plain syscall on a descriptor we own.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc == 0 {
            return Ok(Some(Self { _file: file }));
        }
        let err = io::Error::last_os_error();
        if err.kind() == io::ErrorKind::WouldBlock {
            Ok(None)
        } else {
            Err(io::Error::new(
                err.kind(),
                format!("locking {}: {err}", path.display()),
            ))
        }
    }
}
