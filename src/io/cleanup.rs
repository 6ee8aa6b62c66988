//! Temporary folders to remove when the process is interrupted (Ctrl-C, SIGTERM from a cron
//! timeout): scratch files of a large ingest can take gigabytes, and a run's staging folder
//! sits in its `--out` directory. On a normal exit their owners remove them ([`tempfile`]).

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

fn registry() -> &'static Mutex<Vec<PathBuf>> {
    static DIRS: OnceLock<Mutex<Vec<PathBuf>>> = OnceLock::new();
    DIRS.get_or_init(|| Mutex::new(Vec::new()))
}

/// Removes `dir` (and everything in it) if the process is interrupted before [`forget`].
pub fn on_interrupt(dir: &Path) {
    registry()
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .push(dir.to_path_buf());
}

/// `dir` is gone or no longer needs removing.
pub fn forget(dir: &Path) {
    registry()
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .retain(|d| d != dir);
}

/// Removes every registered folder; for the interrupt handler.
pub fn remove_all() {
    let dirs = std::mem::take(
        &mut *registry()
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    );
    for dir in dirs {
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_folders_are_removed_and_forgotten_ones_kept() {
        let gone = tempfile::tempdir().unwrap().keep();
        let kept = tempfile::tempdir().unwrap();
        std::fs::write(gone.join("f"), b"x").unwrap();
        on_interrupt(&gone);
        on_interrupt(kept.path());
        forget(kept.path());
        remove_all();
        assert!(!gone.exists());
        assert!(kept.path().exists());
    }
}
