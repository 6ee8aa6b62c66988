//! Acquisition cohorts (`custseg analyze cohorts`): customers grouped by the month (or ISO week)
//! of their first purchase, and per later period the share of the cohort still buying and the
//! revenue per cohort member. docs/analyses.md, "cohorts".
//!
//! - Periods are local calendar months, or ISO weeks starting on Monday. A customer's cohort is
//!   the period of their first purchase line in the analysis period; `cohort_size` counts them.
//! - `period_index` k = periods since the cohort's (k = 0 is the cohort's own period); every
//!   k from 0 up to the period holding the as-of date is listed (a triangle).
//! - `customers_active` = cohort members with a purchase line in period k; `retention` =
//!   customers_active / cohort_size (4 decimals; 1 at k = 0).
//! - `revenue_per_member` = Σ `amount` of all lines of cohort members in period k (returns
//!   negative) / cohort_size, rounded to cents. Lines dated before a member's cohort (returns
//!   only) are left out; customers without a purchase line have no cohort.

use chrono::Datelike;
use polars::prelude::*;

use crate::analysis::time::month_label;
use crate::analysis::Collect;
use crate::error::Result;
use crate::metrics::{day_number, money, DAY};
use crate::report::{Chart, Section};
use crate::schema;

pub const COHORT: &str = "cohort";
pub const COHORT_SIZE: &str = "cohort_size";
pub const PERIOD_INDEX: &str = "period_index";
pub const CUSTOMERS_ACTIVE: &str = "customers_active";
pub const RETENTION: &str = "retention";
pub const REVENUE_PER_MEMBER: &str = "revenue_per_member";

const PERIOD: &str = "__period";
const FIRST: &str = "__cohort";

/// Cohort period length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CohortPeriod {
    /// Calendar months.
    Month,
    /// ISO weeks (Monday to Sunday).
    Week,
}

impl CohortPeriod {
    /// "month" or "week".
    pub fn name(self) -> &'static str {
        match self {
            CohortPeriod::Month => "month",
            CohortPeriod::Week => "week",
        }
    }

    /// The period number of a local day number: year × 12 + month − 1, or weeks since Monday
    /// 1969-12-29 (day 0, 1970-01-01, is a Thursday).
    fn of_day(self, day: Expr) -> Expr {
        match self {
            CohortPeriod::Month => {
                let date = day.cast(DataType::Date);
                date.clone().dt().year().cast(DataType::Int32) * lit(12)
                    + date.dt().month().cast(DataType::Int32)
                    - lit(1)
            }
            CohortPeriod::Week => (day.cast(DataType::Int32) + lit(3)) / lit(7),
        }
    }

    /// The period number of a date (as [`Self::of_day`]).
    fn of_date(self, date: chrono::NaiveDate) -> i32 {
        match self {
            CohortPeriod::Month => date.year() * 12 + i32::try_from(date.month0()).unwrap_or(0),
            CohortPeriod::Week => (day_number(date) + 3).div_euclid(7),
        }
    }

    /// The label of a period number: `YYYY-MM`, or the ISO date of the week's Monday.
    fn label(self, period: Expr) -> Expr {
        match self {
            CohortPeriod::Month => month_label(period),
            CohortPeriod::Week => (period * lit(7) - lit(3))
                .cast(DataType::Date)
                .cast(DataType::String),
        }
    }
}

/// How the cohort table is laid out in a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// One long table for machines ([`long_section`]).
    Long,
    /// The retention and revenue-per-member triangles for people ([`triangle_sections`]).
    Triangles,
}

/// The sections of `custseg analyze cohorts` from order `lines` up to `as_of`: cohorts (long),
/// or retention and revenue_per_member (triangles); the plan run through `collect`.
pub fn report_sections(
    lines: LazyFrame,
    as_of: chrono::NaiveDate,
    period: CohortPeriod,
    layout: Layout,
    collect: &Collect,
) -> Result<Vec<Section>> {
    let long = collect(triangle(lines, as_of, period), "cohorts")?;
    match layout {
        Layout::Triangles => triangle_sections(&long, period),
        Layout::Long => Ok(vec![long_section(long, period)?]),
    }
}

