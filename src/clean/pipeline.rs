//! The ingest pipeline: read every source, clean it, split kept / rejected / duplicate rows,
//! resolve identities across channels and assemble the canonical tables. Accounts for every row:
//! for each source `read = kept + rejected + duplicates`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use polars::prelude::*;
use serde::Serialize;

use crate::clean::dedupe;
use crate::clean::identity::{self, KeyMaps};
use crate::clean::rules::{
    self, TimeWindow, BLANK, FILE, LINE, MALFORMED, RAW_PREFIX, RULE, TEXT_PREFIX,
};
use crate::config::{Config, FileFormat, Source};
use crate::error::{Error, Result};
use crate::io::read::{self, ReadSpec, Scratch, ROW_INDEX};
use crate::io::spill;
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

/// A table of order or event lines, sorted and kept in a scratch Parquet file until the
/// [`Ingested`] that holds it is dropped: tens of millions of lines never sit in memory at once.
pub struct Table {
    path: PathBuf,
    rows: u64,
}

impl Table {
    /// Rows in the table.
    pub fn height(&self) -> u64 {
        self.rows
    }

    /// A lazy scan of the table (valid while the [`Ingested`] lives).
    pub fn lazy(&self) -> Result<LazyFrame> {
        spill::scan(&self.path)
    }

    /// The scratch file holding the table.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// The tables an ingest produces.
pub struct Ingested {
    /// orders.parquet (None when no orders source).
    pub orders: Option<Table>,
    /// customers.parquet.
    pub customers: Option<DataFrame>,
    /// events.parquet.
    pub events: Option<Table>,
    /// rejects.csv rows.
    pub rejects: DataFrame,
    /// summary.json.
    pub summary: Summary,
    /// Holds the scratch files of the tables.
    scratch: std::sync::Arc<Scratch>,
}

impl Ingested {
    /// The scratch directory holding [`Table`] files: keep it alive as long as their scans.
    pub fn scratch(&self) -> std::sync::Arc<Scratch> {
        self.scratch.clone()
    }
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
    /// Kept rows: a scan of the source's scratch file.
    kept: LazyFrame,
    /// Column names of `kept`.
    kept_columns: Vec<String>,
    /// The scratch file behind `kept`, removed once the kind's table is assembled.
    file: PathBuf,
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
        progress.stage(&format!("{}: checking the files", source.name));
        let source = prepare_source(source, &mut scratch)?;
        let c = clean_source(
            &source,
            config,
            &window,
            &mut scratch,
            options.explain,
            progress,
        )?;
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
                if c.kept_columns.iter().any(|k| k == a) {
                    cols.push(col(a.as_str()));
                } else {
                    cols.push(lit(NULL).cast(DataType::String).alias(a.as_str()));
                }
            }
            identity::customer_ids(c.kept.clone().select(cols))
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
    progress.stage("assembling orders");
    let orders = assemble(
        &mut cleaned,
        &maps,
        &mut scratch,
        &mut rows_by_method,
        progress,
        TableSpec {
            kind: Kind::Orders,
            columns: schema::ORDER_OUTPUT_COLUMNS,
            sort_by: [schema::CUSTOMER_ID, schema::ORDERED_AT],
        },
    )?;
    progress.stage("assembling events");
    let events = assemble(
        &mut cleaned,
        &maps,
        &mut scratch,
        &mut rows_by_method,
        progress,
        TableSpec {
            kind: Kind::Events,
            columns: schema::EVENT_OUTPUT_COLUMNS,
            sort_by: [schema::CUSTOMER_ID, schema::OCCURRED_AT],
        },
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
    for (name, rows) in [
        (schema::ORDERS_FILE, orders.as_ref().map(|(t, _)| t.rows)),
        (
            schema::CUSTOMERS_FILE,
            customers_out.as_ref().map(|d| d.height() as u64),
        ),
        (schema::EVENTS_FILE, events.as_ref().map(|(t, _)| t.rows)),
    ] {
        if let Some(rows) = rows {
            outputs.insert(name.to_string(), rows);
        }
    }
    outputs.insert(schema::REJECTS_FILE.to_string(), rejects.height() as u64);
    let order_customers = orders.as_ref().map_or(0, |(_, keys)| *keys);
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
        orders: orders.map(|(t, _)| t),
        customers: customers_out,
        events: events.map(|(t, _)| t),
        rejects,
        summary,
        scratch: std::sync::Arc::new(scratch),
    })
}

