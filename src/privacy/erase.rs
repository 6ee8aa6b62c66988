//! Erasure (`custseg forget`): removes one customer from an ingest directory. The customer is
//! found the way ingest found it: the identifier is cleaned with ingest's own parsers (e-mail
//! lower-cased, phone reduced to digits without the country code), every customer_id on a row
//! carrying it is the customer, and every row of orders, customers and events with one of those
//! ids is removed; so are rejected rows whose raw values hold the identifier. Tables are rewritten
//! atomically, summary.json is updated (docs/privacy.md, "Erasure"), and the manifest rewritten.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use polars::prelude::*;

use crate::clean::parse;
use crate::error::{io_error, Error, Result};
use crate::io::write::{self, Destination, OutputFormat};
use crate::privacy::{manifest, Field, Pseudonymizer};
use crate::schema;

/// Who to forget.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A customer_id as written in the ingested tables.
    CustomerId(String),
    /// An e-mail address (cleaned like ingest cleans it).
    Email(String),
    /// A phone number (cleaned like ingest cleans it).
    Phone(String),
}

impl Target {
    /// `customer_id`, `email` or `phone`.
    pub fn kind(&self) -> &'static str {
        match self {
            Target::CustomerId(_) => "customer_id",
            Target::Email(_) => "email",
            Target::Phone(_) => "phone",
        }
    }
}

/// What an erasure removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Erasure {
    /// The identifier in its cleaned form (what was hashed for the audit log).
    pub normalised: String,
    /// The customer ids of the removed rows, sorted (empty when nothing was found).
    pub customer_ids: Vec<String>,
    /// Rows removed per file kind: orders, customers, events, rejects (all four always present).
    pub removed: BTreeMap<String, u64>,
}

impl Erasure {
    /// Total rows removed.
    pub fn total(&self) -> u64 {
        self.removed.values().sum()
    }
}

/// The identifier cleaned as ingest cleans it; an error when nothing usable is left.
pub fn normalise(target: &Target, phone_country_code: Option<&str>) -> Result<String> {
    let (raw, expr, flag, example) = match target {
        Target::CustomerId(id) => (id, parse::text(col("v")), "--customer", "C0042"),
        Target::Email(e) => (e, parse::email(col("v")), "--email", "ann@example.com"),
        Target::Phone(p) => (
            p,
            parse::phone(col("v"), phone_country_code),
            "--phone",
            "13800138000",
        ),
    };
    let df = df!("v" => [raw.as_str()])?
        .lazy()
        .select([expr.alias("v")])
        .collect()?;
    df.column("v")?
        .str()?
        .get(0)
        .map(str::to_string)
        .ok_or_else(|| {
            Error::usage(format!(
                "{flag} \"{raw}\" is not a usable {}",
                target.kind()
            ))
            .hint(format!(
                "give the value as it appears in the exports, e.g. {flag} {example}"
            ))
        })
}

