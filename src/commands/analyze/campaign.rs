//! `custseg analyze campaign`: did a campaign work? Targeted customers in the campaign window
//! against the same-length window before and against a control group (a list, or matched by RFM
//! segment); lift with a 95 % interval, incremental revenue, ROI ([`crate::analysis::campaign`]).
//! docs/analyses.md, "campaign".
//!
//! ```text
//! custseg analyze campaign out/shop --targets mailing.csv --start 2024-11-01 --control-auto
//! custseg analyze campaign out/shop --targets t.txt --control c.txt --start 2024-11-01 --cost 500
//! ```

use std::path::PathBuf;

use chrono::NaiveDate;
use polars::prelude::IntoLazy;

use crate::analysis::campaign::{self, ControlKind, ALL, CONTROL, TARGETED};
use crate::analysis::filter;
use crate::commands::report::value_table_at;
use crate::commands::{self, Ctx, InputArgs, ScoringArgs, Status};
use crate::error::{Error, Result};
use crate::io::write::Destination;
use crate::report::{render, Report};

const EXAMPLES: &str = "\
Examples:
  custseg analyze campaign out/shop --targets mailing.csv --start 2024-11-01 --control-auto
  custseg analyze campaign out/shop --targets t.txt --control c.txt --start 2024-11-01 --cost 500
  custseg analyze campaign out/shop --targets t.txt --start 2024-11-01 --end 2024-11-14 -o c.html
  custseg analyze campaign out/shop --targets t.txt --start 2024-11-01 --segment \"At Risk\"

--targets and --control: a CSV with a customer_id column, or one customer id per line. The
campaign window is --start to --end (default: the as-of date), both days included; the pre
window is the same number of days just before --start. Per group and window: customers, buyers
(customers with a purchase line), orders, revenue (net of returns), conversion = buyers /
customers. --control-auto: the control group is every non-targeted customer whose RFM segment on
the day before --start is a segment of targeted customers; control figures are weighted to the
targeted segment mix. lift = conversion targeted - conversion control, with a 95 % interval
(normal approximation); incremental_revenue = (revenue per targeted - revenue per control
customer) x targeted customers; roi = (incremental_revenue - cost) / cost.

Sections: lift (measure, value), groups (group, window, start, end, customers, buyers, orders,
revenue, conversion, revenue_per_customer), and with --control-auto segments. CSV on stdout
carries the lift; -o FILE.csv writes one file per section. docs/analyses.md.";

/// Campaign evaluation against the window before and a control group.
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
    /// The targeted customers: a CSV with customer_id, or one id per line.
    #[arg(long, value_name = "FILE")]
    pub targets: PathBuf,
    /// First day of the campaign window (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub start: String,
    /// Last day of the campaign window (default: the as-of date).
    #[arg(long, value_name = "DATE")]
    pub end: Option<String>,
    /// The control customers: a CSV with customer_id, or one id per line.
    #[arg(long, value_name = "FILE", conflicts_with = "control_auto")]
    pub control: Option<PathBuf>,
    /// Control = non-targeted customers of the targeted customers' RFM segments before --start.
    #[arg(long)]
    pub control_auto: bool,
    /// What the campaign cost, for ROI (needs a control group).
    #[arg(long, value_name = "AMOUNT")]
    pub cost: Option<f64>,
}

fn parse_date(text: &str, flag: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| {
        Error::usage(format!("{flag} \"{text}\" is not a date"))
            .hint(format!("use YYYY-MM-DD, e.g. {flag} 2024-11-01"))
    })
}

