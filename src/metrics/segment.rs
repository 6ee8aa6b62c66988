//! Rule-based segments over the value table: SQL predicates (polars SQL), ordered named rules
//! (first match wins) and group summaries (customers, revenue and their shares per group).

use polars::prelude::*;
use polars::sql::SQLContext;

use crate::error::{Error, Result};
use crate::metrics::rfm::MONETARY;

/// The table name predicates are evaluated against.
const TABLE: &str = "customers";
/// Column holding the name of the first matching rule.
pub const RULE_SEGMENT: &str = "rule_segment";

/// One named rule: customers for whom `where` holds.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Segment name.
    pub name: String,
    /// SQL predicate over value-table columns.
    #[serde(rename = "where")]
    pub predicate: String,
}

/// A rules file: `[[rules]] name = "..." where = "..."`.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesFile {
    /// Rules in priority order.
    pub rules: Vec<Rule>,
}

fn sql(mut table: LazyFrame, query: &str, what: &str) -> Result<LazyFrame> {
    // Run the query once on an empty table of the same schema: unknown columns, syntax and
    // type errors ("segment > 5") surface here as usage errors, before any real work is done.
    let schema = table.collect_schema().map_err(|e| bad_sql(what, &e))?;
    let mut probe = SQLContext::new();
    probe.register(TABLE, DataFrame::empty_with_schema(&schema).lazy());
    probe
        .execute(query)
        .and_then(LazyFrame::collect)
        .map_err(|e| bad_sql(what, &e))?;
    let mut ctx = SQLContext::new();
    ctx.register(TABLE, table);
    ctx.execute(query).map_err(|e| bad_sql(what, &e))
}

fn bad_sql(what: &str, e: &PolarsError) -> Error {
    let text = e.to_string();
    let first = text.lines().next().unwrap_or("invalid").trim().to_string();
    Error::usage(format!("{what}: {first}"))
        .hint("write an SQL predicate over the value-table columns, e.g. \"monetary > 5000 AND recency_days <= 90\"")
}

/// Rows of `table` where the SQL predicate holds.
pub fn filter_where(table: LazyFrame, predicate: &str) -> Result<LazyFrame> {
    if predicate.contains(';') {
        return Err(Error::usage("--where: one predicate, without ';'"));
    }
    sql(
        table,
        &format!("SELECT * FROM {TABLE} WHERE {predicate}"),
        &format!("--where \"{predicate}\""),
    )
}

/// Adds [`RULE_SEGMENT`]: the name of the first rule whose predicate holds (null when none).
pub fn apply_rules(table: LazyFrame, rules: &[Rule]) -> Result<LazyFrame> {
    if rules.is_empty() {
        return Err(Error::config("the rules file has no [[rules]]"));
    }
    let mut case = String::from("CASE");
    for r in rules {
        if r.predicate.contains(';') {
            return Err(Error::config(format!(
                "rule \"{}\": one predicate, without ';'",
                r.name
            )));
        }
        case.push_str(&format!(
            " WHEN ({}) THEN '{}'",
            r.predicate,
            r.name.replace('\'', "''")
        ));
    }
    case.push_str(" ELSE NULL END");
    sql(
        table,
        &format!("SELECT *, {case} AS {RULE_SEGMENT} FROM {TABLE}"),
        "--rules",
    )
}

/// Per group of `by`: customers, revenue (Σ monetary), and their shares of the whole table;
/// sorted by revenue descending, then by the group columns.
pub fn group_summary(table: LazyFrame, by: &[String]) -> LazyFrame {
    let keys: Vec<Expr> = by.iter().map(|c| col(c.as_str())).collect();
    let mut sort_cols: Vec<String> = vec!["revenue".to_string()];
    sort_cols.extend(by.iter().cloned());
    let mut desc = vec![true];
    desc.extend(by.iter().map(|_| false));
    table
        .group_by(keys)
        .agg([
            len().cast(DataType::Int64).alias("customers"),
            crate::metrics::money_sum(col(MONETARY))
                .round(2, RoundMode::HalfAwayFromZero)
                .alias("revenue"),
        ])
        .with_columns([
            (col("customers").cast(DataType::Float64)
                / col("customers").sum().cast(DataType::Float64))
            .round(4, RoundMode::HalfAwayFromZero)
            .alias("customer_share"),
            (col("revenue") / col("revenue").sum())
                .round(4, RoundMode::HalfAwayFromZero)
                .alias("revenue_share"),
        ])
        .sort(
            sort_cols,
            SortMultipleOptions::default()
                .with_order_descending_multi(desc)
                .with_nulls_last(true),
        )
}
