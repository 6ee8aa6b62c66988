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
    /// Creates `dir/.custseg.lock` (failing if it exists) with this process id in it.
    pub fn acquire(dir: &Path) -> Result<Self> {
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

impl Drop for DirLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}
