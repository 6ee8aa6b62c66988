//! Behaviour columns per purchasing customer (docs/metrics.md, "Behaviour"): where, what, when
//! and how they buy, plus interactions and demographics when those tables exist.
//!
//! - `preferred_channel` / `preferred_category`: highest net spend in the period; ties go to the
//!   alphabetically first name. `channel_count`: distinct channels with a purchase line.
//! - An order's moment is the earliest `ordered_at` of its purchase lines (local time).
//!   `weekend_share`: share of orders on Saturday or Sunday. `usual_hour`: the most frequent hour
//!   of day (0–23) of orders, the smallest on ties.
//! - Gaps: differences in days between consecutive distinct purchase days;
//!   `mean_days_between_orders`, `median_days_between_orders` (null with fewer than two days);
//!   `expected_next_purchase` = last purchase day + round(median gap).
//! - `discount_share` = Σ discount / Σ (amount + discount) over purchase lines (null without
//!   discounts); `price_sensitive` = discount_share ≥ the threshold (default 0.15).
//! - `top_brand_share` = the largest per-brand share of spend on branded purchase lines;
//!   `brand_loyal` = top_brand_share ≥ the threshold (default 0.6). Null without brands.
//! - `interaction_count`, `last_interaction` (local date) from events; `gender`, `city` and
//!   `age_band` (age in whole years at as_of) from customers.

use polars::prelude::*;

use crate::metrics::{as_date, gap_to_previous_day, lines_in_period_by, DayRule, Period, DAY};
use crate::schema;

pub const PREFERRED_CHANNEL: &str = "preferred_channel";
pub const PREFERRED_CATEGORY: &str = "preferred_category";
pub const CHANNEL_COUNT: &str = "channel_count";
pub const WEEKEND_SHARE: &str = "weekend_share";
pub const USUAL_HOUR: &str = "usual_hour";
pub const MEAN_DAYS_BETWEEN_ORDERS: &str = "mean_days_between_orders";
pub const MEDIAN_DAYS_BETWEEN_ORDERS: &str = "median_days_between_orders";
pub const EXPECTED_NEXT_PURCHASE: &str = "expected_next_purchase";
pub const DISCOUNT_SHARE: &str = "discount_share";
pub const PRICE_SENSITIVE: &str = "price_sensitive";
pub const TOP_BRAND_SHARE: &str = "top_brand_share";
pub const BRAND_LOYAL: &str = "brand_loyal";
pub const LAST_INTERACTION: &str = "last_interaction";
pub const AGE_BAND: &str = "age_band";

/// Behaviour columns, in output order (interaction_count is added by tiers when events exist).
pub const BEHAVIOUR_COLUMNS: &[&str] = &[
    PREFERRED_CHANNEL,
    PREFERRED_CATEGORY,
    CHANNEL_COUNT,
    WEEKEND_SHARE,
    USUAL_HOUR,
    MEAN_DAYS_BETWEEN_ORDERS,
    MEDIAN_DAYS_BETWEEN_ORDERS,
    EXPECTED_NEXT_PURCHASE,
    DISCOUNT_SHARE,
    PRICE_SENSITIVE,
    TOP_BRAND_SHARE,
    BRAND_LOYAL,
    LAST_INTERACTION,
    schema::GENDER,
    schema::CITY,
    AGE_BAND,
];

/// Flag thresholds.
#[derive(Debug, Clone, Copy, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BehaviourOptions {
    /// discount_share at or above this: price_sensitive.
    pub price_sensitive_share: f64,
    /// top_brand_share at or above this: brand_loyal.
    pub brand_loyal_share: f64,
}

impl Default for BehaviourOptions {
    fn default() -> Self {
        Self {
            price_sensitive_share: 0.15,
            brand_loyal_share: 0.6,
        }
    }
}

fn key() -> Expr {
    col(schema::CUSTOMER_ID)
}

fn left_join(a: LazyFrame, b: LazyFrame) -> LazyFrame {
    a.join(b, [key()], [key()], JoinArgs::new(JoinType::Left))
}

/// The name with the highest spend per customer (ties: alphabetically first).
fn preferred(lines: &LazyFrame, by: &str, out: &str) -> LazyFrame {
    lines
        .clone()
        .filter(col(by).is_not_null())
        .group_by([key(), col(by)])
        .agg([crate::metrics::money_sum(col(schema::AMOUNT)).alias("__spend")])
        .group_by([key()])
        .agg([col(by)
            .sort_by(
                [col("__spend"), col(by)],
                SortMultipleOptions::default().with_order_descending_multi([true, false]),
            )
            .first()
            .alias(out)])
}

