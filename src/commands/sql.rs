//! `custseg sql`: prints one SQL query that computes a custseg table inside DuckDB or Spark,
//! with the definitions of the local command (`rfm`, or `clv`'s customer summary, its histogram
//! and the join of predictions back onto customers). The generator is `crate::sql`.
//!
//! ```text
//! custseg sql rfm --dialect spark --orders lake.orders --timezone Asia/Shanghai --as-of 2025-01-01
//! custseg sql btyd-histogram --dialect duckdb --orders "read_parquet('out/orders.parquet')" -o h.sql
//! custseg sql clv-join --dialect spark --orders lake.orders --triples lake.triples --calibration-end 2024-12-31
//! ```

use std::io::Write;
use std::path::PathBuf;

use chrono::NaiveDate;
use polars::prelude::{DataFrame, IntoLazy};

use crate::commands::clv::{ModelArg, TimeUnitArg};
use crate::commands::{self, Ctx, ScoringArgs, Status};
use crate::config::Analysis;
use crate::error::{io_error, Error, Result};
use crate::io::input::Dataset;
use crate::io::write;
use crate::models::prep::TimeUnit;
use crate::sql::btyd::{self, BtydJob, ClvJoin};
use crate::sql::rfm::{self, RfmJob};
use crate::sql::{Dialect, OrderColumns, Source};

const EXAMPLES: &str = "\
Examples:
  # RFM inside Spark, as `custseg rfm` computes it (run with spark-sql -f, or spark.sql(...))
  custseg sql rfm --dialect spark --orders lake.orders --timezone Asia/Shanghai --as-of 2025-01-01

  # The (x, t_x, T) histogram in DuckDB over an ingest directory's orders.parquet
  custseg sql btyd-histogram --dialect duckdb --orders \"read_parquet('out/orders.parquet')\" \\
      --timezone Asia/Shanghai --calibration-end 2024-12-31 -o histogram.sql

  # A warehouse table with other column names
  custseg sql btyd-summary --dialect spark --orders sales.lines \\
      --columns customer_id=cust_no,ordered_at=created_ts,amount=net_amount

  # Predictions per distinct row (custseg clv --params P --from-histogram H -o triples.parquet),
  # loaded as lake.triples, joined back onto every customer
  custseg sql clv-join --dialect spark --orders lake.orders --triples lake.triples \\
      --calibration-end 2024-12-31

Jobs and their output columns (docs/scale.md has the formats and the Spark workflow):
  rfm             the columns of `custseg rfm` (--window, --bins, --thresholds, --config as there;
                  as-of: --as-of, else the day after the latest local order date)
  btyd-summary    customer_id, x, t_x, T, mean_repeat_spend, as `custseg clv` prepares them
                  (--calibration-end, else --as-of, else the latest purchase day; --time-unit)
  btyd-histogram  part, x, t_x, T, mean_repeat_spend, customers: the input of
                  `custseg clv --from-histogram`
  clv-join        customer_id, x, t_x, T, mean_repeat_spend, expected_purchases, p_alive,
                  expected_avg_spend, clv [, dert with --model pnbd], from --triples

The orders table needs customer_id, order_id, ordered_at (an instant: DuckDB TIMESTAMPTZ, Spark
TIMESTAMP, as in orders.parquet), amount and is_return; local dates are taken in --timezone.
The query is printed to stdout, or written to -o FILE.";

/// The table to generate SQL for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Job {
    /// The `custseg rfm` table.
    Rfm,
    /// One (x, t_x, T, mean_repeat_spend) row per customer.
    BtydSummary,
    /// Distinct (x, t_x, T) and (x, mean_repeat_spend) with customer counts.
    BtydHistogram,
    /// Predictions per distinct row joined back onto every customer.
    ClvJoin,
}

impl Job {
    fn as_str(self) -> &'static str {
        match self {
            Job::Rfm => "rfm",
            Job::BtydSummary => "btyd-summary",
            Job::BtydHistogram => "btyd-histogram",
            Job::ClvJoin => "clv-join",
        }
    }
}

