//! The ingest pipeline: read every source, clean it, split kept / rejected / duplicate rows,
//! resolve identities across channels and assemble the canonical tables. Accounts for every row:
//! for each source `read = kept + rejected + duplicates`.

use std::collections::BTreeMap;

use polars::prelude::*;
use serde::Serialize;

use crate::clean::identity::{self, KeyMaps};
use crate::clean::rules::{
    self, TimeWindow, BLANK, FILE, FIRST, LINE, MALFORMED, MESSAGE, RAW_JSON, RAW_PREFIX, REASON,
    TEXT_PREFIX,
};
use crate::config::{Config, FileFormat, Source};
use crate::error::{Error, Result};
use crate::io::read::{self, ReadSpec, Scratch, ROW_INDEX};
use crate::progress::Progress;
use crate::schema::{self, Kind};

/// What a source contributed.
#[derive(Debug, Clone, Serialize)]
pub struct SourceReport {
    /// Source name.
    pub name: String,
    /// Record kind.
    pub kind: Kind,
    /// Files read, as shown to users.
    pub files: Vec<String>,
    /// Rows read from all files.
    pub read: u64,
    /// Rows kept in the output table.
    pub kept: u64,
    /// Rows written to rejects.csv.
    pub rejected: u64,
    /// Rows identical in every mapped field to an earlier row of the source.
    pub duplicates: u64,
    /// Lines whose mapped fields are all empty (blank lines): skipped, not counted in `read`.
    pub blank_lines: u64,
    /// Rejected rows per reason code.
    pub rejected_by_reason: BTreeMap<String, u64>,
    /// rejected / read (0 when nothing was read).
    pub reject_rate: f64,
}

/// Counts summed over sources.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Totals {
    /// Rows read.
    pub read: u64,
    /// Rows kept.
    pub kept: u64,
    /// Rows rejected.
    pub rejected: u64,
    /// Duplicate rows removed.
    pub duplicates: u64,
}

/// How customer ids were found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct IdentityReport {
    /// Distinct customers in customers.parquet.
    pub known_customers: u64,
    /// Distinct customer ids in orders.parquet.
    pub order_customers: u64,
    /// Order and event rows per way their customer was found.
    pub rows_by_method: BTreeMap<String, u64>,
    /// Key values shared by more than one known customer (smallest id wins).
    pub conflicts: BTreeMap<String, u64>,
}

/// The machine-readable account of an ingest run (summary.json).
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// The as-of date used for the future-date rule.
    pub as_of: String,
    /// Time zone of local times and dates.
    pub timezone: String,
    /// Per-source counts.
    pub sources: Vec<SourceReport>,
    /// Counts over all sources.
    pub totals: Totals,
    /// Rows per output file.
    pub outputs: BTreeMap<String, u64>,
    /// Identity resolution figures.
    pub identity: IdentityReport,
}

/// The tables an ingest produces.
pub struct Ingested {
    /// orders.parquet (None when no orders source).
    pub orders: Option<DataFrame>,
    /// customers.parquet.
    pub customers: Option<DataFrame>,
    /// events.parquet.
    pub events: Option<DataFrame>,
    /// rejects.csv rows.
    pub rejects: DataFrame,
    /// summary.json.
    pub summary: Summary,
}

/// Options of an ingest run.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// Timestamps after this local date are out of range.
    pub as_of: chrono::NaiveDate,
    /// Print each source's cleaning plan to stderr (`--explain`).
    pub explain: bool,
}

struct Cleaned {
    kept: DataFrame,
    rejects: DataFrame,
    report: SourceReport,
}

