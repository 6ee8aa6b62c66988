//! Categories (`custseg analyze categories`): per category customers, orders, revenue and share;
//! the top categories of each segment or tier; and category penetration among VIPs (tier high)
//! against everyone ("VIPs buy imported food"). docs/analyses.md, "categories".
//!
//! - A line without a category counts under `(none)`. An order is a (customer_id, order_id) pair.
//! - `customers` / `orders` of a category: distinct customers / orders with a purchase line in it;
//!   `revenue`: Σ `amount` of all its lines (returns negative), rounded to cents.
//! - Shares are computed from the cent-rounded revenues, rounded to 4 decimals, null when the
//!   total is 0. Ties in revenue are broken by the category name (byte order).

use polars::prelude::*;

use crate::analysis::{floats, ratio, texts, zeros};

use crate::analysis::Collect;
use crate::error::Result;
use crate::metrics::money;
use crate::metrics::tiers::TIER;
use crate::report::{Chart, Section};
use crate::schema;

pub const CUSTOMERS: &str = "customers";
pub const ORDERS: &str = "orders";
pub const REVENUE: &str = "revenue";
pub const REVENUE_SHARE: &str = "revenue_share";
pub const RANK: &str = "rank";
pub const GROUP_SHARE: &str = "group_revenue_share";
pub const PENETRATION: &str = "penetration";
pub const VIP_CUSTOMERS: &str = "vip_customers";
pub const VIP_PENETRATION: &str = "vip_penetration";
pub const VIP_RATIO: &str = "vip_ratio";

/// The tier whose customers are the VIPs of the penetration section.
pub const VIP_TIER: &str = "high";

const NONE: &str = "(none)";
const PURCHASE: &str = "__purchase";
const NET: &str = "__net";

fn category() -> Expr {
    col(schema::CATEGORY)
        .cast(DataType::String)
        .fill_null(lit(NONE))
        .alias(schema::CATEGORY)
}

fn counts() -> [Expr; 3] {
    [
        col(schema::CUSTOMER_ID)
            .filter(col(PURCHASE))
            .n_unique()
            .cast(DataType::Int64)
            .alias(CUSTOMERS),
        col(PURCHASE).cast(DataType::Int64).sum().alias(ORDERS),
        money(crate::metrics::money_sum(col(NET))).alias(REVENUE),
    ]
}

/// One row per (category, customer_id, order_id) of order `lines`, which every section is computed
/// from: whether it has a purchase line, and its net amount. One pass over the lines
/// serves the three sections (each read the lines again before: 16.2 s of 45.7 at 10M lines).
pub fn groups(lines: LazyFrame) -> LazyFrame {
    lines
        .group_by([category(), col(schema::CUSTOMER_ID), col(schema::ORDER_ID)])
        .agg([
            col(schema::IS_RETURN).not().any(true).alias(PURCHASE),
            crate::metrics::money_sum(col(schema::AMOUNT)).alias(NET),
        ])
}

/// Per category, from [`groups`]: category, customers, orders, revenue, revenue_share (of all
/// lines' revenue); sorted by revenue descending, then category.
pub fn summary(groups: LazyFrame) -> LazyFrame {
    groups
        .group_by([col(schema::CATEGORY)])
        .agg(counts())
        .with_column(ratio(col(REVENUE), col(REVENUE).sum()).alias(REVENUE_SHARE))
        .sort(
            [REVENUE, schema::CATEGORY],
            SortMultipleOptions::default().with_order_descending_multi([true, false]),
        )
}

