//! Generated SQL for DuckDB and Spark: the per-customer tables of `custseg rfm` and of
//! `custseg clv`'s preparation, computed inside the engine that already holds the order lines,
//! with exactly the definitions of the local commands (docs/scale.md).
//!
//! Every job is one `WITH … SELECT` query: a chain of named steps, each preceded by a comment
//! saying what it is. Every step over order lines or customers is a grouped aggregation, a join,
//! or a window partitioned by a key; the only unpartitioned windows run over tables whose size is
//! bounded by a few thousand buckets (see [`rfm`]'s rank steps), so Spark never pulls
//! customer-sized data into one task.
//!
//! Conventions shared by all jobs, matching the local engine bit for bit:
//! - a line's local day is the calendar date of `ordered_at` (an instant: DuckDB `TIMESTAMPTZ`,
//!   Spark `TIMESTAMP`) in the given IANA zone, carried as an integer number of days since
//!   1970-01-01 so that day differences are exact integers whatever the session time zone;
//! - double constants are written in exponent form (`3.04375e1`), which both engines parse as
//!   DOUBLE (not DECIMAL), rounding to the same nearest binary value as Rust;
//! - money rounding to cents is `round(v × 100) / 100`, half away from zero, as polars does.

use chrono::NaiveDate;

use crate::error::{Error, Result};
use crate::schema;

pub mod btyd;
pub mod rfm;

/// The SQL dialect to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// DuckDB (1.x and later), with its ICU time zones (bundled in the Python package and CLI).
    DuckDb,
    /// Spark SQL 3.1 or later (`unix_micros`, `date_from_unix_date`).
    Spark,
}

impl Dialect {
    /// The name used on the command line.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Dialect::DuckDb => "duckdb",
            Dialect::Spark => "spark",
        }
    }

    /// A quoted identifier (`"name"` for DuckDB, `` `name` `` for Spark).
    #[must_use]
    pub fn ident(self, name: &str) -> String {
        match self {
            Dialect::DuckDb => format!("\"{}\"", name.replace('"', "\"\"")),
            Dialect::Spark => format!("`{}`", name.replace('`', "``")),
        }
    }

    /// A string literal. DuckDB doubles single quotes; Spark escapes with backslashes (two
    /// adjacent literals `'a' 'b'` are concatenated there, so doubling would drop the quote).
    #[must_use]
    pub fn string(self, text: &str) -> String {
        match self {
            Dialect::DuckDb => format!("'{}'", text.replace('\'', "''")),
            Dialect::Spark => format!("'{}'", text.replace('\\', "\\\\").replace('\'', "\\'")),
        }
    }

    /// The local day of the instant `ts` in `zone`, as days since 1970-01-01 (INTEGER).
    fn local_day(self, ts: &str, zone: &str) -> String {
        let zone = self.string(zone);
        match self {
            // timezone(zone, timestamptz) is the wall-clock time there (a naive TIMESTAMP).
            Dialect::DuckDb => {
                format!("CAST(CAST(timezone({zone}, {ts}) AS DATE) - DATE '1970-01-01' AS INTEGER)")
            }
            // from_utc_timestamp shifts the instant to the zone's wall clock; unix_micros of that
            // counts wall-clock microseconds, independent of the session time zone.
            Dialect::Spark => format!(
                "CAST(FLOOR(unix_micros(from_utc_timestamp({ts}, {zone})) / 8.64e10) AS INT)"
            ),
        }
    }

    /// The DATE of a day number.
    fn date_of_day(self, day: &str) -> String {
        match self {
            Dialect::DuckDb => format!("CAST(DATE '1970-01-01' + CAST({day} AS INTEGER) AS DATE)"),
            Dialect::Spark => format!("date_from_unix_date(CAST({day} AS INT))"),
        }
    }

    /// The SQL type name of strings.
    fn string_type(self) -> &'static str {
        match self {
            Dialect::DuckDb => "VARCHAR",
            Dialect::Spark => "STRING",
        }
    }
}