/// Runs `custseg analyze campaign`.
pub fn run(args: Args, ctx: &Ctx) -> Result<Status> {
    let start = parse_date(&args.start, "--start")?;
    let end_arg = args
        .end
        .as_deref()
        .map(|e| parse_date(e, "--end"))
        .transpose()?;
    if let Some(cost) = args.cost {
        if !(cost.is_finite() && cost > 0.0) {
            return Err(Error::usage(format!(
                "--cost {cost} must be a positive amount"
            )));
        }
        if args.control.is_none() && !args.control_auto {
            return Err(Error::usage(
                "--cost needs a control group: ROI is computed on incremental revenue",
            )
            .hint("add --control FILE or --control-auto"));
        }
    }
    let prepared = commands::prepare(&args.input, ctx)?;
    let as_of = prepared.as_of;
    let end = end_arg.unwrap_or(as_of);
    if start > end {
        return Err(Error::usage(format!(
            "--start {start} is after the end of the campaign window ({end})"
        ))
        .hint("the window runs from --start to --end (default: the as-of date), both included"));
    }
    if end > as_of {
        return Err(Error::usage(format!(
            "the campaign window ends on {end}, after the as-of date {as_of}"
        ))
        .hint("pass an earlier --end, or --as-of on or after the last campaign day"));
    }
    let windows = campaign::windows(start, end);
    let value = commands::value_options(&args.scoring, &prepared)?;
    let segment = match &args.segment {
        Some(s) => Some(filter::resolve_segment(s, &value.segments)?),
        None => None,
    };

    let (targets, repeats) = campaign::read_id_list(&args.targets, "--targets")?;
    let given_control = match &args.control {
        Some(path) => {
            let (ids, r) = campaign::read_id_list(path, "--control")?;
            let targeted: std::collections::HashSet<&String> = targets.iter().collect();
            let overlap: Vec<&String> = ids.iter().filter(|i| targeted.contains(i)).collect();
            if let Some(first) = overlap.first() {
                return Err(Error::usage(format!(
                    "--control {}: {} ids are in --targets too (first: {first})",
                    path.display(),
                    overlap.len()
                ))
                .hint(
                    "a control customer must not receive the campaign; remove them from one list",
                ));
            }
            Some((ids, r))
        }
        None => None,
    };
    if !ctx.quiet {
        let r = repeats + given_control.as_ref().map_or(0, |c| c.1);
        if r > 0 {
            eprintln!("custseg: warning: {r} repeated ids in the lists were counted once");
        }
        let unknown = campaign::unknown_ids(
            &targets,
            prepared.data.orders.clone(),
            prepared.data.customers.clone(),
        )?;
        let unknown = commands::collect(unknown, ctx, "unknown targeted ids")?.height();
        if unknown > 0 {
            eprintln!(
                "custseg: warning: {unknown} targeted ids appear in no order line or customer record; they count as targeted customers who did not buy"
            );
        }
    }

    let (targeted, control, kind) = if args.control_auto {
        let before = value_table_at(&prepared, &args.scoring, start - chrono::Duration::days(1))?;
        let (targeted, control) = campaign::matched_members(&targets, before)?;
        (targeted, Some(control), ControlKind::Auto)
    } else {
        let targeted = campaign::members(&targets, TARGETED, ALL)?.lazy();
        match &given_control {
            Some((ids, _)) => (
                targeted,
                Some(campaign::members(ids, CONTROL, ALL)?.lazy()),
                ControlKind::Given,
            ),
            None => (targeted, None, ControlKind::None),
        }
    };
    let chosen = if segment.is_some() || args.predicate.is_some() {
        Some(filter::selected(
            value_table_at(&prepared, &args.scoring, as_of)?,
            segment.as_deref(),
            args.predicate.as_deref(),
        )?)
    } else {
        None
    };
    let members = commands::collect(
        campaign::all_members(targeted, control, chosen)?,
        ctx,
        "campaign members",
    )?;
    let group = members.column(campaign::GROUP)?.str()?;
    let n_targeted = group.iter().filter(|g| *g == Some(TARGETED)).count();
    let n_control = members.height() - n_targeted;
    if n_targeted == 0 {
        return Err(Error::input(format!(
            "no targeted customer is among {}",
            filter::describe(segment.as_deref(), args.predicate.as_deref())
        )));
    }
    if kind != ControlKind::None && n_control == 0 {
        return Err(match kind {
            ControlKind::Auto => Error::input(format!(
                "no control customers: no non-targeted customer shares an RFM segment with a targeted one on {}",
                start - chrono::Duration::days(1)
            ))
            .hint("pass a --control FILE instead"),
            _ => Error::input("no control customer is left after the restriction"),
        });
    }
    let figures = commands::collect(
        campaign::figures(prepared.data.orders.clone(), members.lazy(), &windows)?,
        ctx,
        "campaign figures",
    )?;
    let strata = campaign::strata(&figures)?;
    let report = Report {
        title: format!("Campaign {start} to {end}"),
        subtitle: format!(
            "{}; {} targeted, {} control customers; as of {as_of}",
            filter::describe(segment.as_deref(), args.predicate.as_deref()),
            n_targeted,
            match kind {
                ControlKind::None => "no".to_string(),
                _ => n_control.to_string(),
            }
        ),
        sections: campaign::sections(&strata, &windows, kind, args.cost)?,
    };
    let dest = Destination::resolve(ctx.format, ctx.output.as_deref())?;
    render::render(&report, &dest, ctx.quiet)?;
    Ok(Status::Success)
}