/// Runs the whole pipeline over `config`.
pub fn ingest(config: &Config, options: &IngestOptions, progress: &Progress) -> Result<Ingested> {
    let settings = &config.settings;
    let window = TimeWindow::new(options.as_of, settings.timezone);
    let mut scratch = Scratch::new()?;
    let mut cleaned: Vec<(Source, Cleaned)> = Vec::new();
    for source in &config.sources {
        progress.stage(&format!("{}: reading and cleaning", source.name));
        let source = prepare_source(source, &mut scratch)?;
        let c = clean_source(&source, config, &window, &mut scratch, options.explain)?;
        cleaned.push((source, c));
    }
    progress.stage("resolving customers across channels");

    // Customers first: their keys resolve the other kinds.
    let attributes: Vec<String> = {
        let mut a: Vec<String> = cleaned
            .iter()
            .flat_map(|(s, _)| rules::attributes(s).into_iter().map(str::to_string))
            .collect();
        a.sort();
        a.dedup();
        a
    };
    let customer_frames: Vec<LazyFrame> = cleaned
        .iter()
        .filter(|(s, _)| s.kind == Kind::Customers)
        .map(|(_, c)| {
            let mut cols: Vec<Expr> = schema::CUSTOMER_OUTPUT_COLUMNS
                .iter()
                .map(|c| col(*c))
                .collect();
            for a in &attributes {
                if c.kept.column(a).is_ok() {
                    cols.push(col(a.as_str()));
                } else {
                    cols.push(lit(NULL).cast(DataType::String).alias(a.as_str()));
                }
            }
            identity::customer_ids(c.kept.clone().lazy().select(cols))
        })
        .collect();
    let customers = if customer_frames.is_empty() {
        None
    } else {
        let all = concat(customer_frames, UnionArgs::default())?.collect()?;
        Some(all)
    };
    let maps = match &customers {
        Some(df) => KeyMaps::build(df)?,
        None => KeyMaps::default(),
    };
    let customers_out = match customers {
        None => None,
        Some(df) => Some(merge_customers(df, &attributes)?),
    };

    let mut rows_by_method: BTreeMap<String, u64> = BTreeMap::new();
    let mut resolve_kind =
        |kind: Kind, columns: &[&str], sort_by: [&str; 2]| -> Result<Option<DataFrame>> {
            // The kept rows move out of `cleaned`: nothing else holds them, so the sort below
            // can free each column as it goes.
            let frames: Vec<LazyFrame> = cleaned
                .iter_mut()
                .filter(|(s, _)| s.kind == kind)
                .map(|(_, c)| std::mem::replace(&mut c.kept, DataFrame::empty()).lazy())
                .collect();
            if frames.is_empty() {
                return Ok(None);
            }
            let df = {
                let resolved = maps
                    .resolve(concat(frames, UnionArgs::default())?)
                    .collect()?;
                for (name, n) in counts_by(&resolved, identity::VIA)? {
                    *rows_by_method.entry(name).or_default() += n;
                }
                resolved.select(columns.iter().copied())?
            };
            Ok(Some(sort_consuming(df, sort_by)?))
        };
    progress.stage("assembling orders");
    let orders = resolve_kind(
        Kind::Orders,
        schema::ORDER_OUTPUT_COLUMNS,
        [schema::CUSTOMER_ID, schema::ORDERED_AT],
    )?;
    progress.stage("assembling events");
    let events = resolve_kind(
        Kind::Events,
        schema::EVENT_OUTPUT_COLUMNS,
        [schema::CUSTOMER_ID, schema::OCCURRED_AT],
    )?;

    let reject_frames: Vec<LazyFrame> = cleaned
        .iter()
        .map(|(_, c)| c.rejects.clone().lazy())
        .collect();
    let rejects = concat(reject_frames, UnionArgs::default())?.collect()?;

    let mut totals = Totals::default();
    let mut sources = Vec::new();
    for (_, c) in cleaned {
        totals.read += c.report.read;
        totals.kept += c.report.kept;
        totals.rejected += c.report.rejected;
        totals.duplicates += c.report.duplicates;
        sources.push(c.report);
    }
    let mut outputs = BTreeMap::new();
    for (name, df) in [
        (schema::ORDERS_FILE, &orders),
        (schema::CUSTOMERS_FILE, &customers_out),
        (schema::EVENTS_FILE, &events),
    ] {
        if let Some(df) = df {
            outputs.insert(name.to_string(), df.height() as u64);
        }
    }
    outputs.insert(schema::REJECTS_FILE.to_string(), rejects.height() as u64);
    let order_customers = match &orders {
        Some(df) => df
            .column(schema::CUSTOMER_ID)?
            .as_materialized_series()
            .n_unique()? as u64,
        None => 0,
    };
    let identity = IdentityReport {
        known_customers: customers_out.as_ref().map_or(0, |d| d.height() as u64),
        order_customers,
        rows_by_method,
        conflicts: maps.conflicts.clone(),
    };
    let summary = Summary {
        as_of: options.as_of.to_string(),
        timezone: settings.timezone.name().to_string(),
        sources,
        totals,
        outputs,
        identity,
    };
    Ok(Ingested {
        orders,
        customers: customers_out,
        events,
        rejects,
        summary,
    })
}

