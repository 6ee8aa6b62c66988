//! How the process allocates. glibc's malloc keeps up to 8 arenas per core (a thread that finds
//! its arena locked moves to another), and memory freed in one arena is not reused by another.
//! polars hands large buffers between its worker threads, so an ingest of 10M lines held
//! 611–788 MiB at its peak with glibc's default and 561–587 MiB with one arena per core, in the
//! same time (bench/README.md, "Memory: one malloc arena per core").

/// The arena limit [`limit_malloc_arenas`] sets: none when the user set `MALLOC_ARENA_MAX`
/// (`user`; glibc applies it itself), else one per core and at least 2.
pub fn arena_limit(user: Option<&std::ffi::OsStr>, cores: usize) -> Option<i32> {
    if user.is_some() {
        return None;
    }
    Some(i32::try_from(cores.max(2)).unwrap_or(i32::MAX))
}

/// Limits glibc's malloc to [`arena_limit`] arenas. Call it first in `main`, before any thread
/// starts. Does nothing where the C library is not glibc.
pub fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
        if let Some(arenas) = arena_limit(std::env::var_os("MALLOC_ARENA_MAX").as_deref(), cores) {
            // SAFETY: mallopt only sets a malloc tunable, and no other thread exists yet.
            unsafe {
                libc::mallopt(libc::M_ARENA_MAX, arenas);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::arena_limit;
    use std::ffi::OsStr;

    #[test]
    fn one_arena_per_core_unless_the_user_chose() {
        assert_eq!(arena_limit(None, 1), Some(2));
        assert_eq!(arena_limit(None, 2), Some(2));
        assert_eq!(arena_limit(None, 16), Some(16));
        assert_eq!(arena_limit(Some(OsStr::new("4")), 16), None);
        assert_eq!(arena_limit(Some(OsStr::new("")), 2), None);
    }
}
