//! The per-customer value table (`custseg score`): RFM, tier, lifecycle and behaviour in one wide
//! row per purchasing customer, the table every report reads. Column order: [`rfm::RFM_COLUMNS`],
//! then `interaction_count` (when events exist), `value_score`, `tier`, `lifecycle_stage`,
//! `purchase_days`, then [`behaviour::BEHAVIOUR_COLUMNS`].

use polars::prelude::*;

use crate::metrics::behaviour::{self, BehaviourOptions};
use crate::metrics::lifecycle::{self, LifecycleOptions};
use crate::metrics::rfm::{self, Scoring, SegmentRule};
use crate::metrics::tiers::{self, TierOptions};
use crate::metrics::{DayRule, Period};
use crate::schema;

/// Everything the value table needs to know.
#[derive(Debug, Clone)]
pub struct ValueOptions {
    /// Period of the RFM and behaviour metrics.
    pub period: Period,
    /// RFM scoring.
    pub scoring: Scoring,
    /// Named segments.
    pub segments: Vec<SegmentRule>,
    /// Tier weights and shares.
    pub tiers: TierOptions,
    /// Lifecycle thresholds.
    pub lifecycle: LifecycleOptions,
    /// Behaviour flag thresholds.
    pub behaviour: BehaviourOptions,
}

/// The wide value table, sorted by customer_id.
pub fn value_table(
    orders: LazyFrame,
    customers: Option<LazyFrame>,
    events: Option<LazyFrame>,
    options: &ValueOptions,
) -> LazyFrame {
    value_table_by(orders, customers, events, options, DayRule::Zone)
}

/// [`value_table`] with the local day of a line found by `days` (in RFM, lifecycle and
/// behaviour alike).
pub fn value_table_by(
    orders: LazyFrame,
    customers: Option<LazyFrame>,
    events: Option<LazyFrame>,
    options: &ValueOptions,
    days: DayRule,
) -> LazyFrame {
    let with_events = events.is_some();
    let base = rfm::rfm_by(
        orders.clone(),
        &options.period,
        days,
        &options.scoring,
        &options.segments,
    );
    let tiered = tiers::tiers(base, events.clone(), options.period.as_of, &options.tiers);
    let stages = lifecycle::lifecycle_by(
        orders.clone(),
        None,
        options.period.as_of,
        &options.lifecycle,
        days,
    )
    .select([
        col(schema::CUSTOMER_ID),
        col(lifecycle::LIFECYCLE_STAGE),
        col(lifecycle::PURCHASE_DAYS),
    ]);
    let habits = behaviour::behaviour_by(
        orders,
        customers,
        events,
        &options.period,
        &options.behaviour,
        days,
    );
    let key = || [col(schema::CUSTOMER_ID)];
    let joined = tiered
        .join(stages, key(), key(), JoinArgs::new(JoinType::Left))
        .join(habits, key(), key(), JoinArgs::new(JoinType::Left));
    let mut cols: Vec<Expr> = rfm::RFM_COLUMNS.iter().map(|c| col(*c)).collect();
    if with_events {
        cols.push(col(tiers::INTERACTION_COUNT));
    }
    cols.extend([
        col(tiers::VALUE_SCORE),
        col(tiers::TIER),
        col(lifecycle::LIFECYCLE_STAGE),
        col(lifecycle::PURCHASE_DAYS),
    ]);
    cols.extend(behaviour::BEHAVIOUR_COLUMNS.iter().map(|c| col(*c)));
    joined
        .select(cols)
        .sort([schema::CUSTOMER_ID], SortMultipleOptions::default())
}

/// CLV columns that join the value table when a CLV model ran.
pub const CLV_COLUMNS: &[&str] = &["expected_purchases", "p_alive", "expected_avg_spend", "clv"];

/// Adds the CLV columns of `predictions` (one row per customer, with customer_id) to `table`;
/// customers without a prediction get nulls. Sorted by customer_id.
pub fn with_clv(table: LazyFrame, predictions: LazyFrame) -> LazyFrame {
    // One float rule for the value table: money to cents, expectations and probabilities to 6 decimals.
    let mut cols = vec![col(schema::CUSTOMER_ID)];
    cols.extend(CLV_COLUMNS.iter().map(|c| {
        let decimals = if matches!(*c, "clv" | "expected_avg_spend") {
            2
        } else {
            6
        };
        col(*c).round(decimals, RoundMode::HalfAwayFromZero)
    }));
    table
        .join(
            predictions.select(cols),
            [col(schema::CUSTOMER_ID)],
            [col(schema::CUSTOMER_ID)],
            JoinArgs::new(JoinType::Left),
        )
        .sort([schema::CUSTOMER_ID], SortMultipleOptions::default())
}
