//! Data preparation for the customer-base models, as polars plans (LazyFrame in, LazyFrame out;
//! nothing here collects): order lines → customer days → one (x, t_x, T) summary row per
//! customer. The rules, with a CDNOW customer worked by hand, are in docs/clv.md.
//!
//! - A *customer day* is every order line of one customer on one local calendar date
//!   (`ordered_at` carries the zone; `.dt().date()` gives the date there).
//! - A *transaction* is a customer day with at least one purchase line (`is_return = false`;
//!   $0.00 lines count, as in CDNOW). Its value is the net amount of the day: purchase lines plus
//!   same-day returns (negative amounts). A day with return lines only is not a transaction.
//!   This is the literature's rule "all purchases of a customer on one day are one transaction,
//!   amounts summed" (Fader, Hardie & Lee 2005, section 4) extended to returns.
//! - Calibration: transactions on or before the calibration end (inclusive). With n of them,
//!   x = n − 1, t_x = (last − first transaction date) in days / unit, T = (calibration end −
//!   first transaction date) in days / unit. A purchase on the calibration end day itself has
//!   T = 0 when it is the first one.
//! - mean_repeat_spend (the Gamma-Gamma input m_x) = mean value of the x repeat transactions
//!   (the first transaction excluded; Fader & Hardie 2013, section 2); 0 when x = 0.
//! - Holdout (optional): transactions with calibration end < date ≤ holdout end.

use chrono::NaiveDate;
use polars::prelude::*;

use crate::metrics::score::{self, CustomerBuckets};
use crate::schema;

/// Column: local calendar date of a customer day.
pub const DAY: &str = "day";
/// Column: net amount of a customer day (purchase lines plus same-day returns).
pub const VALUE: &str = "value";
/// Column: purchase lines (`is_return = false`) of a customer day.
pub const PURCHASE_LINES: &str = "purchase_lines";
/// Column: transactions in the calibration period (x + 1; 0 for customers who are skipped).
pub const CALIBRATION_TRANSACTIONS: &str = "calibration_transactions";
/// Column: transaction days in the whole input (0 for returns-only customers).
pub const PURCHASE_DAYS: &str = "purchase_days";
/// Column: date of the first transaction of the customer, any period.
pub const FIRST_PURCHASE: &str = "first_purchase";
/// Column: date of the last transaction of the customer, any period.
pub const LAST_PURCHASE: &str = "last_purchase";
/// Column: net value of all calibration transactions (the first one included).
pub const CALIBRATION_VALUE: &str = "calibration_value";
/// Column: x, repeat transactions in the calibration period.
pub const X: &str = "x";
/// Column: t_x, time of the last minus time of the first calibration transaction.
pub const T_X: &str = "t_x";
/// Column: T, calibration end minus time of the first transaction.
pub const T_AGE: &str = "T";
/// Column: m_x, mean value of the repeat calibration transactions (0 when x = 0).
pub const MEAN_REPEAT_SPEND: &str = "mean_repeat_spend";
/// Column: transactions in the holdout period.
pub const HOLDOUT_PURCHASES: &str = "holdout_purchases";

/// Length of a month in days everywhere in custseg clv: the mean Gregorian month, 365.25 / 12.
pub const MONTH_DAYS: f64 = 30.4375;
/// Length of a year in days: 365.25.
pub const YEAR_DAYS: f64 = 365.25;

/// The unit of t_x, T, horizons and of the rate parameters α (and β) of the models.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TimeUnit {
    /// One calendar day.
    Day,
    /// Seven days (the literature's unit for CDNOW).
    Week,
    /// [`MONTH_DAYS`] = 30.4375 days.
    Month,
}

impl TimeUnit {
    /// Length in days.
    #[must_use]
    pub fn days(self) -> f64 {
        match self {
            TimeUnit::Day => 1.0,
            TimeUnit::Week => 7.0,
            TimeUnit::Month => MONTH_DAYS,
        }
    }

    /// The name used on the command line and in params files.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            TimeUnit::Day => "day",
            TimeUnit::Week => "week",
            TimeUnit::Month => "month",
        }
    }

    /// The plural for people ("weeks").
    #[must_use]
    pub fn plural(self) -> &'static str {
        match self {
            TimeUnit::Day => "days",
            TimeUnit::Week => "weeks",
            TimeUnit::Month => "months",
        }
    }
}