/// The `top` categories by revenue of each group of the value-table column `by` (segment, tier),
/// from [`groups`]: `by`, rank (1 = most revenue; ties by category name), category, customers,
/// orders, revenue, group_revenue_share (the category's revenue / the group's). Lines of
/// customers without a value-table row count under the group `(none)`. Groups sorted by their
/// revenue (descending), then name.
pub fn top_by(groups: LazyFrame, customers: LazyFrame, by: &str, top: u32) -> Result<LazyFrame> {
    let labels = customers.select([
        col(schema::CUSTOMER_ID),
        col(by).cast(DataType::String).alias(by),
    ]);
    // A customer's label is the same on all their lines, so labelling their groups is labelling
    // their lines.
    let labelled = groups
        .join(
            labels,
            [col(schema::CUSTOMER_ID)],
            [col(schema::CUSTOMER_ID)],
            JoinArgs::new(JoinType::Left),
        )
        .with_column(col(by).fill_null(lit(NONE)));
    let group_revenue = col(REVENUE).sum().over([col(by)])?;
    Ok(labelled
        .group_by([col(by), col(schema::CATEGORY)])
        .agg(counts())
        .sort(
            [by, REVENUE, schema::CATEGORY],
            SortMultipleOptions::default().with_order_descending_multi([false, true, false]),
        )
        .with_columns([
            col(schema::CATEGORY)
                .cum_count(false)
                .over([col(by)])?
                .cast(DataType::Int64)
                .alias(RANK),
            group_revenue.clone().alias("__group_revenue"),
            ratio(col(REVENUE), group_revenue).alias(GROUP_SHARE),
        ])
        .filter(col(RANK).lt_eq(lit(i64::from(top))))
        .sort(
            ["__group_revenue", by, RANK],
            SortMultipleOptions::default().with_order_descending_multi([true, false, false]),
        )
        .select([
            col(by),
            col(RANK),
            col(schema::CATEGORY),
            col(CUSTOMERS),
            col(ORDERS),
            col(REVENUE),
            col(GROUP_SHARE),
        ]))
}

/// Per category, from [`groups`]: customers (buyers in scope), penetration = buyers / customers
/// in the value table, vip_customers (buyers of tier high), vip_penetration = VIP buyers / VIPs,
/// vip_ratio = vip_penetration / penetration (from the unrounded penetrations); all 4 decimals,
/// null on a zero denominator. A buyer has a purchase line in the category (an order of theirs
/// with one in it). Sorted by vip_ratio descending (nulls last), then category.
pub fn penetration(groups: LazyFrame, customers: LazyFrame) -> LazyFrame {
    let is_vip = col(TIER).eq(lit(VIP_TIER)).fill_null(lit(false));
    let people = customers.select([col(schema::CUSTOMER_ID), is_vip.alias("__vip")]);
    let totals = people.clone().select([
        len().cast(DataType::Float64).alias("__everyone"),
        col("__vip").cast(DataType::Float64).sum().alias("__vips"),
    ]);
    let buyers = groups
        .filter(col(PURCHASE))
        .select([col(schema::CATEGORY), col(schema::CUSTOMER_ID)])
        .unique_stable(None, UniqueKeepStrategy::First)
        .join(
            people,
            [col(schema::CUSTOMER_ID)],
            [col(schema::CUSTOMER_ID)],
            JoinArgs::new(JoinType::Inner),
        );
    let unrounded = |part: Expr, total: &str| {
        when(col(total).eq(lit(0.0)))
            .then(lit(NULL).cast(DataType::Float64))
            .otherwise(part.cast(DataType::Float64) / col(total))
    };
    buyers
        .group_by([col(schema::CATEGORY)])
        .agg([
            len().cast(DataType::Int64).alias(CUSTOMERS),
            col("__vip")
                .cast(DataType::Int64)
                .sum()
                .alias(VIP_CUSTOMERS),
        ])
        .cross_join(totals, None)
        .with_columns([
            unrounded(col(CUSTOMERS), "__everyone").alias("__p"),
            unrounded(col(VIP_CUSTOMERS), "__vips").alias("__vp"),
        ])
        .with_column(
            when(col("__p").eq(lit(0.0)))
                .then(lit(NULL).cast(DataType::Float64))
                .otherwise(col("__vp") / col("__p"))
                .alias("__ratio"),
        )
        .sort(
            ["__ratio", schema::CATEGORY],
            SortMultipleOptions::default()
                .with_order_descending_multi([true, false])
                .with_nulls_last(true),
        )
        .select([
            col(schema::CATEGORY),
            col(CUSTOMERS),
            col("__p")
                .round(4, RoundMode::HalfAwayFromZero)
                .alias(PENETRATION),
            col(VIP_CUSTOMERS),
            col("__vp")
                .round(4, RoundMode::HalfAwayFromZero)
                .alias(VIP_PENETRATION),
            col("__ratio")
                .round(4, RoundMode::HalfAwayFromZero)
                .alias(VIP_RATIO),
        ])
}

