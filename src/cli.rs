//! The clap command line: global flags every command honours, and the subcommand enum. Each
//! subcommand's own flags live in its module under `commands/`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::commands;
use crate::io::write::OutputFormat;

const EXIT_CODES: &str = "\
Exit status:
  0  success (also when the reader of stdout closes the pipe early)
  1  runtime or data failure
  2  usage, config or unusable-input error
  3  finished, but a check you asked for failed (e.g. --max-reject-rate)";

/// Customer value analysis from flat files.
///
/// custseg turns raw customer exports (CSV, TSV, NDJSON, Parquet) from many channels into clean
/// canonical tables, and from those into RFM scores, lifecycle stages, value tiers, CLV and VIP
/// reports. Data goes to stdout (or -o FILE); progress, summaries and warnings go to stderr.
#[derive(Debug, Parser)]
#[command(name = "custseg", version, propagate_version = true, after_help = EXIT_CODES)]
pub struct Cli {
    /// Flags every command honours.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every command honours.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// No progress and no summary on stderr (errors are still printed).
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Reference date (YYYY-MM-DD or "today"): timestamps after it are out of range, and
    /// recency is measured from it.
    #[arg(long, global = true, value_name = "DATE")]
    pub as_of: Option<String>,
    /// Write the result here instead of stdout; the extension picks the format.
    #[arg(short, long, global = true, value_name = "PATH")]
    pub output: Option<PathBuf>,
    /// Output format (default: from -o's extension, else a table on a terminal, else CSV).
    #[arg(long, global = true, value_enum)]
    pub format: Option<OutputFormat>,
    /// Print the query plans to stderr before running them.
    #[arg(short = 'v', long = "explain", global = true)]
    pub explain: bool,
    /// Replace e-mail, phone, name and external ids (and customer ids built from them) by keyed
    /// pseudonyms like em_3f9a2b7c1d4e5f60 in every output. The key comes from the
    /// CUSTSEG_PSEUDONYM_KEY environment variable or [privacy] key_file, never from the command
    /// line. docs/privacy.md.
    #[arg(long, global = true)]
    pub pseudonymize: bool,
    /// Mask these fields in every output (comma-separated: email, phone, name, external_id),
    /// e.g. phone 138****5678, e-mail u***@qq.com, name Z** S**.
    #[arg(long, global = true, value_name = "FIELDS", value_delimiter = ',')]
    pub redact: Vec<String>,
    /// Show e-mail and phone unmasked in reports and in table, markdown and html output (they
    /// are masked there by default).
    #[arg(long, global = true)]
    pub show_pii: bool,
}

/// custseg's commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// The whole weekly job: ingest, value table with CLV, every report, into one directory.
    Run(commands::run::Args),
    /// Unify and clean multi-channel exports into canonical tables, accounting for every row.
    Ingest(commands::ingest::Args),
    /// Recency, frequency, monetary value, RFM scores and named segments per customer.
    Rfm(commands::rfm::Args),
    /// Lifecycle stage of every known customer: prospect, new, active, at_risk, churned, reactivated.
    Lifecycle(commands::lifecycle::Args),
    /// The full per-customer value table: RFM, tier, lifecycle and behaviour in one row.
    Score(commands::score::Args),
    /// Customers matching an SQL predicate or named rules; group summaries with --by.
    Segment(commands::segment::Args),
    /// Reports: segment summary, VIP list with alerts, segment migration (table, Markdown, HTML ...).
    Report(commands::report::Args),
    /// Behaviour analyses: time, categories, amounts, channels, basket, cohorts, campaign, next-purchase.
    Analyze(commands::analyze::Args),
    /// Probabilistic customer lifetime value: BG/NBD, MBG/NBD, Pareto/NBD and Gamma-Gamma.
    Clv(commands::clv::Args),
    /// Erase one customer from an ingest directory and record it in the audit log.
    Forget(commands::forget::Args),
    /// Generated SQL computing rfm, the BTYD summary and histogram, or the CLV join inside DuckDB or Spark.
    Sql(commands::sql::Args),
}