/// What the preparation needs to know.
#[derive(Debug, Clone, PartialEq)]
pub struct PrepOptions {
    /// Last day of the calibration period (inclusive, local date).
    pub calibration_end: NaiveDate,
    /// Last day of the holdout period (inclusive), after the calibration end.
    pub holdout_end: Option<NaiveDate>,
    /// Unit of t_x and T.
    pub time_unit: TimeUnit,
}

/// Days since 1970-01-01 (polars' physical representation of a Date).
#[must_use]
pub fn epoch_days(date: NaiveDate) -> i32 {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
    i32::try_from((date - epoch).num_days()).unwrap_or(i32::MAX)
}

/// The date of polars' day number `days` (inverse of [`epoch_days`]).
#[must_use]
pub fn date_from_epoch_days(days: i32) -> NaiveDate {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
    epoch + chrono::Duration::days(i64::from(days))
}

/// Number of true values of a boolean expression, as u32.
fn count(predicate: Expr) -> Expr {
    predicate
        .cast(DataType::UInt32)
        .sum()
        .cast(DataType::UInt32)
}

/// Amounts are summed as whole micro-units (millionths of the currency unit): integer addition
/// is exact, so a sum has the same bits whatever order the engine's threads deliver the rows
/// in, and whatever the order of the input lines.
const MICROS: f64 = 1e6;

/// Σ values, each rounded to a micro-unit (half away from zero), in micro-units (i64), exactly.
fn micro_sum(values: Expr) -> Expr {
    (values * lit(MICROS))
        .round(0, RoundMode::HalfAwayFromZero)
        .cast(DataType::Int64)
        .sum()
}

/// Σ values, each rounded to a micro-unit (half away from zero), exactly.
fn stable_sum(values: Expr) -> Expr {
    micro_sum(values).cast(DataType::Float64) / lit(MICROS)
}

/// Customer days: `orders` (canonical columns) grouped by customer and local date. Columns: customer_id, day (Date), value (f64: the net amount of the
/// day, returns negative), purchase_lines (u32). A transaction is a row with purchase_lines > 0.
pub fn customer_days(orders: LazyFrame) -> LazyFrame {
    orders
        .select([
            col(schema::CUSTOMER_ID),
            col(schema::ORDERED_AT).dt().date().alias(DAY),
            col(schema::AMOUNT),
            col(schema::IS_RETURN),
        ])
        .group_by([col(schema::CUSTOMER_ID), col(DAY)])
        .agg([
            stable_sum(col(schema::AMOUNT)).alias(VALUE),
            count(col(schema::IS_RETURN).not()).alias(PURCHASE_LINES),
        ])
}

/// One row per customer with any order line, sorted by customer_id:
/// customer_id, calibration_transactions, purchase_days (u32), first_purchase, last_purchase
/// (Date), calibration_value, x (i64), t_x, T, mean_repeat_spend (f64), and holdout_purchases (u32) when
/// `options.holdout_end` is set. Customers without a calibration transaction (returns only, or
/// first purchase after the calibration end) have calibration_transactions = 0 and nulls in
/// t_x and T; the caller counts and drops them.
pub fn customer_summary(orders: LazyFrame, options: &PrepOptions) -> LazyFrame {
    summary_of_totals(customer_totals(orders, options), options)
        .sort([schema::CUSTOMER_ID], SortMultipleOptions::default())
}

/// Internal columns of [`customer_totals`]: first and last calibration transaction day (i32),
/// net calibration and repeat value in whole micro-units (i64).
const FIRST_DAY: &str = "first_day";
const LAST_DAY: &str = "last_day";
const CALIBRATION_MICROS: &str = "calibration_micros";
const REPEAT_MICROS: &str = "repeat_micros";

/// The per-customer aggregates of [`customer_summary`], in integers and dates only: one row per
/// customer_id (unsorted) with the counts, first and last purchase, first and last calibration
/// transaction day and the calibration and repeat values in micro-units. Exact, so it can be
/// computed bucket by bucket of customers ([`bucket_summary`]).
fn customer_totals(orders: LazyFrame, options: &PrepOptions) -> LazyFrame {
    let day = || col(DAY).cast(DataType::Int32);
    let purchase = || col(PURCHASE_LINES).gt(lit(0u32));
    let calibration_end = epoch_days(options.calibration_end);
    let in_calibration = || purchase().and(day().lt_eq(lit(calibration_end)));
    let first = || day().filter(in_calibration()).min();

    let mut aggs = vec![
        count(in_calibration()).alias(CALIBRATION_TRANSACTIONS),
        count(purchase()).alias(PURCHASE_DAYS),
        col(DAY).filter(purchase()).min().alias(FIRST_PURCHASE),
        col(DAY).filter(purchase()).max().alias(LAST_PURCHASE),
        first().alias(FIRST_DAY),
        day().filter(in_calibration()).max().alias(LAST_DAY),
        micro_sum(col(VALUE).filter(in_calibration())).alias(CALIBRATION_MICROS),
        // Repeat transactions: calibration transactions after the first one.
        micro_sum(col(VALUE).filter(in_calibration().and(day().gt(first())))).alias(REPEAT_MICROS),
    ];
    if let Some(holdout_end) = options.holdout_end {
        let in_holdout = purchase()
            .and(day().gt(lit(calibration_end)))
            .and(day().lt_eq(lit(epoch_days(holdout_end))));
        aggs.push(count(in_holdout).alias(HOLDOUT_PURCHASES));
    }
    customer_days(orders)
        .group_by([col(schema::CUSTOMER_ID)])
        .agg(aggs)
}

