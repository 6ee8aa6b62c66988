//! Duplicate lines within a source, found without holding the source's raw text in memory.
//!
//! A line is a duplicate when an earlier line of the same source has the same raw value in every
//! mapped field. Comparing whole lines of tens of millions of rows at once would need all their
//! text in memory, so the check is split:
//!
//! 1. [`with_hash`], [`Candidates::from_hashes`]: the pass that copies a source's raw text to
//!    its scratch file adds a 64-bit hash of each line's fields; the hash column (8 bytes per
//!    line) is read back and sorted, and the lines whose hash occurs more than once are the
//!    candidates: the duplicates, their first copies and the very rare lines whose hash collides
//!    with another's;
//! 2. [`Candidates::mark`]: the cleaning pass carries the raw fields of those lines only (see
//!    `keep_original` of [`crate::clean::rules::clean_plan`]);
//! 3. [`repeats`]: the candidates are compared field by field, in line order.
//!
//! The hash only selects candidates; the answer comes from the exact comparison, so a collision
//! can never merge two different lines.

use std::sync::Arc;

use polars::prelude::*;

use crate::clean::rules::BLANK;
use crate::error::Result;

/// Row number of a line within its source (0-based, over all of the source's files in order).
pub const SEQ: &str = "__seq";
/// True on candidate lines (see [`Candidates::mark`]).
pub const CANDIDATE: &str = "__candidate";
const FIRST_COPY: &str = "__first_copy";

/// Lines whose fields hash like another line's.
#[derive(Debug, Default)]
pub struct Candidates {
    /// Lines scanned.
    pub rows: u64,
    /// [`SEQ`] of every candidate (ascending).
    seqs: Vec<IdxSize>,
}

