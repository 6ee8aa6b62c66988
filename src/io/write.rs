//! THE writer: decides the output format (`--format` > extension of `-o` > `table` on a terminal,
//! else CSV), renders tables, and writes every file atomically (temp file in the same folder,
//! then rename) so a failed run never leaves a partial file under the final name.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use comfy_table::{presets, Attribute, Cell, Color, ContentArrangement, Table};
use polars::prelude::*;

use crate::error::{io_error, Error, Result};

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OutputFormat {
    /// A table for people: the first rows, the count of the rest on stderr.
    Table,
    /// Comma-separated values with a header.
    Csv,
    /// Tab-separated values with a header.
    Tsv,
    /// One JSON array of row objects.
    Json,
    /// One JSON object per line.
    Ndjson,
    /// Apache Parquet (zstd).
    Parquet,
    /// A GitHub-flavoured Markdown table.
    Markdown,
    /// A self-contained HTML page (tables, and charts for reports).
    Html,
}

impl OutputFormat {
    /// The format implied by a file extension.
    pub fn from_extension(path: &Path) -> Option<Self> {
        let ext = path.extension()?.to_string_lossy().to_lowercase();
        match ext.as_str() {
            "csv" => Some(Self::Csv),
            "tsv" | "tab" => Some(Self::Tsv),
            "json" => Some(Self::Json),
            "ndjson" | "jsonl" => Some(Self::Ndjson),
            "parquet" | "pq" => Some(Self::Parquet),
            "md" | "markdown" => Some(Self::Markdown),
            "html" | "htm" => Some(Self::Html),
            "txt" => Some(Self::Table),
            _ => None,
        }
    }
}

/// Where one table goes and in which format.
#[derive(Debug, Clone)]
pub struct Destination {
    /// File path, or `None` for stdout.
    pub path: Option<PathBuf>,
    /// Resolved format.
    pub format: OutputFormat,
    /// Rows shown by `table` output before the "N more rows" note.
    pub table_rows: usize,
}

impl Destination {
    /// Resolves `--format` and `-o` into a destination; `-o -` means stdout.
    pub fn resolve(format: Option<OutputFormat>, output: Option<&Path>) -> Result<Self> {
        let path = output
            .filter(|p| p.as_os_str() != "-")
            .map(Path::to_path_buf);
        let format = match (format, &path) {
            (Some(f), _) => f,
            (None, Some(p)) => OutputFormat::from_extension(p).ok_or_else(|| {
                Error::usage(format!(
                    "cannot tell the output format of {} from its extension",
                    p.display()
                ))
                .hint("use .csv, .tsv, .json, .ndjson, .parquet, .md or .html, or pass --format")
            })?,
            (None, None) if std::io::stdout().is_terminal() => OutputFormat::Table,
            (None, None) => OutputFormat::Csv,
        };
        if format == OutputFormat::Parquet && path.is_none() && std::io::stdout().is_terminal() {
            return Err(Error::usage("refusing to write parquet to a terminal")
                .hint("pass -o FILE.parquet, or pipe the output into a file"));
        }
        Ok(Self {
            path,
            format,
            table_rows: 20,
        })
    }
}

/// Who reads a table written in `format`: the people formats (table, markdown, html) are for
/// people, the rest for programs. Decides the default masking (docs/privacy.md).
pub fn audience(format: OutputFormat) -> crate::privacy::Audience {
    match format {
        OutputFormat::Table | OutputFormat::Markdown | OutputFormat::Html => {
            crate::privacy::Audience::People
        }
        _ => crate::privacy::Audience::Data,
    }
}

/// Writes `df` to `dest` with the privacy policy in force applied to it (pseudonyms, masks;
/// see [`crate::privacy`]). Table output notes the hidden row count on stderr (unless `quiet`).
pub fn write_frame(df: &mut DataFrame, dest: &Destination, quiet: bool) -> Result<()> {
    let policy = crate::privacy::current();
    let audience = audience(dest.format);
    if policy.is_identity(audience) {
        return write_frame_as_is(df, dest, quiet);
    }
    let mut protected = policy.protect(df, audience)?;
    write_frame_as_is(&mut protected, dest, quiet)
}

