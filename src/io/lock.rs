//! A lock file on an output directory, so two jobs writing into the same folder at once (two cron
//! runs overlapping) do not mix their files: the second one stops with a clear message.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Name of the lock file inside the output directory.
pub const LOCK_FILE: &str = ".custseg.lock";

/// Held while a job writes into a directory; removes its lock file when dropped.
#[derive(Debug)]
pub struct DirLock {
    path: PathBuf,
}

impl DirLock {
    /// Creates `dir/.custseg.lock` (failing if it exists) with this process id in it. A lock
    /// left by a job that no longer runs (killed, out of memory, the machine rebooted: its
    /// process id is gone, checked on Linux through /proc) is removed with a warning on stderr
    /// and taken over.
    pub fn acquire(dir: &Path) -> Result<Self> {
        match Self::try_acquire(dir) {
            Err(e) if remove_stale(&dir.join(LOCK_FILE)) => {
                drop(e);
                Self::try_acquire(dir)
            }
            other => other,
        }
    }

    fn try_acquire(dir: &Path) -> Result<Self> {
        let path = dir.join(LOCK_FILE);
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(mut f) => {
                let _ = writeln!(f, "{}", std::process::id());
                Ok(Self { path })
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let holder = std::fs::read_to_string(&path).unwrap_or_default();
                Err(Error::runtime(format!(
                    "another custseg job is writing into {} (lock file {}, pid {})",
                    dir.display(),
                    path.display(),
                    holder.trim()
                ))
                .hint("wait for it to finish; if no job is running, remove the lock file"))
            }
            Err(e) => Err(Error::runtime(format!(
                "cannot create {}: {e}",
                path.display()
            ))),
        }
    }
}

/// Removes `path` when it names a process that is not running; true when it did.
fn remove_stale(path: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(path) else {
        return false;
    };
    let Ok(pid) = text.trim().parse::<u32>() else {
        return false;
    };
    if pid == 0 || process_alive(pid) {
        return false;
    }
    if std::fs::remove_file(path).is_err() {
        return false;
    }
    eprintln!(
        "custseg: warning: removed the stale lock file {} of process {pid}, which is not running",
        path.display()
    );
    true
}

#[cfg(target_os = "linux")]
fn process_alive(pid: u32) -> bool {
    Path::new("/proc").join(pid.to_string()).exists()
}

/// Without /proc there is no portable check: assume the holder runs (the safe side).
#[cfg(not(target_os = "linux"))]
fn process_alive(_pid: u32) -> bool {
    true
}

impl Drop for DirLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}