/// Removes the customer `target` names from the ingest directory `dir`.
pub fn erase(
    dir: &Path,
    target: &Target,
    phone_country_code: Option<&str>,
    key: Option<&Pseudonymizer>,
) -> Result<Erasure> {
    let normalised = normalise(target, phone_country_code)?;
    if !dir.join(schema::ORDERS_FILE).is_file() && !dir.join(schema::CUSTOMERS_FILE).is_file() {
        return Err(Error::input(format!(
            "{}: not an ingest directory (no {} or {})",
            dir.display(),
            schema::ORDERS_FILE,
            schema::CUSTOMERS_FILE
        ))
        .hint(
            "pass the --out directory of custseg ingest (or an ingest-DATE folder of custseg run)",
        ));
    }
    // The values that stand for the customer in the tables: the cleaned value, and its pseudonym
    // when the directory was written with --pseudonymize and the key is at hand.
    let field = match target {
        Target::CustomerId(_) => None,
        Target::Email(_) => Some(Field::Email),
        Target::Phone(_) => Some(Field::Phone),
    };
    let mut values = vec![normalised.clone()];
    let mut ids: BTreeSet<String> = BTreeSet::new();
    match field {
        None => {
            ids.insert(normalised.clone());
            if let Some(p) = key.and_then(|k| k.customer_id(&normalised)) {
                ids.insert(p);
            }
        }
        Some(f) => {
            let derived = format!("{}:{normalised}", f.kind());
            if let Some(k) = key {
                values.push(k.field(f, &normalised));
                ids.extend(k.customer_id(&derived));
            }
            ids.insert(derived);
        }
    }

    let tables = [
        (schema::ORDERS_FILE, "orders"),
        (schema::CUSTOMERS_FILE, "customers"),
        (schema::EVENTS_FILE, "events"),
    ];
    let mut frames: Vec<(&str, &str, DataFrame)> = Vec::new();
    for (file, kind) in tables {
        let path = dir.join(file);
        if path.is_file() {
            frames.push((file, kind, read_parquet(&path)?));
        }
    }
    let value_list = Series::new("values".into(), values.clone());
    if let Some(f) = field {
        for (_, _, df) in &frames {
            if df.column(f.column()).is_err() {
                continue;
            }
            let found = df
                .clone()
                .lazy()
                .filter(
                    col(f.column())
                        .is_in(lit(value_list.clone()).implode(false), false)
                        .fill_null(lit(false)),
                )
                .select([col(schema::CUSTOMER_ID)])
                .collect()?;
            ids.extend(
                found
                    .column(schema::CUSTOMER_ID)?
                    .str()?
                    .iter()
                    .flatten()
                    .map(str::to_string),
            );
        }
    }
    let id_list = Series::new("ids".into(), ids.iter().cloned().collect::<Vec<_>>());
    let mut removed: BTreeMap<String, u64> = ["orders", "customers", "events", "rejects"]
        .into_iter()
        .map(|k| (k.to_string(), 0))
        .collect();
    // Per source: rows removed from the kept tables and from the rejects (with their reasons).
    let mut kept_by_source: BTreeMap<String, u64> = BTreeMap::new();
    let mut rejected_by_source: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    let mut remaining: BTreeMap<&str, DataFrame> = BTreeMap::new();
    let mut found_ids: BTreeSet<String> = BTreeSet::new();
    for (file, kind, df) in frames {
        let gone = col(schema::CUSTOMER_ID)
            .is_in(lit(id_list.clone()).implode(false), false)
            .fill_null(lit(false));
        let hits = df.clone().lazy().filter(gone.clone()).collect()?;
        if hits.height() > 0 {
            removed.insert(kind.to_string(), hits.height() as u64);
            found_ids.extend(
                hits.column(schema::CUSTOMER_ID)?
                    .str()?
                    .iter()
                    .flatten()
                    .map(str::to_string),
            );
            if let Ok(src) = hits.column(schema::SOURCE) {
                for s in src.str()?.iter().flatten() {
                    *kept_by_source.entry(s.to_string()).or_default() += 1;
                }
            }
            let keep = df.lazy().filter(gone.not()).collect()?;
            write_table(&dir.join(file), keep.clone(), OutputFormat::Parquet)?;
            remaining.insert(kind, keep);
        } else {
            remaining.insert(kind, df);
        }
    }

    let rejects_path = dir.join(schema::REJECTS_FILE);
    if rejects_path.is_file() {
        let rejects = read_csv_text(&rejects_path)?;
        let matches = rejects_matching(&rejects, target, &values, &ids, phone_country_code)?;
        let n = matches.iter().filter(|m| **m).count();
        if n > 0 {
            let sources = rejects.column("source")?.str()?.clone();
            let reasons = rejects.column("reason")?.str()?.clone();
            for (i, hit) in matches.iter().enumerate() {
                if *hit {
                    let s = sources.get(i).unwrap_or("").to_string();
                    let r = reasons.get(i).unwrap_or("").to_string();
                    *rejected_by_source
                        .entry(s)
                        .or_default()
                        .entry(r)
                        .or_default() += 1;
                }
            }
            let keep_mask: BooleanChunked = matches.iter().map(|m| !m).collect();
            let keep = rejects.filter(&keep_mask)?;
            write_table(&rejects_path, keep, OutputFormat::Csv)?;
            removed.insert("rejects".to_string(), n as u64);
        }
    }

    let erasure = Erasure {
        normalised,
        customer_ids: found_ids.into_iter().collect(),
        removed,
    };
    if erasure.total() > 0 {
        update_summary(dir, &kept_by_source, &rejected_by_source, &remaining)?;
    }
    if erasure.total() > 0 || !dir.join(manifest::MANIFEST_FILE).is_file() {
        manifest::write(dir, &manifest::ingest_files(dir))?;
    }
    Ok(erasure)
}

