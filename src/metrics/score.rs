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
/// behaviour alike), as one plan over all lines.
pub fn value_table_by(
    orders: LazyFrame,
    customers: Option<LazyFrame>,
    events: Option<LazyFrame>,
    options: &ValueOptions,
    days: DayRule,
) -> LazyFrame {
    let with_events = events.is_some();
    let per_customer = customer_values(orders, options, days);
    ranked(per_customer, customers, events, options)
        .select(output_columns(with_events))
        .sort([schema::CUSTOMER_ID], SortMultipleOptions::default())
}

/// The per-customer part of the value table (everything that depends on one customer's lines
/// only: RFM metrics, lifecycle stage, behaviour habits) over the lines of bucket `bucket` of
/// `buckets`, keyed by the customer's position ([`CustomerBuckets`]) instead of customer_id.
/// Collect the buckets one after the other and pass the tables to [`value_table_of_buckets`]:
/// only one bucket's lines and intermediate tables are held at a time. (One plan with a
/// sequential union of the buckets does not do that: polars fills every bucket's cached lines
/// before running the union.)
///
/// Within a bucket, grouping, sorting and joining compare integers rather than strings.
pub fn bucket_values(
    orders: LazyFrame,
    options: &ValueOptions,
    days: DayRule,
    buckets: &CustomerBuckets,
    bucket: usize,
) -> LazyFrame {
    customer_values(buckets.bucket_lines(orders, bucket), options, days)
}

/// [`value_table_by`] from the tables of [`bucket_values`], one per bucket of `buckets`: the
/// columns that compare customers (scores, value_score, tier) and the joins with events and
/// customers, over the concatenated per-customer table, customer_id back by one join on the
/// position, sorted by the position, which is the order of customer_id. The same table as
/// [`value_table_by`], byte for byte.
pub fn value_table_of_buckets(
    parts: Vec<DataFrame>,
    customers: Option<LazyFrame>,
    events: Option<LazyFrame>,
    options: &ValueOptions,
    buckets: &CustomerBuckets,
) -> crate::error::Result<LazyFrame> {
    let with_events = events.is_some();
    let per_customer = concat(
        parts.into_iter().map(IntoLazy::lazy).collect::<Vec<_>>(),
        UnionArgs::default(),
    )?;
    Ok(
        ranked(buckets.with_ids(per_customer), customers, events, options)
            .sort([POSITION], SortMultipleOptions::default())
            .select(output_columns(with_events)),
    )
}

/// The value table's columns in order.
fn output_columns(with_events: bool) -> Vec<Expr> {
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
    cols
}

/// The per-customer part of the value table, one row per customer with a purchase line in the
/// period: RFM metrics, lifecycle stage and purchase days (all lines up to as_of), behaviour
/// habits. Every value depends on that customer's lines alone.
fn customer_values(orders: LazyFrame, options: &ValueOptions, days: DayRule) -> LazyFrame {
    let metrics = rfm::metrics(orders.clone(), &options.period, days);
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
    let habits = behaviour::habits_by(orders, &options.period, &options.behaviour, days);
    let key = || [col(schema::CUSTOMER_ID)];
    metrics
        .join(stages, key(), key(), JoinArgs::new(JoinType::Left))
        .join(habits, key(), key(), JoinArgs::new(JoinType::Left))
}

/// The part of the value table that needs all customers at once: RFM scores, cell and segment,
/// value_score and tier (ranks, minima and maxima over every customer), then the joins with the
/// events and customers tables.
fn ranked(
    per_customer: LazyFrame,
    customers: Option<LazyFrame>,
    events: Option<LazyFrame>,
    options: &ValueOptions,
) -> LazyFrame {
    let scored = rfm::scores(per_customer, &options.scoring, &options.segments);
    let tiered = tiers::tiers(scored, events.clone(), options.period.as_of, &options.tiers);
    behaviour::with_people(tiered, customers, events, &options.period)
}

/// Internal column: a customer's position in the sorted list of all customer ids.
pub const POSITION: &str = "__customer";
const LINES: &str = "__lines";
const BUCKET: &str = "__bucket";

/// Lines per bucket of [`bucket_values`] unless told otherwise. Measured on 10M generated lines
/// (bench/rfm.sh): 4M-line buckets peaked at 1.8 GiB, 1M-line buckets at 0.7 GiB and took less
/// CPU time (smaller sorts and hash tables); smaller buckets still saved a little CPU on an
/// ingest directory, but each bucket is one more pass of the range filter over an input held in
/// memory (a raw orders file).
pub const BUCKET_LINES: u64 = 1_000_000;

