//! Behaviour analyses as plan builders and report sections (`custseg analyze`): LazyFrames in,
//! LazyFrames or [`crate::report::Section`]s out. docs/analyses.md defines every number.
//!
//! The analyses `custseg run` includes (time, categories, amounts, channels, cohorts) each have a
//! `report_sections` function: their plans, collected through the caller's [`Collect`], turned
//! into the sections `custseg analyze <what>` writes and `custseg run` appends to its report.

use polars::prelude::*;

use crate::error::Result;

pub mod amounts;
pub mod basket;
pub mod campaign;
pub mod categories;
pub mod channels;
pub mod cohorts;
pub mod filter;
pub mod next_purchase;
pub mod time;

/// How `report_sections` functions run their plans: the caller's collect, given the plan and a
/// name for the stage (printed with the plan under `--explain`). The library never decides how
/// a plan is run.
pub type Collect<'a> = dyn Fn(LazyFrame, &str) -> Result<DataFrame> + 'a;

/// `part / total` as Float64 rounded to 4 decimals; null when the total is 0.
pub fn ratio(part: Expr, total: Expr) -> Expr {
    let total = total.cast(DataType::Float64);
    when(total.clone().eq(lit(0.0)))
        .then(lit(NULL).cast(DataType::Float64))
        .otherwise(part.cast(DataType::Float64) / total)
        .round(4, RoundMode::HalfAwayFromZero)
}

/// `part / Σ part` of a column, 4 decimals; null when the total is 0.
pub fn share(column: &str) -> Expr {
    ratio(col(column), col(column).cast(DataType::Float64).sum())
}

/// A column as floats for a chart (nulls kept).
pub fn floats(df: &DataFrame, column: &str) -> Result<Vec<Option<f64>>> {
    Ok(df
        .column(column)?
        .cast(&DataType::Float64)?
        .f64()?
        .iter()
        .collect())
}

/// A column as labels for a chart (null as "").
pub fn texts(df: &DataFrame, column: &str) -> Result<Vec<String>> {
    Ok(df
        .column(column)?
        .cast(&DataType::String)?
        .str()?
        .iter()
        .map(|v| v.unwrap_or("").to_string())
        .collect())
}

/// Nulls as 0, for chart series.
pub fn zeros(v: Vec<Option<f64>>) -> Vec<f64> {
    v.into_iter().map(|x| x.unwrap_or(0.0)).collect()
}
