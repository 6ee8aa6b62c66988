//! The crate's one error type: what was wrong with the input, or why a fit could not start.

/// Why input was refused or a model could not be fitted. Row numbers are 0-based positions in
/// the slices the caller passed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// No customers were given (or none were left after exclusions).
    #[error("no customers to fit")]
    Empty,
    /// The column slices have different lengths.
    #[error("column lengths differ: {what}")]
    LengthMismatch {
        /// Which columns and their lengths.
        what: String,
    },
    /// A value is NaN or infinite.
    #[error("row {row}: {column} is not a finite number")]
    NotFinite {
        /// Row position.
        row: usize,
        /// Column name (`x`, `t_x`, `T`, `weight`, `spend`).
        column: &'static str,
    },
    /// A count, a time or a weight is negative (weights must be positive).
    #[error("row {row}: {column} = {value} is negative")]
    Negative {
        /// Row position.
        row: usize,
        /// Column name.
        column: &'static str,
        /// The offending value.
        value: f64,
    },
    /// The repeat-transaction count is not a whole number.
    #[error("row {row}: x = {value} is not a whole number of repeat transactions")]
    NonIntegerCount {
        /// Row position.
        row: usize,
        /// The offending value.
        value: f64,
    },
    /// Recency exceeds age: the last purchase is after the end of calibration.
    #[error("row {row}: recency t_x = {t_x} exceeds age T = {t}")]
    RecencyAfterAge {
        /// Row position.
        row: usize,
        /// Recency.
        t_x: f64,
        /// Age.
        t: f64,
    },
    /// A customer without repeat purchases has a non-zero recency.
    #[error("row {row}: x = 0 but recency t_x = {t_x} is not 0")]
    RecencyWithoutRepeat {
        /// Row position.
        row: usize,
        /// Recency.
        t_x: f64,
    },
    /// More rows than the u32 index map can address.
    #[error("{rows} rows exceed the supported maximum of 4294967295")]
    TooManyRows {
        /// Number of rows given.
        rows: usize,
    },
    /// A fit or prediction option is out of range.
    #[error("invalid option: {0}")]
    InvalidOption(String),
}

/// Result alias for this crate.
pub type Result<T> = std::result::Result<T, Error>;