/// The sections of `custseg analyze categories` from order `lines` and the value-table rows of
/// the `customers` in scope: categories, top_by_<by> (the `top` categories of each group of the
/// value-table column `by`), vip_penetration; every plan run through `collect`.
pub fn report_sections(
    lines: LazyFrame,
    customers: LazyFrame,
    by: &str,
    top: u32,
    collect: &Collect,
) -> Result<Vec<Section>> {
    let groups = collect(groups(lines), "category orders")?.lazy();
    let summary = collect(summary(groups.clone()), "categories")?;
    let top = collect(
        top_by(groups.clone(), customers.clone(), by, top)?,
        "top categories",
    )?;
    let penetration = collect(penetration(groups, customers), "penetration")?;
    sections(summary, top, by, penetration)
}

/// The report sections from the collected frames of [`summary`], [`top_by`] (grouped by `by`)
/// and [`penetration`].
pub fn sections(
    summary: DataFrame,
    top: DataFrame,
    by: &str,
    penetration: DataFrame,
) -> Result<Vec<Section>> {
    let shares = Chart::Bars {
        labels: texts(&summary, schema::CATEGORY)?,
        series: vec![(
            "revenue".to_string(),
            zeros(floats(&summary, REVENUE_SHARE)?),
        )],
        percent: true,
    };
    // Heatmap of the top lists: groups in table order, their categories in order of first
    // appearance; cells outside a group's top N stay empty.
    let group_col = texts(&top, by)?;
    let cat_col = texts(&top, schema::CATEGORY)?;
    let share_col = floats(&top, GROUP_SHARE)?;
    let mut rows: Vec<String> = Vec::new();
    let mut columns: Vec<String> = Vec::new();
    for (g, c) in group_col.iter().zip(&cat_col) {
        if !rows.contains(g) {
            rows.push(g.clone());
        }
        if !columns.contains(c) {
            columns.push(c.clone());
        }
    }
    let mut values = vec![vec![None; columns.len()]; rows.len()];
    for ((g, c), v) in group_col.iter().zip(&cat_col).zip(share_col) {
        if let (Some(r), Some(k)) = (
            rows.iter().position(|x| x == g),
            columns.iter().position(|x| x == c),
        ) {
            values[r][k] = v;
        }
    }
    let heatmap = Chart::Heatmap {
        rows,
        columns,
        values,
        legend: format!("share of {by} revenue"),
        axes: (by.to_string(), "category".to_string()),
    };
    let vip_bars = Chart::Bars {
        labels: texts(&penetration, schema::CATEGORY)?,
        series: vec![
            (
                "VIPs".to_string(),
                zeros(floats(&penetration, VIP_PENETRATION)?),
            ),
            (
                "everyone".to_string(),
                zeros(floats(&penetration, PENETRATION)?),
            ),
        ],
        percent: true,
    };
    Ok(vec![
        Section {
            id: "categories".to_string(),
            title: "Customers, orders and revenue per category".to_string(),
            note: Some("Sorted by revenue; revenue_share is of all revenue.".to_string()),
            table: summary,
            chart: Some(shares),
        },
        Section {
            id: format!("top_by_{by}"),
            title: format!("Top categories per {by}"),
            note: Some(format!(
                "group_revenue_share is the category's share of the {by}'s revenue."
            )),
            table: top,
            chart: Some(heatmap),
        },
        Section {
            id: "vip_penetration".to_string(),
            title: "Category penetration: VIPs (tier high) versus everyone".to_string(),
            note: Some(
                "penetration = share of customers who bought the category; vip_ratio > 1: VIPs buy it more often than everyone."
                    .to_string(),
            ),
            table: penetration,
            chart: Some(vip_bars),
        },
    ])
}
