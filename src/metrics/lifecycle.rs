//! Lifecycle stage of every known customer (the customers table and/or purchasers), from the
//! local calendar days of their purchase lines up to the as-of date (the look-back window does not
//! apply). Stages, first match wins (docs/metrics.md, "Lifecycle"):
//!
//! | stage | rule |
//! |---|---|
//! | `prospect` | known, no purchase line on or before as_of |
//! | `new` | as_of − first_purchase ≤ new_days |
//! | `reactivated` | a purchase day d with as_of − d ≤ active_days whose previous purchase day is more than churn_days before d |
//! | `active` | recency_days ≤ active_days |
//! | `at_risk` | recency_days ≤ churn_days |
//! | `churned` | otherwise |

use polars::prelude::*;

use crate::metrics::rfm::{FIRST_PURCHASE, LAST_PURCHASE, RECENCY_DAYS};
use crate::metrics::{as_date, gap_to_previous_day, lines_in_period_by, DayRule, Period, DAY};
use crate::schema;

pub const LIFECYCLE_STAGE: &str = "lifecycle_stage";
pub const PURCHASE_DAYS: &str = "purchase_days";

/// Output columns of `custseg lifecycle`, in order.
pub const LIFECYCLE_COLUMNS: &[&str] = &[
    schema::CUSTOMER_ID,
    LIFECYCLE_STAGE,
    FIRST_PURCHASE,
    LAST_PURCHASE,
    RECENCY_DAYS,
    PURCHASE_DAYS,
];

/// Stage thresholds in days.
#[derive(Debug, Clone, Copy, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LifecycleOptions {
    /// First purchase at most this many days before as_of: `new`.
    pub new_days: i64,
    /// Last purchase at most this many days before as_of: `active`.
    pub active_days: i64,
    /// Last purchase at most this many days before as_of: `at_risk`; beyond: `churned`.
    pub churn_days: i64,
}

impl Default for LifecycleOptions {
    fn default() -> Self {
        Self {
            new_days: 30,
            active_days: 90,
            churn_days: 180,
        }
    }
}

/// One row per known customer with its stage.
pub fn lifecycle(
    orders: LazyFrame,
    customers: Option<LazyFrame>,
    as_of: chrono::NaiveDate,
    options: &LifecycleOptions,
) -> LazyFrame {
    lifecycle_by(orders, customers, as_of, options, DayRule::Zone)
}

/// [`lifecycle`] with the local day of a line found by `days`.
pub fn lifecycle_by(
    orders: LazyFrame,
    customers: Option<LazyFrame>,
    as_of: chrono::NaiveDate,
    options: &LifecycleOptions,
    days: DayRule,
) -> LazyFrame {
    let period = Period {
        as_of,
        window_days: None,
    };
    let as_of_day = period.as_of_day();
    let days = lines_in_period_by(orders, &period, days)
        .filter(col(schema::IS_RETURN).not())
        .select([col(schema::CUSTOMER_ID), col(DAY)])
        .unique_stable(None, UniqueKeepStrategy::First)
        .sort([schema::CUSTOMER_ID, DAY], SortMultipleOptions::default())
        .with_column(gap_to_previous_day().alias("__gap"));
    let returned_after_gap = col(DAY)
        .gt_eq(lit(i64::from(as_of_day) - options.active_days))
        .and(col("__gap").gt(lit(options.churn_days)))
        .fill_null(lit(false));
    let purchasers = days.group_by([col(schema::CUSTOMER_ID)]).agg([
        col(DAY).min().alias("__first"),
        col(DAY).max().alias("__last"),
        len().cast(DataType::Int64).alias(PURCHASE_DAYS),
        returned_after_gap.any(true).alias("__reactivated"),
    ]);
    let known = match customers {
        Some(c) => concat(
            [
                c.select([col(schema::CUSTOMER_ID)]),
                purchasers.clone().select([col(schema::CUSTOMER_ID)]),
            ],
            UnionArgs::default(),
        )
        .unwrap_or_else(|_| purchasers.clone().select([col(schema::CUSTOMER_ID)]))
        .unique(None, UniqueKeepStrategy::First),
        None => purchasers.clone().select([col(schema::CUSTOMER_ID)]),
    };
    let recency = (lit(as_of_day) - col("__last")).cast(DataType::Int64);
    let tenure = (lit(as_of_day) - col("__first")).cast(DataType::Int64);
    let stage = when(col("__first").is_null())
        .then(lit("prospect"))
        .when(tenure.lt_eq(lit(options.new_days)))
        .then(lit("new"))
        .when(col("__reactivated"))
        .then(lit("reactivated"))
        .when(recency.clone().lt_eq(lit(options.active_days)))
        .then(lit("active"))
        .when(recency.clone().lt_eq(lit(options.churn_days)))
        .then(lit("at_risk"))
        .otherwise(lit("churned"));
    known
        .join(
            purchasers,
            [col(schema::CUSTOMER_ID)],
            [col(schema::CUSTOMER_ID)],
            JoinArgs::new(JoinType::Left),
        )
        .with_columns([
            stage.alias(LIFECYCLE_STAGE),
            as_date(col("__first")).alias(FIRST_PURCHASE),
            as_date(col("__last")).alias(LAST_PURCHASE),
            recency.alias(RECENCY_DAYS),
            col(PURCHASE_DAYS).fill_null(lit(0i64)),
        ])
        .select(
            LIFECYCLE_COLUMNS
                .iter()
                .map(|c| col(*c))
                .collect::<Vec<_>>(),
        )
        .sort([schema::CUSTOMER_ID], SortMultipleOptions::default())
}