/// Behaviour table: one row per customer with a purchase line in `period`.
pub fn behaviour(
    orders: LazyFrame,
    customers: Option<LazyFrame>,
    events: Option<LazyFrame>,
    period: &Period,
    options: &BehaviourOptions,
) -> LazyFrame {
    behaviour_by(orders, customers, events, period, options, DayRule::Zone)
}

/// [`behaviour`] with the local day of a line found by `days`.
pub fn behaviour_by(
    orders: LazyFrame,
    customers: Option<LazyFrame>,
    events: Option<LazyFrame>,
    period: &Period,
    options: &BehaviourOptions,
    days: DayRule,
) -> LazyFrame {
    let out = with_people(
        habits_by(orders, period, options, days),
        customers,
        events,
        period,
    );
    let mut cols = vec![key()];
    cols.extend(BEHAVIOUR_COLUMNS.iter().map(|c| col(*c)));
    out.select(cols)
}

/// The columns of [`BEHAVIOUR_COLUMNS`] that come from a customer's own order lines (channel to
/// brand_loyal), one row per customer with a purchase line in `period`. Each row depends on that
/// customer's lines only, so the table can be built over any split of the customers and
/// concatenated.
pub fn habits_by(
    orders: LazyFrame,
    period: &Period,
    options: &BehaviourOptions,
    days: DayRule,
) -> LazyFrame {
    let lines = lines_in_period_by(orders, period, days);
    let purchases = lines.clone().filter(col(schema::IS_RETURN).not());
    let base = purchases
        .clone()
        .group_by([key()])
        .agg([col(schema::CHANNEL)
            .n_unique()
            .cast(DataType::Int64)
            .alias(CHANNEL_COUNT)]);
    let moments = purchases
        .clone()
        .group_by([key(), col(schema::ORDER_ID)])
        .agg([col(schema::ORDERED_AT).min().alias("__at")])
        .with_columns([
            col("__at").dt().weekday().alias("__weekday"),
            col("__at")
                .dt()
                .hour()
                .cast(DataType::Int32)
                .alias("__hour"),
        ])
        .group_by([key()])
        .agg([
            col("__weekday")
                .gt_eq(lit(6))
                .cast(DataType::Float64)
                .mean()
                .round(4, RoundMode::HalfAwayFromZero)
                .alias(WEEKEND_SHARE),
            col("__hour").mode(false).min().alias(USUAL_HOUR),
        ]);
    let gaps = purchases
        .clone()
        .select([key(), col(DAY)])
        .unique_stable(None, UniqueKeepStrategy::First)
        .sort([schema::CUSTOMER_ID, DAY], SortMultipleOptions::default())
        .with_column(gap_to_previous_day().cast(DataType::Float64).alias("__gap"))
        .group_by([key()])
        .agg([
            col("__gap")
                .mean()
                .round(2, RoundMode::HalfAwayFromZero)
                .alias(MEAN_DAYS_BETWEEN_ORDERS),
            col("__gap").median().alias(MEDIAN_DAYS_BETWEEN_ORDERS),
            col(DAY).max().alias("__last"),
        ])
        .with_column(
            as_date(
                (col("__last").cast(DataType::Float64)
                    + col(MEDIAN_DAYS_BETWEEN_ORDERS).round(0, RoundMode::HalfAwayFromZero))
                .cast(DataType::Int32),
            )
            .alias(EXPECTED_NEXT_PURCHASE),
        )
        .drop(by_name(["__last"], true, false));
    let discount = col(schema::DISCOUNT).fill_null(lit(0.0));
    let discounts = purchases
        .clone()
        .group_by([key()])
        .agg([
            col(schema::DISCOUNT)
                .is_not_null()
                .any(true)
                .alias("__has_discount"),
            crate::metrics::money_sum(discount.clone()).alias("__discount"),
            crate::metrics::money_sum(col(schema::AMOUNT) + discount).alias("__gross"),
        ])
        .with_column(
            when(col("__has_discount").and(col("__gross").gt(lit(0.0))))
                .then((col("__discount") / col("__gross")).round(4, RoundMode::HalfAwayFromZero))
                .otherwise(lit(NULL).cast(DataType::Float64))
                .alias(DISCOUNT_SHARE),
        )
        .with_column(
            col(DISCOUNT_SHARE)
                .gt_eq(lit(options.price_sensitive_share))
                .alias(PRICE_SENSITIVE),
        )
        .select([key(), col(DISCOUNT_SHARE), col(PRICE_SENSITIVE)]);
    let brands = purchases
        .filter(col(schema::BRAND).is_not_null())
        .group_by([key(), col(schema::BRAND)])
        .agg([crate::metrics::micro_sum(col(schema::AMOUNT)).alias("__spend")])
        .group_by([key()])
        // Spend in integer micro-units, so the total does not depend on the order in which the
        // brands are added and a share on a rounding boundary (712.32 / 2150.40 = 0.33125)
        // always rounds the same way.
        .agg([(col("__spend").max().cast(DataType::Float64)
            / col("__spend").sum().cast(DataType::Float64))
        .alias(TOP_BRAND_SHARE)])
        .with_columns([
            col(TOP_BRAND_SHARE).round(4, RoundMode::HalfAwayFromZero),
            col(TOP_BRAND_SHARE)
                .gt_eq(lit(options.brand_loyal_share))
                .alias(BRAND_LOYAL),
        ]);
    let mut out = left_join(base, preferred(&lines, schema::CHANNEL, PREFERRED_CHANNEL));
    out = left_join(out, preferred(&lines, schema::CATEGORY, PREFERRED_CATEGORY));
    out = left_join(out, moments);
    out = left_join(out, gaps);
    out = left_join(out, discounts);
    left_join(out, brands)
}