/// Order lines per customer_id, sorted by customer_id, with each customer's position in that
/// order: the input of [`CustomerBuckets::cut`]. Reads one column.
pub fn lines_per_customer(orders: LazyFrame) -> LazyFrame {
    orders
        .group_by([col(schema::CUSTOMER_ID)])
        .agg([len().cast(DataType::UInt64).alias(LINES)])
        .sort([schema::CUSTOMER_ID], SortMultipleOptions::default())
        .with_row_index(POSITION, None)
}

/// The customers cut into buckets: contiguous ranges of customer_id (in polars' sort order of
/// strings, byte by byte) holding about `max_lines` order lines each (more when one customer
/// alone has more). A bucket's lines are found by a range filter on customer_id, whatever the
/// order of the lines; on an ingest directory, sorted by customer, the filter skips whole row
/// groups of orders.parquet.
#[derive(Debug, Clone)]
pub struct CustomerBuckets {
    /// customer_id and [`POSITION`], sorted.
    ids: DataFrame,
    ranges: Vec<CustomerRange>,
}

#[derive(Debug, Clone)]
struct CustomerRange {
    /// Row of the first customer in `ids`.
    offset: i64,
    /// Customers in the range.
    len: usize,
    first: String,
    last: String,
}

impl CustomerBuckets {
    /// Cuts a table of [`lines_per_customer`] into buckets of about `max_lines` lines (at least
    /// one customer each). None when the table has a null customer_id (lines without one, which
    /// ingest rejects; the one-plan [`value_table_by`] handles them) or `max_lines` is 0.
    pub fn cut(counts: DataFrame, max_lines: u64) -> crate::error::Result<Option<Self>> {
        if max_lines == 0 || counts.column(schema::CUSTOMER_ID)?.null_count() > 0 {
            return Ok(None);
        }
        // A customer goes to bucket floor(lines before it / max_lines).
        let before = col(LINES).cum_sum(false) - col(LINES);
        let cuts = counts
            .clone()
            .lazy()
            .with_column((before / lit(max_lines)).alias(BUCKET))
            .group_by_stable([col(BUCKET)])
            .agg([
                col(POSITION).first().alias("offset"),
                len().cast(DataType::UInt64).alias("len"),
                col(schema::CUSTOMER_ID).first().alias("first"),
                col(schema::CUSTOMER_ID).last().alias("last"),
            ])
            .collect()?;
        let offsets = cuts.column("offset")?.cast(&DataType::Int64)?;
        let lens = cuts.column("len")?.cast(&DataType::UInt64)?;
        let (firsts, lasts) = (cuts.column("first")?.str()?, cuts.column("last")?.str()?);
        let ranges = offsets
            .i64()?
            .iter()
            .zip(lens.u64()?.iter())
            .zip(firsts.iter().zip(lasts.iter()))
            .filter_map(|((offset, len), (first, last))| {
                Some(CustomerRange {
                    offset: offset?,
                    len: usize::try_from(len?).ok()?,
                    first: first?.to_string(),
                    last: last?.to_string(),
                })
            })
            .collect();
        let ids = counts.select([schema::CUSTOMER_ID, POSITION])?;
        Ok(Some(Self { ids, ranges }))
    }

    /// Number of buckets.
    pub fn len(&self) -> usize {
        self.ranges.len()
    }

    /// Whether there are no buckets (no customers).
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// The lines of bucket `bucket` (of [`Self::len`]), customer_id replaced by the customer's
    /// [`POSITION`]; no lines for a bucket past the last.
    pub fn bucket_lines(&self, orders: LazyFrame, bucket: usize) -> LazyFrame {
        match self.ranges.get(bucket) {
            Some(range) => self.lines(orders, range),
            None => orders.filter(lit(false)),
        }
    }

    /// The lines of one bucket, customer_id replaced by the customer's [`POSITION`].
    fn lines(&self, orders: LazyFrame, range: &CustomerRange) -> LazyFrame {
        let id = || col(schema::CUSTOMER_ID);
        let in_range = id()
            .gt_eq(lit(range.first.clone()))
            .and(id().lt_eq(lit(range.last.clone())));
        orders
            .filter(in_range)
            .join(
                self.ids.slice(range.offset, range.len).lazy(),
                [id()],
                [id()],
                JoinArgs::new(JoinType::Inner),
            )
            .with_column(col(POSITION).alias(schema::CUSTOMER_ID))
            .drop(by_name([POSITION], true, false))
    }

    /// A per-customer table keyed by [`POSITION`] (in customer_id) with customer_id back and the
    /// position in [`POSITION`].
    pub fn with_ids(&self, table: LazyFrame) -> LazyFrame {
        table.rename([schema::CUSTOMER_ID], [POSITION], true).join(
            self.ids.clone().lazy(),
            [col(POSITION)],
            [col(POSITION)],
            JoinArgs::new(JoinType::Left),
        )
    }
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
