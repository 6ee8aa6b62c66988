//! One module per subcommand: its clap `Args`, examples in the help, and `run`, which resolves
//! the arguments into library calls. No polars expressions here.

use std::path::PathBuf;

use chrono::NaiveDate;

use crate::config::Analysis;
use crate::error::{Error, Result};
use crate::io::input::{self, Dataset};
use crate::io::write::OutputFormat;
use crate::metrics::rfm::{default_segments, Scoring, SegmentRule, Thresholds};
use crate::metrics::score::{self as value, CustomerBuckets, ValueOptions};
use crate::metrics::{DayRule, Period};
use polars::prelude::LazyFrame;

pub mod analyze;
pub mod clv;
pub mod forget;
pub mod ingest;
pub mod lifecycle;
pub mod report;
pub mod rfm;
pub mod run;
pub mod score;
pub mod segment;
pub mod sql;

/// The input every analysis command takes.
#[derive(Debug, Clone, clap::Args)]
pub struct InputArgs {
    /// The --out directory of `custseg ingest`, or an orders file with canonical columns
    /// (CSV/TSV/NDJSON/Parquet; "-" reads CSV from stdin).
    #[arg(value_name = "INPUT")]
    pub input: PathBuf,
    /// Time zone of naive timestamps in a raw orders file (an ingest directory knows its own).
    #[arg(long, value_name = "ZONE")]
    pub timezone: Option<String>,
    /// A custseg.toml whose [rfm], [lifecycle], [tiers], [behaviour] and [[segments]] apply.
    #[arg(short, long, value_name = "PATH")]
    pub config: Option<PathBuf>,
}

/// The scoring flags shared by `rfm`, `score` and `segment`.
#[derive(Debug, Clone, clap::Args)]
pub struct ScoringArgs {
    /// Look-back window ending at the as-of date: "365d", "52w" or a number of days.
    #[arg(long, value_name = "SPAN")]
    pub window: Option<String>,
    /// Number of score levels for r_score, f_score and m_score.
    #[arg(long, value_name = "N")]
    pub bins: Option<u32>,
    /// TOML file with fixed cut points: recency_days = [...], frequency = [...], monetary = [...]
    /// (bins − 1 ascending values each) instead of rank-based scores.
    #[arg(long, value_name = "FILE")]
    pub thresholds: Option<PathBuf>,
}

/// An analysis input, loaded, with its settings and as-of date resolved.
pub struct Prepared {
    /// The canonical tables.
    pub data: Dataset,
    /// Config sections (defaults when no --config).
    pub analysis: Analysis,
    /// The as-of date: --as-of, else the day after the latest order.
    pub as_of: NaiveDate,
}

/// Loads the input and resolves the as-of date.
pub fn prepare(args: &InputArgs, ctx: &Ctx) -> Result<Prepared> {
    let analysis = match &args.config {
        Some(p) => {
            configure_privacy(Some(p), ctx)?;
            Analysis::load(p)?
        }
        None => Analysis::default(),
    };
    crate::io::write::register_input(&args.input);
    if let Some(p) = &args.config {
        crate::io::write::register_input(p);
    }
    let tz_name = args.timezone.clone().or_else(|| analysis.timezone.clone());
    let tz: chrono_tz::Tz = match &tz_name {
        Some(t) => t.parse().map_err(|_| {
            Error::usage(format!("--timezone \"{t}\" is not an IANA time zone"))
                .hint("use a name like \"Asia/Shanghai\" or \"UTC\"")
        })?,
        None => chrono_tz::UTC,
    };
    // Raw files are cleaned with today (or a later as-of date) as the future limit; lines after an
    // earlier as-of date are not bad data, the metrics leave them out.
    let today = AsOf::Today.resolve(tz);
    let limit = ctx.as_of.map_or(today, |a| a.resolve(tz).max(today));
    let data = input::load(&args.input, tz_name.as_deref(), limit)?;
    if data.rejected > 0 && !ctx.quiet {
        eprintln!(
            "custseg: warning: {} input rows were rejected by the cleaning rules (run custseg ingest to see them)",
            data.rejected
        );
    }
    let as_of = match ctx.as_of {
        Some(a) => a.resolve(data.timezone),
        None => crate::metrics::latest_order_date(data.orders.clone())?
            .map(|d| d.succ_opt().unwrap_or(d))
            .ok_or_else(|| Error::input(format!("{}: no orders", args.input.display())))?,
    };
    Ok(Prepared {
        data,
        analysis,
        as_of,
    })
}

/// Parses a span like "365d", "52w" or "90" (days).
pub fn parse_days(text: &str, flag: &str) -> Result<i64> {
    let t = text.trim();
    let (num, mult) = if let Some(n) = t.strip_suffix('d') {
        (n, 1)
    } else if let Some(n) = t.strip_suffix('w') {
        (n, 7)
    } else {
        (t, 1)
    };
    match num.trim().parse::<i64>() {
        Ok(n) if n > 0 => Ok(n * mult),
        _ => Err(
            Error::usage(format!("{flag} \"{text}\" is not a span of days"))
                .hint("use e.g. 365d, 52w or 90"),
        ),
    }
}

