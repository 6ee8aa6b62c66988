//! `custseg analyze next-purchase`: per customer the expected next purchase date and the
//! probability of a purchase in the next N days (BG/NBD when it can be fitted, else each
//! customer's own gaps), and the customers due in the next N days
//! ([`crate::analysis::next_purchase`]). docs/analyses.md, "next-purchase".
//!
//! ```text
//! custseg analyze next-purchase out/shop --days 14
//! custseg analyze next-purchase out/shop --segment "Loyal Customers" -o due.csv
//! ```

use std::path::PathBuf;

use polars::prelude::IntoLazy;

use crate::analysis::filter;
use crate::analysis::next_purchase::{self, Method, NextPurchaseOptions};
use crate::commands::report::value_table_at;
use crate::commands::{self, Ctx, InputArgs, ScoringArgs, Status};
use crate::error::{io_error, Error, Result};
use crate::io::write::Destination;
use crate::models::clv::{self, ClvOptions, Horizon};
use crate::models::params::{CountModel, ModelKind, ParamsFile};
use crate::models::prep::{PrepOptions, TimeUnit};
use crate::report::{render, Report};

const EXAMPLES: &str = "\
Examples:
  custseg analyze next-purchase out/shop --days 14
  custseg analyze next-purchase out/shop --segment \"Loyal Customers\" -o due.csv
  custseg analyze next-purchase out/shop --method gaps --days 7 --format json
  custseg analyze next-purchase out/shop --params clv-params.json -o next.html

expected_next_purchase = last purchase day + the median gap between purchase days, rounded
(custseg score's column); due = expected within the next --days days after the as-of date.
purchase_probability = P(at least one purchase in the next --days days): with BG/NBD (fitted on
all orders up to the as-of date in weeks, or read from --params) exactly P(alive) x (1 - ((alpha
+ T) / (alpha + T + t))^(r + x)); with --method gaps (or, under auto, when the fit has no proper
maximum) the share of the customer's past gaps longer than the days since the last purchase that
ended within --days more days.

Sections: due (customer_id, segment, expected_next_purchase, days_until_expected,
purchase_probability, last_purchase, median_days_between_orders; by probability) and customers
(customer_id, segment, last_purchase, recency_days, gaps, median_days_between_orders,
expected_next_purchase, days_until_expected, due, p_alive, expected_purchases,
purchase_probability, method). CSV on stdout carries the due list; -o FILE.csv writes both.
docs/analyses.md.";

/// Expected next purchase per customer and who is due in the next N days.
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES)]
pub struct Args {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub scoring: ScoringArgs,
    /// Only customers of this RFM segment (at the as-of date).
    #[arg(long, value_name = "NAME", conflicts_with = "predicate")]
    pub segment: Option<String>,
    /// Only customers for whom this SQL predicate over the value table holds.
    #[arg(long = "where", value_name = "EXPR")]
    pub predicate: Option<String>,
    /// N: the days ahead (1 to 3650).
    #[arg(long, default_value_t = 30, value_name = "N")]
    pub days: u32,
    /// Where purchase_probability comes from: auto = BG/NBD when it can be fitted, else gaps.
    #[arg(long, value_enum, default_value = "auto")]
    pub method: MethodArg,
    /// BG/NBD parameters from `custseg clv --save-params` (or custseg run) instead of a fit.
    #[arg(long, value_name = "FILE")]
    pub params: Option<PathBuf>,
}

/// `--method`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MethodArg {
    /// BG/NBD when its fit converges to a proper maximum (standard errors exist), else gaps.
    Auto,
    /// BG/NBD whenever its fit converges (also on a boundary); fail otherwise.
    Bgnbd,
    /// Each customer's own gaps between purchase days.
    Gaps,
}

fn read_params(path: &std::path::Path) -> Result<ParamsFile> {
    let text = std::fs::read_to_string(path).map_err(|e| io_error("read", path, e))?;
    let file = ParamsFile::parse(&text, &format!("--params {}", path.display()))?;
    if file.model != ModelKind::Bgnbd {
        return Err(Error::usage(format!(
            "--params {}: next-purchase needs BG/NBD parameters, not {}",
            path.display(),
            file.model.as_str()
        ))
        .hint("write them with custseg clv INPUT --model bgnbd --save-params FILE"));
    }
    Ok(file)
}

