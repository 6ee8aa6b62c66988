//! `custseg analyze <what>`: behaviour analyses — purchase timing, categories, spend
//! distribution, channels, basket associations, cohorts, campaign evaluation and next purchase.
//! Each verb lives in its own file here (Args + run) over library code in `src/analysis/`; every
//! analysis can be restricted to a named segment or an SQL predicate over the value table.
//!
//! This file also holds what the verbs share: the input and restriction flags ([`ScopeArgs`]),
//! loading and restricting the input once ([`scope`], [`scope_prepared`]), running a section
//! builder's plans through the command's collect ([`collector`]) and writing the report
//! ([`emit`]).

use chrono::NaiveDate;
use polars::prelude::{DataFrame, IntoLazy, LazyFrame};

use crate::analysis::filter;
use crate::commands::{self, Ctx, InputArgs, Prepared, ScoringArgs, Status};
use crate::error::{Error, Result};
use crate::io::write::{Destination, OutputFormat};
use crate::report::{render, Report};

pub mod amounts;
pub mod basket;
pub mod campaign;
pub mod categories;
pub mod channels;
pub mod cohorts;
pub mod next_purchase;
pub mod time;

/// Behaviour analyses.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Which analysis.
    #[command(subcommand)]
    pub which: Which,
}

/// The analyses.
#[derive(Debug, clap::Subcommand)]
pub enum Which {
    /// Orders and revenue by weekday × hour, by week and month, weekend share, seasonality.
    Time(time::Args),
    /// Per category customers, orders, revenue and share; top categories per segment; VIP penetration.
    Categories(categories::Args),
    /// Distribution of order value and customer monetary in bins.
    Amounts(amounts::Args),
    /// Customers and revenue per channel; multi-channel versus single-channel customers.
    Channels(channels::Args),
    /// Association rules between products or categories: support, confidence, lift.
    Basket(basket::Args),
    /// Acquisition cohorts: retention and revenue per member by period since first purchase.
    Cohorts(cohorts::Args),
    /// Campaign evaluation: targeted vs before and vs control, lift with a confidence interval.
    Campaign(campaign::Args),
    /// Expected next purchase per customer and who is due in the next N days.
    NextPurchase(next_purchase::Args),
}

/// Runs `custseg analyze`.
pub fn run(args: Args, ctx: &Ctx) -> Result<Status> {
    match args.which {
        Which::Time(a) => time::run(a, ctx),
        Which::Categories(a) => categories::run(a, ctx),
        Which::Amounts(a) => amounts::run(a, ctx),
        Which::Channels(a) => channels::run(a, ctx),
        Which::Basket(a) => basket::run(a, ctx),
        Which::Cohorts(a) => cohorts::run(a, ctx),
        Which::Campaign(a) => campaign::run(a, ctx),
        Which::NextPurchase(a) => next_purchase::run(a, ctx),
    }
}

/// The input and restriction flags of every `custseg analyze` verb.
#[derive(Debug, clap::Args)]
pub struct ScopeArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Only the customers of this named RFM segment (e.g. Champions; case-insensitive).
    #[arg(long, value_name = "NAME", conflicts_with = "predicate")]
    pub segment: Option<String>,
    /// Only the customers for whom this SQL predicate over the value table holds
    /// (e.g. "tier = 'high'", "monetary > 5000 AND recency_days <= 90").
    #[arg(long = "where", value_name = "EXPR")]
    pub predicate: Option<String>,
}

/// An analysis input loaded once: the order lines in scope and, when asked for, the value-table
/// rows of the customers in scope.
pub struct Scope {
    /// Order lines of the customers in scope on local days in the value table's period, with
    /// [`crate::metrics::DAY`]: a plan over the input, read again by each section.
    pub lines: LazyFrame,
    /// Value-table rows of the customers in scope (in memory), when requested or restricted.
    pub table: Option<LazyFrame>,
    /// The as-of date.
    pub as_of: NaiveDate,
    /// Who is looked at ("all customers", "segment Champions").
    pub who: String,
    /// Keeps the scratch file that `lines` reads (a raw input file is cleaned into one).
    pub scratch: Option<std::sync::Arc<crate::io::read::Scratch>>,
}

impl Scope {
    /// The report subtitle: as-of date and who.
    pub fn subtitle(&self) -> String {
        format!("as of {}, {}", self.as_of, self.who)
    }

