//! `custseg analyze time`: when customers buy — orders and revenue by weekday × hour (heatmap),
//! per week and per month (trends), weekday versus weekend, and seasonality.
//!
//! ```text
//! custseg analyze time out/shop
//! custseg analyze time out/shop --segment Champions -o timing.html
//! ```

use super::{collector, emit, scope, ScopeArgs};
use crate::analysis::time;
use crate::commands::{Ctx, Status};
use crate::error::Result;
use crate::report::Report;

const EXAMPLES: &str = "\
Examples:
  custseg analyze time out/shop
  custseg analyze time out/shop --segment Champions -o timing.html
  custseg analyze time out/shop --where \"tier = 'high'\" --format json

Sections (ids): weekday_hour (orders and revenue per weekday 1-7 and hour 0-23, local time),
weekly (week_start, orders, revenue), monthly (month, orders, revenue), weekend (part,
orders, order_share, revenue, revenue_share), seasonality (year, month, revenue,
revenue_share, seasonal_index = 12 x the month's share of its year). An order's moment is its
earliest purchase line; revenue is net of returns. docs/analyses.md.";

/// Purchase timing: weekday × hour, weekly and monthly trends, weekend share, seasonality.
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES)]
pub struct Args {
    #[command(flatten)]
    pub scope: ScopeArgs,
}

/// Runs `custseg analyze time`.
pub fn run(args: Args, ctx: &Ctx) -> Result<Status> {
    let scope = scope(&args.scope, false, ctx)?;
    let report = Report {
        title: "Purchase timing".to_string(),
        subtitle: scope.subtitle(),
        sections: time::report_sections(scope.lines.clone(), &collector(ctx))?,
    };
    emit(&report, ctx)?;
    Ok(Status::Success)
}