/// Writes `df` to `dest` exactly as it is: for tables already protected (report sections) and
/// for rewriting custseg's own files (`custseg forget`).
pub fn write_frame_as_is(df: &mut DataFrame, dest: &Destination, quiet: bool) -> Result<()> {
    match &dest.path {
        Some(path) => write_atomic(path, |w| encode(df, dest, w)),
        None => {
            let stdout = std::io::stdout();
            let mut lock = stdout.lock();
            encode(df, dest, &mut lock)?;
            lock.flush().map_err(stdout_error)?;
            if dest.format == OutputFormat::Table && !quiet && df.height() > dest.table_rows {
                eprintln!(
                    "custseg: {} rows in all; {} not shown (use -o FILE or --format csv for all)",
                    df.height(),
                    df.height() - dest.table_rows
                );
            }
            Ok(())
        }
    }
}

fn stdout_error(e: std::io::Error) -> Error {
    Error::runtime(format!("cannot write to standard output: {e}")).with_source(e)
}

fn encode(df: &mut DataFrame, dest: &Destination, w: &mut dyn Write) -> Result<()> {
    match dest.format {
        OutputFormat::Table => {
            let table = render_table_styled(df, dest.table_rows, colour_for(dest));
            writeln!(w, "{table}").map_err(stdout_error)
        }
        OutputFormat::Markdown => {
            let text = render_markdown(df, usize::MAX);
            w.write_all(text.as_bytes()).map_err(stdout_error)
        }
        OutputFormat::Html => {
            let report = crate::report::Report {
                title: "custseg".to_string(),
                subtitle: String::new(),
                sections: vec![crate::report::Section {
                    id: "table".to_string(),
                    title: String::new(),
                    note: None,
                    table: df.clone(),
                    chart: None,
                }],
            };
            let text = crate::report::render::html::to_html(&report);
            w.write_all(text.as_bytes()).map_err(stdout_error)
        }
        OutputFormat::Csv | OutputFormat::Tsv => {
            let sep = if dest.format == OutputFormat::Tsv {
                b'\t'
            } else {
                b','
            };
            let mut safe = neutralise_formulas(df)?;
            CsvWriter::new(w)
                .include_header(true)
                .with_separator(sep)
                .with_datetime_format(Some("%Y-%m-%dT%H:%M:%S%:z".into()))
                .finish(&mut safe)
                .map_err(engine_write_error)
        }
        OutputFormat::Json => JsonWriter::new(w)
            .with_json_format(JsonFormat::Json)
            .finish(df)
            .map_err(engine_write_error),
        OutputFormat::Ndjson => JsonWriter::new(w)
            .with_json_format(JsonFormat::JsonLines)
            .finish(df)
            .map_err(engine_write_error),
        OutputFormat::Parquet => {
            // One chunk per column: the file's layout then follows from the rows alone, not from
            // how the engine that computed them cut its batches (same input, same bytes).
            df.rechunk_mut_par();
            ParquetWriter::new(w)
                .finish(df)
                .map(|_| ())
                .map_err(engine_write_error)
        }
    }
}

/// Text cells that a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, tab or
/// carriage return) get a leading `'`, the OWASP-recommended neutralisation for CSV files.
/// Numbers are not text cells and are never touched.
pub fn neutralise_formulas(df: &DataFrame) -> Result<DataFrame> {
    let exprs: Vec<Expr> = df
        .columns()
        .iter()
        .map(|c| {
            let name = c.name().as_str();
            if c.dtype() == &DataType::String {
                let v = col(name);
                when(
                    v.clone()
                        .str()
                        .contains(lit(r"^[=+\-@\t\r]"), true)
                        .fill_null(lit(false)),
                )
                .then(concat_str([lit("'"), v.clone()], "", false))
                .otherwise(v)
                .alias(name)
            } else {
                col(name)
            }
        })
        .collect();
    Ok(df.clone().lazy().select(exprs).collect()?)
}

fn engine_write_error(e: PolarsError) -> Error {
    let text = e.to_string();
    if text.contains("Broken pipe") {
        return Error::runtime("Broken pipe");
    }
    Error::runtime(format!(
        "cannot write output: {}",
        text.lines().next().unwrap_or("")
    ))
}

