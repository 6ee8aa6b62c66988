//! `custseg lifecycle`: the lifecycle stage of every known customer (customers table and
//! purchasers): prospect, new, active, at_risk, churned, reactivated.
//!
//! ```text
//! custseg lifecycle out/shop --as-of 2025-01-01
//! custseg lifecycle out/shop --new-days 14 --active-days 60 --churn-days 120 -o stages.csv
//! ```

use crate::commands::{self, Ctx, InputArgs, Status};
use crate::error::{Error, Result};
use crate::metrics::lifecycle;

const EXAMPLES: &str = "\
Examples:
  custseg lifecycle out/shop --as-of 2025-01-01
  custseg lifecycle out/shop --new-days 14 --active-days 60 --churn-days 120 -o stages.csv

Stages, first match wins: prospect (no purchase), new (first purchase <= new_days ago),
reactivated (a purchase <= active_days ago after a gap > churn_days), active (last purchase
<= active_days ago), at_risk (<= churn_days ago), churned. Output columns: customer_id,
lifecycle_stage, first_purchase, last_purchase, recency_days, purchase_days. docs/metrics.md.";

/// Lifecycle stage of every known customer.
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES)]
pub struct Args {
    #[command(flatten)]
    pub input: InputArgs,
    /// Days since the first purchase within which a customer is "new" (default 30).
    #[arg(long, value_name = "DAYS")]
    pub new_days: Option<i64>,
    /// Days since the last purchase within which a customer is "active" (default 90).
    #[arg(long, value_name = "DAYS")]
    pub active_days: Option<i64>,
    /// Days since the last purchase beyond which a customer is "churned" (default 180).
    #[arg(long, value_name = "DAYS")]
    pub churn_days: Option<i64>,
}

/// Runs `custseg lifecycle`.
pub fn run(args: Args, ctx: &Ctx) -> Result<Status> {
    let prepared = commands::prepare(&args.input, ctx)?;
    let mut options = prepared.analysis.lifecycle;
    options.new_days = args.new_days.unwrap_or(options.new_days);
    options.active_days = args.active_days.unwrap_or(options.active_days);
    options.churn_days = args.churn_days.unwrap_or(options.churn_days);
    if !(options.new_days > 0
        && options.active_days > 0
        && options.active_days <= options.churn_days)
    {
        return Err(Error::usage(format!(
            "lifecycle thresholds need 0 < --new-days, 0 < --active-days <= --churn-days (got {}, {}, {})",
            options.new_days, options.active_days, options.churn_days
        )));
    }
    let plan = lifecycle::lifecycle(
        prepared.data.orders,
        prepared.data.customers,
        prepared.as_of,
        &options,
    );
    let mut df = commands::collect(plan, ctx, "lifecycle")?;
    commands::emit(&mut df, ctx)?;
    if !ctx.quiet {
        eprintln!(
            "custseg: {} customers as of {}: {}",
            df.height(),
            prepared.as_of,
            commands::counts_line(&df, lifecycle::LIFECYCLE_STAGE)?
        );
    }
    Ok(Status::Success)
}