/// One row per customer: the first non-empty value of each column, in source and line order.
fn merge_customers(df: DataFrame, attributes: &[String]) -> Result<DataFrame> {
    let mut aggs: Vec<Expr> = schema::CUSTOMER_OUTPUT_COLUMNS
        .iter()
        .skip(1)
        .map(|c| col(*c).drop_nulls().first().alias(*c))
        .collect();
    aggs.extend(
        attributes
            .iter()
            .map(|a| col(a.as_str()).drop_nulls().first().alias(a.as_str())),
    );
    Ok(df
        .lazy()
        .group_by_stable([col(schema::CUSTOMER_ID)])
        .agg(aggs)
        .sort([schema::CUSTOMER_ID], SortMultipleOptions::default())
        .collect()?)
}

/// Copies stdin (`-`) to a scratch file and, for sources without a column mapping (files given
/// without a config), maps every canonical column found in the first file's header.
fn prepare_source(source: &Source, scratch: &mut Scratch) -> Result<Source> {
    let mut source = source.clone();
    for file in &mut source.files {
        if file.path.as_os_str() == "-" {
            file.path = scratch.stdin_to_file()?;
            file.display = "stdin".to_string();
        }
    }
    if !source.columns.is_empty() {
        return Ok(source);
    }
    let Some(first) = source.files.first().cloned() else {
        return Ok(source);
    };
    let spec = ReadSpec {
        path: &first.path,
        display: &first.display,
        format: source.format_of(&first)?,
        encoding: source.encoding,
        delimiter: source.delimiter,
    };
    let mut lf = read::scan_as_strings(&spec, scratch)?;
    let present = read::column_names(&mut lf, &spec)?;
    for canonical in source.kind.canonical_columns() {
        if present.iter().any(|p| p == canonical) {
            source
                .columns
                .insert((*canonical).to_string(), (*canonical).to_string());
        }
    }
    let has = |c: &str| source.columns.contains_key(c);
    let missing = if !["customer_id", "email", "phone", "external_id"]
        .iter()
        .any(|k| has(k))
    {
        Some("a customer key (customer_id, email, phone or external_id)")
    } else if source.kind == Kind::Orders && !has(schema::ORDERED_AT) {
        Some("ordered_at")
    } else if source.kind == Kind::Events && !has(schema::OCCURRED_AT) {
        Some("occurred_at")
    } else if source.kind == Kind::Orders
        && !has(schema::AMOUNT)
        && !(has(schema::QUANTITY) && has(schema::UNIT_PRICE))
    {
        Some("amount (or quantity and unit_price)")
    } else {
        None
    };
    if let Some(what) = missing {
        let shown: Vec<&str> = present
            .iter()
            .filter(|p| *p != ROW_INDEX)
            .map(String::as_str)
            .take(12)
            .collect();
        return Err(Error::input(format!(
            "{}: no column for {what}; without --config, columns must use canonical names",
            first.display
        ))
        .hint(format!("the file has: {}", shown.join(", ")))
        .hint("write a config that maps the export's columns; see docs/config.md"));
    }
    Ok(source)
}