/// SQL dialects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DialectArg {
    /// Spark SQL 3.1 or later (spark-sql, Databricks, EMR, a notebook's spark.sql).
    Spark,
    /// DuckDB.
    Duckdb,
}

/// Generated SQL computing custseg's tables inside DuckDB or Spark.
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES)]
pub struct Args {
    /// The table to compute: rfm, btyd-summary, btyd-histogram or clv-join.
    #[arg(value_enum, value_name = "JOB")]
    pub job: Job,
    /// SQL dialect of the engine.
    #[arg(long, value_enum)]
    pub dialect: DialectArg,
    /// The engine's orders table (used verbatim: a name, or e.g. read_parquet('...')).
    #[arg(long, value_name = "TABLE")]
    pub orders: String,
    /// Column names of the orders table that differ from the canonical ones:
    /// canonical=name,... (e.g. customer_id=cust_no,ordered_at=created_ts).
    #[arg(long, value_name = "MAP")]
    pub columns: Option<String>,
    /// Time zone of the local calendar dates (the data's zone: the "timezone" of an ingest
    /// directory's summary.json) [default: [settings] timezone of --config, else UTC].
    #[arg(long, value_name = "ZONE")]
    pub timezone: Option<String>,
    /// A custseg.toml whose [settings] timezone, [rfm] and [[segments]] apply (rfm).
    #[arg(short, long, value_name = "PATH")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub scoring: ScoringArgs,
    /// (btyd-*, clv-join) Last day of the calibration period (YYYY-MM-DD, inclusive). Default:
    /// --as-of, else the last purchase day in the data.
    #[arg(long, value_name = "DATE")]
    pub calibration_end: Option<String>,
    /// (btyd-*, clv-join) Unit of t_x and T.
    #[arg(long, value_enum, value_name = "UNIT", default_value = "week")]
    pub time_unit: TimeUnitArg,
    /// (clv-join) The predictions table: `custseg clv --params P --from-histogram H -o F`.
    #[arg(long, value_name = "TABLE")]
    pub triples: Option<String>,
    /// (clv-join) The model of the predictions; pnbd adds the dert column.
    #[arg(long, value_enum, default_value = "bgnbd")]
    pub model: ModelArg,
}

/// Runs `custseg sql`.
pub fn run(args: Args, ctx: &Ctx) -> Result<Status> {
    if ctx.format.is_some() {
        return Err(
            Error::usage("--format does not apply to custseg sql: it writes SQL text")
                .hint("drop --format; -o FILE writes the query to a file"),
        );
    }
    check_job_options(&args)?;
    let analysis = match &args.config {
        Some(p) => Analysis::load(p)?,
        None => Analysis::default(),
    };
    let timezone = args.timezone.clone().or_else(|| analysis.timezone.clone());
    if timezone.is_none() && !ctx.quiet {
        eprintln!("custseg: note: local calendar dates are taken in UTC; pass --timezone ZONE (the data's zone)");
    }
    let source = Source {
        dialect: match args.dialect {
            DialectArg::Spark => Dialect::Spark,
            DialectArg::Duckdb => Dialect::DuckDb,
        },
        orders: args.orders.clone(),
        columns: match &args.columns {
            Some(text) => OrderColumns::parse(text)?,
            None => OrderColumns::default(),
        },
        timezone: timezone.unwrap_or_else(|| "UTC".to_string()),
    };
    source.validate()?;
    let tz: chrono_tz::Tz = source.timezone.parse().unwrap_or(chrono_tz::UTC);
    let as_of = ctx.as_of.map(|a| a.resolve(tz));

    let text = match args.job {
        Job::Rfm => rfm::sql(&source, &rfm_job(&args, analysis, tz, as_of)?),
        Job::BtydSummary => btyd::summary_sql(&source, &btyd_job(&args, as_of)?),
        Job::BtydHistogram => btyd::histogram_sql(&source, &btyd_job(&args, as_of)?),
        Job::ClvJoin => {
            let triples = args.triples.clone().unwrap_or_default();
            if triples.trim().is_empty() {
                return Err(Error::usage("clv-join needs --triples TABLE")
                    .hint("the predictions written by custseg clv --params P --from-histogram H -o triples.parquet, loaded into the engine"));
            }
            btyd::clv_join_sql(
                &source,
                &ClvJoin {
                    btyd: btyd_job(&args, as_of)?,
                    triples,
                    dert: args.model == ModelArg::Pnbd,
                },
            )
        }
    };
    match &ctx.output {
        Some(path) if path.as_os_str() != "-" => write::write_atomic(path, |w| {
            w.write_all(text.as_bytes())
                .map_err(|e| io_error("write", path, e))
        })?,
        _ => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())
                .and_then(|()| out.flush())
                .map_err(|e| {
                    Error::runtime(format!("cannot write to standard output: {e}")).with_source(e)
                })?;
        }
    }
    if !ctx.quiet {
        if let Some(path) = &ctx.output {
            eprintln!(
                "custseg: wrote the {} query for {} to {}",
                args.job.as_str(),
                source.dialect.as_str(),
                path.display()
            );
        }
    }
    Ok(Status::Success)
}

