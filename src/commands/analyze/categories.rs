//! `custseg analyze categories`: what customers buy — per category customers, orders, revenue
//! and share; the top categories of each segment or tier; category penetration among VIPs (tier
//! high) against everyone.
//!
//! ```text
//! custseg analyze categories out/shop --by tier --top 5
//! custseg analyze categories out/shop -o categories.html
//! ```

use super::{collector, emit, scope, ScopeArgs};
use crate::analysis::categories;
use crate::commands::{Ctx, Status};
use crate::error::{Error, Result};
use crate::report::Report;

const EXAMPLES: &str = "\
Examples:
  custseg analyze categories out/shop
  custseg analyze categories out/shop --by tier --top 5 -o categories.html
  custseg analyze categories out/shop --where \"city = 'Shanghai'\" --format json

Sections (ids): categories (category, customers, orders, revenue, revenue_share),
top_by_segment or top_by_tier (the group, rank, category, customers, orders, revenue,
group_revenue_share), vip_penetration (category, customers, penetration, vip_customers,
vip_penetration, vip_ratio = vip_penetration / penetration; VIPs are tier high). Lines without
a category count under (none). docs/analyses.md.";

/// Categories listed per group unless --top says otherwise (also in `custseg run`'s report).
pub const DEFAULT_TOP: u32 = 3;

/// Group column of the top-categories section.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum GroupBy {
    /// The named RFM segment.
    Segment,
    /// The value tier (high, mid, low).
    Tier,
}

impl GroupBy {
    /// The value-table column grouped by.
    pub fn column(self) -> &'static str {
        match self {
            GroupBy::Segment => crate::metrics::rfm::SEGMENT,
            GroupBy::Tier => crate::metrics::tiers::TIER,
        }
    }
}

/// Per category customers, orders, revenue and share; top categories per segment; VIP penetration.
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES)]
pub struct Args {
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// Group the top categories by segment or by tier.
    #[arg(long, value_enum, default_value = "segment")]
    pub by: GroupBy,
    /// Categories listed per group.
    #[arg(long, default_value_t = DEFAULT_TOP, value_name = "N")]
    pub top: u32,
}

/// Runs `custseg analyze categories`.
pub fn run(args: Args, ctx: &Ctx) -> Result<Status> {
    if args.top == 0 {
        return Err(Error::usage("--top must be at least 1"));
    }
    let by = args.by.column();
    let scope = scope(&args.scope, true, ctx)?;
    let report = Report {
        title: "Categories".to_string(),
        subtitle: scope.subtitle(),
        sections: categories::report_sections(
            scope.lines.clone(),
            scope.customers(),
            by,
            args.top,
            &collector(ctx),
        )?,
    };
    emit(&report, ctx)?;
    Ok(Status::Success)
}
