//! Spend distribution (`custseg analyze amounts`): how order values and customer monetary values
//! spread over bins, with the count and revenue share of each bin. docs/analyses.md, "amounts".
//!
//! - Order value: Σ `amount` of all lines of an order (a (customer_id, order_id) pair with at
//!   least one purchase line; returns in the same order reduce it), rounded to cents.
//! - Customer monetary: the value table's `monetary` of each customer in scope.
//! - Fixed bins from edges e₀ < e₁ < … < eₙ: bin i is the left-closed [eᵢ, eᵢ₊₁); `inf` as the
//!   last edge leaves the last bin open. Values below e₀ fall in an extra bin (−inf, e₀), values
//!   at or above a finite eₙ in [eₙ, inf); these extra bins are listed only when not empty, the
//!   given bins always.
//! - Quantile bins (q of them): a value's bin is `1 + floor(q × (rank_min − 1) / n)`, rank_min
//!   its ascending rank with ties sharing the lowest (so equal values share a bin, as RFM scores
//!   do); a bin's lower edge is its smallest value, its upper edge the next bin's lower edge (the
//!   last is open), so the bins are left-closed like fixed bins. Empty quantile bins are left out.
//! - Per bin: count, count share, revenue (Σ values, cents), revenue share; shares from the
//!   cent-rounded columns, 4 decimals, null when the total is 0.

use polars::prelude::*;

use crate::analysis::{share, Collect};
use crate::error::Result;
use crate::io::write::format_float;
use crate::metrics::rfm::MONETARY;
use crate::metrics::{money, money_sum};
use crate::report::{Chart, Section};
use crate::schema;

pub const BIN: &str = "bin";
pub const LOWER: &str = "lower";
pub const UPPER: &str = "upper";
pub const REVENUE: &str = "revenue";
pub const REVENUE_SHARE: &str = "revenue_share";

/// The value column of [`order_values`] and [`customer_values`].
pub const VALUE: &str = "value";

const INDEX: &str = "__bin";
const GIVEN: &str = "__given";

/// How values are binned.
#[derive(Debug, Clone, PartialEq)]
pub enum Binning {
    /// Left-closed bins between ascending edges (the last may be +inf, the first −inf).
    Edges(Vec<f64>),
    /// This many rank-based quantile bins.
    Quantiles(u32),
}

impl Binning {
    /// For subtitles: `fixed bins` or `4 quantile bins`.
    pub fn describe(&self) -> String {
        match self {
            Binning::Edges(_) => "fixed bins".to_string(),
            Binning::Quantiles(q) => format!("{q} quantile bins"),
        }
    }
}

/// What is counted: names of the count and share columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Orders (count column `orders`).
    Orders,
    /// Customers (count column `customers`).
    Customers,
}

impl Unit {
    /// The count column.
    pub fn count(self) -> &'static str {
        match self {
            Unit::Orders => "orders",
            Unit::Customers => "customers",
        }
    }

    /// The count share column.
    pub fn share(self) -> &'static str {
        match self {
            Unit::Orders => "order_share",
            Unit::Customers => "customer_share",
        }
    }
}

/// One row per order with a purchase line: customer_id, order_id, value (net amount, cents).
pub fn order_values(lines: LazyFrame) -> LazyFrame {
    lines
        .group_by([col(schema::CUSTOMER_ID), col(schema::ORDER_ID)])
        .agg([
            col(schema::IS_RETURN).not().any(true).alias("__purchase"),
            money(money_sum(col(schema::AMOUNT))).alias(VALUE),
        ])
        .filter(col("__purchase"))
        .select([col(schema::CUSTOMER_ID), col(schema::ORDER_ID), col(VALUE)])
}

/// One row per customer of a value table: customer_id, value (monetary).
pub fn customer_values(customers: LazyFrame) -> LazyFrame {
    customers.select([
        col(schema::CUSTOMER_ID),
        col(MONETARY).cast(DataType::Float64).alias(VALUE),
    ])
}

