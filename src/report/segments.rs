//! The segment summary: per group customers, share of customers, revenue, share of revenue,
//! mean recency / frequency / monetary, and mean CLV and P(alive) when the value table has them;
//! sorted by revenue (largest first), then a `Total` row. Plus the RFM grid: mean monetary and
//! customers per (r_score, f_score) cell. docs/reports.md.

use polars::prelude::*;

use crate::error::Result;
use crate::metrics::rfm::{FREQUENCY, F_SCORE, MONETARY, RECENCY_DAYS, R_SCORE};
use crate::report::{Chart, Section};

/// Optional value-table columns averaged when present.
const OPTIONAL_MEANS: &[&str] = &["clv", "p_alive"];

/// The summary table of `table` grouped by `by` (collects one small frame).
pub fn summary(table: LazyFrame, by: &str) -> Result<DataFrame> {
    let mut table = table;
    let schema = table.collect_schema()?;
    let group = col(by)
        .cast(DataType::String)
        .fill_null(lit("(none)"))
        .alias(by);
    let mut aggs = vec![
        len().cast(DataType::Int64).alias("customers"),
        crate::metrics::money_sum(col(MONETARY)).alias("revenue"),
        col(RECENCY_DAYS).mean().alias("mean_recency_days"),
        col(FREQUENCY).mean().alias("mean_frequency"),
        col(MONETARY).mean().alias("mean_monetary"),
    ];
    for c in OPTIONAL_MEANS {
        if schema.get(c).is_some() {
            aggs.push(col(*c).mean().alias(format!("mean_{c}")));
        }
    }
    let groups = table.clone().group_by([group]).agg(aggs.clone()).sort(
        ["revenue", by],
        SortMultipleOptions::default().with_order_descending_multi([true, false]),
    );
    let mut agg_names = vec![
        by.to_string(),
        "customers".to_string(),
        "revenue".to_string(),
        "mean_recency_days".to_string(),
        "mean_frequency".to_string(),
        "mean_monetary".to_string(),
    ];
    for c in OPTIONAL_MEANS {
        if schema.get(c).is_some() {
            agg_names.push(format!("mean_{c}"));
        }
    }
    let total = table
        .select(aggs)
        .with_column(lit("Total").alias(by))
        .select(
            agg_names
                .iter()
                .map(|c| col(c.as_str()))
                .collect::<Vec<_>>(),
        );
    let all = concat(
        [groups, total],
        UnionArgs {
            to_supertypes: true,
            ..Default::default()
        },
    )?;
    let n_total = len_total(&all)?;
    let rev_total = revenue_total(&all)?;
    let out = all
        .with_columns([
            (col("customers").cast(DataType::Float64) / lit(n_total.max(1.0)))
                .alias("customer_share"),
            (col("revenue") / lit(if rev_total > 0.0 { rev_total } else { 1.0 }))
                .alias("revenue_share"),
        ])
        .collect()?;
    let mut ordered = vec![
        by.to_string(),
        "customers".into(),
        "customer_share".into(),
        "revenue".into(),
        "revenue_share".into(),
        "mean_recency_days".into(),
        "mean_frequency".into(),
        "mean_monetary".into(),
    ];
    for c in OPTIONAL_MEANS {
        if out.column(&format!("mean_{c}")).is_ok() {
            ordered.push(format!("mean_{c}"));
        }
    }
    Ok(out
        .lazy()
        .select(ordered.iter().map(|c| round_money(c)).collect::<Vec<_>>())
        .collect()?)
}

fn round_money(c: &str) -> Expr {
    match c {
        "customer_share" | "revenue_share" | "mean_p_alive" => {
            col(c).round(4, RoundMode::HalfAwayFromZero)
        }
        "revenue" | "mean_recency_days" | "mean_frequency" | "mean_monetary" | "mean_clv" => {
            col(c).round(2, RoundMode::HalfAwayFromZero)
        }
        _ => col(c),
    }
}

