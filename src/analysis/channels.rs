//! Channels (`custseg analyze channels`): customers and revenue per channel, and multi-channel
//! customers against single-channel ones. docs/analyses.md, "channels".
//!
//! - Per channel: `customers` = distinct customers with a purchase line in it; `orders` =
//!   distinct (customer_id, order_id) with a purchase line in it; `revenue` = Σ `amount` of all
//!   its lines (returns negative), cents. `customer_share` = customers / distinct customers with
//!   a purchase line in any channel (a multi-channel customer counts in each of their channels,
//!   so these shares can add up to more than 1); `revenue_share` = revenue / Σ revenue.
//! - Channel use per customer: the value table's `channel_count` (distinct channels with a
//!   purchase line in the period); 1 is single-channel, 2 or more multi-channel. Per group:
//!   customers, customer_share, revenue (Σ monetary), revenue_share, mean_monetary (cents),
//!   mean_frequency (2 decimals).
//! - Shares from the cent-rounded columns, 4 decimals, null when the total is 0. A line without
//!   a channel counts under `(none)`.

use polars::prelude::*;

use crate::analysis::{floats, ratio, texts, zeros};

use crate::analysis::Collect;
use crate::error::Result;
use crate::metrics::behaviour::CHANNEL_COUNT;
use crate::metrics::money;
use crate::metrics::rfm::{FREQUENCY, MONETARY};
use crate::report::{Chart, Section};
use crate::schema;

pub const CUSTOMERS: &str = "customers";
pub const CUSTOMER_SHARE: &str = "customer_share";
pub const ORDERS: &str = "orders";
pub const REVENUE: &str = "revenue";
pub const REVENUE_SHARE: &str = "revenue_share";
pub const CHANNEL_USE: &str = "channel_use";
pub const MEAN_MONETARY: &str = "mean_monetary";
pub const MEAN_FREQUENCY: &str = "mean_frequency";

/// Channel-use groups, in table order.
pub const SINGLE: &str = "single-channel";
pub const MULTI: &str = "multi-channel";

/// Per channel: channel, customers, customer_share, orders, revenue, revenue_share; sorted by
/// revenue descending, then channel.
pub fn summary(lines: LazyFrame) -> LazyFrame {
    let purchase = col(schema::IS_RETURN).not();
    let buyers = lines
        .clone()
        .filter(purchase.clone())
        .select([col(schema::CUSTOMER_ID).n_unique().alias("__buyers")]);
    let channel = col(schema::CHANNEL)
        .cast(DataType::String)
        .fill_null(lit("(none)"))
        .alias(schema::CHANNEL);
    lines
        .group_by([channel, col(schema::CUSTOMER_ID), col(schema::ORDER_ID)])
        .agg([
            purchase.any(true).alias("__purchase"),
            crate::metrics::money_sum(col(schema::AMOUNT)).alias("__net"),
        ])
        .group_by([col(schema::CHANNEL)])
        .agg([
            col(schema::CUSTOMER_ID)
                .filter(col("__purchase"))
                .n_unique()
                .cast(DataType::Int64)
                .alias(CUSTOMERS),
            col("__purchase").cast(DataType::Int64).sum().alias(ORDERS),
            money(crate::metrics::money_sum(col("__net"))).alias(REVENUE),
        ])
        .cross_join(buyers, None)
        .sort(
            [REVENUE, schema::CHANNEL],
            SortMultipleOptions::default().with_order_descending_multi([true, false]),
        )
        .select([
            col(schema::CHANNEL),
            col(CUSTOMERS),
            ratio(col(CUSTOMERS), col("__buyers")).alias(CUSTOMER_SHARE),
            col(ORDERS),
            col(REVENUE),
            ratio(col(REVENUE), col(REVENUE).sum()).alias(REVENUE_SHARE),
        ])
}

/// Two rows, single-channel then multi-channel, from the value-table rows in scope: channel_use,
/// customers, customer_share, revenue, revenue_share, mean_monetary, mean_frequency (null for
/// an empty group).
pub fn multichannel(customers: LazyFrame) -> Result<LazyFrame> {
    let groups = df!(
        CHANNEL_USE => [SINGLE, MULTI],
        "__order" => [0i32, 1],
    )?;
    let group = when(col(CHANNEL_COUNT).gt_eq(lit(2)))
        .then(lit(MULTI))
        .otherwise(lit(SINGLE));
    let tallies = customers.group_by([group.alias(CHANNEL_USE)]).agg([
        len().cast(DataType::Int64).alias(CUSTOMERS),
        money(crate::metrics::money_sum(col(MONETARY))).alias(REVENUE),
        money(col(MONETARY).mean()).alias(MEAN_MONETARY),
        col(FREQUENCY)
            .cast(DataType::Float64)
            .mean()
            .round(2, RoundMode::HalfAwayFromZero)
            .alias(MEAN_FREQUENCY),
    ]);
    Ok(groups
        .lazy()
        .join(
            tallies,
            [col(CHANNEL_USE)],
            [col(CHANNEL_USE)],
            JoinArgs::new(JoinType::Left),
        )
        .with_columns([
            col(CUSTOMERS).fill_null(lit(0i64)),
            col(REVENUE).fill_null(lit(0.0)),
        ])
        .sort(["__order"], SortMultipleOptions::default())
        .select([
            col(CHANNEL_USE),
            col(CUSTOMERS),
            ratio(col(CUSTOMERS), col(CUSTOMERS).sum()).alias(CUSTOMER_SHARE),
            col(REVENUE),
            ratio(col(REVENUE), col(REVENUE).sum()).alias(REVENUE_SHARE),
            col(MEAN_MONETARY),
            col(MEAN_FREQUENCY),
        ]))
}

/// The sections of `custseg analyze channels` from order `lines` and the value-table rows of the
/// `customers` in scope: channels, multichannel; every plan run through `collect`.
pub fn report_sections(
    lines: LazyFrame,
    customers: LazyFrame,
    collect: &Collect,
) -> Result<Vec<Section>> {
    let summary = collect(summary(lines), "channels")?;
    let multi = collect(multichannel(customers)?, "multi-channel")?;
    sections(summary, multi)
}

/// The report sections from the collected frames of [`summary`] and [`multichannel`].
pub fn sections(summary: DataFrame, multichannel: DataFrame) -> Result<Vec<Section>> {
    let shares = Chart::Bars {
        labels: texts(&summary, schema::CHANNEL)?,
        series: vec![
            (
                "customers".to_string(),
                zeros(floats(&summary, CUSTOMER_SHARE)?),
            ),
            (
                "revenue".to_string(),
                zeros(floats(&summary, REVENUE_SHARE)?),
            ),
        ],
        percent: true,
    };
    let value = Chart::Bars {
        labels: texts(&multichannel, CHANNEL_USE)?,
        series: vec![(
            "mean monetary".to_string(),
            zeros(floats(&multichannel, MEAN_MONETARY)?),
        )],
        percent: false,
    };
    Ok(vec![
        Section {
            id: "channels".to_string(),
            title: "Customers and revenue per channel".to_string(),
            note: Some(
                "A customer buying in several channels counts in each, so customer shares can add up to more than 100%."
                    .to_string(),
            ),
            table: summary,
            chart: Some(shares),
        },
        Section {
            id: "multichannel".to_string(),
            title: "Multi-channel versus single-channel customers".to_string(),
            note: Some(
                "Multi-channel: purchase lines in 2 or more channels; monetary and frequency from the value table."
                    .to_string(),
            ),
            table: multichannel,
            chart: Some(value),
        },
    ])
}