/// Adds `last_interaction` (from `events`) and `gender`, `city`, `age_band` (from `customers`) to
/// a per-customer table; nulls where a table is missing or has no row for the customer.
pub fn with_people(
    table: LazyFrame,
    customers: Option<LazyFrame>,
    events: Option<LazyFrame>,
    period: &Period,
) -> LazyFrame {
    let mut out = match events {
        Some(ev) => left_join(
            table,
            ev.filter(
                col(schema::OCCURRED_AT)
                    .dt()
                    .date()
                    .cast(DataType::Int32)
                    .lt_eq(lit(period.as_of_day())),
            )
            .group_by([key()])
            .agg([col(schema::OCCURRED_AT)
                .dt()
                .date()
                .max()
                .alias(LAST_INTERACTION)]),
        ),
        None => table.with_column(lit(NULL).cast(DataType::Date).alias(LAST_INTERACTION)),
    };
    out = match customers {
        Some(c) => {
            let (y, m, d) = (
                chrono::Datelike::year(&period.as_of),
                i8::try_from(chrono::Datelike::month(&period.as_of)).unwrap_or(1),
                i8::try_from(chrono::Datelike::day(&period.as_of)).unwrap_or(1),
            );
            let b = col(schema::BIRTH_DATE);
            let before_birthday = lit(m).lt(b.clone().dt().month()).or(lit(m)
                .eq(b.clone().dt().month())
                .and(lit(d).lt(b.clone().dt().day())));
            let age = lit(y) - b.dt().year() - before_birthday.cast(DataType::Int32);
            let band = when(col("__age").lt(lit(18)))
                .then(lit("under 18"))
                .when(col("__age").lt(lit(25)))
                .then(lit("18-24"))
                .when(col("__age").lt(lit(35)))
                .then(lit("25-34"))
                .when(col("__age").lt(lit(45)))
                .then(lit("35-44"))
                .when(col("__age").lt(lit(55)))
                .then(lit("45-54"))
                .when(col("__age").lt(lit(65)))
                .then(lit("55-64"))
                .otherwise(lit("65+"));
            left_join(
                out,
                c.select([
                    key(),
                    col(schema::GENDER),
                    col(schema::CITY),
                    age.alias("__age"),
                ])
                .with_column(
                    when(col("__age").is_null())
                        .then(lit(NULL).cast(DataType::String))
                        .otherwise(band)
                        .alias(AGE_BAND),
                )
                .select([
                    key(),
                    col(schema::GENDER),
                    col(schema::CITY),
                    col(AGE_BAND),
                ]),
            )
        }
        None => out.with_columns([
            lit(NULL).cast(DataType::String).alias(schema::GENDER),
            lit(NULL).cast(DataType::String).alias(schema::CITY),
            lit(NULL).cast(DataType::String).alias(AGE_BAND),
        ]),
    };
    out
}