/// Customers in the groups (the `Total` row is the last one).
fn len_total(all: &LazyFrame) -> Result<f64> {
    let df = all
        .clone()
        .tail(1)
        .select([col("customers").cast(DataType::Float64)])
        .collect()?;
    Ok(df.column("customers")?.f64()?.get(0).unwrap_or(0.0))
}

fn revenue_total(all: &LazyFrame) -> Result<f64> {
    let df = all
        .clone()
        .tail(1)
        .select([col("revenue").cast(DataType::Float64)])
        .collect()?;
    Ok(df.column("revenue")?.f64()?.get(0).unwrap_or(0.0))
}

/// Section with the summary and a bar chart of customer and revenue shares.
pub fn section(table: LazyFrame, by: &str) -> Result<Section> {
    let df = summary(table, by)?;
    let n = df.height().saturating_sub(1);
    let labels: Vec<String> = df
        .column(by)?
        .str()?
        .iter()
        .take(n)
        .map(|v| v.unwrap_or("").to_string())
        .collect();
    let share = |c: &str| -> Result<Vec<f64>> {
        Ok(df
            .column(c)?
            .f64()?
            .iter()
            .take(n)
            .map(|v| v.unwrap_or(0.0))
            .collect())
    };
    let chart = Chart::Bars {
        labels,
        series: vec![
            ("customers".to_string(), share("customer_share")?),
            ("revenue".to_string(), share("revenue_share")?),
        ],
        percent: true,
    };
    Ok(Section {
        id: "segments".to_string(),
        title: format!("Customers and revenue by {by}"),
        note: Some("Sorted by revenue; shares are of all customers in the table.".to_string()),
        table: df,
        chart: Some(chart),
    })
}

/// The RFM grid: customers and mean monetary per (r_score, f_score), as a table and a heatmap
/// with recency score rows (5 at the top) and frequency score columns.
pub fn rfm_grid(table: LazyFrame) -> Result<Section> {
    let df = table
        .group_by([col(R_SCORE), col(F_SCORE)])
        .agg([
            len().cast(DataType::Int64).alias("customers"),
            col(MONETARY)
                .mean()
                .round(2, RoundMode::HalfAwayFromZero)
                .alias("mean_monetary"),
        ])
        .sort(
            [R_SCORE, F_SCORE],
            SortMultipleOptions::default().with_order_descending_multi([true, false]),
        )
        .collect()?;
    let r = df.column(R_SCORE)?.cast(&DataType::Int64)?;
    let f = df.column(F_SCORE)?.cast(&DataType::Int64)?;
    let m = df.column("mean_monetary")?.f64()?.clone();
    let max_r = r.i64()?.max().unwrap_or(5).max(1);
    let max_f = f.i64()?.max().unwrap_or(5).max(1);
    let rows: Vec<String> = (1..=max_r).rev().map(|v| format!("R{v}")).collect();
    let columns: Vec<String> = (1..=max_f).map(|v| format!("F{v}")).collect();
    let mut values = vec![vec![None; columns.len()]; rows.len()];
    for ((rv, fv), mv) in r.i64()?.iter().zip(f.i64()?.iter()).zip(m.iter()) {
        if let (Some(rv), Some(fv)) = (rv, fv) {
            let (ri, fi) = ((max_r - rv) as usize, (fv - 1) as usize);
            if ri < rows.len() && fi < columns.len() {
                values[ri][fi] = mv;
            }
        }
    }
    Ok(Section {
        id: "rfm_grid".to_string(),
        title: "RFM grid: mean monetary by recency and frequency score".to_string(),
        note: Some(
            "Rows: r_score (5 = most recent); columns: f_score (5 = most orders).".to_string(),
        ),
        table: df,
        chart: Some(Chart::Heatmap {
            rows,
            columns,
            values,
            legend: "mean monetary".to_string(),
            axes: ("r_score".to_string(), "f_score".to_string()),
        }),
    })
}
