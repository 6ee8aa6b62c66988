//! Purchase timing (`custseg analyze time`): orders and revenue by weekday × hour, by week and by
//! month, weekday versus weekend, and each calendar month's share of its year (seasonality).
//! docs/analyses.md, "time".
//!
//! - An order is a (customer_id, order_id) pair. Its moment is the earliest local `ordered_at` of
//!   its purchase lines, or of all its lines when it has none (an order holding only returns).
//! - `orders` in a cell = orders with at least one purchase line whose moment falls in the cell.
//! - `revenue` in a cell = Σ `amount` of all lines of the orders whose moment falls in the cell
//!   (returns negative), rounded to cents (half away from zero).
//! - Shares are computed from the cent-rounded columns, rounded to 4 decimals; null when the
//!   total is 0. Weekend = Saturday and Sunday, local time.

use polars::prelude::*;

use crate::analysis::{floats, share, texts, zeros};

use crate::analysis::Collect;
use crate::error::Result;
use crate::metrics::money;
use crate::report::{Chart, Section};
use crate::schema;

pub const WEEKDAY: &str = "weekday";
pub const WEEKDAY_NAME: &str = "weekday_name";
pub const HOUR: &str = "hour";
pub const ORDERS: &str = "orders";
pub const REVENUE: &str = "revenue";
pub const WEEK_START: &str = "week_start";
pub const MONTH: &str = "month";
pub const YEAR: &str = "year";
pub const PART: &str = "part";
pub const ORDER_SHARE: &str = "order_share";
pub const REVENUE_SHARE: &str = "revenue_share";
pub const SEASONAL_INDEX: &str = "seasonal_index";

/// Internal per-order columns.
const AT: &str = "__at";
const DAY: &str = "__order_day";
const PURCHASE: &str = "__purchase";
const NET: &str = "__net";

const DAY_NAMES: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const MONTH_NAMES: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// One row per order (customer_id, order_id) of `lines`: its moment, whether it has a purchase
/// line, its net amount and its local day number.
pub fn orders(lines: LazyFrame) -> LazyFrame {
    let purchase = col(schema::IS_RETURN).not();
    lines
        .group_by([col(schema::CUSTOMER_ID), col(schema::ORDER_ID)])
        .agg([
            col(schema::ORDERED_AT)
                .filter(purchase.clone())
                .min()
                .fill_null(col(schema::ORDERED_AT).min())
                .alias(AT),
            purchase.any(true).alias(PURCHASE),
            crate::metrics::money_sum(col(schema::AMOUNT)).alias(NET),
        ])
        .with_column(col(AT).dt().date().cast(DataType::Int32).alias(DAY))
}

/// Orders and revenue of the orders in each group of `keys`.
fn tally(orders: LazyFrame, keys: Vec<Expr>) -> LazyFrame {
    orders.group_by(keys).agg([
        col(PURCHASE).cast(DataType::Int64).sum().alias(ORDERS),
        money(crate::metrics::money_sum(col(NET))).alias(REVENUE),
    ])
}

/// Fills the cells without orders of `grid` (a left join onto every cell) with zeros.
fn zero_filled(grid: LazyFrame, counts: LazyFrame, keys: &[&str]) -> LazyFrame {
    let on: Vec<Expr> = keys.iter().map(|k| col(*k)).collect();
    grid.join(counts, on.clone(), on, JoinArgs::new(JoinType::Left))
        .with_columns([
            col(ORDERS).fill_null(lit(0i64)),
            col(REVENUE).fill_null(lit(0.0)),
        ])
}

/// All 7 × 24 cells: weekday (1 = Monday … 7 = Sunday, ISO), weekday_name, hour (0–23), orders,
/// revenue; sorted by weekday, hour.
pub fn weekday_hour(orders: LazyFrame) -> Result<LazyFrame> {
    let days = df!(
        WEEKDAY => (1..=7).collect::<Vec<i32>>(),
        WEEKDAY_NAME => DAY_NAMES.to_vec(),
    )?;
    let hours = df!(HOUR => (0..24).collect::<Vec<i32>>())?;
    let grid = days.lazy().cross_join(hours.lazy(), None);
    let counts = tally(
        orders,
        vec![
            col(AT).dt().weekday().cast(DataType::Int32).alias(WEEKDAY),
            col(AT).dt().hour().cast(DataType::Int32).alias(HOUR),
        ],
    );
    Ok(zero_filled(grid, counts, &[WEEKDAY, HOUR])
        .select([
            col(WEEKDAY),
            col(WEEKDAY_NAME),
            col(HOUR),
            col(ORDERS),
            col(REVENUE),
        ])
        .sort([WEEKDAY, HOUR], SortMultipleOptions::default()))
}