    /// The value-table rows in scope (an empty plan when [`scope`] was not asked for them).
    pub fn customers(&self) -> LazyFrame {
        self.table.clone().unwrap_or_default()
    }
}

/// Loads the input, computes the value table at the as-of date when `with_table` or when
/// restricted (scored with the `--config` sections), and keeps the lines of the customers in
/// scope.
pub fn scope(args: &ScopeArgs, with_table: bool, ctx: &Ctx) -> Result<Scope> {
    let prepared = commands::prepare(&args.input, ctx)?;
    scope_prepared(
        &prepared,
        args.segment.as_deref(),
        args.predicate.as_deref(),
        with_table,
        ctx,
    )
}

/// [`scope`] over input already prepared (also `custseg run`, with no restriction): `segment`
/// is a name as typed (resolved case-insensitively), `predicate` an SQL predicate over the value
/// table.
pub fn scope_prepared(
    prepared: &Prepared,
    segment: Option<&str>,
    predicate: Option<&str>,
    with_table: bool,
    ctx: &Ctx,
) -> Result<Scope> {
    let scoring = ScoringArgs {
        window: None,
        bins: None,
        thresholds: None,
    };
    let options = commands::value_options(&scoring, prepared)?;
    let segment = segment
        .map(|s| filter::resolve_segment(s, &options.segments))
        .transpose()?;
    let segment = segment.as_deref();
    let restricted = segment.is_some() || predicate.is_some();
    let d = &prepared.data;
    let mut orders = d.orders.clone();
    let mut table_in_scope = None;
    if with_table || restricted {
        // Built in buckets of customers like `custseg score` (the same table): one plan over
        // all lines took 2.6 times as long at 10M lines.
        let buckets = commands::customer_buckets(&d.orders)?;
        let table = commands::value_table_plan(
            d,
            &options,
            crate::metrics::DayRule::Zone,
            buckets.as_ref(),
            ctx.explain,
        )?;
        let table = commands::collect(table, ctx, "value table")?.lazy();
        let selected = filter::selected(table.clone(), segment, predicate)?;
        // The value table is in memory: what fails now is the predicate (e.g. a type mismatch).
        let selected = commands::collect(selected, ctx, "customers in scope").map_err(|e| {
            match predicate {
                Some(p) => Error::usage(format!("--where \"{p}\": {}", e.message)).hint(
                    "write an SQL predicate over the value-table columns, e.g. \"monetary > 5000 AND recency_days <= 90\"",
                ),
                None => e,
            }
        })?;
        orders = filter::restrict(orders, table, segment, predicate)?;
        table_in_scope = Some(selected.lazy());
    }
    // The lines stay a plan (a scan of orders.parquet, filtered): each section reads only the
    // columns it needs, so no section holds every column of every line.
    let lines = filter::period_lines(orders, &options.period);
    let count = commands::collect(
        lines
            .clone()
            .select([polars::prelude::len().alias("__lines")]),
        ctx,
        "order lines",
    )?;
    let n_lines = count
        .column("__lines")?
        .as_materialized_series()
        .cast(&polars::prelude::DataType::UInt64)?
        .u64()?
        .get(0)
        .unwrap_or(0);
    let who = filter::describe(segment, predicate);
    if n_lines == 0 && !ctx.quiet {
        eprintln!(
            "custseg: warning: no order lines for {who} on or before {}",
            prepared.as_of
        );
    }
    Ok(Scope {
        lines,
        table: table_in_scope,
        as_of: prepared.as_of,
        who,
        scratch: d.scratch.clone(),
    })
}

/// The collect the section builders of [`crate::analysis`] run their plans with: the command's
/// (the plan on stderr under `--explain`).
pub fn collector(ctx: &Ctx) -> impl Fn(LazyFrame, &str) -> Result<DataFrame> + '_ {
    move |plan, what| commands::collect(plan, ctx, what)
}

/// The output format the report will be written in.
pub fn output_format(ctx: &Ctx) -> Result<OutputFormat> {
    Ok(Destination::resolve(ctx.format, ctx.output.as_deref())?.format)
}

/// Writes `report` through the one renderer, to stdout or `-o`.
pub fn emit(report: &Report, ctx: &Ctx) -> Result<()> {
    let dest = Destination::resolve(ctx.format, ctx.output.as_deref())?;
    render::render(report, &dest, ctx.quiet)
}