/// Rejected rows to remove: a raw value (from the `raw` JSON object) that, cleaned like the
/// target, equals it (or its pseudonym); for a customer id, a trimmed raw value equal to one of
/// the ids.
fn rejects_matching(
    rejects: &DataFrame,
    target: &Target,
    values: &[String],
    ids: &BTreeSet<String>,
    phone_country_code: Option<&str>,
) -> Result<Vec<bool>> {
    let raw = rejects.column("raw")?.str()?.clone();
    // (row, raw value) for every string value of every raw object.
    let mut rows: Vec<u32> = Vec::new();
    let mut texts: Vec<String> = Vec::new();
    for (i, cell) in raw.iter().enumerate() {
        let Some(cell) = cell else { continue };
        // The writer prefixes cells that look like formulas with a quote; the JSON follows it.
        let json = cell.trim_start_matches('\'');
        if let Ok(serde_json::Value::Object(map)) = serde_json::from_str(json) {
            for v in map.values() {
                if let Some(s) = v.as_str() {
                    rows.push(u32::try_from(i).unwrap_or(u32::MAX));
                    texts.push(s.to_string());
                }
            }
        }
    }
    let mut hit = vec![false; rejects.height()];
    if texts.is_empty() {
        return Ok(hit);
    }
    let expr = match target {
        Target::CustomerId(_) => parse::text(col("v")),
        Target::Email(_) => parse::email(col("v")),
        Target::Phone(_) => parse::phone(col("v"), phone_country_code),
    };
    let cleaned = df!("v" => texts.clone())?
        .lazy()
        .select([expr.alias("v")])
        .collect()?;
    let cleaned = cleaned.column("v")?.str()?.clone();
    for ((row, raw_text), clean) in rows.iter().zip(&texts).zip(cleaned.iter()) {
        let is_hit = match target {
            Target::CustomerId(_) => clean.is_some_and(|c| ids.contains(c)),
            _ => {
                clean.is_some_and(|c| values.iter().any(|v| v == c))
                    || values.iter().any(|v| v == raw_text.trim())
            }
        };
        if is_hit {
            if let Some(h) = hit.get_mut(*row as usize) {
                *h = true;
            }
        }
    }
    Ok(hit)
}

fn read_parquet(path: &Path) -> Result<DataFrame> {
    let file = std::fs::File::open(path).map_err(|e| io_error("read", path, e))?;
    ParquetReader::new(file)
        .finish()
        .map_err(|e| Error::input(format!("{}: cannot read: {e}", path.display())))
}

/// Reads a CSV written by custseg with every column as text, so writing it back changes nothing
/// but the removed rows.
fn read_csv_text(path: &Path) -> Result<DataFrame> {
    CsvReadOptions::default()
        .with_infer_schema_length(Some(0))
        .try_into_reader_with_file_path(Some(path.to_path_buf()))
        .and_then(|r| r.finish())
        .map_err(|e| Error::input(format!("{}: cannot read: {e}", path.display())))
}

fn write_table(path: &Path, mut df: DataFrame, format: OutputFormat) -> Result<()> {
    let dest = Destination {
        path: Some(path.to_path_buf()),
        format,
        table_rows: 0,
    };
    write::write_frame_as_is(&mut df, &dest, true)
}