/// Resolves the scoring flags (and config) into the value-table options.
pub fn value_options(scoring: &ScoringArgs, prepared: &Prepared) -> Result<ValueOptions> {
    let a = &prepared.analysis;
    let bins = scoring.bins.or(a.rfm.bins).unwrap_or(5);
    if !(2..=10).contains(&bins) {
        return Err(Error::usage(format!(
            "--bins {bins} must be between 2 and 10"
        )));
    }
    let window = match scoring.window.as_deref().or(a.rfm.window.as_deref()) {
        Some(w) => Some(parse_days(w, "--window")?),
        None => None,
    };
    let scoring = match &scoring.thresholds {
        None => Scoring::Ranks { bins },
        Some(path) => {
            crate::io::write::register_input(path);
            let text = std::fs::read_to_string(path).map_err(|e| {
                Error::usage(format!("cannot read --thresholds {}: {e}", path.display()))
            })?;
            let cuts: Thresholds = toml::from_str(&text).map_err(|e| {
                Error::config(format!(
                    "{}: {}",
                    path.display(),
                    e.message().replace('\n', " ")
                ))
                .hint("expected recency_days = [...], frequency = [...], monetary = [...]")
            })?;
            let n = cuts.recency_days.len();
            for (name, v) in [
                ("recency_days", &cuts.recency_days),
                ("frequency", &cuts.frequency),
                ("monetary", &cuts.monetary),
            ] {
                if v.len() != n
                    || v.windows(2).any(|w| w[0] >= w[1])
                    || v.iter().any(|x| !x.is_finite())
                {
                    return Err(Error::config(format!(
                        "{}: {name} must list {n} strictly ascending numbers like the others",
                        path.display()
                    )));
                }
            }
            if !(1..=9).contains(&n) {
                return Err(Error::config(format!(
                    "{}: give 1 to 9 cut points per metric",
                    path.display()
                )));
            }
            Scoring::Thresholds {
                bins: u32::try_from(n + 1).unwrap_or(5),
                cuts,
            }
        }
    };
    let segments: Vec<SegmentRule> = if a.segments.is_empty() {
        default_segments()
    } else {
        a.segments.clone()
    };
    Ok(ValueOptions {
        period: Period {
            as_of: prepared.as_of,
            window_days: window,
        },
        scoring,
        segments,
        tiers: a.tiers,
        lifecycle: a.lifecycle,
        behaviour: a.behaviour,
    })
}

/// What every command gets: the resolved global flags.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// No progress and no summaries on stderr.
    pub quiet: bool,
    /// `--as-of` as typed, parsed.
    pub as_of: Option<AsOf>,
    /// `-o`.
    pub output: Option<PathBuf>,
    /// `--format`.
    pub format: Option<OutputFormat>,
    /// `--explain`: print plans to stderr.
    pub explain: bool,
    /// `--pseudonymize`, `--redact`, `--show-pii`.
    pub privacy: crate::privacy::PrivacyFlags,
}

/// Installs the privacy policy from the flags and, when given, the `[privacy]` section of the
/// config at `config`. Without a config, `--pseudonymize` without a key is not an error yet (the
/// command may read a config naming a key file); writing anything before a key is found is.
pub fn configure_privacy(config: Option<&std::path::Path>, ctx: &Ctx) -> Result<()> {
    let file = match config {
        Some(p) => crate::config::load_privacy(p)?,
        None => None,
    };
    let base = config
        .and_then(std::path::Path::parent)
        .map_or_else(PathBuf::new, std::path::Path::to_path_buf);
    match crate::privacy::resolve(&ctx.privacy, file.as_ref(), &base) {
        Ok(policy) => crate::privacy::install(policy),
        Err(e)
            if config.is_none()
                && e.kind == crate::error::ErrorKind::Usage
                && ctx.privacy.pseudonymize =>
        {
            let flags = crate::privacy::PrivacyFlags {
                pseudonymize: false,
                ..ctx.privacy.clone()
            };
            let mut policy = crate::privacy::resolve(&flags, None, &base)?;
            policy.missing_key = true;
            crate::privacy::install(policy);
        }
        Err(e) => return Err(e),
    }
    Ok(())
}

/// A reference date as given on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AsOf {
    /// `today`: the current date in the configured time zone.
    Today,
    /// An explicit date.
    Date(NaiveDate),
}

