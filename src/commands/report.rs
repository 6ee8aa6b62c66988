//! `custseg report`: the reports people read — segment summary, the VIP list with alerts, and
//! segment migration — as a terminal table, Markdown, CSV/JSON/Parquet or a self-contained HTML
//! page (by `-o` extension or `--format`).
//!
//! ```text
//! custseg report segments out/shop --by tier
//! custseg report vip out/shop --period week --top 20 -o vip.html
//! custseg report migration out/shop --from 2024-10-01 --to 2025-01-01 --by segment
//! ```

use chrono::NaiveDate;
use polars::prelude::{IntoLazy, LazyFrame};

use crate::commands::{self, AsOf, Ctx, InputArgs, Prepared, ScoringArgs, Status};
use crate::error::{Error, Result};
use crate::io::input;
use crate::io::write::Destination;
use crate::metrics::rfm::{FREQUENCY, MONETARY, RECENCY_DAYS};
use crate::metrics::DayRule;
use crate::report::render;
use crate::report::vip::{self, RankBy, VipOptions};
use crate::report::{migration, segments, Report};

const EXAMPLES: &str = "\
Examples:
  custseg report segments out/shop --by tier
  custseg report segments value.parquet --by lifecycle_stage --format markdown
  custseg report vip out/shop --period week --top 20 -o vip.html
  custseg report vip out/shop --tier high --drop 50% --fail-on-alerts -o vip.json
  custseg report migration out/shop --from 2024-10-01 --to 2025-01-01 --by segment

Formats: a table per section on a terminal; -o FILE.md / .html / .json for one document; -o
FILE.csv / .parquet writes one file per section (FILE.<section>.csv). docs/reports.md.";

/// Segment summary, VIP report with alerts, segment migration.
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES)]
pub struct Args {
    /// Which report.
    #[command(subcommand)]
    pub which: Which,
}

/// The reports.
#[derive(Debug, clap::Subcommand)]
pub enum Which {
    /// Per group: customers, revenue, their shares, mean R/F/M (and CLV); the RFM grid.
    Segments(SegmentsArgs),
    /// The VIP list with key data and alerts on declining, overdue, new and lost VIPs.
    Vip(VipArgs),
    /// Transition matrix of customers between groups at two dates.
    Migration(MigrationArgs),
}

/// `report segments`.
#[derive(Debug, clap::Args)]
pub struct SegmentsArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub scoring: ScoringArgs,
    /// Group by this value-table column (segment, tier, lifecycle_stage, city ...).
    #[arg(long, default_value = "segment", value_name = "COLUMN")]
    pub by: String,
}

/// Period lengths.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum PeriodArg {
    /// 7 days.
    Week,
    /// 30 days.
    Month,
    /// 91 days.
    Quarter,
}

impl PeriodArg {
    fn days(self) -> i64 {
        match self {
            PeriodArg::Week => 7,
            PeriodArg::Month => 30,
            PeriodArg::Quarter => 91,
        }
    }
    fn name(self) -> &'static str {
        match self {
            PeriodArg::Week => "week",
            PeriodArg::Month => "month",
            PeriodArg::Quarter => "quarter",
        }
    }
}

/// Ranking columns.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum RankArg {
    /// Customer lifetime value (needs CLV columns in the value table).
    Clv,
    /// Net spend.
    Monetary,
    /// The tier value score.
    ValueScore,
}

/// `report vip`.
#[derive(Debug, clap::Args)]
pub struct VipArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub scoring: ScoringArgs,
    /// Length of a period for drops, new/lost VIPs and the trend.
    #[arg(long, value_enum, default_value = "week")]
    pub period: PeriodArg,
    /// Keep the N most valuable customers (default 20 unless --tier high).
    #[arg(long, value_name = "N")]
    pub top: Option<usize>,
    /// Keep the customers of this tier (only "high").
    #[arg(long, value_name = "TIER")]
    pub tier: Option<String>,
    /// Rank VIPs by this column.
    #[arg(long, value_enum, default_value = "monetary")]
    pub rank_by: RankArg,
    /// Alert when orders or spend fell by more than this (e.g. 50% or 0.5).
    #[arg(long, default_value = "50%", value_name = "SHARE")]
    pub drop: String,
    /// Previous periods averaged for drop alerts.
    #[arg(long, default_value_t = 4, value_name = "N")]
    pub lookback: u32,
    /// Overdue when days since the last purchase exceed this multiple of the median gap.
    #[arg(long, default_value_t = 2.0, value_name = "FACTOR")]
    pub overdue: f64,
    /// Alert when P(alive) is below this (when the value table has p_alive).
    #[arg(long, default_value_t = 0.5, value_name = "P")]
    pub min_p_alive: f64,
    /// Exit 3 (after writing the report) when there is any alert.
    #[arg(long)]
    pub fail_on_alerts: bool,
}