/// The summary columns of [`customer_summary`] from [`customer_totals`], row by row. Run once
/// over the whole per-customer table, never per bucket: polars divides a column of more than
/// one row by a literal as a multiplication by its reciprocal, and a one-row column by true
/// division, so the last bit of a value would depend on the size of its bucket.
fn summary_of_totals(totals: LazyFrame, options: &PrepOptions) -> LazyFrame {
    let calibration_end = epoch_days(options.calibration_end);
    let unit = options.time_unit.days();
    let money = |micros: &str| col(micros).cast(DataType::Float64) / lit(MICROS);
    let x = col(CALIBRATION_TRANSACTIONS).cast(DataType::Int64) - lit(1i64);
    let mut columns = vec![
        col(schema::CUSTOMER_ID),
        col(CALIBRATION_TRANSACTIONS),
        col(PURCHASE_DAYS),
        col(FIRST_PURCHASE),
        col(LAST_PURCHASE),
        money(CALIBRATION_MICROS).alias(CALIBRATION_VALUE),
        x.clone().alias(X),
        ((col(LAST_DAY) - col(FIRST_DAY)).cast(DataType::Float64) / lit(unit)).alias(T_X),
        ((lit(calibration_end) - col(FIRST_DAY)).cast(DataType::Float64) / lit(unit)).alias(T_AGE),
        when(x.clone().gt(lit(0i64)))
            .then(money(REPEAT_MICROS) / x.cast(DataType::Float64))
            .otherwise(lit(0.0))
            .alias(MEAN_REPEAT_SPEND),
    ];
    if options.holdout_end.is_some() {
        columns.push(col(HOLDOUT_PURCHASES));
    }
    totals.select(columns)
}

/// The per-customer aggregates of [`customer_summary`] (integers and dates, exact) over the
/// lines of bucket `bucket` of `buckets` only, keyed by the customer's position
/// ([`score::POSITION`]) instead of customer_id, so that grouping compares integers. Every
/// aggregate depends on one customer's lines alone: collect the buckets one after the other
/// (one plan with a union of the buckets would hold every bucket's lines at once) and pass the
/// tables to [`summary_of_buckets`].
pub fn bucket_summary(
    orders: LazyFrame,
    options: &PrepOptions,
    buckets: &CustomerBuckets,
    bucket: usize,
) -> LazyFrame {
    customer_totals(buckets.bucket_lines(orders, bucket), options)
}

/// [`customer_summary`] from the tables of [`bucket_summary`], one per bucket of `buckets`:
/// customer_id back by one join on the position, sorted by the position (the order of
/// customer_id), then the summary columns computed over all customers at once. The same table
/// as [`customer_summary`] over all lines, bit for bit.
///
/// # Errors
/// Engine errors (no tables, or tables of different schemas).
pub fn summary_of_buckets(
    parts: Vec<DataFrame>,
    options: &PrepOptions,
    buckets: &CustomerBuckets,
) -> crate::error::Result<LazyFrame> {
    let totals = concat(
        parts.into_iter().map(IntoLazy::lazy).collect::<Vec<_>>(),
        UnionArgs::default(),
    )?;
    let sorted = buckets
        .with_ids(totals)
        .sort([score::POSITION], SortMultipleOptions::default());
    Ok(summary_of_totals(sorted, options))
}

/// The latest local date with a purchase line in `orders`: one row, column `last_purchase`
/// (Date; null when there is none). The default calibration end.
pub fn last_purchase_day(orders: LazyFrame) -> LazyFrame {
    orders
        .filter(col(schema::IS_RETURN).not())
        .select([col(schema::ORDERED_AT)
            .dt()
            .date()
            .max()
            .alias(LAST_PURCHASE)])
}
