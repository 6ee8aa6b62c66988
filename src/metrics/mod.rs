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

/// How a line's local calendar day is found from `ordered_at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayRule {
    /// The date of the timestamp in the zone it carries: right for any zone and date, and the
    /// costliest step of a plan over lines (a zone lookup per line).
    Zone,
    /// `floor((stored value + offset) / per_day)` on the stored epoch value, in the column's time
    /// unit: the same dates as [`DayRule::Zone`] wherever the zone's UTC offset is `offset`. Found
    /// by [`fixed_offset_days`], which says over which dates it holds.
    FixedOffset {
        /// The zone's UTC offset, in the column's unit.
        offset: i64,
        /// One day in the column's unit.
        per_day: i64,
    },
}

impl DayRule {
    /// The local day of `ordered_at` as days since 1970-01-01 (Int32).
    pub fn day(self) -> Expr {
        match self {
            DayRule::Zone => col(schema::ORDERED_AT).dt().date().cast(DataType::Int32),
            DayRule::FixedOffset { offset, per_day } => {
                (col(schema::ORDERED_AT).cast(DataType::Int64) + lit(offset))
                    .floor_div(lit(per_day))
                    .cast(DataType::Int32)
            }
        }
    }
}

/// A [`DayRule::FixedOffset`] for an `ordered_at` column of type `dtype` when its zone keeps one
/// UTC offset from two days before local midnight of `from` to two days after the end of `to`
/// (checked every 6 hours; a naive timestamp has offset 0 always); None otherwise.
///
/// Why the margins make it exact for a period ending at `to` whose purchase days start at `from`:
/// a zone's offsets differ by less than two days, so a line more than two days before local
/// midnight of a date D is on a day before D and one more than two days after it is on D or later,
/// under either rule; every other line that can move a boundary or a first or last day lies in the
/// checked span, where both rules agree. The command checks again with the `from` it found.
pub fn fixed_offset_days(
    dtype: &DataType,
    from: chrono::NaiveDate,
    to: chrono::NaiveDate,
) -> Option<DayRule> {
    use chrono::{Offset, TimeZone};
    let DataType::Datetime(unit, zone) = dtype else {
        return None;
    };
    let per_second = match unit {
        TimeUnit::Milliseconds => 1_000,
        TimeUnit::Microseconds => 1_000_000,
        TimeUnit::Nanoseconds => 1_000_000_000,
    };
    let seconds = match zone {
        None => 0,
        Some(name) => {
            let tz: chrono_tz::Tz = name.parse().ok()?;
            let start = from.checked_sub_days(chrono::Days::new(2))?;
            let end = to.checked_add_days(chrono::Days::new(3))?;
            let mut at = start.and_hms_opt(0, 0, 0)?.and_utc().timestamp() - 86_400;
            let stop = end.and_hms_opt(0, 0, 0)?.and_utc().timestamp() + 86_400;
            let offset_at = |t: i64| {
                tz.timestamp_opt(t, 0)
                    .single()
                    .map(|d| d.offset().fix().local_minus_utc())
            };
            let first = offset_at(at)?;
            while at < stop {
                at += 6 * 3_600;
                if offset_at(at)? != first {
                    return None;
                }
            }
            i64::from(first)
        }
    };
    Some(DayRule::FixedOffset {
        offset: seconds * per_second,
        per_day: 86_400 * per_second,
    })
}

/// The day rule for one run over `orders`: a fixed offset when the zone keeps one over the two
/// years (or the window) before the as-of date, to be confirmed with [`LocalDays::confirmed`]
/// once the earliest purchase day is known; zone by zone otherwise.
#[derive(Debug, Clone)]
pub struct LocalDays {
    ordered_at: Option<DataType>,
    /// The rule to build the plan with.
    pub rule: DayRule,
}

