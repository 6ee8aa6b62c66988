//! Segment migration: how customers moved between groups (segment, tier or lifecycle stage)
//! between two as-of dates. Each customer's group is taken from the value table at each date;
//! `(none)` marks customers without a purchase by the earlier date. Per (from, to) pair:
//! customers, their revenue (Σ monetary at the later date), and the share of the from-group.

use polars::prelude::*;

use crate::error::Result;
use crate::metrics::rfm::MONETARY;
use crate::report::{Chart, Section};
use crate::schema;

/// The migration section from two value tables (at `from` and at `to`) grouped by `by`.
pub fn section(
    before: LazyFrame,
    after: LazyFrame,
    by: &str,
    from: chrono::NaiveDate,
    to: chrono::NaiveDate,
) -> Result<Section> {
    // Each value table is computed on its own first. In one plan joining the two, polars'
    // common subexpression elimination paired a one-row part of the tier ranking with the
    // customers' rows (`--by tier`: a panic in debug builds, "height of column ... does not
    // match height of column '__customer'"; unchecked in release builds).
    let before = before.collect()?.lazy();
    let after = after.collect()?.lazy();
    let key = || [col(schema::CUSTOMER_ID)];
    let left = before.select([
        col(schema::CUSTOMER_ID),
        col(by).cast(DataType::String).alias("from"),
    ]);
    let right = after.select([
        col(schema::CUSTOMER_ID),
        col(by).cast(DataType::String).alias("to"),
        col(MONETARY).alias("__revenue"),
    ]);
    let counts = right
        .join(left, key(), key(), JoinArgs::new(JoinType::Left))
        .with_column(col("from").fill_null(lit("(none)")))
        .group_by([col("from"), col("to")])
        .agg([
            len().cast(DataType::Int64).alias("customers"),
            col("__revenue")
                .sum()
                .round(2, RoundMode::HalfAwayFromZero)
                .alias("revenue"),
        ]);
    let from_totals = counts
        .clone()
        .group_by([col("from")])
        .agg([col("customers").sum().alias("__from_total")]);
    let pairs = counts
        .join(
            from_totals,
            [col("from")],
            [col("from")],
            JoinArgs::new(JoinType::Left),
        )
        .with_column(
            (col("customers").cast(DataType::Float64)
                / col("__from_total").cast(DataType::Float64))
            .round(4, RoundMode::HalfAwayFromZero)
            .alias("share_of_from"),
        )
        .select([
            col("from"),
            col("to"),
            col("customers"),
            col("revenue"),
            col("share_of_from"),
        ])
        .sort(["from", "to"], SortMultipleOptions::default())
        .collect()?;
    let names = |c: &str| -> Result<Vec<String>> {
        let mut v: Vec<String> = pairs
            .column(c)?
            .str()?
            .iter()
            .flatten()
            .map(str::to_string)
            .collect();
        v.sort();
        v.dedup();
        Ok(v)
    };
    let (rows, columns) = (names("from")?, names("to")?);
    let mut values = vec![vec![None; columns.len()]; rows.len()];
    let f = pairs.column("from")?.str()?.clone();
    let t = pairs.column("to")?.str()?.clone();
    let n = pairs.column("customers")?.i64()?.clone();
    for ((fv, tv), nv) in f.iter().zip(t.iter()).zip(n.iter()) {
        if let (Some(fv), Some(tv), Some(nv)) = (fv, tv, nv) {
            let ri = rows.iter().position(|r| r == fv);
            let ci = columns.iter().position(|c| c == tv);
            if let (Some(ri), Some(ci)) = (ri, ci) {
                values[ri][ci] = Some(nv as f64);
            }
        }
    }
    Ok(Section {
        id: "migration".to_string(),
        title: format!("Migration by {by}: {from} → {to}"),
        note: Some(
            "Customers per (from, to) pair; (none) = no purchase by the earlier date.".to_string(),
        ),
        table: pairs,
        chart: Some(Chart::Heatmap {
            rows,
            columns,
            values,
            legend: "customers".to_string(),
            axes: (format!("{by} at {from}"), format!("{by} at {to}")),
        }),
    })
}
