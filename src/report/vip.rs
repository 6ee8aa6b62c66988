//! The VIP report: the list of most valuable customers with their key data, and alerts on VIPs
//! who are slipping (docs/reports.md, "VIP report"):
//!
//! - `orders_drop` / `spend_drop`: in the current period (the `period_days` ending at as_of) the
//!   customer's orders (distinct purchase order ids) or spend (Σ amount) fell by more than `drop`
//!   against the mean of the `lookback` previous periods (only when that mean is > 0);
//! - `overdue`: recency_days > `overdue_factor` × the customer's median days between orders;
//! - `low_p_alive`: P(alive) below `min_p_alive` (when the value table has p_alive);
//! - `new_vip` / `lost_vip`: in the list now but not at the previous period's end, or the reverse.

use std::collections::BTreeSet;

use polars::prelude::*;

use crate::error::Result;
use crate::metrics::behaviour::{EXPECTED_NEXT_PURCHASE, MEDIAN_DAYS_BETWEEN_ORDERS};
use crate::metrics::rfm::{FREQUENCY, MONETARY, RECENCY_DAYS};
use crate::metrics::tiers::TIER;
use crate::metrics::{lines_in_period, Period, DAY};
use crate::report::{Chart, Section};
use crate::schema;

/// Rank of a customer in the VIP list (1 = most valuable).
pub const VIP_RANK: &str = "vip_rank";

/// What VIPs are ranked by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RankBy {
    /// Customer lifetime value (needs CLV columns).
    Clv,
    /// Net spend in the period.
    Monetary,
    /// The tier value score.
    ValueScore,
}

impl RankBy {
    /// The value-table column.
    pub fn column(self) -> &'static str {
        match self {
            RankBy::Clv => "clv",
            RankBy::Monetary => MONETARY,
            RankBy::ValueScore => "value_score",
        }
    }
}

/// Who is a VIP and when to raise alerts.
#[derive(Debug, Clone)]
pub struct VipOptions {
    /// Period length in days (7 week, 30 month, 91 quarter).
    pub period_days: i64,
    /// Period name for messages ("week").
    pub period_name: String,
    /// Keep the top N by `rank_by` (None with `tier_high`).
    pub top: Option<usize>,
    /// Keep the customers of the high tier instead of a top N.
    pub tier_high: bool,
    /// Ranking column.
    pub rank_by: RankBy,
    /// Relative drop that raises an alert (0.5 = 50 %).
    pub drop: f64,
    /// Previous periods averaged.
    pub lookback: u32,
    /// Overdue when recency exceeds this multiple of the median gap.
    pub overdue_factor: f64,
    /// P(alive) threshold.
    pub min_p_alive: f64,
}

/// Columns of the VIP table, those present in the value table are shown in this order.
const VIP_COLUMNS: &[&str] = &[
    VIP_RANK,
    schema::CUSTOMER_ID,
    TIER,
    "segment",
    "lifecycle_stage",
    MONETARY,
    FREQUENCY,
    "avg_order_value",
    "last_purchase",
    RECENCY_DAYS,
    "preferred_channel",
    "preferred_category",
    "city",
    "p_alive",
    EXPECTED_NEXT_PURCHASE,
    "clv",
];

/// The VIPs of a value table: ranked by `rank_by` (descending; ties by customer_id), top N or the
/// high tier; adds [`VIP_RANK`].
pub fn select(table: LazyFrame, options: &VipOptions) -> LazyFrame {
    let rank = options.rank_by.column();
    let mut lf = table;
    if options.tier_high {
        lf = lf.filter(col(TIER).eq(lit("high")));
    }
    let mut lf = lf
        .sort(
            [rank, schema::CUSTOMER_ID],
            SortMultipleOptions::default()
                .with_order_descending_multi([true, false])
                .with_nulls_last(true),
        )
        .with_row_index(VIP_RANK, Some(1));
    if let Some(n) = options.top {
        lf = lf.filter(col(VIP_RANK).lt_eq(lit(u32::try_from(n).unwrap_or(u32::MAX))));
    }
    lf.with_column(col(VIP_RANK).cast(DataType::Int64))
}

/// The VIP table section (key data per VIP).
pub fn list_section(vips: &DataFrame, options: &VipOptions) -> Result<Section> {
    let cols: Vec<Expr> = VIP_COLUMNS
        .iter()
        .filter(|c| vips.column(c).is_ok())
        .map(|c| col(*c))
        .collect();
    let table = vips.clone().lazy().select(cols).collect()?;
    let how = match (options.top, options.tier_high) {
        (Some(n), true) => format!("top {n} of the high tier"),
        (Some(n), false) => format!("top {n}"),
        (None, _) => "the high tier".to_string(),
    };
    Ok(Section {
        id: "vip".to_string(),
        title: format!("VIPs: {how} by {}", options.rank_by.column()),
        note: None,
        table,
        chart: None,
    })
}

