//! Analysis inputs: the `--out` directory of `custseg ingest` (orders.parquet, and
//! customers.parquet / events.parquet when present), or an orders file with canonical columns
//! (CSV/TSV/NDJSON/Parquet, `-` for CSV on stdin), which goes through the same cleaning rules as
//! `custseg ingest` in memory. Either way the analysis sees the canonical, typed tables.

use std::path::Path;

use polars::prelude::*;

use crate::clean::pipeline::{self, IngestOptions};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::metrics::rfm::{AVG_ORDER_VALUE, MONETARY};
use crate::progress::Progress;
use crate::schema::{self, Kind};

/// The canonical tables an analysis reads.
pub struct Dataset {
    /// Order lines (canonical columns of orders.parquet).
    pub orders: LazyFrame,
    /// Known customers, when the input has them.
    pub customers: Option<LazyFrame>,
    /// Interactions, when the input has them.
    pub events: Option<LazyFrame>,
    /// Zone of local calendar dates (ordered_at carries it too).
    pub timezone: chrono_tz::Tz,
    /// Rows of a raw input file rejected by the cleaning rules (0 for an ingest directory).
    pub rejected: u64,
    /// Keeps the scratch files that `orders` / `events` scan (a raw input file is cleaned into
    /// one) for as long as the dataset lives.
    pub scratch: Option<std::sync::Arc<crate::io::read::Scratch>>,
}

/// Loads `input`. `timezone` applies to raw files (naive timestamps); an ingest directory carries
/// its own zone in summary.json. `as_of` bounds the future-date rule for raw files.
pub fn load(input: &Path, timezone: Option<&str>, as_of: chrono::NaiveDate) -> Result<Dataset> {
    if input.is_dir() {
        return load_dir(input);
    }
    let config = Config::for_canonical_files(&[input.to_path_buf()], Kind::Orders, timezone)?;
    let ingested = pipeline::ingest(
        &config,
        &IngestOptions {
            as_of,
            explain: false,
        },
        &Progress::hidden(),
    )?;
    let orders = ingested
        .orders
        .as_ref()
        .ok_or_else(|| Error::input(format!("{}: no orders", input.display())))?;
    Ok(Dataset {
        orders: orders.lazy()?,
        customers: None,
        events: None,
        timezone: config.settings.timezone,
        rejected: ingested.summary.totals.rejected,
        scratch: Some(ingested.scratch()),
    })
}

fn load_dir(dir: &Path) -> Result<Dataset> {
    let scan = |name: &str| -> Result<Option<LazyFrame>> {
        let path = dir.join(name);
        if !path.is_file() {
            return Ok(None);
        }
        let pl_path = PlRefPath::new(path.to_string_lossy().as_ref());
        LazyFrame::scan_parquet(pl_path, ScanArgsParquet::default())
            .map(Some)
            .map_err(|e| Error::input(format!("{}: cannot read: {e}", path.display())))
    };
    let orders = scan(schema::ORDERS_FILE)?.ok_or_else(|| {
        Error::input(format!(
            "{}: no {} in this directory",
            dir.display(),
            schema::ORDERS_FILE
        ))
        .hint("pass the --out directory of custseg ingest, or an orders file")
    })?;
    let timezone = match std::fs::read_to_string(dir.join(schema::SUMMARY_FILE)) {
        Ok(text) => serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v["timezone"].as_str().and_then(|t| t.parse().ok()))
            .unwrap_or(chrono_tz::UTC),
        Err(_) => chrono_tz::UTC,
    };
    Ok(Dataset {
        orders,
        customers: scan(schema::CUSTOMERS_FILE)?,
        events: scan(schema::EVENTS_FILE)?,
        timezone,
        rejected: 0,
        scratch: None,
    })
}

/// Reads a per-customer table (the output of `custseg score` or `rfm`, or one computed in another
/// engine) with inferred types. Returns None when the input is not such a table (an ingest
/// directory, or a file with an `ordered_at` column: order lines).
pub fn load_value_table(input: &Path) -> Result<Option<LazyFrame>> {
    if input.is_dir() {
        return Ok(None);
    }
    let mut lf = if input.as_os_str() == "-" {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin().lock(), &mut bytes)
            .map_err(|e| Error::input(format!("cannot read standard input: {e}")))?;
        CsvReadOptions::default()
            .with_infer_schema_length(Some(10_000))
            .map_parse_options(|o| o.with_try_parse_dates(true))
            .into_reader_with_file_handle(std::io::Cursor::new(bytes))
            .finish()
            .map_err(|e| Error::input(format!("stdin: cannot read CSV: {e}")))?
            .lazy()
    } else {
        if !input.is_file() {
            return Err(Error::input(format!(
                "{}: no such file or directory",
                input.display()
            )));
        }
        let pl_path = PlRefPath::new(input.to_string_lossy().as_ref());
        let is_parquet = input
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("parquet") || e.eq_ignore_ascii_case("pq"));
        if is_parquet {
            LazyFrame::scan_parquet(pl_path, ScanArgsParquet::default())
        } else {
            LazyCsvReader::new(pl_path)
                .with_glob(false)
                .with_infer_schema_length(Some(10_000))
                .with_try_parse_dates(true)
                .finish()
        }
        .map_err(|e| Error::input(format!("{}: cannot read: {e}", input.display())))?
    };
    let schema = lf
        .collect_schema()
        .map_err(|e| Error::input(format!("{}: cannot read: {e}", input.display())))?;
    if schema.get(schema::ORDERED_AT).is_some() {
        if input.as_os_str() == "-" {
            return Err(Error::usage("stdin holds order lines, not a per-customer table")
                .hint("pipe the output of custseg rfm or custseg score, or pass the orders file by name"));
        }
        return Ok(None);
    }
    if schema.get(schema::CUSTOMER_ID).is_none() {
        return Err(Error::input(format!(
            "{}: neither order lines (ordered_at) nor a per-customer table (customer_id)",
            input.display()
        )));
    }
    // An engine may export whole-number amounts as integers; sums and shares need floats.
    for name in [MONETARY, AVG_ORDER_VALUE] {
        if schema.get(name).is_some_and(|t| t.is_integer()) {
            lf = lf.with_column(col(name).cast(DataType::Float64));
        }
    }
    Ok(Some(lf))
}

/// Checks that a per-customer table from [`load_value_table`] has the columns `what` (e.g.
/// "report segments") needs.
///
/// # Errors
/// An input error (exit 2) naming every missing column.
pub fn require_columns(
    table: &mut LazyFrame,
    columns: &[&str],
    what: &str,
    input: &Path,
) -> Result<()> {
    let schema = table
        .collect_schema()
        .map_err(|e| Error::input(format!("{}: cannot read: {e}", input.display())))?;
    let missing: Vec<&str> = columns
        .iter()
        .copied()
        .filter(|c| schema.get(c).is_none())
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(Error::input(format!(
        "{}: {what} needs the column{} {}, which this per-customer table lacks",
        input.display(),
        if missing.len() == 1 { "" } else { "s" },
        missing.join(", ")
    ))
    .hint("pass the output of custseg rfm or score (or of custseg sql rfm), or the order lines"))
}