/// `report migration`.
#[derive(Debug, clap::Args)]
pub struct MigrationArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub scoring: ScoringArgs,
    /// The earlier as-of date.
    #[arg(long, value_name = "DATE")]
    pub from: String,
    /// The later as-of date.
    #[arg(long, value_name = "DATE")]
    pub to: String,
    /// Group by segment, tier or lifecycle_stage.
    #[arg(long, default_value = "segment", value_name = "COLUMN")]
    pub by: String,
}

/// Runs `custseg report`.
pub fn run(args: Args, ctx: &Ctx) -> Result<Status> {
    match args.which {
        Which::Segments(a) => run_segments(a, ctx),
        Which::Vip(a) => run_vip(a, ctx),
        Which::Migration(a) => run_migration(a, ctx),
    }
}

fn emit(report: &Report, ctx: &Ctx) -> Result<()> {
    let dest = Destination::resolve(ctx.format, ctx.output.as_deref())?;
    render::render(report, &dest, ctx.quiet)
}

/// The value table at `as_of` (full scoring options from the flags and config).
pub fn value_table_at(
    prepared: &Prepared,
    scoring: &ScoringArgs,
    as_of: NaiveDate,
) -> Result<LazyFrame> {
    let mut options = commands::value_options(scoring, prepared)?;
    options.period.as_of = as_of;
    let buckets = commands::customer_buckets(&prepared.data.orders)?;
    commands::value_table_plan(
        &prepared.data,
        &options,
        DayRule::Zone,
        buckets.as_ref(),
        false,
    )
}

fn run_segments(args: SegmentsArgs, ctx: &Ctx) -> Result<Status> {
    if let Some(config) = &args.input.config {
        commands::configure_privacy(Some(config), ctx)?;
    }
    crate::io::write::register_input(&args.input.input);
    // Holds the order lines' scratch files (a raw input file) until the table is collected.
    let mut _orders_held = None;
    let (table, subtitle) = match input::load_value_table(&args.input.input)? {
        Some(mut t) => {
            input::require_columns(
                &mut t,
                &[MONETARY, RECENCY_DAYS, FREQUENCY],
                "report segments",
                &args.input.input,
            )?;
            (t, format!("value table {}", args.input.input.display()))
        }
        None => {
            let prepared = commands::prepare(&args.input, ctx)?;
            let as_of = prepared.as_of;
            let table = value_table_at(&prepared, &args.scoring, as_of)?;
            _orders_held = prepared.data.scratch;
            (table, format!("as of {as_of}"))
        }
    };
    let table = commands::collect(table, ctx, "value table")?;
    if table.column(&args.by).is_err() {
        return Err(Error::usage(format!(
            "--by: no column \"{}\" in the value table",
            args.by
        ))
        .hint("use segment, tier, lifecycle_stage or another value-table column"));
    }
    let mut sections = vec![segments::section(table.clone().lazy(), &args.by)?];
    if table.column("r_score").is_ok() && table.column("f_score").is_ok() {
        sections.push(segments::rfm_grid(table.lazy())?);
    }
    emit(
        &Report {
            title: "Segment summary".to_string(),
            subtitle,
            sections,
        },
        ctx,
    )?;
    Ok(Status::Success)
}

/// Parses "50%" or "0.5" into a fraction in (0, 1].
pub fn parse_share(text: &str, flag: &str) -> Result<f64> {
    let t = text.trim();
    let v = match t.strip_suffix('%') {
        Some(p) => p.trim().parse::<f64>().map(|v| v / 100.0),
        None => t.parse::<f64>(),
    };
    match v {
        Ok(v) if v > 0.0 && v <= 1.0 => Ok(v),
        _ => Err(Error::usage(format!(
            "{flag} \"{text}\" must be a share like 50% or 0.5"
        ))),
    }
}