/// Refuses mapped Parquet columns whose values are not scalars (lists, structs, binary): every
/// value is read as text, and those have no text form worth cleaning.
fn check_scalar_columns(lf: &mut LazyFrame, spec: &ReadSpec<'_>, source: &Source) -> Result<()> {
    let schema = lf
        .collect_schema()
        .map_err(|e| read::read_error(spec, &e))?;
    for (canonical, export) in &source.columns {
        if let Some(dtype) = schema.get(export.as_str()) {
            let plain = dtype.is_primitive_numeric()
                || dtype.is_string()
                || dtype.is_temporal()
                || dtype.is_bool()
                || dtype.is_null()
                || dtype.is_decimal();
            if !plain {
                return Err(Error::input(format!(
                    "{}: column \"{export}\" (mapped to {canonical} in source \"{}\") holds {dtype} values, not plain text, numbers, dates or booleans",
                    spec.display, source.name
                ))
                .hint("export the column as a plain value, or map another column in the config"));
            }
        }
    }
    Ok(())
}

/// Reads, cleans and splits one source.
fn clean_source(
    source: &Source,
    config: &Config,
    window: &TimeWindow,
    scratch: &mut Scratch,
    explain: bool,
) -> Result<Cleaned> {
    let mut frames = Vec::new();
    for file in &source.files {
        let format = source.format_of(file)?;
        let spec = ReadSpec {
            path: &file.path,
            display: &file.display,
            format,
            encoding: source.encoding,
            delimiter: source.delimiter,
        };
        let mut lf = read::scan_as_strings(&spec, scratch)?;
        let present = read::column_names(&mut lf, &spec)?;
        if format == FileFormat::Parquet {
            check_scalar_columns(&mut lf, &spec, source)?;
        }
        let mut select = Vec::new();
        for (canonical, export) in &source.columns {
            if !present.iter().any(|p| p == export) {
                let shown: Vec<&str> = present
                    .iter()
                    .filter(|p| *p != ROW_INDEX)
                    .map(String::as_str)
                    .take(12)
                    .collect();
                return Err(Error::config(format!(
                    "{}: column \"{export}\" (mapped to {canonical} in source \"{}\") is not in the file",
                    file.display, source.name
                ))
                .hint(format!("the file has: {}", shown.join(", "))));
            }
            select.push(
                col(export.as_str())
                    .cast(DataType::String)
                    .alias(format!("{RAW_PREFIX}{canonical}")),
            );
        }
        // Physical line numbers: a CSV header is line 1; NDJSON and Parquet count rows from 1.
        let offset: i64 = match format {
            FileFormat::Csv | FileFormat::Tsv => 2,
            FileFormat::Ndjson | FileFormat::Parquet => 1,
        };
        // A line the preflight found broken (NDJSON only) carries why; every other row null.
        select.push(if present.iter().any(|p| p == MALFORMED) {
            col(MALFORMED).cast(DataType::String).alias(MALFORMED)
        } else {
            lit(NULL).cast(DataType::String).alias(MALFORMED)
        });
        select.push(lit(file.display.clone()).alias(FILE));
        select.push((col(ROW_INDEX).cast(DataType::Int64) + lit(offset)).alias(LINE));
        frames.push(lf.select(select));
    }
    let raw = rules::with_text_columns(concat(frames, UnionArgs::default())?, source);
    let raw_cols: Vec<Expr> = source
        .columns
        .keys()
        .map(|c| col(format!("{RAW_PREFIX}{c}")))
        .collect();
    let blank = source
        .columns
        .keys()
        .fold(col(MALFORMED).is_null(), |acc, c| {
            acc.and(col(format!("{TEXT_PREFIX}{c}")).is_null())
        });
    let distinct_by: Vec<Expr> = raw_cols.into_iter().chain([col(MALFORMED)]).collect();
    let raw = raw.with_columns([
        as_struct(distinct_by).is_first_distinct().alias(FIRST),
        blank.alias(BLANK),
    ]);
    let plan = rules::clean_plan(raw, source, &config.settings, window);
    if explain {
        eprintln!(
            "custseg: plan for source \"{}\":\n{}",
            source.name,
            plan.explain(true)?
        );
    }
    let df = plan
        .collect_with_engine(Engine::Streaming)
        .map(|r| r.unwrap_single())
        .map_err(|e| {
            Error::input(format!(
                "source \"{}\": {}",
                source.name,
                e.to_string().lines().next().unwrap_or("cannot be read")
            ))
            .hint("check the source's format, delimiter and encoding in the config")
        })?;
    let counts = df
        .clone()
        .lazy()
        .select([
            col(BLANK).sum().cast(DataType::UInt64).alias("blank"),
            col(FIRST)
                .and(col(BLANK).not())
                .sum()
                .cast(DataType::UInt64)
                .alias("firsts"),
        ])
        .collect()?;
    let blank_lines = counts.column("blank")?.u64()?.get(0).unwrap_or(0);
    let firsts = counts.column("firsts")?.u64()?.get(0).unwrap_or(0);
    let read = df.height() as u64 - blank_lines;
    let duplicates = read - firsts;
    let rejects = df
        .clone()
        .lazy()
        .filter(col(FIRST).and(col(BLANK).not()))
        .filter(col(REASON).is_not_null())
        .select([
            lit(source.name.clone()).alias("source"),
            col(FILE).alias("file"),
            col(LINE).alias("line"),
            col(REASON).alias("reason"),
            col(MESSAGE).alias("message"),
            col(RAW_JSON).alias("raw"),
        ])
        .collect()?;
    let kept_mask = df
        .clone()
        .lazy()
        .select([col(FIRST)
            .and(col(BLANK).not())
            .and(col(REASON).is_null())
            .alias("kept")])
        .collect()?;
    let kept_mask = kept_mask.column("kept")?.bool()?.clone();
    let kept = filter_consuming(
        df,
        &kept_mask,
        &[REASON, MESSAGE, RAW_JSON, FIRST, BLANK, FILE, LINE],
    )?;
    let rejected_by_reason = counts_by(&rejects, "reason")?;
    let rejected = rejects.height() as u64;
    let report = SourceReport {
        name: source.name.clone(),
        kind: source.kind,
        files: source.files.iter().map(|f| f.display.clone()).collect(),
        read,
        kept: kept.height() as u64,
        rejected,
        duplicates,
        blank_lines,
        rejected_by_reason,
        reject_rate: if read == 0 {
            0.0
        } else {
            rejected as f64 / read as f64
        },
    };
    Ok(Cleaned {
        kept,
        rejects,
        report,
    })
}