/// Orders and spend per customer in the current period and on average over the previous ones.
pub fn period_activity(
    orders: LazyFrame,
    as_of: chrono::NaiveDate,
    options: &VipOptions,
) -> LazyFrame {
    let p = options.period_days;
    let l = i64::from(options.lookback);
    let period = Period {
        as_of,
        window_days: Some(p * (l + 1)),
    };
    let k = ((lit(period.as_of_day()) - col(DAY)).cast(DataType::Int64) / lit(p)).alias("__k");
    let purchase = col(schema::IS_RETURN).not();
    let per = lines_in_period(orders, &period)
        .with_column(k)
        .group_by([col(schema::CUSTOMER_ID), col("__k")])
        .agg([
            col(schema::ORDER_ID)
                .filter(purchase)
                .n_unique()
                .cast(DataType::Float64)
                .alias("__orders"),
            col(schema::AMOUNT).sum().alias("__spend"),
        ]);
    let current = col("__k").eq(lit(0i64));
    let previous = col("__k").gt(lit(0i64));
    per.group_by([col(schema::CUSTOMER_ID)]).agg([
        col("__orders")
            .filter(current.clone())
            .sum()
            .alias("current_orders"),
        col("__spend")
            .filter(current)
            .sum()
            .round(2, RoundMode::HalfAwayFromZero)
            .alias("current_spend"),
        (col("__orders").filter(previous.clone()).sum() / lit(l as f64)).alias("avg_orders"),
        (col("__spend").filter(previous).sum() / lit(l as f64))
            .round(2, RoundMode::HalfAwayFromZero)
            .alias("avg_spend"),
    ])
}

fn text(e: Expr) -> Expr {
    e.cast(DataType::String)
}

/// The alerts section for the VIPs now (`vips`), the VIPs at the previous period's end
/// (`previous`) and their period activity.
pub fn alerts_section(
    vips: &DataFrame,
    previous: &DataFrame,
    activity: LazyFrame,
    options: &VipOptions,
    previous_end: chrono::NaiveDate,
) -> Result<Section> {
    let per = &options.period_name;
    let threshold = 1.0 - options.drop;
    let now = vips.clone().lazy().join(
        activity,
        [col(schema::CUSTOMER_ID)],
        [col(schema::CUSTOMER_ID)],
        JoinArgs::new(JoinType::Left),
    );
    let alert = |name: &str, cond: Expr, detail: Expr| {
        now.clone().filter(cond.fill_null(lit(false))).select([
            col(schema::CUSTOMER_ID),
            lit(name.to_string()).alias("alert"),
            detail.alias("detail"),
        ])
    };
    let mut parts =
        vec![
            alert(
                "orders_drop",
                col("avg_orders").gt(lit(0.0)).and(
                    col("current_orders")
                        .fill_null(lit(0.0))
                        .lt(col("avg_orders") * lit(threshold)),
                ),
                concat_str(
                    [
                        lit("orders "),
                        text(
                            col("current_orders")
                                .fill_null(lit(0.0))
                                .cast(DataType::Int64),
                        ),
                        lit(" vs "),
                        text(col("avg_orders").round(2, RoundMode::HalfAwayFromZero)),
                        lit(format!(
                            " per {per} average of the previous {} {per}s",
                            options.lookback
                        )),
                    ],
                    "",
                    false,
                ),
            ),
            alert(
                "spend_drop",
                col("avg_spend").gt(lit(0.0)).and(
                    col("current_spend")
                        .fill_null(lit(0.0))
                        .lt(col("avg_spend") * lit(threshold)),
                ),
                concat_str(
                    [
                        lit("spend "),
                        text(col("current_spend").fill_null(lit(0.0))),
                        lit(" vs "),
                        text(col("avg_spend")),
                        lit(format!(
                            " per {per} average of the previous {} {per}s",
                            options.lookback
                        )),
                    ],
                    "",
                    false,
                ),
            ),
            alert(
                "overdue",
                col(RECENCY_DAYS)
                    .cast(DataType::Float64)
                    .gt(col(MEDIAN_DAYS_BETWEEN_ORDERS) * lit(options.overdue_factor)),
                concat_str(
                    [
                        text(col(RECENCY_DAYS)),
                        lit(" days since the last purchase; usual gap "),
                        text(col(MEDIAN_DAYS_BETWEEN_ORDERS)),
                        lit(format!(" days (limit {}x)", options.overdue_factor)),
                    ],
                    "",
                    false,
                ),
            ),
        ];
    if vips.column("p_alive").is_ok() {
        parts.push(alert(
            "low_p_alive",
            col("p_alive").lt(lit(options.min_p_alive)),
            concat_str(
                [
                    lit("P(alive) "),
                    text(col("p_alive").round(2, RoundMode::HalfAwayFromZero)),
                    lit(format!(" below {}", options.min_p_alive)),
                ],
                "",
                false,
            ),
        ));
    }
    let ids = |df: &DataFrame| -> Result<BTreeSet<String>> {
        Ok(df
            .column(schema::CUSTOMER_ID)?
            .str()?
            .iter()
            .flatten()
            .map(str::to_string)
            .collect())
    };
    let (now_ids, before_ids) = (ids(vips)?, ids(previous)?);
    let new: Vec<String> = now_ids.difference(&before_ids).cloned().collect();
    let lost: Vec<String> = before_ids.difference(&now_ids).cloned().collect();
    let listed = |name: &str, who: Vec<String>, detail: String| -> LazyFrame {
        let n = who.len();
        df!(
            schema::CUSTOMER_ID => who,
            "alert" => vec![name.to_string(); n],
            "detail" => vec![detail; n],
        )
        .map(IntoLazy::lazy)
        .unwrap_or_else(|_| DataFrame::empty().lazy())
    };
    parts.push(listed(
        "new_vip",
        new,
        format!("in the list now, not at {previous_end}"),
    ));
    parts.push(listed(
        "lost_vip",
        lost,
        format!("in the list at {previous_end}, not now"),
    ));
    let order = [
        "orders_drop",
        "spend_drop",
        "overdue",
        "low_p_alive",
        "new_vip",
        "lost_vip",
    ];
    let mut rank = lit(99i32);
    for (i, name) in order.iter().enumerate().rev() {
        rank = when(col("alert").eq(lit(*name)))
            .then(lit(i as i32))
            .otherwise(rank);
    }
    let table = concat(parts, UnionArgs::default())?
        .with_column(rank.alias("__order"))
        .sort(
            ["__order", schema::CUSTOMER_ID],
            SortMultipleOptions::default(),
        )
        .drop(by_name(["__order"], true, false))
        .collect()?;
    Ok(Section {
        id: "alerts".to_string(),
        title: format!("Alerts ({})", table.height()),
        note: Some(format!(
            "Drops compare the current {per} with the mean of the previous {} (alert below {:.0}% of it); overdue means more than {}x the usual gap.",
            options.lookback,
            threshold * 100.0,
            options.overdue_factor
        )),
        table,
        chart: None,
    })
}