impl AsOf {
    /// Parses `YYYY-MM-DD` or `today`.
    pub fn parse(text: &str) -> Result<Self> {
        if text.eq_ignore_ascii_case("today") {
            return Ok(Self::Today);
        }
        NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
            .map(Self::Date)
            .map_err(|_| {
                Error::usage(format!("--as-of \"{text}\" is not a date"))
                    .hint("use YYYY-MM-DD, e.g. --as-of 2024-12-31, or --as-of today")
            })
    }

    /// The date, taking `today` in `tz`.
    pub fn resolve(self, tz: chrono_tz::Tz) -> NaiveDate {
        match self {
            Self::Date(d) => d,
            Self::Today => chrono::Utc::now().with_timezone(&tz).date_naive(),
        }
    }
}

/// How a command finished when it did not fail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// Everything fine (exit 0).
    Success,
    /// Ran to completion, but a check the user asked for failed (exit 3); the message says which.
    CheckFailed(String),
}

/// Prints the plan when `--explain` is on, then collects it.
pub fn collect(
    plan: polars::prelude::LazyFrame,
    ctx: &Ctx,
    what: &str,
) -> Result<polars::prelude::DataFrame> {
    if ctx.explain {
        eprintln!("custseg: plan for {what}:\n{}", plan.explain(true)?);
    }
    let started = std::time::Instant::now();
    // The in-memory engine, on purpose: polars' streaming engine took less time and far less
    // memory on the analyses (`analyze categories` at 10M lines: 22.5 s and 2.2 GiB against
    // 25.4–27.2 s and 3.2–3.4 GiB), but it adds up floats in the order its batches arrive, and a
    // VIP alert's weekly average then came out 2498.35 in one run and 2498.36 in another: the
    // same input must give the same bytes.
    let df = plan.collect()?;
    if crate::progress::timings_enabled() {
        let took = started.elapsed().as_secs_f64();
        eprintln!("custseg: timing: {what}: {took:.2} s");
    }
    Ok(df)
}

/// Environment variable: order lines per bucket of the value table (`score`, `run`, reports);
/// 0 builds it as one plan over all lines. For tests and measurements; not a documented knob.
pub const BUCKET_LINES_VAR: &str = "CUSTSEG_SCORE_BUCKET_LINES";

/// The buckets of customers the value table is built in ([`value::bucket_values`]), sized by
/// [`BUCKET_LINES_VAR`] (see [`crate::metrics::customer_buckets`]).
pub fn customer_buckets(orders: &LazyFrame) -> Result<Option<CustomerBuckets>> {
    crate::metrics::customer_buckets(orders, BUCKET_LINES_VAR)
}

/// The value table plan of `data`: with `buckets`, the per-customer part is collected bucket by
/// bucket here ([`value::bucket_values`]) and the plan reads the collected tables; else one plan.
/// `explain` prints the plan of each bucket.
pub fn value_table_plan(
    data: &Dataset,
    options: &ValueOptions,
    days: DayRule,
    buckets: Option<&CustomerBuckets>,
    explain: bool,
) -> Result<LazyFrame> {
    let (orders, customers, events) = (
        data.orders.clone(),
        data.customers.clone(),
        data.events.clone(),
    );
    let Some(buckets) = buckets else {
        return Ok(value::value_table_by(
            orders, customers, events, options, days,
        ));
    };
    let mut parts = Vec::with_capacity(buckets.len());
    for bucket in 0..buckets.len() {
        let plan = value::bucket_values(orders.clone(), options, days, buckets, bucket);
        if explain {
            eprintln!(
                "custseg: plan for the value table, bucket {} of {}:\n{}",
                bucket + 1,
                buckets.len(),
                plan.explain(true)?
            );
        }
        parts.push(plan.collect()?);
    }
    value::value_table_of_buckets(parts, customers, events, options, buckets)
}

/// Writes the command's one data table to stdout or `-o`, in the resolved format.
pub fn emit(df: &mut polars::prelude::DataFrame, ctx: &Ctx) -> Result<()> {
    let dest = crate::io::write::Destination::resolve(ctx.format, ctx.output.as_deref())?;
    crate::io::write::write_frame(df, &dest, ctx.quiet)
}

/// "name n, name n, ..." counts of a string column, largest first, for stderr summaries.
pub fn counts_line(df: &polars::prelude::DataFrame, column: &str) -> Result<String> {
    use polars::prelude::*;
    let counts = df
        .clone()
        .lazy()
        .group_by([col(column)])
        .agg([len().alias("n")])
        .sort(
            ["n", column],
            SortMultipleOptions::default().with_order_descending_multi([true, false]),
        )
        .collect()?;
    let names = counts.column(column)?.cast(&DataType::String)?;
    let names = names.str()?;
    let ns = counts.column("n")?.cast(&DataType::UInt64)?;
    let ns = ns.u64()?;
    Ok(names
        .iter()
        .zip(ns.iter())
        .map(|(n, c)| format!("{} {}", n.unwrap_or("(none)"), c.unwrap_or(0)))
        .collect::<Vec<_>>()
        .join(", "))
}
