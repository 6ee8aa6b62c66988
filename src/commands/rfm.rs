//! `custseg rfm`: one row per customer with a purchase: recency, frequency, monetary, their
//! scores, the RFM cell and the named segment.
//!
//! ```text
//! custseg rfm out/shop --as-of 2025-01-01
//! custseg rfm orders.csv --window 365d --bins 5 -o rfm.parquet
//! cat orders.csv | custseg rfm - --thresholds cuts.toml --format csv
//! ```

use polars::prelude::{DataFrame, Engine, LazyFrame};

use crate::commands::{self, Ctx, InputArgs, ScoringArgs, Status};
use crate::error::Result;
use crate::metrics::{rfm, DayRule, LocalDays};

const EXAMPLES: &str = "\
Examples:
  custseg rfm out/shop --as-of 2025-01-01
  custseg rfm orders.csv --window 365d --bins 5 -o rfm.parquet
  cat orders.csv | custseg rfm - --thresholds cuts.toml --format csv

Output columns: customer_id, recency_days, frequency, monetary, avg_order_value, first_purchase,
last_purchase, tenure_days, r_score, f_score, m_score, rfm_cell, segment; sorted by customer_id.
The as-of date defaults to the day after the latest order; orders after it are ignored.
score = 1 + floor(bins x (rank_min - 1) / n), ranks ascending for frequency and monetary and
descending for recency_days, so ties share a score. Definitions: docs/metrics.md; segments:
docs/segments.md.";

/// Recency, frequency, monetary value, RFM scores and named segments per customer.
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES)]
pub struct Args {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub scoring: ScoringArgs,
}

/// Runs `custseg rfm`.
pub fn run(args: Args, ctx: &Ctx) -> Result<Status> {
    let prepared = commands::prepare(&args.input, ctx)?;
    let options = commands::value_options(&args.scoring, &prepared)?;
    let orders = prepared.data.orders;
    let period = options.period;
    let days = LocalDays::guess(&orders, &period)?;
    let plan = |rule| {
        rfm::rfm_by(
            orders.clone(),
            &period,
            rule,
            &options.scoring,
            &options.segments,
        )
    };
    let mut df = collect_streaming(plan(days.rule), ctx)?;
    if !days.confirmed(rfm::earliest_purchase(&df)?, &period) {
        df = collect_streaming(plan(DayRule::Zone), ctx)?;
    }
    commands::emit(&mut df, ctx)?;
    if !ctx.quiet {
        eprintln!(
            "custseg: {} customers as of {}; segments: {}",
            df.height(),
            prepared.as_of,
            commands::counts_line(&df, rfm::SEGMENT)?
        );
    }
    Ok(Status::Success)
}

/// Collects the rfm plan on polars' streaming engine: lines are read and aggregated morsel by
/// morsel, never held in memory all at once (the default engine reads them all first). Prints the
/// plan with --explain.
fn collect_streaming(plan: LazyFrame, ctx: &Ctx) -> Result<DataFrame> {
    if ctx.explain {
        eprintln!("custseg: plan for rfm:\n{}", plan.explain(true)?);
    }
    Ok(plan
        .collect_with_engine(Engine::Streaming)
        .map(|r| r.unwrap_single())?)
}