/// `df` filtered by `mask` without the columns `drop`, one column at a time: each input column
/// is freed as soon as its filtered copy exists, so the peak is one column above the input
/// rather than a second frame.
fn filter_consuming(df: DataFrame, mask: &BooleanChunked, drop: &[&str]) -> Result<DataFrame> {
    let height = mask.sum().unwrap_or(0) as usize;
    let mut columns = Vec::new();
    for column in df.into_columns() {
        if drop.contains(&column.name().as_str()) {
            continue;
        }
        columns.push(column.filter(mask)?);
    }
    Ok(DataFrame::new(height, columns)?)
}

/// `df` sorted by `by` (stable: ties keep their order), gathering one column at a time and freeing
/// each input column once gathered, so the peak is one column above the input.
///
/// The order is the one `sort` with `maintain_order` gives on the two keys, computed on integers:
/// the first key (a string) is replaced by the rank of its value among the distinct values sorted
/// the same way (nulls first, as in the sort), and the row number breaks ties. Comparing millions
/// of strings at random places in memory was most of the time of this step.
fn sort_consuming(df: DataFrame, by: [&str; 2]) -> Result<DataFrame> {
    const ORDER: &str = "__order";
    const RANK: &str = "__rank";
    let [first, second] = by;
    let keys = df.select(by)?.lazy().with_row_index(ORDER, None);
    let ranks = keys
        .clone()
        .select([col(first)])
        .unique(None, UniqueKeepStrategy::Any)
        .sort([first], SortMultipleOptions::default())
        .with_row_index(RANK, None);
    let order = keys
        .join(
            ranks,
            [col(first)],
            [col(first)],
            JoinArgs {
                maintain_order: MaintainOrderJoin::Left,
                ..JoinArgs::new(JoinType::Left)
            },
        )
        .sort(
            [RANK, second, ORDER],
            SortMultipleOptions::default().with_maintain_order(true),
        )
        .select([col(ORDER)])
        .collect()?;
    let order = order.column(ORDER)?.idx()?.clone();
    let height = df.height();
    let mut columns = Vec::new();
    for column in df.into_columns() {
        columns.push(column.take(&order)?);
    }
    Ok(DataFrame::new(height, columns)?)
}