/// Lines that repeat an earlier line of their source.
#[derive(Debug, Default)]
pub struct Repeats {
    /// [`SEQ`] of every repeated line (ascending).
    seqs: Vec<IdxSize>,
    /// How many repeated lines are not blank.
    pub not_blank: u64,
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

/// True for the lines whose [`SEQ`] is in `seqs` (ascending).
///
/// Evaluated per batch of lines as they stream by: a batch covers a run of [`SEQ`] values, so
/// only the values inside that run are looked up. (polars' own `is_in` on a list literal splits
/// a streaming plan into two branches, and one of them buffers the whole source.)
fn seq_in(seqs: Arc<Vec<IdxSize>>) -> Expr {
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

/// The column [`row_hash`] adds: a 64-bit hash of a line's fields.
pub const HASH: &str = "__hash";

/// `raw` with [`HASH`], a hash of the values of `by` on each line, computed as the lines stream
/// by; [`Candidates::from_hashes`] reads the column back.
pub fn with_hash(raw: LazyFrame, by: &[Expr]) -> LazyFrame {
    raw.with_column(row_hash(by.to_vec()).alias(HASH))
}

impl Candidates {
    /// The candidate duplicates among lines hashed by [`with_hash`]: `hashes` holds their
    /// [`HASH`] column in line order. Candidates are the lines whose hash occurs more than once.
    ///
    /// # Errors
    /// A polars error when `hashes` lacks [`HASH`].
    pub fn from_hashes(hashes: DataFrame) -> Result<Self> {
        let rows = hashes.height() as u64;
        // Sorted, a repeated hash sits next to its copies. Sorting 10M integers takes 0.2 s;
        // a hash table over them (`is_first_distinct`, a group-by) took 1.4 s here.
        let repeated = hashes
            .clone()
            .lazy()
            .select([col(HASH).sort(SortOptions::default())])
            .filter(col(HASH).eq(col(HASH).shift(lit(1))))
            .unique(None, UniqueKeepStrategy::Any)
            .collect()?;
        if repeated.height() == 0 {
            return Ok(Candidates {
                rows,
                seqs: Vec::new(),
            });
        }
        let seqs = hashes
            .lazy()
            .with_row_index(SEQ, None)
            .filter(col(HASH).is_in(
                lit(repeated.column(HASH)?.as_materialized_series().clone()).implode(false),
                false,
            ))
            .select([col(SEQ)])
            .collect()?;
        let seqs: Vec<IdxSize> = seqs.column(SEQ)?.idx()?.into_no_null_iter().collect();
        Ok(Candidates { rows, seqs })
    }
}

impl Candidates {
    /// Adds [`CANDIDATE`]: true on the candidate lines, whose raw fields must travel with them
    /// to [`repeats`].
    pub fn mark(&self, lf: LazyFrame) -> LazyFrame {
        if self.seqs.is_empty() {
            return lf.with_column(lit(false).alias(CANDIDATE));
        }
        lf.with_column(seq_in(Arc::new(self.seqs.clone())).alias(CANDIDATE))
    }
}

/// Compares the candidate lines of `lines` (marked by [`Candidates::mark`], and carrying [`SEQ`],
/// [`BLANK`] and, on candidate lines, the raw fields `keys`) field by field in line order, and
/// returns the lines that repeat an earlier one.
pub fn repeats(lines: LazyFrame, keys: &[Expr]) -> Result<Repeats> {
    let mut select = vec![col(SEQ), col(BLANK)];
    select.extend(keys.iter().cloned());
    let repeated = lines
        .filter(col(CANDIDATE))
        .select(select)
        .sort([SEQ], SortMultipleOptions::default())
        .with_column(
            as_struct(keys.to_vec())
                .is_first_distinct()
                .alias(FIRST_COPY),
        )
        .filter(col(FIRST_COPY).not())
        .select([col(SEQ), col(BLANK)])
        .collect()?;
    let seqs: Vec<IdxSize> = repeated.column(SEQ)?.idx()?.into_no_null_iter().collect();
    let blank = repeated.column(BLANK)?.bool()?.sum().unwrap_or(0) as u64;
    Ok(Repeats {
        not_blank: seqs.len() as u64 - blank,
        seqs,
    })
}

impl Repeats {
    /// A boolean expression: true for a line that is not a repeat (needs the [`SEQ`] column).
    pub fn is_first(&self) -> Expr {
        if self.seqs.is_empty() {
            return lit(true);
        }
        seq_in(Arc::new(self.seqs.clone())).not()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines() -> LazyFrame {
        df!(
            "a" => [Some("x"), Some("x"), Some("y"), None, Some("x"), None, Some("")],
            "b" => [Some("1"), Some("1"), Some("1"), Some("2"), Some("2"), Some("2"), Some("2")],
        )
        .unwrap()
        .lazy()
        .with_row_index(SEQ, None)
        .with_column(lit(false).alias(BLANK))
    }

    /// Line 1 repeats line 0 ("x", "1") and line 5 repeats line 3 (null, "2"); line 6 ("", "2")
    /// is not a repeat of line 3, as empty text is not null.
    const REPEATS: [bool; 7] = [false, true, false, false, false, true, false];

    fn by() -> Vec<Expr> {
        vec![col("a"), col("b")]
    }

    fn candidates(lf: &LazyFrame, by: &[Expr]) -> Result<Candidates> {
        Candidates::from_hashes(with_hash(lf.clone(), by).select([col(HASH)]).collect()?)
    }

    fn repeated(c: &Candidates) -> Vec<bool> {
        // As in the cleaning plan: the raw fields are kept on candidate lines only.
        let marked = c.mark(lines()).with_columns(["a", "b"].map(|name| {
            when(col(CANDIDATE))
                .then(col(name))
                .otherwise(lit(NULL).cast(DataType::String))
                .alias(name)
        }));
        let r = repeats(marked, &by()).unwrap();
        let firsts = lines()
            .with_column(r.is_first().alias("first"))
            .collect()
            .unwrap();
        firsts
            .column("first")
            .unwrap()
            .bool()
            .unwrap()
            .iter()
            .map(|f| f == Some(false))
            .collect()
    }

    #[test]
    fn hashing_picks_the_repeats_and_their_first_copies() {
        let c = candidates(&lines(), &by()).unwrap();
        assert_eq!(c.rows, 7);
        assert_eq!(c.seqs, vec![0, 1, 3, 5]);
        assert_eq!(repeated(&c), REPEATS.to_vec());
    }

    #[test]
    fn the_exact_comparison_decides_even_when_every_line_is_a_candidate() {
        // As if every hash collided: only lines equal in every field are repeats; null and
        // empty text differ.
        let all = Candidates {
            rows: 7,
            seqs: (0..7).collect(),
        };
        assert_eq!(repeated(&all), REPEATS.to_vec());
    }

    #[test]
    fn no_candidates_means_no_repeats() {
        let none = Candidates {
            rows: 7,
            seqs: Vec::new(),
        };
        assert_eq!(repeated(&none), vec![false; 7]);
    }
}
