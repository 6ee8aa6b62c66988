//! Per-customer metrics as polars plan builders: LazyFrame in, LazyFrame out; they never collect,
//! print or write. docs/metrics.md defines every column so an analyst can recompute it by hand.

use polars::prelude::*;

use crate::schema;

pub mod behaviour;
pub mod lifecycle;
pub mod rfm;
pub mod score;
pub mod segment;
pub mod tiers;

/// Internal column: the local calendar day of an order line as days since 1970-01-01.
pub const DAY: &str = "__day";

/// Days since 1970-01-01 of a calendar date.
pub fn day_number(date: chrono::NaiveDate) -> i32 {
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
    i32::try_from((date - epoch).num_days()).unwrap_or(i32::MAX)
}

/// The calendar date of a day number.
pub fn date_of_day(day: i32) -> chrono::NaiveDate {
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
    epoch + chrono::Duration::days(i64::from(day))
}

/// The analysis period: lines on local days `(as_of − window, as_of]`.
#[derive(Debug, Clone, Copy)]
pub struct Period {
    /// Last included local date.
    pub as_of: chrono::NaiveDate,
    /// Look-back in days (None: everything up to as_of).
    pub window_days: Option<i64>,
}

impl Period {
    /// Day number of as_of.
    pub fn as_of_day(&self) -> i32 {
        day_number(self.as_of)
    }
}

/// Adds [`DAY`] (local calendar date of `ordered_at`, in the zone it carries) and keeps the lines
/// of `period`.
pub fn lines_in_period(orders: LazyFrame, period: &Period) -> LazyFrame {
    let day = col(schema::ORDERED_AT).dt().date().cast(DataType::Int32);
    let as_of = period.as_of_day();
    let mut keep = col(DAY).lt_eq(lit(as_of));
    if let Some(w) = period.window_days {
        let start = i64::from(as_of) - w;
        keep = keep.and(col(DAY).cast(DataType::Int64).gt(lit(start)));
    }
    orders.with_column(day.alias(DAY)).filter(keep)
}

/// A [`DAY`]-like integer column as a Date.
pub fn as_date(day: Expr) -> Expr {
    day.cast(DataType::Date)
}

/// Rounds money to cents (2 decimals), half away from zero.
pub fn money(e: Expr) -> Expr {
    e.round(2, RoundMode::HalfAwayFromZero)
}

/// Days since the same customer's previous row, on a frame sorted by (customer_id, [`DAY`]);
/// null on each customer's first row.
pub fn gap_to_previous_day() -> Expr {
    let same_customer = col(schema::CUSTOMER_ID).eq(col(schema::CUSTOMER_ID).shift(lit(1)));
    when(same_customer.fill_null(lit(false)))
        .then(col(DAY) - col(DAY).shift(lit(1)))
        .otherwise(lit(NULL).cast(DataType::Int32))
}

/// The latest local order date in `orders` (None when empty). Collects one scalar.
pub fn latest_order_date(orders: LazyFrame) -> crate::error::Result<Option<chrono::NaiveDate>> {
    let df = orders
        .select([col(schema::ORDERED_AT)
            .dt()
            .date()
            .cast(DataType::Int32)
            .max()
            .alias("d")])
        .collect()?;
    let day = df.column("d")?.i32()?.get(0);
    Ok(day.map(date_of_day))
}
