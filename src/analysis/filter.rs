//! Restricting an analysis to some customers (`--segment NAME` or `--where EXPR`).
//!
//! The value table (`custseg score`) is computed at the as-of date by the caller; `--segment`
//! keeps its rows whose `segment` is NAME, `--where` keeps the rows where the SQL predicate holds
//! (polars SQL over value-table columns, exactly as `custseg segment --where`). The order lines
//! of the selected customer_ids are then kept by a semi join, every line of theirs (returns
//! included) and no line of anyone else. Without either flag nothing is restricted: all lines,
//! also those of customers without a purchase line (who have no value-table row).
//! [`period_lines`] then keeps the lines of the analysis period. docs/analyses.md, "Common rules".

use polars::prelude::*;

use crate::error::{Error, Result};
use crate::metrics::rfm::{SegmentRule, SEGMENT};
use crate::metrics::segment::filter_where;
use crate::metrics::{lines_in_period, Period, DAY};
use crate::schema;

/// The configured segment name matching `name` (case-insensitive); a usage error listing the
/// names when there is none.
pub fn resolve_segment(name: &str, rules: &[SegmentRule]) -> Result<String> {
    let wanted = name.trim();
    rules
        .iter()
        .find(|r| r.name.eq_ignore_ascii_case(wanted))
        .map(|r| r.name.clone())
        .ok_or_else(|| {
            let names: Vec<&str> = rules.iter().map(|r| r.name.as_str()).collect();
            Error::usage(format!("--segment \"{name}\" is not a segment name"))
                .hint(format!("segments: {}", names.join(", ")))
        })
}

/// The value-table rows of the selected customers: those of `segment` (a configured name as
/// [`resolve_segment`] returns it; compared exactly), or those for whom the SQL `predicate`
/// holds; all rows when both are None. Giving both is a usage error.
pub fn selected(
    value_table: LazyFrame,
    segment: Option<&str>,
    predicate: Option<&str>,
) -> Result<LazyFrame> {
    match (segment, predicate) {
        (Some(_), Some(_)) => Err(Error::usage("give --segment or --where, not both")),
        (Some(name), None) => Ok(value_table.filter(col(SEGMENT).eq(lit(name.to_string())))),
        (None, Some(p)) => filter_where(value_table, p),
        (None, None) => Ok(value_table),
    }
}

/// The order lines of the customers [`selected`] from `value_table` (semi join on
/// customer_id); `orders` unchanged when both `segment` and `predicate` are None.
pub fn restrict(
    orders: LazyFrame,
    value_table: LazyFrame,
    segment: Option<&str>,
    predicate: Option<&str>,
) -> Result<LazyFrame> {
    if segment.is_none() && predicate.is_none() {
        return Ok(orders);
    }
    let ids = selected(value_table, segment, predicate)?.select([col(schema::CUSTOMER_ID)]);
    Ok(orders.semi_join(ids, col(schema::CUSTOMER_ID), col(schema::CUSTOMER_ID)))
}

/// Who an analysis looks at, for subtitles: `all customers`, `segment Champions`,
/// `customers where monetary > 100`.
pub fn describe(segment: Option<&str>, predicate: Option<&str>) -> String {
    match (segment, predicate) {
        (Some(s), _) => format!("segment {s}"),
        (None, Some(p)) => format!("customers where {p}"),
        (None, None) => "all customers".to_string(),
    }
}

/// The order lines an analysis reads: those on local days in `period` (the value table's), with
/// [`DAY`] and the columns the timing, category, amount, channel and cohort analyses use.
pub fn period_lines(orders: LazyFrame, period: &Period) -> LazyFrame {
    lines_in_period(orders, period).select([
        col(schema::CUSTOMER_ID),
        col(schema::ORDER_ID),
        col(schema::ORDERED_AT),
        col(schema::CHANNEL),
        col(schema::CATEGORY),
        col(schema::AMOUNT),
        col(schema::IS_RETURN),
        col(DAY),
    ])
}