/// Brings summary.json in line with the tables: per source `kept` and `rejected` (and
/// `rejected_by_reason`, `reject_rate`) lose the erased rows, which are counted in a new
/// `erased`, so read = kept + rejected + duplicates + erased; the totals likewise; `outputs` gets
/// the new row counts and `identity.known_customers` / `order_customers` are recounted. The
/// rest of `identity` describes the ingest run and is left as it was.
fn update_summary(
    dir: &Path,
    kept_by_source: &BTreeMap<String, u64>,
    rejected_by_source: &BTreeMap<String, BTreeMap<String, u64>>,
    remaining: &BTreeMap<&str, DataFrame>,
) -> Result<()> {
    use serde_json::Value;
    let path = dir.join(schema::SUMMARY_FILE);
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(());
    };
    let mut summary: Value = serde_json::from_str(&text)
        .map_err(|e| Error::input(format!("{}: not JSON: {e}", path.display())))?;
    let sub = |v: &mut Value, n: u64| {
        if let Some(x) = v.as_u64() {
            *v = Value::from(x.saturating_sub(n));
        }
    };
    let add = |v: &mut Value, n: u64| {
        *v = Value::from(v.as_u64().unwrap_or(0) + n);
    };
    let (mut kept_total, mut rejected_total) = (0u64, 0u64);
    if let Some(sources) = summary["sources"].as_array_mut() {
        for s in sources {
            let name = s["name"].as_str().unwrap_or("").to_string();
            let kept = kept_by_source.get(&name).copied().unwrap_or(0);
            let reasons = rejected_by_source.get(&name);
            let rejected: u64 = reasons.map_or(0, |r| r.values().sum());
            if kept + rejected == 0 {
                continue;
            }
            kept_total += kept;
            rejected_total += rejected;
            sub(&mut s["kept"], kept);
            sub(&mut s["rejected"], rejected);
            add(&mut s["erased"], kept + rejected);
            if let Some(reasons) = reasons {
                if let Some(by) = s["rejected_by_reason"].as_object_mut() {
                    for (reason, n) in reasons {
                        let now = by
                            .get(reason)
                            .and_then(Value::as_u64)
                            .unwrap_or(0)
                            .saturating_sub(*n);
                        if now == 0 {
                            by.remove(reason);
                        } else {
                            by.insert(reason.clone(), Value::from(now));
                        }
                    }
                }
            }
            let read = s["read"].as_u64().unwrap_or(0);
            let rejected_now = s["rejected"].as_u64().unwrap_or(0);
            if read > 0 {
                s["reject_rate"] = Value::from(rejected_now as f64 / read as f64);
            }
        }
    }
    if summary["totals"].is_object() {
        sub(&mut summary["totals"]["kept"], kept_total);
        sub(&mut summary["totals"]["rejected"], rejected_total);
        add(
            &mut summary["totals"]["erased"],
            kept_total + rejected_total,
        );
    }
    if let Some(outputs) = summary["outputs"].as_object_mut() {
        for (kind, df) in remaining {
            let file = format!("{kind}.parquet");
            if outputs.contains_key(&file) {
                outputs.insert(file, Value::from(df.height() as u64));
            }
        }
        if let Some(n) = outputs.get_mut(schema::REJECTS_FILE) {
            sub(n, rejected_total);
        }
    }
    if summary["identity"].is_object() {
        if let Some(c) = remaining.get("customers") {
            summary["identity"]["known_customers"] = Value::from(c.height() as u64);
        }
        if let Some(o) = remaining.get("orders") {
            let n = o.column(schema::CUSTOMER_ID)?.n_unique()? as u64;
            summary["identity"]["order_customers"] = Value::from(n);
        }
    }
    let json = serde_json::to_string_pretty(&summary)
        .map_err(|e| Error::runtime(format!("cannot encode summary: {e}")))?;
    write::write_atomic(&path, |w| {
        w.write_all(json.as_bytes())
            .and_then(|()| w.write_all(b"\n"))
            .map_err(|e| io_error("write", &path, e))
    })
}