/// Fits (or reads) BG/NBD on all orders up to `as_of`; Err(reason) when it cannot be used:
/// the fit fails or does not converge, or (`strict`) its maximum is not a proper one.
fn bgnbd(
    prepared: &commands::Prepared,
    params: Option<ParamsFile>,
    days: u32,
    strict: bool,
) -> Result<std::result::Result<polars::prelude::DataFrame, String>> {
    let unit = params.as_ref().map_or(TimeUnit::Week, |p| p.time_unit);
    let given = params.is_some();
    let options = ClvOptions {
        prep: PrepOptions {
            calibration_end: prepared.as_of,
            holdout_end: None,
            time_unit: unit,
        },
        model: ModelKind::Bgnbd,
        // clv's own horizon and discounting are not used here; N-day figures are computed below.
        horizon: Horizon::parse("52w")?,
        annual_discount_rate: 0.1,
        margin: 1.0,
        params,
        threads: 0,
    };
    let run = match clv::run(
        prepared.data.orders.clone(),
        &options,
        &crate::progress::Progress::hidden(),
    ) {
        Ok(run) => run,
        Err(e) if given => return Err(e),
        Err(e) => return Ok(Err(e.message)),
    };
    if !given {
        if !run.params.purchase_model.converged {
            return Ok(Err("its fit did not converge".to_string()));
        }
        // A positive-definite Hessian (standard errors exist) marks a proper interior maximum;
        // without it the optimum sits on a boundary (no heterogeneity, no dropout), typical of a
        // handful of customers, and every customer would get nearly the same probability.
        if strict && run.params.purchase_model.std_errors.is_none() {
            return Ok(Err(
                "its fit has no proper maximum (Hessian not positive definite: too few customers?)"
                    .to_string(),
            ));
        }
    }
    let CountModel::BgNbd(model) = run.params.count_model("params")? else {
        return Ok(Err("not a BG/NBD model".to_string()));
    };
    Ok(Ok(next_purchase::model_probabilities(
        &run.table,
        &model,
        unit.days(),
        days,
    )?))
}

/// Runs `custseg analyze next-purchase`.
pub fn run(args: Args, ctx: &Ctx) -> Result<Status> {
    if !(1..=3650).contains(&args.days) {
        return Err(Error::usage(format!(
            "--days {} must be between 1 and 3650",
            args.days
        )));
    }
    if args.params.is_some() && args.method == MethodArg::Gaps {
        return Err(Error::usage(
            "--params gives BG/NBD parameters; it does not go with --method gaps",
        ));
    }
    let params = args.params.as_deref().map(read_params).transpose()?;
    let prepared = commands::prepare(&args.input, ctx)?;
    let value = commands::value_options(&args.scoring, &prepared)?;
    let segment = match &args.segment {
        Some(s) => Some(filter::resolve_segment(s, &value.segments)?),
        None => None,
    };
    let options = NextPurchaseOptions {
        period: value.period,
        days: args.days,
    };
    let model = match args.method {
        MethodArg::Gaps => None,
        MethodArg::Bgnbd | MethodArg::Auto => {
            match bgnbd(&prepared, params, args.days, args.method == MethodArg::Auto)? {
                Ok(table) => Some(table),
                Err(reason) if args.method == MethodArg::Bgnbd => {
                    return Err(Error::input(format!("BG/NBD cannot be used, {reason}"))
                        .hint("use --method gaps, or --params FILE with fitted parameters"));
                }
                Err(reason) => {
                    if !ctx.quiet {
                        eprintln!(
                        "custseg: warning: BG/NBD not used, {reason}; purchase_probability from each customer's own gaps"
                    );
                    }
                    None
                }
            }
        }
    };
    let method = if model.is_some() {
        Method::BgNbd
    } else {
        Method::Gaps
    };
    let chosen = filter::selected(
        value_table_at(&prepared, &args.scoring, prepared.as_of)?,
        segment.as_deref(),
        args.predicate.as_deref(),
    )?;
    let plan = next_purchase::customers(
        chosen,
        next_purchase::gap_probabilities(prepared.data.orders.clone(), &options),
        model.map(IntoLazy::lazy),
        &options,
    );
    let customers = commands::collect(plan, ctx, "next purchase")?;
    let due = next_purchase::due(customers.clone().lazy()).collect()?;
    if customers.height() == 0 && !ctx.quiet {
        eprintln!(
            "custseg: warning: no customers with a purchase line for {} on or before {}",
            filter::describe(segment.as_deref(), args.predicate.as_deref()),
            prepared.as_of
        );
    }
    let report = Report {
        title: format!("Next purchase, {} days after {}", args.days, prepared.as_of),
        subtitle: format!(
            "{}; {} customers, {} due; purchase_probability by {}",
            filter::describe(segment.as_deref(), args.predicate.as_deref()),
            customers.height(),
            due.height(),
            method.as_str()
        ),
        sections: next_purchase::sections(customers, due, &options, method)?,
    };
    let dest = Destination::resolve(ctx.format, ctx.output.as_deref())?;
    render::render(&report, &dest, ctx.quiet)?;
    Ok(Status::Success)
}