/// Row counts per value of the string column `key` (nulls skipped), sorted by value.
fn counts_by(df: &DataFrame, key: &str) -> Result<BTreeMap<String, u64>> {
    let counts = df
        .clone()
        .lazy()
        .group_by([col(key)])
        .agg([len().cast(DataType::UInt64).alias("__n")])
        .collect()?;
    let names = counts.column(key)?.str()?;
    let ns = counts.column("__n")?.u64()?;
    Ok(names
        .iter()
        .zip(ns.iter())
        .filter_map(|(name, n)| Some((name?.to_string(), n?)))
        .collect())
}

impl Summary {
    /// One message per source whose reject rate is above `limit` (empty when all are within).
    pub fn over_reject_limit(&self, limit: f64) -> Vec<String> {
        self.sources
            .iter()
            .filter(|s| s.reject_rate > limit)
            .map(|s| {
                format!(
                    "source \"{}\" rejected {:.2}% of its rows (limit {:.2}%)",
                    s.name,
                    s.reject_rate * 100.0,
                    limit * 100.0
                )
            })
            .collect()
    }
}

impl Ingested {
    /// Writes the tables and summary.json into `dir` (each file atomically; summary last).
    /// Output files of kinds without sources are removed, so a reused folder never mixes runs.
    pub fn write_to(&self, dir: &std::path::Path) -> Result<()> {
        use crate::io::write::{self, Destination};
        std::fs::create_dir_all(dir).map_err(|e| crate::error::io_error("create", dir, e))?;
        for (df, name) in [
            (&self.orders, schema::ORDERS_FILE),
            (&self.customers, schema::CUSTOMERS_FILE),
            (&self.events, schema::EVENTS_FILE),
            (&Some(self.rejects.clone()), schema::REJECTS_FILE),
        ] {
            let path = dir.join(name);
            match df {
                Some(df) => {
                    let dest = Destination::resolve(None, Some(&path))?;
                    write::write_frame(&mut df.clone(), &dest, true)?;
                }
                None if path.exists() => std::fs::remove_file(&path)
                    .map_err(|e| crate::error::io_error("remove the stale", &path, e))?,
                None => {}
            }
        }
        let json = serde_json::to_string_pretty(&self.summary)
            .map_err(|e| Error::runtime(format!("cannot encode summary: {e}")))?;
        write::write_atomic(&dir.join(schema::SUMMARY_FILE), |w| {
            w.write_all(json.as_bytes())
                .and_then(|()| w.write_all(b"\n"))
                .map_err(|e| Error::runtime(format!("cannot write summary.json: {e}")))
        })
    }
}
