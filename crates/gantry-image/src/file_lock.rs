//! An exclusive `flock(2)` on a file, released on drop (or by the kernel when the process dies).

use std::os::fd::AsRawFd;
use std::path::Path;

use crate::error::Result;

/// A held lock.
#[derive(Debug)]
pub struct FileLock(std::fs::File);

impl FileLock {
    /// Blocks until the lock on `path` (created when missing) is ours.
    pub fn acquire(path: &Path) -> Result<Self> {
        let f = fs_err::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)?
            .into_parts()
            .0;
        loop {
            // SAFETY: flock on a descriptor we own and keep open as long as the lock.
            if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) } == 0 {
                return Ok(Self(f));
            }
            let err = std::io::Error::last_os_error();
            if err.kind() != std::io::ErrorKind::Interrupted {
                return Err(std::io::Error::new(
                    err.kind(),
                    format!("lock {}: {err}", path.display()),
                )
                .into());
            }
        }
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        // SAFETY: unlocking the descriptor locked in `acquire`, still open.
        unsafe {
            libc::flock(self.0.as_raw_fd(), libc::LOCK_UN);
        }
    }
}
