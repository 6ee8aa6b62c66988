//! Value tiers: `value_score` = weighted sum of min-max-normalised frequency, monetary and
//! interaction count; `tier` = high for the top share of customers by value_score, mid for the
//! next share, low for the rest (docs/metrics.md, "Value tiers").
//!
//! norm(v) = (v − min) / (max − min) over all scored customers, 0 when max = min. Without an
//! events table the interaction weight is dropped and the other two are rescaled to sum to 1.
//! Tier by rank: rank_min of value_score, descending; `high` when rank_min − 1 < high × n, `mid`
//! when rank_min − 1 < (high + mid) × n, else `low` (the products rounded to 6 decimals; ties
//! share a tier). With the defaults and 70 customers: ranks 1–14 high, 15–35 mid.

use polars::prelude::*;

use crate::metrics::rfm::{FREQUENCY, MONETARY};
use crate::schema;

pub const INTERACTION_COUNT: &str = "interaction_count";
pub const VALUE_SCORE: &str = "value_score";
pub const TIER: &str = "tier";

/// Weights and tier shares.
#[derive(Debug, Clone, Copy, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TierOptions {
    /// Weight of normalised frequency.
    pub frequency_weight: f64,
    /// Weight of normalised monetary.
    pub monetary_weight: f64,
    /// Weight of normalised interaction count.
    pub interaction_weight: f64,
    /// Share of customers in the high tier.
    pub high_share: f64,
    /// Share of customers in the mid tier.
    pub mid_share: f64,
}

impl Default for TierOptions {
    fn default() -> Self {
        Self {
            frequency_weight: 0.3,
            monetary_weight: 0.5,
            interaction_weight: 0.2,
            high_share: 0.2,
            mid_share: 0.3,
        }
    }
}

fn norm(c: &str) -> Expr {
    let v = col(c).cast(DataType::Float64);
    let (lo, hi) = (v.clone().min(), v.clone().max());
    when(hi.clone().gt(lo.clone()))
        .then((v - lo.clone()) / (hi - lo))
        .otherwise(lit(0.0))
}

/// Interaction count per customer from events on or before `as_of` (local date).
pub fn interactions(events: LazyFrame, as_of: chrono::NaiveDate) -> LazyFrame {
    let day = col(schema::OCCURRED_AT).dt().date().cast(DataType::Int32);
    events
        .filter(day.lt_eq(lit(crate::metrics::day_number(as_of))))
        .group_by([col(schema::CUSTOMER_ID)])
        .agg([len().cast(DataType::Int64).alias(INTERACTION_COUNT)])
}

/// Adds `interaction_count` (events on or before as_of, when `events` is given), `value_score` (rounded to 6 decimals) and
/// `tier` to a frame with customer_id, frequency and monetary.
pub fn tiers(
    customers: LazyFrame,
    events: Option<LazyFrame>,
    as_of: chrono::NaiveDate,
    options: &TierOptions,
) -> LazyFrame {
    let (lf, wf, wm, wi) = match events {
        Some(ev) => (
            customers
                .join(
                    interactions(ev, as_of),
                    [col(schema::CUSTOMER_ID)],
                    [col(schema::CUSTOMER_ID)],
                    JoinArgs::new(JoinType::Left),
                )
                .with_column(col(INTERACTION_COUNT).fill_null(lit(0i64))),
            options.frequency_weight,
            options.monetary_weight,
            options.interaction_weight,
        ),
        None => {
            let total = options.frequency_weight + options.monetary_weight;
            let total = if total > 0.0 { total } else { 1.0 };
            (
                customers,
                options.frequency_weight / total,
                options.monetary_weight / total,
                0.0,
            )
        }
    };
    let mut score = lit(wf) * norm(FREQUENCY) + lit(wm) * norm(MONETARY);
    if wi > 0.0 {
        score = score + lit(wi) * norm(INTERACTION_COUNT);
    }
    let rank = col(VALUE_SCORE)
        .rank(
            RankOptions {
                method: RankMethod::Min,
                descending: true,
            },
            None,
        )
        .cast(DataType::Float64);
    // Customers ranked before this one, compared with share × n rounded to 6 decimals, so that
    // 0.2 × 70 is exactly 14 and not 14.000000000000002.
    let before = rank - lit(1.0);
    let n = len().cast(DataType::Float64);
    let cut = |share: f64| (lit(share) * n.clone()).round(6, RoundMode::HalfAwayFromZero);
    let tier = when(before.clone().lt(cut(options.high_share)))
        .then(lit("high"))
        .when(before.lt(cut(options.high_share + options.mid_share)))
        .then(lit("mid"))
        .otherwise(lit("low"));
    lf.with_column(
        score
            .round(6, RoundMode::HalfAwayFromZero)
            .alias(VALUE_SCORE),
    )
    .with_column(tier.alias(TIER))
}

/// One tier's share of customers and of revenue (the Pareto view).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TierShare {
    /// high, mid or low.
    pub tier: String,
    /// Customers in the tier.
    pub customers: u64,
    /// Σ monetary of the tier.
    pub revenue: f64,
    /// customers / all customers.
    pub customer_share: f64,
    /// revenue / Σ monetary of all customers (0 when that is not positive).
    pub revenue_share: f64,
}

/// Shares per tier of a value table (high, mid, low order). Collects a three-row summary.
pub fn tier_shares(table: DataFrame) -> crate::error::Result<Vec<TierShare>> {
    let summary = table
        .lazy()
        .group_by([col(TIER)])
        .agg([
            len().cast(DataType::UInt64).alias("n"),
            crate::metrics::money_sum(col(MONETARY)).alias("rev"),
        ])
        .collect()?;
    let total_n: u64 = summary.column("n")?.u64()?.iter().flatten().sum();
    let total_rev: f64 = summary.column("rev")?.f64()?.iter().flatten().sum();
    let mut out = Vec::new();
    for tier in ["high", "mid", "low"] {
        let tiers = summary.column(TIER)?.str()?;
        let idx = tiers.iter().position(|t| t == Some(tier));
        let (n, rev) = match idx {
            Some(i) => (
                summary.column("n")?.u64()?.get(i).unwrap_or(0),
                summary.column("rev")?.f64()?.get(i).unwrap_or(0.0),
            ),
            None => (0, 0.0),
        };
        out.push(TierShare {
            tier: tier.to_string(),
            customers: n,
            revenue: rev,
            customer_share: if total_n > 0 {
                n as f64 / total_n as f64
            } else {
                0.0
            },
            revenue_share: if total_rev > 0.0 {
                rev / total_rev
            } else {
                0.0
            },
        });
    }
    Ok(out)
}