/// Writes a file atomically: `fill` writes into a temp file in the same folder, which is then
/// renamed over `path`. On any error the temp file is removed and `path` is left untouched.
/// A file that must not be overwritten is refused before anything is written; see
/// [`register_input`].
pub fn write_atomic(path: &Path, fill: impl FnOnce(&mut dyn Write) -> Result<()>) -> Result<()> {
    refuse_input(path)?;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".custseg-")
        .suffix(".tmp")
        .tempfile_in(&dir)
        .map_err(|e| io_error("create a temporary file in", &dir, e))?;
    {
        let mut buf = std::io::BufWriter::new(tmp.as_file_mut());
        fill(&mut buf)?;
        buf.flush().map_err(|e| io_error("write", path, e))?;
    }
    tmp.as_file()
        .sync_all()
        .map_err(|e| io_error("sync", path, e))?;
    tmp.persist(path)
        .map_err(|e| io_error("write", path, e.error))?;
    Ok(())
}

fn inputs() -> &'static std::sync::Mutex<Vec<PathBuf>> {
    static INPUTS: std::sync::OnceLock<std::sync::Mutex<Vec<PathBuf>>> = std::sync::OnceLock::new();
    INPUTS.get_or_init(|| std::sync::Mutex::new(Vec::new()))
}

/// Records `path` as an input of this run: the writer refuses to write over it. Paths that do
/// not exist are ignored; a directory registers its ingest tables.
pub fn register_input(path: &Path) {
    let mut list = inputs()
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if path.is_dir() {
        for name in [
            crate::schema::ORDERS_FILE,
            crate::schema::CUSTOMERS_FILE,
            crate::schema::EVENTS_FILE,
        ] {
            if let Ok(c) = path.join(name).canonicalize() {
                list.push(c);
            }
        }
    } else if let Ok(c) = path.canonicalize() {
        list.push(c);
    }
}

/// The canonical form of a path that may not exist yet: its folder canonicalised, then its name.
fn canonical_target(path: &Path) -> Option<PathBuf> {
    if let Ok(c) = path.canonicalize() {
        return Some(c);
    }
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Some(dir.canonicalize().ok()?.join(path.file_name()?))
}

/// An error (exit 2) when `path` is one of the registered inputs.
pub fn refuse_input(path: &Path) -> Result<()> {
    let Some(target) = canonical_target(path) else {
        return Ok(());
    };
    let list = inputs()
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if list.contains(&target) {
        return Err(Error::usage(format!(
            "refusing to write {}: it is one of this command's inputs",
            path.display()
        ))
        .hint("write the output to another file or directory"));
    }
    Ok(())
}

/// Text of one cell for people: nulls empty, floats as polars prints them, strings unquoted.
pub fn cell_text(v: &AnyValue<'_>) -> String {
    match v {
        AnyValue::Null => String::new(),
        AnyValue::String(s) => (*s).to_string(),
        AnyValue::StringOwned(s) => s.to_string(),
        AnyValue::Float64(f) => format_float(*f),
        AnyValue::Float32(f) => format_float(f64::from(*f)),
        other => other.to_string(),
    }
}

/// Floats for people: up to 4 decimals, trailing zeros trimmed.
pub fn format_float(f: f64) -> String {
    if !f.is_finite() {
        return f.to_string();
    }
    let s = format!("{f:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".to_string()
    } else {
        s.to_string()
    }
}

fn rows_as_text(df: &DataFrame, limit: usize) -> Vec<Vec<String>> {
    let n = df.height().min(limit);
    let columns = df.columns();
    (0..n)
        .map(|i| {
            columns
                .iter()
                .map(|c| c.get(i).map(|v| cell_text(&v)).unwrap_or_default())
                .collect()
        })
        .collect()
}

/// A comfy-table of the first `limit` rows, without colour.
pub fn render_table(df: &DataFrame, limit: usize) -> Table {
    render_table_styled(df, limit, false)
}