/// Revenue per period (the `periods` ending at as_of), all customers and VIPs, as a trend.
pub fn trend_section(
    orders: LazyFrame,
    vips: &DataFrame,
    as_of: chrono::NaiveDate,
    options: &VipOptions,
    periods: i64,
) -> Result<Section> {
    let p = options.period_days;
    let period = Period {
        as_of,
        window_days: Some(p * periods),
    };
    let vip_ids = vips
        .column(schema::CUSTOMER_ID)?
        .as_materialized_series()
        .clone();
    let lines = lines_in_period(orders, &period).with_column(
        ((lit(period.as_of_day()) - col(DAY)).cast(DataType::Int64) / lit(p)).alias("__k"),
    );
    // Every period appears, also those without any order (revenue 0).
    let all_periods = df!("__k" => (0..periods).collect::<Vec<i64>>())?.lazy();
    let per_period = lines.group_by([col("__k")]).agg([
        col(schema::AMOUNT)
            .sum()
            .round(2, RoundMode::HalfAwayFromZero)
            .alias("revenue"),
        col(schema::AMOUNT)
            .filter(col(schema::CUSTOMER_ID).is_in(lit(vip_ids).implode(false), false))
            .sum()
            .round(2, RoundMode::HalfAwayFromZero)
            .alias("vip_revenue"),
    ]);
    let df = all_periods
        .join(
            per_period,
            [col("__k")],
            [col("__k")],
            JoinArgs::new(JoinType::Left),
        )
        .with_columns([
            col("revenue").fill_null(lit(0.0)),
            col("vip_revenue").fill_null(lit(0.0)),
        ])
        .sort(
            ["__k"],
            SortMultipleOptions::default().with_order_descending(true),
        )
        .with_column(
            (lit(period.as_of_day())
                - col("__k").cast(DataType::Int32) * lit(i32::try_from(p).unwrap_or(7)))
            .cast(DataType::Date)
            .alias("period_end"),
        )
        .select([col("period_end"), col("revenue"), col("vip_revenue")])
        .collect()?;
    let labels: Vec<String> = df
        .column("period_end")?
        .cast(&DataType::String)?
        .str()?
        .iter()
        .map(|v| v.unwrap_or("").to_string())
        .collect();
    let values = |c: &str| -> Result<Vec<f64>> {
        Ok(df
            .column(c)?
            .f64()?
            .iter()
            .map(|v| v.unwrap_or(0.0))
            .collect())
    };
    Ok(Section {
        id: "trend".to_string(),
        title: format!("Revenue per {}", options.period_name),
        note: Some(format!(
            "Net revenue of the {periods} {}s ending at {as_of}, all customers and today's VIPs.",
            options.period_name
        )),
        chart: Some(Chart::Line {
            labels,
            series: vec![
                ("all customers".to_string(), values("revenue")?),
                ("VIPs".to_string(), values("vip_revenue")?),
            ],
        }),
        table: df,
    })
}