/// Options of one job given to another are refused rather than silently ignored.
fn check_job_options(args: &Args) -> Result<()> {
    let rfm_only = [
        ("--window", args.scoring.window.is_some()),
        ("--bins", args.scoring.bins.is_some()),
        ("--thresholds", args.scoring.thresholds.is_some()),
    ];
    let btyd_only = [("--calibration-end", args.calibration_end.is_some())];
    let join_only = [("--triples", args.triples.is_some())];
    let refused: Vec<&str> = match args.job {
        Job::Rfm => btyd_only.iter().chain(&join_only).copied(),
        Job::BtydSummary | Job::BtydHistogram => rfm_only.iter().chain(&join_only).copied(),
        Job::ClvJoin => rfm_only.iter().chain(&[]).copied(),
    }
    .filter(|(_, given)| *given)
    .map(|(flag, _)| flag)
    .collect();
    match refused.first() {
        None => Ok(()),
        Some(flag) => Err(Error::usage(format!(
            "{flag} does not apply to the {} job",
            args.job.as_str()
        ))
        .hint("rfm takes --window, --bins, --thresholds; btyd-summary, btyd-histogram and clv-join take --calibration-end and --time-unit; clv-join also --triples and --model")),
    }
}

fn rfm_job(
    args: &Args,
    analysis: Analysis,
    tz: chrono_tz::Tz,
    as_of: Option<NaiveDate>,
) -> Result<RfmJob> {
    // The local command's resolution of --window, --bins, --thresholds and the config sections,
    // reused as is: it needs a prepared input, but only reads the settings and the as-of date
    // (taken here from the period only when --as-of is given; the SQL computes the default).
    let prepared = commands::Prepared {
        data: Dataset {
            orders: DataFrame::empty().lazy(),
            customers: None,
            events: None,
            timezone: tz,
            rejected: 0,
            scratch: None,
        },
        analysis,
        as_of: as_of.unwrap_or_default(),
    };
    let options = commands::value_options(&args.scoring, &prepared)?;
    Ok(RfmJob {
        as_of,
        window_days: options.period.window_days,
        scoring: options.scoring,
        segments: options.segments,
    })
}

fn btyd_job(args: &Args, as_of: Option<NaiveDate>) -> Result<BtydJob> {
    let calibration_end = match &args.calibration_end {
        Some(text) => Some(
            NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| {
                Error::usage(format!("--calibration-end \"{text}\" is not a date"))
                    .hint("use YYYY-MM-DD, e.g. --calibration-end 2024-12-31")
            })?,
        ),
        None => as_of,
    };
    Ok(BtydJob {
        calibration_end,
        time_unit: match args.time_unit {
            TimeUnitArg::Day => TimeUnit::Day,
            TimeUnitArg::Week => TimeUnit::Week,
            TimeUnitArg::Month => TimeUnit::Month,
        },
    })
}