/// A DOUBLE literal with the exact value `v` (shortest round-trip digits, exponent form).
#[must_use]
pub fn double(v: f64) -> String {
    format!("{v:e}")
}

/// Where each canonical orders column is found in the engine's table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderColumns {
    pairs: Vec<(&'static str, String)>,
}

impl Default for OrderColumns {
    fn default() -> Self {
        Self {
            pairs: schema::ORDER_OUTPUT_COLUMNS
                .iter()
                .map(|c| (*c, (*c).to_string()))
                .collect(),
        }
    }
}

impl OrderColumns {
    /// Parses `--columns canonical=name,...`: each canonical orders column (as in
    /// `orders.parquet`) may be renamed once; the others keep their canonical names.
    ///
    /// # Errors
    /// A usage error naming the entry: no `=`, an empty name, an unknown canonical column, or
    /// one given twice.
    pub fn parse(text: &str) -> Result<Self> {
        let mut columns = Self::default();
        let mut seen: Vec<&str> = Vec::new();
        for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (canonical, name) = entry.split_once('=').ok_or_else(|| {
                Error::usage(format!("--columns entry \"{entry}\" is not canonical=name"))
                    .hint("e.g. --columns customer_id=cust_id,ordered_at=order_ts")
            })?;
            let (canonical, name) = (canonical.trim(), name.trim());
            let slot = columns
                .pairs
                .iter_mut()
                .find(|(c, _)| *c == canonical)
                .ok_or_else(|| {
                    Error::usage(format!(
                        "--columns names \"{canonical}\", which is not a canonical orders column"
                    ))
                    .hint(format!(
                        "canonical orders columns: {}",
                        schema::ORDER_OUTPUT_COLUMNS.join(", ")
                    ))
                })?;
            if name.is_empty() {
                return Err(Error::usage(format!(
                    "--columns entry \"{entry}\" has an empty column name"
                )));
            }
            if seen.contains(&slot.0) {
                return Err(Error::usage(format!(
                    "--columns maps \"{canonical}\" more than once"
                )));
            }
            seen.push(slot.0);
            slot.1 = name.to_string();
        }
        Ok(columns)
    }

    /// The engine's name of a canonical column.
    #[must_use]
    pub fn name<'a>(&'a self, canonical: &'a str) -> &'a str {
        self.pairs
            .iter()
            .find(|(c, _)| *c == canonical)
            .map_or(canonical, |(_, n)| n.as_str())
    }
}

/// What every job reads: the orders table and how to read it.
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    /// The dialect to generate.
    pub dialect: Dialect,
    /// The orders table (or view) as the engine names it, used verbatim (`db.orders`,
    /// `read_parquet('orders.parquet')`, ``parquet.`/lake/orders` ``).
    pub orders: String,
    /// Where the canonical columns are.
    pub columns: OrderColumns,
    /// IANA zone of the local calendar dates.
    pub timezone: String,
}

impl Source {
    /// Checks the table reference and the zone.
    ///
    /// # Errors
    /// Usage errors for an empty table or an unknown zone.
    pub fn validate(&self) -> Result<()> {
        if self.orders.trim().is_empty() {
            return Err(Error::usage("--orders is empty")
                .hint("pass the table holding the order lines, e.g. --orders lake.orders"));
        }
        if self.timezone.parse::<chrono_tz::Tz>().is_err() {
            return Err(Error::usage(format!(
                "--timezone \"{}\" is not an IANA time zone",
                self.timezone
            ))
            .hint("use a name like \"Asia/Shanghai\" or \"UTC\""));
        }
        Ok(())
    }

