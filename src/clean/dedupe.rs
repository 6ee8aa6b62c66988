//! Duplicate lines within a source, found without holding the source's raw text in memory.
//!
//! A line is a duplicate when an earlier line of the same source has the same raw value in every
//! mapped field. Comparing whole lines of tens of millions of rows at once would need all their
//! text in memory, so the check runs in two passes:
//!
//! 1. a streaming pass computes a 64-bit hash of each line's fields (8 bytes per line) and finds
//!    the hash values that occur more than once;
//! 2. only the lines carrying such a hash (the duplicates, their first copies and the very rare
//!    lines whose hash collides with another's) are read again and compared field by field, in
//!    line order.
//!
//! The hash only selects candidates; the answer comes from the exact comparison, so a collision
//! can never merge two different lines.

use polars::prelude::*;

use crate::error::Result;

/// Row number of a line within its source (0-based, over all of the source's files in order).
pub const SEQ: &str = "__seq";
const HASH: &str = "__hash";
const FIRST: &str = "__first_copy";

/// Lines that repeat an earlier line of their source.
#[derive(Debug, Default)]
pub struct Repeats {
    /// Lines scanned.
    pub rows: u64,
    /// [`SEQ`] of every repeated line (ascending).
    pub seqs: Vec<IdxSize>,
    /// How many of the repeated lines are blank (see [`find`]).
    pub blank: u64,
}

impl Repeats {
    /// A boolean expression: true for a line that is not a repeat (needs the [`SEQ`] column).
    pub fn is_first(&self) -> Expr {
        if self.seqs.is_empty() {
            return lit(true);
        }
        seq_in(self.seqs.clone()).not()
    }
}

/// True for the lines whose [`SEQ`] is in `seqs` (ascending).
///
/// Evaluated per batch of lines as they stream by: a batch covers a run of [`SEQ`] values, so
/// only the values inside that run are looked up. (polars' own `is_in` on a list literal splits
/// a streaming plan into two branches, and one of them buffers the whole source.)
fn seq_in(seqs: Vec<IdxSize>) -> Expr {
    let seqs = std::sync::Arc::new(seqs);
    col(SEQ).map(
        move |column: Column| {
            let series = column.as_materialized_series();
            let name = series.name().clone();
            let ids = series.idx()?;
            let none = || BooleanChunked::full(name.clone(), false, series.len()).into_column();
            let (Some(lo), Some(hi)) = (ids.min(), ids.max()) else {
                return Ok(none());
            };
            let from = seqs.partition_point(|&s| s < lo);
            let to = seqs.partition_point(|&s| s <= hi);
            if from == to {
                return Ok(none());
            }
            let window = Series::new(SEQ.into(), &seqs[from..to])
                .implode()?
                .into_series();
            Ok(is_in(series, &window, false)?.with_name(name).into_column())
        },
        |_, field| Ok(Field::new(field.name().clone(), DataType::Boolean)),
    )
}

/// A 64-bit hash of the values of `exprs` in each row (nulls hash apart from empty text).
/// The seed is fixed, so the same line hashes the same in every pass of a run.
fn row_hash(exprs: Vec<Expr>) -> Expr {
    map_multiple(
        |columns: &mut [Column]| {
            let state = PlSeedableRandomStateQuality::seed_from_u64(0x6375_7374_7365_6764);
            let mut hashes: Vec<u64> = Vec::new();
            let Some((first, rest)) = columns.split_first() else {
                polars_bail!(ComputeError: "a row hash needs at least one column");
            };
            first.vec_hash(state.clone(), &mut hashes)?;
            for column in rest {
                polars_ensure!(
                    column.len() == hashes.len(),
                    ComputeError: "row hash: columns of different lengths"
                );
                column.vec_hash_combine(state.clone(), &mut hashes)?;
            }
            Ok(Column::new(HASH.into(), hashes))
        },
        exprs,
        |_, _| Ok(Field::new(HASH.into(), DataType::UInt64)),
    )
}

/// Finds the lines of `raw` (which must carry [`SEQ`]) that repeat an earlier line in every
/// expression of `by`. `blank` is evaluated on the repeated lines only, to count blank ones.
/// `collect` runs a plan (streaming) and maps its errors to the source.
pub fn find(
    raw: &LazyFrame,
    by: &[Expr],
    blank: Expr,
    collect: &dyn Fn(LazyFrame) -> Result<DataFrame>,
) -> Result<Repeats> {
    let hashes = collect(raw.clone().select([row_hash(by.to_vec()).alias(HASH)]))?;
    let rows = hashes.height() as u64;
    let repeated_hashes = hashes
        .clone()
        .lazy()
        .filter(col(HASH).is_first_distinct().not())
        .select([col(HASH)])
        .unique(None, UniqueKeepStrategy::Any)
        .collect()?;
    if repeated_hashes.height() == 0 {
        return Ok(Repeats {
            rows,
            ..Repeats::default()
        });
    }
    let candidates = hashes
        .lazy()
        .with_row_index(SEQ, None)
        .filter(
            col(HASH).is_in(
                lit(repeated_hashes
                    .column(HASH)?
                    .as_materialized_series()
                    .clone())
                .implode(false),
                false,
            ),
        )
        .select([col(SEQ)])
        .collect()?;
    let candidates: Vec<IdxSize> = candidates.column(SEQ)?.idx()?.into_no_null_iter().collect();
    let mut keep: Vec<Expr> = by.to_vec();
    keep.push(col(SEQ));
    keep.push(blank.alias("__blank_copy"));
    let lines = collect(raw.clone().filter(seq_in(candidates)).select(keep))?;
    let repeats = lines
        .lazy()
        .sort([SEQ], SortMultipleOptions::default())
        .with_column(as_struct(by.to_vec()).is_first_distinct().alias(FIRST))
        .filter(col(FIRST).not())
        .select([col(SEQ), col("__blank_copy")])
        .collect()?;
    let seqs: Vec<IdxSize> = repeats.column(SEQ)?.idx()?.into_no_null_iter().collect();
    let blank = repeats.column("__blank_copy")?.bool()?.sum().unwrap_or(0) as u64;
    Ok(Repeats { rows, seqs, blank })
}
