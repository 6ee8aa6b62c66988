//! `custseg analyze amounts`: how much customers spend — the distribution of order values and of
//! customer monetary over fixed bins or quantiles, with count and revenue share per bin.
//!
//! ```text
//! custseg analyze amounts out/shop --bins 0,50,100,500,1000,inf
//! custseg analyze amounts out/shop --quantiles 10 -o amounts.html
//! ```

use super::{collector, emit, scope, ScopeArgs};
use crate::analysis::amounts::{self, Binning};
use crate::commands::{Ctx, Status};
use crate::error::{Error, Result};
use crate::report::Report;

const EXAMPLES: &str = "\
Examples:
  custseg analyze amounts out/shop --bins 0,50,100,500,1000,inf
  custseg analyze amounts out/shop --quantiles 10 -o amounts.html
  custseg analyze amounts out/shop --segment Champions --bins 0,500,2000,inf --format json

Bins are left-closed, [a, b); values below the first edge or at or above a finite last edge get
an extra bin, shown only when not empty. Quantile bins share ties (rank-based, like RFM scores)
and are named by their smallest value. Sections (ids): order_value and customer_monetary (bin,
lower, upper, orders or customers, order_share or customer_share, revenue, revenue_share).
Without --bins: --quantiles 4. docs/analyses.md.";

/// Quantile bins without --bins or --quantiles (also in `custseg run`'s report).
pub const DEFAULT_QUANTILES: u32 = 4;

/// The hint shown with every --bins error.
const BINS_HINT: &str = "give ascending edges, e.g. --bins 0,50,100,500,1000,inf";

/// Distribution of order value and customer monetary in bins.
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES)]
pub struct Args {
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// Ascending bin edges, comma-separated; "inf" as the last edge leaves the last bin open.
    #[arg(long, value_name = "EDGES", conflicts_with = "quantiles")]
    pub bins: Option<String>,
    /// Number of equal-count bins (ties share a bin) instead of fixed edges; default 4.
    #[arg(long, value_name = "N")]
    pub quantiles: Option<u32>,
}

/// Parses `0,50,100,inf` into strictly ascending edges (`-inf` may come first, `inf` last).
pub fn parse_edges(text: &str) -> Result<Vec<f64>> {
    let bad =
        |why: String| Error::usage(format!("--bins \"{text}\": {why}")).hint(BINS_HINT.to_string());
    let mut edges = Vec::new();
    for part in text.split(',') {
        let p = part.trim();
        let v = match p.to_ascii_lowercase().as_str() {
            "inf" | "+inf" | "infinity" => f64::INFINITY,
            "-inf" | "-infinity" => f64::NEG_INFINITY,
            "" => return Err(bad("an edge is empty".to_string())),
            lower => match lower.parse::<f64>() {
                Ok(v) if !v.is_nan() && !lower.contains("inf") && !lower.contains("nan") => v,
                _ => return Err(bad(format!("\"{p}\" is not a number"))),
            },
        };
        if let Some(&last) = edges.last() {
            if v <= last {
                return Err(bad(format!(
                    "edges must be strictly ascending ({p} follows {})",
                    crate::io::write::format_float(last)
                )));
            }
        }
        edges.push(v);
    }
    if edges.len() < 2 {
        return Err(bad("give at least two edges".to_string()));
    }
    Ok(edges)
}

/// Resolves --bins / --quantiles.
fn binning(args: &Args) -> Result<Binning> {
    match (&args.bins, args.quantiles) {
        (Some(text), _) => Ok(Binning::Edges(parse_edges(text)?)),
        (None, Some(q)) if !(2..=100).contains(&q) => Err(Error::usage(format!(
            "--quantiles {q} must be between 2 and 100"
        ))),
        (None, q) => Ok(Binning::Quantiles(q.unwrap_or(DEFAULT_QUANTILES))),
    }
}

/// Runs `custseg analyze amounts`.
pub fn run(args: Args, ctx: &Ctx) -> Result<Status> {
    let binning = binning(&args)?;
    let scope = scope(&args.scope, true, ctx)?;
    let report = Report {
        title: "Spend distribution".to_string(),
        subtitle: format!("{}, {}", scope.subtitle(), binning.describe()),
        sections: amounts::report_sections(
            scope.lines.clone(),
            scope.customers(),
            &binning,
            &collector(ctx),
        )?,
    };
    emit(&report, ctx)?;
    Ok(Status::Success)
}
