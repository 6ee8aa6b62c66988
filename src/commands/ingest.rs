//! `custseg ingest`: unify and clean multi-channel exports into canonical tables.
//!
//! ```text
//! custseg ingest --config examples/shop/custseg.toml --out out/ --as-of 2025-01-01
//! custseg ingest orders.csv customers.csv --kind orders --out out/
//! cat orders.csv | custseg ingest - --out out/ --max-reject-rate 0.05
//! ```

use std::path::PathBuf;

use comfy_table::{presets, Table};

use crate::clean::pipeline::{self, IngestOptions, Summary};
use crate::commands::{Ctx, Status};
use crate::config::Config;
use crate::error::{io_error, Error, Result};

use crate::progress::Progress;
use crate::schema::Kind;

const EXAMPLES: &str = "\
Examples:
  # All sources of a config into out/ (paths in the config are relative to it)
  custseg ingest --config examples/shop/custseg.toml --out out/ --as-of 2025-01-01

  # Files that already use canonical column names (customer_id, order_id, ordered_at, amount ...)
  custseg ingest orders_2024.csv orders_2025.parquet --out out/

  # CSV on stdin; fail the cron job (exit 3) when more than 5 % of a source is rejected
  zcat export.csv.gz | custseg ingest - --out out/ --max-reject-rate 0.05

Writes into --out: orders.parquet, customers.parquet, events.parquet (for the kinds that have
sources), rejects.csv (source, file, line, reason, message, raw) and summary.json (per source:
read = kept + rejected + duplicates, rejects per reason, identity figures). A summary table goes to
stderr unless --quiet. Every rule is in docs/cleaning.md; every config key in docs/config.md.";

/// Record kinds for files given without a config.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum KindArg {
    /// Order lines.
    Orders,
    /// Customer master data.
    Customers,
    /// Interactions.
    Events,
}

/// Unify and clean multi-channel exports into canonical tables.
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES)]
pub struct Args {
    /// Files with canonical column names, used without --config ("-" reads CSV from stdin).
    #[arg(value_name = "FILE", conflicts_with = "config")]
    pub files: Vec<PathBuf>,
    /// The sources config (TOML); see docs/config.md.
    #[arg(short, long, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Output directory (created if missing); -o is accepted as well.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Kind of the FILEs given without a config.
    #[arg(long, value_enum, default_value = "orders", requires = "files")]
    pub kind: KindArg,
    /// Time zone of naive timestamps for FILEs given without a config.
    #[arg(long, value_name = "ZONE", conflicts_with = "config")]
    pub timezone: Option<String>,
    /// Exit 3 (after writing everything) when a source rejects more than this share of its rows.
    #[arg(long, value_name = "RATE")]
    pub max_reject_rate: Option<f64>,
}

/// Runs `custseg ingest`.
pub fn run(args: Args, ctx: &Ctx) -> Result<Status> {
    let out_dir = match (&args.out, &ctx.output) {
        (Some(d), _) | (None, Some(d)) => d.clone(),
        (None, None) => {
            return Err(Error::usage("ingest needs an output directory")
                .hint("pass --out DIR, e.g. --out out/"))
        }
    };
    if let Some(rate) = args.max_reject_rate {
        if !(0.0..=1.0).contains(&rate) {
            return Err(
                Error::usage(format!("--max-reject-rate {rate} must be between 0 and 1"))
                    .hint("e.g. --max-reject-rate 0.05 for 5 %"),
            );
        }
    }
    let config = match &args.config {
        Some(path) => {
            crate::commands::configure_privacy(Some(path), ctx)?;
            crate::io::write::register_input(path);
            Config::load(path)?
        }
        None => {
            let kind = match args.kind {
                KindArg::Orders => Kind::Orders,
                KindArg::Customers => Kind::Customers,
                KindArg::Events => Kind::Events,
            };
            Config::for_canonical_files(&args.files, kind, args.timezone.as_deref())?
        }
    };
    for file in config.sources.iter().flat_map(|s| &s.files) {
        crate::io::write::register_input(&file.path);
    }
    let as_of = ctx
        .as_of
        .unwrap_or(crate::commands::AsOf::Today)
        .resolve(config.settings.timezone);
    let progress = Progress::new(!ctx.quiet);
    let mut ingested = pipeline::ingest(
        &config,
        &IngestOptions {
            as_of,
            explain: ctx.explain,
        },
        &progress,
    )?;
    progress.stage("writing");
    std::fs::create_dir_all(&out_dir).map_err(|e| io_error("create", &out_dir, e))?;
    let _lock = crate::io::lock::DirLock::acquire(&out_dir)?;
    write_ingested(&mut ingested, &config, &out_dir)?;
    let summary = &ingested.summary;
    progress.finish();
    if !ctx.quiet {
        eprintln!("{}", summary_table(summary));
        eprintln!(
            "custseg: read {} rows: kept {}, rejected {}, duplicates {}; wrote {}",
            summary.totals.read,
            summary.totals.kept,
            summary.totals.rejected,
            summary.totals.duplicates,
            out_dir.display()
        );
    }
    if let Some(limit) = args.max_reject_rate {
        let over = summary.over_reject_limit(limit);
        if !over.is_empty() {
            return Ok(Status::CheckFailed(over.join("; ")));
        }
    }
    Ok(Status::Success)
}

/// Writes an ingest directory: the tables and rejects with the privacy policy applied (the
/// writer protects the tables; the raw values of rejects are protected here, where the source
/// mappings are known), summary.json, and manifest.json last.
pub fn write_ingested(
    ingested: &mut pipeline::Ingested,
    config: &Config,
    dir: &std::path::Path,
) -> Result<()> {
    ingested.rejects = crate::privacy::current().protect_rejects(&ingested.rejects, config)?;
    ingested.write_to(dir)?;
    crate::privacy::manifest::write(dir, &crate::privacy::manifest::ingest_files(dir))?;
    Ok(())
}

/// Per-source counts for people.
fn summary_table(summary: &Summary) -> Table {
    let mut table = Table::new();
    table.load_preset(presets::UTF8_FULL_CONDENSED);
    table.set_header([
        "source",
        "kind",
        "files",
        "read",
        "kept",
        "rejected",
        "duplicates",
        "rejected %",
        "top reason",
    ]);
    for s in &summary.sources {
        let top = s
            .rejected_by_reason
            .iter()
            .max_by_key(|(_, n)| **n)
            .map(|(r, n)| format!("{r} ({n})"))
            .unwrap_or_default();
        table.add_row([
            s.name.clone(),
            s.kind.as_str().to_string(),
            s.files.len().to_string(),
            s.read.to_string(),
            s.kept.to_string(),
            s.rejected.to_string(),
            s.duplicates.to_string(),
            format!("{:.2}", s.reject_rate * 100.0),
            top,
        ]);
    }
    table
}