/// The bins of `values` (a frame with [`VALUE`]): lower (null = −inf), upper (null = +inf),
/// count, count share, revenue, revenue share; ordered by lower edge. The `bin` label is added by
/// [`section`].
pub fn distribution(values: LazyFrame, binning: &Binning, unit: Unit) -> Result<LazyFrame> {
    let (count, count_share) = (unit.count(), unit.share());
    let binned = match binning {
        Binning::Edges(edges) => {
            let mut full: Vec<f64> = Vec::with_capacity(edges.len() + 2);
            let open_below = edges.first().is_some_and(|e| e.is_finite());
            let open_above = edges.last().is_some_and(|e| e.is_finite());
            if open_below {
                full.push(f64::NEG_INFINITY);
            }
            full.extend(edges.iter().copied());
            if open_above {
                full.push(f64::INFINITY);
            }
            let n = full.len() - 1;
            let finite = |v: f64| v.is_finite().then_some(v);
            let bins = df!(
                INDEX => (0..n).map(|i| i as i64).collect::<Vec<_>>(),
                LOWER => full[..n].iter().map(|v| finite(*v)).collect::<Vec<_>>(),
                UPPER => full[1..].iter().map(|v| finite(*v)).collect::<Vec<_>>(),
                GIVEN => (0..n)
                    .map(|i| !(open_below && i == 0 || open_above && i == n - 1))
                    .collect::<Vec<_>>(),
            )?;
            // The bin of v: the number of lower edges (after the first, −inf) at or below v.
            let index = full[1..n].iter().fold(lit(0i64), |acc, e| {
                acc + col(VALUE).gt_eq(lit(*e)).cast(DataType::Int64)
            });
            let tallies = values.group_by([index.alias(INDEX)]).agg([
                len().cast(DataType::Int64).alias(count),
                money(money_sum(col(VALUE))).alias(REVENUE),
            ]);
            bins.lazy()
                .join(
                    tallies,
                    [col(INDEX)],
                    [col(INDEX)],
                    JoinArgs::new(JoinType::Left),
                )
                .with_columns([
                    col(count).fill_null(lit(0i64)),
                    col(REVENUE).fill_null(lit(0.0)),
                ])
                .filter(col(GIVEN).or(col(count).gt(lit(0i64))))
                .sort([INDEX], SortMultipleOptions::default())
        }
        Binning::Quantiles(q) => {
            let rank = col(VALUE)
                .rank(
                    RankOptions {
                        method: RankMethod::Min,
                        descending: false,
                    },
                    None,
                )
                .cast(DataType::Float64);
            let n = len().cast(DataType::Float64);
            let index = (lit(f64::from(*q)) * (rank - lit(1.0)) / n)
                .floor()
                .cast(DataType::Int64);
            values
                .with_column(index.alias(INDEX))
                .group_by([col(INDEX)])
                .agg([
                    col(VALUE).min().alias(LOWER),
                    len().cast(DataType::Int64).alias(count),
                    money(money_sum(col(VALUE))).alias(REVENUE),
                ])
                .sort([INDEX], SortMultipleOptions::default())
                .with_column(col(LOWER).shift(lit(-1)).alias(UPPER))
        }
    };
    Ok(binned.select([
        col(LOWER),
        col(UPPER),
        col(count),
        share(count).alias(count_share),
        col(REVENUE),
        share(REVENUE).alias(REVENUE_SHARE),
    ]))
}

/// `[a, b)`, `[a, inf)` or `(-inf, b)`.
fn label(lower: Option<f64>, upper: Option<f64>) -> String {
    match (lower, upper) {
        (Some(a), Some(b)) => format!("[{}, {})", format_float(a), format_float(b)),
        (Some(a), None) => format!("[{}, inf)", format_float(a)),
        (None, Some(b)) => format!("(-inf, {})", format_float(b)),
        (None, None) => "(-inf, inf)".to_string(),
    }
}

/// A section of a collected [`distribution`]: adds the `bin` label column first and a bar chart
/// of the count and revenue shares.
pub fn section(
    id: &str,
    title: &str,
    note: &str,
    distribution: DataFrame,
    unit: Unit,
) -> Result<Section> {
    let floats = |c: &str| -> Result<Vec<Option<f64>>> {
        Ok(distribution
            .column(c)?
            .cast(&DataType::Float64)?
            .f64()?
            .iter()
            .collect())
    };
    let labels: Vec<String> = floats(LOWER)?
        .into_iter()
        .zip(floats(UPPER)?)
        .map(|(a, b)| label(a, b))
        .collect();
    let zeros = |v: Vec<Option<f64>>| v.into_iter().map(|x| x.unwrap_or(0.0)).collect();
    let chart = Chart::Bars {
        labels: labels.clone(),
        series: vec![
            (unit.count().to_string(), zeros(floats(unit.share())?)),
            ("revenue".to_string(), zeros(floats(REVENUE_SHARE)?)),
        ],
        percent: true,
    };
    let mut table = distribution;
    table.insert_column(0, Column::new(BIN.into(), labels))?;
    Ok(Section {
        id: id.to_string(),
        title: title.to_string(),
        note: Some(note.to_string()),
        table,
        chart: Some(chart),
    })
}

/// The sections of `custseg analyze amounts` from order `lines` and the value-table rows of the
/// `customers` in scope, both binned by `binning`: order_value, customer_monetary; every plan
/// run through `collect`.
pub fn report_sections(
    lines: LazyFrame,
    customers: LazyFrame,
    binning: &Binning,
    collect: &Collect,
) -> Result<Vec<Section>> {
    let orders = collect(
        distribution(order_values(lines), binning, Unit::Orders)?,
        "order values",
    )?;
    let customers = collect(
        distribution(customer_values(customers), binning, Unit::Customers)?,
        "customer monetary",
    )?;
    Ok(vec![
        section(
            "order_value",
            "Order value",
            "Net amount per order with a purchase line; bins are [lower, upper).",
            orders,
            Unit::Orders,
        )?,
        section(
            "customer_monetary",
            "Customer monetary",
            "Net spend per customer (monetary of the value table); bins are [lower, upper).",
            customers,
            Unit::Customers,
        )?,
    ])
}