/// Whether a table written to `dest` may use colour: only a table on stdout that is a terminal,
/// and never when the `NO_COLOR` environment variable is set (<https://no-color.org>).
pub fn colour_for(dest: &Destination) -> bool {
    dest.path.is_none()
        && std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Colour of a cell by its column and value: tiers and lifecycle stages by how good they are,
/// alert codes in red; `None` for everything else (numbers and ids stay plain).
fn cell_colour(column: &str, value: &str) -> Option<Color> {
    match (column, value) {
        ("tier", "high") | ("lifecycle", "active" | "new" | "reactivated") => Some(Color::Green),
        ("tier", "mid") | ("lifecycle", "at_risk") => Some(Color::Yellow),
        ("lifecycle", "churned") => Some(Color::Red),
        ("alert", v) if !v.is_empty() => Some(Color::Red),
        _ => None,
    }
}

/// A comfy-table of the first `limit` rows; with `colour`, a bold header and coloured tiers,
/// lifecycle stages and alerts (see [`colour_for`]).
pub fn render_table_styled(df: &DataFrame, limit: usize, colour: bool) -> Table {
    let mut table = Table::new();
    table
        .load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic);
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .collect();
    if !colour {
        table.set_header(names.clone());
        for row in rows_as_text(df, limit) {
            table.add_row(row);
        }
        return table;
    }
    table.enforce_styling();
    table.set_header(
        names
            .iter()
            .map(|n| Cell::new(n).add_attribute(Attribute::Bold)),
    );
    for row in rows_as_text(df, limit) {
        table.add_row(row.iter().zip(&names).map(|(text, name)| {
            let cell = Cell::new(text);
            match cell_colour(name, text) {
                Some(c) => cell.fg(c),
                None => cell,
            }
        }));
    }
    table
}

/// A Markdown table of the first `limit` rows; `|` in cells is escaped.
pub fn render_markdown(df: &DataFrame, limit: usize) -> String {
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .collect();
    let mut out = String::new();
    out.push_str(&format!("| {} |\n", names.join(" | ")));
    out.push_str(&format!("|{}\n", "---|".repeat(names.len())));
    for row in rows_as_text(df, limit) {
        let cells: Vec<String> = row.iter().map(|c| c.replace('|', "\\|")).collect();
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> DataFrame {
        df!(
            "customer_id" => ["C1", "C2"],
            "tier" => ["high", "low"],
            "lifecycle" => ["churned", "active"],
        )
        .expect("frame")
    }

    #[test]
    fn parquet_bytes_do_not_depend_on_how_the_rows_are_chunked() {
        let dir = tempfile::tempdir().expect("temp dir");
        // Past polars' row group of 262,144 rows, whose row groups otherwise end at chunk ends.
        let n = 600_000;
        let ids: Vec<u32> = (0..n).collect();
        let amounts: Vec<f64> = (0..n).map(|i| f64::from(i % 97) * 1.25).collect();
        let one = df!("customer_id" => ids, "amount" => amounts).expect("frame");
        // The same rows in uneven chunks, as an engine's batches would leave them.
        let mut chunked = one.slice(0, 250_000);
        chunked
            .vstack_mut(&one.slice(250_000, 250_000))
            .expect("vstack");
        chunked
            .vstack_mut(&one.slice(500_000, 100_000))
            .expect("vstack");
        assert!(
            chunked.first_col_n_chunks() > 1,
            "the test frame has one chunk"
        );
        let mut bytes = Vec::new();
        for (name, mut df) in [("one.parquet", one), ("chunked.parquet", chunked)] {
            let path = dir.path().join(name);
            let dest = Destination::resolve(None, Some(&path)).expect("destination");
            write_frame_as_is(&mut df, &dest, true).expect("write");
            bytes.push(std::fs::read(&path).expect("read back"));
        }
        assert!(
            bytes[0] == bytes[1],
            "parquet bytes differ with the chunking"
        );
    }

    #[test]
    fn plain_tables_have_no_escape_codes() {
        let text = render_table_styled(&sample(), 10, false).to_string();
        assert!(!text.contains('\u{1b}'), "{text}");
        assert!(text.contains("high") && text.contains("churned"));
    }

    #[test]
    fn coloured_tables_mark_the_header_tiers_and_stages() {
        let text = render_table_styled(&sample(), 10, true).to_string();
        // Bold header, green "high", red "churned"; "low" and the ids stay plain.
        assert!(text.contains("\u{1b}[1m customer_id"), "{text:?}");
        assert!(text.contains("\u{1b}[38;5;10m high"), "{text:?}");
        assert!(text.contains("\u{1b}[38;5;9m churned"), "{text:?}");
        assert!(text.contains("┆ low "), "{text:?}");
        assert!(text.contains("│ C1 "), "{text:?}");
    }
}