/// The long cohort table of order `lines` (with [`DAY`]) up to `as_of`: cohort, cohort_size,
/// period_index, customers_active, retention, revenue_per_member; sorted by cohort, period_index.
pub fn triangle(lines: LazyFrame, as_of: chrono::NaiveDate, period: CohortPeriod) -> LazyFrame {
    let last = period.of_date(as_of);
    let key = || col(schema::CUSTOMER_ID);
    let with_period = lines.with_column(period.of_day(col(DAY)).alias(PERIOD));
    let purchases = with_period.clone().filter(col(schema::IS_RETURN).not());
    let cohort_of = purchases
        .clone()
        .group_by([key()])
        .agg([col(PERIOD).min().alias(FIRST)]);
    let k = (col(PERIOD) - col(FIRST)).alias(PERIOD_INDEX);
    let sizes = cohort_of
        .clone()
        .group_by([col(FIRST)])
        .agg([len().cast(DataType::Int64).alias(COHORT_SIZE)]);
    let active = purchases
        .select([key(), col(PERIOD)])
        .unique_stable(None, UniqueKeepStrategy::First)
        .join(
            cohort_of.clone(),
            [key()],
            [key()],
            JoinArgs::new(JoinType::Inner),
        )
        .group_by([col(FIRST), k.clone()])
        .agg([len().cast(DataType::Int64).alias(CUSTOMERS_ACTIVE)]);
    let revenue = with_period
        .join(cohort_of, [key()], [key()], JoinArgs::new(JoinType::Inner))
        .with_column(k)
        .filter(col(PERIOD_INDEX).gt_eq(lit(0)))
        .group_by([col(FIRST), col(PERIOD_INDEX)])
        .agg([crate::metrics::money_sum(col(schema::AMOUNT)).alias("__revenue")]);
    let indexes = sizes.clone().select([int_range(
        lit(0),
        (lit(last) - col(FIRST).min() + lit(1)).fill_null(lit(0)),
        1,
        DataType::Int32,
    )
    .alias(PERIOD_INDEX)]);
    let on = || [col(FIRST), col(PERIOD_INDEX)];
    let size = col(COHORT_SIZE).cast(DataType::Float64);
    sizes
        .cross_join(indexes, None)
        .filter((col(FIRST) + col(PERIOD_INDEX)).lt_eq(lit(last)))
        .join(active, on(), on(), JoinArgs::new(JoinType::Left))
        .join(revenue, on(), on(), JoinArgs::new(JoinType::Left))
        .sort([FIRST, PERIOD_INDEX], SortMultipleOptions::default())
        .select([
            period.label(col(FIRST)).alias(COHORT),
            col(COHORT_SIZE),
            col(PERIOD_INDEX).cast(DataType::Int64),
            col(CUSTOMERS_ACTIVE).fill_null(lit(0i64)),
            (col(CUSTOMERS_ACTIVE)
                .fill_null(lit(0i64))
                .cast(DataType::Float64)
                / size.clone())
            .round(4, RoundMode::HalfAwayFromZero)
            .alias(RETENTION),
            money(col("__revenue").fill_null(lit(0.0)) / size).alias(REVENUE_PER_MEMBER),
        ])
}

/// The cohorts of a collected [`triangle`] in order, with their sizes, and the largest period
/// index.
fn cohort_rows(long: &DataFrame) -> Result<(Vec<String>, Vec<i64>, usize)> {
    let cohorts = long.column(COHORT)?.str()?;
    let sizes = long.column(COHORT_SIZE)?.i64()?;
    let ks = long.column(PERIOD_INDEX)?.i64()?;
    let mut names: Vec<String> = Vec::new();
    let mut counts: Vec<i64> = Vec::new();
    for (c, s) in cohorts.iter().zip(sizes.iter()) {
        let c = c.unwrap_or("").to_string();
        if names.last() != Some(&c) {
            names.push(c);
            counts.push(s.unwrap_or(0));
        }
    }
    let max_k = ks.max().unwrap_or(0).max(0);
    Ok((names, counts, usize::try_from(max_k).unwrap_or(0)))
}