    /// The first step of every job: canonical names and the local day of each line.
    fn lines_step(&self) -> Step {
        let d = self.dialect;
        let col = |c: &str| d.ident(self.columns.name(c));
        let alias = |c: &str| {
            let name = self.columns.name(c);
            if name == c {
                col(c)
            } else {
                format!("{} AS {}", col(c), d.ident(c))
            }
        };
        Step::new(
            "lines",
            &format!(
                "Order lines of {} with canonical names; day = the local calendar date of ordered_at in {}, as days since 1970-01-01.",
                self.orders, self.timezone
            ),
            format!(
                "SELECT {}, {}, {}, {},\n         {} AS day\n  FROM {}",
                alias(schema::CUSTOMER_ID),
                alias(schema::ORDER_ID),
                alias(schema::AMOUNT),
                alias(schema::IS_RETURN),
                d.local_day(&col(schema::ORDERED_AT), &self.timezone),
                self.orders
            ),
        )
    }
}

/// A day number literal with the ISO date in a comment.
fn day_literal(date: NaiveDate) -> String {
    format!("{} /* {date} */", crate::metrics::day_number(date))
}

/// One named step of the query.
struct Step {
    name: String,
    comment: String,
    body: String,
}

impl Step {
    fn new(name: &str, comment: &str, body: String) -> Self {
        Self {
            name: name.to_string(),
            comment: comment.to_string(),
            body,
        }
    }
}

/// A `WITH step, … SELECT final` query with a header.
struct Query {
    header: Vec<String>,
    steps: Vec<Step>,
}

impl Query {
    fn new(header: Vec<String>) -> Self {
        Self {
            header,
            steps: Vec::new(),
        }
    }

    fn step(&mut self, name: &str, comment: &str, body: String) {
        self.steps.push(Step::new(name, comment, body));
    }

    fn push(&mut self, step: Step) {
        self.steps.push(step);
    }

    fn finish(self, comment: &str, select: &str) -> String {
        let mut out = String::new();
        for line in &self.header {
            out.push_str("-- ");
            out.push_str(line);
            out.push('\n');
        }
        out.push_str("WITH\n");
        let n = self.steps.len();
        for (i, step) in self.steps.into_iter().enumerate() {
            for line in wrap(&format!("{}. {}", i + 1, step.comment)) {
                out.push_str("-- ");
                out.push_str(&line);
                out.push('\n');
            }
            out.push_str(&step.name);
            out.push_str(" AS (\n  ");
            out.push_str(&step.body);
            out.push_str("\n)");
            out.push_str(if i + 1 < n { ",\n" } else { "\n" });
        }
        for line in wrap(&format!("{}. {}", n + 1, comment)) {
            out.push_str("-- ");
            out.push_str(&line);
            out.push('\n');
        }
        out.push_str(select);
        out.push_str(";\n");
        out
    }
}

/// Splits a comment into lines of at most about 96 characters.
fn wrap(text: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > 96 {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// The header lines common to every job.
fn header(job: &str, source: &Source, settings: &[String]) -> Vec<String> {
    let mut h = vec![
        format!(
            "custseg sql {job} --dialect {} (custseg {}): one query; see docs/scale.md.",
            source.dialect.as_str(),
            env!("CARGO_PKG_VERSION")
        ),
        format!(
            "Orders: {}; local calendar dates in {}.",
            source.orders, source.timezone
        ),
    ];
    h.extend(settings.iter().cloned());
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_mapping_renames_and_rejects_unknown_names() {
        let c = OrderColumns::parse("customer_id=cust, ordered_at = ts").unwrap();
        assert_eq!(c.name("customer_id"), "cust");
        assert_eq!(c.name("ordered_at"), "ts");
        assert_eq!(c.name("amount"), "amount");
        for bad in ["customer=x", "customer_id", "amount=", "amount=a,amount=b"] {
            let e = OrderColumns::parse(bad).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{bad}");
        }
    }

    #[test]
    fn literals_are_escaped_per_dialect() {
        assert_eq!(Dialect::DuckDb.string("Can't"), "'Can''t'");
        assert_eq!(Dialect::Spark.string("Can't \\"), "'Can\\'t \\\\'");
        assert_eq!(Dialect::DuckDb.ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(Dialect::Spark.ident("a`b"), "`a``b`");
        assert_eq!(double(30.4375), "3.04375e1");
        assert_eq!(double(0.1), "1e-1");
        assert_eq!(double(7.0), "7e0");
    }
}