/// The table of one kind (orders or events): the kept rows of its sources in source and line
/// order, customer ids resolved (counted per method into `rows_by_method`), sorted by `sort_by`
/// into a scratch file. Returns the table and the number of distinct customers in it.
fn assemble(
    cleaned: &mut [(Source, Cleaned)],
    maps: &KeyMaps,
    scratch: &mut Scratch,
    rows_by_method: &mut BTreeMap<String, u64>,
    progress: &Progress,
    spec: TableSpec,
) -> Result<Option<(Table, u64)>> {
    let TableSpec {
        kind,
        columns,
        sort_by,
    } = spec;
    let sources: Vec<&Cleaned> = cleaned
        .iter()
        .filter(|(s, _)| s.kind == kind)
        .map(|(_, c)| c)
        .collect();
    if sources.is_empty() {
        return Ok(None);
    }
    let frames: Vec<LazyFrame> = sources.iter().map(|c| c.kept.clone()).collect();
    let present: Vec<&str> = identity::KEYS
        .into_iter()
        .filter(|key| {
            cleaned
                .iter()
                .any(|(s, _)| s.kind == kind && s.column(key).is_some())
        })
        .collect();
    let mut keep: Vec<Expr> = columns.iter().map(|c| col(*c)).collect();
    keep.push(col(identity::VIA));
    let resolved = maps
        .resolve(concat(frames, UnionArgs::default())?, &present)
        .select(keep);
    // Lines per way of finding the customer, then per customer (one group-by on both keys held
    // every line's keys on the streaming engine); the same plan then feeds the sort.
    let [customer, _] = sort_by;
    for (name, n) in counts_by(resolved.clone(), identity::VIA)? {
        *rows_by_method.entry(name).or_default() += n;
    }
    let counts = resolved
        .clone()
        .group_by([col(customer)])
        .agg([len().cast(DataType::UInt64).alias(spill::COUNT)])
        .collect_with_engine(Engine::Streaming)?
        .unwrap_single();
    progress.stage(&format!("sorting {}", kind.as_str()));
    let path = scratch.path(".parquet");
    let sorted = spill::sort_to_file(resolved, counts, &path, sort_by, columns)?;
    for c in &sources {
        remove_scratch(&c.file);
    }
    Ok(Some((
        Table {
            path,
            rows: sorted.rows,
        },
        sorted.keys,
    )))
}

/// Which table [`assemble`] builds: the kind of its sources, its columns and its sort keys.
struct TableSpec {
    kind: Kind,
    columns: &'static [&'static str],
    sort_by: [&'static str; 2],
}

/// Removes a scratch file no longer needed (the scratch folder goes at the end anyway).
fn remove_scratch(path: &Path) {
    let _ = std::fs::remove_file(path);
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
    progress: &Progress,
) -> Result<Cleaned> {
    let mut frames = Vec::new();
    let mut checks = Vec::new();
    for file in &source.files {
        let format = source.format_of(file)?;
        let spec = ReadSpec {
            path: &file.path,
            display: &file.display,
            format,
            encoding: source.encoding,
            delimiter: source.delimiter,
        };
        let (mut lf, pending) = read::scan_checking(&spec, scratch)?;
        let present = match read::column_names(&mut lf, &spec) {
            Ok(present) => present,
            Err(e) => return pending.wait_then(Err(e)),
        };
        // A header read from a broken file (say, in the wrong encoding) names no columns worth
        // reporting: the file's own problem comes first.
        let pending = if source.columns.values().all(|c| present.contains(c)) {
            pending
        } else {
            pending.wait()?;
            read::Pending::none()
        };
        checks.push(pending);
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
    let distinct_by: Vec<Expr> = source
        .columns
        .keys()
        .map(|c| col(format!("{RAW_PREFIX}{c}")))
        .chain([col(MALFORMED)])
        .collect();
    let source_error = |e: PolarsError| {
        Error::input(format!(
            "source \"{}\": {}",
            source.name,
            e.to_string().lines().next().unwrap_or("cannot be read")
        ))
        .hint("check the source's format, delimiter and encoding in the config")
    };
    // The one pass over the files: their raw text, with each line's hash, into a scratch file
    // (read back far faster than the text is parsed). It runs while the files' structural checks
    // do; a broken file is reported by its check, which names the line.
    progress.stage(&format!("{}: reading", source.name));
    let raw_file = scratch.path(".raw.parquet");
    let copied = spill::sink_in_groups(
        dedupe::with_hash(concat(frames, UnionArgs::default())?, &distinct_by),
        &raw_file,
        Some(spill::RAW_ROW_GROUP),
    );
    for pending in checks {
        pending.wait()?;
    }
    copied.map_err(source_error)?;
    progress.stage(&format!("{}: duplicate candidates", source.name));
    let candidates = dedupe::Candidates::from_hashes(
        spill::scan(&raw_file)?
            .select([col(dedupe::HASH)])
            .collect()?,
    )?;
    let raw =
        rules::with_text_columns(spill::scan(&raw_file)?, source).with_row_index(dedupe::SEQ, None);
    let blank = source
        .columns
        .keys()
        .fold(col(MALFORMED).is_null(), |acc, c| {
            acc.and(col(format!("{TEXT_PREFIX}{c}")).is_null())
        });
    let raw = candidates.mark(raw);
    let keep = vec![dedupe::CANDIDATE.to_string(), dedupe::SEQ.to_string()];
    let plan = rules::clean_plan(
        raw.with_column(blank.alias(BLANK)),
        source,
        &config.settings,
        window,
        &keep,
        col(dedupe::CANDIDATE),
    );
    if explain {
        eprintln!(
            "custseg: plan for source \"{}\":\n{}",
            source.name,
            plan.lines.clone().explain(true)?
        );
    }
    progress.stage(&format!("{}: cleaning", source.name));
    let file = scratch.path(".clean.parquet");
    spill::sink(plan.lines.clone(), &file).map_err(source_error)?;
    remove_scratch(&raw_file);
    progress.stage(&format!("{}: duplicates and rejects", source.name));
    let all = spill::scan(&file)?;
    let mut keys: Vec<Expr> = plan
        .original_columns()
        .iter()
        .map(|c| col(c.as_str()))
        .collect();
    keys.push(col(MALFORMED));
    let repeats = dedupe::repeats(all.clone(), &keys)?;
    let counts = all
        .clone()
        .select([
            col(BLANK).sum().cast(DataType::UInt64).alias("blank"),
            col(BLANK)
                .not()
                .sum()
                .cast(DataType::UInt64)
                .alias("not_blank"),
        ])
        .collect()?;
    let count = |name: &str| -> Result<u64> { Ok(counts.column(name)?.u64()?.get(0).unwrap_or(0)) };
    let blank_lines = count("blank")?;
    let firsts = count("not_blank")? - repeats.not_blank;
    let read = candidates.rows - blank_lines;
    let duplicates = read - firsts;
    // Lines that count: not blank, not a repeat of an earlier line.
    let scan = all.filter(col(BLANK).not().and(repeats.is_first()));
    let rejects = plan
        .rejects(scan.clone().filter(col(RULE).is_not_null()), source)
        .collect()?;
    let mut dropped: Vec<String> = [BLANK, FILE, LINE]
        .iter()
        .map(|c| c.to_string())
        .chain(plan.helper_columns())
        .chain(keep)
        .collect();
    dropped.sort();
    let mut kept = scan
        .filter(col(RULE).is_null())
        .drop(by_name(dropped, true, false));
    let kept_columns: Vec<String> = kept
        .collect_schema()?
        .iter_names()
        .map(|n| n.to_string())
        .collect();
    let rejected_by_reason = counts_by(rejects.clone().lazy(), "reason")?;
    let rejected = rejects.height() as u64;
    let report = SourceReport {
        name: source.name.clone(),
        kind: source.kind,
        files: source.files.iter().map(|f| f.display.clone()).collect(),
        read,
        kept: firsts - rejected,
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
        kept_columns,
        file,
        rejects,
        report,
    })
}