impl LocalDays {
    /// Reads the type of `ordered_at` from the plan's schema (no data is read) and guesses.
    pub fn guess(orders: &LazyFrame, period: &Period) -> crate::error::Result<Self> {
        let ordered_at = orders
            .clone()
            .collect_schema()?
            .get(schema::ORDERED_AT)
            .cloned();
        let from = days_before(period.as_of, period.window_days.unwrap_or(2 * 366));
        let rule = ordered_at
            .as_ref()
            .and_then(|d| fixed_offset_days(d, from, period.as_of))
            .unwrap_or(DayRule::Zone);
        Ok(Self { ordered_at, rule })
    }

    /// Zone by zone, nothing to confirm.
    pub fn zone() -> Self {
        Self {
            ordered_at: None,
            rule: DayRule::Zone,
        }
    }

    /// Whether the guessed rule gave the zone's days, given the earliest purchase day the plan
    /// found (None: no purchase); when false, run the plan again with [`DayRule::Zone`].
    pub fn confirmed(&self, earliest_purchase: Option<chrono::NaiveDate>, period: &Period) -> bool {
        if self.rule == DayRule::Zone {
            return true;
        }
        let mut from = earliest_purchase.unwrap_or(period.as_of);
        if let Some(w) = period.window_days {
            from = from.min(days_before(period.as_of, w - 1));
        }
        self.ordered_at
            .as_ref()
            .and_then(|d| fixed_offset_days(d, from, period.as_of))
            == Some(self.rule)
    }
}

fn days_before(date: chrono::NaiveDate, days: i64) -> chrono::NaiveDate {
    date.checked_sub_days(chrono::Days::new(u64::try_from(days).unwrap_or(0)))
        .unwrap_or(date)
}

/// Adds [`DAY`] (local calendar date of `ordered_at`, in the zone it carries) and keeps the lines
/// of `period`.
pub fn lines_in_period(orders: LazyFrame, period: &Period) -> LazyFrame {
    lines_in_period_by(orders, period, DayRule::Zone)
}

/// [`lines_in_period`] with the day found by `rule`.
pub fn lines_in_period_by(orders: LazyFrame, period: &Period, rule: DayRule) -> LazyFrame {
    let day = rule.day();
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

/// Sum of money amounts, exact: each amount as whole micro-units (amount × 10⁶ rounded half away
/// from zero; ingest keeps at most 6 decimals), added as integers, divided by 10⁶. Unlike a float
/// sum, the result does not depend on the order in which rows or partial sums are added (threads,
/// the streaming engine), so equal totals tie exactly and every run gives the same bytes.
pub fn money_sum(amounts: Expr) -> Expr {
    micro_sum(amounts).cast(DataType::Float64) / lit(1e6)
}

/// The exact sum of [`money_sum`] in whole micro-units (Int64), for ratios of sums that must not
/// depend on the order of addition either.
pub fn micro_sum(amounts: Expr) -> Expr {
    (amounts * lit(1e6))
        .round(0, RoundMode::HalfAwayFromZero)
        .cast(DataType::Int64)
        .sum()
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

/// Customers cut into buckets of about `max_lines` order lines ([`score::CustomerBuckets`]),
/// for plans that depend on one customer's lines at a time and are collected bucket by bucket:
/// counts the lines per customer first (one column, on the streaming engine). `max_lines` is
/// the environment variable `var` when set (0: None, build one plan over all lines; for tests
/// and measurements, not a documented knob), else [`score::BUCKET_LINES`]. None also when a
/// customer_id is null (see [`score::CustomerBuckets::cut`]). Collects.
///
/// # Errors
/// A usage error when `var` is not a number; engine errors.
pub fn customer_buckets(
    orders: &LazyFrame,
    var: &str,
) -> crate::error::Result<Option<score::CustomerBuckets>> {
    let max_lines = match std::env::var(var) {
        Ok(text) => text.trim().parse::<u64>().map_err(|_| {
            crate::error::Error::usage(format!("{var}=\"{text}\" is not a number of lines"))
        })?,
        Err(_) => score::BUCKET_LINES,
    };
    if max_lines == 0 {
        return Ok(None);
    }
    let counts = score::lines_per_customer(orders.clone())
        .collect_with_engine(Engine::Streaming)?
        .unwrap_single();
    score::CustomerBuckets::cut(counts, max_lines)
}