/// Per ISO week (Monday start, local): week_start, orders, revenue; every week from the first to
/// the last with an order, empty weeks as 0.
pub fn weekly(orders: LazyFrame) -> LazyFrame {
    // Day 0 (1970-01-01) is a Thursday, so day − (day + 3) mod 7 is the Monday on or before it.
    let monday = col(DAY) - (col(DAY) + lit(3)) % lit(7);
    let with_week = orders.with_column(monday.alias(WEEK_START));
    let weeks = with_week.clone().select([int_range(
        col(WEEK_START).min().fill_null(lit(0)),
        (col(WEEK_START).max() + lit(1)).fill_null(lit(0)),
        7,
        DataType::Int32,
    )
    .alias(WEEK_START)]);
    let counts = tally(with_week, vec![col(WEEK_START)]);
    zero_filled(weeks, counts, &[WEEK_START])
        .sort([WEEK_START], SortMultipleOptions::default())
        .select([
            col(WEEK_START).cast(DataType::Date),
            col(ORDERS),
            col(REVENUE),
        ])
}

/// `YYYY-MM` of a month index `year × 12 + month − 1`.
pub fn month_label(index: Expr) -> Expr {
    let month = (index.clone() % lit(12) + lit(1)).cast(DataType::String);
    concat_str(
        [
            (index / lit(12)).cast(DataType::String),
            lit("-"),
            month.str().pad_start(lit(2), '0'),
        ],
        "",
        false,
    )
}

/// Per calendar month (local): month (`YYYY-MM`), orders, revenue; every month from the first to
/// the last with an order, empty months as 0.
pub fn monthly(orders: LazyFrame) -> LazyFrame {
    let index = col(AT).dt().year().cast(DataType::Int32) * lit(12)
        + col(AT).dt().month().cast(DataType::Int32)
        - lit(1);
    let with_month = orders.with_column(index.alias("__month"));
    let months = with_month.clone().select([int_range(
        col("__month").min().fill_null(lit(0)),
        (col("__month").max() + lit(1)).fill_null(lit(0)),
        1,
        DataType::Int32,
    )
    .alias("__month")]);
    let counts = tally(with_month, vec![col("__month")]);
    zero_filled(months, counts, &["__month"])
        .sort(["__month"], SortMultipleOptions::default())
        .select([
            month_label(col("__month")).alias(MONTH),
            col(ORDERS),
            col(REVENUE),
        ])
}

/// Two rows, `weekday` (Monday–Friday) then `weekend` (Saturday, Sunday): orders, order_share,
/// revenue, revenue_share; from the [`weekday_hour`] grid.
pub fn weekend(grid: LazyFrame) -> LazyFrame {
    let part = when(col(WEEKDAY).gt_eq(lit(6)))
        .then(lit("weekend"))
        .otherwise(lit("weekday"));
    grid.group_by([part.alias(PART)])
        .agg([
            col(ORDERS).sum(),
            money(crate::metrics::money_sum(col(REVENUE))).alias(REVENUE),
        ])
        .sort([PART], SortMultipleOptions::default())
        .select([
            col(PART),
            col(ORDERS),
            share(ORDERS).alias(ORDER_SHARE),
            col(REVENUE),
            share(REVENUE).alias(REVENUE_SHARE),
        ])
}

/// Per calendar year with an order and each of its 12 months: revenue, revenue_share (the
/// month's revenue / the year's, 4 decimals; null when the year's revenue is 0) and
/// seasonal_index = 12 × the month's revenue / the year's (the share against the average share
/// 1/12; 1 = an average month), 4 decimals.
pub fn seasonality(orders: LazyFrame) -> Result<LazyFrame> {
    let with_month = orders.with_columns([
        col(AT).dt().year().cast(DataType::Int32).alias(YEAR),
        col(AT).dt().month().cast(DataType::Int32).alias(MONTH),
    ]);
    let years = with_month
        .clone()
        .select([col(YEAR)])
        .unique_stable(None, UniqueKeepStrategy::First);
    let months = df!(MONTH => (1..=12).collect::<Vec<i32>>())?;
    let grid = years.cross_join(months.lazy(), None);
    let counts = tally(with_month, vec![col(YEAR), col(MONTH)]);
    let year_total = col(REVENUE).sum().over([col(YEAR)])?;
    let of_year = |scale: f64| {
        when(year_total.clone().eq(lit(0.0)))
            .then(lit(NULL).cast(DataType::Float64))
            .otherwise(lit(scale) * col(REVENUE) / year_total.clone())
            .round(4, RoundMode::HalfAwayFromZero)
    };
    Ok(zero_filled(grid, counts, &[YEAR, MONTH])
        .select([
            col(YEAR),
            col(MONTH),
            col(REVENUE),
            of_year(1.0).alias(REVENUE_SHARE),
            of_year(12.0).alias(SEASONAL_INDEX),
        ])
        .sort([YEAR, MONTH], SortMultipleOptions::default()))
}

