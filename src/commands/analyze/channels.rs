//! `custseg analyze channels`: where customers buy — customers, orders and revenue per channel,
//! and multi-channel customers against single-channel ones.
//!
//! ```text
//! custseg analyze channels out/shop
//! custseg analyze channels out/shop --segment "At Risk" -o channels.md
//! ```

use super::{collector, emit, scope, ScopeArgs};
use crate::analysis::channels;
use crate::commands::{Ctx, Status};
use crate::error::Result;
use crate::report::Report;

const EXAMPLES: &str = "\
Examples:
  custseg analyze channels out/shop
  custseg analyze channels out/shop --segment \"At Risk\" -o channels.md
  custseg analyze channels out/shop --where \"frequency >= 3\" --format csv

Sections (ids): channels (channel, customers, customer_share, orders, revenue, revenue_share;
a customer counts in every channel they bought in) and multichannel (channel_use =
single-channel or multi-channel, customers, customer_share, revenue, revenue_share,
mean_monetary, mean_frequency; multi-channel = purchase lines in 2 or more channels).
docs/analyses.md.";

/// Customers and revenue per channel; multi-channel versus single-channel customers.
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES)]
pub struct Args {
    #[command(flatten)]
    pub scope: ScopeArgs,
}

/// Runs `custseg analyze channels`.
pub fn run(args: Args, ctx: &Ctx) -> Result<Status> {
    let scope = scope(&args.scope, true, ctx)?;
    let report = Report {
        title: "Channels".to_string(),
        subtitle: scope.subtitle(),
        sections: channels::report_sections(
            scope.lines.clone(),
            scope.customers(),
            &collector(ctx),
        )?,
    };
    emit(&report, ctx)?;
    Ok(Status::Success)
}