/// The VIP report sections (list, alerts, trend) for a prepared input.
pub fn vip_report(
    prepared: &Prepared,
    scoring: &ScoringArgs,
    options: &VipOptions,
    ctx: &Ctx,
) -> Result<(Report, usize)> {
    let as_of = prepared.as_of;
    let previous_end = as_of - chrono::Duration::days(options.period_days);
    let mut table_now = value_table_at(prepared, scoring, as_of)?;
    if options.rank_by == RankBy::Clv && table_now.collect_schema()?.get("clv").is_none() {
        return Err(
            Error::usage("--rank-by clv needs CLV columns in the value table")
                .hint("use --rank-by monetary or value_score, or custseg run, which adds CLV"),
        );
    }
    let now = commands::collect(vip::select(table_now, options), ctx, "vip")?;
    let before = commands::collect(
        vip::select(value_table_at(prepared, scoring, previous_end)?, options),
        ctx,
        "previous vip",
    )?;
    let activity = vip::period_activity(prepared.data.orders.clone(), as_of, options);
    let alerts = vip::alerts_section(&now, &before, activity, options, previous_end)?;
    let n_alerts = alerts.table.height();
    let trend = vip::trend_section(prepared.data.orders.clone(), &now, as_of, options, 12)?;
    let report = Report {
        title: format!("VIP report, {} ending {as_of}", options.period_name),
        subtitle: format!(
            "{} VIPs, {n_alerts} alerts; previous {} ended {previous_end}",
            now.height(),
            options.period_name
        ),
        sections: vec![vip::list_section(&now, options)?, alerts, trend],
    };
    Ok((report, n_alerts))
}

/// Resolves the VIP flags.
pub fn vip_options(args: &VipArgs) -> Result<VipOptions> {
    let tier_high = match args.tier.as_deref() {
        None => false,
        Some("high") => true,
        Some(t) => {
            return Err(Error::usage(format!(
                "--tier \"{t}\": only \"high\" is supported"
            )))
        }
    };
    if args.top == Some(0) {
        return Err(Error::usage("--top must be at least 1"));
    }
    if args.lookback == 0 {
        return Err(Error::usage("--lookback must be at least 1"));
    }
    if !(args.overdue.is_finite() && args.overdue > 0.0) {
        return Err(Error::usage("--overdue must be a positive factor, e.g. 2"));
    }
    Ok(VipOptions {
        period_days: args.period.days(),
        period_name: args.period.name().to_string(),
        top: if tier_high {
            args.top
        } else {
            Some(args.top.unwrap_or(20))
        },
        tier_high,
        rank_by: match args.rank_by {
            RankArg::Clv => RankBy::Clv,
            RankArg::Monetary => RankBy::Monetary,
            RankArg::ValueScore => RankBy::ValueScore,
        },
        drop: parse_share(&args.drop, "--drop")?,
        lookback: args.lookback,
        overdue_factor: args.overdue,
        min_p_alive: args.min_p_alive,
    })
}

fn run_vip(args: VipArgs, ctx: &Ctx) -> Result<Status> {
    let options = vip_options(&args)?;
    if input::load_value_table(&args.input.input)?.is_some() {
        return Err(Error::usage(
            "report vip needs order lines (for periods and alerts), not a per-customer table",
        )
        .hint("pass the ingest --out directory or an orders file"));
    }
    let prepared = commands::prepare(&args.input, ctx)?;
    let (report, n_alerts) = vip_report(&prepared, &args.scoring, &options, ctx)?;
    emit(&report, ctx)?;
    if args.fail_on_alerts && n_alerts > 0 {
        return Ok(Status::CheckFailed(format!("{n_alerts} VIP alerts")));
    }
    Ok(Status::Success)
}

fn run_migration(args: MigrationArgs, ctx: &Ctx) -> Result<Status> {
    let from = match AsOf::parse(&args.from)? {
        AsOf::Date(d) => d,
        AsOf::Today => return Err(Error::usage("--from must be a date")),
    };
    let to = match AsOf::parse(&args.to)? {
        AsOf::Date(d) => d,
        AsOf::Today => chrono::Utc::now().date_naive(),
    };
    if from >= to {
        return Err(Error::usage(format!(
            "--from {from} must be before --to {to}"
        )));
    }
    let prepared = commands::prepare(&args.input, ctx)?;
    let before = value_table_at(&prepared, &args.scoring, from)?;
    let after = value_table_at(&prepared, &args.scoring, to)?;
    let mut probe = after.clone();
    if probe.collect_schema()?.get(args.by.as_str()).is_none() {
        return Err(Error::usage(format!(
            "--by: no column \"{}\" in the value table",
            args.by
        ))
        .hint("use segment, tier or lifecycle_stage"));
    }
    let section = migration::section(before, after, &args.by, from, to)?;
    emit(
        &Report {
            title: format!("Segment migration by {}", args.by),
            subtitle: format!("from {from} to {to}"),
            sections: vec![section],
        },
        ctx,
    )?;
    Ok(Status::Success)
}