/// Row counts per value of the string column `key` (nulls skipped), sorted by value.
fn counts_by(lf: LazyFrame, key: &str) -> Result<BTreeMap<String, u64>> {
    let counts = lf
        .group_by([col(key)])
        .agg([len().cast(DataType::UInt64).alias("__n")])
        .collect_with_engine(Engine::Streaming)?
        .unwrap_single();
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
        for (table, name) in [
            (&self.orders, schema::ORDERS_FILE),
            (&self.events, schema::EVENTS_FILE),
        ] {
            let path = dir.join(name);
            match table {
                Some(table) => write_table(table, &path)?,
                None => remove_stale(&path)?,
            }
        }
        for (df, name) in [
            (&self.customers, schema::CUSTOMERS_FILE),
            (&Some(self.rejects.clone()), schema::REJECTS_FILE),
        ] {
            let path = dir.join(name);
            match df {
                Some(df) => {
                    let dest = Destination::resolve(None, Some(&path))?;
                    write::write_frame(&mut df.clone(), &dest, true)?;
                }
                None => remove_stale(&path)?,
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

/// Removes an output file of a kind this run has no sources for.
fn remove_stale(path: &Path) -> Result<()> {
    if path.exists() {
        std::fs::remove_file(path)
            .map_err(|e| crate::error::io_error("remove the stale", path, e))?;
    }
    Ok(())
}

/// Writes a [`Table`] to `path` (atomically) with the privacy policy for data files applied:
/// a plain copy of its scratch file when the policy changes nothing, else slice by slice.
fn write_table(table: &Table, path: &Path) -> Result<()> {
    use crate::io::write;
    let policy = crate::privacy::current();
    let audience = crate::privacy::Audience::Data;
    write::write_atomic(path, |w| {
        if policy.is_identity(audience) {
            let mut file = std::fs::File::open(&table.path)
                .map_err(|e| crate::error::io_error("open", &table.path, e))?;
            std::io::copy(&mut file, w).map_err(|e| crate::error::io_error("write", path, e))?;
            Ok(())
        } else {
            spill::copy_in_slices(&table.path, w, &|df| policy.protect(&df, audience))
        }
    })
}
