//! One module per subcommand: its clap `Args`, examples in the help, and `run`, which resolves
//! the arguments into library calls. No polars expressions here.

use std::path::PathBuf;

use chrono::NaiveDate;

use crate::error::{Error, Result};
use crate::io::write::OutputFormat;

pub mod clv;
pub mod ingest;

/// What every command gets: the resolved global flags.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// No progress and no summaries on stderr.
    pub quiet: bool,
    /// `--as-of` as typed, parsed.
    pub as_of: Option<AsOf>,
    /// `-o`.
    pub output: Option<PathBuf>,
    /// `--format`.
    pub format: Option<OutputFormat>,
    /// `--explain`: print plans to stderr.
    pub explain: bool,
}

/// A reference date as given on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AsOf {
    /// `today`: the current date in the configured time zone.
    Today,
    /// An explicit date.
    Date(NaiveDate),
}

impl AsOf {
    /// Parses `YYYY-MM-DD` or `today`.
    pub fn parse(text: &str) -> Result<Self> {
        if text.eq_ignore_ascii_case("today") {
            return Ok(Self::Today);
        }
        NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
            .map(Self::Date)
            .map_err(|_| {
                Error::usage(format!("--as-of \"{text}\" is not a date"))
                    .hint("use YYYY-MM-DD, e.g. --as-of 2024-12-31, or --as-of today")
            })
    }

    /// The date, taking `today` in `tz`.
    pub fn resolve(self, tz: chrono_tz::Tz) -> NaiveDate {
        match self {
            Self::Date(d) => d,
            Self::Today => chrono::Utc::now().with_timezone(&tz).date_naive(),
        }
    }
}

/// How a command finished when it did not fail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// Everything fine (exit 0).
    Success,
    /// Ran to completion, but a check the user asked for failed (exit 3); the message says which.
    CheckFailed(String),
}
