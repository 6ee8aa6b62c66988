//! `custseg score`: the full per-customer value table — RFM, tier, lifecycle and behaviour in one
//! wide row per purchasing customer; the table every report reads.
//!
//! ```text
//! custseg score out/shop -o customers.parquet
//! custseg score out/shop --as-of 2025-01-01 --window 365d --format csv > value.csv
//! ```

use polars::prelude::DataFrame;

use crate::commands::{self, Ctx, InputArgs, ScoringArgs, Status};
use crate::error::Result;
use crate::metrics::tiers;
use crate::metrics::{rfm, DayRule, LocalDays};

const EXAMPLES: &str = "\
Examples:
  custseg score out/shop -o customers.parquet
  custseg score out/shop --as-of 2025-01-01 --window 365d --format csv > value.csv

Columns: the rfm columns, interaction_count (with events), value_score, tier, lifecycle_stage,
purchase_days, preferred_channel, preferred_category, channel_count, weekend_share, usual_hour,
mean_days_between_orders, median_days_between_orders, expected_next_purchase, discount_share,
price_sensitive, top_brand_share, brand_loyal, last_interaction, gender, city, age_band.
One row per customer with a purchase in the period, sorted by customer_id. docs/metrics.md.";

/// The full per-customer value table (RFM, tier, lifecycle, behaviour).
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES)]
pub struct Args {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub scoring: ScoringArgs,
}

/// Runs `custseg score`.
pub fn run(args: Args, ctx: &Ctx) -> Result<Status> {
    let prepared = commands::prepare(&args.input, ctx)?;
    let options = commands::value_options(&args.scoring, &prepared)?;
    let data = prepared.data;
    // With a window, lifecycle still reads the lines before it, whose earliest day the table does
    // not show; the fixed-offset day rule could not be confirmed then.
    let days = match options.period.window_days {
        None => LocalDays::guess(&data.orders, &options.period)?,
        Some(_) => LocalDays::zone(),
    };
    let buckets = commands::customer_buckets(&data.orders)?;
    let plan =
        |rule| commands::value_table_plan(&data, &options, rule, buckets.as_ref(), ctx.explain);
    let mut df = commands::collect(plan(days.rule)?, ctx, "score")?;
    if !days.confirmed(rfm::earliest_purchase(&df)?, &options.period) {
        df = commands::collect(plan(DayRule::Zone)?, ctx, "score")?;
    }
    commands::emit(&mut df, ctx)?;
    if !ctx.quiet {
        eprintln!(
            "custseg: {} customers as of {}",
            df.height(),
            prepared.as_of
        );
        eprintln!("{}", pareto_line(&df)?);
    }
    Ok(Status::Success)
}

fn pareto_line(df: &DataFrame) -> Result<String> {
    let shares = tiers::tier_shares(df.clone())?;
    Ok(shares
        .iter()
        .map(|s| {
            format!(
                "custseg: tier {}: {:.1}% of customers, {:.1}% of revenue",
                s.tier,
                s.customer_share * 100.0,
                s.revenue_share * 100.0
            )
        })
        .collect::<Vec<_>>()
        .join("\n"))
}
