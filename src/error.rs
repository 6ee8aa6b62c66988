//! The typed error every library module returns, and how each kind maps to an exit status.
//!
//! Library code says *what kind* of failure happened (usage, config, input, data, I/O) so the
//! binary can pick the exit code; the message says what went wrong and where, and hints say what
//! to do about it.

use std::fmt;

/// What kind of failure this is; decides the exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Bad flags or flag combinations (exit 2).
    Usage,
    /// A config file that cannot be read, parsed or validated (exit 2).
    Config,
    /// An input that cannot be used at all: missing file, wrong encoding, missing column (exit 2).
    Input,
    /// Anything else that stopped the run: I/O while writing, engine failures (exit 1).
    Runtime,
}

/// A failure with a one-line message and optional hints.
#[derive(Debug)]
pub struct Error {
    /// The kind, which decides the exit status.
    pub kind: ErrorKind,
    /// One line: what went wrong and where.
    pub message: String,
    /// Lines telling the user what to do about it.
    pub hints: Vec<String>,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

/// Result alias for library code.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A new error of `kind` with `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            hints: Vec::new(),
            source: None,
        }
    }

    /// A usage error (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Usage, message)
    }

    /// A config error (exit 2).
    pub fn config(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Config, message)
    }

    /// An unusable-input error (exit 2).
    pub fn input(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Input, message)
    }

    /// A runtime failure (exit 1).
    pub fn runtime(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Runtime, message)
    }

    /// Adds a hint line.
    #[must_use]
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hints.push(hint.into());
        self
    }

    /// Keeps the underlying error for `source()` chains (broken-pipe detection uses it).
    #[must_use]
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// The process exit status for this error.
    pub fn exit_code(&self) -> i32 {
        match self.kind {
            ErrorKind::Usage | ErrorKind::Config | ErrorKind::Input => 2,
            ErrorKind::Runtime => 1,
        }
    }

    /// True when the failure is a write to a closed pipe (`custseg ... | head`).
    pub fn is_broken_pipe(&self) -> bool {
        let mut cur: Option<&(dyn std::error::Error + 'static)> = self
            .source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static));
        while let Some(e) = cur {
            if let Some(io) = e.downcast_ref::<std::io::Error>() {
                if io.kind() == std::io::ErrorKind::BrokenPipe {
                    return true;
                }
            }
            cur = e.source();
        }
        self.message.contains("Broken pipe")
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl From<polars::prelude::PolarsError> for Error {
    fn from(e: polars::prelude::PolarsError) -> Self {
        // Engine errors carry their own context; keep only the first line for the log.
        let text = e.to_string();
        let first = text.lines().next().unwrap_or("polars error").to_string();
        Error::runtime(first)
    }
}

/// Wraps an I/O error with the path it happened on.
pub fn io_error(action: &str, path: &std::path::Path, e: std::io::Error) -> Error {
    let kind = match e.kind() {
        std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied => ErrorKind::Input,
        _ => ErrorKind::Runtime,
    };
    Error::new(kind, format!("cannot {action} {}: {e}", path.display())).with_source(e)
}
