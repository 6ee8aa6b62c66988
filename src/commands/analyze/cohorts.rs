//! `custseg analyze cohorts`: whether new customers stay — acquisition cohorts by first-purchase
//! month (or week), with retention and revenue per cohort member in every later period.
//!
//! ```text
//! custseg analyze cohorts out/shop -o cohorts.html
//! custseg analyze cohorts out/shop --period week --format csv
//! ```

use super::{collector, emit, output_format, scope, ScopeArgs};
use crate::analysis::cohorts::{self, CohortPeriod, Layout};
use crate::commands::{Ctx, Status};
use crate::error::Result;
use crate::io::write::OutputFormat;
use crate::report::Report;

const EXAMPLES: &str = "\
Examples:
  custseg analyze cohorts out/shop -o cohorts.html
  custseg analyze cohorts out/shop --period week --format csv
  custseg analyze cohorts out/shop --where \"city = 'Beijing'\" --format json

CSV, TSV, NDJSON, JSON and Parquet get one long table, section cohorts: cohort, cohort_size,
period_index, customers_active, retention, revenue_per_member. A terminal table, Markdown and
HTML get the triangles: sections retention and revenue_per_member, one row per cohort and a
column per period since the first purchase (month 0, month 1, ...), with heatmaps.
docs/analyses.md.";

/// Cohort period lengths.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum PeriodArg {
    /// Calendar months.
    Month,
    /// ISO weeks, Monday to Sunday.
    Week,
}

/// Acquisition cohorts: retention and revenue per member by period since first purchase.
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES)]
pub struct Args {
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// Cohort and period length.
    #[arg(long, value_enum, default_value = "month")]
    pub period: PeriodArg,
}

/// Runs `custseg analyze cohorts`.
pub fn run(args: Args, ctx: &Ctx) -> Result<Status> {
    let period = match args.period {
        PeriodArg::Month => CohortPeriod::Month,
        PeriodArg::Week => CohortPeriod::Week,
    };
    let format = output_format(ctx)?;
    let scope = scope(&args.scope, false, ctx)?;
    let layout = match format {
        OutputFormat::Table | OutputFormat::Markdown | OutputFormat::Html => Layout::Triangles,
        _ => Layout::Long,
    };
    let sections = cohorts::report_sections(
        scope.lines.clone(),
        scope.as_of,
        period,
        layout,
        &collector(ctx),
    )?;
    let report = Report {
        title: format!("Acquisition cohorts by {}", period.name()),
        subtitle: scope.subtitle(),
        sections,
    };
    emit(&report, ctx)?;
    Ok(Status::Success)
}
