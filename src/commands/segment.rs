//! `custseg segment`: customers matching an SQL predicate or ordered named rules, and group
//! summaries (`--by city,tier`) with customers, revenue and shares.
//!
//! ```text
//! custseg segment out/shop --where "monetary > 5000 AND recency_days <= 90"
//! custseg segment customers.parquet --rules segments.toml --by rule_segment
//! custseg rfm - --format csv < orders.csv | custseg segment - --where "segment = 'At Risk'"
//! ```

use std::path::PathBuf;

use crate::commands::{self, Ctx, InputArgs, ScoringArgs, Status};
use crate::error::{Error, Result};
use crate::io::input;
use crate::metrics::rfm::MONETARY;
use crate::metrics::score;
use crate::metrics::segment::{self, RulesFile, RULE_SEGMENT};

const EXAMPLES: &str = "\
Examples:
  custseg segment out/shop --where \"monetary > 5000 AND recency_days <= 90\"
  custseg segment customers.parquet --rules segments.toml --by rule_segment
  custseg segment out/shop --by city,tier -o by_city.csv
  custseg rfm orders.csv --format csv | custseg segment - --where \"segment = 'At Risk'\"

INPUT is a per-customer table (output of custseg score or rfm: CSV or Parquet, - for CSV on
stdin), or an ingest directory / orders file, from which the value table of custseg score is
computed first. --where takes an SQL predicate over its columns (polars SQL: AND, OR, NOT, IN,
BETWEEN, LIKE, comparisons, arithmetic). --rules takes a TOML file of [[rules]] with name and
where; the first rule that holds names the customer's rule_segment. Without --by the members are
written; with --by one row per group: customers, revenue (sum of monetary), customer_share,
revenue_share. Counts go to stderr.";

/// Customers matching a predicate or rules, or group summaries.
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES)]
pub struct Args {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub scoring: ScoringArgs,
    /// SQL predicate over value-table columns; only matching customers are kept.
    #[arg(long = "where", value_name = "EXPR")]
    pub predicate: Option<String>,
    /// TOML file of ordered [[rules]] (name, where); adds rule_segment, first match wins.
    #[arg(long, value_name = "FILE")]
    pub rules: Option<PathBuf>,
    /// Comma-separated columns to group by (e.g. city,tier); writes one row per group.
    #[arg(long, value_name = "COLUMNS", value_delimiter = ',')]
    pub by: Vec<String>,
}

/// Runs `custseg segment`.
pub fn run(args: Args, ctx: &Ctx) -> Result<Status> {
    if args.predicate.is_none() && args.rules.is_none() && args.by.is_empty() {
        return Err(Error::usage("segment needs --where, --rules or --by")
            .hint("e.g. custseg segment out/ --where \"monetary > 5000\""));
    }
    // Holds the order lines' scratch files (a raw input file) until the table is collected.
    let mut _orders_held = None;
    let table = match input::load_value_table(&args.input.input)? {
        Some(mut t) if !args.by.is_empty() => {
            input::require_columns(&mut t, &[MONETARY], "segment --by", &args.input.input)?;
            t
        }
        Some(t) => t,
        None => {
            let prepared = commands::prepare(&args.input, ctx)?;
            let options = commands::value_options(&args.scoring, &prepared)?;
            let data = prepared.data;
            let table = score::value_table(data.orders, data.customers, data.events, &options);
            _orders_held = data.scratch;
            table
        }
    };
    let all = commands::collect(table, ctx, "value table")?;
    let total = all.height();
    let mut lf = polars::prelude::IntoLazy::lazy(all);
    if let Some(p) = &args.predicate {
        lf = segment::filter_where(lf, p)?;
    }
    if let Some(path) = &args.rules {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::usage(format!("cannot read --rules {}: {e}", path.display())))?;
        let rules: RulesFile = toml::from_str(&text).map_err(|e| {
            Error::config(format!(
                "{}: {}",
                path.display(),
                e.message().replace('\n', " ")
            ))
            .hint("expected [[rules]] tables with name = \"...\" and where = \"...\"")
        })?;
        lf = segment::apply_rules(lf, &rules.rules)?;
    }
    if !args.by.is_empty() {
        let schema = lf.collect_schema()?;
        for c in &args.by {
            if schema.get(c.as_str()).is_none() {
                return Err(
                    Error::usage(format!("--by: no column \"{c}\" in the value table")).hint(
                        format!(
                            "columns: {}",
                            schema
                                .iter_names()
                                .map(|n| n.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    ),
                );
            }
        }
        lf = segment::group_summary(lf, &args.by);
    }
    let mut df = commands::collect(lf, ctx, "segment")?;
    commands::emit(&mut df, ctx)?;
    if !ctx.quiet {
        if args.by.is_empty() {
            eprintln!("custseg: {} of {total} customers selected", df.height());
            if args.rules.is_some() {
                eprintln!(
                    "custseg: rule segments: {}",
                    commands::counts_line(&df, RULE_SEGMENT)?
                );
            }
        } else {
            eprintln!("custseg: {} groups", df.height());
        }
    }
    Ok(Status::Success)
}