/// The sections of `custseg analyze time` from order `lines` (as
/// [`crate::analysis::filter::period_lines`] keeps them): weekday_hour, weekly, monthly,
/// weekend, seasonality; every plan run through `collect`.
pub fn report_sections(lines: LazyFrame, collect: &Collect) -> Result<Vec<Section>> {
    let orders = collect(orders(lines), "orders")?.lazy();
    let grid = collect(weekday_hour(orders.clone())?, "weekday x hour")?;
    let weeks = collect(weekly(orders.clone()), "weekly")?;
    let months = collect(monthly(orders.clone()), "monthly")?;
    let parts = collect(weekend(grid.clone().lazy()), "weekend")?;
    let season = collect(seasonality(orders)?, "seasonality")?;
    sections(grid, weeks, months, parts, season)
}

/// The report sections from the collected frames of [`weekday_hour`], [`weekly`], [`monthly`],
/// [`weekend`] and [`seasonality`], in that order.
pub fn sections(
    grid: DataFrame,
    weeks: DataFrame,
    months: DataFrame,
    parts: DataFrame,
    season: DataFrame,
) -> Result<Vec<Section>> {
    let orders = floats(&grid, ORDERS)?;
    let values: Vec<Vec<Option<f64>>> = orders.chunks(24).map(<[_]>::to_vec).collect();
    let heatmap = Chart::Heatmap {
        rows: DAY_NAMES.iter().map(|d| (*d).to_string()).collect(),
        columns: (0..24).map(|h| h.to_string()).collect(),
        values,
        legend: "orders".to_string(),
        axes: ("weekday".to_string(), "hour".to_string()),
    };
    let trend = |df: &DataFrame, label: &str| -> Result<Chart> {
        Ok(Chart::Line {
            labels: texts(df, label)?,
            series: vec![("revenue".to_string(), zeros(floats(df, REVENUE)?))],
        })
    };
    let split = Chart::Bars {
        labels: texts(&parts, PART)?,
        series: vec![
            ("orders".to_string(), zeros(floats(&parts, ORDER_SHARE)?)),
            ("revenue".to_string(), zeros(floats(&parts, REVENUE_SHARE)?)),
        ],
        percent: true,
    };
    let years = season.column(YEAR)?.i32()?.clone();
    let index = floats(&season, SEASONAL_INDEX)?;
    let mut series: Vec<(String, Vec<f64>)> = Vec::new();
    for (i, y) in years.iter().enumerate().step_by(12) {
        let values = zeros(index[i..(i + 12).min(index.len())].to_vec());
        series.push((y.map_or_else(String::new, |y| y.to_string()), values));
    }
    let seasonal = Chart::Line {
        labels: MONTH_NAMES.iter().map(|m| (*m).to_string()).collect(),
        series,
    };
    Ok(vec![
        Section {
            id: "weekday_hour".to_string(),
            title: "Orders and revenue by weekday and hour".to_string(),
            note: Some(
                "Local time of each order's first purchase line; weekday 1 = Monday.".to_string(),
            ),
            table: grid,
            chart: Some(heatmap),
        },
        Section {
            id: "weekly".to_string(),
            title: "Orders and revenue per week".to_string(),
            note: Some("Weeks start on Monday; weeks without orders show 0.".to_string()),
            chart: Some(trend(&weeks, WEEK_START)?),
            table: weeks,
        },
        Section {
            id: "monthly".to_string(),
            title: "Orders and revenue per month".to_string(),
            note: Some("Months without orders show 0.".to_string()),
            chart: Some(trend(&months, MONTH)?),
            table: months,
        },
        Section {
            id: "weekend".to_string(),
            title: "Weekday versus weekend".to_string(),
            note: Some("Weekend = Saturday and Sunday.".to_string()),
            table: parts,
            chart: Some(split),
        },
        Section {
            id: "seasonality".to_string(),
            title: "Seasonality: each month's share of its year".to_string(),
            note: Some(
                "seasonal_index = 12 × month revenue / year revenue: 1 is an average month; first and last years may be partial."
                    .to_string(),
            ),
            table: season,
            chart: Some(seasonal),
        },
    ])
}