/// `value` of a collected [`triangle`] as a grid: one row per cohort, one column per period
/// index; None outside the triangle.
fn grid(
    long: &DataFrame,
    value: &str,
    n_rows: usize,
    n_cols: usize,
) -> Result<Vec<Vec<Option<f64>>>> {
    let mut cells = vec![vec![None; n_cols]; n_rows];
    let cohorts = long.column(COHORT)?.str()?;
    let ks = long.column(PERIOD_INDEX)?.i64()?;
    let values = long.column(value)?.cast(&DataType::Float64)?;
    let values = values.f64()?;
    let mut row = 0usize;
    let mut previous: Option<&str> = None;
    for ((c, k), v) in cohorts.iter().zip(ks.iter()).zip(values.iter()) {
        if previous.is_some() && previous != c {
            row += 1;
        }
        previous = c;
        if let Some(k) = k.and_then(|k| usize::try_from(k).ok()) {
            if row < n_rows && k < n_cols {
                cells[row][k] = v;
            }
        }
    }
    Ok(cells)
}

fn heatmap(rows: &[String], cells: Vec<Vec<Option<f64>>>, legend: &str, unit: &str) -> Chart {
    let n_cols = cells.first().map_or(0, Vec::len);
    Chart::Heatmap {
        rows: rows.to_vec(),
        columns: (0..n_cols).map(|k| k.to_string()).collect(),
        values: cells,
        legend: legend.to_string(),
        axes: (
            "cohort".to_string(),
            format!("{unit}s since first purchase"),
        ),
    }
}

/// The machine-readable section: the long [`triangle`] table and a retention heatmap.
pub fn long_section(long: DataFrame, period: CohortPeriod) -> Result<Section> {
    let (names, _, max_k) = cohort_rows(&long)?;
    let cells = grid(&long, RETENTION, names.len(), max_k + 1)?;
    Ok(Section {
        id: "cohorts".to_string(),
        title: format!("Cohorts by first-purchase {}", period.name()),
        note: Some(format!(
            "One row per cohort and {0} since first purchase (period_index); retention = customers_active / cohort_size; the last {0} runs to the as-of date and may be partial.",
            period.name()
        )),
        chart: Some(heatmap(&names, cells, "retention", period.name())),
        table: long,
    })
}

/// The sections for people: the retention triangle and the revenue-per-member triangle, one row
/// per cohort (cohort, cohort_size, then one column per period index: `month 0`, `month 1` ...),
/// each with a heatmap.
pub fn triangle_sections(long: &DataFrame, period: CohortPeriod) -> Result<Vec<Section>> {
    let (names, sizes, max_k) = cohort_rows(long)?;
    let unit = period.name();
    let wide = |value: &str| -> Result<(DataFrame, Vec<Vec<Option<f64>>>)> {
        let cells = grid(long, value, names.len(), max_k + 1)?;
        let mut columns = vec![
            Column::new(COHORT.into(), names.clone()),
            Column::new(COHORT_SIZE.into(), sizes.clone()),
        ];
        if !names.is_empty() {
            for k in 0..=max_k {
                let values: Vec<Option<f64>> = cells.iter().map(|row| row[k]).collect();
                columns.push(Column::new(format!("{unit} {k}").into(), values));
            }
        }
        Ok((DataFrame::new(names.len(), columns)?, cells))
    };
    let (retention, retention_cells) = wide(RETENTION)?;
    let (revenue, revenue_cells) = wide(REVENUE_PER_MEMBER)?;
    Ok(vec![
        Section {
            id: "retention".to_string(),
            title: format!("Retention by first-purchase {unit}"),
            note: Some(format!(
                "Share of each cohort buying in the {unit} k {unit}s after its first ({unit} 0 is 1); the last {unit} runs to the as-of date and may be partial."
            )),
            table: retention,
            chart: Some(heatmap(&names, retention_cells, "retention", unit)),
        },
        Section {
            id: "revenue_per_member".to_string(),
            title: format!("Revenue per cohort member by {unit}"),
            note: Some(format!(
                "Net revenue of the cohort in the {unit} / cohort size."
            )),
            table: revenue,
            chart: Some(heatmap(
                &names,
                revenue_cells,
                "revenue per member",
                unit,
            )),
        },
    ])
}
